import LVXCore

/// The use cases of lvx (plan, approve, withdraw, apply, recover, one agent pass, plan states)
/// over the seams: the command line only parses, builds one of these, calls it and prints.
///
/// Like Terraform's `backend/local` under `internal/command`: every decision is here or in the
/// core, none in the executable.
public struct Reconciler: Sendable {
    public var repository: any SiteRepository
    public var codec: any RecordCodec
    public var connector: any UnitConnector
    /// Stops and starts the units in `apply.stop_units`.
    public var services: any ServiceManager
    public var clock: any WallClock
    /// sd_notify `STATUS=` lines, when under systemd.
    public var notifier: (any ServiceNotifier)?
    /// Recorded in plans.
    public var toolVersion: String
    /// Recorded in the in-progress record of an apply.
    public var processID: Int
    /// Checks approvals against the keys this host pins; `nil` leaves them unchecked.
    public var verifier: (any ApprovalVerifier)?

    public init(
        repository: any SiteRepository,
        codec: any RecordCodec,
        connector: any UnitConnector,
        services: any ServiceManager,
        clock: any WallClock,
        notifier: (any ServiceNotifier)? = nil,
        toolVersion: String,
        processID: Int,
        verifier: (any ApprovalVerifier)? = nil
    ) {
        self.repository = repository
        self.codec = codec
        self.connector = connector
        self.services = services
        self.clock = clock
        self.notifier = notifier
        self.toolVersion = toolVersion
        self.processID = processID
        self.verifier = verifier
    }

    /// The desired state at `revision`.
    public func snapshot(at revision: String = "HEAD") throws(RepositoryError) -> SiteSnapshot {
        try SiteSnapshot.load(repository, codec: codec, revision: revision, today: CivilDate(clock.now()))
    }

    /// The records at the snapshot's commit.
    public func records(at snapshot: SiteSnapshot) -> RecordBook {
        RecordBook(repository: repository, codec: codec, commit: snapshot.commit, verifier: verifier)
    }

    /// Whether approvals are checked against keys the host pins; when not, commands warn once.
    public var approvalsAuthenticated: Bool { verifier?.isConfigured ?? false }

    /// Refuses a detached HEAD, for use cases that commit after touching inverters.
    public func requireBranch() throws(RepositoryError) {
        guard try repository.branch() == nil else { return }
        throw RepositoryError(
            "HEAD is detached in \(repository.path); lvx commits only on a branch",
            hint: "check out a branch first (git switch main)"
        )
    }
}

/// A unit that could not be found or read, so no plan can be made.
public struct UnitUnreadable: UserFacingError {
    public var unit: String
    public var error: DeviceError

    public var message: String { "cannot read '\(unit)': \(error.description)" }
    public var hint: String? { error.hint }
    public var exitStatus: ExitStatus { .failure }
}

// MARK: - plan

extension Reconciler {
    /// What `lvx plan` computed.
    public struct PlanOutcome: Sendable {
        public var snapshot: SiteSnapshot
        public var state: DesiredState
        public var plans: [Planner.UnitPlan]
        public var document: PlanDocument
        /// Whether the plan was committed (it has steps and saving was asked for).
        public var saved: Bool

        /// Whether some unit cannot be planned; nothing is saved then.
        public var hasProblems: Bool { plans.contains { !$0.problems.isEmpty } }
    }

    /// Reads every unit, plans, and (with `save`) commits the plan with the supersession of the
    /// pending plans it replaces.
    public func plan(save: Bool) async throws -> PlanOutcome {
        let now = clock.now()
        let snapshot = try snapshot()
        let state = try snapshot.requireValid()
        let fleet = await UnitReader(connector: connector).read(state, status: false, today: CivilDate(now))
        for unit in state.units {
            if case .failure(let error)? = fleet.readings[unit.serial] {
                throw UnitUnreadable(unit: unit.name, error: error)
            }
        }
        let plans = Planner(desired: state, today: CivilDate(now)).plan(fleet.observations)
        let document = Self.document(plans, snapshot: snapshot, state: state, now: now, toolVersion: toolVersion)
        var outcome = PlanOutcome(snapshot: snapshot, state: state, plans: plans, document: document, saved: false)
        guard save, !outcome.hasProblems, document.stepCount > 0 else { return outcome }
        let book = records(at: snapshot)
        var files = try book.supersessions(by: document, policy: state.applyPolicy, now: now)
        files[LifecyclePaths.plan(document.id)] = try book.render(
            document.json,
            header: "lvx plan; approve with `lvx approve \(document.id)`"
        )
        let changing = document.units.filter { !$0.steps.isEmpty }.count
        try book.commit(
            files,
            message: "plan \(document.id): \(document.stepCount) write(s) on \(changing) unit(s)",
            time: now
        )
        outcome.saved = true
        return outcome
    }

    /// The plan document for `plans`, with its lifetime from the site's apply policy.
    public static func document(
        _ plans: [Planner.UnitPlan],
        snapshot: SiteSnapshot,
        state: DesiredState,
        now: WallTime,
        toolVersion: String
    ) -> PlanDocument {
        PlanDocument(
            created: now,
            expires: now.adding(seconds: state.applyPolicy.planLifetimeSeconds),
            desiredCommit: snapshot.commit,
            desiredDigest: snapshot.files.digest,
            toolVersion: toolVersion,
            site: state.site,
            units: plans.map { plan in
                PlannedUnit(
                    serial: plan.unit.serial,
                    name: plan.unit.name,
                    port: plan.observation.port,
                    firmware: plan.observation.firmware,
                    parallelIndex: plan.observation.parallelIndex,
                    observedDigest: plan.observation.digest,
                    observed: plan.observation.settings,
                    steps: plan.writes.map { w in
                        var from = Settings()
                        for k in w.keys { from[k] = plan.observation.settings[k] }
                        return PlanStep(write: w, from: from, command: RecordBook.encode(w))
                    }
                )
            }
        )
    }
}

// MARK: - approve, withdraw, states

extension Reconciler {
    /// Approves plan `id` as `approver`: `approvals/ID.yaml`, bound to the plan's digest, in a
    /// commit authored by the reviewer and signed with their key when a signer is given.
    @discardableResult
    public func approve(
        _ id: String,
        by approver: String,
        signer: (any ApprovalSigner)? = nil
    ) throws -> (plan: PlanDocument, approval: ApprovalRecord) {
        let now = clock.now()
        let snapshot = try snapshot()
        let state = try snapshot.requireValid()
        let book = records(at: snapshot)
        let records = try book.records(id)
        if let refusal = PlanGate.checkApprove(records, approver: approver, policy: state.applyPolicy, now: now) {
            throw refusal
        }
        let plan = records.plan
        let approval = ApprovalRecord(
            planID: plan.id,
            planDigest: plan.digest,
            approvedBy: approver,
            approvedAt: now,
            expires: plan.expires
        )
        let text = try book.render(approval.json, header: "lvx approval of plan \(plan.id)")
        let message = "approve plan \(plan.id) (by \(approver))"
        if let signer {
            // Authored by the reviewer and signed with their key, as `git commit -S` would.
            _ = try repository.commit(
                files: [LifecyclePaths.approval(plan.id): Array(text.utf8)],
                message: message,
                author: signer.identity,
                time: now,
                signer: { try signer.sign($0) }
            )
        } else {
            try book.commit([LifecyclePaths.approval(plan.id): text], message: message, time: now)
        }
        return (plan, approval)
    }

    /// Withdraws plan `id`: it can no longer be approved or applied.
    @discardableResult
    public func withdraw(_ id: String, by person: String, reason: String?) throws -> WithdrawalRecord {
        let now = clock.now()
        let snapshot = try snapshot()
        let book = records(at: snapshot)
        let records = try book.records(id)
        let state = PlanGate.state(of: records, policy: snapshot.applyPolicy, now: now)
        if case .superseded = state {
        } else if !state.isLive {
            throw Refusal.notWithdrawable(id: records.plan.id, state: state.description)
        }
        let record = WithdrawalRecord(planID: records.plan.id, by: person, at: now, reason: reason)
        try book.commit(
            [
                LifecyclePaths.withdrawal(records.plan.id): try book.render(
                    record.json,
                    header: "lvx withdrawal of plan \(records.plan.id)"
                )
            ],
            message: "withdraw plan \(records.plan.id) (by \(person))" + (reason.map { ": \($0)" } ?? ""),
            time: now
        )
        return record
    }

    /// One plan with its records and state, as `lvx show` prints it.
    public func status(of id: String) throws -> (records: PlanRecords, state: PlanState) {
        let snapshot = try snapshot()
        let records = try records(at: snapshot).records(id)
        return (records, PlanGate.state(of: records, policy: snapshot.applyPolicy, now: clock.now()))
    }

    /// Every plan, newest first, with its state or why it does not load, as `lvx plans` lists them.
    public func statuses() throws -> [(id: String, status: Result<(records: PlanRecords, state: PlanState), Refusal>)] {
        let snapshot = try snapshot()
        let now = clock.now()
        return try records(at: snapshot).all().map { id, loaded in
            (id, loaded.map { ($0, PlanGate.state(of: $0, policy: snapshot.applyPolicy, now: now)) })
        }
    }
}
