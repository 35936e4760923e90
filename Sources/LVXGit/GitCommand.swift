internal import Foundation

/// The git command, for what libgit2 does slowly or without the upstream's checks.
///
/// A fleet's first fetch, and a push to a local path. The package depends on git, so it is normally there.
public enum GitCommand {
    /// Where git is installed, or `nil`.
    public static var path: String? {
        ["/usr/bin/git", "/bin/git"].first(where: FileManager.default.isExecutableFile(atPath:))
    }

    /// Runs git with `arguments`; its exit status and what it printed on both streams.
    ///
    /// No prompt for credentials, messages in the C locale, and none of the `GIT_*` variables a
    /// hook runs with (they would point git at the hook's repository).
    public static func execute(_ arguments: [String]) throws(GitError) -> (status: Int32, output: String) {
        guard let git = path else {
            throw GitError(.library, "the git command is not installed", hint: "apt install git")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: git)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_TERMINAL_PROMPT"] = "0"
        // Messages lvx reads ("couldn't find remote ref") in English whatever the host's locale.
        environment["LC_ALL"] = "C"
        environment["LANGUAGE"] = nil
        for name in ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_QUARANTINE_PATH", "GIT_OBJECT_DIRECTORY"] {
            environment[name] = nil
        }
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw GitError(.library, "cannot run \(git): \(error.localizedDescription)")
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    /// Runs git with `arguments` and throws, with what it printed, when it fails.
    public static func run(_ arguments: [String]) throws(GitError) { _ = try output(arguments) }

    /// Runs git with `arguments`; what it printed, or an error with it when git fails.
    public static func output(_ arguments: [String]) throws(GitError) -> String {
        let (status, output) = try execute(arguments)
        guard status == 0 else {
            throw GitError(
                .library,
                "git \(arguments.first { !$0.hasPrefix("-") && !$0.hasPrefix("/") } ?? "") exited \(status): "
                    + output.trimmingCharacters(in: .whitespacesAndNewlines)
            )
        }
        return output
    }
}
