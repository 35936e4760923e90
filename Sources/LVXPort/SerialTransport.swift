import Glibc
import LVXCore

/// An RS-232 or USB-serial line in raw mode: 2400 8N1 by default, no flow control.
///
/// The line is put in raw mode with `cfmakeraw`, `CLOCAL | CREAD`, without RTS/CTS or XON/XOFF.
/// Input is flushed with `tcflush` before each request. Works on a pseudo-terminal too.
public final class SerialTransport: ByteTransport {
    public let address: PortAddress
    private let path: String
    private let baud: Int
    private var descriptor: PolledDescriptor?

    /// A closed transport for the serial device at `path`.
    public init(path: String, baud: Int = PortAddress.defaultBaud) {
        self.path = path
        self.baud = baud
        self.address = .serial(path: path, baud: baud)
    }

    public var isOpen: Bool { descriptor != nil }

    /// Opens the line, checks that it is a character device, and configures it.
    ///
    /// The corresponding C functions are `open`, `fstat`, `tcgetattr`, `cfsetispeed`, `cfsetospeed`,
    /// `tcsetattr` and `tcflush`.
    public func open(deadline: Deadline) throws(TransportError) {
        guard descriptor == nil else { return }
        let port = address.description
        guard let speed = Self.speed(baud) else {
            throw TransportError(kind: .open, port: port, detail: "baud \(baud) is not supported")
        }
        // Owned from here on, so a configuration failure closes it.
        let opened = try DeviceNode.open(path, port: port)
        let fd = opened.fd
        var settings = termios()
        try Syscall.call("tcgetattr", port: port, kind: .open) { tcgetattr(fd, &settings) }
        cfmakeraw(&settings)
        try Syscall.call("cfsetispeed", port: port, kind: .open) { cfsetispeed(&settings, speed) }
        try Syscall.call("cfsetospeed", port: port, kind: .open) { cfsetospeed(&settings, speed) }
        settings.c_cflag |= tcflag_t(CLOCAL) | tcflag_t(CREAD) | tcflag_t(CS8)
        settings.c_cflag &= ~(tcflag_t(PARENB) | tcflag_t(CSTOPB) | tcflag_t(CRTSCTS))
        settings.c_iflag &= ~(tcflag_t(IXON) | tcflag_t(IXOFF) | tcflag_t(IXANY))
        withUnsafeMutableBytes(of: &settings.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        try Syscall.call("tcsetattr", port: port, kind: .open) { tcsetattr(fd, TCSANOW, &settings) }
        try Syscall.call("tcflush", port: port, kind: .open) { tcflush(fd, TCIOFLUSH) }
        descriptor = opened
    }

    public func close() { descriptor = nil }

    /// Flushes the kernel's input queue and discards anything still readable.
    ///
    /// The corresponding C function is `tcflush`.
    public func drain() throws(TransportError) {
        let descriptor = try opened()
        try Syscall.call("tcflush", port: descriptor.port) { tcflush(descriptor.fd, TCIFLUSH) }
        try descriptor.discardInput()
    }

    public func write(_ frame: [UInt8], deadline: Deadline) throws(TransportError) {
        try opened().writeAll(frame, deadline: deadline)
    }

    public func readReply(deadline: Deadline) throws(TransportError) -> [UInt8] {
        try opened().readLine(deadline: deadline)
    }

    private func opened() throws(TransportError) -> PolledDescriptor {
        guard let descriptor else {
            throw TransportError(kind: .io, port: address.description, detail: "the port is not open")
        }
        return descriptor
    }

    private static func speed(_ baud: Int) -> speed_t? {
        switch baud {
        case 1200: speed_t(B1200)
        case 2400: speed_t(B2400)
        case 4800: speed_t(B4800)
        case 9600: speed_t(B9600)
        case 19_200: speed_t(B19200)
        case 38_400: speed_t(B38400)
        case 57_600: speed_t(B57600)
        case 115_200: speed_t(B115200)
        default: nil
        }
    }
}
