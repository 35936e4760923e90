internal import Foundation
internal import Glibc

/// How a child process ended.
struct ChildOutcome: Sendable {
    /// The exit status, or `nil` when a signal ended the process.
    var status: Int32?
    /// Everything it wrote to standard output (at most ``ChildProcess/outputLimit`` bytes).
    var output: [UInt8]
    /// Everything it wrote to standard error (at most ``ChildProcess/outputLimit`` bytes).
    var error: [UInt8]

    /// Standard output as text.
    var outputText: String { String(decoding: output, as: UTF8.self) }
    /// Standard error as text.
    var errorText: String { String(decoding: error, as: UTF8.self) }
}

/// Why a child process could not be run to its end.
enum ChildFailure: Error, Sendable {
    /// The executable does not exist or cannot be executed.
    case missing(errno: Int32)
    /// It did not finish within the time allowed, and was killed.
    case timedOut
    /// A pipe, `posix_spawn` or `waitpid` failed.
    case system(String)
}

/// Runs one program with an argument array (never through a shell), feeding it `input` on standard
/// input and collecting its standard output and error, within a deadline.
///
/// - The three streams are socket pairs. Standard input is written with `MSG_NOSIGNAL`, so a program
///   that exits without reading all of its input cannot raise `SIGPIPE` in lvx.
/// - Every descriptor lvx creates is close-on-exec; the child gets exactly 0, 1 and 2.
/// - The child starts with default dispositions for `SIGPIPE`, `SIGINT`, `SIGTERM` and `SIGHUP` (lvx
///   ignores some of them during apply) and an empty signal mask.
/// - On the deadline the child is killed (`SIGKILL`) and reaped.
enum ChildProcess {
    /// The most bytes kept of each output stream; the rest is read and dropped.
    static let outputLimit = 1 << 20

    /// Runs `executable` with `arguments` and exactly `environment`.
    /// - Throws: ``ChildFailure``.
    static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String],
        input: [UInt8],
        timeout: Duration
    ) throws(ChildFailure) -> ChildOutcome {
        guard access(executable, X_OK) == 0 else { throw .missing(errno: errno) }
        let deadline = ContinuousClock.now + timeout

        // Socket pairs rather than pipes: `SOCK_CLOEXEC` sets close-on-exec atomically (`pipe2` is not
        // visible from Swift), and a send with `MSG_NOSIGNAL` cannot raise `SIGPIPE`.
        var stdinPair: [Int32] = [-1, -1]
        var stdoutPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        for index in 0..<3 {
            var pair: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
                let code = errno
                closeAll(stdinPair + stdoutPipe + stderrPipe)
                throw .system("socketpair failed: errno \(code)")
            }
            switch index {
            case 0: stdinPair = pair
            case 1: stdoutPipe = pair
            default: stderrPipe = pair
            }
        }

        let pid: pid_t
        do throws(ChildFailure) {
            pid = try spawn(
                executable,
                arguments,
                environment: environment,
                stdin: stdinPair[1],
                stdout: stdoutPipe[1],
                stderr: stderrPipe[1]
            )
        } catch {
            closeAll(stdinPair + stdoutPipe + stderrPipe)
            throw error
        }
        closeAll([stdinPair[1], stdoutPipe[1], stderrPipe[1]])

        var io = Streams(input: input, stdin: stdinPair[0], stdout: stdoutPipe[0], stderr: stderrPipe[0])
        defer { io.closeAll() }
        let finished = io.pump(until: deadline)
        guard finished, let status = reap(pid, until: deadline) else {
            kill(pid, SIGKILL)
            var ignored: Int32 = 0
            while waitpid(pid, &ignored, 0) < 0 && errno == EINTR {}
            throw .timedOut
        }
        return ChildOutcome(status: status.exited, output: io.output, error: io.error)
    }

    /// Starts the child with its three standard descriptors.
    private static func spawn(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String],
        stdin: Int32,
        stdout: Int32,
        stderr: Int32
    ) throws(ChildFailure) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP] { sigaddset(&defaults, signal) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard code == 0 else {
            if code == ENOENT || code == EACCES { throw .missing(errno: code) }
            throw .system("posix_spawn \(executable) failed: errno \(code)")
        }
        return pid
    }

    /// Waits for the child to exit, until the deadline; `nil` if it is still running then.
    private static func reap(_ pid: pid_t, until deadline: ContinuousClock.Instant) -> (exited: Int32?, raw: Int32)? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { break }
            if result < 0 && errno != EINTR { return (nil, -1) }
            if ContinuousClock.now >= deadline { return nil }
            // The child closed its output and is exiting; this is the only wait without an event.
            usleep(1_000)
        }
        let signalled = status & 0x7f
        return (signalled == 0 ? (status >> 8) & 0xff : nil, status)
    }

    private static func closeAll(_ descriptors: [Int32]) {
        for fd in descriptors where fd >= 0 { close(fd) }
    }
}

/// The parent's ends of the three standard streams, pumped with `poll`.
private struct Streams {
    var input: [UInt8]
    var written = 0
    var stdin: Int32
    var stdout: Int32
    var stderr: Int32
    var output: [UInt8] = []
    var error: [UInt8] = []

    init(input: [UInt8], stdin: Int32, stdout: Int32, stderr: Int32) {
        self.input = input
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        for fd in [stdin, stdout, stderr] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        if input.isEmpty { closeInput() }
    }

    mutating func closeInput() {
        if stdin >= 0 { close(stdin) }
        stdin = -1
    }

    mutating func closeAll() {
        closeInput()
        if stdout >= 0 { close(stdout) }
        if stderr >= 0 { close(stderr) }
        stdout = -1
        stderr = -1
    }

    /// Writes the input and reads both outputs until both reach end of file; `false` on the deadline.
    mutating func pump(until deadline: ContinuousClock.Instant) -> Bool {
        while stdout >= 0 || stderr >= 0 {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return false }
            let (seconds, attoseconds) = left.components
            let milliseconds = Int32(clamping: seconds * 1_000 + attoseconds / 1_000_000_000_000_000 + 1)
            var fds = [
                pollfd(fd: stdin, events: Int16(POLLOUT), revents: 0),
                pollfd(fd: stdout, events: Int16(POLLIN), revents: 0),
                pollfd(fd: stderr, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&fds, nfds_t(fds.count), milliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                return false
            }
            if stdin >= 0 && fds[0].revents != 0 { writeSome() }
            if stdout >= 0 && fds[1].revents != 0 { readSome(&stdout, into: &output) }
            if stderr >= 0 && fds[2].revents != 0 { readSome(&stderr, into: &error) }
        }
        closeInput()
        return true
    }

    private mutating func writeSome() {
        let count = input.count - written
        let result = input.withUnsafeBytes { buffer in
            send(stdin, buffer.baseAddress.map { $0 + written }, count, Int32(MSG_NOSIGNAL))
        }
        if result > 0 {
            written += result
            if written == input.count { closeInput() }
        } else if result < 0 && errno != EAGAIN && errno != EINTR {
            closeInput()  // the child stopped reading (EPIPE): it will say why on stderr
        }
    }

    private func readSome(_ fd: inout Int32, into sink: inout [UInt8]) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let result = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if result > 0 {
            let room = max(0, ChildProcess.outputLimit - sink.count)
            sink.append(contentsOf: buffer.prefix(min(result, room)))
        } else if result == 0 || (errno != EAGAIN && errno != EINTR) {
            close(fd)
            fd = -1
        }
    }
}
