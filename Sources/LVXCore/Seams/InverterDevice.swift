/// An inverter lvx can query and, during an approved apply, write: the core's only view of hardware.
///
/// Every method either returns a decoded value or throws a ``DeviceError``; a garbled, late or
/// refused reply is never turned into a value.
public protocol InverterDevice: Sendable {
    /// The port string the device was opened with, such as `serial:/dev/pts/3`.
    var port: String { get }

    /// `ID`: the unit's serial number.
    func serialNumber() async throws(DeviceError) -> SerialNumber
    /// `VFW`: the CPU firmware versions.
    func firmwareVersions() async throws(DeviceError) -> FirmwareVersions
    /// `PIRI`: rated information and the twelve settings.
    func ratedInformation() async throws(DeviceError) -> RatedInformation
    /// `GS`: general status, including the unit's parallel index.
    func generalStatus() async throws(DeviceError) -> GeneralStatus
    /// `MOD`: the working mode.
    func workingMode() async throws(DeviceError) -> InverterMode
    /// `FWS`: fault code and warnings.
    func faultStatus() async throws(DeviceError) -> FaultStatus
    /// `MCHGCR`: the currents `MCHGC` accepts.
    func chargingCurrentOptions() async throws(DeviceError) -> [Int]
    /// `MUCHGCR`: the currents `MUCHGC` accepts.
    func utilityChargingCurrentOptions() async throws(DeviceError) -> [Int]
    /// Sends one setter once (never retried) and returns whether the inverter acknowledged it.
    ///
    /// - Returns: `true` for `^1`, `false` for `^0`.
    /// - Throws: ``DeviceError`` when no valid acknowledgement arrived; the write's effect is then unknown.
    func write(_ write: SettingWrite) async throws(DeviceError) -> Bool
}

/// A failed exchange with an inverter, naming the port and the command.
public struct DeviceError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The port could not be opened or configured.
        case open
        /// No complete reply arrived in time.
        case timeout
        /// A reply arrived but was malformed (framing, length, CRC, fields).
        case badReply
        /// The inverter refused a query with `^0`.
        case refused
        /// Writing or reading the port failed.
        case io
        /// The write could not be encoded for the wire.
        case encoding
    }

    /// Why a port could not be opened, so the advice can fit the cause.
    ///
    /// The transports set it from `errno` (`EACCES`/`EPERM`, `ENOENT`/`ENXIO`/`ENODEV`,
    /// `ECONNREFUSED`, `ENOTTY` from `tcgetattr`, `EBUSY`) and from the `fstat` check.
    public enum OpenFailure: Sendable, Equatable, CaseIterable {
        /// lvx may not open the device node (`EACCES`, `EPERM`).
        case permissionDenied
        /// The path or the device behind it does not exist (`ENOENT`, `ENXIO`, `ENODEV`).
        case noSuchDevice
        /// Nothing listens at the TCP bridge's address and port (`ECONNREFUSED`).
        case connectionRefused
        /// A `serial:` path is a character device but not a terminal (`ENOTTY`).
        case notATerminal
        /// A `hidraw:` or `serial:` path is a regular file, a directory or another non-device.
        case notACharacterDevice
        /// Another program holds the device (`EBUSY`).
        case busy
        /// Any other cause, such as an unresolvable host or an unsupported baud rate.
        case other
    }

    public var kind: Kind
    /// The port string, such as `hidraw:/dev/hidraw0`.
    public var port: String
    /// The command mnemonic, such as `PIRI`, or the setter payload.
    public var command: String
    /// What happened, lower-case, without the port and command.
    public var detail: String
    /// How many attempts were made.
    public var attempts: Int
    /// For kind `open`: why the port could not be opened, when the transport knows; else `nil`.
    public var openFailure: OpenFailure?

    public init(
        kind: Kind,
        port: String,
        command: String,
        detail: String,
        attempts: Int = 1,
        openFailure: OpenFailure? = nil
    ) {
        self.kind = kind
        self.port = port
        self.command = command
        self.detail = detail
        self.attempts = attempts
        self.openFailure = openFailure
    }

    public var description: String {
        let tries = attempts > 1 ? " after \(attempts) attempts" : ""
        return "\(port): \(command): \(detail)\(tries)"
    }
}
