import Foundation
import LVXCore
import LVXSSH
import LVXTestSupport
import Testing

@testable import LVXGit

/// An ed25519 key made by `ssh-keygen -t ed25519 -N ''`, and an allowed signers file naming it.
struct SigningKey {
    /// The private key file; the public key is next to it with `.pub`.
    var file: String
    /// The public key line.
    var publicKey: String
    /// `principal publicKey`, written to `allowed_signers` in the same directory.
    var allowedSigners: String

    init(_ principal: String, in directory: TemporaryDirectory) throws {
        file = directory(principal + ".key")
        let made = try run(
            "/usr/bin/ssh-keygen",
            ["-q", "-t", "ed25519", "-N", "", "-C", principal, "-f", file],
            environment: gitEnvironment(home: directory.path)
        )
        guard made.status == 0 else { throw CommandFailure(description: "ssh-keygen: \(made.error)") }
        publicKey = try read(file + ".pub").trimmingCharacters(in: .whitespacesAndNewlines)
        allowedSigners = directory(principal + ".allowed_signers")
        try write("\(principal) \(publicKey)\n", to: allowedSigners)
    }
}

/// Makes real git check SSH signatures in `repository` against `key`'s allowed signers file.
func trustForGit(_ key: SigningKey, in repository: String) throws {
    try git("config", "gpg.format", "ssh", in: repository)
    try git("config", "gpg.ssh.allowedSignersFile", key.allowedSigners, in: repository)
}

extension GitTests {
    /// Signed commits (through a signer closure, and by `git commit -S`), reading signatures,
    /// and the history queries of approvals and four eyes.
    @Suite struct SigningTests {
        let alice = GitIdentity(name: "Alice Example", email: "alice@example.com")

        @Test("a commit signed through the signer is shown by git as signed, and reads back")
        func signedCommitIsVerifiedByGit() throws {
            let directory = try TemporaryDirectory()
            let path = try makeDesiredStateRepository(in: directory)
            let key = try SigningKey("alice", in: directory)
            let repository = try GitRepository.open(path: path)
            let keygen = SSHKeygen()
            let signed = Calls()
            let id = try repository.commit(
                files: ["approvals/shed-1.yaml": bytes("plan: shed-1\nby: alice\n")],
                message: "approve shed-1",
                author: alice,
                time: fixedTime,
                signer: { buffer in
                    signed.record(buffer.count)
                    return try keygen.sign(data: buffer, keyFile: key.file)
                }
            )
            #expect(signed.count == 1)
            #expect(try git("rev-parse", "HEAD", in: path) == id)
            try trustForGit(key, in: path)
            let verified = try run(
                "/usr/bin/git",
                ["verify-commit", "-v", id],
                environment: gitEnvironment(home: path),
                in: path
            )
            #expect(verified.status == 0)
            #expect(verified.error.contains("Good \"git\" signature for alice with ED25519 key SHA256:"))
            #expect(
                try git("log", "-1", "--format=%G?|%GS|%an <%ae>|%cn <%ce>", in: path)
                    == "G|alice|Alice Example <alice@example.com>|Alice Example <alice@example.com>"
            )
            #expect(
                try git("log", "-1", "--show-signature", "--format=%s", in: path)
                    .contains("Good \"git\" signature for alice with ED25519 key SHA256:")
            )
            #expect(try git("fsck", "--strict", "--no-dangling", in: path) == "")
            #expect(try git("status", "--porcelain", "--untracked-files=all", in: path) == "")

            let signature = try #require(try repository.signature(of: id))
            #expect(signature.signature.hasPrefix("-----BEGIN SSH SIGNATURE-----"))
            let result = keygen.verify(
                data: signature.signedData,
                signature: signature.signature,
                principal: "alice",
                allowedSigners: key.allowedSigners,
                verifyTime: fixedTime
            )
            #expect(result.isGood)
            let info = try repository.commitInfo(id)
            #expect(info.isSigned)
            #expect(info.author == GitPerson(identity: alice, time: fixedTime))
            #expect(info.committer == GitPerson(identity: alice, time: fixedTime))
            #expect(info.summary == "approve shed-1")
            #expect(info.parents == [try git("rev-parse", "HEAD^", in: path)])
            // The parent was made by git without signing.
            #expect(try repository.signature(of: "HEAD^") == nil)
            #expect(!(try repository.commitInfo("HEAD^").isSigned))
        }

        @Test("a commit rebuilt because the branch moved is signed again over its new content")
        func retrySignsAgain() throws {
            let directory = try TemporaryDirectory()
            let path = try makeDesiredStateRepository(in: directory)
            let key = try SigningKey("alice", in: directory)
            let repository = try GitRepository.open(path: path)
            repository.beforeRefUpdate = { attempt in
                guard attempt == 1 else { return }
                try? write("from a person\n", to: path + "/notes.txt")
                _ = try? git("add", "notes.txt", in: path)
                _ = try? git("commit", "-q", "-m", "a person's commit", in: path)
            }
            let signed = Calls()
            let id = try repository.commit(
                files: ["approvals/shed-1.yaml": bytes("by: alice\n")],
                message: "approve",
                author: alice,
                time: fixedTime,
                signer: { buffer in
                    signed.record(buffer.count)
                    return try SSHKeygen().sign(data: buffer, keyFile: key.file)
                }
            )
            #expect(signed.count == 2)
            #expect(try git("log", "--format=%s", "-2", in: path) == "approve\na person's commit")
            try trustForGit(key, in: path)
            #expect(try git("log", "-1", "--format=%G?", id, in: path) == "G")
        }

        @Test("a signer that fails commits nothing and is named")
        func failingSigner() throws {
            let directory = try TemporaryDirectory()
            let path = try makeDesiredStateRepository(in: directory)
            let before = try git("rev-parse", "HEAD", in: path)
            let repository = try GitRepository.open(path: path)
            let error = try #require(throws: GitError.self) {
                try repository.commit(
                    files: ["approvals/a.yaml": bytes("a\n")],
                    message: "approve",
                    author: alice,
                    time: fixedTime,
                    signer: { _ in
                        try SSHKeygen().sign(data: [], keyFile: directory("missing.key"))
                    }
                )
            }
            #expect(error.code == .signingFailed)
            #expect(
                error.message.hasPrefix(
                    "could not sign the commit in \(path): cannot sign with \(directory("missing.key")): "
                )
            )
            #expect(try git("rev-parse", "HEAD", in: path) == before)
            #expect(try git("status", "--porcelain", "--untracked-files=all", in: path) == "")
        }

        @Test("an unsigned commit can name a person; the default stays lvx")
        func unsignedWithIdentity() throws {
            let directory = try TemporaryDirectory()
            let path = try makeDesiredStateRepository(in: directory)
            let repository = try GitRepository.open(path: path)
            _ = try repository.commit(
                files: ["a.txt": bytes("a\n")],
                message: "by alice",
                author: alice,
                committer: GitIdentity(name: "lvx on shed", email: "lvx@shed"),
                time: fixedTime
            )
            #expect(
                try git("log", "-1", "--format=%an <%ae>|%cn <%ce>|%G?", in: path)
                    == "Alice Example <alice@example.com>|lvx on shed <lvx@shed>|N"
            )
            _ = try repository.commit(files: ["b.txt": bytes("b\n")], message: "by lvx", time: fixedTime)
            #expect(
                try git("log", "-1", "--format=%an <%ae>|%cn <%ce>", in: path)
                    == "lvx <lvx@localhost>|lvx <lvx@localhost>"
            )
        }

        @Test("a commit signed by git commit -S is read back and verifies with ssh-keygen")
        func gitSignedCommitVerifies() throws {
            let directory = try TemporaryDirectory()
            let path = try makeDesiredStateRepository(in: directory)
            let key = try SigningKey("alice", in: directory)
            try trustForGit(key, in: path)
            try git("config", "user.signingkey", key.file, in: path)
            try write("plan: shed-1\nby: alice\n", to: path + "/approvals/shed-1.yaml")
            try git("add", "approvals/shed-1.yaml", in: path)
            try git("commit", "-q", "-S", "-m", "approve shed-1 with git", in: path)
            #expect(try git("log", "-1", "--format=%G?", in: path) == "G")

            let repository = try GitRepository.open(path: path)
            let signature = try #require(try repository.signature(of: "HEAD"))
            let info = try repository.commitInfo("HEAD")
            #expect(info.isSigned)
            #expect(info.author.identity == GitIdentity(name: "Test User", email: "test@example.com"))
            let keygen = SSHKeygen()
            let good = keygen.verify(
                data: signature.signedData,
                signature: signature.signature,
                principal: "alice",
                allowedSigners: key.allowedSigners,
                verifyTime: info.committer.time
            )
            guard case .good("alice", let fingerprint) = good else {
                Issue.record("expected a good signature, got \(good)")
                return
            }
            #expect(fingerprint.hasPrefix("SHA256:"))
            // The signed data is the commit without its signature: changing it breaks the signature.
            let forged = keygen.verify(
                data: signature.signedData + bytes("x"),
                signature: signature.signature,
                principal: "alice",
                allowedSigners: key.allowedSigners
            )
            #expect(forged == .failed(.badSignature(detail: "signature verification failed: incorrect signature")))
        }
    }
}

/// Counts calls of a closure.
final class Calls: @unchecked Sendable {
    private let lock = NSLock()
    private var sizes: [Int] = []

    func record(_ size: Int) {
        lock.lock()
        sizes.append(size)
        lock.unlock()
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return sizes.count
    }
}
