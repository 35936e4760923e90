import Foundation
import LVXCore
import LVXReconcile
import LVXSimulator
import LVXTestSupport
import LVXWire
import LVXYAML
import Logging
import Synchronization
import Testing

/// The use cases in one process.
///
/// The simulator answers behind an in-process transport, the repository is in memory, the codec is
/// the real libyaml one: no pty, no child process, no mock of the device.
struct Harness {
    static let unit1 = "96142109100037"
    static let unit2 = "96142408100255"

    let site: InProcessSite
    let repository: InMemoryRepository
    let services: RecordingServices
    let clock = TestClock()
    var reconciler: Reconciler

    /// The seeds' site with `drift` applied to the simulated units' settings.
    init(
        drift: [String: [SettingKey: Int]] = [:],
        apply: String = "  stop_units: [powermon.service]\n  plan_lifetime: 24h\n",
        refuseStop: Bool = false,
        stacked: Bool = true
    ) throws {
        var units = SimulatorSites.seeds()
        if !stacked {
            // Two independent units: no stack, each its own master.
            for i in units.indices {
                units[i].stack = "unit\(i)"
                units[i].parallelIndex = 0
            }
        }
        site = try InProcessSite(units)
        for (serial, values) in drift {
            site.update(serial) { unit in for (key, raw) in values { unit.settings[key] = SettingValue(raw: raw) } }
        }
        let profile = try String(
            contentsOf: PackagePaths.root().appendingPathComponent("desired-state/profiles/eg4-lp4-v2.yaml"),
            encoding: .utf8
        )
        repository = InMemoryRepository(files: [
            "lvx.yaml": [
                "site: home",
                "units:",
                "  \"96142109100037\": {name: lvx6048-1, profile: eg4-lp4-v2}",
                "  \"96142408100255\": {name: lvx6048-2, profile: eg4-lp4-v2}",
                stacked ? "stacks:\n  main: [lvx6048-1, lvx6048-2]" : "",
                "tolerances:",
                "  float_voltage: 0.1",
                "apply:",
            ].joined(separator: "\n") + "\n" + apply,
            "profiles/eg4-lp4-v2.yaml": profile,
        ])
        services = RecordingServices(refuseStop: refuseStop)
        reconciler = Reconciler(
            repository: repository,
            codec: YAMLCodec(),
            connector: InProcessConnector(site: site),
            services: services,
            clock: clock,
            toolVersion: "test",
            processID: 4242
        )
    }

    /// `lvx plan` then `lvx approve` by alice; returns the plan.
    func approvedPlan() async throws -> PlanDocument {
        let outcome = try await reconciler.plan(save: true)
        #expect(outcome.saved)
        return try reconciler.approve(outcome.document.id, by: "alice").plan
    }

    func apply(_ id: String?, cancelAfter steps: Int? = nil) async throws -> Reconciler.ApplyReport {
        let done = Counter()
        let report = try await reconciler.apply(
            id,
            isCancelled: { steps.map { done.value >= $0 } ?? false },
            events: { event in if case .progress(.stepDone) = event { done.increment() } }
        )
        try reconciler.commit(report)
        return report
    }
}

final class Counter: Sendable {
    private let count = Mutex<Int>(0)
    var value: Int { count.withLock { $0 } }
    func increment() { count.withLock { $0 += 1 } }
}

@Suite("use cases in process")
struct ReconcilerTests {
    static let drift: [String: [SettingKey: Int]] = [
        Harness.unit1: [.floatVoltage: 544, .maxChargingCurrent: 50],
        Harness.unit2: [.floatVoltage: 544, .maxChargingCurrent: 50],
    ]

    @Test("plan, approve, apply: every write read back, the in-progress record first, services restarted")
    func happyPath() async throws {
        let h = try Harness(drift: Self.drift)
        let plan = try await h.approvedPlan()
        #expect(
            plan.units.map { $0.steps.map(\.command) } == [
                ["MCHGV564,540", "MCHGC0,060"], ["MCHGV564,540", "MCHGC1,060"],
            ]
        )
        let report = try await h.apply(nil)
        #expect(report.status == .success)
        #expect(report.result?.outcome == .applied)
        #expect(h.site.log(Harness.unit1).suffix(4) == ["S MCHGV564,540", "P PIRI", "S MCHGC0,060", "P PIRI"])
        #expect(h.services.calls.withLock { $0 } == ["stop powermon.service", "start powermon.service"])
        #expect(
            h.repository.messages.suffix(2) == ["apply plan \(plan.id): started", "apply plan \(plan.id): applied"]
        )
        #expect(h.repository.text("applying/\(plan.id).yaml")?.contains("pid: 4242") == true)
        #expect(h.site.unit(Harness.unit2)?.settings[.maxChargingCurrent] == SettingValue(raw: 60))
        let (_, state) = try h.reconciler.status(of: plan.id)
        #expect(state.name == "applied")
        let again = try await h.reconciler.plan(save: true)
        #expect(again.document.stepCount == 0)
    }

    @Test("a NAK stops the apply: failed, later steps not sent, the next step names the key")
    func nak() async throws {
        let h = try Harness(drift: Self.drift)
        h.site.update(Harness.unit1) { $0.faults.refusedKeys = [.floatVoltage] }
        let plan = try await h.approvedPlan()
        let report = try await h.apply(plan.id)
        #expect(report.status == .applyFailed)
        #expect(report.result?.outcome == .failed)
        #expect(report.result?.steps.map(\.ack) == [.refused, .notSent, .notSent, .notSent])
        #expect(h.site.setters == ["S MCHGV564,540"])
        #expect(
            report.nextStep?.hasSuffix(
                "'lvx6048-1' did not take float_voltage: set it on the LCD and add an `accept` entry, or fix the profile; then `lvx plan` again"
            ) == true
        )
        let (_, state) = try h.reconciler.status(of: plan.id)
        #expect(state.description == "failed: MCHGV564,540 on 'lvx6048-1': the inverter refused the write (^0)")
    }

    @Test("a silent revert fails on the read-back comparison, not on the acknowledgement")
    func silentRevert() async throws {
        let h = try Harness(drift: Self.drift)
        h.site.update(Harness.unit1) { $0.faults.ignoredKeys = [.floatVoltage] }
        let plan = try await h.approvedPlan()
        let report = try await h.apply(plan.id)
        let step = try #require(report.result?.steps.first)
        #expect(step.ack == .accepted)
        #expect(step.matched == false)
        #expect(step.detail == "read-back mismatch: float_voltage is 54.4, want 54.0")
        #expect(report.result?.outcome == .failed)
        #expect(h.site.setters == ["S MCHGV564,540"])
    }

    @Test("a lost acknowledgement: the write's effect is unknown, the apply stops")
    func lostAck() async throws {
        let h = try Harness(drift: Self.drift)
        let plan = try await h.approvedPlan()
        let serial = try #require(SerialNumber(Harness.unit1))
        h.site.before("MCHGV") { $0.update(serial) { $0.faults.dropReplies = 1 } }
        let report = try await h.apply(plan.id)
        let step = try #require(report.result?.steps.first)
        #expect(step.ack == .error)
        #expect(step.detail?.hasPrefix("no valid acknowledgement: ") == true)
        #expect(step.detail?.hasSuffix("the write's effect is unknown") == true)
        #expect(report.result?.outcome == .failed)
        #expect(h.site.setters == ["S MCHGV564,540"], "a setter is never retried")
    }

    @Test("a unit that hangs after the write: the read-back fails and nothing more is sent")
    func hang() async throws {
        let h = try Harness(drift: Self.drift)
        let plan = try await h.approvedPlan()
        let serial = try #require(SerialNumber(Harness.unit1))
        h.site.before("MCHGV") { $0.update(serial) { $0.faults.hangAfter = 1 } }
        let report = try await h.apply(plan.id)
        let step = try #require(report.result?.steps.first)
        #expect(step.ack == .accepted)
        #expect(step.detail?.hasPrefix("read-back failed: ") == true)
        #expect(report.result?.after.first?.settings == nil, "the hung unit's after-read is unknown")
        #expect(h.site.setters == ["S MCHGV564,540"])
    }

    @Test("an interruption between writes: interrupted, the rest not sent, services restarted")
    func interrupted() async throws {
        let h = try Harness(drift: Self.drift)
        let plan = try await h.approvedPlan()
        let report = try await h.apply(plan.id, cancelAfter: 1)
        #expect(report.result?.outcome == .interrupted)
        #expect(report.result?.error == "interrupted before MCHGC0,060 on 'lvx6048-1'")
        #expect(report.result?.steps.map(\.ack) == [.accepted, .notSent, .notSent, .notSent])
        #expect(h.services.calls.withLock { $0 } == ["stop powermon.service", "start powermon.service"])
    }

    @Test("a plan edited with a recomputed digest and a matching approval sends nothing")
    func forgedPlan() async throws {
        let h = try Harness(drift: Self.drift)
        let outcome = try await h.reconciler.plan(save: true)
        var forged = outcome.document
        let write = SettingWrite.maxChargingCurrent(SettingValue(raw: 10), parallelIndex: 0)
        forged.units[0].steps[1] = PlanStep(write: write, from: forged.units[0].steps[1].from, command: "MCHGC0,010")
        let approval = ApprovalRecord(
            planID: forged.id,
            planDigest: forged.digest,
            approvedBy: "alice",
            approvedAt: forged.created,
            expires: forged.expires
        )
        h.repository.commit([
            "plans/\(forged.id).yaml": forged.json.text, "approvals/\(forged.id).yaml": approval.json.text,
        ])
        let report = try await h.apply(forged.id)
        #expect(report.status == .refused)
        #expect(
            report.refusal
                == .notDesired(
                    id: forged.id,
                    difference: "step 2 on 'lvx6048-1' is MCHGC0,010, the desired state gives MCHGC0,060"
                )
        )
        #expect(h.site.setters.isEmpty)
        #expect(h.repository.text("refused/\(forged.id).yaml")?.contains("stale: true") == true)
    }

    @Test("services that cannot be stopped: refused before any write, the plan stays approved")
    func servicesNotStopped() async throws {
        let h = try Harness(drift: Self.drift, refuseStop: true)
        let plan = try await h.approvedPlan()
        let report = try await h.apply(plan.id)
        #expect(report.status == .refused)
        guard case .servicesNotStopped(_, "powermon.service", _)? = report.refusal else {
            Issue.record("\(String(describing: report.refusal))")
            return
        }
        #expect(h.site.setters.isEmpty)
        let (_, state) = try h.reconciler.status(of: plan.id)
        #expect(state.name == "refused_before_write")
        #expect(state.isLive)
    }

    @Test("a stale approved plan is refused once and recorded; the next newest-approved lookup skips it")
    func stale() async throws {
        let h = try Harness(drift: Self.drift)
        let plan = try await h.approvedPlan()
        h.site.update(Harness.unit1) { $0.settings[.floatVoltage] = SettingValue(raw: 546) }
        let report = try await h.apply(nil)
        #expect(
            report.refusal
                == .stale(id: plan.id, reasons: [.changed(unit: "lvx6048-1", changes: ["float_voltage 54.4 -> 54.6"])])
        )
        await #expect(throws: Refusal.nothingApproved) { try await h.apply(nil) }
    }

    @Test("a dead apply is recorded from a fresh read, and its services are started again")
    func recovery() async throws {
        let h = try Harness(drift: Self.drift)
        let plan = try await h.approvedPlan()
        // As if the process died after its first write: the record, one setter, nothing else.
        let record = ApplyingRecord(
            planID: plan.id,
            planDigest: plan.digest,
            approvedBy: "alice",
            started: h.clock.now(),
            pid: 99,
            stoppedServices: ["powermon.service"]
        )
        h.repository.commit(["applying/\(plan.id).yaml": try YAMLCodec().render(record.json, header: nil)])
        h.site.update(Harness.unit1) { $0.settings[.floatVoltage] = SettingValue(raw: 540) }
        #expect(try h.reconciler.status(of: plan.id).state.name == "applying")
        await #expect(throws: Refusal.applyInProgress(id: plan.id)) { try await h.apply(plan.id) }

        let recovered = try await h.reconciler.recoverInterrupted()
        #expect(recovered.map(\.planID) == [plan.id])
        #expect(h.services.calls.withLock { $0 } == ["start powermon.service"])
        let result = try #require(h.repository.text("applied/\(plan.id).yaml"))
        #expect(result.contains("outcome: interrupted"))
        #expect(result.contains("error: interrupted (process died)"))
        #expect(
            h.repository.messages.last == "apply plan \(plan.id): interrupted (process died); reads back: MCHGV564,540"
        )
        #expect(try h.reconciler.status(of: plan.id).state.name == "interrupted")
        #expect(try await h.reconciler.recoverInterrupted().isEmpty)
        #expect(h.site.setters.isEmpty, "recovery never writes")
    }

    @Test("run and plan make the same plan for a stack whose one member drifted on a current key")
    func runAndPlanAgree() async throws {
        // lvx6048-2 drifted on max_charging_current; lvx6048-1 gets the same write for the stack.
        let h = try Harness(drift: [Harness.unit2: [.maxChargingCurrent: 50]])
        let planned = try await h.reconciler.plan(save: false)
        let pass = try await h.reconciler.pass(logger: Logger(label: "test"), isCancelled: { false }, events: { _ in })
        #expect(pass.status == .changes)
        let id = try #require(pass.summary.planID)
        let saved = try RecordBook(repository: h.repository, codec: YAMLCodec(), commit: h.repository.resolve("HEAD"))
            .plan(id)
        #expect(saved.units.map { $0.steps.map(\.command) } == planned.document.units.map { $0.steps.map(\.command) })
        #expect(saved.units.map { $0.steps.map(\.command) } == [["MCHGC0,060"], ["MCHGC1,060"]])
        // Both units' current options were read, by both paths: one read path.
        #expect(h.site.log(Harness.unit1).filter { $0 == "P MCHGCR" }.count == 2)
        #expect(h.site.log(Harness.unit2).filter { $0 == "P MCHGCR" }.count == 2)
    }

    @Test("a detached HEAD is refused before any unit is touched")
    func detached() async throws {
        let h = try Harness(drift: Self.drift)
        let plan = try await h.approvedPlan()
        h.repository.detached.store(true, ordering: .relaxed)
        await #expect(throws: RepositoryError.self) { try await h.apply(plan.id) }
        #expect(h.site.setters.isEmpty)
    }

    @Test("the members of a stack are written one after another, in the plan's order")
    func stackInLockstep() async throws {
        let h = try Harness(drift: Self.drift)
        let plan = try await h.approvedPlan()
        _ = try await h.apply(plan.id)
        #expect(
            h.site.setterOrder == [
                "\(Harness.unit1) MCHGV564,540", "\(Harness.unit1) MCHGC0,060",
                "\(Harness.unit2) MCHGV564,540", "\(Harness.unit2) MCHGC1,060",
            ]
        )
    }

    @Test("independent units are written at once: one unit's write waits for the other's to arrive")
    func independentAtOnce() async throws {
        let h = try Harness(drift: Self.drift, stacked: false)
        let plan = try await h.approvedPlan()
        // Each unit's first write is held until the other's has arrived: units written one after
        // another would never get there.
        let site = h.site
        h.site.hold("MCHGV", serial: Harness.unit1) { site.arrived("\(Harness.unit2) MCHGV564,540") }
        h.site.hold("MCHGV", serial: Harness.unit2) { site.arrived("\(Harness.unit1) MCHGV564,540") }
        let report = try await h.apply(plan.id)
        #expect(report.result?.outcome == .applied)
        #expect(h.site.heldInTime.withLock { $0 } == [true, true], "one unit was not written while the other waited")
        #expect(report.result?.steps.map(\.unit) == ["lvx6048-1", "lvx6048-1", "lvx6048-2", "lvx6048-2"])
    }

    @Test("a failure in one independent unit stops the other before its next write")
    func failureStopsTheOthers() async throws {
        let h = try Harness(drift: Self.drift, stacked: false)
        h.site.update(Harness.unit1) { $0.faults.refusedKeys = [.floatVoltage] }
        let plan = try await h.approvedPlan()
        // The first unit's refused write waits until the second unit's first write has arrived, and
        // that write's read-back waits until the refusal has been reported.
        let site = h.site
        h.site.hold("MCHGV", serial: Harness.unit1) { site.arrived("\(Harness.unit2) MCHGV564,540") }
        let refused = Counter()
        h.site.hold("PIRI", serial: Harness.unit2, afterSetter: true) { refused.value > 0 }
        let report = try await h.reconciler.apply(
            plan.id,
            isCancelled: { false },
            events: { event in
                if case .progress(.stepDone(_, _, let outcome)) = event, outcome.ack == .refused { refused.increment() }
            }
        )
        #expect(h.site.heldInTime.withLock { $0 } == [true, true])
        #expect(report.result?.outcome == .failed)
        #expect(report.result?.error == "MCHGV564,540 on 'lvx6048-1': the inverter refused the write (^0)")
        // The second unit's write in flight finished; its next write was never sent.
        #expect(h.site.log(Harness.unit2).filter { $0.hasPrefix("S ") } == ["S MCHGV564,540"])
        #expect(report.result?.steps.map(\.ack) == [.refused, .notSent, .accepted, .notSent])
    }

    @Test(
        "an apply that died while its services were stopped, before any write: they are started, the plan stays approved"
    )
    func diedBeforeWrites() async throws {
        let h = try Harness(drift: Self.drift)
        let plan = try await h.approvedPlan()
        // As if killed during the re-read: the services stopped, the record says so, nothing written.
        let record = ApplyingRecord(
            planID: plan.id,
            planDigest: plan.digest,
            approvedBy: "alice",
            started: h.clock.now(),
            pid: 99,
            stoppedServices: ["powermon.service"],
            phase: .stopping
        )
        h.repository.commit(["applying/\(plan.id).yaml": try YAMLCodec().render(record.json, header: nil)])
        #expect(try h.reconciler.status(of: plan.id).state.name == "applying")
        let recovered = try await h.reconciler.recoverInterrupted()
        #expect(recovered.map(\.planID) == [plan.id])
        #expect(h.services.calls.withLock { $0 } == ["start powermon.service"])
        #expect(h.repository.text("applied/\(plan.id).yaml") == nil, "nothing was written: no result")
        let state = try h.reconciler.status(of: plan.id).state
        #expect(state.name == "refused_before_write", "\(state)")
        #expect(try await h.reconciler.recoverInterrupted().isEmpty)
        // The plan is still approved, and applies.
        let report = try await h.apply(plan.id)
        #expect(report.result?.outcome == .applied)
    }

    @Test("the in-progress record is committed before the services are stopped, and closed by a refusal")
    func recordBeforeStopping() async throws {
        let h = try Harness(drift: Self.drift)
        let plan = try await h.approvedPlan()
        h.site.update(Harness.unit1) { $0.settings[.floatVoltage] = SettingValue(raw: 546) }
        let report = try await h.apply(plan.id)
        #expect(report.status == .refused)
        let messages = h.repository.messages.suffix(2)
        #expect(messages.first == "apply plan \(plan.id): stopping powermon.service", "\(messages)")
        #expect(h.repository.text("applying/\(plan.id).yaml")?.contains("phase: ended") == true)
        #expect(h.services.calls.withLock { $0 } == ["stop powermon.service", "start powermon.service"])
        #expect(try await h.reconciler.recoverInterrupted().isEmpty, "a closed record is not a dead apply")
    }

}
