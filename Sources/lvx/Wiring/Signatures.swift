import ArgumentParser
import Foundation
import LVXCore
import LVXGit
import LVXSSH

/// The keys this host trusts for approvals: pinned outside the repository, so a pusher cannot
/// change them.
struct TrustOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The OpenSSH allowed_signers file of the people who may approve (default: LVX_ALLOWED_SIGNERS, else /etc/lvx/allowed_signers); 'none' says approvals are deliberately not authenticated here.",
            valueName: "file"
        )
    )
    var allowedSigners: String?

    @Option(
        help: ArgumentHelp(
            "Revoked keys (a KRL or public keys; default: LVX_REVOKED_KEYS, else /etc/lvx/revoked_keys when it exists).",
            valueName: "file"
        )
    )
    var revokedKeys: String?

    static let defaultAllowedSigners = "/etc/lvx/allowed_signers"
    static let defaultRevokedKeys = "/etc/lvx/revoked_keys"

    var allowedSignersPath: String {
        allowedSigners ?? ProcessInfo.processInfo.environment["LVX_ALLOWED_SIGNERS"] ?? Self.defaultAllowedSigners
    }

    /// `none`: the host owner chose unauthenticated approvals, so nothing warns about it.
    var isDeclined: Bool { allowedSignersPath == "none" }

    var revokedKeysPath: String? {
        if let revokedKeys { return revokedKeys }
        if let env = ProcessInfo.processInfo.environment["LVX_REVOKED_KEYS"] { return env }
        return FileManager.default.fileExists(atPath: Self.defaultRevokedKeys) ? Self.defaultRevokedKeys : nil
    }

    /// Says that approvals are not authenticated (no allowed-signers file is configured).
    func warnUnauthenticated() {
        guard !isDeclined else { return }
        Terminal.standardError.warning(
            "approvals are not authenticated: there is no allowed signers file at \(allowedSignersPath) (--allowed-signers or LVX_ALLOWED_SIGNERS); see Docs/Operations.md"
        )
    }
}

/// Checks approvals with OpenSSH's `ssh-keygen -Y verify`, against the pinned allowed signers.
struct SignatureVerifier: ApprovalVerifier {
    let repository: GitRepository
    let allowedSigners: String
    let revokedKeys: String?
    var keygen = SSHKeygen()

    var isConfigured: Bool { FileManager.default.fileExists(atPath: allowedSigners) }

    func check(approvalAt path: String, principal: String, tip: String) -> ApprovalCheck {
        guard isConfigured else { return .notConfigured }
        let added: String
        do {
            guard let found = try repository.commitThatAdded(path: path, reachableFrom: tip) else {
                return .refused(commit: nil, principal: principal, reason: "no commit in history adds \(path)")
            }
            added = found
            // A later commit that edits the file would ride on the signed one.
            let touching = try repository.commits(touching: [path], after: added, upTo: tip)
            if let later = touching.first(where: { $0.id != added }) {
                return .refused(
                    commit: later.id,
                    principal: principal,
                    reason:
                        "\(path) was changed after it was added, by \(later.author.identity) in commit \(later.id.prefix(12))"
                )
            }
        } catch {
            return .refused(
                commit: nil,
                principal: principal,
                reason: "its history cannot be read: \(error.description)"
            )
        }
        guard let signed = try? repository.signature(of: added) else {
            return .refused(commit: added, principal: principal, reason: SSHVerificationFailure.unsigned.reason)
        }
        let time = try? repository.commitInfo(added).committer.time
        switch keygen.verify(
            data: signed.signedData,
            signature: signed.signature,
            principal: principal,
            allowedSigners: allowedSigners,
            revokedKeys: revokedKeys,
            verifyTime: time
        ) {
        case .good(let who, let key): return .verified(commit: added, principal: who, key: key)
        case .failed(let failure): return .refused(commit: added, principal: principal, reason: failure.reason)
        }
    }

    func desiredStateChanges(
        after: String?,
        upTo: String,
        approver: String
    ) throws(RepositoryError)
        -> [DesiredStateChange]
    {
        let commits: [GitCommitInfo]
        do {
            commits = try repository.commits(touching: ["lvx.yaml", "profiles/"], after: after, upTo: upTo)
        } catch {
            throw RepositoryError(error.description)
        }
        return commits.map { info in
            var signedByApprover = false
            if isConfigured, info.isSigned, let signed = try? repository.signature(of: info.id) {
                signedByApprover =
                    keygen.verify(
                        data: signed.signedData,
                        signature: signed.signature,
                        principal: approver,
                        allowedSigners: allowedSigners,
                        revokedKeys: revokedKeys,
                        verifyTime: info.committer.time
                    ).isGood
            }
            return DesiredStateChange(
                commit: info.id,
                author: PersonIdentity(name: info.author.identity.name, email: info.author.identity.email),
                committer: PersonIdentity(name: info.committer.identity.name, email: info.committer.identity.email),
                signedByApprover: signedByApprover
            )
        }
    }
}

/// Signs an approval with the reviewer's SSH key, as `git commit -S` does with `gpg.format=ssh`.
struct SSHApprovalSigner: ApprovalSigner {
    let identity: PersonIdentity
    let keyFile: String
    var keygen = SSHKeygen()

    func sign(_ commitBuffer: [UInt8]) throws -> String {
        do {
            return try keygen.sign(data: commitBuffer, keyFile: keyFile)
        } catch {
            throw CLIError(error.message, hint: error.hint)
        }
    }

    /// The reviewer's signer, or `nil` when there is no key.
    ///
    /// The key is `--key`, else git's `user.signingkey` when `gpg.format` is `ssh`; the identity is
    /// git's `user.name` and `user.email`.
    static func reviewer(key: String?, approver: String, repositoryPath: String) -> SSHApprovalSigner? {
        func config(_ name: String) -> String? { GitConfig.value(name, in: repositoryPath) }
        var keyFile = key
        if keyFile == nil, config("gpg.format") == "ssh" { keyFile = config("user.signingkey") }
        guard var keyFile, !keyFile.isEmpty else { return nil }
        if keyFile.hasPrefix("~/") { keyFile = NSHomeDirectory() + String(keyFile.dropFirst(1)) }
        let identity = PersonIdentity(name: config("user.name") ?? approver, email: config("user.email") ?? approver)
        return SSHApprovalSigner(identity: identity, keyFile: keyFile)
    }
}

/// A person's git settings, read with git itself (lvx's libgit2 ignores ~/.gitconfig on purpose).
enum GitConfig {
    static func value(_ name: String, in directory: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = ["-C", directory, "config", "--get", name]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}
