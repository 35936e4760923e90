/// Files of the desired-state repository at a revision: what validation and planning read.
///
/// Implementations read committed content only, never stray working-tree files.
public protocol DesiredStateSource: Sendable {
    /// The commit id the revision resolves to (40 hex digits).
    func resolve(_ revision: String) throws(RepositoryError) -> String
    /// The content of `path` at `commit`, or `nil` when the path does not exist there.
    func file(_ path: String, at commit: String) throws(RepositoryError) -> [UInt8]?
    /// The paths of the files directly inside `directory` at `commit`, sorted; empty when absent.
    func list(_ directory: String, at commit: String) throws(RepositoryError) -> [String]
}

/// Writes generated files (plans, approvals, results, dumps) as one commit on the current branch.
public protocol HistoryStore: Sendable {
    /// Commits `files` (path -> content) on top of the branch tip, leaving every other path as it is.
    ///
    /// The ref update is compare-and-swap: if the branch moved meanwhile, the commit is rebuilt on
    /// the new tip and retried. In a non-bare repository the index and working tree are updated
    /// for the written paths so `git status` stays clean.
    /// - Returns: the new commit id.
    func commit(
        files: [String: [UInt8]],
        message: String,
        author: String,
        time: WallTime
    )
        throws(RepositoryError) -> String
}

/// A failure reading or writing the repository.
public struct RepositoryError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// What the user can do about it, if anything.
    public var hint: String?

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }

    public var description: String { message }
}

/// A moment in wall-clock time: seconds since 1970 UTC, plus the UTC offset to print it with.
public struct WallTime: Sendable, Hashable, Comparable {
    public var secondsSince1970: Int64
    public var utcOffsetMinutes: Int

    public init(secondsSince1970: Int64, utcOffsetMinutes: Int = 0) {
        self.secondsSince1970 = secondsSince1970
        self.utcOffsetMinutes = utcOffsetMinutes
    }

    public static func < (lhs: WallTime, rhs: WallTime) -> Bool { lhs.secondsSince1970 < rhs.secondsSince1970 }
}

/// The wall clock, for times written into plans, approvals and dumps.
public protocol WallClock: Sendable {
    func now() -> WallTime
}
