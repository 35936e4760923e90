import LVXCore

extension Reconciler {
    /// A dead apply that was recorded.
    public struct Recovered: Sendable {
        public var planID: String
        public var record: ApplyingRecord
        public var restartError: String?
    }

    /// Records the applies whose process died: the truth in git after a `kill -9` or a power cut.
    ///
    /// An apply commits `applying/ID.yaml` before its first write and a result file ends it. A
    /// record without a result, found while holding the lock, belongs to a dead apply: its units
    /// are read again, the result is committed as `interrupted (process died)` with what each
    /// step's keys hold, and the services the record says were stopped are started again.
    /// The caller holds the repository lock.
    @discardableResult
    public func recoverInterrupted() async throws -> [Recovered] {
        let snapshot = try snapshot()
        let book = records(at: snapshot)
        var recovered: [Recovered] = []
        for records in try book.openApplies() {
            guard let progress = records.inProgress else { continue }
            let plan = records.plan
            if progress.phase == .stopping {
                recovered.append(try await recoverBeforeWrites(plan, progress, book: book))
                continue
            }
            let units = plan.units.filter { !$0.steps.isEmpty }
            let connector = self.connector
            let live = await concurrently(units) { unit -> Settings? in
                guard let device = try? connector.device(onPort: unit.port),
                    (try? await device.serialNumber()) == unit.serial
                else { return nil }
                return try? await device.ratedInformation().settings
            }
            let after = Dictionary(uniqueKeysWithValues: zip(units.map(\.serial), live))
            var steps: [StepOutcome] = []
            for unit in units {
                for step in unit.steps {
                    guard let settings = after[unit.serial] ?? nil else {
                        steps.append(
                            StepOutcome(
                                unit: unit.name,
                                command: step.command,
                                sentAt: nil,
                                ack: .unknown,
                                readBack: nil,
                                matched: false,
                                detail: "the process died; the unit could not be read back"
                            )
                        )
                        continue
                    }
                    var readBack = Settings()
                    for key in step.write.keys { readBack[key] = settings[key] }
                    let matched = readBack == step.to
                    steps.append(
                        StepOutcome(
                            unit: unit.name,
                            command: step.command,
                            sentAt: nil,
                            ack: .unknown,
                            readBack: readBack,
                            matched: matched,
                            detail: matched
                                ? "the process died; the unit holds the step's values"
                                : "the process died; the unit does not hold the step's values"
                        )
                    )
                }
            }
            let restartError = await services.startAgain(progress.stoppedServices)
            let result = ApplyResult(
                planID: plan.id,
                planDigest: plan.digest,
                approvedBy: progress.approvedBy,
                started: progress.started,
                finished: clock.now(),
                outcome: .interrupted,
                steps: steps,
                before: plan.units.map { ($0.name, $0.observed) },
                after: units.map { ($0.name, after[$0.serial] ?? nil) },
                stoppedServices: progress.stoppedServices,
                restartError: restartError,
                error: "interrupted (process died)"
            )
            let written = steps.filter(\.matched).map(\.command)
            try book.commit(
                [
                    LifecyclePaths.result(plan.id): try book.render(
                        result.json,
                        header: "lvx apply result for plan \(plan.id), recorded after the apply died"
                    )
                ],
                message: "apply plan \(plan.id): interrupted (process died); "
                    + (written.isEmpty ? "no step reads back" : "reads back: \(written.joined(separator: ", "))"),
                time: clock.now()
            )
            recovered.append(Recovered(planID: plan.id, record: progress, restartError: restartError))
        }
        return recovered
    }

    /// An apply that died while stopping the services or re-reading the units: nothing was
    /// written, so the plan stays approved; the services it asked to stop are started again and a
    /// refusal is recorded beside the closed in-progress record.
    private func recoverBeforeWrites(
        _ plan: PlanDocument,
        _ progress: ApplyingRecord,
        book: RecordBook
    ) async throws -> Recovered {
        let restartError = await services.startAgain(progress.stoppedServices)
        var ended = progress
        ended.phase = .ended
        let refusal = RefusalRecord(
            planID: plan.id,
            at: clock.now(),
            stale: false,
            message: "the apply died before any write (pid \(progress.pid)); nothing was written"
        )
        try book.commit(
            [
                LifecyclePaths.inProgress(plan.id): try book.render(
                    ended.json,
                    header: "lvx apply of plan \(plan.id) ended before any write"
                ),
                LifecyclePaths.refusal(plan.id): try book.render(
                    refusal.json,
                    header: "lvx apply of plan \(plan.id) stopped before any write"
                ),
            ],
            message:
                "apply plan \(plan.id): died before any write; started \(progress.stoppedServices.joined(separator: ", ")) again",
            time: clock.now()
        )
        return Recovered(planID: plan.id, record: progress, restartError: restartError)
    }
}
