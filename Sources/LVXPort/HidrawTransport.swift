import Glibc
import LVXCore

/// A USB HID inverter through a Linux hidraw node: 8-byte output reports, no report-ID byte.
///
/// Writes split the frame into 8-byte reports, one `write()` each, the last padded with zeros.
/// Reads collect input reports until the first CR; what follows the CR in the last report is
/// padding and is dropped. Before each request the node is drained with non-blocking reads
/// until `EAGAIN`, because the kernel keeps up to 64 unread reports per open file.
///
/// The same byte stream works on a pseudo-terminal (the simulator serves one); no `termios` or
/// hidraw `ioctl` is used, and a read is never assumed to hold exactly one report.
public final class HidrawTransport: ByteTransport {
    /// The size of one HID report on these inverters.
    public static let reportSize = 8

    public let address: PortAddress
    private let path: String
    private var descriptor: PolledDescriptor?

    /// A closed transport for the hidraw node (or pty) at `path`.
    public init(path: String) {
        self.path = path
        self.address = .hidraw(path: path)
    }

    public var isOpen: Bool { descriptor != nil }

    /// Opens the node `O_RDWR | O_NONBLOCK | O_NOCTTY` and checks that it is a character device.
    ///
    /// The corresponding C functions are `open` and `fstat`.
    /// - Throws: ``TransportError`` of kind `open` when the path cannot be opened or is not a
    ///   character device (a regular file, a directory, ...); nothing is read or written then.
    public func open(deadline: Deadline) throws(TransportError) {
        guard descriptor == nil else { return }
        descriptor = try DeviceNode.open(path, port: address.description)
    }

    public func close() { descriptor = nil }

    public func drain() throws(TransportError) {
        try opened().discardInput()
    }

    public func write(_ frame: [UInt8], deadline: Deadline) throws(TransportError) {
        let descriptor = try opened()
        for report in Self.reports(for: frame) {
            try descriptor.writeAll(report, deadline: deadline)
        }
    }

    public func readReply(deadline: Deadline) throws(TransportError) -> [UInt8] {
        try opened().readLine(deadline: deadline)
    }

    /// The output reports a frame is sent as: 8-byte slices, the last padded with 0x00.
    ///
    /// `^P007PIRI` becomes `5E 50 30 30 37 50 49 52` and `49 EE 38 0D 00 00 00 00`.
    public static func reports(for frame: [UInt8]) -> [[UInt8]] {
        stride(from: 0, to: frame.count, by: reportSize).map { start in
            let slice = Array(frame[start..<min(start + reportSize, frame.count)])
            return slice + [UInt8](repeating: 0, count: reportSize - slice.count)
        }
    }

    private func opened() throws(TransportError) -> PolledDescriptor {
        guard let descriptor else {
            throw TransportError(kind: .io, port: address.description, detail: "the port is not open")
        }
        return descriptor
    }
}
