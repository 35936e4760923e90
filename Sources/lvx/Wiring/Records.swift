import LVXCore
import LVXGit
import LVXYAML

/// Reading and writing the files lvx keeps, for the commands that work on history and `init`.
enum RecordFiles {
    /// Parses a file lvx wrote (a dump, a run summary) read from history.
    static func node(_ bytes: [UInt8], path: String) throws -> Node {
        do {
            return try YAMLParser.parse(bytes, file: path)
        } catch {
            // Not `error.description`: that repeats the path and an "error:" of its own.
            throw CLIError(
                "\(path) is not valid YAML: line \(error.location.line), column \(error.location.column): \(error.message)",
                hint: "restore it from git history",
                status: .refused
            )
        }
    }

    /// Commits `files` with lvx as the author.
    static func commit(
        _ files: [String: String],
        message: String,
        to repository: GitRepository,
        clock: any WallClock
    ) throws -> String {
        try repository.commit(
            files: files.mapValues { Array($0.utf8) },
            message: message,
            author: "lvx",
            time: clock.now()
        )
    }
}
