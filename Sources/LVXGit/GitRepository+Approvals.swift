internal import CLibGit2

// The history queries an approval check needs, and the config that keeps history from being
// rewritten by a push.

extension GitRepository {
    /// The commit that introduced `path`, on the whole history of `tip` (every parent, not only
    /// the first): the oldest commit in which `path` exists and exists in none of its parents.
    ///
    /// For `approvals/ID.yaml` this is the commit whose signature stands for the approval. When
    /// the path was deleted and added again, the oldest addition is returned; callers that must
    /// trust the current content also check ``commits(touching:after:upTo:)`` for later changes.
    /// - Parameters:
    ///   - path: a repository path (a file or a directory).
    ///   - tip: a revision whose history is searched.
    /// - Returns: the commit id, or `nil` when `path` does not appear in that history.
    /// - Throws: ``GitError`` for an invalid path, an unknown revision or a libgit2 failure, and
    ///   ``GitError/Code/historyNotFetched`` when `path` exists at the edge of a shallow history.
    public func commitThatAdded(path: String, reachableFrom tip: String) throws(GitError) -> String? {
        let path = try Self.checkedPath(Self.trimmed(path))
        return try locked { repo throws(GitError) in
            let walk = try Ancestry(repo, gitDirectory: gitDirectory, tip: try commitID(tip, repo), hiding: nil)
            // Any edge holding the path hides its first addition, on whichever side of a merge.
            for node in walk.newestFirst where node.isEdge {
                if try Tree.lookup(repo, node.treeID).entryID(at: path) != nil {
                    throw Self.notFetched(before: node.id, path: path)
                }
            }
            for node in walk.newestFirst.reversed() {
                guard try Tree.lookup(repo, node.treeID).entryID(at: path) != nil else { continue }
                var inParent = false
                for parent in node.parents
                where try Tree.lookup(repo, walk.treeID(of: parent, repo)).entryID(at: path) != nil {
                    inParent = true
                    break
                }
                if !inParent { return node.id.description }
            }
            return nil
        }
    }

    /// The commits that changed any of `paths`, reachable from `upTo` and not from `after`
    /// (`git rev-list after..upTo -- paths`), newest first (a child always before its parents).
    ///
    /// A path ending in `/` (`profiles/`) stands for the directory: any change under it counts.
    /// A commit changed a path when the path's content differs from that in each of its parents
    /// (a root commit: when the path exists), so a merge that took a change from one side is not
    /// listed, but the side's own commit is.
    /// - Parameters:
    ///   - paths: repository paths, files or directories.
    ///   - after: the last commit already accounted for (excluded, with its ancestors); `nil` for
    ///     the whole history.
    ///   - upTo: the newest commit to consider.
    /// - Returns: each commit with its author, committer and whether it is signed.
    /// - Throws: ``GitError`` for an invalid path, an unknown revision or a libgit2 failure, and
    ///   ``GitError/Code/historyNotFetched`` when the walk reaches the edge of a shallow history
    ///   where one of `paths` exists (whether that commit changed it is unknown).
    public func commits(touching paths: [String], after: String?, upTo: String) throws(GitError) -> [GitCommitInfo] {
        var checked: [String] = []
        for path in paths { checked.append(try Self.checkedPath(Self.trimmed(path))) }
        return try locked { repo throws(GitError) in
            let hidden = try after.map { revision throws(GitError) in try commitID(revision, repo) }
            let walk = try Ancestry(repo, gitDirectory: gitDirectory, tip: try commitID(upTo, repo), hiding: hidden)
            var found: [GitCommitInfo] = []
            for node in walk.newestFirst {
                let tree = try Tree.lookup(repo, node.treeID)
                var parentTrees: [ObjectID] = []
                for parent in node.parents { parentTrees.append(try walk.treeID(of: parent, repo)) }
                var changed = false
                for path in checked where !changed {
                    let current = try tree.entryID(at: path)
                    if node.isEdge, current != nil { throw Self.notFetched(before: node.id, path: path) }
                    if parentTrees.isEmpty {
                        changed = current != nil
                        continue
                    }
                    var sameAsAParent = false
                    for parentTree in parentTrees where try Tree.lookup(repo, parentTree).entryID(at: path) == current {
                        sameAsAParent = true
                        break
                    }
                    changed = !sameAsAParent
                }
                if changed { found.append(try Self.info(try Commit.lookup(repo, node.id))) }
            }
            return found
        }
    }

    /// The answer about `path` lies before `edge`, whose parents a shallow fetch left out.
    private static func notFetched(before edge: ObjectID, path: String) -> GitError {
        GitError(
            .historyNotFetched,
            "\(path) exists at commit \(edge.description.prefix(12)), the oldest this shallow repository holds, so when it was added or changed is unknown",
            hint: "fetch the rest of the history (git fetch --unshallow)"
        )
    }

    /// `profiles` for `profiles/`.
    private static func trimmed(_ path: String) -> String {
        var path = path
        while path.hasSuffix("/") { path.removeLast() }
        return path
    }

    // MARK: History that cannot be rewritten

    /// Makes the repository refuse pushes that rewrite or delete history: sets
    /// `receive.denyNonFastForwards` and `receive.denyDeletes` to `true` in its own config file.
    ///
    /// `git receive-pack` (the server side of a push) then refuses a force-push and the deletion
    /// of any branch. It protects pushes only; commands run inside the repository are not limited.
    /// The corresponding C functions are `git_repository_config` and `git_config_set_bool`.
    /// - Throws: ``GitError`` when the config cannot be written.
    public func refuseHistoryRewrites() throws(GitError) {
        try locked { repo throws(GitError) in
            var config: OpaquePointer?
            try check(git_repository_config(&config, repo.raw), "git_repository_config")
            defer { git_config_free(config) }
            for name in Self.historyProtection {
                try check(git_config_set_bool(config, name, 1), "git_config_set_bool")
            }
        }
    }

    /// Whether both settings of ``refuseHistoryRewrites()`` are `true`.
    ///
    /// The corresponding C functions are `git_repository_config_snapshot` and `git_config_get_bool`.
    public func refusesHistoryRewrites() throws(GitError) -> Bool {
        try locked { repo throws(GitError) in
            var config: OpaquePointer?
            try check(git_repository_config_snapshot(&config, repo.raw), "git_repository_config_snapshot")
            defer { git_config_free(config) }
            for name in Self.historyProtection {
                var value: Int32 = 0
                let code = git_config_get_bool(&value, config, name)
                if code == GIT_ENOTFOUND.rawValue { return false }
                try check(code, "git_config_get_bool")
                if value == 0 { return false }
            }
            return true
        }
    }

    private static let historyProtection = ["receive.denyNonFastForwards", "receive.denyDeletes"]
}
