import ArgumentParser
import LVXCore

extension LVXCommand {
    /// `lvx plan`: read every unit, diff against the desired state, save and print the plan.
    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read every unit, compute the writes that bring it to the desired state, and save the plan.",
            discussion: "Exit 0 when there is nothing to do, 2 when the plan has steps, 1 on error."
        )

        @OptionGroup var repository: RepositoryOptions
        @OptionGroup var device: DeviceOptions

        @Flag(help: "Print the plan as one JSON document instead of text.")
        var json = false

        @Flag(name: .customLong("no-commit"), help: "Do not save the plan in the repository.")
        var noCommit = false

        func run() async throws {
            try await execute {
                let clock = SystemClock()
                let outcome = try await Planning.make(
                    repositoryPath: repository.path,
                    resolver: UnitResolver(device: device, repository: repository),
                    clock: clock
                )
                if outcome.plans.contains(where: { !$0.problems.isEmpty }) {
                    Terminal.standardOutput.write(
                        PlanText(paint: Planning.painter()).render(
                            outcome.plans,
                            document: nil,
                            encode: Planning.encode
                        )
                    )
                    throw CLIError("the plan cannot be made; fix the problems above")
                }
                let saved = !noCommit && outcome.document.stepCount > 0
                if saved {
                    let text = try RecordFiles.yaml(
                        outcome.document.json,
                        header: "lvx plan; approve with `lvx approve \(outcome.document.id)`"
                    )
                    // Older pending plans for the same units are replaced, not piled up.
                    var files = try RecordFiles.supersessions(
                        by: outcome.document,
                        in: outcome.site,
                        now: clock.now()
                    )
                    files[RecordFiles.planPath(outcome.document.id)] = text
                    _ = try RecordFiles.commit(
                        files,
                        message:
                            "plan \(outcome.document.id): \(outcome.document.stepCount) write(s) on \(outcome.document.units.filter { !$0.steps.isEmpty }.count) unit(s)",
                        to: outcome.site.repository,
                        clock: clock
                    )
                }
                if json {
                    Terminal.standardOutput.line(outcome.document.json.text)
                } else {
                    Terminal.standardOutput.write(
                        PlanText(paint: Planning.painter()).render(
                            outcome.plans,
                            document: saved ? outcome.document : nil,
                            encode: Planning.encode
                        )
                    )
                }
                return outcome.document.stepCount > 0 ? .changes : .success
            }
        }
    }
}

/// Making a plan: shared by `lvx plan` and `lvx run`.
enum Planning {
    struct Outcome {
        var site: Site
        var state: DesiredState
        var plans: [Planner.UnitPlan]
        var document: PlanDocument
    }

    static func encode(_ write: SettingWrite) -> String { RecordFiles.encode(write) ?? "?" }

    static func painter(_ terminal: Terminal = .standardOutput) -> @Sendable (String, PlanText.Tone) -> String {
        { text, tone in
            switch tone {
            case .change: terminal.paint(text, .yellow)
            case .ok: terminal.paint(text, .green)
            case .note: terminal.paint(text, .cyan)
            case .problem: terminal.paint(text, .red)
            case .dim: terminal.paint(text, .dim)
            case .bold: terminal.paint(text, .bold)
            }
        }
    }

    /// Loads the desired state at HEAD, reads every unit, and plans.
    static func make(repositoryPath: String, resolver: UnitResolver, clock: any WallClock) async throws -> Outcome {
        let now = clock.now()
        let site = try Site.load(repositoryPath: repositoryPath, today: CivilDate(now))
        let state = try site.requireValid()
        let fleet = try await Fleet.open(state, resolver: resolver)
        var observations: [SerialNumber: Observation] = [:]
        for (serial, result) in await fleet.observe(state) {
            switch result {
            case .success(let o): observations[serial] = o
            case .failure(let e):
                let name = state.unit(serial: serial)?.name ?? serial.digits
                throw CLIError("cannot read '\(name)': \(e.description)", hint: CLIError(e).hint)
            }
        }
        let planner = Planner(desired: state, today: CivilDate(now))
        var plans = planner.plan(observations)
        if plans.contains(where: { $0.writes.contains(where: \.isCurrent) }) {
            try await fleet.readCurrentOptions(for: plans, into: &observations)
            plans = planner.plan(observations)
        }
        let document = document(plans, site: site, state: state, now: now)
        return Outcome(site: site, state: state, plans: plans, document: document)
    }
}

extension Planning {
    /// The plan document for `plans`, with its lifetime from the site's apply policy.
    static func document(_ plans: [Planner.UnitPlan], site: Site, state: DesiredState, now: WallTime) -> PlanDocument {
        PlanDocument(
            created: now,
            expires: now.adding(seconds: state.applyPolicy.planLifetimeSeconds),
            desiredCommit: site.files.commit,
            desiredDigest: site.files.digest,
            toolVersion: LVXCommand.version,
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
                        return PlanStep(write: w, from: from, command: encode(w))
                    }
                )
            }
        )
    }
}

extension SettingWrite {
    var isCurrent: Bool {
        switch self {
        case .maxChargingCurrent, .maxUtilityChargingCurrent: true
        default: false
        }
    }
}
