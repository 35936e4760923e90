import LVXCore
import Logging

extension Reconciler {
    /// What one agent pass did, committed as one commit.
    public struct PassReport: Sendable {
        public var status: ExitStatus
        public var summary: RunSummary
        /// The run's commit.
        public var commit: String
    }

    /// One pass of agent mode: validate, read every unit, dump, plan on drift (or reuse an
    /// identical pending plan), apply an approved plan when the site asks for it, and commit all
    /// of it as one commit described by the run.
    ///
    /// The caller holds the lock and has synced with the upstream; it pushes afterwards.
    /// - Throws: ``InvalidDesiredState`` (nothing read or committed), or a repository error.
    public func pass(
        logger: Logger,
        isCancelled: @escaping @Sendable () -> Bool,
        events: @escaping @Sendable (ApplyEvent) -> Void
    ) async throws -> PassReport {
        let started = clock.now()
        let today = CivilDate(started)
        notifier?.status("reading the desired state")
        let snapshot = try snapshot()
        let state: DesiredState
        do {
            state = try snapshot.requireValid()
        } catch {
            for d in snapshot.diagnostics where d.severity == .error {
                logger.error("\(d.description)", metadata: ["LVX_EXIT": "1"])
            }
            throw error
        }
        for d in snapshot.warnings { logger.warning("\(d.description)") }
        let book = records(at: snapshot)

        notifier?.status("reading \(state.units.count) unit(s)")
        let reader = UnitReader(connector: connector)
        var fleet = await reader.read(state, status: true, today: today)
        let planner = Planner(desired: state, today: today)
        var plans = planner.plan(fleet.observations)

        // The live plans, read once: for an identical pending plan, supersession and auto-apply.
        let live = try book.live(policy: state.applyPolicy, now: started)
        var files: [String: String] = [:]
        var planID: String?
        var planIsNew = false
        var problems: [String] = plans.flatMap(\.problems)
        if plans.contains(where: { !$0.writes.isEmpty }) && problems.isEmpty {
            let document = Self.document(
                plans,
                snapshot: snapshot,
                state: state,
                now: started,
                toolVersion: toolVersion
            )
            if let pending = live.first(where: { $0.plan.sameWork(as: document) }) {
                planID = pending.plan.id
            } else {
                files[LifecyclePaths.plan(document.id)] = try book.render(
                    document.json,
                    header: "lvx plan; approve with `lvx approve \(document.id)`"
                )
                let superseded = try book.supersessions(
                    by: document,
                    among: live,
                    policy: state.applyPolicy,
                    now: started
                )
                files.merge(superseded) { _, new in new }
                planID = document.id
                planIsNew = true
            }
        }

        // An approved, fresh plan is applied when the site asks for it.
        var applied: ApplyResult?
        var applyStatus: ExitStatus?
        if state.applyPolicy.autoApplyApproved,
            let approvedID = RecordBook.newestApproved(among: live, policy: state.applyPolicy, now: started)
        {
            notifier?.status("applying plan \(approvedID)")
            do {
                let report = try await apply(approvedID, isCancelled: isCancelled, events: events)
                files.merge(report.files) { _, new in new }
                if let refusal = report.refusal {
                    logger.warning(
                        "apply of \(approvedID) refused before any write: \(refusal.description)",
                        metadata: ["LVX_PLAN_ID": "\(approvedID)"]
                    )
                    // A stale plan is recorded as such once; the run's exit then reflects the
                    // units. A refusal that can be fixed (services) keeps the plan and says so.
                    if case .servicesNotStopped = refusal {
                        applyStatus = .refused
                        problems.append("apply of plan \(approvedID): \(refusal.description)")
                    }
                } else {
                    applied = report.result
                    applyStatus = report.status
                }
                if report.result?.outcome == .applied {
                    // The units changed: what this run learned before the writes is out of date.
                    fleet = await reader.read(state, status: true, today: today)
                    plans = planner.plan(fleet.observations)
                    problems = plans.flatMap(\.problems)
                    if plans.allSatisfy(\.writes.isEmpty) { planID = nil }
                }
            } catch let error as any UserFacingError {
                logger.error(
                    "apply of \(approvedID) refused: \(error.message)",
                    metadata: ["LVX_PLAN_ID": "\(approvedID)"]
                )
                applyStatus = error.exitStatus
                problems.append("apply of plan \(approvedID): \(error.message)")
            }
        }

        var units: [RunSummary.UnitOutcome] = []
        for unit in state.units {
            let plan = plans.first { $0.unit.serial == unit.serial }
            switch fleet.readings[unit.serial] {
            case .success(let reading)?:
                files[UnitDump.path(for: unit.name)] = try book.render(
                    reading.dump(unit, at: started).json,
                    header: "lvx run \(started.iso8601)"
                )
                units.append(
                    RunSummary.UnitOutcome(
                        name: unit.name,
                        serial: unit.serial,
                        reachable: true,
                        error: nil,
                        fault: reading.faults?.fault,
                        drift: plan?.drift ?? []
                    )
                )
            case let other:
                var message = "not found"
                if case .failure(let e)? = other { message = e.description }
                files[UnitDump.path(for: unit.name)] = try book.render(
                    UnitDump(name: unit.name, serial: unit.serial, takenAt: started, reachable: false, error: message)
                        .json,
                    header: "lvx run \(started.iso8601): unreachable; the last good dump is in git history"
                )
                units.append(
                    RunSummary.UnitOutcome(
                        name: unit.name,
                        serial: unit.serial,
                        reachable: false,
                        error: message,
                        fault: nil,
                        drift: []
                    )
                )
                logger.error(
                    "\(unit.name) unreachable: \(message)",
                    metadata: ["LVX_UNIT": "\(unit.name)", "LVX_SERIAL": "\(unit.serial)"]
                )
            }
        }
        for u in units where !u.drifted.isEmpty {
            let drifted = u.drifted.map {
                "\($0.key.rawValue) \($0.live.map($0.key.format) ?? "?") (want \($0.key.format($0.desired)))"
            }
            logger.warning(
                "\(u.name) drifted: \(drifted.joined(separator: ", "))",
                metadata: [
                    "LVX_UNIT": "\(u.name)", "LVX_SERIAL": "\(u.serial)",
                    "LVX_DRIFT_KEYS": "\(u.drifted.map(\.key.rawValue).joined(separator: ","))",
                    "LVX_PLAN_ID": "\(planID ?? "")",
                ]
            )
        }
        for p in problems { logger.error("\(p)") }
        if let planID { logger.warning("plan \(planID) pending", metadata: ["LVX_PLAN_ID": "\(planID)"]) }

        let status: ExitStatus =
            if applyStatus == .applyFailed {
                .applyFailed
            } else if applyStatus == .refused {
                .refused
            } else if units.contains(where: { !$0.reachable }) || !problems.isEmpty {
                .failure
            } else if planID != nil {
                .changes
            } else {
                .success
            }
        let summary = RunSummary(
            started: started,
            finished: clock.now(),
            desiredCommit: snapshot.commit,
            units: units,
            planID: planID,
            planIsNew: planIsNew,
            applied: applied,
            exitCode: Int(status.rawValue)
        )
        files["runs/last.yaml"] = try book.render(summary.json, header: "lvx run summary")
        notifier?.status("committing the run")
        let commit = try book.commit(files, message: summary.commitMessage, time: clock.now())
        return PassReport(status: status, summary: summary, commit: commit)
    }
}

extension PlanDocument {
    /// Whether `other` would do the same work: the same desired files, units, observations and steps.
    public func sameWork(as other: PlanDocument) -> Bool {
        func work(_ plan: PlanDocument) -> [String] {
            plan.units.map { "\($0.serial)|\($0.observedDigest)|\($0.steps.map(\.command).joined(separator: ","))" }
        }
        return desiredDigest == other.desiredDigest && work(self) == work(other)
    }
}
