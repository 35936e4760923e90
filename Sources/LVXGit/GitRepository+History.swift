internal import CLibGit2
public import LVXCore

/// One commit in a path's history.
public struct GitLogEntry: Sendable, Hashable {
    /// The commit id (40 hex digits).
    public var commit: String
    /// The committer time.
    public var time: WallTime
    /// The full commit message, without the trailing newline.
    public var message: String

    /// Creates an entry.
    public init(commit: String, time: WallTime, message: String) {
        self.commit = commit
        self.time = time
        self.message = message
    }
}

/// A file's content as one commit left it.
public struct GitFileVersion: Sendable, Hashable {
    /// The commit that changed the file.
    public var entry: GitLogEntry
    /// The content after the commit, or `nil` when the commit deleted the file.
    public var content: [UInt8]?

    /// Creates a version.
    public init(entry: GitLogEntry, content: [UInt8]?) {
        self.entry = entry
        self.content = content
    }
}

extension GitRepository {
    /// The commits reachable from HEAD that changed `path` (a file or a directory), newest first
    /// (children always before their parents).
    ///
    /// A commit changed the path when the path's tree-entry id differs from that in each of its
    /// parents (a root commit: when the path exists). An unborn branch has no history.
    /// The corresponding C functions are `git_revwalk_push_head` and `git_revwalk_next`.
    /// - Parameters:
    ///   - path: a repository path.
    ///   - limit: stop after this many entries; `nil` for all.
    /// - Returns: the commits, newest first.
    /// - Throws: ``GitError`` for an invalid path or a libgit2 failure.
    public func log(path: String, limit: Int? = nil) throws(GitError) -> [GitLogEntry] {
        if let limit, limit <= 0 { return [] }
        return try locked { repo throws(GitError) in
            var entries: [GitLogEntry] = []
            try walkChanges(of: try Self.checkedPath(path), repo) { commit, _ throws(GitError) in
                entries.append(Self.logEntry(commit))
                return limit.map { entries.count < $0 } ?? true
            }
            return entries
        }
    }

    /// The versions of file `path` committed between `since` and `until` (inclusive, committer
    /// time), newest first, with the content each commit left (or `nil` where it was deleted).
    ///
    /// The walk stops at the first version older than `since`.
    public func fileHistory(
        path: String,
        since: WallTime? = nil,
        until: WallTime? = nil
    ) throws(GitError)
        -> [GitFileVersion]
    {
        var versions: [GitFileVersion] = []
        try forEachFileVersion(path: path, until: until) { version throws(GitError) in
            if let since, version.entry.time < since { return false }
            versions.append(version)
            return true
        }
        return versions
    }

    /// Calls `visit` with each version of file `path` committed at or before `until` (committer
    /// time), newest first, until `visit` returns `false`; only the visited versions are read.
    ///
    /// With `after`, only commits that `after` does not reach are walked (what came since it).
    public func forEachFileVersion(
        path: String,
        until: WallTime? = nil,
        after: String? = nil,
        _ visit: (GitFileVersion) throws(GitError) -> Bool
    ) throws(GitError) {
        try locked { repo throws(GitError) in
            let hidden = try after.map { after throws(GitError) in try commitID(after, repo) }
            try walkChanges(of: try Self.checkedPath(path), hiding: hidden, repo) { commit, id throws(GitError) in
                let entry = Self.logEntry(commit)
                if let until, until < entry.time { return true }
                var content: [UInt8]?
                if let id {
                    do {
                        let blob = try Blob.lookup(repo, id)
                        content = blob.bytes
                    } catch {
                        content = nil
                    }
                }
                return try visit(GitFileVersion(entry: entry, content: content))
            }
        }
    }

    /// Walks HEAD's history (newest first, never a parent before its child) and calls `visit` for each commit that
    /// changed `path`, with the path's id in that commit; `visit` returns whether to go on.
    private func walkChanges(
        of path: String,
        hiding hidden: ObjectID? = nil,
        _ repo: RepositoryPointer,
        _ visit: (borrowing Commit, ObjectID?) throws(GitError) -> Bool
    ) throws(GitError) {
        if git_repository_head_unborn(repo.raw) == 1 { return }
        let walk = try Revwalk(repo, sorting: GIT_SORT_NONE)
        try check(git_revwalk_push_head(walk.pointer), "git_revwalk_push_head")
        if var oid = hidden?.oid { try check(git_revwalk_hide(walk.pointer, &oid), "git_revwalk_hide") }
        // The path's id in each commit, looked up once: a commit is compared with its parent, and
        // the walk reaches that parent next (a year of runs is 35,000 commits in a line).
        var entries: [ObjectID: ObjectID?] = [:]
        func entry(_ id: ObjectID, _ commit: borrowing Commit) throws(GitError) -> ObjectID? {
            if let known = entries[id] { return known }
            let found = try commit.tree().entryID(at: path)
            entries[id] = found
            return found
        }
        while let id = try walk.next() {
            let commit = try Commit.lookup(repo, id)
            let current = try entry(id, commit)
            var changed = true
            let parents = commit.parentIDs
            if parents.isEmpty {
                changed = current != nil
            } else {
                for parent in parents where try entry(parent, Commit.lookup(repo, parent)) == current {
                    changed = false
                    break
                }
            }
            entries[id] = nil  // no later commit has it as a parent (children come first)
            if changed, try !visit(commit, current) { return }
        }
    }

    /// Whether commit `ancestor` is HEAD or reachable from it.
    ///
    /// The corresponding C function is `git_graph_descendant_of`.
    public func headContains(_ ancestor: String) throws(GitError) -> Bool {
        try locked { repo throws(GitError) in
            guard let id = try? commitID(ancestor, repo) else { return false }
            var head = git_oid()
            guard git_reference_name_to_id(&head, repo.raw, "HEAD") == 0 else { return false }
            if ObjectID(head) == id { return true }
            var oid = id.oid
            return try check(git_graph_descendant_of(repo.raw, &head, &oid), "git_graph_descendant_of") == 1
        }
    }

    private static func logEntry(_ commit: borrowing Commit) -> GitLogEntry {
        let time = commit.time
        var message = commit.message
        while message.hasSuffix("\n") { message.removeLast() }
        return GitLogEntry(
            commit: commit.id.description,
            time: WallTime(secondsSince1970: time.seconds, utcOffsetMinutes: time.offsetMinutes),
            message: message
        )
    }
}
