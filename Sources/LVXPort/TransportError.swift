import LVXCore

/// A failure of a byte transport, naming the port and, for system calls, the C function.
public struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure it was; the PI18 client maps it onto ``LVXCore/DeviceError/Kind``.
    public enum Kind: Sendable, Equatable {
        /// The port could not be opened, configured or connected.
        case open
        /// The deadline passed before the operation finished.
        case timeout
        /// A read or write failed.
        case io
        /// The other end went away (hang-up, end of file, connection closed).
        case closed
    }

    /// What kind of failure it was.
    public var kind: Kind
    /// The canonical port string, such as `hidraw:/dev/hidraw0`.
    public var port: String
    /// The C function that failed, such as `open`, or `nil` when no system call failed.
    public var function: String?
    /// The `errno` value, when a system call failed.
    public var errno: Int32?
    /// What happened, lower-case.
    public var detail: String
    /// For a read that timed out: the bytes that did arrive, for the error message.
    public var received: [UInt8]
    /// For kind `open`: why the port could not be opened, when known.
    public var openFailure: DeviceError.OpenFailure?

    public init(
        kind: Kind,
        port: String,
        function: String? = nil,
        errno: Int32? = nil,
        detail: String,
        received: [UInt8] = [],
        openFailure: DeviceError.OpenFailure? = nil
    ) {
        self.kind = kind
        self.port = port
        self.function = function
        self.errno = errno
        self.detail = detail
        self.received = received
        self.openFailure = openFailure
    }

    /// The message without the port, such as `open: no such file or directory (errno 2)`.
    public var message: String {
        if let function { return "\(function): \(detail)" }
        return detail
    }

    public var description: String { "\(port): \(message)" }
}
