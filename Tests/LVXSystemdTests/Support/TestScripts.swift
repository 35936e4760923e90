import Foundation

/// The Python helpers under `Tests/LVXSystemdTests/Scripts/` and the interpreter that runs them.
enum TestScripts {
    /// `Scripts/NAME` beside this test target's sources.
    static func path(_ name: String) -> String {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("Scripts")
            .appendingPathComponent(name)
            .path
    }

    /// Debian's own interpreter, which sees the apt-installed `python3-dbus` and `python3-gi`
    /// (a `python3` earlier on `PATH`, such as a pyenv shim, may not).
    static var python: String {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"
    }

    /// A fresh scratch directory under the temporary directory (short, for AF_UNIX paths).
    static func scratchDirectory(_ prefix: String) throws -> URL {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            return mkdtemp(base) != nil
        }
        guard made else { throw ScriptError("cannot make a scratch directory under /tmp: errno \(errno)") }
        return URL(fileURLWithPath: String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// Runs `executable` with `arguments` and waits; returns the exit status and standard error.
    static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil
    ) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}

/// A test fixture that could not be set up.
struct ScriptError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
