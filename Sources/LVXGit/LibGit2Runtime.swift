internal import CGitShims
internal import CLibGit2
internal import Foundation

/// The one owner of libgit2's global state: `git_libgit2_init`/`git_libgit2_shutdown`, and the
/// process-wide options lvx depends on.
///
/// Every ``GitRepository`` holds a runtime token; the first token initialises libgit2 and the
/// last one shuts it down. Whenever libgit2 is (re)initialised, configuration is isolated: the
/// SYSTEM, XDG, GLOBAL and PROGRAMDATA config search paths point at a private empty directory,
/// so `/etc/gitconfig`, `~/.gitconfig` and `$XDG_CONFIG_HOME/git/config` never change what lvx
/// does (a `url.insteadOf` rewrite or an `init.defaultBranch` there would). Only the
/// repository's own `config` file is read. fsync of the git directory is enabled, so a commit
/// that returned is on disk. Owner validation stays on.
///
/// Initialisation does not parse the system CA bundle (`lvx_git_init_without_ca_bundle`): with
/// mbedTLS, libgit2 1.5 would parse it for HTTPS on every start, which was about 40% of the
/// instructions of `lvx validate`. lvx's remotes are paths, `file://` and ssh; before an
/// `http(s)://` remote is used, ``loadDeferredCertificates()`` loads the bundle.
final class LibGit2Runtime: Sendable {
    private static let state = RuntimeState()

    /// Takes a share of libgit2's global state, initialising and isolating it if this is the first.
    ///
    /// The corresponding C functions are `git_libgit2_init` and `git_libgit2_opts`.
    static func acquire() throws(GitError) -> LibGit2Runtime {
        try state.retain()
        return LibGit2Runtime()
    }

    private init() {}

    deinit { Self.state.release() }

    /// The CA file whose parsing initialisation deferred, or `nil` when none is pending (it was
    /// loaded, or this libgit2 does not parse one at initialisation).
    static var deferredCertificateFile: String? { state.deferredCertificateFile }

    /// Loads the CA file initialisation deferred, so an HTTPS remote can verify its server.
    ///
    /// The corresponding C function is `git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS)`.
    static func loadDeferredCertificates() throws(GitError) { try state.loadCertificates() }

    /// How many runtime tokens are alive (0 when libgit2 is shut down).
    static var liveTokens: Int { state.liveTokens }

    /// Turns fsync of the git directory on or off, now and on every later initialisation.
    ///
    /// On by default; switching it off exists to measure its cost.
    static func setFsyncGitDirectory(_ enabled: Bool) { state.setFsync(enabled) }
}

/// The mutable state behind ``LibGit2Runtime``; every access holds `lock`.
private final class RuntimeState: @unchecked Sendable {
    private let lock = NSLock()
    private var tokens = 0
    private var fsync = true
    private var emptyDirectory: String?

    var liveTokens: Int {
        lock.lock()
        defer { lock.unlock() }
        return tokens
    }

    func retain() throws(GitError) {
        lock.lock()
        defer { lock.unlock() }
        let count = lvx_git_init_without_ca_bundle()
        guard count > 0 else { throw libraryError(count, "git_libgit2_init") }
        if count == 1 {
            do throws(GitError) {
                try isolate()
            } catch {
                git_libgit2_shutdown()
                removeEmptyDirectory()
                throw error
            }
        }
        tokens += 1
    }

    func release() {
        lock.lock()
        defer { lock.unlock() }
        tokens -= 1
        if git_libgit2_shutdown() == 0 { removeEmptyDirectory() }
    }

    var deferredCertificateFile: String? {
        lock.lock()
        defer { lock.unlock() }
        return lvx_git_deferred_ca_bundle().map { String(cString: $0) }
    }

    func loadCertificates() throws(GitError) {
        lock.lock()
        defer { lock.unlock() }
        try check(lvx_git_load_deferred_ca_bundle(), "git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS)")
    }

    func setFsync(_ enabled: Bool) {
        lock.lock()
        defer { lock.unlock() }
        fsync = enabled
        if tokens > 0 { lvx_git_set_fsync_gitdir(enabled ? 1 : 0) }
    }

    /// Points every config search path at a fresh empty directory and applies the options.
    private func isolate() throws(GitError) {
        var template = Array((NSTemporaryDirectory() + "/lvx-git-noconfig-XXXXXX").utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) }.map { String(cString: $0) }
        }
        guard let directory = created else {
            throw GitError(.fileSystem, "cannot create an empty directory for git config isolation: errno \(errno)")
        }
        emptyDirectory = directory
        // Read and search only: nothing can be created in it by accident.
        chmod(directory, 0o500)
        let levels = [
            GIT_CONFIG_LEVEL_PROGRAMDATA, GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL,
        ]
        for level in levels {
            try check(lvx_git_set_search_path(level.rawValue, directory), "git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH)")
        }
        try check(lvx_git_set_fsync_gitdir(fsync ? 1 : 0), "git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR)")
        // libgit2 keeps up to 256 MiB of decoded commits and trees, and maps packs in 1 GiB windows,
        // up to 8 GiB. A walk over a year of runs (35,000 commits) grew to 177 MB; it only needs the
        // last few objects again. With these limits the same walk peaks at 60 MB, as fast.
        try check(
            lvx_git_set_memory_limits(Self.cacheBytes, Self.mappedPackBytes),
            "git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE)"
        )
    }

    /// The object cache's limit.
    static let cacheBytes: Int64 = 1 << 20
    /// The limit of pack windows mapped at once (a window is a quarter of it).
    static let mappedPackBytes: Int64 = 8 << 20

    private func removeEmptyDirectory() {
        if let directory = emptyDirectory { rmdir(directory) }
        emptyDirectory = nil
    }
}
