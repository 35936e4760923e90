import Foundation
import Glibc
import LVXWire

/// A small PI18 inverter for tests: answers requests on a pseudo-terminal or a TCP connection,
/// from its own thread, following a script; records every byte and request it received.
final class Responder: @unchecked Sendable {
    // @unchecked Sendable: every mutable field is guarded by `lock`; the descriptors are used
    // only by the responder thread after `init`, except `inject`, which writes under `lock`.

    /// How replies are put on the wire.
    enum Framing {
        /// 8-byte reports, the last zero-padded, written one `write()` each (a hidraw device).
        case hidraw
        /// The reply bytes as they are (a serial line or TCP bridge).
        case stream
    }

    /// What to do with one request.
    enum Action {
        /// Send these bytes.
        case reply([UInt8])
        /// Send nothing.
        case silent
        /// Send these pieces with a pause between them.
        case pieces([[UInt8]], gap: Duration)
    }

    /// Chooses the action for a request; `count` is 1 for the first request.
    typealias Script = @Sendable (_ request: PI18IncomingRequest, _ count: Int) -> Action

    /// The pty's slave path (for a pty responder).
    let path: String
    /// The TCP port (for a TCP responder), else 0.
    let tcpPort: UInt16

    private let framing: Framing
    private let script: Script
    private let lock = NSLock()
    private var stopping = false
    private let stopped = DispatchSemaphore(value: 0)
    private var receivedBytes: [UInt8] = []
    private var requestPayloads: [String] = []
    private var requestInstants: [ContinuousClock.Instant] = []
    private var master: Int32 = -1
    private var slave: Int32 = -1
    private var listener: Int32 = -1
    private var connection: Int32 = -1

    /// A responder on a fresh pseudo-terminal in raw mode.
    init(framing: Framing, script: @escaping Script) throws {
        var m: Int32 = -1
        var s: Int32 = -1
        guard openpty(&m, &s, nil, nil, nil) == 0 else { throw ResponderError("openpty", errno) }
        var settings = termios()
        tcgetattr(s, &settings)
        cfmakeraw(&settings)
        tcsetattr(s, TCSANOW, &settings)
        // ttyname() returns a static buffer shared by every thread; tests make ptys in parallel.
        var name = [CChar](repeating: 0, count: 128)
        let named = ttyname_r(s, &name, name.count)
        guard named == 0 else { throw ResponderError("ttyname_r", named) }
        self.path = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        self.tcpPort = 0
        self.framing = framing
        self.script = script
        self.master = m
        self.slave = s
        start()
    }

    /// A responder listening on 127.0.0.1 on a free port.
    init(tcpFraming framing: Framing = .stream, script: @escaping Script) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ResponderError("socket", errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && listen(fd, 4) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard bound else { throw ResponderError("bind", errno) }
        self.path = ""
        self.tcpPort = UInt16(bigEndian: address.sin_port)
        self.framing = framing
        self.script = script
        self.listener = fd
        start()
    }

    /// Every byte received so far.
    var received: [UInt8] { lock.withLock { receivedBytes } }
    /// The payloads of the requests received so far, such as `["PIRI", "PIRI"]`.
    var requests: [String] { lock.withLock { requestPayloads } }
    /// When each request arrived, index-aligned with ``requests``.
    var requestTimes: [ContinuousClock.Instant] { lock.withLock { requestInstants } }

    /// Writes `bytes` to the client now, unasked (stale data, noise).
    func inject(_ bytes: [UInt8]) {
        lock.withLock {
            let fd = master >= 0 ? master : connection
            if fd >= 0 { _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } }
        }
    }

    /// Closes the current TCP connection, as a bridge that restarted would.
    func dropConnection() {
        lock.withLock {
            if connection >= 0 {
                shutdown(connection, Int32(SHUT_RDWR))
                Glibc.close(connection)
                connection = -1
            }
        }
    }

    /// Stops the thread and closes every descriptor; the pty path disappears.
    func stop() {
        let first = lock.withLock {
            defer { stopping = true }
            return !stopping
        }
        if first { stopped.wait() }
    }

    private func start() {
        let thread = Thread { [self] in
            self.run()
            self.stopped.signal()
        }
        thread.start()
    }

    private func run() {
        var pending: [UInt8] = []
        var count = 0
        var buffer = [UInt8](repeating: 0, count: 1024)
        while !lock.withLock({ stopping }) {
            let fd = lock.withLock { master >= 0 ? master : connection }
            var fds = [pollfd]()
            if fd >= 0 { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
            if listener >= 0 { fds.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0)) }
            guard poll(&fds, nfds_t(fds.count), 20) > 0 else { continue }
            for entry in fds where entry.revents != 0 {
                if entry.fd == listener {
                    let accepted = accept(listener, nil, nil)
                    if accepted >= 0 {
                        lock.withLock {
                            if connection >= 0 { Glibc.close(connection) }
                            connection = accepted
                        }
                        pending.removeAll()
                    }
                    continue
                }
                let n = buffer.withUnsafeMutableBytes { Glibc.read(entry.fd, $0.baseAddress, $0.count) }
                if n <= 0 {
                    if master < 0 {
                        lock.withLock {
                            Glibc.close(connection)
                            connection = -1
                        }
                    }
                    continue
                }
                let bytes = Array(buffer[0..<n])
                lock.withLock { receivedBytes += bytes }
                pending += bytes
                while let cr = pending.firstIndex(of: 0x0D) {
                    var frame = Array(pending[...cr])
                    pending.removeFirst(cr + 1)
                    while frame.first == 0 { frame.removeFirst() }
                    guard case .success(let request) = PI18IncomingRequest.parse(frame) else { continue }
                    count += 1
                    lock.withLock {
                        requestPayloads.append(request.payload)
                        requestInstants.append(.now)
                    }
                    perform(script(request, count), on: entry.fd)
                }
            }
        }
        lock.withLock {
            for fd in [master, slave, listener, connection] where fd >= 0 { Glibc.close(fd) }
            master = -1
            slave = -1
            listener = -1
            connection = -1
        }
    }

    private func perform(_ action: Action, on fd: Int32) {
        switch action {
        case .silent:
            break
        case .reply(let bytes):
            for piece in onWire(bytes) { send(piece, on: fd) }
        case .pieces(let pieces, let gap):
            for (index, piece) in pieces.enumerated() {
                if index > 0 {
                    Thread.sleep(
                        forTimeInterval: Double(gap.components.seconds) + Double(gap.components.attoseconds) / 1e18
                    )
                }
                for part in onWire(piece) { send(part, on: fd) }
            }
        }
    }

    private func onWire(_ bytes: [UInt8]) -> [[UInt8]] {
        switch framing {
        case .stream:
            return [bytes]
        case .hidraw:
            return stride(from: 0, to: bytes.count, by: 8).map { start in
                let slice = Array(bytes[start..<min(start + 8, bytes.count)])
                return slice + [UInt8](repeating: 0, count: 8 - slice.count)
            }
        }
    }

    private func send(_ bytes: [UInt8], on fd: Int32) {
        _ = bytes.withUnsafeBytes { raw in
            master >= 0
                ? Glibc.write(fd, raw.baseAddress, raw.count)
                : Glibc.send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL))
        }
    }
}

/// A setup step of the test responder failed.
struct ResponderError: Error, CustomStringConvertible {
    var description: String

    init(_ function: String, _ code: Int32) {
        description = "\(function) failed with errno \(code)"
    }
}

/// Canned inverter answers for tests.
enum Inverter {
    /// The `ID` payload for a 14-digit serial.
    static func idPayload(_ serial: String) -> String {
        "14" + serial + String(repeating: "0", count: 20 - serial.count)
    }

    /// A real PIRI payload (LV5048 capture, 26 fields): bulk 55.4 V, float 54.0 V, max charging 60 A.
    static let piri = "2300,243,2300,500,243,5600,5600,480,500,520,480,554,540,2,010,060,0,0,2,9,1,0,0,0,1,00"

    /// The script of a healthy inverter with serial `serial`: answers every query, accepts setters.
    static func healthy(serial: String) -> Responder.Script {
        { request, _ in answer(request, serial: serial) }
    }

    /// The normal answer to `request`.
    static func answer(_ request: PI18IncomingRequest, serial: String) -> Responder.Action {
        if request.kind == .set { return .reply(PI18Reply.acceptedFrame) }
        switch request.payload {
        case "PI": return .reply(PI18Reply.encodeData("18"))
        case "ID": return .reply(PI18Reply.encodeData(idPayload(serial)))
        case "VFW": return .reply(PI18Reply.encodeData("05220,00000,00000"))
        case "PIRI": return .reply(PI18Reply.encodeData(piri))
        case "MOD": return .reply(PI18Reply.encodeData("05"))
        case "MCHGCR": return .reply(PI18Reply.encodeData("010,020,030,040,050,060,070,080"))
        default: return .reply(PI18Reply.refusedFrame)
        }
    }

    /// `frame` with its first CRC byte changed, still free of CR.
    static func corruptingCRC(_ frame: [UInt8]) -> [UInt8] {
        var bytes = frame
        let index = bytes.count - 3
        bytes[index] ^= 0x40
        if bytes[index] == 0x0D { bytes[index] ^= 0x01 }
        return bytes
    }
}
