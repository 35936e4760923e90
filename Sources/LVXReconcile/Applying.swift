import LVXCore

/// What an apply tells its caller as it goes, for the terminal and the journal.
public enum ApplyEvent: Sendable {
    /// The plan passed the gate's checks and is about to be carried out.
    case starting(PlanDocument, approvedBy: String)
    /// A step of the engine (services, re-read, each write with its read-back).
    case progress(PlanApplier.Event)
}

extension Reconciler {
    /// How an apply ended, and the records for the caller to commit.
    public struct ApplyReport: Sendable {
        public var status: ExitStatus
        public var plan: PlanDocument
        public var result: ApplyResult?
        /// Why nothing was written, after the approval checks passed (stale, not desired, services).
        public var refusal: Refusal?
        /// When the services could not be started again.
        public var restartError: String?
        /// The records to commit: the result, or the refusal.
        public var files: [String: String]
        public var commitMessage: String

        /// What to do after a failed or interrupted apply; a write the unit refused or did not
        /// keep names its keys and the two ways on.
        public var nextStep: String? {
            guard let result, result.outcome != .applied else { return nil }
            let evidence = "later writes were not sent; the evidence is in \(LifecyclePaths.result(plan.id))"
            guard result.outcome == .failed,
                let failed = result.steps.first(where: \.failed),
                failed.ack == .refused || (failed.ack == .accepted && failed.readBack != nil),
                let step = plan.units.first(where: { $0.name == failed.unit })?.steps.first(where: {
                    $0.command == failed.command
                })
            else { return evidence }
            let keys = step.changingKeys.map(\.rawValue).joined(separator: ", ")
            return
                "\(evidence). '\(failed.unit)' did not take \(keys): set it on the LCD and add an `accept` entry, or fix the profile; then `lvx plan` again"
        }
    }

    /// The gate's checks, then the apply: the in-progress record is committed before the first
    /// write, and the result (or the refusal) is returned for the caller to commit, alone (`lvx
    /// apply`) or with a run's files (`lvx run`).
    ///
    /// The caller holds the repository lock.
    public func apply(
        _ planID: String?,
        isCancelled: @escaping @Sendable () -> Bool,
        events: @escaping @Sendable (ApplyEvent) -> Void
    ) async throws -> ApplyReport {
        let now = clock.now()
        let snapshot = try snapshot()
        let state = try snapshot.requireValid()
        try requireBranch()
        let book = records(at: snapshot)
        guard let id = try planID ?? book.newestApproved(policy: state.applyPolicy, now: now) else {
            throw Refusal.nothingApproved
        }
        let records = try book.records(id)
        if let refusal = PlanGate.checkApply(records, policy: state.applyPolicy, now: now) { throw refusal }
        let plan = records.plan
        let approvedBy = records.approval?.approvedBy ?? "?"
        if state.applyPolicy.requireDistinctApprover {
            try requireSecondPerson(plan, approver: approvedBy, book: book)
        }
        // The desired state the plan names, to plan again from the fresh read before any write.
        let atPlan = try? self.snapshot(at: plan.desiredCommit)

        events(.starting(plan, approvedBy: approvedBy))
        let opened = await connector.connect(state.units)
        var devices: [SerialNumber: any InverterDevice] = [:]
        for (serial, result) in opened {
            switch result {
            case .success(let device): devices[serial] = device
            case .failure(let error):
                if plan.units.contains(where: { $0.serial == serial }) {
                    throw UnitUnreadable(unit: state.unit(serial: serial)?.name ?? serial.digits, error: error)
                }
            }
        }
        let currentDigest = snapshot.files.digest
        let repository = self.repository
        let clock = self.clock
        let processID = self.processID
        let codec = self.codec
        let commitProgress: @Sendable (ApplyingRecord.Phase, [String], String) throws -> Void = {
            phase,
            units,
            message in
            let record = ApplyingRecord(
                planID: plan.id,
                planDigest: plan.digest,
                approvedBy: approvedBy,
                started: clock.now(),
                pid: processID,
                stoppedServices: units,
                phase: phase
            )
            let book = RecordBook(repository: repository, codec: codec, commit: snapshot.commit)
            try book.commit(
                [LifecyclePaths.inProgress(plan.id): try book.render(record.json, header: "lvx apply in progress")],
                message: message,
                time: clock.now()
            )
        }
        let stacks = state.stacks.map { stack in Set(stack.members.compactMap { state.unit(named: $0)?.serial }) }
        let applier = PlanApplier(
            plan: plan,
            approvedBy: approvedBy,
            stopUnits: state.applyPolicy.stopUnits,
            stacks: stacks
        )
        let outcome = await applier.run(
            devices: devices,
            services: services,
            clock: clock,
            verify: { observed in
                let reasons = PlanGate.staleReasons(plan, currentDesiredDigest: currentDigest, observed: observed)
                if !reasons.isEmpty { return .stale(id: plan.id, reasons: reasons) }
                guard let atPlan, let desired = atPlan.state else {
                    return .notDesired(
                        id: plan.id,
                        difference: "its desired_commit \(plan.desiredCommit) holds no valid desired state"
                    )
                }
                return PlanGate.difference(
                    plan,
                    desired: desired,
                    desiredDigest: atPlan.files.digest,
                    observed: observed.compactMapValues { try? $0.get() },
                    today: CivilDate(now),
                    encode: RecordBook.encode
                ).map { .notDesired(id: plan.id, difference: $0) }
            },
            beforeStopping: { units in
                // Before anything is stopped: a process killed while the services are down is found.
                try commitProgress(.stopping, units, "apply plan \(plan.id): stopping \(units.joined(separator: ", "))")
            },
            beforeFirstWrite: { stopped in
                try commitProgress(.writing, stopped, "apply plan \(plan.id): started")
            },
            isCancelled: isCancelled,
            progress: { events(.progress($0)) }
        )
        switch outcome {
        case .refused(let refusal, let restartError):
            var files: [String: String] = [:]
            if !state.applyPolicy.stopUnits.isEmpty {
                // The services are running again: the in-progress record is closed, not dead.
                let ended = ApplyingRecord(
                    planID: plan.id,
                    planDigest: plan.digest,
                    approvedBy: approvedBy,
                    started: now,
                    pid: processID,
                    stoppedServices: [],
                    phase: .ended
                )
                files[LifecyclePaths.inProgress(plan.id)] = try book.render(
                    ended.json,
                    header: "lvx apply of plan \(plan.id) ended before any write"
                )
            }
            if let record = RefusalRecord(refusal, at: clock.now()) {
                files[LifecyclePaths.refusal(plan.id)] = try book.render(
                    record.json,
                    header: "lvx apply of plan \(plan.id) stopped before any write"
                )
            }
            return ApplyReport(
                status: .refused,
                plan: plan,
                refusal: refusal,
                restartError: restartError,
                files: files,
                commitMessage: "apply plan \(plan.id): refused before any write"
            )
        case .ran(let result):
            let ok = result.outcome == .applied && result.restartError == nil
            return ApplyReport(
                status: ok ? .success : .applyFailed,
                plan: plan,
                result: result,
                restartError: result.restartError,
                files: [
                    LifecyclePaths.result(plan.id): try book.render(
                        result.json,
                        header: "lvx apply result for plan \(plan.id)"
                    )
                ],
                commitMessage: "apply plan \(plan.id): \(result.outcome.rawValue)"
                    + (result.error.map { " (\($0))" } ?? "")
            )
        }
    }

    /// Four eyes: refuses when the approver authored, committed or signed a change to the desired
    /// state since the last plan applied to these units, up to the plan's desired commit.
    func requireSecondPerson(_ plan: PlanDocument, approver: String, book: RecordBook) throws {
        guard let verifier else {
            throw RepositoryError(
                "apply.require_distinct_approver is true, but this lvx cannot read who changed the desired state"
            )
        }
        let units = Set(plan.units.filter { !$0.steps.isEmpty }.map(\.serial))
        let since = try book.lastAppliedDesiredCommit(for: units)
        for change in try verifier.desiredStateChanges(after: since, upTo: plan.desiredCommit, approver: approver) {
            let person: PersonIdentity? =
                change.author.isNamed(approver)
                ? change.author : change.committer.isNamed(approver) ? change.committer : nil
            if let person {
                throw Refusal.sameApprover(id: plan.id, commit: change.commit, person: person.description)
            }
            if change.signedByApprover {
                throw Refusal.sameApprover(id: plan.id, commit: change.commit, person: "\(approver) (its signer)")
            }
        }
    }

    /// Commits an apply's records on their own (`lvx apply`).
    public func commit(_ report: ApplyReport) throws(RepositoryError) {
        guard !report.files.isEmpty else { return }
        let book = RecordBook(repository: repository, codec: codec, commit: "")
        try book.commit(report.files, message: report.commitMessage, time: clock.now())
    }
}

extension PlanStep {
    /// The keys the step changes (all of its keys when it changes none, as a stack member's write).
    public var changingKeys: [SettingKey] {
        let changing = write.keys.filter { from[$0] != to[$0] }
        return changing.isEmpty ? write.keys : changing
    }

    /// `max_charging_current 60 -> 80`: what the step changes, for people and the journal.
    public var change: String {
        changingKeys.map { k in
            "\(k.rawValue) \(from[k].map(k.format) ?? "?") -> \(to[k].map(k.format) ?? "?")"
        }.joined(separator: ", ")
    }
}
