import Foundation
import LVXTestSupport
import Testing

/// The fleet's mirror holds each site's tip and only as much history as the approvals still to
/// be checked need, so a first `lvx fleet status` does not fetch years of runs; what it does not
/// hold is never guessed at.
@Suite("fleet: a shallow mirror", .enabled(if: Keys.available, "needs /usr/bin/ssh-keygen"))
struct FleetMirrorTests {
    typealias Fleet = FleetTests.Fleet

    /// `seconds` ago, as LVX_NOW takes it.
    static func ago(_ seconds: TimeInterval) -> String {
        ISO8601DateFormatter().string(from: Date().addingTimeInterval(-seconds))
    }

    /// A cabin site with a week and more of runs, whose profile a person then changes.
    ///
    /// Its run now plans a write. Returns the fleet, the plan's id and the oldest run commit.
    static func siteWithHistory() throws -> (Fleet, String, String) {
        let fleet = try Fleet()
        try fleet.addSite("cabin", FleetTests.cabin(), now: ago(10 * 86_400))
        var oldest = ""
        for day in [9, 8, 7] {
            let ran = try fleet.run("cabin", now: ago(Double(day) * 86_400))
            #expect(ran.exitCode == 0, "\(ran)")
            if oldest.isEmpty { oldest = try fleet.tip("cabin") }
        }
        _ = try FleetTests().personPush(fleet, "cabin", "profiles/lvx6048-1.yaml") {
            $0.replacingOccurrences(of: "float_voltage: 54.0", with: "float_voltage: 54.2")
        }
        #expect(try fleet.run("cabin").exitCode == 2)
        let (_, sites) = try fleet.statusJSON()
        let id = try #require((sites["cabin"]?["pending_plan"] as? [String: Any])?["id"] as? String)
        return (fleet, id, oldest)
    }

    static func state(_ fleet: Fleet, signers: String) throws -> (CommandResult, String?, String?) {
        let result = try lvx([
            "fleet", "status", "--json", fleet.upstream, "--cache", fleet.cache, "--allowed-signers", signers,
        ])
        let array = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] ?? []
        let state = (array.first?["pending_plan"] as? [String: Any])?["state"] as? [String: Any]
        return (result, state?["name"] as? String, state?["text"] as? String)
    }

    @Test("a first status fetches the tips and the history since the approved plan, and verifies its signature")
    func verifiesFromRecentHistory() throws {
        let (fleet, id, oldest) = try Self.siteWithHistory()
        let keys = try Keys(["alice"])
        let signers = try keys.allowedSigners(["alice": "alice"])
        try FileManager.default.removeItem(atPath: fleet.cache)
        let approved = try lvx([
            "approve", id, "--by", "alice", "--key", keys.path("alice"), "--fleet", fleet.upstream, "--cache",
            fleet.cache,
        ])
        #expect(approved.exitCode == 0, "\(approved)")
        try FileManager.default.removeItem(atPath: fleet.cache)

        let (result, name, text) = try Self.state(fleet, signers: signers)
        #expect(result.exitCode == 2, "\(result)")
        #expect(name == "approved", "\(result)")
        #expect(text?.contains("(verified, key \(try keys.fingerprint("alice"))") == true, "\(result)")
        // The mirror is shallow: the week-old runs were not fetched.
        #expect(FileManager.default.fileExists(atPath: fleet.cache + "/shallow"))
        let old = try runCommand("/usr/bin/git", ["--git-dir", fleet.cache, "cat-file", "-e", oldest + "^{commit}"])
        #expect(old.exitCode != 0, "the run of 9 days ago is not in the mirror")
        // A second status on the same mirror says the same.
        let (again, name2, _) = try Self.state(fleet, signers: signers)
        #expect(again.exitCode == 2 && name2 == "approved", "\(again)")
        // A later status brings the new run and keeps what the mirror holds, even when it needs
        // no deepening (approvals unchecked): the history is not cut back to the tip.
        let count = ["--git-dir", fleet.cache, "rev-list", "--count", "sites/cabin"]
        let held = Int(try fleet.git(count).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(held > 1, "the deepen brought the history since the plan")
        #expect(try fleet.run("cabin").exitCode == 2)
        let unchecked = try lvx([
            "fleet", "status", fleet.upstream, "--cache", fleet.cache, "--allowed-signers", "none",
        ])
        #expect(unchecked.exitCode == 2, "\(unchecked)")
        #expect(Int(try fleet.git(count).trimmingCharacters(in: .whitespacesAndNewlines)) == held + 1)
        // The report draws whole histories: it fetches the rest, and its timeline starts at the
        // first run.
        let out = fleet.root.appendingPathComponent("report.html").path
        let report = try lvx(["report", "--fleet", fleet.upstream, "--cache", fleet.cache, "--out", out])
        #expect(report.exitCode == 0, "\(report)")
        #expect(!FileManager.default.fileExists(atPath: fleet.cache + "/shallow"))
        let whole = try runCommand("/usr/bin/git", ["--git-dir", fleet.cache, "cat-file", "-e", oldest + "^{commit}"])
        #expect(whole.exitCode == 0, "the report's mirror holds the run of 9 days ago")
        // Status keeps a whole mirror whole.
        let (kept, name3, _) = try Self.state(fleet, signers: signers)
        #expect(kept.exitCode == 2 && name3 == "approved", "\(kept)")
        #expect(!FileManager.default.fileExists(atPath: fleet.cache + "/shallow"))
    }

    @Test("an approval committed before the mirror's history begins is not credited to the signed commit at its edge")
    func backdatedApprovalIsNotVerified() throws {
        let (fleet, id, _) = try Self.siteWithHistory()
        let keys = try Keys(["alice", "mallory"])
        let signers = try keys.allowedSigners(["alice": "alice"])
        // Mallory writes the approval record unsigned and dates the commit three days back; then
        // alice signs an unrelated commit on top, which a history starting after mallory's
        // commit would see adding the approval.
        let work = fleet.root.appendingPathComponent("mallory").path
        try fleet.git(["clone", "-q", "-b", "sites/cabin", fleet.upstream, work])
        let forged = try lvx(["approve", id, "--by", "alice"], environment: ["LVX_REPO": work])
        #expect(forged.exitCode == 0, "\(forged)")
        let back = Self.ago(3 * 86_400)
        let amended = try runCommand(
            "/usr/bin/git",
            ["-C", work, "commit", "-q", "--amend", "--no-edit", "--date", back],
            environment: TemporaryRepository.gitEnvironment.merging(["GIT_COMMITTER_DATE": back]) { $1 }
        )
        #expect(amended.exitCode == 0, "\(amended)")
        try fleet.git([
            "-C", work, "-c", "gpg.format=ssh", "-c", "user.signingkey=\(keys.path("alice"))", "commit", "-q", "-S",
            "--allow-empty", "-m", "alice: a note",
        ])
        try fleet.git(["-C", work, "push", "-q"])

        let (result, name, text) = try Self.state(fleet, signers: signers)
        #expect(name == "approval_refused", "\(result)")
        #expect(text?.contains("shallow") == true, "\(result)")
        // The site itself, with the whole history, refuses it too: the commit that added it is unsigned.
        let clone = fleet.root.appendingPathComponent("full").path
        try fleet.git(["clone", "-q", "-b", "sites/cabin", fleet.upstream, clone])
        let shown = try lvx(["show", id, "--allowed-signers", signers], environment: ["LVX_REPO": clone])
        #expect(shown.stdout.contains("State: approval refused: "), "\(shown)")
    }
}
