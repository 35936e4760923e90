/// What lvx read from one unit to plan against it: identity, firmware, settings and parallel index.
public struct Observation: Sendable, Hashable {
    public var serial: SerialNumber
    public var port: String
    public var firmware: FirmwareVersions
    /// The twelve settings as `PIRI` reported them.
    public var settings: Settings
    /// GS field 27: the unit's own index in its parallel stack, used as the setters' machine digit.
    public var parallelIndex: Int
    /// `MCHGCR`, when it was read (only when a charging-current write is planned).
    public var chargingCurrentOptions: [Int]?
    /// `MUCHGCR`, when it was read.
    public var utilityChargingCurrentOptions: [Int]?

    public init(
        serial: SerialNumber,
        port: String,
        firmware: FirmwareVersions,
        settings: Settings,
        parallelIndex: Int,
        chargingCurrentOptions: [Int]? = nil,
        utilityChargingCurrentOptions: [Int]? = nil
    ) {
        self.serial = serial
        self.port = port
        self.firmware = firmware
        self.settings = settings
        self.parallelIndex = parallelIndex
        self.chargingCurrentOptions = chargingCurrentOptions
        self.utilityChargingCurrentOptions = utilityChargingCurrentOptions
    }

    /// A digest of what a plan depends on: serial, firmware, parallel index and every setting.
    ///
    /// `apply` re-reads the unit and refuses when this differs from the plan's.
    public var digest: String {
        SHA256.hex(
            "serial=\(serial.digits)\nfirmware=\(firmware.main),\(firmware.slave1),\(firmware.slave2)\n"
                + "parallel=\(parallelIndex)\nsettings=\(settings.canonicalText)\n"
        )
    }

    /// Which current options a read adds: those of the currents a plan writes.
    public struct Currents: Sendable, Hashable {
        public var charging: Bool
        public var utility: Bool

        public init(charging: Bool = false, utility: Bool = false) {
            self.charging = charging
            self.utility = utility
        }

        /// The options `writes` need checked.
        public init(for writes: [SettingWrite]) {
            self.init()
            for write in writes {
                switch write {
                case .maxChargingCurrent: charging = true
                case .maxUtilityChargingCurrent: utility = true
                default: break
                }
            }
        }

        public var isEmpty: Bool { !charging && !utility }
    }

    /// Reads an observation: `ID` (to check the port reaches the expected unit), `VFW`, `PIRI`, `GS`.
    public static func read(from device: some InverterDevice) async throws(DeviceError) -> Observation {
        let serial = try await device.serialNumber()
        let firmware = try await device.firmwareVersions()
        let rated = try await device.ratedInformation()
        let status = try await device.generalStatus()
        return Observation(
            serial: serial,
            port: device.port,
            firmware: firmware,
            settings: rated.settings,
            parallelIndex: status.parallelIndex
        )
    }

    /// Adds `MCHGCR`/`MUCHGCR` for the currents asked for.
    public mutating func readOptions(_ currents: Currents, from device: some InverterDevice) async throws(DeviceError) {
        if currents.charging { chargingCurrentOptions = try await device.chargingCurrentOptions() }
        if currents.utility { utilityChargingCurrentOptions = try await device.utilityChargingCurrentOptions() }
    }
}

/// How one desired key stands against the live value.
public enum KeyState: Sendable, Hashable {
    /// Equal to the desired value.
    case inSync
    /// Different, but within the key's tolerance.
    case withinTolerance(Tolerance)
    /// Different, and the live value is accepted planned drift.
    case accepted(AcceptedDrift)
    /// Different beyond tolerance: a write is planned.
    case drifted
    /// Not different for this unit, but written to keep its stack identical.
    case stackMember
}

/// One key's comparison for one unit.
public struct KeyDrift: Sendable, Hashable {
    public var key: SettingKey
    public var live: SettingValue?
    public var desired: SettingValue
    public var state: KeyState
    public var tolerance: Tolerance

    public init(key: SettingKey, live: SettingValue?, desired: SettingValue, state: KeyState, tolerance: Tolerance) {
        self.key = key
        self.live = live
        self.desired = desired
        self.state = state
        self.tolerance = tolerance
    }
}
