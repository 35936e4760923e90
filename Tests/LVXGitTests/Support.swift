import Foundation
import LVXCore
import LVXTestSupport
import Testing

@testable import LVXGit

/// The environment the git CLI runs with: no system or global config, a fixed identity.
func gitEnvironment(home: String) -> [String: String] {
    [
        "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
        "HOME": home,
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test User",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test User",
        "GIT_COMMITTER_EMAIL": "test@example.com",
        "LC_ALL": "C",
    ]
}

/// Runs a program and returns its exit status, standard output and standard error.
func run(
    _ executable: String,
    _ arguments: [String],
    environment: [String: String],
    in directory: String? = nil
)
    throws -> (status: Int32, output: String, error: String)
{
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = environment
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    // Read both pipes concurrently with the process so neither can fill up and block it.
    let errorData = LockedData()
    let reader = Thread { errorData.set(error.fileHandleForReading.readDataToEndOfFile()) }
    reader.start()
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !errorData.isSet { usleep(1_000) }
    return (
        process.terminationStatus,
        String(decoding: outputData, as: UTF8.self),
        String(decoding: errorData.value, as: UTF8.self)
    )
}

/// Data written by one thread and read by another.
private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?

    func set(_ value: Data) {
        lock.lock()
        data = value
        lock.unlock()
    }

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return data != nil
    }

    var value: Data {
        lock.lock()
        defer { lock.unlock() }
        return data ?? Data()
    }
}

/// Runs the git CLI in `directory` and returns its standard output with the final newline removed.
@discardableResult
func git(_ arguments: String..., in directory: String) throws -> String {
    let result = try run("/usr/bin/git", arguments, environment: gitEnvironment(home: directory), in: directory)
    guard result.status == 0 else {
        throw CommandFailure(description: "git \(arguments.joined(separator: " ")) failed: \(result.error)")
    }
    return result.output.hasSuffix("\n") ? String(result.output.dropLast()) : result.output
}

/// Writes `text` to `path`, creating parent directories.
func write(_ text: String, to path: String) throws {
    try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent,
        withIntermediateDirectories: true
    )
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

/// Reads `path` as UTF-8 text.
func read(_ path: String) throws -> String {
    String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
}

/// A non-bare repository made by the git CLI with two commits.
///
/// 1. `README.md`, `units/shed.yaml` (v1), `profiles/lead.yaml`;
/// 2. `units/shed.yaml` (v2), `units/barn.yaml`.
func makeDesiredStateRepository(in directory: TemporaryDirectory) throws -> String {
    let path = directory("desired")
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    try git("init", "-q", "-b", "main", in: path)
    try write("# desired state\n", to: path + "/README.md")
    try write("serial: '1'\nversion: 1\n", to: path + "/units/shed.yaml")
    try write("battery_type: USER\n", to: path + "/profiles/lead.yaml")
    try git("add", "-A", in: path)
    try git("commit", "-q", "-m", "first", in: path)
    try write("serial: '1'\nversion: 2\n", to: path + "/units/shed.yaml")
    try write("serial: '2'\n", to: path + "/units/barn.yaml")
    try git("add", "-A", in: path)
    try git("commit", "-q", "-m", "second", in: path)
    return path
}

extension Array where Element == UInt8 {
    /// The bytes as UTF-8 text.
    var text: String { String(decoding: self, as: UTF8.self) }
}

/// The bytes of `text`.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A fixed commit time: 2023-11-14 22:13:20 UTC, printed at +01:00.
let fixedTime = WallTime(secondsSince1970: 1_700_000_000, utcOffsetMinutes: 60)

/// The whole suite runs serially: the tests share libgit2's process-wide state and spawn git.
@Suite(.serialized) enum GitTests {}
