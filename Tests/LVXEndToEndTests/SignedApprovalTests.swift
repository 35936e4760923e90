import Foundation
import LVXCore
import LVXTestSupport
import Testing

/// Approvals that prove who approved: signed with the reviewer's SSH key, checked with OpenSSH's
/// `ssh-keygen` against an allowed-signers file the host pins, four eyes where asked.
@Suite("signed approvals end to end", .enabled(if: Keys.available, "needs /usr/bin/ssh-keygen"))
struct SignedApprovalTests {
    static let drift = ReviewSite.sets([ReviewSite.unit1: ["float_voltage": "54.4"]])

    /// A site whose host pins `signers` (principal -> key name) in an allowed-signers file.
    static func site(
        signers: [String: String] = ["alice": "alice", "bob": "bob"],
        options: [String: String] = [:],
        revoked: [String] = [],
        apply: String = "  stop_units: []\n  plan_lifetime: 24h\n"
    ) throws -> (ReviewSite, Keys) {
        let keys = try Keys(["alice", "bob", "mallory"])
        let site = try ReviewSite(Self.drift, site: ReviewSite.site(apply: apply))
        site.environment["LVX_ALLOWED_SIGNERS"] = try keys.allowedSigners(signers, options: options)
        if !revoked.isEmpty { site.environment["LVX_REVOKED_KEYS"] = try keys.revoked(revoked) }
        return (site, keys)
    }

    /// `lvx plan`, then `lvx approve --by BY --key KEY`; returns the plan id.
    static func approved(_ site: ReviewSite, by: String, key: String?, keys: Keys) throws -> String {
        let id = try site.plan()
        let approve = try site.lvx(["approve", id, "--by", by] + (key.map { ["--key", keys.path($0)] } ?? []))
        #expect(approve.exitCode == 0, "\(approve)")
        return id
    }

    /// Applies `id` and expects a refusal naming `reason`, with no setter sent.
    static func expectRefused(
        _ site: ReviewSite,
        _ id: String,
        _ reason: String,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) throws {
        let commit = site.rev("HEAD")
        let apply = try site.lvx(["apply", id])
        #expect(apply.exitCode == 4, "\(apply)", sourceLocation: sourceLocation)
        let added = try site.repo.git("log", "--format=%H", "--diff-filter=A", "--", "approvals/\(id).yaml")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(
            apply.stderr.hasPrefix(
                "error: the approval of '\(id)' by alice in commit \(added.prefix(12)) is refused: \(reason)"
            ),
            "\(apply)",
            sourceLocation: sourceLocation
        )
        #expect(site.sim.settersReceived.isEmpty, "no setter may be sent", sourceLocation: sourceLocation)
        #expect(site.rev("HEAD") == commit, "a refused approval commits nothing", sourceLocation: sourceLocation)
        let shown = try site.lvx(["show", id])
        #expect(shown.stdout.contains("State: approval refused: \(reason)"), "\(shown)", sourceLocation: sourceLocation)
    }

    @Test("a signed approval is verified, shown as git shows it, and applied")
    func good() throws {
        let (site, keys) = try Self.site()
        let id = try Self.approved(site, by: "alice", key: "alice", keys: keys)
        // git itself sees a good SSH signature on the approval commit.
        let log = try runCommand(
            "/usr/bin/git",
            [
                "-C", site.repo.path.path, "-c",
                "gpg.ssh.allowedSignersFile=\(site.environment["LVX_ALLOWED_SIGNERS"] ?? "")",
                "log", "-1", "--show-signature", "--format=%G? %s",
            ],
            environment: TemporaryRepository.gitEnvironment
        )
        #expect(log.stdout.contains("Good \"git\" signature for alice with ED25519 key SHA256:"), "\(log)")
        #expect(log.stdout.contains("G approve plan \(id) (by alice)"), "\(log)")
        let shown = try site.lvx(["show", id])
        #expect(shown.stdout.contains("State: approved by alice at "), "\(shown)")
        #expect(shown.stdout.contains(" (verified, key \(try keys.fingerprint("alice"))"), "\(shown)")
        let apply = try site.lvx(["apply", id])
        #expect(apply.exitCode == 0, "\(apply)")
        #expect(site.sim.settersReceived.count == 2)
    }

    @Test("unsigned, unknown key, wrong principal, expired and revoked approvals are refused, nothing sent")
    func refusals() throws {
        do {
            let (site, keys) = try Self.site()
            let id = try Self.approved(site, by: "alice", key: nil, keys: keys)
            try Self.expectRefused(site, id, "it is not signed")
        }
        do {
            let (site, keys) = try Self.site(signers: ["alice": "alice"])
            let id = try Self.approved(site, by: "alice", key: "mallory", keys: keys)
            try Self.expectRefused(
                site,
                id,
                "it is signed by key \(try keys.fingerprint("mallory")), which is not in the allowed signers file"
            )
        }
        do {
            let (site, keys) = try Self.site(signers: ["alice": "alice", "mallory": "mallory"])
            let id = try Self.approved(site, by: "alice", key: "mallory", keys: keys)
            try Self.expectRefused(
                site,
                id,
                "it is signed by key \(try keys.fingerprint("mallory")) of mallory, not by alice"
            )
        }
        do {
            let (site, keys) = try Self.site(options: ["alice": "valid-before=\"20200101\""])
            let id = try Self.approved(site, by: "alice", key: "alice", keys: keys)
            try Self.expectRefused(
                site,
                id,
                "the key \(try keys.fingerprint("alice")) of alice had expired when it was signed"
            )
        }
        do {
            let (site, keys) = try Self.site(revoked: ["alice"])
            let id = try Self.approved(site, by: "alice", key: "alice", keys: keys)
            try Self.expectRefused(site, id, "the key \(try keys.fingerprint("alice")) of alice is revoked")
        }
    }

    @Test("an approval added with plain `git commit -S` counts; an unsigned edit after it does not")
    func gitAlone() throws {
        let (site, keys) = try Self.site()
        let id = try site.plan()
        let plan = try #require(site.file("plans/\(id).yaml"))
        let digest = try #require(ReviewSite.field("\ndigest", in: plan))
        try FileManager.default.createDirectory(
            at: site.repo.path.appendingPathComponent("approvals"),
            withIntermediateDirectories: true
        )
        let approval = """
            {"format_version": 1, "plan": "\(id)", "plan_digest": "\(digest)", "approved_by": "alice", "approved_at": "2026-11-21T10:00:00Z", "expires": "2099-01-01T00:00:00Z"}

            """
        try approval.write(
            to: site.repo.path.appendingPathComponent("approvals/\(id).yaml"),
            atomically: true,
            encoding: .utf8
        )
        _ = try site.repo.git("add", "-A")
        _ = try site.repo.git(
            "-c",
            "gpg.format=ssh",
            "-c",
            "user.signingkey=\(keys.path("alice"))",
            "commit",
            "-S",
            "-qm",
            "approve by hand"
        )
        let apply = try site.lvx(["apply", id])
        #expect(apply.exitCode == 0, "\(apply)")

        // A second plan approved the same way, then the approval edited in an unsigned commit.
        try site.setLive(ReviewSite.unit1, "float_voltage", 54.4)
        let second = try site.plan()
        let secondPlan = try #require(site.file("plans/\(second).yaml"))
        let secondDigest = try #require(ReviewSite.field("\ndigest", in: secondPlan))
        let path = "approvals/\(second).yaml"
        try approval.replacingOccurrences(of: digest, with: secondDigest).replacingOccurrences(of: id, with: second)
            .write(to: site.repo.path.appendingPathComponent(path), atomically: true, encoding: .utf8)
        _ = try site.repo.git("add", "-A")
        _ = try site.repo.git(
            "-c",
            "gpg.format=ssh",
            "-c",
            "user.signingkey=\(keys.path("alice"))",
            "commit",
            "-S",
            "-qm",
            "approve"
        )
        try site.edit(path, replacing: "2099-01-01", with: "2098-01-01")
        let refused = try site.lvx(["apply", second])
        #expect(refused.exitCode == 4, "\(refused)")
        #expect(
            refused.stderr.contains("\(path) was changed after it was added, by test <test@example.invalid>"),
            "\(refused)"
        )
    }

    @Test("four eyes: whoever changed the desired state may not approve its plan alone")
    func fourEyes() throws {
        let (site, keys) = try Self.site(
            apply: "  stop_units: []\n  plan_lifetime: 24h\n  require_distinct_approver: true\n"
        )
        // alice changes the profile (as the author of the commit)...
        let path = "profiles/eg4-lp4-v2.yaml"
        let text = try #require(site.file(path))
        try text.replacingOccurrences(of: "max_charging_current: 60", with: "max_charging_current: 80")
            .write(to: site.repo.path.appendingPathComponent(path), atomically: true, encoding: .utf8)
        _ = try site.repo.git("commit", "-qam", "raise the charging current", "--author=alice <alice@example.com>")
        let changed = site.rev("HEAD")
        // ...and approves the plan that carries it out.
        let id = try Self.approved(site, by: "alice", key: "alice", keys: keys)
        let apply = try site.lvx(["apply", id])
        #expect(apply.exitCode == 4, "\(apply)")
        #expect(
            apply.stderr.hasPrefix(
                "error: plan '\(id)' needs a second person: alice <alice@example.com> approved it and also made commit \(changed.prefix(12)), which changed the desired state it carries out\n"
            ),
            "\(apply)"
        )
        #expect(site.sim.settersReceived.isEmpty)
        // bob approves a fresh plan: it applies.
        let second = try Self.approved(site, by: "bob", key: "bob", keys: keys)
        let applied = try site.lvx(["apply", second])
        #expect(applied.exitCode == 0, "\(applied)")
    }
}

/// SSH keys made by the real `ssh-keygen` in a temporary folder.
struct Keys {
    static var available: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/ssh-keygen") }

    let directory: URL

    init(_ names: [String]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("lvx-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in names {
            let made = try runCommand(
                "/usr/bin/ssh-keygen",
                ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path(name)]
            )
            guard made.exitCode == 0 else { throw SimulatorError(message: "ssh-keygen: \(made.stderr)") }
        }
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func publicKey(_ name: String) throws -> String {
        let text = try String(contentsOfFile: path(name) + ".pub", encoding: .utf8)
        return text.split(separator: " ").prefix(2).joined(separator: " ")
    }

    func fingerprint(_ name: String) throws -> String {
        let out = try runCommand("/usr/bin/ssh-keygen", ["-l", "-f", path(name) + ".pub"])
        return String(out.stdout.split(separator: " ")[1])
    }

    /// An allowed-signers file: `principal [options] key` per line.
    func allowedSigners(_ signers: [String: String], options: [String: String] = [:]) throws -> String {
        let text =
            try signers.keys.sorted().map { principal in
                let key = try publicKey(signers[principal] ?? principal)
                return ([principal] + (options[principal].map { [$0] } ?? []) + [key]).joined(separator: " ")
            }.joined(separator: "\n") + "\n"
        let file = directory.appendingPathComponent("allowed_signers")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    /// A revoked-keys file holding the public keys of `names`.
    func revoked(_ names: [String]) throws -> String {
        let file = directory.appendingPathComponent("revoked_keys")
        try names.map { try publicKey($0) }.joined(separator: "\n").appending("\n")
            .write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }
}
