internal import CLibGit2
internal import Foundation
public import LVXCore

/// A git repository opened through libgit2: the desired-state source and the history store.
///
/// It reads committed content only (never the working tree), and commits generated files on the
/// current branch with a compare-and-swap ref update. In a non-bare repository the index and
/// working tree are brought along for exactly the committed paths.
///
/// - Important: Thread safety. libgit2 objects may not be used from two threads at once, so every
///   call that touches the `git_repository*` (or anything derived from it) holds this object's lock
///   for its whole duration. That is what makes the `@unchecked Sendable` sound; libgit2 handles
///   never escape a locked scope. Separate `GitRepository` instances share nothing but
///   ``LibGit2Runtime``.
public final class GitRepository: @unchecked Sendable {
    /// The path the repository was opened or created at.
    public let path: String
    /// The git directory (`.git` of a non-bare repository, the repository itself when bare).
    public let gitDirectory: String
    /// The working tree, ending in `/`, or `nil` for a bare repository.
    public let workingDirectory: String?

    private let handle: RepositoryPointer
    private let lock = NSLock()
    // Declared after `handle`, but released only after deinit has freed it: Swift releases
    // stored properties after the deinit body runs.
    private let runtime: LibGit2Runtime
    private var testHookBeforeRefUpdate: (@Sendable (_ attempt: Int) -> Void)?

    private init(raw: OpaquePointer, path: String, runtime: LibGit2Runtime) {
        handle = RepositoryPointer(raw: raw)
        self.path = path
        self.runtime = runtime
        gitDirectory = git_repository_path(raw).map { String(cString: $0) } ?? path
        workingDirectory = git_repository_workdir(raw).map { String(cString: $0) }
    }

    deinit { git_repository_free(handle.raw) }

    /// Whether the repository has no working tree.
    public var isBare: Bool { workingDirectory == nil }

    /// Opens the bare or non-bare repository at exactly `path` (parent directories are not searched).
    ///
    /// The corresponding C function is `git_repository_open_ext`.
    /// - Returns: the opened repository.
    /// - Throws: ``GitError`` `not a git repository: PATH; run `lvx init` or pass --repo`.
    /// - Parameters:
    ///   - path: the repository (its working tree or git directory).
    ///   - honouringGitEnvironment: also read objects where git's `GIT_OBJECT_DIRECTORY` and
    ///     `GIT_ALTERNATE_OBJECT_DIRECTORIES` say: inside a pre-receive hook, the pushed objects are
    ///     in quarantine and visible only that way.
    public static func open(path: String, honouringGitEnvironment: Bool = false) throws(GitError) -> GitRepository {
        let runtime = try LibGit2Runtime.acquire()
        var raw: OpaquePointer?
        let flags =
            honouringGitEnvironment
            ? GIT_REPOSITORY_OPEN_FROM_ENV.rawValue | GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue
            : GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue
        let code = git_repository_open_ext(&raw, path, flags, nil)
        if code == GIT_ENOTFOUND.rawValue {
            throw GitError(.notARepository, "not a git repository: \(path)", hint: "run `lvx init` or pass --repo")
        }
        if code == GIT_EOWNER.rawValue {
            var error = libraryError(code, "git_repository_open_ext")
            error.hint = "run lvx as the user that owns the repository"
            throw error
        }
        try check(code, "git_repository_open_ext")
        guard let raw else { throw libraryError(-1, "git_repository_open_ext") }
        return GitRepository(raw: raw, path: path, runtime: runtime)
    }

    /// Creates a repository at `path` (and missing parent directories) whose HEAD is `branch`.
    ///
    /// The branch name is always explicit: `init.defaultBranch` is never consulted.
    /// The corresponding C function is `git_repository_init_ext`.
    /// - Parameters:
    ///   - path: where to create it; an existing repository is re-initialised (harmless).
    ///   - bare: whether to create a bare repository.
    ///   - branch: the branch HEAD points at, `main` unless given.
    /// - Returns: the new repository.
    /// - Throws: ``GitError`` for an invalid branch name or a libgit2 failure.
    public static func initialize(
        path: String,
        bare: Bool = false,
        branch: String = "main"
    ) throws(GitError)
        -> GitRepository
    {
        let runtime = try LibGit2Runtime.acquire()
        var valid: Int32 = 0
        try check(git_reference_name_is_valid(&valid, "refs/heads/" + branch), "git_reference_name_is_valid")
        guard valid == 1 else {
            throw GitError(.invalidPath, "'\(branch)' is not a valid branch name", hint: "use a name like `main`")
        }
        var options = git_repository_init_options()
        try check(
            git_repository_init_options_init(&options, UInt32(GIT_REPOSITORY_INIT_OPTIONS_VERSION)),
            "git_repository_init_options_init"
        )
        options.flags = GIT_REPOSITORY_INIT_MKPATH.rawValue | (bare ? GIT_REPOSITORY_INIT_BARE.rawValue : 0)
        var raw: OpaquePointer?
        let code = branch.withCString { head in
            options.initial_head = head
            return git_repository_init_ext(&raw, path, &options)
        }
        try check(code, "git_repository_init_ext")
        guard let raw else { throw libraryError(-1, "git_repository_init_ext") }
        return GitRepository(raw: raw, path: path, runtime: runtime)
    }

    /// Runs `body` with the repository handle while holding the lock.
    func locked<T>(_ body: (RepositoryPointer) throws(GitError) -> T) throws(GitError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(handle)
    }

    /// A hook run during ``commit(files:message:author:time:)`` after the new commit object is
    /// written and before the branch ref is swapped, with the attempt number (1-based).
    ///
    /// Tests use it to move the branch in between and prove the compare-and-swap retry. It runs
    /// with the lock held, so it must not call back into this repository (another process may).
    var beforeRefUpdate: (@Sendable (_ attempt: Int) -> Void)? {
        get {
            lock.lock()
            defer { lock.unlock() }
            return testHookBeforeRefUpdate
        }
        set {
            lock.lock()
            defer { lock.unlock() }
            testHookBeforeRefUpdate = newValue
        }
    }

    /// The hook, read while the lock is already held.
    var hookWhileLocked: (@Sendable (_ attempt: Int) -> Void)? { testHookBeforeRefUpdate }

    /// A configuration value as libgit2 sees it for this repository, or `nil` when unset.
    ///
    /// Only the repository's own config file can supply one (see ``LibGit2Runtime``).
    /// The corresponding C functions are `git_repository_config_snapshot` and `git_config_get_string`.
    func configString(_ name: String) throws(GitError) -> String? {
        try locked { repo throws(GitError) in
            var config: OpaquePointer?
            try check(git_repository_config_snapshot(&config, repo.raw), "git_repository_config_snapshot")
            defer { git_config_free(config) }
            var value: UnsafePointer<CChar>?
            let code = git_config_get_string(&value, config, name)
            if code == GIT_ENOTFOUND.rawValue { return nil }
            try check(code, "git_config_get_string")
            return value.map { String(cString: $0) }
        }
    }

    /// The branch HEAD points at (`main`), or `nil` when HEAD is detached.
    ///
    /// A branch with no commits yet (unborn) is still named.
    /// The corresponding C functions are `git_repository_head_detached` and `git_reference_lookup`.
    /// - Throws: ``GitError`` when HEAD cannot be read.
    public func currentBranch() throws(GitError) -> String? {
        try locked { repo throws(GitError) in
            if try check(git_repository_head_detached(repo.raw), "git_repository_head_detached") == 1 { return nil }
            guard let branch = try Reference.lookup(repo, "HEAD").symbolicTarget else { return nil }
            return Self.shortName(branch)
        }
    }

    /// The branch HEAD points at (`refs/heads/main`).
    func currentBranch(_ repo: RepositoryPointer) throws(GitError) -> String {
        let head = try Reference.lookup(repo, "HEAD")
        guard let branch = head.symbolicTarget else {
            throw GitError(
                .detachedHead,
                "HEAD is detached in \(path); lvx commits only on a branch",
                hint: "check out a branch first (git switch main)"
            )
        }
        return branch
    }

    /// The id the branch ref points at, or `nil` when the branch has no commits yet.
    ///
    /// The corresponding C function is `git_reference_name_to_id`.
    func tip(of branch: String, _ repo: RepositoryPointer) throws(GitError) -> ObjectID? {
        var oid = git_oid()
        let code = git_reference_name_to_id(&oid, repo.raw, branch)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try check(code, "git_reference_name_to_id")
        return ObjectID(oid)
    }
}

extension GitRepository: SiteRepository {
    public func commit(
        files: [String: [UInt8]],
        message: String,
        author: PersonIdentity,
        time: WallTime,
        signer: (@Sendable ([UInt8]) throws -> String)?
    ) throws(RepositoryError) -> String {
        do {
            return try commit(
                files: files,
                message: message,
                author: GitIdentity(name: author.name, email: author.email),
                time: time,
                signer: signer
            )
        } catch {
            throw RepositoryError(error.description, hint: error.hint)
        }
    }

    public func branch() throws(RepositoryError) -> String? {
        do {
            return try currentBranch()
        } catch {
            throw RepositoryError(error.description)
        }
    }
}
