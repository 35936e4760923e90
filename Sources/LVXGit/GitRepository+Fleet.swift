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

    /// Adds the remote `name` at `url` and makes it the current branch's upstream, as
    /// `git remote add` and `git branch --set-upstream-to` would (the remote branch has the same name).
    ///
    /// The corresponding C functions are `git_remote_create` and `git_config_set_string`.
    public func setUpstream(remote name: String, url: String) throws(GitError) {
        try locked { repo throws(GitError) in
            let branch = try currentBranch(repo)
            var remote: OpaquePointer?
            try check(git_remote_create(&remote, repo.raw, name, url), "git_remote_create")
            git_remote_free(remote)
            var config: OpaquePointer?
            try check(git_repository_config(&config, repo.raw), "git_repository_config")
            defer { git_config_free(config) }
            let short = Self.shortName(branch)
            try check(git_config_set_string(config, "branch.\(short).remote", name), "git_config_set_string")
            try check(git_config_set_string(config, "branch.\(short).merge", branch), "git_config_set_string")
        }
    }

    /// Fetches the current branch's upstream remote and says whether it has the branch's
    /// upstream branch (a site that was set up before and is being set up again).
    ///
    /// The corresponding C functions are `git_remote_fetch` and `git_reference_name_to_id`.
    public func upstreamHasBranch() throws(GitError) -> Bool {
        try locked { repo throws(GitError) in
            let branch = try currentBranch(repo)
            guard let remoteName = try Self.upstreamRemote(repo, branch) else { return false }
            let remote = try RemoteHandle.lookup(repo, remoteName)
            var options = git_fetch_options()
            try check(git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION)), "git_fetch_options_init")
            try check(git_remote_fetch(remote.pointer, nil, &options, "lvx init: fetch"), "git_remote_fetch")
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
            let refspec = strdup("+refs/heads/\(Self.siteBranchPrefix)*:refs/heads/\(Self.siteBranchPrefix)*")
            defer { free(refspec) }
            var strings: [UnsafeMutablePointer<CChar>?] = [refspec]
            let code = strings.withUnsafeMutableBufferPointer { buffer in
                var array = git_strarray(strings: buffer.baseAddress, count: 1)
                return git_remote_fetch(remote, &array, &options, "lvx fleet: fetch")
            }
            try check(code, "git_remote_fetch")
        }
    }
}
