/// A person as git records one: a name and an email.
public struct PersonIdentity: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var email: String

    public init(name: String, email: String) {
        self.name = name
        self.email = email
    }

    public var description: String { "\(name) <\(email)>" }

    /// Whether `principal` (an allowed-signers name, or an `apply.approvers` entry) names this person.
    public func isNamed(_ principal: String) -> Bool {
        principal == email || principal == name
    }
}

/// Signs an approval the way git does for `gpg.format=ssh` (an SSHSIG over the commit buffer).
public protocol ApprovalSigner: Sendable {
    /// Who the approval commit is authored by.
    var identity: PersonIdentity { get }
    /// The armored signature of `commitBuffer`.
    func sign(_ commitBuffer: [UInt8]) throws -> String
}

/// What the host found when it checked who signed the commit that added an approval.
public enum ApprovalCheck: Sendable, Hashable {
    /// No allowed-signers file is configured here: approvals are not authenticated.
    case notConfigured
    /// Signed by a key the host trusts for the approval's principal.
    case verified(commit: String, principal: String, key: String)
    /// It does not count: why, naming the commit and the principal.
    case refused(commit: String?, principal: String, reason: String)
}

/// One commit that changed the desired state, with the people on it, for the four-eyes rule.
public struct DesiredStateChange: Sendable, Hashable {
    public var commit: String
    public var author: PersonIdentity
    public var committer: PersonIdentity
    /// Whether the commit is signed by a key the host trusts for the approver in question.
    public var signedByApprover: Bool

    public init(commit: String, author: PersonIdentity, committer: PersonIdentity, signedByApprover: Bool) {
        self.commit = commit
        self.author = author
        self.committer = committer
        self.signedByApprover = signedByApprover
    }
}

/// Checks approvals against the keys the host pins (`allowed_signers`), and who changed what.
public protocol ApprovalVerifier: Sendable {
    /// Whether approvals are checked at all on this host.
    var isConfigured: Bool { get }
    /// Who signed the commit that added `path` (and every later commit that touched it), as
    /// `principal`, in the history of `tip`.
    func check(approvalAt path: String, principal: String, tip: String) -> ApprovalCheck
    /// The commits after `after` (or from the start) up to `upTo` that changed `lvx.yaml` or
    /// `profiles/`, with whether `approver` signed each.
    func desiredStateChanges(
        after: String?,
        upTo: String,
        approver: String
    ) throws(RepositoryError)
        -> [DesiredStateChange]
}
