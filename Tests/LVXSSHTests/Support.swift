import Foundation
import LVXTestSupport
import Testing

/// Runs a program to its end; standard output and error go to files, so neither pipe can fill up.
func run(
    _ executable: String,
    _ arguments: [String],
    environment: [String: String] = ["PATH": "/usr/bin:/bin", "LC_ALL": "C"],
    in directory: String
) throws -> (status: Int32, output: String, error: String) {
    let outputFile = directory + "/.stdout"
    let errorFile = directory + "/.stderr"
    _ = FileManager.default.createFile(atPath: outputFile, contents: nil)
    _ = FileManager.default.createFile(atPath: errorFile, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = environment
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputFile))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorFile))
    try process.run()
    process.waitUntilExit()
    return (process.terminationStatus, try read(outputFile), try read(errorFile))
}

/// Reads `path` as UTF-8 text.
func read(_ path: String) throws -> String {
    String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
}

/// Writes `text` to `path`.
func write(_ text: String, to path: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

/// An ed25519 key pair made by `ssh-keygen -t ed25519 -N ''`.
struct TestKey {
    /// The private key file; the public key is `privateFile + ".pub"`.
    var privateFile: String
    /// The public key line (`ssh-ed25519 AAAA… comment`).
    var publicKey: String
    /// `SHA256:…`, as `ssh-keygen -l` prints it.
    var fingerprint: String

    var publicFile: String { privateFile + ".pub" }

    init(_ name: String, in directory: TemporaryDirectory) throws {
        privateFile = directory(name)
        let made = try run(
            "/usr/bin/ssh-keygen",
            ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", privateFile],
            in: directory.path
        )
        guard made.status == 0 else { throw CommandFailure(description: "ssh-keygen -t ed25519: \(made.error)") }
        publicKey = try read(privateFile + ".pub").trimmingCharacters(in: .whitespacesAndNewlines)
        let listed = try run("/usr/bin/ssh-keygen", ["-l", "-f", privateFile + ".pub"], in: directory.path)
        let fields = listed.output.split(separator: " ")
        guard listed.status == 0, fields.count > 1 else {
            throw CommandFailure(description: "ssh-keygen -l: \(listed.error)")
        }
        fingerprint = String(fields[1])
    }
}

/// The bytes of `text`.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
