internal import CLibGit2
public import LVXCore

/// A failure in the git adapter: a libgit2 call that failed, or a repository state lvx refuses.
///
/// Library failures name the C function and carry libgit2's own message (`git_error_last()`);
/// the others say what is wrong with the repository and what to do about it.
public struct GitError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: Sendable, Hashable {
        /// The path is not a git repository.
        case notARepository
        /// A revision does not name a commit.
        case unknownRevision
        /// The current branch has no commits yet.
        case unbornBranch
        /// HEAD points at a commit, not at a branch.
        case detachedHead
        /// A file to be written has uncommitted changes in the working tree or index.
        case uncommittedChanges
        /// The branch kept moving while lvx tried to commit on top of it.
        case branchKeptMoving
        /// A path lvx was given is not a valid repository path.
        case invalidPath
        /// A libgit2 call failed; see ``GitError/function`` and ``GitError/libraryCode``.
        case library
        /// A file-system operation on the working tree failed.
        case fileSystem
        /// The signer of a commit failed or returned no signature.
        case signingFailed
        /// The answer lies in history a shallow fetch left out.
        case historyNotFetched
    }

    /// What kind of failure this is.
    public var code: Code
    /// What went wrong, lower-case.
    public var message: String
    /// What the user can do about it, if there is something specific.
    public var hint: String?
    /// The libgit2 function that failed, for ``Code/library`` errors.
    public var function: String?
    /// libgit2's return code (`GIT_ENOTFOUND` is -3 …), for ``Code/library`` errors.
    public var libraryCode: Int32?

    /// Creates an error.
    public init(
        _ code: Code,
        _ message: String,
        hint: String? = nil,
        function: String? = nil,
        libraryCode: Int32? = nil
    ) {
        self.code = code
        self.message = message
        self.hint = hint
        self.function = function
        self.libraryCode = libraryCode
    }

    /// The message, followed by the hint after `; ` when there is one.
    public var description: String { hint.map { "\(message); \($0)" } ?? message }

    /// The error as LVXCore's seam error, keeping the hint.
    public var repositoryError: RepositoryError { RepositoryError(message, hint: hint) }
}

/// The funnel for libgit2 return codes: negative codes become a ``GitError`` naming `function`
/// and carrying `git_error_last()`'s message.
/// - Returns: `code` when it is not an error (some functions return counts or flags).
@discardableResult
func check(_ code: Int32, _ function: String) throws(GitError) -> Int32 {
    guard code < 0 else { return code }
    throw libraryError(code, function)
}

/// The ``GitError`` for a failed libgit2 call, with the library's last error message.
func libraryError(_ code: Int32, _ function: String) -> GitError {
    let message = git_error_last().flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "error \(code)"
    return GitError(.library, "\(function) failed: \(message)", function: function, libraryCode: code)
}
