internal import CLibGit2
internal import Foundation
internal import Glibc

/// What ``GitRepository/syncFromUpstream()`` did.
public enum UpstreamSync: Sendable, Equatable {
    /// The current branch has no upstream (`branch.NAME.remote` is not set).
    case noUpstream
    /// The branch already had everything the upstream has.
    case upToDate
    /// The branch moved forward to the upstream's tip.
    case fastForwarded(from: String?, to: String)
    /// The branch has commits the upstream lacks (a push is due) and nothing new from it.
    case ahead(Int)
    /// Both sides have commits the other lacks; nothing was changed locally.
    case diverged(ahead: Int, behind: Int)
}

/// What ``GitRepository/pushToUpstream()`` did.
public enum UpstreamPush: Sendable, Hashable {
    /// The current branch has no upstream (`branch.NAME.remote` is not set).
    case noUpstream
    /// The upstream already has every commit of the branch.
    case nothingToPush
    /// This many commits, all made by lvx, were pushed.
    case pushed(commits: Int)
    /// Nothing was pushed: this many of the commits the upstream lacks were not made by lvx;
    /// `first` is the oldest of them.
    case heldBack(foreignCommits: Int, first: ForeignCommit)
    /// Nothing was pushed: the upstream has commits the branch lacks, so it would reject the push.
    case diverged(ahead: Int, behind: Int)
}

/// A commit lvx did not make, named for a log line.
public struct ForeignCommit: Sendable, Hashable {
    /// The first 12 hex digits of its id.
    public var shortID: String
    /// Its author's name (the email when the name is empty).
    public var author: String

    /// Creates a description of a commit.
    public init(shortID: String, author: String) {
        self.shortID = shortID
        self.author = author
    }
}

extension GitRepository {
    /// The current branch's upstream remote name, or `nil` when it has none.
    ///
    /// The corresponding C function is `git_branch_upstream_remote`.
    public func upstreamRemote() throws(GitError) -> String? {
        try locked { repo throws(GitError) in try Self.upstreamRemote(repo, try currentBranch(repo)) }
    }

    /// Fetches the current branch's upstream and fast-forwards the branch to it.
    ///
    /// A fast-forward is a compare-and-swap of the branch ref; in a non-bare repository the
    /// working tree is checked out safely first (a locally modified file stops it with an error).
    /// A diverged branch is left alone: lvx never merges or rewrites what a person pushed.
    /// The corresponding C functions are `git_remote_fetch`, `git_graph_ahead_behind`,
    /// `git_checkout_tree` and `git_reference_create_matching`.
    /// - Returns: what happened.
    /// - Throws: ``GitError`` when the fetch or the update fails.
    public func syncFromUpstream() throws(GitError) -> UpstreamSync {
        try locked { repo throws(GitError) in
            let branch = try currentBranch(repo)
            guard let remoteName = try Self.upstreamRemote(repo, branch) else { return .noUpstream }
            try fetchUpstream(of: branch, remote: remoteName, repo, log: "lvx: fetch")
            let upstreamName = try Self.buffer("git_branch_upstream_name") {
                git_branch_upstream_name(&$0, repo.raw, branch)
            }
            var upstream = git_oid()
            try check(git_reference_name_to_id(&upstream, repo.raw, upstreamName), "git_reference_name_to_id")
            let local = try tip(of: branch, repo)
            let to = ObjectID(upstream)
            if let local {
                if local == to { return .upToDate }
                var ahead = 0
                var behind = 0
                var localOID = local.oid
                try check(
                    git_graph_ahead_behind(&ahead, &behind, repo.raw, &localOID, &upstream),
                    "git_graph_ahead_behind"
                )
                if behind == 0 { return .ahead(ahead) }
                if ahead > 0 { return .diverged(ahead: ahead, behind: behind) }
            }
            if workingDirectory != nil {
                var object: OpaquePointer?
                try check(git_object_lookup(&object, repo.raw, &upstream, GIT_OBJECT_COMMIT), "git_object_lookup")
                defer { git_object_free(object) }
                var checkout = git_checkout_options()
                try check(
                    git_checkout_options_init(&checkout, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)),
                    "git_checkout_options_init"
                )
                checkout.checkout_strategy = GIT_CHECKOUT_SAFE.rawValue
                try check(git_checkout_tree(repo.raw, object, &checkout), "git_checkout_tree")
            }
            var updated: OpaquePointer?
            if var expected = local?.oid {
                try check(
                    git_reference_create_matching(
                        &updated,
                        repo.raw,
                        branch,
                        &upstream,
                        1,
                        &expected,
                        "lvx: fast-forward"
                    ),
                    "git_reference_create_matching"
                )
            } else {
                try check(
                    git_reference_create(&updated, repo.raw, branch, &upstream, 0, "lvx: fast-forward"),
                    "git_reference_create"
                )
            }
            git_reference_free(updated)
            return .fastForwarded(from: local?.description, to: to.description)
        }
    }

    /// Pushes the current branch to its upstream branch, but only lvx's own work.
    ///
    /// Every commit the upstream lacks (reachable from the branch, not from the upstream's
    /// remote-tracking ref as last fetched) must have been made by lvx: author and committer
    /// `lvx <lvx@localhost>` (see ``GitRepository/agentName``). One commit by anyone else (a
    /// person's unpushed commit in a clone lvx runs in, or an lvx commit a person amended) holds
    /// the whole push back, since pushing the branch would publish it too. A branch the upstream
    /// has moved past (diverged) is not pushed either: the upstream would reject it.
    ///
    /// The corresponding C functions are `git_revwalk_hide`, `git_graph_ahead_behind` and
    /// `git_remote_push`.
    /// - Returns: what happened.
    /// - Throws: ``GitError`` when the push fails or the remote rejects the update (for example
    ///   because someone pushed meanwhile; the next run fetches and pushes again).
    public func pushToUpstream() throws(GitError) -> UpstreamPush {
        try locked { repo throws(GitError) in
            let branch = try currentBranch(repo)
            guard let remoteName = try Self.upstreamRemote(repo, branch) else { return .noUpstream }
            guard let local = try tip(of: branch, repo) else { return .nothingToPush }
            let trackingName = try Self.buffer("git_branch_upstream_name") {
                git_branch_upstream_name(&$0, repo.raw, branch)
            }
            let upstream = try tip(of: trackingName, repo)
            if let upstream {
                var ahead = 0
                var behind = 0
                var localOID = local.oid
                var upstreamOID = upstream.oid
                try check(
                    git_graph_ahead_behind(&ahead, &behind, repo.raw, &localOID, &upstreamOID),
                    "git_graph_ahead_behind"
                )
                if behind > 0 { return .diverged(ahead: ahead, behind: behind) }
                if ahead == 0 { return .nothingToPush }
            }
            let pending = try Self.commits(from: local, notIn: upstream, repo)
            var foreign: [ForeignCommit] = []
            for id in pending {
                let commit = try Commit.lookup(repo, id)
                if !Self.isAgentCommit(commit) {
                    let author = commit.author
                    foreign.append(
                        ForeignCommit(
                            shortID: String(id.description.prefix(12)),
                            author: author.name.isEmpty ? author.email : author.name
                        )
                    )
                }
            }
            if let first = foreign.first { return .heldBack(foreignCommits: foreign.count, first: first) }
            try push(branch, remoteName, repo)
            return .pushed(commits: pending.count)
        }
    }

    /// The commits reachable from `tip` but not from `base`, oldest first.
    ///
    /// The corresponding C functions are `git_revwalk_push` and `git_revwalk_hide`.
    static func commits(
        from tip: ObjectID,
        notIn base: ObjectID?,
        _ repo: RepositoryPointer
    ) throws(GitError) -> [ObjectID] {
        let walk = try Revwalk(repo, sorting: git_sort_t(GIT_SORT_TOPOLOGICAL.rawValue | GIT_SORT_REVERSE.rawValue))
        var tipOID = tip.oid
        try check(git_revwalk_push(walk.pointer, &tipOID), "git_revwalk_push")
        if var baseOID = base?.oid { try check(git_revwalk_hide(walk.pointer, &baseOID), "git_revwalk_hide") }
        var out: [ObjectID] = []
        while let id = try walk.next() { out.append(id) }
        return out
    }

    /// Pushes `branch` to its upstream merge ref on `remoteName`, refusing to replace anything the
    /// upstream holds that the branch does not (never a force-push).
    ///
    /// With the git command (`git push`), which the package depends on: the upstream's
    /// receive-pack updates the ref only if it still holds the value the push was computed
    /// against, and runs the upstream's hooks. libgit2's push is the fallback: over the network
    /// the server makes the same check, but to a local path libgit2 writes the ref itself, without
    /// it; the fleet benchmark measured 9 of 33 people's pushes replaced that way by agents' pushes
    /// racing them. The corresponding C function is `git_remote_push`.
    private func push(_ branch: String, _ remoteName: String, _ repo: RepositoryPointer) throws(GitError) {
        let merge = try Self.buffer("git_branch_upstream_merge") {
            git_branch_upstream_merge(&$0, repo.raw, branch)
        }
        if GitCommand.path != nil { return try pushWithGit(branch: branch, merge: merge, remote: remoteName) }
        let remote = try RemoteHandle.lookup(repo, remoteName)
        var options = git_push_options()
        try check(git_push_options_init(&options, UInt32(GIT_PUSH_OPTIONS_VERSION)), "git_push_options_init")
        let rejection = RejectionBox()
        options.callbacks.payload = Unmanaged.passUnretained(rejection).toOpaque()
        options.callbacks.push_update_reference = { name, status, payload in
            if let status, let payload {
                let box = Unmanaged<RejectionBox>.fromOpaque(payload).takeUnretainedValue()
                box.message = "\(name.map { String(cString: $0) } ?? "?"): \(String(cString: status))"
            }
            return 0
        }
        let code = withStrarray(["\(branch):\(merge)"]) { git_remote_push(remote.pointer, &$0, &options) }
        try check(code, "git_remote_push")
        if let message = rejection.message {
            throw GitError(
                .library,
                "the upstream rejected the push of \(branch) (\(message))",
                hint: "someone pushed meanwhile; the next run fetches and pushes again"
            )
        }
    }

    /// `git push --porcelain REMOTE BRANCH:MERGE` in this repository: no force, no prompt.
    private func pushWithGit(branch: String, merge: String, remote: String) throws(GitError) {
        let (status, text) = try GitCommand.execute(
            ["--git-dir", gitDirectory, "push", "--porcelain", "--quiet", remote, "\(branch):\(merge)"]
        )
        guard status != 0 else { return }
        let rejected = text.split(separator: "\n").first { $0.hasPrefix("!") }.map(String.init)
        throw GitError(
            .library,
            "the upstream rejected the push of \(Self.shortName(branch)) (\(rejected ?? text.trimmingCharacters(in: .whitespacesAndNewlines)))",
            hint: "someone pushed meanwhile; the next run fetches and pushes again"
        )
    }

    /// Fetches the upstream of `branch` alone: its `branch.NAME.merge` ref into its
    /// remote-tracking ref.
    ///
    /// Only that branch: on a fleet's upstream the remote's default refspec (`refs/heads/*`) would
    /// bring every other site's branch and history into this site's repository on every run.
    /// With the git command when there is one: libgit2 builds the pack for a local path itself,
    /// delta-compressing every object again, so a site taking its year-long branch (35,000 runs)
    /// spent minutes and gigabytes where git copies the upstream's deltas in seconds.
    /// The corresponding C functions are `git_branch_upstream_merge`, `git_branch_upstream_name`
    /// and `git_remote_fetch`.
    func fetchUpstream(
        of branch: String,
        remote name: String,
        _ repo: RepositoryPointer,
        log: String
    )
        throws(GitError)
    {
        let merge = try Self.buffer("git_branch_upstream_merge") { git_branch_upstream_merge(&$0, repo.raw, branch) }
        let tracking = try Self.buffer("git_branch_upstream_name") { git_branch_upstream_name(&$0, repo.raw, branch) }
        let refspec = "+\(merge):\(tracking)"
        if GitCommand.path != nil {
            do {
                try GitCommand.run([
                    "--git-dir", gitDirectory, "fetch", "--quiet", "--no-write-fetch-head", name, refspec,
                ])
            } catch  where error.message.contains("couldn't find remote ref") {
                // An upstream without the branch yet (a new site) leaves the tracking ref absent,
                // as libgit2's fetch does.
            }
            return
        }
        let remote = try RemoteHandle.lookup(repo, name)
        var options = git_fetch_options()
        try check(git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION)), "git_fetch_options_init")
        let code = withStrarray([refspec]) { git_remote_fetch(remote.pointer, &$0, &options, log) }
        try check(code, "git_remote_fetch")
    }

    static func upstreamRemote(_ repo: RepositoryPointer, _ branch: String) throws(GitError) -> String? {
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        let code = git_branch_upstream_remote(&buffer, repo.raw, branch)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try check(code, "git_branch_upstream_remote")
        return buffer.ptr.map { String(cString: $0) }
    }

    static func buffer(_ function: String, _ body: (inout git_buf) -> Int32) throws(GitError) -> String {
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        try check(body(&buffer), function)
        guard let pointer = buffer.ptr else { throw libraryError(-1, function) }
        return String(cString: pointer)
    }
}

/// An owned `git_remote*`.
struct RemoteHandle: ~Copyable {
    let pointer: OpaquePointer

    deinit { git_remote_free(pointer) }

    /// Looks a remote up and, when it is reached over HTTP(S), loads the CA bundle that
    /// ``LibGit2Runtime`` deferred.
    ///
    /// The corresponding C functions are `git_remote_lookup`, `git_remote_url` and `git_remote_pushurl`.
    static func lookup(_ repo: RepositoryPointer, _ name: String) throws(GitError) -> RemoteHandle {
        var out: OpaquePointer?
        try check(git_remote_lookup(&out, repo.raw, name), "git_remote_lookup")
        guard let out else { throw libraryError(-1, "git_remote_lookup") }
        let remote = RemoteHandle(pointer: out)
        let urls = [git_remote_url(out), git_remote_pushurl(out)].compactMap { $0.map { String(cString: $0) } }
        if urls.contains(where: { $0.lowercased().hasPrefix("https://") || $0.lowercased().hasPrefix("http://") }) {
            try LibGit2Runtime.loadDeferredCertificates()
        }
        return remote
    }
}

/// Receives a rejected reference from libgit2's push callback (used within one call, one thread).
private final class RejectionBox {
    var message: String?
}
