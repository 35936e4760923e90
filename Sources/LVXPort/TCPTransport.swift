import Glibc
import LVXCore

/// A serial-over-IP bridge: the PI18 bytes go over a TCP connection unchanged.
///
/// The host is resolved with `getaddrinfo` (IPv4 and IPv6); each address is tried with a
/// non-blocking `connect` bounded by the caller's deadline. Writes use `send(MSG_NOSIGNAL)`, so
/// a bridge that closed the connection gives an error instead of SIGPIPE.
public final class TCPTransport: ByteTransport {
    public let address: PortAddress
    private let host: String
    private let port: UInt16
    private var descriptor: PolledDescriptor?

    /// A closed transport for the bridge at `host`:`port`.
    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
        self.address = .tcp(host: host, port: port)
    }

    public var isOpen: Bool { descriptor != nil }

    /// Resolves and connects before `deadline`.
    ///
    /// The corresponding C functions are `getaddrinfo`, `socket`, `connect`, `poll` and
    /// `getsockopt`.
    public func open(deadline: Deadline) throws(TransportError) {
        guard descriptor == nil else { return }
        let name = address.description
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            let text = status == EAI_SYSTEM ? Syscall.describe(errno) : String(cString: gai_strerror(status))
            throw TransportError(
                kind: .open,
                port: name,
                function: "getaddrinfo",
                detail: "cannot resolve '\(host)': " + text.prefix(1).lowercased() + text.dropFirst()
            )
        }
        defer { freeaddrinfo(list) }

        var lastError = TransportError(kind: .open, port: name, detail: "no address to connect to")
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            do throws(TransportError) {
                descriptor = try connect(info.pointee, deadline: deadline)
                return
            } catch {
                lastError = error
                if deadline.hasPassed { break }
            }
        }
        throw lastError
    }

    public func close() { descriptor = nil }

    public func drain() throws(TransportError) {
        try opened().discardInput()
    }

    public func write(_ frame: [UInt8], deadline: Deadline) throws(TransportError) {
        try opened().writeAll(frame, deadline: deadline)
    }

    public func readReply(deadline: Deadline) throws(TransportError) -> [UInt8] {
        try opened().readLine(deadline: deadline)
    }

    private func connect(_ info: addrinfo, deadline: Deadline) throws(TransportError) -> PolledDescriptor {
        let name = address.description
        let flags = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = try Syscall.call("socket", port: name, kind: .open) {
            socket(info.ai_family, info.ai_socktype | flags, info.ai_protocol)
        }
        let owner = PolledDescriptor(fd: fd, port: name, isSocket: true)
        let started = try Syscall.callAllowingWouldBlock("connect", port: name, kind: .open) {
            Glibc.connect(fd, info.ai_addr, info.ai_addrlen)
        }
        if started == nil {
            while true {
                if deadline.hasPassed {
                    throw TransportError(kind: .open, port: name, function: "connect", detail: "no connection in time")
                }
                var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let ready = try Syscall.call("poll", port: name, kind: .open) {
                    poll(&descriptor, 1, deadline.pollMilliseconds)
                }
                if ready > 0 { break }
            }
            var code: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            try Syscall.call("getsockopt", port: name, kind: .open) {
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
            }
            if code != 0 { throw Syscall.error("connect", port: name, kind: .open, code: code) }
        }
        var one: Int32 = 1
        // Requests are small and latency matters more than batching; failure here is harmless.
        _ = try? Syscall.call("setsockopt", port: name) {
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        return owner
    }

    private func opened() throws(TransportError) -> PolledDescriptor {
        guard let descriptor else {
            throw TransportError(kind: .io, port: address.description, detail: "the port is not open")
        }
        return descriptor
    }
}
