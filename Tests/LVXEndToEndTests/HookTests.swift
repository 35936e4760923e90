import Foundation
import LVXTestSupport
import Testing

/// The pre-receive hook `lvx init` installs and the settings it makes, with real `git push` from a clone.
@Suite("the push hooks end to end")
struct HookTests {
    /// A repository made by `lvx init` in a temporary directory, and a clone of it.
    final class Hub: @unchecked Sendable {
        // Used by one test at a time.
        let base: URL
        let hub: String
        let clone: String

        init(bare: Bool = true) throws {
            base = FileManager.default.temporaryDirectory.appendingPathComponent("lvx-hooks-\(UUID())")
            hub = base.appendingPathComponent(bare ? "hub.git" : "site").path
            clone = base.appendingPathComponent("clone").path
            let made = try lvx(["init", hub] + (bare ? ["--bare"] : []))
            guard made.exitCode == 0 else { throw SimulatorError(message: "lvx init failed: \(made)") }
            if bare { try git(["clone", "-q", hub, clone]) }
        }

        /// Runs git and returns what it did, whatever its exit code.
        @discardableResult
        func git(_ arguments: [String]) throws -> CommandResult {
            try runCommand("/usr/bin/git", arguments, environment: TemporaryRepository.gitEnvironment)
        }

        /// Runs git in the clone.
        @discardableResult
        func inClone(_ arguments: String...) throws -> CommandResult { try git(["-C", clone] + arguments) }

        /// Runs git in the repository `lvx init` made.
        @discardableResult
        func inHub(_ arguments: String...) throws -> CommandResult { try git(["-C", hub] + arguments) }

        /// Writes `text` to `path` in the clone and commits it.
        func commit(_ path: String, _ text: String, message: String) throws {
            let url = URL(fileURLWithPath: clone).appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            try text.write(to: url, atomically: true, encoding: .utf8)
            try inClone("add", "-A")
            try inClone("commit", "-qm", message)
        }

        /// The commit a ref of the hub points at, or an empty string.
        func tip(_ ref: String) throws -> String {
            try inHub("rev-parse", "-q", "--verify", ref).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        deinit { try? FileManager.default.removeItem(at: base) }
    }

    @Test(
        "lvx init sets receive.denyNonFastForwards and receive.denyDeletes, bare and not bare",
        arguments: [true, false]
    )
    func initRefusesHistoryRewrites(bare: Bool) throws {
        let hub = try Hub(bare: bare)
        #expect(try hub.inHub("config", "--get", "receive.denyNonFastForwards").stdout == "true\n")
        #expect(try hub.inHub("config", "--get", "receive.denyDeletes").stdout == "true\n")
    }

    @Test("without the hook, git's own settings from lvx init still refuse a force-push and a branch deletion")
    func settingsRefuseWithoutTheHook() throws {
        let hub = try Hub()
        try hub.commit("approvals/keep.yaml", "x: 1\n", message: "one")
        try hub.commit("approvals/keep.yaml", "x: 2\n", message: "two")
        #expect(try hub.inClone("push", "-q", "origin", "main", "main:refs/heads/other").exitCode == 0)
        try FileManager.default.removeItem(atPath: hub.hub + "/hooks/pre-receive")
        let before = try hub.tip("main")

        let forced = try hub.inClone("push", "--force", "origin", "main~1:main")
        let deleted = try hub.inClone("push", "--delete", "origin", "other")

        #expect(forced.exitCode != 0)
        #expect(forced.stderr.contains("denying non-fast-forward refs/heads/main"), "\(forced)")
        #expect(deleted.exitCode != 0)
        #expect(deleted.stderr.contains("denying ref deletion for refs/heads/other"), "\(deleted)")
        #expect(try hub.tip("main") == before)
        #expect(try hub.tip("other") == before)
    }

    @Test("the hook itself refuses a force-push and a branch deletion, and says why")
    func hookRefusesHistoryRewrites() throws {
        let hub = try Hub()
        // git's settings are checked after the hook; unset them to prove the hook refuses on its own.
        try hub.inHub("config", "--unset", "receive.denyNonFastForwards")
        try hub.inHub("config", "--unset", "receive.denyDeletes")
        try hub.commit("approvals/keep.yaml", "x: 1\n", message: "one")
        #expect(try hub.inClone("push", "-q", "origin", "main", "main:refs/heads/other").exitCode == 0)
        let before = try hub.tip("main")
        try hub.inClone("reset", "-q", "--hard", "HEAD~1")
        try hub.commit("approvals/keep.yaml", "x: 2\n", message: "history rewritten")

        let forced = try hub.inClone("push", "--force", "origin", "main")
        let deleted = try hub.inClone("push", "--delete", "origin", "other")

        #expect(forced.exitCode != 0)
        #expect(
            forced.stderr.contains(
                "lvx: refusing to rewrite refs/heads/main (a non-fast-forward push): its history is the audit record of every plan, approval and write; push a new commit on top instead"
            ),
            "\(forced)"
        )
        #expect(forced.stderr.contains("main -> main (pre-receive hook declined)"))
        #expect(!forced.stderr.contains("lvx: validating"), "a refused rewrite is not validated")
        #expect(deleted.exitCode != 0)
        #expect(
            deleted.stderr.contains(
                "lvx: refusing to delete refs/heads/other: its history is the audit record of every plan, approval and write; keep the branch"
            ),
            "\(deleted)"
        )
        #expect(deleted.stderr.contains("other (pre-receive hook declined)"))
        #expect(try hub.tip("main") == before)
        #expect(try hub.tip("other") == before)
        // A commit on top of the pushed history still lands.
        try hub.inClone("reset", "-q", "--hard", "origin/main")
        try hub.commit("approvals/keep.yaml", "x: 3\n", message: "on top")
        let onTop = try hub.inClone("push", "origin", "main")
        #expect(onTop.exitCode == 0, "\(onTop)")
        #expect(try hub.tip("main~1") == before)
    }

    static let why =
        "applied/, applying/, refused/, runs/ and dumps/ are written only by lvx on this host (push plans, approvals and withdrawals only)"

    @Test(
        "a pushed record that lvx did not write is refused, naming the commit and the file; the hub does not change",
        arguments: [
            "applied/0123456789abcdef.yaml", "applying/0123456789abcdef.yaml", "refused/0123456789abcdef.yaml",
            "runs/last.yaml", "dumps/lvx6048-1.yaml",
        ]
    )
    func forgedRecordRefused(path: String) throws {
        let hub = try Hub()
        let before = try hub.tip("main")
        try hub.commit(path, "forged: true\n", message: "a record by hand")
        let forged = try hub.inClone("rev-parse", "HEAD").stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        let pushed = try hub.inClone("push", "origin", "main")
        let branch = try hub.inClone("push", "origin", "main:refs/heads/review")

        #expect(pushed.exitCode != 0)
        #expect(
            pushed.stderr.contains(
                "lvx: refusing refs/heads/main: commit \(forged.prefix(12)) changes \(path); \(Self.why)"
            ),
            "\(pushed)"
        )
        #expect(pushed.stderr.contains("main -> main (pre-receive hook declined)"))
        #expect(branch.exitCode != 0)
        #expect(
            branch.stderr.contains(
                "lvx: refusing refs/heads/review: commit \(forged.prefix(12)) changes \(path); \(Self.why)"
            ),
            "a new branch is checked too: \(branch)"
        )
        #expect(try hub.tip("main") == before)
        #expect(try hub.tip("review").isEmpty)
        #expect(try hub.inHub("cat-file", "-e", forged).exitCode != 0, "the forged commit is not in the hub")
    }

    @Test("a plan, an approval and a withdrawal may be pushed")
    func reviewFilesAccepted() throws {
        let hub = try Hub()
        try hub.commit("plans/0123456789abcdef.yaml", "id: 0123456789abcdef\n", message: "a plan")
        try hub.commit("approvals/0123456789abcdef.yaml", "by: alice\n", message: "an approval")
        try hub.commit("withdrawn/fedcba9876543210.yaml", "withdrawn_by: bob\n", message: "a withdrawal")

        let pushed = try hub.inClone("push", "origin", "main")

        #expect(pushed.exitCode == 0, "\(pushed)")
        #expect(!pushed.stderr.contains("lvx: refusing"))
        let head = try hub.inClone("rev-parse", "HEAD").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try hub.tip("main") == head)
    }

    @Test(
        "the records lvx run commits in the hub survive a person's merge; a merge or revert that changes them is refused"
    )
    func agentRecordsAndMerges() throws {
        let sim = try SimulatorProcess(["--site", "seeds"])
        let hub = try Hub()
        var files = try TemporaryRepository.desiredStateFiles()
        files["lvx.yaml"] = files["lvx.yaml"]?.replacingOccurrences(
            of: "stop_units: [powermon.service, powermon2.service]",
            with: "stop_units: []"
        )
        for (path, text) in files { try hub.commit(path, text, message: "the site: \(path)") }
        #expect(try hub.inClone("push", "-q", "origin", "main").exitCode == 0)
        let beforeRun = try hub.tip("main")
        // lvx run commits its dumps and summary straight into the hub: a local commit, no push.
        let run = try lvx(["run"], environment: ["LVX_REPO": hub.hub, "LVX_PORTS": sim.portList, "LVX_LOG": "stderr"])
        #expect(run.exitCode == 0 || run.exitCode == 2, "\(run)")
        let runCommit = try hub.tip("main")
        #expect(try hub.inHub("log", "-1", "--format=%s", "main").stdout.hasPrefix("run "))

        // A person approves without pulling first, then merges the run's commit and pushes.
        try hub.commit("approvals/0123456789abcdef.yaml", "by: alice\n", message: "an approval")
        #expect(try hub.inClone("pull", "-q", "--no-rebase", "--no-edit", "origin", "main").exitCode == 0)
        let merged = try hub.inClone("push", "origin", "main")
        #expect(merged.exitCode == 0, "\(merged)")
        #expect(try hub.inHub("merge-base", "--is-ancestor", runCommit, "main").exitCode == 0)
        let afterMerge = try hub.tip("main")

        // A merge that keeps the older side drops the run's records: refused.
        try hub.inClone("checkout", "-q", "-b", "older", beforeRun)
        try hub.inClone("merge", "-q", "-s", "ours", "--no-edit", "origin/main")
        let dropping = try hub.inClone("rev-parse", "HEAD").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let dropped = try hub.inClone("push", "origin", "older:main")
        #expect(dropped.exitCode != 0)
        #expect(
            dropped.stderr.contains(
                "lvx: refusing refs/heads/main: commit \(dropping.prefix(12)) changes runs/last.yaml"
            ),
            "\(dropped)"
        )

        // Reverting the run's commit deletes its records: refused.
        try hub.inClone("checkout", "-q", "main")
        try hub.inClone("revert", "--no-edit", runCommit)
        let revert = try hub.inClone("rev-parse", "HEAD").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let reverted = try hub.inClone("push", "origin", "main")
        #expect(reverted.exitCode != 0)
        #expect(
            reverted.stderr.contains(
                "lvx: refusing refs/heads/main: commit \(revert.prefix(12)) changes runs/last.yaml; \(Self.why)"
            ),
            "\(reverted)"
        )
        #expect(try hub.tip("main") == afterMerge)
        #expect(sim.settersReceived.isEmpty)
    }

    @Test("examples/git-hooks/pre-receive is the hook lvx init writes, with no lvx recorded")
    func exampleIsTheInstalledHook() throws {
        let hub = try Hub()
        let installed = try String(contentsOfFile: hub.hub + "/hooks/pre-receive", encoding: .utf8)
        let example = try String(
            contentsOf: PackagePaths.root().appendingPathComponent("examples/git-hooks/pre-receive"),
            encoding: .utf8
        )
        let lvxPath = PackagePaths.productsDirectory().appendingPathComponent("lvx").resolvingSymlinksInPath().path
        #expect(installed.contains("LVX_AT_INIT=\"\(lvxPath)\"\n"))
        #expect(example == installed.replacingOccurrences(of: "LVX_AT_INIT=\"\(lvxPath)\"", with: "LVX_AT_INIT=\"\""))
    }
}
