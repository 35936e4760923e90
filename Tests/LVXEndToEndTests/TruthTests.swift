import Foundation
import LVXCore
import LVXTestSupport
import LVXWire
import LVXYAML
import Testing

/// What the review cycle promises against forgery, kills and misreporting: a forged plan is inert,
/// a killed apply is recorded, and every plan's state is told as it is.
@Suite("review cycle truth end to end")
struct TruthTests {
    static let unit1 = ReviewSite.unit1
    static let unit2 = ReviewSite.unit2

    /// Both units at float 54.4 V and 50 A: four steps, two per unit.
    static let drift = ReviewSite.sets([
        unit1: ["float_voltage": "54.4", "max_charging_current": "50"],
        unit2: ["float_voltage": "54.4", "max_charging_current": "50"],
    ])

    /// Loads a saved plan the way lvx does.
    static func load(_ text: String, _ id: String) throws -> PlanDocument {
        let node = try YAMLParser.parse(Array(text.utf8), file: "plans/\(id).yaml")
        return try PlanDocument(node: node) { try? PI18Setter($0).payload }
    }

    /// Writes `plan` (its digest recomputed, as an attacker would) with an approval by alice.
    static func forge(_ plan: PlanDocument, in site: ReviewSite) throws -> String {
        let approval = ApprovalRecord(
            planID: plan.id,
            planDigest: plan.digest,
            approvedBy: "alice",
            approvedAt: plan.created,
            expires: plan.expires
        )
        try site.commit([
            "plans/\(plan.id).yaml": plan.json.text + "\n",
            "approvals/\(plan.id).yaml": approval.json.text + "\n",
        ])
        return plan.id
    }

    @Test(
        "a forged plan with a recomputed digest and a matching approval is refused before any write",
        arguments: ["current", "voltages", "cutoff"]
    )
    func forgedPlan(forgery: String) throws {
        let site = try ReviewSite(Self.drift)
        let id = try site.plan()
        var plan = try Self.load(try #require(site.file("plans/\(id).yaml")), id)
        let expected: String
        switch forgery {
        case "current":
            // 10 A where the profile says 60 A.
            let write = SettingWrite.maxChargingCurrent(SettingValue(raw: 10), parallelIndex: 0)
            plan.units[0].steps[1] = PlanStep(write: write, from: plan.units[0].steps[1].from, command: "MCHGC0,010")
            expected = "step 2 on 'lvx6048-1' is MCHGC0,010, the desired state gives MCHGC0,060"
        case "voltages":
            let write = SettingWrite.chargeVoltages(bulk: SettingValue(raw: 584), float: SettingValue(raw: 584))
            plan.units[0].steps[0] = PlanStep(write: write, from: plan.units[0].steps[0].from, command: "MCHGV584,584")
            expected = "step 1 on 'lvx6048-1' is MCHGV584,584, the desired state gives MCHGV564,540"
        default:
            // A cut-off above stop-discharge, a state the validator and planner refuse.
            plan.units[0].steps.insert(
                PlanStep(
                    write: .cutoffVoltage(SettingValue(raw: 480)),
                    from: Settings([.cutoffVoltage: SettingValue(raw: 440)]),
                    command: "PSDV480"
                ),
                at: 0
            )
            expected = "step 1 on 'lvx6048-1' is PSDV480, the desired state gives MCHGV564,540"
        }
        let forged = try Self.forge(plan, in: site)
        #expect(forged != id)
        let commits = site.commitCount
        let apply = try site.lvx(["apply", forged])
        #expect(apply.exitCode == 4, "\(apply)")
        #expect(
            apply.stderr.contains(
                "error: plan '\(forged)' is not what the desired state gives: \(expected); nothing was written\n"
            ),
            "\(apply)"
        )
        #expect(site.sim.settersReceived.isEmpty, "no setter may be sent: \(site.sim.settersReceived)")
        // The refusal is recorded and ends the plan: it is never tried again.
        #expect(site.commitCount == commits + 1)
        #expect(site.file("refused/\(forged).yaml")?.contains("stale: true") == true)
        let again = try site.lvx(["apply", forged])
        #expect(again.exitCode == 4)
        #expect(again.stderr.hasPrefix("error: plan is stale: not what the desired state gives: \(expected)\n"))
        #expect(site.sim.settersReceived.isEmpty)
    }

    @Test(
        "SIGKILL after each write of an apply at 2400 baud: recovery records what the units hold and restarts the services",
        .enabled(if: StandInSystemd.isAvailable, "needs dbus-daemon, python3-dbus and python3-gi"),
        arguments: 1...4
    )
    func killed(after writes: Int) throws {
        let units = ["powermon.service"]
        let systemd = try StandInSystemd(units: units)
        let site = try ReviewSite(
            Self.drift,
            baud: 2400,
            site: ReviewSite.site(apply: "  stop_units: [powermon.service]\n")
        )
        site.environment["DBUS_SYSTEM_BUS_ADDRESS"] = systemd.address
        let id = try site.approvedPlan()
        let child = try LVXChild(
            ["apply", id],
            environment: [
                "LVX_REPO": site.repo.path.path, "LVX_PORTS": site.sim.portList,
                "DBUS_SYSTEM_BUS_ADDRESS": systemd.address,
            ]
        )
        let wrote = eventually(timeout: 300) { site.sim.settersReceived.count >= writes }
        try #require(wrote, "apply sent fewer than \(writes) setters: \(child.stderr)")
        child.send(SIGKILL)
        _ = child.wait(timeout: 300)
        let sent = site.sim.settersReceived.count
        #expect(site.file("applied/\(id).yaml") == nil, "a killed apply writes no result itself")
        #expect(site.file("applying/\(id).yaml")?.contains("\nstopped_services: [powermon.service]\n") == true)
        #expect(systemd.jobCalls == ["StopUnit powermon.service replace"])
        let shown = try site.lvx(["show", id])
        #expect(shown.stdout.contains("State: apply started at "), "\(shown)")

        let recover = try site.lvx(["recover"])
        #expect(recover.exitCode == 0, "\(recover)")
        #expect(recover.stdout == "recorded interrupted apply of plan(s) \(id)\n")
        #expect(systemd.jobCalls == ["StopUnit powermon.service replace", "StartUnit powermon.service replace"])
        let result = try #require(site.file("applied/\(id).yaml"))
        #expect(result.contains("\noutcome: interrupted\nerror: interrupted (process died)\n"), "\(result)")
        // Each setter the simulator took reads back; the others do not.
        #expect(ReviewSite.count("matched: true", in: result) == sent, "\(sent) sent: \(result)")
        #expect(ReviewSite.count("matched: false", in: result) == 4 - sent, "\(result)")
        #expect(site.lastSubject.hasPrefix("apply plan \(id): interrupted (process died); reads back: "))
        #expect(site.sim.settersReceived.count == sent, "recovery never writes")
        let plans = try site.lvx(["plans"])
        #expect(plans.stdout.contains("interrupted: interrupted (process died)"), "\(plans)")
        let nothing = try site.lvx(["recover"])
        #expect(nothing.stdout == "nothing to recover\n")
        #expect(site.isClean)
    }

    @Test("SIGHUP (an SSH session dropping) stops an apply between writes like SIGTERM")
    func sighup() throws {
        let site = try ReviewSite(Self.drift, baud: 2400)
        let id = try site.approvedPlan()
        let child = try LVXChild(
            ["apply", id],
            environment: ["LVX_REPO": site.repo.path.path, "LVX_PORTS": site.sim.portList]
        )
        try #require(eventually(timeout: 300) { !site.sim.settersReceived.isEmpty }, "\(child.stderr)")
        child.send(SIGHUP)
        #expect(child.wait(timeout: 300) == 3, "\(child.stderr)")
        #expect(site.sim.settersReceived.count == 1)
        #expect(site.file("applied/\(id).yaml")?.contains("\noutcome: interrupted\n") == true)
    }

    @Test("a failure to stop the services refuses before any write, keeps the plan approved, and says what to fix")
    func servicesNotStopped() throws {
        guard StandInSystemd.isAvailable else { return }
        let systemd = try StandInSystemd(
            units: ["powermon.service"],
            stopError: "org.freedesktop.DBus.Error.AccessDenied"
        )
        let site = try ReviewSite(Self.drift, site: ReviewSite.site(apply: "  stop_units: [powermon.service]\n"))
        site.environment["DBUS_SYSTEM_BUS_ADDRESS"] = systemd.address
        let id = try site.approvedPlan()
        let apply = try site.lvx(["apply", id])
        #expect(apply.exitCode == 4, "\(apply)")
        #expect(apply.stderr.hasPrefix("error: plan '\(id)' was not applied: could not stop powermon.service: "))
        #expect(apply.stderr.contains("note: the plan is still approved; let lvx stop the units"))
        #expect(site.sim.settersReceived.isEmpty)
        #expect(site.file("applied/\(id).yaml") == nil)
        let shown = try site.lvx(["show", id, "--json"])
        #expect(shown.stdout.contains("\"name\":\"refused_before_write\""), "\(shown)")
    }

    @Test("plans and show tell applied, failed, withdrawn, superseded and pending apart")
    func states() throws {
        let site = try ReviewSite(Self.drift + ["--fault", "\(Self.unit2):refuse=max_charging_current"])
        let failed = try site.approvedPlan()
        #expect(try site.lvx(["apply", failed]).exitCode == 3)
        let older = try site.plan()
        let newer = try site.plan()
        // A second plan for the same units replaces the first, in the same commit.
        let withdrawal = try #require(site.file("withdrawn/\(older).yaml"))
        #expect(withdrawal.contains("superseded_by: ") && withdrawal.contains(newer), "\(withdrawal)")
        let withdraw = try site.lvx(["withdraw", newer, "--reason", "not today"])
        #expect(withdraw.exitCode == 0, "\(withdraw)")
        let plans = try site.lvx(["plans"])
        let lines = plans.stdout.split(separator: "\n").map(String.init)
        #expect(
            lines.first(where: { $0.hasPrefix(failed) })?.hasSuffix(
                "  failed: MCHGC1,060 on 'lvx6048-2': the inverter refused the write (^0)"
            ) == true,
            "\(plans)"
        )
        #expect(
            lines.first(where: { $0.hasPrefix(newer) })?.hasSuffix("withdrawn by alice: not today") == true,
            "\(plans)"
        )
        #expect(lines.first(where: { $0.hasPrefix(older) })?.hasSuffix("superseded by \(newer)") == true, "\(plans)")
        let approve = try site.lvx(["approve", older])
        #expect(approve.exitCode == 4)
        #expect(approve.stderr.hasPrefix("error: plan '\(older)' is superseded by the newer plan '\(newer)'"))
        #expect(try site.lvx(["approve", newer]).exitCode == 4, "a withdrawn plan cannot be approved")
        // The failed plan is not pending, so a new plan leaves it as it is.
        let newest = try site.plan()
        #expect(try site.lvx(["approve", newest]).exitCode == 0)
        let after = try site.lvx(["plans"]).stdout
        #expect(after.contains("failed: MCHGC1,060 on 'lvx6048-2'"), "\(after)")
        let json = try site.lvx(["show", failed, "--json"])
        #expect(json.stdout.contains("\"state\":{\"name\":\"failed\""), "\(json)")
    }

    @Test("plan and validate say that uncommitted edits to the desired state are ignored")
    func uncommittedEdits() throws {
        let site = try ReviewSite(Self.drift)
        let quiet = try site.lvx(["validate"])
        #expect(!quiet.stderr.contains("uncommitted"), "\(quiet)")
        let profile = site.repo.path.appendingPathComponent("profiles/eg4-lp4-v2.yaml")
        let text = try String(contentsOf: profile, encoding: .utf8)
        try text.replacingOccurrences(of: "max_charging_current: 60", with: "max_charging_current: 80")
            .write(to: profile, atomically: true, encoding: .utf8)
        let warning =
            "warning: lvx reads committed files; uncommitted changes to profiles/eg4-lp4-v2.yaml are ignored (commit them first)\n"
        for command in ["validate", "plan"] {
            let result = try site.lvx([command, "--repo", site.repo.path.path])
            #expect(result.stderr.hasPrefix(warning), "\(command): \(result)")
        }
    }

}
