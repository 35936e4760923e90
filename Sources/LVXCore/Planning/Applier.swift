/// Applies an approved plan: re-reads every unit, refuses if anything changed, stops the services
/// that share the ports, writes each step with a read-back, and restarts the services whatever happens.
///
/// The checks that do not need the hardware (approval, digest, expiry, already applied) are the
/// caller's; this type does the part that talks to units and services.
public struct PlanApplier: Sendable {
    /// Progress, in the order it happens.
    public enum Event: Sendable {
        case stoppingServices([String])
        case rereading(unit: String)
        case writing(unit: String, step: Int, of: Int, command: String)
        case stepDone(unit: String, command: String, outcome: StepOutcome)
        case startingServices([String])
    }

    /// Why apply refused before writing anything.
    public struct Stale: Error, Sendable, Equatable, CustomStringConvertible {
        public var reasons: [String]
        public var description: String { "plan is stale: " + reasons.joined(separator: "; ") }
    }

    public var plan: PlanDocument
    public var approvedBy: String
    /// The digest of the desired-state files now (``DesiredFiles/digest``).
    public var currentDesiredDigest: String
    public var stopUnits: [String]

    public init(plan: PlanDocument, approvedBy: String, currentDesiredDigest: String, stopUnits: [String]) {
        self.plan = plan
        self.approvedBy = approvedBy
        self.currentDesiredDigest = currentDesiredDigest
        self.stopUnits = stopUnits
    }

    /// Runs the apply.
    ///
    /// - Parameters:
    ///   - devices: the device for each planned unit, by serial.
    ///   - services: stops and restarts the units that share the ports.
    ///   - clock: times the steps and the result.
    ///   - isCancelled: checked between steps (set by SIGINT/SIGTERM); a cancelled apply sends no
    ///     further write and still restarts the services.
    ///   - progress: told each event as it happens.
    /// - Returns: the result to record, or ``Stale`` when re-reading found a change (nothing written).
    public func run(
        devices: [SerialNumber: any InverterDevice],
        services: any ServiceManager,
        clock: any WallClock,
        isCancelled: @Sendable () -> Bool,
        progress: @Sendable (Event) -> Void
    ) async -> Result<ApplyResult, Stale> {
        let started = clock.now()
        var stopped: [String] = []
        var error: String?
        if !stopUnits.isEmpty {
            progress(.stoppingServices(stopUnits))
            do {
                stopped = try await services.stop(stopUnits)
            } catch let e {
                error = "could not stop \(e.unit): \(e.message)"
            }
        }
        // Everything below runs with the services stopped; they are restarted on every path.
        var outcome = ApplyResult.Outcome.failed
        var steps: [StepOutcome] = []
        var before: [(unit: String, settings: Settings)] = []
        var after: [(unit: String, settings: Settings?)] = []
        var stale: Stale?
        if error == nil {
            let checked = await recheck(devices: devices, progress: progress)
            switch checked {
            case .failure(let s):
                stale = s
            case .success(let observed):
                before = plan.units.compactMap { u in observed[u.serial].map { (u.name, $0.settings) } }
                (outcome, steps, error) = await write(
                    devices: devices,
                    clock: clock,
                    isCancelled: isCancelled,
                    progress: progress
                )
                let units = plan.units.compactMap { u in devices[u.serial].map { (u.name, $0) } }
                after = await concurrently(units) { name, device in
                    (unit: name, settings: try? await device.ratedInformation().settings)
                }
            }
        }
        var restartError: String?
        if !stopped.isEmpty {
            progress(.startingServices(stopped))
            do {
                try await services.start(stopped)
            } catch let e {
                restartError = "could not start \(e.unit): \(e.message)"
            }
        }
        if let stale { return .failure(stale) }
        return .success(
            ApplyResult(
                planID: plan.id,
                planDigest: plan.digest,
                approvedBy: approvedBy,
                started: started,
                finished: clock.now(),
                outcome: outcome,
                steps: steps,
                before: before,
                after: after,
                stoppedServices: stopped,
                restartError: restartError,
                error: error
            )
        )
    }

    /// Re-reads every unit and compares with the plan; returns the observations, or what changed.
    private func recheck(
        devices: [SerialNumber: any InverterDevice],
        progress: @Sendable (Event) -> Void
    ) async
        -> Result<[SerialNumber: Observation], Stale>
    {
        var reasons: [String] = []
        if currentDesiredDigest != plan.desiredDigest {
            reasons.append("the desired state (lvx.yaml or a profile) changed since the plan was made")
        }
        var observed: [SerialNumber: Observation] = [:]
        for unit in plan.units { progress(.rereading(unit: unit.name)) }
        let readings = await concurrently(plan.units) { (unit: PlannedUnit) -> Result<Observation, DeviceError>? in
            guard let device = devices[unit.serial] else { return nil }
            do throws(DeviceError) {
                return .success(try await Observation.read(from: device))
            } catch {
                return .failure(error)
            }
        }
        for (unit, reading) in zip(plan.units, readings) {
            switch reading {
            case nil:
                reasons.append("'\(unit.name)' could not be found")
            case .success(let now)?:
                observed[unit.serial] = now
                if now.digest != unit.observedDigest { reasons.append(Self.explain(unit, now)) }
            case .failure(let e)?:
                reasons.append("'\(unit.name)' could not be re-read: \(e.description)")
            }
        }
        return reasons.isEmpty ? .success(observed) : .failure(Stale(reasons: reasons))
    }

    static func explain(_ unit: PlannedUnit, _ now: Observation) -> String {
        var parts: [String] = []
        if now.serial != unit.serial { parts.append("port now answers as serial \(now.serial)") }
        if now.firmware != unit.firmware { parts.append("firmware \(unit.firmware) -> \(now.firmware)") }
        if now.parallelIndex != unit.parallelIndex {
            parts.append("parallel index \(unit.parallelIndex) -> \(now.parallelIndex)")
        }
        for key in SettingKey.allCases where unit.observed[key] != now.settings[key] {
            let was = unit.observed[key].map(key.format) ?? "?"
            let isNow = now.settings[key].map(key.format) ?? "?"
            parts.append("\(key.rawValue) \(was) -> \(isNow)")
        }
        return "'\(unit.name)' changed since the plan: " + parts.joined(separator: ", ")
    }

    private func write(
        devices: [SerialNumber: any InverterDevice],
        clock: any WallClock,
        isCancelled: @Sendable () -> Bool,
        progress: @Sendable (Event) -> Void
    ) async -> (ApplyResult.Outcome, [StepOutcome], String?) {
        var outcomes: [StepOutcome] = []
        var failure: String?
        var outcome = ApplyResult.Outcome.applied
        for unit in plan.units {
            guard let device = devices[unit.serial] else { continue }
            for (i, step) in unit.steps.enumerated() {
                // After a failure or a signal, the remaining steps are recorded as not sent.
                if failure == nil && isCancelled() {
                    outcome = .interrupted
                    failure = "interrupted before \(step.command) on '\(unit.name)'"
                }
                if failure != nil {
                    outcomes.append(StepOutcome.notSent(unit: unit.name, command: step.command))
                    continue
                }
                progress(.writing(unit: unit.name, step: i + 1, of: unit.steps.count, command: step.command))
                let result = await perform(step, on: device, unit: unit.name, clock: clock)
                outcomes.append(result)
                progress(.stepDone(unit: unit.name, command: step.command, outcome: result))
                if !(result.ack == .accepted && result.matched) {
                    outcome = .failed
                    failure = "\(step.command) on '\(unit.name)': \(result.detail ?? "failed")"
                }
            }
        }
        return (outcome, outcomes, failure)
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
        -> StepOutcome
    {
        let sentAt = clock.now()
        let accepted: Bool
        do {
            accepted = try await device.write(step.write)
        } catch let e {
            return StepOutcome(
                unit: unit,
                command: step.command,
                sentAt: sentAt,
                ack: .error,
                readBack: nil,
                matched: false,
                // The device's message already says whether the request went out (effect unknown)
                // or nothing was sent; repeating "effect unknown" here would contradict the latter.
                detail: "no valid acknowledgement: \(e.description)"
            )
        }
        guard accepted else {
            return StepOutcome(
                unit: unit,
                command: step.command,
                sentAt: sentAt,
                ack: .refused,
                readBack: nil,
                matched: false,
                detail: "the inverter refused the write (^0)"
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
            return StepOutcome(
                unit: unit,
                command: step.command,
                sentAt: sentAt,
                ack: .accepted,
                readBack: readBack,
                matched: matched,
                detail: detail
            )
        } catch let e {
            return StepOutcome(
                unit: unit,
                command: step.command,
                sentAt: sentAt,
                ack: .accepted,
                readBack: nil,
                matched: false,
                detail: "read-back failed: \(e.description)"
            )
        }
    }
}
