#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One open file descriptor with exactly one owner, which closes it in `deinit`.
///
/// `@unchecked Sendable`: the descriptor number never changes after `init` and is closed only in
/// `deinit`, when no other reference can exist; concurrent `read`/`write` on one descriptor is
/// what the kernel allows, and each endpoint reads its descriptors from one thread only.
final class Descriptor: @unchecked Sendable {
    let fd: Int32

    init(_ fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// Closes the file behind the descriptor now, as a pulled cable would, and keeps the number
    /// (pointing at `/dev/null`) until `deinit`, so no other thread ever sees it reused.
    func hangUp() {
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard null >= 0 else { return }
        if dup2(null, fd) == fd { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        close(null)
    }

    /// Makes reads and writes return EAGAIN instead of blocking.
    func setNonBlocking() throws(SimulatorError) {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else {
            throw SimulatorError("fcntl(O_NONBLOCK) failed: \(errnoText())")
        }
    }

    /// Reads what is available now (non-blocking descriptors); `nil` at end of file or on a hard error.
    func readAvailable() -> [UInt8]? {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                out += buffer[0..<n]
                continue
            }
            if n == 0 { return out.isEmpty ? nil : out }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return out }
            return out.isEmpty ? nil : out
        }
    }

    /// Writes all of `bytes`, waiting up to `patience` polls of 10 ms for room; false when they could not be sent.
    @discardableResult
    func writeAll(_ bytes: [UInt8], socket: Bool, patience: Int = 100) -> Bool {
        var offset = 0
        var waited = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { raw -> Int in
                #if canImport(Glibc)
                    socket
                        ? send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL))
                        : write(fd, raw.baseAddress, raw.count)
                #else
                    write(fd, raw.baseAddress, raw.count)
                #endif
            }
            if n > 0 {
                offset += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && waited < patience {
                waited += 1
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&p, 1, 10)
                continue
            }
            return false
        }
        return true
    }
}

/// The text of the current `errno`.
func errnoText() -> String {
    let code = errno
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text).lowercased() + " (errno \(code))"
}

/// A pseudo-terminal pair standing in for one device node.
///
/// The simulator talks on the controller side; clients open ``path`` (the `/dev/pts/N` of the
/// peer side). The peer descriptor stays open for the pair's lifetime, so clients can open and close
/// the path freely without the controller seeing a hang-up, and the line discipline is set raw
/// (`cfmakeraw`) so no byte is translated or echoed.
final class PseudoTerminal: Sendable {
    let controller: Descriptor
    let peer: Descriptor
    /// The path clients open, such as `/dev/pts/3`.
    let path: String

    init() throws(SimulatorError) {
        var controllerFD: Int32 = -1
        var peerFD: Int32 = -1
        guard openpty(&controllerFD, &peerFD, nil, nil, nil) == 0 else {
            throw SimulatorError("openpty failed: \(errnoText()); is /dev/pts mounted?")
        }
        controller = Descriptor(controllerFD)
        peer = Descriptor(peerFD)
        // ttyname() returns a static buffer shared by every thread; ptys are made in parallel.
        var name = [CChar](repeating: 0, count: 128)
        let named = ttyname_r(peerFD, &name, name.count)
        guard named == 0 else { throw SimulatorError("ttyname_r failed: errno \(named)") }
        path = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var attributes = termios()
        guard tcgetattr(peerFD, &attributes) == 0 else { throw SimulatorError("tcgetattr failed: \(errnoText())") }
        cfmakeraw(&attributes)
        guard tcsetattr(peerFD, TCSANOW, &attributes) == 0 else {
            throw SimulatorError("tcsetattr failed: \(errnoText())")
        }
        try controller.setNonBlocking()
    }
}

/// A listening TCP socket on 127.0.0.1.
final class TCPListener: Sendable {
    let socket: Descriptor
    /// The bound port (the one chosen by the system when 0 was asked).
    let port: Int

    init(port requested: Int) throws(SimulatorError) {
        #if canImport(Glibc)
            let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw SimulatorError("socket failed: \(errnoText())") }
        socket = Descriptor(fd)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(requested).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw SimulatorError("bind 127.0.0.1:\(requested) failed: \(errnoText())") }
        guard listen(fd, 16) == 0 else { throw SimulatorError("listen failed: \(errnoText())") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw SimulatorError("getsockname failed: \(errnoText())") }
        port = Int(UInt16(bigEndian: address.sin_port))
        try socket.setNonBlocking()
    }

    /// Accepts a pending connection, non-blocking; `nil` when none is waiting.
    func accept() -> Descriptor? {
        #if canImport(Glibc)
            let fd = Glibc.accept(socket.fd, nil, nil)
        #else
            let fd = Darwin.accept(socket.fd, nil, nil)
        #endif
        guard fd >= 0 else { return nil }
        let client = Descriptor(fd)
        try? client.setNonBlocking()
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return client
    }
}

/// A pipe used to wake a serving thread out of `poll`.
final class WakePipe: Sendable {
    let readEnd: Descriptor
    let writeEnd: Descriptor

    init() throws(SimulatorError) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw SimulatorError("pipe failed: \(errnoText())") }
        readEnd = Descriptor(fds[0])
        writeEnd = Descriptor(fds[1])
        try readEnd.setNonBlocking()
    }

    func wake() { writeEnd.writeAll([1], socket: false) }
}
