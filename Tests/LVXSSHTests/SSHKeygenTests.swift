import Foundation
import LVXCore
import LVXTestSupport
import Testing

@testable import LVXSSH

/// Signing and verifying with the real `/usr/bin/ssh-keygen` and keys made for each test.
@Suite struct SSHKeygenTests {
    let directory: TemporaryDirectory
    let alice: TestKey
    let bob: TestKey
    let data = bytes("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\napprove plan shed-1\n")
    /// 2024-01-01 00:00:00 UTC.
    let january2024 = WallTime(secondsSince1970: 1_704_067_200)

    init() throws {
        directory = try TemporaryDirectory()
        alice = try TestKey("alice", in: directory)
        bob = try TestKey("bob", in: directory)
    }

    /// An allowed signers file with `lines`.
    func allowedSigners(_ lines: String...) throws -> String {
        let file = directory("allowed_signers")
        try write(lines.joined(separator: "\n") + "\n", to: file)
        return file
    }

    @Test("a signature by a pinned key verifies as git's would, with the key's fingerprint")
    func good() throws {
        let keygen = SSHKeygen()
        let signature = try keygen.sign(data: data, keyFile: alice.privateFile)
        #expect(signature.hasPrefix("-----BEGIN SSH SIGNATURE-----\n"))
        #expect(signature.hasSuffix("-----END SSH SIGNATURE-----\n"))
        let allowed = try allowedSigners("alice \(alice.publicKey)", "bob \(bob.publicKey)")
        let result = keygen.verify(data: data, signature: signature, principal: "alice", allowedSigners: allowed)
        #expect(result == .good(principal: "alice", keyFingerprint: alice.fingerprint))
        #expect(alice.fingerprint.hasPrefix("SHA256:"))
        // The same, with the verify time and an empty revocation list.
        let revoked = directory("revoked_keys")
        try write("", to: revoked)
        #expect(
            keygen.verify(
                data: data,
                signature: signature,
                principal: "alice",
                allowedSigners: allowed,
                revokedKeys: revoked,
                verifyTime: january2024
            ) == .good(principal: "alice", keyFingerprint: alice.fingerprint)
        )
    }

    @Test("changed data is a bad signature")
    func tampered() throws {
        let keygen = SSHKeygen()
        let signature = try keygen.sign(data: data, keyFile: alice.privateFile)
        let allowed = try allowedSigners("alice \(alice.publicKey)")
        let result = keygen.verify(
            data: data + bytes("x"),
            signature: signature,
            principal: "alice",
            allowedSigners: allowed
        )
        #expect(result == .failed(.badSignature(detail: "signature verification failed: incorrect signature")))
    }

    @Test("a signature in another namespace is a bad signature")
    func otherNamespace() throws {
        let keygen = SSHKeygen()
        let signature = try keygen.sign(data: data, keyFile: alice.privateFile, namespace: "file")
        let allowed = try allowedSigners("alice \(alice.publicKey)")
        let result = keygen.verify(data: data, signature: signature, principal: "alice", allowedSigners: allowed)
        #expect(
            result == .failed(.badSignature(detail: "couldn't verify signature: namespace does not match"))
        )
    }

    @Test("a key that no principal holds is unknown")
    func unknownKey() throws {
        let keygen = SSHKeygen()
        let signature = try keygen.sign(data: data, keyFile: alice.privateFile)
        let allowed = try allowedSigners("bob \(bob.publicKey)")
        let result = keygen.verify(data: data, signature: signature, principal: "alice", allowedSigners: allowed)
        #expect(result == .failed(.unknownKey(keyFingerprint: alice.fingerprint)))
        #expect(
            SSHVerificationFailure.unknownKey(keyFingerprint: alice.fingerprint).reason
                == "it is signed by key \(alice.fingerprint), which is not in the allowed signers file"
        )
    }

    @Test("another principal's key is the wrong principal")
    func wrongPrincipal() throws {
        let keygen = SSHKeygen()
        let signature = try keygen.sign(data: data, keyFile: alice.privateFile)
        let allowed = try allowedSigners("alice \(alice.publicKey)", "bob \(bob.publicKey)")
        let result = keygen.verify(data: data, signature: signature, principal: "bob", allowedSigners: allowed)
        let failure = SSHVerificationFailure.wrongPrincipal(
            expected: "bob",
            signers: ["alice"],
            keyFingerprint: alice.fingerprint
        )
        #expect(result == .failed(failure))
        #expect(failure.reason == "it is signed by key \(alice.fingerprint) of alice, not by bob")
    }

    @Test("a key past its valid-before at the verify time has expired; before it, it verifies")
    func expired() throws {
        let keygen = SSHKeygen()
        let signature = try keygen.sign(data: data, keyFile: alice.privateFile)
        let allowed = try allowedSigners("alice valid-before=\"20200101\" \(alice.publicKey)")
        let result = keygen.verify(
            data: data,
            signature: signature,
            principal: "alice",
            allowedSigners: allowed,
            verifyTime: january2024
        )
        guard case .failed(.keyExpired(let principal, let key, let detail)) = result else {
            Issue.record("expected keyExpired, got \(result)")
            return
        }
        #expect(principal == "alice")
        #expect(key == alice.fingerprint)
        #expect(detail.hasPrefix("key has expired: verify time 2024-01-01T"))
        // The verify time is what counts, not the clock: at the end of 2019 the key was valid.
        let before = keygen.verify(
            data: data,
            signature: signature,
            principal: "alice",
            allowedSigners: allowed,
            verifyTime: WallTime(secondsSince1970: 1_577_664_000)  // 2019-12-30
        )
        #expect(before == .good(principal: "alice", keyFingerprint: alice.fingerprint))
    }

    @Test("a key before its valid-after is not yet valid")
    func notYetValid() throws {
        let keygen = SSHKeygen()
        let signature = try keygen.sign(data: data, keyFile: alice.privateFile)
        let allowed = try allowedSigners("alice valid-after=\"20300101\" \(alice.publicKey)")
        let result = keygen.verify(
            data: data,
            signature: signature,
            principal: "alice",
            allowedSigners: allowed,
            verifyTime: january2024
        )
        guard case .failed(.keyNotYetValid("alice", alice.fingerprint, let detail)) = result else {
            Issue.record("expected keyNotYetValid, got \(result)")
            return
        }
        #expect(detail.hasPrefix("key is not yet valid: verify time 2024-01-01T"))
    }

    @Test("a key in the revoked keys file is revoked; a missing revoked keys file refuses")
    func revoked() throws {
        let keygen = SSHKeygen()
        let signature = try keygen.sign(data: data, keyFile: alice.privateFile)
        let allowed = try allowedSigners("alice \(alice.publicKey)")
        let revoked = directory("revoked_keys")
        try write(bob.publicKey + "\n" + alice.publicKey + "\n", to: revoked)
        let result = keygen.verify(
            data: data,
            signature: signature,
            principal: "alice",
            allowedSigners: allowed,
            revokedKeys: revoked
        )
        #expect(result == .failed(.revokedKey(principal: "alice", keyFingerprint: alice.fingerprint)))
        let missing = keygen.verify(
            data: data,
            signature: signature,
            principal: "alice",
            allowedSigners: allowed,
            revokedKeys: directory("nope")
        )
        #expect(missing == .failed(.revokedKeysUnreadable(path: directory("nope"))))
    }

    @Test("no signature, a foreign one, a corrupt one, an odd principal, an unreadable trust file")
    func notSigned() throws {
        let keygen = SSHKeygen()
        let allowed = try allowedSigners("alice \(alice.publicKey)")
        func verify(_ signature: String, as principal: String = "alice", allowed: String = allowed) -> SSHVerification {
            keygen.verify(data: data, signature: signature, principal: principal, allowedSigners: allowed)
        }
        #expect(verify("") == .failed(.unsigned))
        #expect(verify("\n") == .failed(.unsigned))
        #expect(
            verify("-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n")
                == .failed(.malformedSignature(detail: "no -----BEGIN SSH SIGNATURE----- line"))
        )
        #expect(
            verify("-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n")
                == .failed(.malformedSignature(detail: "couldn't verify signature: invalid format"))
        )
        let good = try keygen.sign(data: data, keyFile: alice.privateFile)
        #expect(verify(good, as: "alice,bob") == .failed(.invalidPrincipal("alice,bob")))
        #expect(verify(good, as: "*") == .failed(.invalidPrincipal("*")))
        #expect(verify(good, as: "") == .failed(.invalidPrincipal("")))
        #expect(
            verify(good, allowed: directory("missing"))
                == .failed(.allowedSignersUnreadable(path: directory("missing")))
        )
    }

    @Test("a missing ssh-keygen is named, for signing and for verifying")
    func toolMissing() throws {
        let keygen = SSHKeygen(executable: directory("no-ssh-keygen"))
        #expect(
            throws: SSHSigningError(
                "cannot sign with \(alice.privateFile): \(directory("no-ssh-keygen")) is missing",
                hint: "install OpenSSH's client tools (apt-get install openssh-client)"
            )
        ) {
            try keygen.sign(data: data, keyFile: alice.privateFile)
        }
        let allowed = try allowedSigners("alice \(alice.publicKey)")
        let signature = try SSHKeygen().sign(data: data, keyFile: alice.privateFile)
        let result = keygen.verify(data: data, signature: signature, principal: "alice", allowedSigners: allowed)
        #expect(result == .failed(.toolMissing(path: directory("no-ssh-keygen"))))
        guard case .failed(let failure) = result else { return }
        #expect(!failure.isRefusal)
    }

    @Test("a key file that does not exist is named with ssh-keygen's reason")
    func missingKey() throws {
        let keygen = SSHKeygen()
        // ssh-keygen exits without reading its input; 4 MiB of it cannot fit in the socket buffer,
        // so this also proves the unread rest raises no SIGPIPE in the caller.
        let large = [UInt8](repeating: 0x61, count: 4 << 20)
        let error = try #require(throws: SSHSigningError.self) {
            try keygen.sign(data: large, keyFile: directory("nokey"))
        }
        #expect(
            error.message
                == "cannot sign with \(directory("nokey")): couldn't load public key \(directory("nokey")): "
                + "No such file or directory"
        )
    }

    @Test("a program that does not finish is killed at the deadline")
    func timeout() throws {
        // The script is written by a child shell: a file this process wrote could fail to run with
        // ETXTBSY while a parallel test's fork still held the descriptor it was written through.
        let script = directory("slow-keygen")
        let made = try run(
            "/bin/sh",
            ["-c", "printf '#!/bin/sh\\nexec sleep 600\\n' > \"$0\" && chmod 755 \"$0\"", script],
            in: directory.path
        )
        try #require(made.status == 0, "sh: \(made.error)")
        let keygen = SSHKeygen(executable: script, timeout: .milliseconds(300))
        let error = try #require(throws: SSHSigningError.self) {
            try keygen.sign(data: data, keyFile: alice.privateFile)
        }
        #expect(error.message == "cannot sign with \(alice.privateFile): ssh-keygen did not finish within 0.3 seconds")
    }

    @Test("a key held by ssh-agent signs when only its public key file is given")
    func agent() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/ssh-agent"),
            FileManager.default.isExecutableFile(atPath: "/usr/bin/ssh-add")
        else { return }  // no agent on this machine: nothing to prove
        let socket = directory("agent.sock")
        // `ssh-agent -s` forks and prints its pid once the socket listens. It is started through the
        // adapter's runner, which passes it nothing but 0, 1 and 2 (the daemon closes them), so its end
        // of output is seen; Foundation's Process would wait for the daemon to exit.
        let started = try ChildProcess.run(
            "/usr/bin/ssh-agent",
            ["-s", "-a", socket],
            environment: ["PATH": "/usr/bin:/bin"],
            input: [],
            timeout: .seconds(30)
        )
        try #require(started.status == 0, "ssh-agent: \(started.errorText)")
        let assignment = try #require(
            started.outputText.split(whereSeparator: { $0 == ";" || $0.isNewline }).first {
                $0.hasPrefix("SSH_AGENT_PID=")
            }
        )
        let pid = try #require(pid_t(assignment.dropFirst("SSH_AGENT_PID=".count)))
        defer { kill(pid, SIGTERM) }
        let environment = ["PATH": "/usr/bin:/bin", "LC_ALL": "C", "SSH_AUTH_SOCK": socket]
        let added = try run(
            "/usr/bin/ssh-add",
            ["-q", alice.privateFile],
            environment: environment,
            in: directory.path
        )
        try #require(added.status == 0, "ssh-add: \(added.error)")
        // Only the agent has the private key now.
        try FileManager.default.removeItem(atPath: alice.privateFile)

        let withAgent = SSHKeygen(environment: environment)
        let signature = try withAgent.sign(data: data, keyFile: alice.publicFile)
        let allowed = try allowedSigners("alice \(alice.publicKey)")
        #expect(
            SSHKeygen().verify(data: data, signature: signature, principal: "alice", allowedSigners: allowed)
                == .good(principal: "alice", keyFingerprint: alice.fingerprint)
        )
        // Without the agent's socket the public key alone cannot sign.
        #expect(throws: SSHSigningError.self) {
            try SSHKeygen(environment: ["PATH": "/usr/bin:/bin"]).sign(data: data, keyFile: alice.publicFile)
        }
    }

    @Test("verify times are UTC with a Z, as ssh-keygen reads them")
    func utcTimestamp() {
        #expect(
            SSHKeygen.utcTimestamp(WallTime(secondsSince1970: 1_700_000_000, utcOffsetMinutes: 60)) == "20231114221320Z"
        )
        #expect(SSHKeygen.utcTimestamp(WallTime(secondsSince1970: 0)) == "19700101000000Z")
    }
}
