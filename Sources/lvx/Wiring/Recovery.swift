import LVXCore
import LVXSystemd

/// Recording applies whose process died: the truth in git after a `kill -9` or a power cut.
///
/// An apply commits `applying/ID.yaml` before its first write; a result file ends it. A record
/// without a result, found by a process that holds the lock, belongs to a dead apply.
enum Recovery {
    /// Re-reads the units of every dead apply, commits its result as `interrupted (process died)`
    /// with what the read-back shows, and starts the services its record says were stopped.
    ///
    /// The caller holds the repository lock.
    /// - Returns: the ids of the plans recovered.
    @discardableResult
    static func recoverInterrupted(
        repositoryPath: String,
        resolver: UnitResolver,
        clock: any WallClock,
        services: (any ServiceManager)? = nil,
        output: Terminal = .standardError
    ) async throws -> [String] {
        let site = try Site.load(repositoryPath: repositoryPath, today: CivilDate(clock.now()))
        var recovered: [String] = []
        for (_, loaded) in try RecordFiles.allRecords(in: site) {
            guard let records = try? loaded.get(), let progress = records.inProgress, records.result == nil else {
                continue
            }
            let plan = records.plan
            output.warning(
                "the apply of plan \(plan.id) started at \(progress.started.iso8601) by pid \(progress.pid) died without a result; recording what the units hold"
            )
            let units = plan.units.filter { !$0.steps.isEmpty }
            let live = await concurrently(units) { unit -> Settings? in
                guard let device = try? resolver.client(unit.port) else { return nil }
                guard (try? await device.serialNumber()) == unit.serial else { return nil }
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
            var restartError: String?
            if !progress.stoppedServices.isEmpty {
                output.note("starting \(progress.stoppedServices.joined(separator: ", ")) again")
                do {
                    try await (services ?? SystemdServiceManager()).start(progress.stoppedServices)
                } catch let e {
                    restartError = "could not start \(e.unit): \(e.message)"
                    output.error(restartError ?? "")
                }
            }
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
            let written = steps.filter { $0.matched }.map(\.command)
            _ = try RecordFiles.commit(
                [
                    LifecyclePaths.result(plan.id): try RecordFiles.yaml(
                        result.json,
                        header: "lvx apply result for plan \(plan.id), recorded after the apply died"
                    )
                ],
                message: "apply plan \(plan.id): interrupted (process died); "
                    + (written.isEmpty ? "no step reads back" : "reads back: \(written.joined(separator: ", "))"),
                to: site.repository,
                clock: clock
            )
            recovered.append(plan.id)
        }
        return recovered
    }
}
