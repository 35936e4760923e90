/// What `ssh-keygen -Y verify` made of a signature, for one expected principal.
public enum SSHVerification: Sendable, Hashable {
    /// The signature is valid, by a key that `allowed_signers` grants to `principal`, valid at the
    /// verify time and not revoked.
    case good(principal: String, keyFingerprint: String)
    /// The signature does not count; the failure says why.
    case failed(SSHVerificationFailure)

    /// Whether the signature counts.
    public var isGood: Bool {
        if case .good = self { return true }
        return false
    }
}

/// Why a signature does not count.
///
/// Each case's ``reason`` is a lower-case clause that completes "the approval in commit C is
/// refused: …". The first nine are refusals of the signature; the last four mean lvx could not
/// check it (a missing or broken tool, or an unreadable trust file) and say what to fix.
public enum SSHVerificationFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// There is no signature at all.
    case unsigned
    /// The signature is not an armored SSH signature (`-----BEGIN SSH SIGNATURE-----`), or is
    /// corrupt; `detail` is ssh-keygen's own word when it gave one.
    case malformedSignature(detail: String)
    /// The signature does not match the signed data (the data was changed after signing), or it
    /// was made for another namespace than the one asked for.
    case badSignature(detail: String)
    /// The signing key is not in the allowed signers file for any principal.
    case unknownKey(keyFingerprint: String)
    /// The signing key belongs to `signers` in the allowed signers file, not to `expected`.
    case wrongPrincipal(expected: String, signers: [String], keyFingerprint: String)
    /// The key's `valid-before` in the allowed signers file lies before the verify time.
    case keyExpired(principal: String, keyFingerprint: String, detail: String)
    /// The key's `valid-after` in the allowed signers file lies after the verify time.
    case keyNotYetValid(principal: String, keyFingerprint: String, detail: String)
    /// The key is listed in the revoked keys file.
    case revokedKey(principal: String, keyFingerprint: String)
    /// The principal cannot appear in an allowed signers file (empty, or holding white space,
    /// a comma, a quote or a pattern character).
    case invalidPrincipal(String)
    /// The allowed signers file cannot be read.
    case allowedSignersUnreadable(path: String)
    /// The revoked keys file cannot be read (lvx refuses rather than ignore a revocation list).
    case revokedKeysUnreadable(path: String)
    /// `ssh-keygen` is not installed where lvx looks for it.
    case toolMissing(path: String)
    /// `ssh-keygen` timed out, crashed or said something lvx does not understand.
    case toolFailed(detail: String)

    /// Whether this is a verdict on the signature (`true`) rather than a failure to check it.
    public var isRefusal: Bool {
        switch self {
        case .unsigned, .malformedSignature, .badSignature, .unknownKey, .wrongPrincipal, .keyExpired,
            .keyNotYetValid, .revokedKey, .invalidPrincipal:
            return true
        case .allowedSignersUnreadable, .revokedKeysUnreadable, .toolMissing, .toolFailed:
            return false
        }
    }

    /// Why the signature does not count, lower-case, without a final full stop.
    public var reason: String {
        switch self {
        case .unsigned:
            return "it is not signed"
        case .malformedSignature(let detail):
            return "its signature is not a valid SSH signature (\(detail))"
        case .badSignature(let detail):
            return "its signature does not match the signed content (\(detail))"
        case .unknownKey(let key):
            return "it is signed by key \(key), which is not in the allowed signers file"
        case .wrongPrincipal(let expected, let signers, let key):
            let owners = signers.isEmpty ? "another principal" : signers.joined(separator: ", ")
            return "it is signed by key \(key) of \(owners), not by \(expected)"
        case .keyExpired(let principal, let key, let detail):
            return "the key \(key) of \(principal) had expired when it was signed (\(detail))"
        case .keyNotYetValid(let principal, let key, let detail):
            return "the key \(key) of \(principal) was not yet valid when it was signed (\(detail))"
        case .revokedKey(let principal, let key):
            return "the key \(key) of \(principal) is revoked"
        case .invalidPrincipal(let principal):
            return "'\(principal)' is not a principal an allowed signers file can name"
        case .allowedSignersUnreadable(let path):
            return "the allowed signers file \(path) cannot be read"
        case .revokedKeysUnreadable(let path):
            return "the revoked keys file \(path) cannot be read"
        case .toolMissing(let path):
            return "\(path) is missing, so no signature can be checked"
        case .toolFailed(let detail):
            return "ssh-keygen failed: \(detail)"
        }
    }

    /// What to do about it, when there is something specific.
    public var hint: String? {
        switch self {
        case .unsigned, .badSignature, .malformedSignature:
            return "approve again with a signing key (git config gpg.format ssh; git config user.signingkey KEY)"
        case .unknownKey, .wrongPrincipal:
            return "add the approver's public key to the allowed signers file under their name"
        case .keyExpired, .keyNotYetValid:
            return "approve again with a key that is valid now, or correct valid-before/valid-after"
        case .revokedKey:
            return "approve again with a key that is not revoked"
        case .invalidPrincipal:
            return "name approvers as the allowed signers file does, without spaces or commas"
        case .allowedSignersUnreadable, .revokedKeysUnreadable:
            return "check that the file exists and that lvx's user can read it"
        case .toolMissing:
            return "install OpenSSH's client tools (apt-get install openssh-client)"
        case .toolFailed:
            return nil
        }
    }

    /// The reason, followed by the hint after `; ` when there is one.
    public var description: String { hint.map { "\(reason); \($0)" } ?? reason }
}

/// A failure to sign.
public struct SSHSigningError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, lower-case.
    public var message: String
    /// What the user can do about it, if there is something specific.
    public var hint: String?

    /// Creates an error.
    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }

    /// The message, followed by the hint after `; ` when there is one.
    public var description: String { hint.map { "\(message); \($0)" } ?? message }
}
