import Foundation
import LVXTestSupport
import Testing

/// The review cycle on the seeds' site: `plan` -> `approve` -> `apply` -> `plan` again, and what a
/// plan contains (tolerance, accepted drift, stacks, the setters' parallel digit).
@Suite("review cycle end to end")
struct ReviewCycleTests {
    static let unit1 = ReviewSite.unit1
    static let unit2 = ReviewSite.unit2
    static let now = "2026-11-21T10:00:00Z"

    @Test("plan (2), approve (0), apply (0), plan again (0): every step committed, the inverters end at the profile")
    func happyPath() throws {
        let drift = ["float_voltage": "54.4", "max_charging_current": "50"]
        let site = try ReviewSite(
            ReviewSite.sets([Self.unit1: drift, Self.unit2: drift]),
            site: try ReviewSite.seedsSite()
        )
        site.environment["LVX_NOW"] = Self.now
        let p1 = site.sim.port(Self.unit1)
        let p2 = site.sim.port(Self.unit2)
        let commits = site.commitCount

        let validate = try site.lvx(["validate"])
        #expect(validate.exitCode == 0, "\(validate)")
        #expect(validate.stdout.hasPrefix("valid: 2 unit(s), 1 profile(s) at "))
        #expect(site.isClean && site.commitCount == commits)

        let plan = try site.lvx(["plan"])
        #expect(plan.exitCode == 2, "\(plan)")
        let id = try #require(ReviewSite.planID(in: plan.stdout), "\(plan)")
        #expect(
            plan.stdout == """
                lvx6048-1 (96142109100037) on \(p1)
                  ~ float_voltage: 54.4 -> 54.0
                      MCHGV564,540
                  ~ max_charging_current: 50 -> 60
                      MCHGC0,060

                lvx6048-2 (96142408100255) on \(p2)
                  ~ float_voltage: 54.4 -> 54.0
                      MCHGV564,540
                  ~ max_charging_current: 50 -> 60
                      MCHGC1,060

                Plan \(id): 4 write(s) on 2 of 2 unit(s). Expires 2026-11-22T10:00:00Z.
                Approve it with: lvx approve \(id)

                """
        )
        #expect(plan.stderr.isEmpty, "\(plan)")
        let planFile = try #require(site.file("plans/\(id).yaml"), "the plan is committed")
        #expect(site.lastSubject == "plan \(id): 4 write(s) on 2 unit(s)")
        #expect(site.commitCount == commits + 1)
        #expect(site.isClean)
        #expect(site.sim.settersReceived.isEmpty)

        // The reviewer reads exactly the text `lvx plan` printed, unit by unit.
        let unitsText = try #require(plan.stdout.components(separatedBy: "\nPlan \(id)").first)
        let pending = try site.lvx(["show", id])
        #expect(pending.exitCode == 0, "\(pending)")
        #expect(
            pending.stdout == """
                plan \(id) created 2026-11-21T10:00:00Z, expires 2026-11-22T10:00:00Z
                desired state \(String(site.rev("HEAD~1").prefix(12))), lvx 0.1.0

                \(unitsText)
                4 write(s). State: pending approval
                Approve it with: lvx approve \(id)

                """,
            "\(pending)"
        )

        let approve = try site.lvx(["approve", id])
        #expect(approve.exitCode == 0, "\(approve)")
        #expect(approve.stdout == "approved plan \(id) (4 write(s)) by alice; apply with `lvx apply \(id)`\n")
        let approval = try #require(site.file("approvals/\(id).yaml"), "the approval is committed")
        let digest = try #require(ReviewSite.field("\ndigest", in: planFile))
        #expect(digest.hasPrefix(id) && digest.count == 64)
        #expect(ReviewSite.field("plan_digest", in: approval) == digest, "\(approval)")
        #expect(approval.contains("approved_by: alice"))
        #expect(site.lastSubject == "approve plan \(id) (by alice)")
        #expect(site.isClean)

        let listed = try site.lvx(["plans"])
        #expect(
            listed.stdout
                == "\(id)  2026-11-21T10:00:00Z  4 write(s)  lvx6048-1,lvx6048-2  approved by alice at 2026-11-21T10:00:00Z\n"
        )
        #expect(site.sim.settersReceived.isEmpty, "validate, plan, show, approve and plans send no setter")

        // No id: the newest approved plan.
        let apply = try site.lvx(["apply"])
        #expect(apply.exitCode == 0, "\(apply)")
        // Like `terraform apply`: the plan first, then each step with its keys, values and read-back.
        #expect(
            apply.stdout == """
                \(unitsText)
                applying plan \(id) (4 write(s)), approved by alice
                re-reading lvx6048-1
                re-reading lvx6048-2
                lvx6048-1: float_voltage 54.4 -> 54.0 (MCHGV564,540) ok, read back 54.0
                lvx6048-1: max_charging_current 50 -> 60 (MCHGC0,060) ok, read back 60
                lvx6048-2: float_voltage 54.4 -> 54.0 (MCHGV564,540) ok, read back 54.0
                lvx6048-2: max_charging_current 50 -> 60 (MCHGC1,060) ok, read back 60
                applied 4 write(s); result in applied/\(id).yaml

                """,
            "\(apply)"
        )
        #expect(apply.stderr.isEmpty, "\(apply)")
        #expect(site.lastSubject == "apply plan \(id): applied")
        #expect(site.isClean)
        // Before the first write, the apply was recorded as in progress.
        #expect(try site.repo.git("log", "-2", "--format=%s").hasSuffix("apply plan \(id): started\n"))
        #expect(site.file("applying/\(id).yaml")?.contains("\npid: ") == true)

        // Exactly one write and one read-back per step; the last read-back is the after-dump.
        #expect(site.writeSequence(Self.unit1) == ["S MCHGV564,540", "P PIRI", "S MCHGC0,060", "P PIRI"])
        #expect(site.writeSequence(Self.unit2) == ["S MCHGV564,540", "P PIRI", "S MCHGC1,060", "P PIRI"])

        let result = try #require(site.file("applied/\(id).yaml"), "the result is committed")
        #expect(result.contains("\noutcome: applied\n"))
        #expect(result.contains("\napproved_by: alice\n"))
        #expect(ReviewSite.field("\nplan_digest", in: result) == digest)
        #expect(ReviewSite.count("  ack: accepted\n", in: result) == 4, "\(result)")
        #expect(ReviewSite.count("  matched: true\n", in: result) == 4)
        #expect(ReviewSite.count("  read_back: {bulk_voltage: 56.4, float_voltage: 54.0}\n", in: result) == 2)
        #expect(ReviewSite.count("  read_back: {max_charging_current: 60}\n", in: result) == 2)
        let lines = result.split(separator: "\n").map(String.init)
        let before = try #require(lines.firstIndex(of: "before:"))
        let after = try #require(lines.firstIndex(of: "after:"))
        for offset in [1, 2] {
            #expect(lines[before + offset].contains("float_voltage: 54.4, "), "\(lines[before + offset])")
            #expect(lines[before + offset].contains("max_charging_current: 50, "))
            #expect(lines[after + offset].contains("float_voltage: 54.0, "), "\(lines[after + offset])")
            #expect(lines[after + offset].contains("max_charging_current: 60, "))
        }

        let profile = try ReviewSite.profile()
        #expect(profile.count == 12)
        #expect(try site.liveSettings(Self.unit1) == profile)
        #expect(try site.liveSettings(Self.unit2) == profile)

        let commitsAfterApply = site.commitCount
        let again = try site.lvx(["plan"])
        #expect(again.exitCode == 0, "\(again)")
        #expect(again.stdout.hasSuffix("\nNo changes. 2 unit(s) match the desired state.\n"))
        #expect(ReviewSite.count("  in sync\n", in: again.stdout) == 2)
        #expect(site.commitCount == commitsAfterApply, "a plan without steps is not committed")
        #expect(site.isClean)

        let applied = try site.lvx(["plans"])
        #expect(
            applied.stdout
                == "\(id)  2026-11-21T10:00:00Z  4 write(s)  lvx6048-1,lvx6048-2  applied at 2026-11-21T10:00:00Z\n"
        )
        #expect(site.sim.settersReceived.count == 4)
    }

    @Test("plan --json prints one JSON document; --no-commit saves nothing")
    func jsonAndNoCommit() throws {
        let site = try ReviewSite(ReviewSite.sets([Self.unit1: ["float_voltage": "54.4"]]))
        let commits = site.commitCount

        let preview = try site.lvx(["plan", "--no-commit"])
        #expect(preview.exitCode == 2, "\(preview)")
        #expect(preview.stdout.hasSuffix("\nPlan: 2 write(s) on 2 of 2 unit(s) (not saved).\n"))
        let previewJSON = try site.lvx(["plan", "--json", "--no-commit"])
        #expect(previewJSON.exitCode == 2, "\(previewJSON)")
        #expect(previewJSON.stdout.split(separator: "\n").count == 1)
        #expect(site.commitCount == commits)
        #expect(site.isClean)
        #expect(!FileManager.default.fileExists(atPath: site.repo.path.appendingPathComponent("plans").path))

        let result = try site.lvx(["plan", "--json"])
        #expect(result.exitCode == 2, "\(result)")
        #expect(result.stdout.split(separator: "\n").count == 1, "one document on one line")
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        )
        let id = try #require(document["id"] as? String)
        #expect(id.count == 16)
        #expect((document["digest"] as? String)?.hasPrefix(id) == true)
        #expect(site.file("plans/\(id).yaml") != nil, "the plan printed is the plan committed")
        #expect(site.commitCount == commits + 1)
        #expect(site.isClean)
        let units = try #require(document["units"] as? [[String: Any]])
        #expect(units.map { $0["name"] as? String } == ["lvx6048-1", "lvx6048-2"])
        #expect(units.map { $0["parallel_index"] as? Int } == [0, 1])
        let steps = units.map { ($0["steps"] as? [[String: Any]]) ?? [] }
        #expect(steps.map(\.count) == [1, 1])
        #expect(steps.flatMap { $0.map { $0["command"] as? String } } == ["MCHGV564,540", "MCHGV564,540"])
        let to = try #require(steps.first?.first?["to"] as? [String: Any])
        #expect((to["float_voltage"] as? NSNumber)?.doubleValue == 54.0)
        let from = try #require(steps.first?.first?["from"] as? [String: Any])
        #expect((from["float_voltage"] as? NSNumber)?.doubleValue == 54.4)
        #expect(site.sim.settersReceived.isEmpty)
    }

    @Test("tolerance: 54.1 is within float_voltage 0.1 of 54.0 (no changes); 54.2 is not (a step)")
    func tolerance() throws {
        let site = try ReviewSite(ReviewSite.sets([Self.unit1: ["float_voltage": "54.1"]]))
        let commits = site.commitCount
        let within = try site.lvx(["plan"])
        #expect(within.exitCode == 0, "\(within)")
        #expect(within.stdout.contains("  = float_voltage: 54.1 (within 0.1 V of 54.0)\n"), "\(within)")
        #expect(within.stdout.hasSuffix("\nNo changes. 2 unit(s) match the desired state.\n"))
        #expect(site.commitCount == commits)

        try site.setLive(Self.unit1, "float_voltage", 54.2)
        let beyond = try site.lvx(["plan", "--no-commit"])
        #expect(beyond.exitCode == 2, "\(beyond)")
        #expect(beyond.stdout.contains("  ~ float_voltage: 54.2 -> 54.0\n      MCHGV564,540\n"), "\(beyond)")

        // Without the tolerance, the standard 0.05 V applies and 54.1 is drift.
        let strict = try ReviewSite(
            ReviewSite.sets([Self.unit1: ["float_voltage": "54.1"]]),
            site: ReviewSite.site(tolerances: nil)
        )
        let drifted = try strict.lvx(["plan", "--no-commit"])
        #expect(drifted.exitCode == 2, "\(drifted)")
        #expect(drifted.stdout.contains("  ~ float_voltage: 54.1 -> 54.0\n"), "\(drifted)")
        #expect(site.sim.settersReceived.isEmpty && strict.sim.settersReceived.isEmpty)
    }

    @Test("accepted drift: 100 A with an accept entry is left alone; after 'until' it is planned back to 60 A")
    func acceptedDrift() throws {
        let accept = """
            accept:
              - {unit: lvx6048-1, key: max_charging_current, value: 100, reason: set on the LCD, until: 2026-12-31}
              - {unit: lvx6048-2, key: max_charging_current, value: 100, reason: set on the LCD, until: 2026-12-31}

            """
        let site = try ReviewSite(
            ReviewSite.sets([
                Self.unit1: ["max_charging_current": "100"], Self.unit2: ["max_charging_current": "100"],
            ]),
            site: ReviewSite.site(extra: accept)
        )
        let accepted = try site.lvx(["plan"], ["LVX_NOW": "2026-12-31T23:00:00Z"])
        #expect(accepted.exitCode == 0, "\(accepted)")
        #expect(
            ReviewSite.count(
                "  = max_charging_current: 100 (accepted: set on the LCD, until 2026-12-31)\n",
                in: accepted.stdout
            ) == 2,
            "\(accepted)"
        )
        #expect(accepted.stdout.hasSuffix("\nNo changes. 2 unit(s) match the desired state.\n"))
        #expect(accepted.stderr.isEmpty, "\(accepted)")

        let later = ["LVX_NOW": "2027-01-01T00:00:00Z"]
        let expired = try site.lvx(["plan"], later)
        #expect(expired.exitCode == 2, "\(expired)")
        for (line, unit) in [(13, "lvx6048-1"), (14, "lvx6048-2")] {
            #expect(
                expired.stderr.contains(
                    "lvx.yaml:\(line):93: warning: accept entry for unit '\(unit)' and key 'max_charging_current' expired on 2026-12-31 and no longer applies\n"
                ),
                "\(expired)"
            )
        }
        #expect(expired.stdout.contains("  ~ max_charging_current: 100 -> 60\n      MCHGC0,060\n"), "\(expired)")
        #expect(expired.stdout.contains("  ~ max_charging_current: 100 -> 60\n      MCHGC1,060\n"))
        // The plan checked that MCHGC accepts 60 before offering the write.
        #expect(site.sim.log(Self.unit1).contains { $0.contains(" P MCHGCR ") })
        let id = try #require(ReviewSite.planID(in: expired.stdout))
        #expect(try site.lvx(["approve", id], later).exitCode == 0)
        let apply = try site.lvx(["apply", id], later)
        #expect(apply.exitCode == 0, "\(apply)")
        #expect(site.setters(Self.unit1) == ["MCHGC0,060"])
        #expect(site.setters(Self.unit2) == ["MCHGC1,060"])
        #expect(try site.liveSettings(Self.unit1)["max_charging_current"] == "60")
        #expect(try site.liveSettings(Self.unit2)["max_charging_current"] == "60")
    }

    @Test("a stack with one drifted unit: both get the same writes, each with its own parallel digit")
    func stackAndParallelDigit() throws {
        let site = try ReviewSite(
            ReviewSite.sets([
                Self.unit2: [
                    "max_utility_charging_current": "20", "max_charging_current": "50",
                    "charger_priority": "solar_only",
                ]
            ])
        )
        let plan = try site.lvx(["plan"])
        #expect(plan.exitCode == 2, "\(plan)")
        let id = try #require(ReviewSite.planID(in: plan.stdout))
        let p1 = site.sim.port(Self.unit1)
        let p2 = site.sim.port(Self.unit2)
        #expect(
            plan.stdout.hasPrefix(
                """
                lvx6048-1 (96142109100037) on \(p1)
                  = max_utility_charging_current already set; written so the stack stays identical
                      MUCHGC0,030
                  = max_charging_current already set; written so the stack stays identical
                      MCHGC0,060
                  = charger_priority already set; written so the stack stays identical
                      PCP0,0

                lvx6048-2 (96142408100255) on \(p2)
                  ~ max_utility_charging_current: 20 -> 30
                      MUCHGC1,030
                  ~ max_charging_current: 50 -> 60
                      MCHGC1,060
                  ~ charger_priority: solar_only -> solar_first
                      PCP1,0

                Plan \(id): 6 write(s) on 2 of 2 unit(s).
                """
            ),
            "\(plan)"
        )
        #expect(try site.lvx(["approve", id]).exitCode == 0)
        let apply = try site.lvx(["apply", id])
        #expect(apply.exitCode == 0, "\(apply)")
        // The digit is each unit's own index (GS), never the seed's constant 0.
        #expect(site.setters(Self.unit1) == ["MUCHGC0,030", "MCHGC0,060", "PCP0,0"])
        #expect(site.setters(Self.unit2) == ["MUCHGC1,030", "MCHGC1,060", "PCP1,0"])
        #expect(
            site.writeSequence(Self.unit2) == [
                "S MUCHGC1,030", "P PIRI", "S MCHGC1,060", "P PIRI", "S PCP1,0", "P PIRI",
            ]
        )
        let profile = try ReviewSite.profile()
        #expect(try site.liveSettings(Self.unit1) == profile)
        #expect(try site.liveSettings(Self.unit2) == profile)
    }

    @Test("a stack member already at a paired setter's values is written too, and the plan says why")
    func stackPairedSetter() throws {
        let site = try ReviewSite(ReviewSite.sets([Self.unit1: ["float_voltage": "54.4"]]))
        let plan = try site.lvx(["plan", "--no-commit"])
        #expect(plan.exitCode == 2, "\(plan)")
        let second = try #require(plan.stdout.components(separatedBy: "\n\n").dropFirst().first, "\(plan)")
        #expect(second.hasPrefix("lvx6048-2 (96142408100255) on \(site.sim.port(Self.unit2))\n"))
        #expect(second.hasSuffix("      MCHGV564,540"), "the in-sync member gets the same MCHGV: \(second)")
        #expect(
            second.contains("  = bulk_voltage, float_voltage already set; written so the stack stays identical\n"),
            "\(second)"
        )
        // `lvx show` gives the reviewer the same note.
        let id = try site.plan()
        let shown = try site.lvx(["show", id])
        #expect(shown.stdout.contains("\n" + second + "\n"), "\(shown)")
    }
}
