/// Applies an approved plan: stops the services that share the ports, re-reads every unit, refuses
/// unless the plan still fits (``PlanGate``), records that it is about to write, writes each step
/// with a read-back, and restarts the services whatever happens.
///
/// The checks that need no hardware (``PlanGate/checkApply(_:policy:now:)``) come before this.
public struct PlanApplier: Sendable {
    /// Progress, in the order it happens.
    public enum Event: Sendable {
        case stoppingServices([String])
        case rereading(unit: String)
        case writing(unit: String, step: Int, of: Int, planned: PlanStep)
        case stepDone(unit: String, planned: PlanStep, outcome: StepOutcome)
        case startingServices([String])
    }

    /// How an apply ended.
    public enum Outcome: Sendable {
        /// Nothing was written: the plan does not fit, or the services could not be stopped.
        case refused(Refusal, restartError: String?)
        /// At least the first write was attempted (or the plan had no writes left to send).
        case ran(ApplyResult)
    }

    public var plan: PlanDocument
    public var approvedBy: String
    public var stopUnits: [String]
    /// The serials of each parallel stack: their members are written one after another.
    public var stacks: [Set<SerialNumber>]

    public init(plan: PlanDocument, approvedBy: String, stopUnits: [String], stacks: [Set<SerialNumber>] = []) {
        self.plan = plan
        self.approvedBy = approvedBy
        self.stopUnits = stopUnits
        self.stacks = stacks
    }

    /// Runs the apply.
    ///
    /// - Parameters:
    ///   - devices: the device for each planned unit, by serial.
    ///   - services: stops and restarts the units that share the ports.
    ///   - clock: times the steps and the result.
    ///   - verify: the gate on the fresh read (stale units or desired state, steps that are not what
    ///     the desired state gives); `nil` lets the writes go ahead.
    ///   - beforeStopping: records that the services are about to be stopped (an in-progress
    ///     commit naming them), so a process killed while they are down still leaves a trace; a
    ///     thrown error stops the apply before anything is stopped.
    ///   - beforeFirstWrite: records that writes are about to start (the in-progress commit), told
    ///     the services that were stopped; a thrown error stops the apply before any write.
    ///   - isCancelled: checked between steps (set by a signal); a cancelled apply sends no further
    ///     write and still restarts the services.
    ///   - progress: told each event as it happens.
    /// - Returns: the result to record, or the refusal when nothing was written.
    public func run(
        devices: [SerialNumber: any InverterDevice],
        services: any ServiceManager,
        clock: any WallClock,
        verify: @Sendable ([SerialNumber: Result<Observation, DeviceError>]) -> Refusal?,
        beforeStopping: @Sendable ([String]) async throws -> Void = { _ in },
        beforeFirstWrite: @Sendable ([String]) async throws -> Void,
        isCancelled: @escaping @Sendable () -> Bool,
        progress: @escaping @Sendable (Event) -> Void
    ) async -> Outcome {
        let started = clock.now()
        var stopped: [String] = []
        var refusal: Refusal?
        var result: ApplyResult?
        if !stopUnits.isEmpty {
            do {
                try await beforeStopping(stopUnits)
            } catch {
                return .refused(.applyNotRecorded(id: plan.id, error: "\(error)"), restartError: nil)
            }
            progress(.stoppingServices(stopUnits))
            do {
                stopped = try await services.stop(stopUnits)
            } catch let e {
                refusal = .servicesNotStopped(id: plan.id, unit: e.unit, message: e.message)
            }
        }
        // Everything below runs with the services stopped; they are restarted on every path.
        if refusal == nil {
            let observed = await reread(devices: devices, progress: progress)
            if let refused = verify(observed) {
                refusal = refused
            } else {
                do {
                    try await beforeFirstWrite(stopped)
                    result = await write(
                        devices: devices,
                        observed: observed.compactMapValues { try? $0.get() },
                        started: started,
                        stopped: stopped,
                        clock: clock,
                        isCancelled: isCancelled,
                        progress: progress
                    )
                } catch {
                    refusal = .applyNotRecorded(id: plan.id, error: "\(error)")
                }
            }
        }
        var restartError: String?
        if !stopped.isEmpty {
            progress(.startingServices(stopped))
            restartError = await services.startAgain(stopped)
        }
        guard var result else {
            return .refused(refusal ?? .nothingApproved, restartError: restartError)
        }
        result.restartError = restartError
        result.finished = clock.now()
        return .ran(result)
    }

    /// Re-reads every planned unit, with the current options where a current write is planned.
    private func reread(
        devices: [SerialNumber: any InverterDevice],
        progress: @Sendable (Event) -> Void
    ) async -> [SerialNumber: Result<Observation, DeviceError>] {
        for unit in plan.units { progress(.rereading(unit: unit.name)) }
        let readings = await concurrently(plan.units) { (unit: PlannedUnit) -> Result<Observation, DeviceError>? in
            guard let device = devices[unit.serial] else { return nil }
            do throws(DeviceError) {
                var observation = try await Observation.read(from: device)
                try await observation.readOptions(Observation.Currents(for: unit.steps.map(\.write)), from: device)
                return .success(observation)
            } catch {
                return .failure(error)
            }
        }
        var out: [SerialNumber: Result<Observation, DeviceError>] = [:]
        for (unit, reading) in zip(plan.units, readings) { if let reading { out[unit.serial] = reading } }
        return out
    }

    /// Writes every step, unit after unit, stopping at the first failure or signal.
    private func write(
        devices: [SerialNumber: any InverterDevice],
        observed: [SerialNumber: Observation],
        started: WallTime,
        stopped: [String],
        clock: any WallClock,
        isCancelled: @escaping @Sendable () -> Bool,
        progress: @escaping @Sendable (Event) -> Void
    ) async -> ApplyResult {
        // Independent units are written at once; the members of a stack one after another, in the
        // plan's order, so they never differ by more than the write in flight. The first failure
        // or signal stops every group before its next write.
        let stop = StopSignal()
        let groups = writeGroups()
        let written = await concurrently(groups) { group -> [SerialNumber: UnitWrites] in
            var out: [SerialNumber: UnitWrites] = [:]
            for unit in group {
                guard let device = devices[unit.serial] else { continue }
                var mine = UnitWrites()
                for (i, step) in unit.steps.enumerated() {
                    // After a failure or a signal, the remaining steps are recorded as not sent.
                    if await !stop.isStopped && isCancelled() {
                        await stop.stop(.interrupted, "interrupted before \(step.command) on '\(unit.name)'")
                    }
                    if await stop.isStopped {
                        mine.outcomes.append(StepOutcome.notSent(unit: unit.name, command: step.command))
                        continue
                    }
                    progress(.writing(unit: unit.name, step: i + 1, of: unit.steps.count, planned: step))
                    let (result, live) = await perform(step, on: device, unit: unit.name, clock: clock)
                    if let live { mine.lastRead = live }
                    mine.outcomes.append(result)
                    // Stopped before it is told: whoever hears of the failure knows no write follows.
                    if !result.succeeded {
                        await stop.stop(.failed, "\(step.command) on '\(unit.name)': \(result.detail ?? "failed")")
                    }
                    progress(.stepDone(unit: unit.name, planned: step, outcome: result))
                }
                out[unit.serial] = mine
            }
            return out
        }
        var byUnit: [SerialNumber: UnitWrites] = [:]
        for part in written { byUnit.merge(part) { a, _ in a } }
        let outcomes = plan.units.flatMap { byUnit[$0.serial]?.outcomes ?? [] }
        var lastRead = byUnit.compactMapValues(\.lastRead)
        let (outcome, failure) = await stop.verdict
        // Units without a read-back (no steps, or the step failed before it) are read once more.
        let unread = plan.units.filter { lastRead[$0.serial] == nil && !$0.steps.isEmpty }
        let extra = await concurrently(unread) { unit -> Settings? in
            guard let device = devices[unit.serial] else { return nil }
            return try? await device.ratedInformation().settings
        }
        for (unit, settings) in zip(unread, extra) { if let settings { lastRead[unit.serial] = settings } }
        return ApplyResult(
            planID: plan.id,
            planDigest: plan.digest,
            approvedBy: approvedBy,
            started: started,
            finished: clock.now(),
            outcome: outcome,
            steps: outcomes,
            before: plan.units.compactMap { u in observed[u.serial].map { (u.name, $0.settings) } },
            after: plan.units.map { u in (u.name, u.steps.isEmpty ? observed[u.serial]?.settings : lastRead[u.serial])
            },
            stoppedServices: stopped,
            restartError: nil,
            error: failure
        )
    }

    /// The plan's units in groups that are written one after another: the members of a stack
    /// together (in the plan's order), every other unit alone.
    private func writeGroups() -> [[PlannedUnit]] {
        var groups: [[PlannedUnit]] = []
        var placed: Set<SerialNumber> = []
        for unit in plan.units where !placed.contains(unit.serial) {
            let stack = stacks.first { $0.contains(unit.serial) } ?? [unit.serial]
            let group = plan.units.filter { stack.contains($0.serial) }
            placed.formUnion(group.map(\.serial))
            groups.append(group)
        }
        return groups
    }

    /// One unit's writes: the step outcomes and the last full read-back.
    private struct UnitWrites: Sendable {
        var outcomes: [StepOutcome] = []
        var lastRead: Settings?
    }

    /// The first failure or signal, shared by the groups written at once.
    private actor StopSignal {
        private var outcome = ApplyResult.Outcome.applied
        private var reason: String?

        var isStopped: Bool { reason != nil }

        func stop(_ outcome: ApplyResult.Outcome, _ reason: String) {
            guard self.reason == nil else { return }
            self.outcome = outcome
            self.reason = reason
        }

        var verdict: (ApplyResult.Outcome, String?) { (outcome, reason) }
    }

    /// One write and its read-back.
    ///
    /// The write is sent once and never retried.
    private func perform(
        _ step: PlanStep,
        on device: any InverterDevice,
        unit: String,
        clock: any WallClock
    ) async
        -> (StepOutcome, Settings?)
    {
        let sentAt = clock.now()
        let accepted: Bool
        do {
            accepted = try await device.write(step.write)
        } catch let e {
            return (
                StepOutcome(
                    unit: unit,
                    command: step.command,
                    sentAt: sentAt,
                    ack: .error,
                    readBack: nil,
                    matched: false,
                    // The device's message already says whether the request went out (effect unknown)
                    // or nothing was sent; repeating "effect unknown" here would contradict the latter.
                    detail: "no valid acknowledgement: \(e.description)"
                ), nil
            )
        }
        guard accepted else {
            return (
                StepOutcome(
                    unit: unit,
                    command: step.command,
                    sentAt: sentAt,
                    ack: .refused,
                    readBack: nil,
                    matched: false,
                    detail: "the inverter refused the write (^0)"
                ), nil
            )
        }
        do {
            let live = try await device.ratedInformation().settings
            var readBack = Settings()
            for key in step.write.keys { readBack[key] = live[key] }
            let matched = readBack == step.to
            let detail: String? =
                matched
                ? nil
                : "read-back mismatch: "
                    + step.write.keys.filter { readBack[$0] != step.to[$0] }.map { k in
                        "\(k.rawValue) is \(readBack[k].map(k.format) ?? "?"), want \(step.to[k].map(k.format) ?? "?")"
                    }.joined(separator: ", ")
            return (
                StepOutcome(
                    unit: unit,
                    command: step.command,
                    sentAt: sentAt,
                    ack: .accepted,
                    readBack: readBack,
                    matched: matched,
                    detail: detail
                ), live
            )
        } catch let e {
            return (
                StepOutcome(
                    unit: unit,
                    command: step.command,
                    sentAt: sentAt,
                    ack: .accepted,
                    readBack: nil,
                    matched: false,
                    detail: "read-back failed: \(e.description)"
                ), nil
            )
        }
    }
}
