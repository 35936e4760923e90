internal import CLibGit2
internal import Glibc

/// One site's branch on a fleet's upstream: `sites/NAME` and the commit it points at.
public struct SiteBranch: Sendable, Hashable {
    /// The site's name, the part after `sites/`.
    public var site: String
    /// The full reference name, `refs/heads/sites/NAME`.
    public var reference: String
    /// The commit id the branch points at.
    public var tip: String
}

extension GitRepository {
    /// The prefix of a site's branch on a fleet's upstream: `sites/NAME`.
    public static let siteBranchPrefix = "sites/"

    /// Whether some commits' parents were left out by a shallow fetch (`$GIT_DIR/shallow`).
    ///
    /// History queries stop at those commits (see ``commitThatAdded(path:reachableFrom:)``).
    /// The corresponding C function is `git_repository_is_shallow`.
    public var isShallow: Bool {
        (try? locked { repo throws(GitError) in git_repository_is_shallow(repo.raw) == 1 }) ?? false
    }

    /// Every `sites/*` branch, sorted by site name.
    ///
    /// The corresponding C functions are `git_reference_iterator_glob_new`, `git_reference_next`
    /// and `git_reference_name_to_id`.
    public func siteBranches() throws(GitError) -> [SiteBranch] {
        try locked { repo throws(GitError) in
            var iterator: OpaquePointer?
            let glob = "refs/heads/" + Self.siteBranchPrefix + "*"
            try check(git_reference_iterator_glob_new(&iterator, repo.raw, glob), "git_reference_iterator_glob_new")
            defer { git_reference_iterator_free(iterator) }
            var out: [SiteBranch] = []
            while true {
                var reference: OpaquePointer?
                let code = git_reference_next(&reference, iterator)
                if code == GIT_ITEROVER.rawValue { break }
                try check(code, "git_reference_next")
                defer { git_reference_free(reference) }
                guard let name = git_reference_name(reference).map({ String(cString: $0) }) else { continue }
                guard let tip = try tip(of: name, repo) else { continue }
                let site = String(name.dropFirst(("refs/heads/" + Self.siteBranchPrefix).count))
                out.append(SiteBranch(site: site, reference: name, tip: tip.description))
            }
            return out.sorted { $0.site < $1.site }
        }
    }

    /// Points HEAD at branch `reference` (`refs/heads/sites/NAME`), as `git symbolic-ref HEAD` would:
    /// in the fleet's mirror, this is how one site's branch is read as "the repository".
    ///
    /// The corresponding C function is `git_repository_set_head`.
    public func setHead(_ reference: String) throws(GitError) {
        _ = try locked { repo throws(GitError) in
            try check(git_repository_set_head(repo.raw, reference), "git_repository_set_head")
        }
    }

    /// Adds the remote `name` at `url` and makes it the current branch's upstream, as
    /// `git remote add` and `git branch --set-upstream-to` would (the remote branch has the same name).
    ///
    /// The remote fetches that branch alone (`+refs/heads/B:refs/remotes/NAME/B`).
    /// The corresponding C functions are `git_remote_create_with_fetchspec` and `git_config_set_string`.
    public func setUpstream(remote name: String, url: String) throws(GitError) {
        try locked { repo throws(GitError) in
            let branch = try currentBranch(repo)
            // Its own branch only: a fleet's upstream holds every site's.
            let short = Self.shortName(branch)
            var remote: OpaquePointer?
            try check(
                git_remote_create_with_fetchspec(
                    &remote,
                    repo.raw,
                    name,
                    url,
                    "+\(branch):refs/remotes/\(name)/\(short)"
                ),
                "git_remote_create_with_fetchspec"
            )
            git_remote_free(remote)
            var config: OpaquePointer?
            try check(git_repository_config(&config, repo.raw), "git_repository_config")
            defer { git_config_free(config) }
            try check(git_config_set_string(config, "branch.\(short).remote", name), "git_config_set_string")
            try check(git_config_set_string(config, "branch.\(short).merge", branch), "git_config_set_string")
        }
    }

    /// Fetches the current branch's upstream remote and says whether it has the branch's
    /// upstream branch (a site that was set up before and is being set up again).
    ///
    /// The corresponding C function is `git_remote_fetch`.
    public func upstreamHasBranch() throws(GitError) -> Bool {
        try locked { repo throws(GitError) in
            let branch = try currentBranch(repo)
            guard let remoteName = try Self.upstreamRemote(repo, branch) else { return false }
            try fetchUpstream(of: branch, remote: remoteName, repo, log: "lvx init: fetch")
            let tracking = try Self.buffer("git_branch_upstream_name") {
                git_branch_upstream_name(&$0, repo.raw, branch)
            }
            return try tip(of: tracking, repo) != nil
        }
    }

    /// Fetches every `sites/*` branch of `url` into this repository's own `sites/*` branches,
    /// replacing them: a read-only mirror of a fleet's upstream, for `lvx fleet`.
    ///
    /// The corresponding C functions are `git_remote_create_anonymous` and `git_remote_fetch`.
    public func mirrorSiteBranches(from url: String) throws(GitError) {
        try locked { repo throws(GitError) in
            var remote: OpaquePointer?
            try check(git_remote_create_anonymous(&remote, repo.raw, url), "git_remote_create_anonymous")
            defer { git_remote_free(remote) }
            if url.lowercased().hasPrefix("https://") || url.lowercased().hasPrefix("http://") {
                try LibGit2Runtime.loadDeferredCertificates()
            }
            var options = git_fetch_options()
            try check(git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION)), "git_fetch_options_init")
            options.prune = GIT_FETCH_PRUNE
            let refspec = "+refs/heads/\(Self.siteBranchPrefix)*:refs/heads/\(Self.siteBranchPrefix)*"
            let code = withStrarray([refspec]) { git_remote_fetch(remote, &$0, &options, "lvx fleet: fetch") }
            try check(code, "git_remote_fetch")
        }
    }
}

/// What ``GitRepository/replayAgentCommitsOntoUpstream()`` did.
public enum AgentReplay: Sendable, Equatable {
    /// The branch is not diverged from its upstream (or has none): nothing to do.
    case notDiverged
    /// This many of lvx's own unpublished commits now sit on top of the upstream's tip.
    case replayed(commits: Int)
    /// A commit the upstream lacks was not made by lvx: nothing was changed.
    case foreignCommit(ForeignCommit)
    /// A file lvx's commits change was changed upstream too: nothing was changed.
    case conflict(path: String)
    /// A repository with a working tree: replaying would have to rewrite it, so nothing was changed.
    case hasWorkingTree
}

extension GitRepository {
    /// Puts lvx's own unpublished commits back on top of the upstream when the two diverged.
    ///
    /// That happens when a person pushes to a site's branch between the agent's fetch and its
    /// push: the push is refused, and at the next run the branch holds the agent's commit while
    /// the upstream holds the person's. Merging is never done. Instead, each commit the upstream
    /// lacks, all made by lvx (author and committer `lvx <lvx@localhost>`), is made again with
    /// the same files changed, message, author and time, on top of the upstream's tip; the
    /// person's commits stay exactly as pushed. If one of those commits was not made by lvx, or
    /// changes a file the upstream changed too, nothing is changed and the caller reports it.
    /// Only a bare repository is replayed (no working tree to rewrite).
    ///
    /// The corresponding C functions are `git_merge_base`, `git_diff_tree_to_tree`,
    /// `git_tree_create_updated`, `git_commit_create` and `git_reference_create_matching`.
    public func replayAgentCommitsOntoUpstream() throws(GitError) -> AgentReplay {
        try locked { repo throws(GitError) in
            let branch = try currentBranch(repo)
            guard try Self.upstreamRemote(repo, branch) != nil else { return .notDiverged }
            let trackingName = try Self.buffer("git_branch_upstream_name") {
                git_branch_upstream_name(&$0, repo.raw, branch)
            }
            guard let local = try tip(of: branch, repo), let upstream = try tip(of: trackingName, repo) else {
                return .notDiverged
            }
            var base = git_oid()
            var localOID = local.oid
            var upstreamOID = upstream.oid
            let found = git_merge_base(&base, repo.raw, &localOID, &upstreamOID)
            if found == GIT_ENOTFOUND.rawValue { return .conflict(path: "(no common history)") }
            try check(found, "git_merge_base")
            let baseID = ObjectID(base)
            if baseID == local || baseID == upstream { return .notDiverged }
            guard workingDirectory == nil else { return .hasWorkingTree }
            let pending = try Self.commits(from: local, notIn: upstream, repo)
            for id in pending {
                let commit = try Commit.lookup(repo, id)
                guard Self.isAgentCommit(commit), commit.parentIDs.count == 1 else {
                    let author = commit.author
                    return .foreignCommit(
                        ForeignCommit(
                            shortID: String(id.description.prefix(12)),
                            author: author.name.isEmpty ? author.email : author.name
                        )
                    )
                }
            }
            let upstreamPaths = Set(
                try Self.changes(
                    from: Commit.lookup(repo, baseID).treeID,
                    to: Commit.lookup(repo, upstream).treeID,
                    repo
                )
                .map(\.path)
            )
            var current = upstream
            for id in pending {
                let commit = try Commit.lookup(repo, id)
                let parent = try Commit.lookup(repo, commit.parentIDs[0])
                let changes = try Self.changes(from: parent.treeID, to: commit.treeID, repo)
                if let clash = changes.first(where: { upstreamPaths.contains($0.path) }) {
                    return .conflict(path: clash.path)
                }
                let onto = try Commit.lookup(repo, current)
                let tree = try Self.tree(onto.treeID, applying: changes, repo)
                let treeObject = try Tree.lookup(repo, tree)
                var parents: [OpaquePointer?] = [onto.pointer]
                var out = git_oid()
                try check(
                    git_commit_create(
                        &out,
                        repo.raw,
                        nil,
                        git_commit_author(commit.pointer),
                        git_commit_committer(commit.pointer),
                        nil,
                        commit.message,
                        treeObject.pointer,
                        1,
                        &parents
                    ),
                    "git_commit_create"
                )
                current = ObjectID(out)
            }
            guard try swap(branch, to: current, expecting: local, log: "lvx: replay onto the upstream", repo) else {
                throw GitError(
                    .branchKeptMoving,
                    "the branch '\(Self.shortName(branch))' in \(path) moved while lvx replayed its commits",
                    hint: "run again when nothing else is committing to it"
                )
            }
            return .replayed(commits: pending.count)
        }
    }

    /// The files that differ between two trees: the new blob and mode, or `nil` for a deletion.
    ///
    /// The corresponding C functions are `git_diff_tree_to_tree` and `git_diff_get_delta`.
    static func changes(
        from old: ObjectID,
        to new: ObjectID,
        _ repo: RepositoryPointer
    ) throws(GitError) -> [(path: String, id: ObjectID?, mode: git_filemode_t)] {
        let oldTree = try Tree.lookup(repo, old)
        let newTree = try Tree.lookup(repo, new)
        var diff: OpaquePointer?
        try check(
            git_diff_tree_to_tree(&diff, repo.raw, oldTree.pointer, newTree.pointer, nil),
            "git_diff_tree_to_tree"
        )
        defer { git_diff_free(diff) }
        var out: [(path: String, id: ObjectID?, mode: git_filemode_t)] = []
        for i in 0..<git_diff_num_deltas(diff) {
            guard let delta = git_diff_get_delta(diff, i)?.pointee else { continue }
            if delta.status == GIT_DELTA_DELETED {
                out.append((String(cString: delta.old_file.path), nil, GIT_FILEMODE_BLOB))
            } else {
                out.append(
                    (
                        String(cString: delta.new_file.path), ObjectID(delta.new_file.id),
                        git_filemode_t(UInt32(delta.new_file.mode))
                    )
                )
            }
        }
        return out
    }

    /// The tree `base` with `changes` applied (upserted or removed).
    ///
    /// The corresponding C function is `git_tree_create_updated`.
    static func tree(
        _ base: ObjectID,
        applying changes: [(path: String, id: ObjectID?, mode: git_filemode_t)],
        _ repo: RepositoryPointer
    ) throws(GitError) -> ObjectID {
        let cPaths = changes.map { strdup($0.path) }
        defer { cPaths.forEach { free($0) } }
        var updates = zip(changes, cPaths).map { change, c in
            git_tree_update(
                action: change.id == nil ? GIT_TREE_UPDATE_REMOVE : GIT_TREE_UPDATE_UPSERT,
                id: change.id?.oid ?? git_oid(),
                filemode: change.mode,
                path: UnsafePointer(c)
            )
        }
        let baseTree = try Tree.lookup(repo, base)
        var out = git_oid()
        try check(
            git_tree_create_updated(&out, repo.raw, baseTree.pointer, updates.count, &updates),
            "git_tree_create_updated"
        )
        return ObjectID(out)
    }
}
