import Foundation

/// An exclusive lock for commands that write (apply, run), held as a file in the git directory.
///
/// The file holds the holder's pid, start time, command and the process's start time in clock ticks
/// since boot (`/proc/PID/stat` field 22). A lock whose pid is no longer alive, or is alive but
/// started at another time (the pid was reused, e.g. after a reboot), is reclaimed. The lock is
/// released when the owner is deinitialised or ``release()`` is called.
final class RunLock {
    let path: String
    private var held = false

    struct Holder {
        var pid: Int32
        var started: String
        var command: String
        /// The holder's start time in clock ticks since boot; `nil` in a lock written without it.
        var processStart: UInt64?

        /// Whether the process that wrote the lock is still running.
        var isAlive: Bool {
            if kill(pid, 0) != 0 && errno == ESRCH { return false }
            // The pid is taken: by the holder, or by another process that got the number since.
            if let processStart, let now = RunLock.processStart(of: pid), now != processStart { return false }
            return true
        }
    }

    /// Field 22 of `/proc/PID/stat`: when the process started, in clock ticks since boot.
    static func processStart(of pid: Int32) -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name (which may hold spaces and parentheses) start at field 3.
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }

    private init(path: String) { self.path = path }

    /// Takes the lock, waiting up to `wait` seconds for a live holder to finish.
    ///
    /// - Throws: ``CLIError`` with exit code 4 naming the holder's pid and start time.
    static func acquire(gitDirectory: String, command: String, wait: Double = 0) throws -> RunLock {
        let lock = RunLock(path: (gitDirectory as NSString).appendingPathComponent("lvx.lock"))
        let deadline = Date().addingTimeInterval(wait)
        while true {
            if lock.tryCreate(command: command) { return lock }
            if let holder = lock.holder() {
                if !holder.isAlive {
                    unlink(lock.path)  // the holder died (or its pid now belongs to another process): reclaim
                    continue
                }
                if Date() >= deadline {
                    throw CLIError(
                        "the repository is locked by pid \(holder.pid) (\(holder.command), since \(holder.started))",
                        hint: "wait for it to finish; if that process is gone, remove \(lock.path)",
                        status: .refused
                    )
                }
            } else if Date() >= deadline {
                throw CLIError(
                    "the repository is locked (\(lock.path) is unreadable)",
                    hint: "remove \(lock.path) if no lvx runs",
                    status: .refused
                )
            }
            usleep(100_000)
        }
    }

    private func tryCreate(command: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { return false }
        let start = Self.processStart(of: getpid()).map(String.init) ?? ""
        let text = "\(getpid())\n\(SystemClock().now().iso8601)\n\(command)\n\(start)\n"
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        held = true
        return true
    }

    func holder() -> Holder? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 3, let pid = Int32(lines[0]) else { return nil }
        return Holder(
            pid: pid,
            started: lines[1],
            command: lines[2],
            processStart: lines.count >= 4 ? UInt64(lines[3]) : nil
        )
    }

    func release() {
        if held { unlink(path) }
        held = false
    }

    deinit { release() }
}
