import Foundation

/// An exclusive lock for commands that write (apply, run), held as a file in the git directory.
///
/// The file holds the holder's pid, start time and command. A lock whose pid is no longer alive is
/// reclaimed. The lock is released when the owner is deinitialised or ``release()`` is called.
final class RunLock {
    let path: String
    private var held = false

    struct Holder {
        var pid: Int32
        var started: String
        var command: String
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
                if kill(holder.pid, 0) != 0 && errno == ESRCH {
                    unlink(lock.path)  // the holder died: reclaim
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
        let text = "\(getpid())\n\(SystemClock().now().iso8601)\n\(command)\n"
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        held = true
        return true
    }

    func holder() -> Holder? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 3, let pid = Int32(lines[0]) else { return nil }
        return Holder(pid: pid, started: lines[1], command: lines[2])
    }

    func release() {
        if held { unlink(path) }
        held = false
    }

    deinit { release() }
}
