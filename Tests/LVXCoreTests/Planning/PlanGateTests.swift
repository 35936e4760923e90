import Testing

@testable import LVXCore

private let now = WallTime(secondsSince1970: 1_795_255_200)  // 2026-11-21T10:00:00Z

/// The plan gate: every refusal and every state, decided from records alone.
@Suite("plan gate")
struct PlanGateTests {
    typealias F = PlanFixture
    static let policy = ApplyPolicy(approvers: ["alice", "bob"])
    static let state = F.site([F.unit("lvx6048-1", F.first)])
    static let drifted = F.observation(F.first, F.with(F.seed, [.floatVoltage: 544, .maxChargingCurrent: 50]))

    /// The plan the planner makes for `drifted` (float and current), two steps.
    static func plan(created: WallTime = now, digest: String = "d1") -> PlanDocument {
        let unitPlan = F.plan(state, [(F.first, drifted)])[0]
        return PlanDocument(
            created: created,
            expires: created.adding(seconds: 86_400),
            desiredCommit: String(repeating: "a", count: 40),
            desiredDigest: digest,
            toolVersion: "test",
            site: nil,
            units: [
                PlannedUnit(
                    serial: F.first,
                    name: "lvx6048-1",
                    port: drifted.port,
                    firmware: drifted.firmware,
                    parallelIndex: 0,
                    observedDigest: drifted.digest,
                    observed: drifted.settings,
                    steps: unitPlan.writes.map { w in
                        var from = Settings()
                        for k in w.keys { from[k] = drifted.settings[k] }
                        return PlanStep(write: w, from: from, command: Self.encode(w))
                    }
                )
            ]
        )
    }

    static func encode(_ w: SettingWrite) -> String {
        switch w {
        case .chargeVoltages(let b, let f): "MCHGV\(b.raw),\(f.raw)"
        case .maxChargingCurrent(let v, let m): "MCHGC\(m),0\(v.raw)"
        case .cutoffVoltage(let v): "PSDV\(v.raw)"
        default: "?"
        }
    }

    static func approval(_ plan: PlanDocument, by: String = "alice", digest: String? = nil) -> ApprovalRecord {
        ApprovalRecord(
            planID: plan.id,
            planDigest: digest ?? plan.digest,
            approvedBy: by,
            approvedAt: now,
            expires: plan.expires
        )
    }

    static let later = now.adding(seconds: 86_401)

    @Test("each record decides the state, in the order that makes the state true")
    func states() {
        let plan = Self.plan()
        let approved = PlanRecords(plan: plan, approval: Self.approval(plan))
        func state(_ r: PlanRecords, _ at: WallTime = now) -> String {
            PlanGate.state(of: r, policy: Self.policy, now: at).description
        }
        #expect(state(PlanRecords(plan: plan)) == "pending approval")
        #expect(state(approved) == "approved by alice at 2026-11-21T10:00:00Z")
        #expect(state(approved, Self.later) == "expired at 2026-11-22T10:00:00Z")
        #expect(
            state(PlanRecords(plan: plan, approval: Self.approval(plan, digest: "x"))).hasPrefix("approval refused: ")
        )
        #expect(
            state(PlanRecords(plan: plan, approval: Self.approval(plan, by: "mallory")))
                == "approval refused: 'mallory' is not in apply.approvers"
        )
        var r = approved
        r.lastRefusal = RefusalRecord(
            planID: plan.id,
            at: now,
            stale: false,
            message: "could not stop powermon.service: denied"
        )
        #expect(
            state(r)
                == "approved by alice; the last apply stopped before any write: could not stop powermon.service: denied"
        )
        r.lastRefusal?.stale = true
        #expect(state(r) == "stale: could not stop powermon.service: denied")
        r.inProgress = ApplyingRecord(
            planID: plan.id,
            planDigest: plan.digest,
            approvedBy: "alice",
            started: now,
            pid: 1,
            stoppedServices: []
        )
        #expect(state(r) == "apply started at 2026-11-21T10:00:00Z and not finished")
        r.result = ApplyResult.Summary(
            outcome: .interrupted,
            finished: now,
            error: "interrupted (process died)",
            failedStep: nil
        )
        #expect(state(r) == "interrupted: interrupted (process died)")
        r.result = ApplyResult.Summary(
            outcome: .failed,
            finished: now,
            error: "MCHGC0,060 on 'lvx6048-1': refused",
            failedStep: "x"
        )
        #expect(state(r) == "failed: MCHGC0,060 on 'lvx6048-1': refused")
        r.result = ApplyResult.Summary(outcome: .applied, finished: now, error: nil, failedStep: nil)
        #expect(state(r) == "applied at 2026-11-21T10:00:00Z")
        let withdrawn = PlanRecords(
            plan: plan,
            withdrawal: WithdrawalRecord(planID: plan.id, by: "bob", at: now, reason: "no")
        )
        #expect(state(withdrawn) == "withdrawn by bob: no")
        let superseded = PlanRecords(
            plan: plan,
            withdrawal: WithdrawalRecord(
                planID: plan.id,
                by: "lvx",
                at: now,
                reason: nil,
                supersededBy: "feedfeedfeedfeed"
            )
        )
        #expect(state(superseded) == "superseded by feedfeedfeedfeed")
        #expect(!PlanGate.state(of: superseded, policy: Self.policy, now: now).isLive)
    }

    @Test("every refusal of approve and apply is its own case")
    func refusals() {
        let plan = Self.plan()
        let id = plan.id
        func apply(_ r: PlanRecords, _ at: WallTime = now) -> Refusal? {
            PlanGate.checkApply(r, policy: Self.policy, now: at)
        }
        func approve(_ r: PlanRecords, _ who: String = "bob") -> Refusal? {
            PlanGate.checkApprove(r, approver: who, policy: Self.policy, now: now)
        }
        #expect(apply(PlanRecords(plan: plan)) == .notApproved(id: id))
        #expect(apply(PlanRecords(plan: plan, approval: Self.approval(plan))) == nil)
        #expect(apply(PlanRecords(plan: plan, approval: Self.approval(plan, digest: "x"))) == .digestMismatch(id: id))
        #expect(
            apply(PlanRecords(plan: plan, approval: Self.approval(plan, by: "mallory")))
                == .approverNotAllowed(id: id, approver: "mallory", allowed: ["alice", "bob"])
        )
        #expect(
            apply(PlanRecords(plan: plan, approval: Self.approval(plan)), Self.later)
                == .expired(id: id, at: plan.expires)
        )
        let applied = ApplyResult.Summary(outcome: .applied, finished: now, error: nil, failedStep: nil)
        #expect(
            apply(PlanRecords(plan: plan, approval: Self.approval(plan), result: applied))
                == .alreadyApplied(id: id, outcome: .applied)
        )
        #expect(approve(PlanRecords(plan: plan, result: applied)) == .alreadyApplied(id: id, outcome: .applied))
        let withdrawal = WithdrawalRecord(planID: id, by: "bob", at: now, reason: "r")
        #expect(
            apply(PlanRecords(plan: plan, approval: Self.approval(plan), withdrawal: withdrawal))
                == .withdrawn(id: id, by: "bob", reason: "r")
        )
        var superseded = withdrawal
        superseded.supersededBy = "feedfeedfeedfeed"
        #expect(approve(PlanRecords(plan: plan, withdrawal: superseded)) == .superseded(id: id, by: "feedfeedfeedfeed"))
        let stale = RefusalRecord(planID: id, at: now, stale: true, message: "'lvx6048-1' changed")
        #expect(
            apply(PlanRecords(plan: plan, approval: Self.approval(plan), lastRefusal: stale))
                == .stale(id: id, reasons: [.recorded("'lvx6048-1' changed")])
        )
        let services = RefusalRecord(planID: id, at: now, stale: false, message: "could not stop")
        #expect(
            apply(PlanRecords(plan: plan, approval: Self.approval(plan), lastRefusal: services)) == nil,
            "a fixable refusal keeps the plan"
        )
        let progress = ApplyingRecord(
            planID: id,
            planDigest: plan.digest,
            approvedBy: "alice",
            started: now,
            pid: 1,
            stoppedServices: []
        )
        #expect(
            apply(PlanRecords(plan: plan, approval: Self.approval(plan), inProgress: progress))
                == .applyInProgress(id: id)
        )
        #expect(
            approve(PlanRecords(plan: plan), "mallory")
                == .mayNotApprove(approver: "mallory", allowed: ["alice", "bob"])
        )
        #expect(
            approve(PlanRecords(plan: plan, approval: Self.approval(plan)))
                == .alreadyApproved(id: id, by: "alice", at: now)
        )
        var empty = plan
        empty.units[0].steps = []
        #expect(approve(PlanRecords(plan: empty)) == .noSteps(id: empty.id))
    }

    @Test("stale reasons: desired state, unit not found, unreadable, changed (with each change)")
    func staleReasons() {
        let plan = Self.plan()
        #expect(
            PlanGate.staleReasons(plan, currentDesiredDigest: "d1", observed: [F.first: .success(Self.drifted)]).isEmpty
        )
        #expect(
            PlanGate.staleReasons(plan, currentDesiredDigest: "d2", observed: [F.first: .success(Self.drifted)]) == [
                .desiredStateChanged
            ]
        )
        #expect(
            PlanGate.staleReasons(plan, currentDesiredDigest: "d1", observed: [:]) == [.notFound(unit: "lvx6048-1")]
        )
        let error = DeviceError(kind: .timeout, port: "p", command: "PIRI", detail: "late")
        #expect(
            PlanGate.staleReasons(plan, currentDesiredDigest: "d1", observed: [F.first: .failure(error)]) == [
                .unreadable(unit: "lvx6048-1", error: "p: PIRI: late")
            ]
        )
        var moved = Self.drifted
        moved.settings[.floatVoltage] = F.v(546)
        moved.parallelIndex = 2
        #expect(
            PlanGate.staleReasons(plan, currentDesiredDigest: "d1", observed: [F.first: .success(moved)])
                == [.changed(unit: "lvx6048-1", changes: ["parallel index 0 -> 2", "float_voltage 54.4 -> 54.6"])]
        )
    }

    @Test("a plan is what the desired state gives, step for step; any edit is named")
    func difference() {
        let plan = Self.plan()
        func diff(_ p: PlanDocument, digest: String = "d1", observed: Observation = PlanGateTests.drifted) -> String? {
            PlanGate.difference(
                p,
                desired: Self.state,
                desiredDigest: digest,
                observed: [F.first: observed],
                today: F.today,
                encode: Self.encode
            )
        }
        #expect(diff(plan) == nil)
        #expect(
            diff(plan, digest: "other") == "the files at desired_commit aaaaaaaaaaaa are not the ones the plan names"
        )
        var current = plan
        current.units[0].steps[1] = PlanStep(
            write: .maxChargingCurrent(F.v(10), parallelIndex: 0),
            from: plan.units[0].steps[1].from,
            command: "MCHGC0,010"
        )
        #expect(diff(current) == "step 2 on 'lvx6048-1' is MCHGC0,010, the desired state gives MCHGC0,060")
        var command = plan
        command.units[0].steps[0].command = "MCHGV564,539"
        #expect(diff(command) == "step 1 on 'lvx6048-1' is MCHGV564,539, the desired state gives MCHGV564,540")
        var from = plan
        from.units[0].steps[0].from[.floatVoltage] = F.v(530)
        #expect(diff(from) == "step 1 on 'lvx6048-1' states other 'from' values than the unit holds")
        var extra = plan
        extra.units[0].steps.insert(
            PlanStep(write: .cutoffVoltage(F.v(500)), from: Settings([.cutoffVoltage: F.v(480)]), command: "PSDV500"),
            at: 0
        )
        #expect(diff(extra) == "step 1 on 'lvx6048-1' is PSDV500, the desired state gives MCHGV564,540")
        var missing = plan
        missing.units[0].steps.removeLast()
        #expect(diff(missing) == "'lvx6048-1' is missing step 2: MCHGC0,060")
        var renamed = plan
        renamed.units[0].name = "other"
        #expect(diff(renamed) == "unit 96142109100037 is named 'lvx6048-1', not 'other'")
        var stranger = plan
        stranger.units[0].serial = F.second
        #expect(diff(stranger) == "'lvx6048-1' (96142408100255) is not a unit of the desired state")
    }

    @Test("a new plan supersedes only pending plans that write one of its units")
    func supersession() {
        let older = Self.plan(created: now.adding(seconds: -60))
        let newer = Self.plan()
        let pending = PlanRecords(plan: older)
        let approved = PlanRecords(plan: older, approval: Self.approval(older))
        #expect(PlanGate.superseded(by: newer, among: [pending], policy: Self.policy, now: now) == [older.id])
        #expect(PlanGate.superseded(by: newer, among: [approved], policy: Self.policy, now: now).isEmpty)
        #expect(
            PlanGate.superseded(by: newer, among: [PlanRecords(plan: newer)], policy: Self.policy, now: now)
                .isEmpty
        )
        var elsewhere = older
        elsewhere.units[0].serial = F.second
        #expect(
            PlanGate.superseded(by: newer, among: [PlanRecords(plan: elsewhere)], policy: Self.policy, now: now)
                .isEmpty
        )
    }
}
