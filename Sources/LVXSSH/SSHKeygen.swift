internal import Foundation
internal import Glibc
public import LVXCore

/// OpenSSH's `ssh-keygen`, run as a child process to make and check SSH signatures (`SSHSIG`) the
/// way git does for `gpg.format=ssh`.
///
/// lvx never computes or parses a signature itself: `-Y sign`, `-Y verify`, `-Y find-principals`
/// and `-Y check-novalidate` do. The program runs with an argument array (never a shell), with the
/// data on standard input, within ``timeout``, and with only the environment in ``environment``.
public struct SSHKeygen: Sendable {
    /// The program, `/usr/bin/ssh-keygen` unless given.
    public var executable: String
    /// How long one run of the program may take before it is killed.
    public var timeout: Duration
    /// Exactly the environment the program gets.
    public var environment: [String: String]

    /// The variables passed through from lvx's environment by default: the agent's socket (a key
    /// held by `ssh-agent` signs when `keyFile` is its public key), the passphrase prompt's helpers,
    /// and `HOME`.
    public static let passedThrough = ["SSH_AUTH_SOCK", "SSH_ASKPASS", "SSH_ASKPASS_REQUIRE", "DISPLAY", "HOME"]

    /// Creates an adapter.
    /// - Parameters:
    ///   - executable: the `ssh-keygen` to run.
    ///   - timeout: the limit for each run; a signer typing a passphrase needs it to be generous.
    ///   - environment: the program's environment; by default ``passedThrough`` taken from lvx's own,
    ///     plus `PATH=/usr/bin:/bin` and `LC_ALL=C`.
    public init(
        executable: String = "/usr/bin/ssh-keygen",
        timeout: Duration = .seconds(60),
        environment: [String: String]? = nil
    ) {
        self.executable = executable
        self.timeout = timeout
        self.environment = environment ?? Self.inheritedEnvironment()
    }

    /// ``passedThrough`` from this process's environment, plus `PATH` and `LC_ALL=C`.
    public static func inheritedEnvironment() -> [String: String] {
        let own = ProcessInfo.processInfo.environment
        var environment = ["PATH": "/usr/bin:/bin", "LC_ALL": "C"]
        for name in passedThrough { environment[name] = own[name] }
        return environment
    }

    // MARK: Signing

    /// Signs `data` as git signs a commit: `ssh-keygen -Y sign -n NAMESPACE -f KEY`, data on
    /// standard input.
    ///
    /// When `SSH_AUTH_SOCK` is in ``environment`` and the agent holds the key, the agent signs, so
    /// `keyFile` may be just the public key (`id_ed25519.pub`), as with git's `user.signingkey`.
    /// - Parameters:
    ///   - data: the bytes to sign (for a commit, the buffer of `git_commit_create_buffer`).
    ///   - keyFile: a private key file, or a public key file whose private key is in the agent.
    ///   - namespace: the signature's namespace; `git` for commits.
    /// - Returns: the armored signature, `-----BEGIN SSH SIGNATURE-----` … `-----END SSH SIGNATURE-----`
    ///   and a final newline.
    /// - Throws: ``SSHSigningError`` naming the key file and ssh-keygen's reason.
    public func sign(data: [UInt8], keyFile: String, namespace: String = "git") throws(SSHSigningError) -> String {
        guard !namespace.isEmpty, !keyFile.isEmpty else {
            throw SSHSigningError("cannot sign without a key file and a namespace")
        }
        let outcome: ChildOutcome
        do {
            outcome = try ChildProcess.run(
                executable,
                ["-Y", "sign", "-n", namespace, "-f", keyFile],
                environment: environment,
                input: data,
                timeout: timeout
            )
        } catch {
            switch error {
            case .missing:
                throw SSHSigningError(
                    "cannot sign with \(keyFile): \(executable) is missing",
                    hint: "install OpenSSH's client tools (apt-get install openssh-client)"
                )
            case .timedOut:
                throw SSHSigningError(
                    "cannot sign with \(keyFile): ssh-keygen did not finish within \(timeout)",
                    hint: "check that the key's passphrase prompt or the agent is answering"
                )
            case .system(let detail):
                throw SSHSigningError("cannot sign with \(keyFile): \(detail)")
            }
        }
        let signature = outcome.outputText
        guard outcome.status == 0, signature.hasPrefix(Self.armorHeader) else {
            throw SSHSigningError(
                "cannot sign with \(keyFile): \(Self.detail(outcome))",
                hint: "check that \(keyFile) is a private key, or a public key whose private key is in ssh-agent"
            )
        }
        return signature
    }

    // MARK: Verifying

    /// Checks that `signature` over `data` was made by a key that `allowedSigners` grants to
    /// `principal`, as git does for `gpg.format=ssh`.
    ///
    /// The verdict is `ssh-keygen -Y verify -n NAMESPACE -f ALLOWED -I PRINCIPAL -s SIG [-r REVOKED]
    /// -Overify-time=TIME`. When it fails, further runs tell why: `-Y check-novalidate` (is the
    /// signature itself sound, and by which key), the same verify without `-r` (revoked), and
    /// `-Y find-principals` (whose key it is). They explain; only the first run can say `.good`.
    ///
    /// - Parameters:
    ///   - data: the signed bytes (for a commit, `git_commit_extract_signature`'s signed data).
    ///   - signature: the armored signature; empty means unsigned.
    ///   - principal: who must have signed, as named in `allowedSigners`.
    ///   - allowedSigners: an OpenSSH allowed signers file (`principals [options] keytype key`).
    ///   - revokedKeys: a KRL or a file of revoked public keys; an unreadable one refuses.
    ///   - namespace: the namespace the signature must carry; `git` for commits.
    ///   - verifyTime: the moment the key must be valid at (`valid-after`/`valid-before`); git uses
    ///     the committer time. `nil` means now. Passed as UTC (`-Overify-time=YYYYMMDDHHMMSSZ`).
    /// - Returns: `.good` with the principal and the key's `SHA256:` fingerprint, or why not.
    public func verify(
        data: [UInt8],
        signature: String,
        principal: String,
        allowedSigners: String,
        revokedKeys: String? = nil,
        namespace: String = "git",
        verifyTime: WallTime? = nil
    ) -> SSHVerification {
        do throws(SSHVerificationFailure) {
            return try checkedVerify(
                data: data,
                signature: signature,
                principal: principal,
                allowedSigners: allowedSigners,
                revokedKeys: revokedKeys,
                namespace: namespace,
                verifyTime: verifyTime
            )
        } catch {
            return .failed(error)
        }
    }

    private func checkedVerify(
        data: [UInt8],
        signature: String,
        principal: String,
        allowedSigners: String,
        revokedKeys: String?,
        namespace: String,
        verifyTime: WallTime?
    ) throws(SSHVerificationFailure) -> SSHVerification {
        if signature.allSatisfy(\.isWhitespace) { throw .unsigned }
        guard signature.contains(Self.armorHeader) else {
            throw .malformedSignature(detail: "no \(Self.armorHeader) line")
        }
        guard Self.isPlainPrincipal(principal) else { throw .invalidPrincipal(principal) }
        guard access(allowedSigners, R_OK) == 0 else { throw .allowedSignersUnreadable(path: allowedSigners) }
        if let revokedKeys, access(revokedKeys, R_OK) != 0 { throw .revokedKeysUnreadable(path: revokedKeys) }

        let scratch = try Scratch()
        let signatureFile = try scratch.write("signature", signature)
        let time = verifyTime.map { ["-Overify-time=" + Self.utcTimestamp($0)] } ?? []

        func verifyRun(revoked: String?) throws(SSHVerificationFailure) -> ChildOutcome {
            var arguments = [
                "-Y", "verify", "-n", namespace, "-f", allowedSigners, "-I", principal, "-s", signatureFile,
            ]
            if let revoked { arguments += ["-r", revoked] }
            return try run(arguments + time, input: data)
        }

        let verdict = try verifyRun(revoked: revokedKeys)
        if verdict.status == 0 {
            guard let good = Self.parseGood(verdict.outputText, namespace: namespace) else {
                throw .toolFailed(detail: "unexpected output from ssh-keygen -Y verify: \(Self.detail(verdict))")
            }
            guard good.principal == principal else {
                throw .toolFailed(detail: "ssh-keygen -Y verify named \(good.principal), not \(principal)")
            }
            return .good(principal: good.principal, keyFingerprint: good.keyFingerprint)
        }
        guard verdict.status == 255 else { throw .toolFailed(detail: Self.detail(verdict)) }

        // Is the signature itself sound, and whose key made it?
        let sound = try run(["-Y", "check-novalidate", "-n", namespace, "-s", signatureFile], input: data)
        guard sound.status == 0, let key = Self.parseGood(sound.outputText, namespace: namespace)?.keyFingerprint
        else {
            throw Self.unsound(sound.status == 255 ? sound.errorText : Self.detail(sound))
        }
        // The key matched this principal's line but not at the verify time.
        for line in Self.lines(verdict.errorText) {
            if line.contains("key has expired") {
                throw .keyExpired(principal: principal, keyFingerprint: key, detail: Self.afterColon(line))
            }
            if line.contains("key is not yet valid") {
                throw .keyNotYetValid(principal: principal, keyFingerprint: key, detail: Self.afterColon(line))
            }
        }
        if revokedKeys != nil, try verifyRun(revoked: nil).status == 0 {
            throw .revokedKey(principal: principal, keyFingerprint: key)
        }
        let owners = try run(["-Y", "find-principals", "-f", allowedSigners, "-s", signatureFile] + time, input: [])
        let signers = owners.status == 0 ? Self.lines(owners.outputText) : []
        if signers.isEmpty { throw .unknownKey(keyFingerprint: key) }
        if !signers.contains(principal) {
            throw .wrongPrincipal(expected: principal, signers: signers, keyFingerprint: key)
        }
        throw .toolFailed(detail: Self.detail(verdict))
    }

    /// Runs ssh-keygen for verification, turning a failure to run it into a failure case.
    private func run(_ arguments: [String], input: [UInt8]) throws(SSHVerificationFailure) -> ChildOutcome {
        do {
            return try ChildProcess.run(
                executable,
                arguments,
                environment: environment,
                input: input,
                timeout: timeout
            )
        } catch {
            switch error {
            case .missing: throw .toolMissing(path: executable)
            case .timedOut: throw .toolFailed(detail: "it did not finish within \(timeout)")
            case .system(let detail): throw .toolFailed(detail: detail)
            }
        }
    }

    // MARK: ssh-keygen's words

    static let armorHeader = "-----BEGIN SSH SIGNATURE-----"

    /// Parses `Good "git" signature for alice with ED25519 key SHA256:…` (verify) or
    /// `Good "git" signature with ED25519 key SHA256:…` (check-novalidate; principal empty).
    static func parseGood(_ output: String, namespace: String) -> (principal: String, keyFingerprint: String)? {
        let prefix = "Good \"\(namespace)\" signature "
        guard let line = lines(output).first(where: { $0.hasPrefix(prefix) }),
            let keyRange = line.range(of: " key ", options: .backwards)
        else { return nil }
        let key = String(line[keyRange.upperBound...])
        guard key.hasPrefix("SHA256:"), !key.contains(" ") else { return nil }
        var principal = ""
        let rest = line.dropFirst(prefix.count)
        if rest.hasPrefix("for "), let with = rest.range(of: " with ", options: .backwards) {
            principal = String(rest[rest.index(rest.startIndex, offsetBy: 4)..<with.lowerBound])
        }
        return (principal, key)
    }

    /// The failure for a signature that `check-novalidate` rejects, from its standard error.
    static func unsound(_ error: String) -> SSHVerificationFailure {
        let said = lines(error).filter { $0 != "Could not verify signature." }
        let detail = said.first.map(lowercasedFirst) ?? "ssh-keygen could not verify it"
        if said.contains(where: { $0.contains("incorrect signature") || $0.contains("namespace does not match") }) {
            return .badSignature(detail: detail)
        }
        return .malformedSignature(detail: detail)
    }

    /// A principal an allowed signers file can hold, given with `-I`: no white space, commas,
    /// quotes or pattern characters.
    static func isPlainPrincipal(_ principal: String) -> Bool {
        !principal.isEmpty && !principal.hasPrefix("-")
            && principal.unicodeScalars.allSatisfy { scalar in
                scalar.value > 0x20 && scalar.value != 0x7f && !",\"'*?!".unicodeScalars.contains(scalar)
            }
    }

    /// `20231114221320Z` for 2023-11-14 22:13:20 UTC.
    static func utcTimestamp(_ time: WallTime) -> String {
        var seconds = time_t(time.secondsSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))"
            + "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }

    static func lines(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// `key has expired: verify time …` from `allowed:1: key has expired: verify time …`.
    private static func afterColon(_ line: String) -> String {
        guard let range = line.range(of: "key ") else { return line }
        return String(line[range.lowerBound...])
    }

    private static func lowercasedFirst(_ text: String) -> String {
        guard let first = text.first else { return text }
        return first.lowercased() + text.dropFirst()
    }

    /// ssh-keygen's standard error (or its exit), in one line.
    static func detail(_ outcome: ChildOutcome) -> String {
        let said = lines(outcome.errorText).filter { $0 != "Signing data on standard input" }
        if !said.isEmpty { return said.map(lowercasedFirst).joined(separator: "; ") }
        return outcome.status.map { "ssh-keygen exited with status \($0)" } ?? "ssh-keygen was killed by a signal"
    }
}

/// A private temporary directory (mode 0700) for the files ssh-keygen reads, removed afterwards.
private final class Scratch {
    let path: String

    init() throws(SSHVerificationFailure) {
        var template = Array((NSTemporaryDirectory() + "/lvx-ssh-XXXXXX").utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) }.map { String(cString: $0) }
        }
        guard let created else { throw .toolFailed(detail: "cannot create a temporary directory: errno \(errno)") }
        path = created
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ name: String, _ text: String) throws(SSHVerificationFailure) -> String {
        let file = path + "/" + name
        guard FileManager.default.createFile(atPath: file, contents: Data(text.utf8)) else {
            throw .toolFailed(detail: "cannot write \(file)")
        }
        return file
    }
}
