import Foundation
import LVXTestSupport
import Testing

/// Every way `approve` and `apply` refuse (exit 4) or stop (exit 1) before writing.
///
/// Stale, altered, forged, unknown, unapproved, expired, already applied, locked, detached, not
/// YAML: none of them may send a setter or commit anything.
@Suite("review cycle refusals end to end")
struct ReviewCycleRefusalTests {
    static let unit1 = ReviewSite.unit1
    static let unit2 = ReviewSite.unit2

    /// The seeds' site with lvx6048-1's float at 54.4 V: a plan of one MCHGV per unit.
    static func drifted(site: String = ReviewSite.site()) throws -> ReviewSite {
        try ReviewSite(ReviewSite.sets([unit1: ["float_voltage": "54.4"]]), site: site)
    }

    /// Asserts that `result` is the refusal `stderr` with exit `code`, and that nothing was written
    /// to an inverter or committed.
    static func expectRefused(
        _ result: CommandResult,
        _ stderr: String,
        code: Int32 = 4,
        site: ReviewSite,
        commits: Int,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.exitCode == code, "\(result)", sourceLocation: sourceLocation)
        #expect(result.stderr == stderr, "\(result)", sourceLocation: sourceLocation)
        #expect(site.sim.settersReceived.isEmpty, "\(site.sim.settersReceived)", sourceLocation: sourceLocation)
        #expect(site.commitCount == commits, "nothing may be committed", sourceLocation: sourceLocation)
        #expect(site.isClean, sourceLocation: sourceLocation)
    }

    @Test("stale: a unit changed since the plan -> exit 4 naming the change, nothing written")
    func staleUnit() throws {
        let site = try Self.drifted()
        let id = try site.approvedPlan()
        try site.setLive(Self.unit1, "float_voltage", 54.6)
        let commits = site.commitCount
        let before = site.exchangeCount
        let apply = try site.lvx(["apply", id])
        Self.expectRefused(
            apply,
            """
            error: plan is stale: 'lvx6048-1' changed since the plan: float_voltage 54.4 -> 54.6
            note: make a fresh plan with `lvx plan` and review it

            """,
            site: site,
            commits: commits + 1
        )
        #expect(site.exchangeCount > before, "apply re-read the units to find the change")
        #expect(site.file("applied/\(id).yaml") == nil)
        // The refusal is recorded once, and the plan is stale from then on.
        #expect(site.file("refused/\(id).yaml")?.contains("stale: true") == true)
        #expect(
            try site.lvx(["plans"]).stdout.contains(
                "  stale: 'lvx6048-1' changed since the plan: float_voltage 54.4 -> 54.6\n"
            )
        )
    }

    @Test("stale: the desired state changed since the plan -> exit 4, nothing written")
    func staleDesiredState() throws {
        let site = try Self.drifted()
        let id = try site.approvedPlan()
        try site.edit(
            "profiles/eg4-lp4-v2.yaml",
            replacing: "max_utility_charging_current: 30",
            with: "max_utility_charging_current: 20"
        )
        let commits = site.commitCount
        let apply = try site.lvx(["apply", id])
        Self.expectRefused(
            apply,
            """
            error: plan is stale: the desired state (lvx.yaml or a profile) changed since the plan was made
            note: make a fresh plan with `lvx plan` and review it

            """,
            site: site,
            commits: commits + 1
        )
    }

    @Test("a plan file edited after `lvx plan` is refused by approve and apply (exit 4)")
    func alteredPlan() throws {
        let site = try Self.drifted()
        let id = try site.approvedPlan()
        let path = "plans/\(id).yaml"
        let original = try #require(site.file(path))
        // A consistent edit (the value and its command): only the digest can tell.
        let edited =
            original
            .replacingOccurrences(
                of: "to: {bulk_voltage: 56.4, float_voltage: 54.0}",
                with: "to: {bulk_voltage: 56.4, float_voltage: 53.9}"
            )
            .replacingOccurrences(of: "command: MCHGV564,540", with: "command: MCHGV564,539")
        #expect(edited != original)
        try site.commit([path: edited])
        let commits = site.commitCount
        let altered = """
            error: plan '\(id)' was refused: \(path):3:9: plan content does not match its digest: the file was altered after `lvx plan` wrote it
            note: make a new plan with `lvx plan`

            """
        Self.expectRefused(try site.lvx(["apply", id]), altered, site: site, commits: commits)
        Self.expectRefused(try site.lvx(["approve", id]), altered, site: site, commits: commits)
        Self.expectRefused(try site.lvx(["show", id]), altered, site: site, commits: commits)
        #expect(try site.lvx(["plans"]).stdout == "\(id)  refused: \(altered.split(separator: "\n")[0].dropFirst(7))\n")

        // Only the value: the command no longer matches it.
        try site.commit([path: original.replacingOccurrences(of: "float_voltage: 54.0}", with: "float_voltage: 53.9}")])
        let mismatched = try site.lvx(["apply", id])
        #expect(mismatched.exitCode == 4, "\(mismatched)")
        #expect(mismatched.stderr.hasPrefix("error: plan '\(id)' was refused: \(path):"))
        #expect(mismatched.stderr.contains(": step command 'MCHGV564,540' does not match its 'to' values\n"))
        #expect(site.sim.settersReceived.isEmpty)
    }

    @Test("an approval whose digest is not the plan's is refused (exit 4)")
    func forgedApproval() throws {
        let site = try Self.drifted()
        let id = try site.approvedPlan()
        let path = "approvals/\(id).yaml"
        let approval = try #require(site.file(path))
        let digest = try #require(ReviewSite.field("plan_digest", in: approval))
        #expect(digest.count == 64)
        let forged = String(repeating: "0", count: 64)
        try site.commit([path: approval.replacingOccurrences(of: digest, with: forged)])
        let commits = site.commitCount
        Self.expectRefused(
            try site.lvx(["apply", id]),
            """
            error: the approval of '\(id)' does not match the plan's digest: it approves other content
            note: approve the plan again with `lvx approve \(id)` after reviewing it

            """,
            site: site,
            commits: commits
        )
        #expect(
            try site.lvx(["show", id]).stdout.hasSuffix(
                "\n2 write(s). State: approval refused: the approval of '\(id)' does not match the plan's digest: it approves other content\n"
            )
        )
    }

    @Test("only apply.approvers may approve, and apply refuses an approval by anyone else (exit 4)")
    func approvers() throws {
        let site = try Self.drifted(
            site: ReviewSite.site(apply: "  stop_units: []\n  approvers: [alice, bob]\n  plan_lifetime: 24h\n")
        )
        let id = try site.plan()
        let commits = site.commitCount
        Self.expectRefused(
            try site.lvx(["approve", id, "--by", "mallory"]),
            """
            error: 'mallory' may not approve plans
            note: approvers in lvx.yaml: alice, bob

            """,
            site: site,
            commits: commits
        )
        let byEnvironment = try site.lvx(["approve", id], ["LVX_APPROVER": "mallory"])
        #expect(byEnvironment.exitCode == 4)
        #expect(byEnvironment.stderr.hasPrefix("error: 'mallory' may not approve plans\n"))

        let approve = try site.lvx(["approve", id, "--by", "bob"])
        #expect(approve.exitCode == 0, "\(approve)")
        #expect(approve.stdout.hasSuffix(" by bob; apply with `lvx apply \(id)`\n"))
        let path = "approvals/\(id).yaml"
        let approval = try #require(site.file(path))
        try site.commit([path: approval.replacingOccurrences(of: "approved_by: bob", with: "approved_by: mallory")])
        Self.expectRefused(
            try site.lvx(["apply", id]),
            "error: the approval of '\(id)' is by 'mallory', who is not in apply.approvers\nnote: approvers in lvx.yaml: alice, bob\n",
            site: site,
            commits: commits + 2
        )
    }

    @Test("unknown plan, malformed id, not approved, nothing approved, approved twice: all exit 4")
    func unknownAndUnapproved() throws {
        let site = try Self.drifted()
        let id = try site.plan()
        let commits = site.commitCount
        let unknown = "error: no plan '0123456789abcdef' in the repository\nnote: `lvx plans` lists the plans\n"
        for command in ["apply", "approve", "show"] {
            Self.expectRefused(try site.lvx([command, "0123456789abcdef"]), unknown, site: site, commits: commits)
        }
        Self.expectRefused(
            try site.lvx(["show", "../lvx"]),
            """
            error: no plan '../lvx' in the repository: a plan id is the 16 hex digits `lvx plan` printed
            note: `lvx plans` lists the plans

            """,
            site: site,
            commits: commits
        )
        Self.expectRefused(
            try site.lvx(["apply", id]),
            """
            error: plan '\(id)' is not approved
            note: review it with `lvx show \(id)`, then `lvx approve \(id)`

            """,
            site: site,
            commits: commits
        )
        Self.expectRefused(
            try site.lvx(["apply"]),
            "error: no approved plan is waiting to be applied\nnote: `lvx plans` lists the plans\n",
            site: site,
            commits: commits
        )
        // A copy of the plan under another id is not that plan.
        let copy = "1111111111111111"
        try site.commit(["plans/\(copy).yaml": try #require(site.file("plans/\(id).yaml"))])
        Self.expectRefused(
            try site.lvx(["approve", copy]),
            """
            error: plan '\(copy)' was refused: plans/\(copy).yaml holds plan '\(id)'; the file was renamed or copied
            note: make a new plan with `lvx plan`

            """,
            site: site,
            commits: commits + 1
        )

        #expect(try site.lvx(["approve", id], ["LVX_NOW": "2026-11-21T10:00:00Z"]).exitCode == 0)
        let twice = try site.lvx(["approve", id, "--by", "bob"])
        #expect(twice.exitCode == 4)
        #expect(twice.stderr == "error: plan '\(id)' is already approved by alice at 2026-11-21T10:00:00Z\n")
        #expect(site.sim.settersReceived.isEmpty)
    }

    @Test("expired: approve and apply after the plan's lifetime are refused (exit 4)")
    func expired() throws {
        let site = try Self.drifted()
        let made = ["LVX_NOW": "2026-11-21T10:00:00Z"]
        let late = ["LVX_NOW": "2026-11-22T10:00:01Z"]
        let id = try site.plan(made)
        let commits = site.commitCount
        let expired = """
            error: plan '\(id)' expired at 2026-11-22T10:00:00Z
            note: make a fresh plan with `lvx plan`

            """
        Self.expectRefused(try site.lvx(["approve", id], late), expired, site: site, commits: commits)
        #expect(try site.lvx(["approve", id], made).exitCode == 0)
        Self.expectRefused(try site.lvx(["apply", id], late), expired, site: site, commits: commits + 1)
        #expect(try site.lvx(["plans"], late).stdout.hasSuffix("  expired at 2026-11-22T10:00:00Z\n"))
        // Still within the lifetime, to the second, it applies.
        let inTime = try site.lvx(["apply", id], ["LVX_NOW": "2026-11-22T10:00:00Z"])
        #expect(inTime.exitCode == 0, "\(inTime)")
    }

    @Test("a plan is applied at most once: apply and approve of an applied plan exit 4")
    func alreadyApplied() throws {
        let site = try Self.drifted()
        let id = try site.approvedPlan()
        #expect(try site.lvx(["apply", id]).exitCode == 0)
        let setters = site.sim.settersReceived
        #expect(setters.count == 2)
        let commits = site.commitCount
        let again = try site.lvx(["apply", id])
        #expect(again.exitCode == 4)
        #expect(
            again.stderr == """
                error: plan '\(id)' was already applied; a plan is applied at most once
                note: make a new plan with `lvx plan`

                """
        )
        let approve = try site.lvx(["approve", id, "--by", "bob"])
        #expect(approve.exitCode == 4)
        #expect(approve.stderr.hasPrefix("error: plan '\(id)' was already applied; a plan is applied at most once\n"))
        #expect(site.sim.settersReceived == setters)
        #expect(site.commitCount == commits)
        #expect(site.isClean)
    }

    @Test("a lock held by a live process refuses apply (exit 4); a dead holder's lock is reclaimed")
    func lock() throws {
        let site = try Self.drifted()
        let id = try site.approvedPlan()
        let lockPath = site.repo.path.appendingPathComponent(".git/lvx.lock").path
        let pid = getpid()
        try Data("\(pid)\n2026-11-21T09:00:00Z\nlvx apply\n".utf8).write(to: URL(fileURLWithPath: lockPath))
        let commits = site.commitCount
        let held = try site.lvx(["apply", id])
        #expect(held.exitCode == 4, "\(held)")
        #expect(
            held.stderr.hasPrefix(
                "error: the repository is locked by pid \(pid) (lvx apply, since 2026-11-21T09:00:00Z)\nnote: wait for it to finish; if that process is gone, remove "
            ),
            "\(held)"
        )
        #expect(held.stderr.hasSuffix("lvx.lock\n"))
        #expect(site.sim.settersReceived.isEmpty)
        #expect(site.commitCount == commits)
        #expect(FileManager.default.fileExists(atPath: lockPath), "someone else's lock is left alone")

        try Data("999999\n2026-11-21T09:00:00Z\nlvx apply\n".utf8).write(to: URL(fileURLWithPath: lockPath))
        let reclaimed = try site.lvx(["apply", id])
        #expect(reclaimed.exitCode == 0, "\(reclaimed)")
        #expect(site.sim.settersReceived.count == 2)
        #expect(!FileManager.default.fileExists(atPath: lockPath), "apply releases the lock it took")
        #expect(site.isClean)
    }

    @Test("a detached HEAD: apply stops before touching a unit, plan and approve cannot commit (exit 1)")
    func detachedHead() throws {
        let site = try Self.drifted()
        let id = try site.plan()
        let detached = """
            error: HEAD is detached in \(site.repo.path.path); lvx commits only on a branch
            note: check out a branch first (git switch main)

            """
        try site.repo.git("checkout", "-q", "--detach")
        let commits = site.commitCount
        Self.expectRefused(try site.lvx(["approve", id]), detached, code: 1, site: site, commits: commits)
        let plan = try site.lvx(["plan"])
        #expect(plan.exitCode == 1, "\(plan)")
        #expect(plan.stderr.hasSuffix(detached), "\(plan)")

        try site.repo.git("checkout", "-q", "main")
        #expect(try site.lvx(["approve", id]).exitCode == 0)
        try site.repo.git("checkout", "-q", "--detach")
        let exchanges = site.exchangeCount
        Self.expectRefused(try site.lvx(["apply", id]), detached, code: 1, site: site, commits: commits + 1)
        #expect(site.exchangeCount == exchanges, "apply must not open a unit it cannot record writing to")
    }

    @Test("a plan file that is not YAML is refused with its line and column (exit 4)")
    func planNotYAML() throws {
        let site = try Self.drifted()
        let id = try site.approvedPlan()
        try site.commit(["plans/\(id).yaml": "units: [\n"])
        let commits = site.commitCount
        let refused = """
            error: plan '\(id)' was refused: plans/\(id).yaml is not valid YAML: line 2, column 1: did not find expected node content while parsing a flow node
            note: make a new plan with `lvx plan`

            """
        for command in ["apply", "approve", "show"] {
            Self.expectRefused(try site.lvx([command, id]), refused, site: site, commits: commits)
        }
        let listed = try site.lvx(["plans"])
        #expect(listed.exitCode == 0)
        #expect(
            listed.stdout.hasPrefix(
                "\(id)  refused: plan '\(id)' was refused: plans/\(id).yaml is not valid YAML: line 2, column 1: "
            )
        )
    }
}
