import Glibc

/// Owns one open, non-blocking file descriptor and does deadline-bounded reads and writes on it.
///
/// The descriptor is closed in `deinit` (style R3); the owner drops the object to close it.
final class PolledDescriptor {
    /// The descriptor; valid for the object's lifetime, do not close it elsewhere.
    let fd: Int32
    /// The port string, for errors.
    let port: String
    /// Sockets are written with `send(MSG_NOSIGNAL)` so a closed peer cannot raise SIGPIPE.
    let isSocket: Bool
    /// Bytes read after the last returned CR, kept until the next ``discardInput()``.
    private var pending: [UInt8] = []

    /// More bytes than this without a CR means the line is noise, not a PI18 reply.
    static let maxLine = 4096

    init(fd: Int32, port: String, isSocket: Bool = false) {
        self.fd = fd
        self.port = port
        self.isSocket = isSocket
    }

    deinit {
        // close() must not be retried on EINTR on Linux; the descriptor is gone either way.
        _ = Glibc.close(fd)
    }

    /// Reads and discards whatever is readable now, without waiting.
    func discardInput() throws(TransportError) {
        pending.removeAll(keepingCapacity: true)
        var total = 0
        while total < 1 << 20 {
            guard let chunk = try readAvailable() else { return }
            total += chunk.count
        }
    }

    /// Writes all of `bytes` (one `write()` when the device takes them at once) before `deadline`.
    func writeAll(_ bytes: [UInt8], deadline: Deadline) throws(TransportError) {
        var offset = 0
        while offset < bytes.count {
            let start = offset
            let written = try Syscall.callAllowingWouldBlock(isSocket ? "send" : "write", port: port) {
                bytes.withUnsafeBytes { raw -> Int in
                    guard let base = raw.baseAddress else { return 0 }
                    let count = raw.count - start
                    if isSocket { return send(fd, base + start, count, Int32(MSG_NOSIGNAL)) }
                    return Glibc.write(fd, base + start, count)
                }
            }
            if let written {
                offset += written
            } else {
                try wait(for: Int16(POLLOUT), until: deadline, doing: "write")
            }
        }
    }

    /// Reads until the first CR and returns the bytes up to and including it.
    func readLine(deadline: Deadline) throws(TransportError) -> [UInt8] {
        while true {
            if let cr = pending.firstIndex(of: 0x0D) {
                let line = Array(pending[...cr])
                pending.removeFirst(cr + 1)
                return line
            }
            if pending.count > Self.maxLine {
                let count = pending.count
                pending.removeAll()
                throw TransportError(kind: .io, port: port, detail: "\(count) bytes arrived without a CR")
            }
            if let chunk = try readAvailable() {
                pending += chunk
                continue
            }
            do throws(TransportError) {
                try wait(for: Int16(POLLIN), until: deadline, doing: "read")
            } catch let error where error.kind == .timeout {
                throw TransportError(kind: .timeout, port: port, detail: "no complete reply", received: pending)
            }
        }
    }

    /// One non-blocking read: the bytes, or `nil` when nothing is readable.
    /// - Throws: ``TransportError`` of kind `closed` at end of file.
    private func readAvailable() throws(TransportError) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = try Syscall.callAllowingWouldBlock("read", port: port) {
            buffer.withUnsafeMutableBytes { raw in Glibc.read(fd, raw.baseAddress, raw.count) }
        }
        guard let count else { return nil }
        if count == 0 { throw TransportError(kind: .closed, port: port, function: "read", detail: "end of file") }
        return Array(buffer[0..<count])
    }

    /// Waits with `poll()` until the descriptor is ready for `events` or `deadline` passes.
    private func wait(for events: Int16, until deadline: Deadline, doing what: String) throws(TransportError) {
        while true {
            if deadline.hasPassed {
                throw TransportError(kind: .timeout, port: port, detail: "\(what) did not finish")
            }
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = try Syscall.call("poll", port: port) { poll(&descriptor, 1, deadline.pollMilliseconds) }
            if ready == 0 { continue }
            if descriptor.revents & events != 0 { return }
            if descriptor.revents & Int16(POLLNVAL) != 0 {
                preconditionFailure("poll reported POLLNVAL on \(port): a bug in lvx")
            }
            if descriptor.revents & Int16(POLLERR | POLLHUP) != 0 {
                throw TransportError(kind: .closed, port: port, function: "poll", detail: "the other end hung up")
            }
        }
    }

    /// Printable ASCII as is, other bytes as `\\xNN`; at most `limit` bytes, then `...`.
    static func preview(_ bytes: [UInt8], limit: Int = 24) -> String {
        let shown = bytes.prefix(limit).map { byte in
            byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : "\\x" + hex(byte)
        }
        return shown.joined() + (bytes.count > limit ? "..." : "")
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count == 1 ? "0" + digits : digits
    }
}
