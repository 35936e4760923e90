internal import CLibGit2
public import LVXCore

/// A name and an email, as a commit's author or committer carries them.
public struct GitIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The name (`Alice Example`).
    public var name: String
    /// The email (`alice@example.com`).
    public var email: String

    /// Creates an identity; `<`, `>` and line breaks, which git cannot store, are removed.
    public init(name: String, email: String) {
        self.name = name.filter { !"<>\n\r\0".contains($0) }.trimmingCharacters(in: .whitespaces)
        self.email = email.filter { !"<>\n\r\0 ".contains($0) }
    }

    /// `lvx <lvx@localhost>`: the identity of lvx's own commits.
    public static let agent = GitIdentity(name: GitRepository.agentName, email: GitRepository.agentEmail)

    /// `Name <email>`.
    public var description: String { "\(name) <\(email)>" }
}

/// A commit's author or committer: who, and when.
public struct GitPerson: Sendable, Hashable {
    /// Name and email.
    public var identity: GitIdentity
    /// The time recorded with them.
    public var time: WallTime

    /// Creates a person.
    public init(identity: GitIdentity, time: WallTime) {
        self.identity = identity
        self.time = time
    }
}

/// What a commit says about itself: who wrote it, when, on top of what, and whether it is signed.
public struct GitCommitInfo: Sendable, Hashable {
    /// The commit id (40 hex digits).
    public var id: String
    /// The author.
    public var author: GitPerson
    /// The committer: who last wrote the commit (an amend, a rebase or a cherry-pick changes it).
    public var committer: GitPerson
    /// The parents' ids, first parent first.
    public var parents: [String]
    /// Whether the commit carries a `gpgsig` header (any kind of signature, not yet verified).
    public var isSigned: Bool
    /// The first line of the message.
    public var summary: String

    /// Creates an info.
    public init(
        id: String,
        author: GitPerson,
        committer: GitPerson,
        parents: [String],
        isSigned: Bool,
        summary: String
    ) {
        self.id = id
        self.author = author
        self.committer = committer
        self.parents = parents
        self.isSigned = isSigned
        self.summary = summary
    }
}

/// A commit's signature and the bytes it signs, as git verifies them.
public struct GitCommitSignature: Sendable, Hashable {
    /// The `gpgsig` header's content (for an SSH signature, `-----BEGIN SSH SIGNATURE-----` …).
    public var signature: String
    /// The commit object without its `gpgsig` header: what was signed.
    public var signedData: [UInt8]

    /// Creates a signature.
    public init(signature: String, signedData: [UInt8]) {
        self.signature = signature
        self.signedData = signedData
    }
}

extension GitRepository {
    /// Who wrote the commit `revision` names, when, and whether it is signed.
    ///
    /// The corresponding C functions are `git_commit_author`, `git_commit_committer` and
    /// `git_commit_header_field`.
    /// - Throws: ``GitError`` for an unknown revision or a libgit2 failure.
    public func commitInfo(_ revision: String) throws(GitError) -> GitCommitInfo {
        try locked { repo throws(GitError) in
            let commit = try Commit.lookup(repo, try commitID(revision, repo))
            return try Self.info(commit)
        }
    }

    /// The signature of the commit `revision` names and the data it signs, or `nil` when the
    /// commit is not signed.
    ///
    /// Pass both to `ssh-keygen -Y verify` (LVXSSH's `SSHKeygen.verify`) with the committer time
    /// as the verify time, as git does.
    /// The corresponding C function is `git_commit_extract_signature` (field `gpgsig`).
    /// - Throws: ``GitError`` for an unknown revision or a libgit2 failure.
    public func signature(of revision: String) throws(GitError) -> GitCommitSignature? {
        try locked { repo throws(GitError) in
            var id = try commitID(revision, repo).oid
            var signature = git_buf()
            var signedData = git_buf()
            defer {
                git_buf_dispose(&signature)
                git_buf_dispose(&signedData)
            }
            let code = git_commit_extract_signature(&signature, &signedData, repo.raw, &id, nil)
            if code == GIT_ENOTFOUND.rawValue { return nil }
            try check(code, "git_commit_extract_signature")
            return GitCommitSignature(signature: Self.text(signature), signedData: Self.bytes(signedData))
        }
    }

    static func info(_ commit: borrowing Commit) throws(GitError) -> GitCommitInfo {
        var header = git_buf()
        defer { git_buf_dispose(&header) }
        let code = git_commit_header_field(&header, commit.pointer, "gpgsig")
        if code != GIT_ENOTFOUND.rawValue { try check(code, "git_commit_header_field") }
        let summary = commit.message.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first
        return GitCommitInfo(
            id: commit.id.description,
            author: person(git_commit_author(commit.pointer)),
            committer: person(git_commit_committer(commit.pointer)),
            parents: commit.parentIDs.map(\.description),
            isSigned: code == 0,
            summary: summary.map(String.init) ?? ""
        )
    }

    private static func person(_ signature: UnsafePointer<git_signature>?) -> GitPerson {
        var identity = GitIdentity(name: "", email: "")
        identity.name = signature?.pointee.name.map { String(cString: $0) } ?? ""
        identity.email = signature?.pointee.email.map { String(cString: $0) } ?? ""
        let when = signature?.pointee.when
        return GitPerson(
            identity: identity,
            time: WallTime(
                secondsSince1970: Int64(when?.time ?? 0),
                utcOffsetMinutes: Int(when?.offset ?? 0)
            )
        )
    }

    private static func bytes(_ buffer: git_buf) -> [UInt8] {
        guard let start = buffer.ptr, buffer.size > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: start, count: buffer.size))
    }

    private static func text(_ buffer: git_buf) -> String { String(decoding: bytes(buffer), as: UTF8.self) }
}
