import Foundation

/// What a finished command printed and how it exited.
public struct CommandResult: Sendable, CustomStringConvertible {
    public var exitCode: Int32
    public var stdout: String
    public var stderr: String
    public var seconds: Double

    public var description: String { "exit \(exitCode)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

/// Runs `executable` with `arguments` and `environment` added to this process's, waiting at most
/// `timeout` seconds (then it is killed and the result has exit code -9).
public func runCommand(
    _ executable: String,
    _ arguments: [String],
    environment: [String: String] = [:],
    directory: String? = nil,
    timeout: Double = 600
) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["NO_COLOR"] = "1"
    for (k, v) in environment { env[k] = v }
    process.environment = env
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    let started = Date()
    try process.run()
    // Read both pipes concurrently so a full pipe never blocks the child. Dedicated threads, not
    // GCD's pool: a command running in the background holds its readers for its whole life, and on
    // two cores the pool then has no worker left for the next command's readers.
    let outBox = DataBox()
    let errBox = DataBox()
    let group = DispatchGroup()
    for (pipe, box) in [(out, outBox), (err, errBox)] {
        group.enter()
        Thread.detachNewThread {
            box.set(pipe.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
    }
    if group.wait(timeout: .now() + timeout) == .timedOut {
        process.terminate()
        kill(process.processIdentifier, SIGKILL)
        group.wait()
        process.waitUntilExit()
        return CommandResult(
            exitCode: -9,
            stdout: outBox.text,
            stderr: errBox.text + "\n(killed after \(timeout) s)",
            seconds: timeout
        )
    }
    process.waitUntilExit()
    return CommandResult(
        exitCode: process.terminationStatus,
        stdout: outBox.text,
        stderr: errBox.text,
        seconds: Date().timeIntervalSince(started)
    )
}

private final class DataBox: @unchecked Sendable {
    // Written once by the reader thread before the group is left; read after the wait.
    private let lock = NSLock()
    private var data = Data()

    func set(_ d: Data) { lock.withLock { data = d } }

    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}

/// A running `lvx-sim`, stopped when the value is released or ``stop()`` is called.
public final class SimulatorProcess: @unchecked Sendable {
    // Only the test that created it uses it; `process` is not touched concurrently.
    public let stateDirectory: URL
    /// Serial -> lvx port string, as `lvx-sim` printed them.
    public let ports: [(serial: String, port: String)]
    private let process: Process

    /// Starts `lvx-sim` with `arguments` (add `--site`, `--set`, `--fault`...) at `baud` (0 = instant)
    /// and waits for its ports file.
    public init(_ arguments: [String] = [], baud: Int = 0, transport: String? = nil) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lvx-sim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        stateDirectory = dir
        let portsFile = dir.appendingPathComponent("ports")
        let p = Process()
        p.executableURL = PackagePaths.productsDirectory().appendingPathComponent("lvx-sim")
        var args = [
            "--baud", String(baud), "--state-dir", dir.appendingPathComponent("state").path, "--ports-file",
            portsFile.path,
        ]
        if let transport { args += ["--transport", transport] }
        p.arguments = args + arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        process = p
        let deadline = Date().addingTimeInterval(120)
        var lines: [String] = []
        while Date() < deadline {
            if let text = try? String(contentsOf: portsFile, encoding: .utf8), !text.isEmpty {
                lines = text.split(separator: "\n").map(String.init)
                break
            }
            if !p.isRunning { break }
            usleep(20_000)
        }
        guard !lines.isEmpty else {
            p.terminate()
            throw SimulatorError(message: "lvx-sim did not write its ports file (args: \(arguments))")
        }
        ports = lines.map { line in
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }
    }

    /// The port of the unit with `serial`.
    public func port(_ serial: String) -> String { ports.first { $0.serial == serial }?.port ?? "" }

    /// All ports, comma-separated, as `LVX_PORTS` takes them.
    public var portList: String { ports.map(\.port).joined(separator: ",") }

    /// The request log lines of the unit with `serial`.
    public func log(_ serial: String) -> [String] {
        let url = stateDirectory.appendingPathComponent("state/\(serial).log")
        return ((try? String(contentsOf: url, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Every setter any unit received (log lines of kind `S`).
    public var settersReceived: [String] {
        ports.flatMap { log($0.serial) }.filter { $0.split(separator: " ").dropFirst().first == "S" }
    }

    /// The unit's state file as JSON.
    public func state(_ serial: String) throws -> [String: Any] {
        let url = stateDirectory.appendingPathComponent("state/\(serial).json")
        return (try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]) ?? [:]
    }

    /// Edits the unit's state file and makes the simulator re-read it (SIGHUP).
    public func editState(_ serial: String, _ edit: (inout [String: Any]) -> Void) throws {
        var state = try state(serial)
        edit(&state)
        let url = stateDirectory.appendingPathComponent("state/\(serial).json")
        try JSONSerialization.data(withJSONObject: state).write(to: url, options: .atomic)
        kill(process.processIdentifier, SIGHUP)
        usleep(300_000)
    }

    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: stateDirectory)
    }
}

public struct SimulatorError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }

    public init(message: String) { self.message = message }
}

/// A temporary git repository made with the git CLI, with global and system config kept out.
public final class TemporaryRepository: @unchecked Sendable {
    // Used by one test at a time.
    public let path: URL

    /// The environment that keeps the machine's git config out of the CLI's way.
    public static let gitEnvironment: [String: String] = [
        "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
        // The hooks run the lvx under test, never one installed on the machine.
        "LVX_BIN": PackagePaths.productsDirectory().appendingPathComponent("lvx").path,
    ]

    /// A repository holding a copy of `desired-state/` (or the given files), committed.
    public init(files: [String: String]? = nil, bare: Bool = false) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("lvx-repo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: path, withIntermediateDirectories: true)
        try git("init", "-q", "-b", "main")
        let content = try files ?? Self.desiredStateFiles()
        try write(content)
        try git("add", "-A")
        try git("commit", "-qm", "desired state")
    }

    /// The files of the package's `desired-state/` folder.
    public static func desiredStateFiles() throws -> [String: String] {
        let root = PackagePaths.root().appendingPathComponent("desired-state")
        var out: [String: String] = [:]
        let e = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
        while let url = e?.nextObject() as? URL {
            guard url.pathExtension == "yaml" else { continue }
            let relative = String(url.path.dropFirst(root.path.count + 1))
            out[relative] = try String(contentsOf: url, encoding: .utf8)
        }
        return out
    }

    /// Writes files into the working tree (does not commit).
    public func write(_ files: [String: String]) throws {
        for (relative, text) in files {
            let url = path.appendingPathComponent(relative)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
    }

    /// Writes and commits files.
    public func commit(_ files: [String: String], message: String = "edit") throws {
        try write(files)
        try git("add", "-A")
        try git("commit", "-qm", message)
    }

    /// Runs git in the repository and returns its standard output.
    @discardableResult
    public func git(_ arguments: String...) throws -> String {
        let result = try runCommand("/usr/bin/git", ["-C", path.path] + arguments, environment: Self.gitEnvironment)
        guard result.exitCode == 0 else { throw SimulatorError(message: "git \(arguments) failed: \(result.stderr)") }
        return result.stdout
    }

    /// A file's content at HEAD.
    public func show(_ path: String) throws -> String { try git("show", "HEAD:\(path)") }

    deinit { try? FileManager.default.removeItem(at: path) }
}

/// Runs `body` on a dedicated thread (not GCD's pool, which two blocked commands can exhaust),
/// for a command a test starts in the background; `group` is left when it returns.
public func inBackground(_ group: DispatchGroup, _ body: @escaping @Sendable () -> Void) {
    group.enter()
    Thread.detachNewThread {
        body()
        group.leave()
    }
}

/// Runs the built `lvx` with `arguments`.
public func lvx(
    _ arguments: [String],
    environment: [String: String] = [:],
    timeout: Double = 600
) throws -> CommandResult {
    var env = environment
    if env["LVX_NO_HIDRAW_SCAN"] == nil { env["LVX_NO_HIDRAW_SCAN"] = "1" }
    // Unless a test pins signers, approvals are deliberately unauthenticated (and not warned about).
    if env["LVX_ALLOWED_SIGNERS"] == nil { env["LVX_ALLOWED_SIGNERS"] = "none" }
    return try runCommand(
        PackagePaths.productsDirectory().appendingPathComponent("lvx").path,
        arguments,
        environment: env,
        timeout: timeout
    )
}
