import ArgumentParser
import Foundation
import LVXCore
import LVXGit
import LVXPort
import LVXSystemd
import Logging

extension LVXCommand {
    /// `lvx run`: one pass of agent mode, the systemd timer's entry point.
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One agent pass: read every unit, commit dated dumps and a run summary, plan on drift.",
            discussion: """
                Takes the lock (waits --lock-wait seconds for another run), validates the desired state
                (invalid: logs the errors, commits nothing, exit 1), reads all units concurrently, writes
                dumps/UNIT.yaml and runs/last.yaml, writes a plan when something drifted (unless an
                identical plan is pending), applies an approved plan when apply.auto_apply_approved is
                true, and commits all of it as one commit described by the run.
                Exit 0 in sync, 2 drift or plan pending, 3 apply failed, 1 error (an unreachable unit),
                4 refused or locked.
                """
        )

        @OptionGroup var repository: RepositoryOptions
        @OptionGroup var device: DeviceOptions

        @Option(help: ArgumentHelp("Write a node_exporter textfile here (atomically).", valueName: "path"))
        var metricsFile: String?

        @Option(
            help: ArgumentHelp(
                "Seconds to wait for another run's lock before giving up (exit 4).",
                valueName: "seconds"
            )
        )
        var lockWait: Double = 60

        func run() async throws {
            LoggingSystem.bootstrap(LoggingBootstrap.handlerFactory())
            let logger = Logger(label: "lvx")
            try await execute {
                let status = try await Agent(
                    repositoryPath: repository.path,
                    resolver: UnitResolver(device: device, repository: repository),
                    clock: SystemClock(),
                    logger: logger,
                    notifier: SystemdNotifier(),
                    lockWait: lockWait,
                    metricsFile: metricsFile
                ).pass()
                logger.info("run finished", metadata: ["LVX_EXIT": "\(status.rawValue)"])
                return status
            }
        }
    }
}

/// One pass of agent mode.
struct Agent {
    var repositoryPath: String
    var resolver: UnitResolver
    var clock: any WallClock
    var logger: Logger
    var notifier: any ServiceNotifier
    var lockWait: Double
    var metricsFile: String?

    func pass() async throws -> ExitStatus {
        let started = clock.now()
        let repository: GitRepository
        do {
            repository = try GitRepository.open(path: repositoryPath)
        } catch {
            throw CLIError("not a desired-state repository: \(repositoryPath) (\(error.description))")
        }
        let lock = try RunLock.acquire(gitDirectory: repository.gitDirectory, command: "lvx run", wait: lockWait)
        defer { lock.release() }
        try await Recovery.recoverInterrupted(repositoryPath: repositoryPath, resolver: resolver, clock: clock)
        notifier.status("fetching the upstream")
        let upstream = syncFromUpstream(repository)
        notifier.status("reading the desired state")

        let site = try Site.load(repositoryPath: repositoryPath, today: CivilDate(started))
        guard let state = site.state else {
            for d in site.diagnostics where d.severity == .error {
                logger.error("\(d.description)", metadata: ["LVX_EXIT": "1"])
            }
            site.printDiagnostics()
            throw CLIError(
                "the desired state at \(String(site.files.commit.prefix(12))) is invalid; nothing was read or committed",
                hint: "fix it and push again; `lvx validate` lists the errors"
            )
        }

        for d in site.diagnostics where d.severity == .warning {
            logger.warning("\(d.description)")
        }
        notifier.status("reading \(state.units.count) unit(s)")
        let readings = await readAll(state)
        var observations: [SerialNumber: Observation] = [:]
        for (serial, reading) in readings { if case .success(let r) = reading { observations[serial] = r.observation } }
        let planner = Planner(desired: state, today: CivilDate(started))
        var plans = planner.plan(observations)

        var files: [String: String] = [:]
        var planID: String?
        var planIsNew = false
        var problems: [String] = plans.flatMap(\.problems)
        if plans.contains(where: { !$0.writes.isEmpty }) && problems.isEmpty {
            let document = Planning.document(plans, site: site, state: state, now: started)
            if let pending = try pendingIdentical(to: document, in: site, now: started) {
                planID = pending
            } else {
                files[RecordFiles.planPath(document.id)] = try RecordFiles.yaml(
                    document.json,
                    header: "lvx plan; approve with `lvx approve \(document.id)`"
                )
                planID = document.id
                planIsNew = true
                files.merge(try RecordFiles.supersessions(by: document, in: site, now: started)) { _, new in new }
            }
        }

        // An approved, fresh plan is applied when the site asks for it.
        var applied: ApplyResult?
        var applyStatus: ExitStatus?
        var readingsAfter: [SerialNumber: Reading] = [:]
        if state.applyPolicy.autoApplyApproved, let approvedID = try Applying.newestApproved(in: site, now: started) {
            notifier.status("applying plan \(approvedID)")
            do {
                let outcome = try await Applying.apply(
                    planID: approvedID,
                    repositoryPath: repositoryPath,
                    resolver: resolver,
                    clock: clock,
                    notifier: notifier
                )
                files.merge(outcome.files) { _, new in new }
                if let refusal = outcome.refusal {
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
                    applied = outcome.result
                    applyStatus = outcome.status
                }
                if outcome.result?.outcome == .applied {
                    // The units changed: what this run learned before the writes is out of date.
                    for (serial, reading) in await readAll(state) {
                        if case .success(let r) = reading { observations[serial] = r.observation }
                        if let r = try? reading.get() { readingsAfter[serial] = r }
                    }
                    plans = planner.plan(observations)
                    problems = plans.flatMap(\.problems)
                    if plans.allSatisfy(\.writes.isEmpty) { planID = nil }
                }
            } catch let refusal as Refusal {
                logger.error(
                    "apply of \(approvedID) refused: \(refusal.description)",
                    metadata: ["LVX_PLAN_ID": "\(approvedID)"]
                )
                applyStatus = .refused
                problems.append("apply of plan \(approvedID): \(refusal.description)")
            } catch let error as CLIError {
                logger.error(
                    "apply of \(approvedID) refused: \(error.message)",
                    metadata: ["LVX_PLAN_ID": "\(approvedID)"]
                )
                applyStatus = error.status
                problems.append("apply of plan \(approvedID): \(error.message)")
            }
        }

        var units: [RunSummary.UnitOutcome] = []
        for unit in state.units {
            let reading: Result<Reading, DeviceError>? =
                readingsAfter[unit.serial].map { .success($0) } ?? readings[unit.serial]
            let plan = plans.first { $0.unit.serial == unit.serial }
            if case .success(let r)? = reading {
                files[UnitDump.path(for: unit.name)] = try RecordFiles.yaml(
                    r.dump(unit, at: started).json,
                    header: "lvx run \(started.iso8601)"
                )
                units.append(
                    RunSummary.UnitOutcome(
                        name: unit.name,
                        serial: unit.serial,
                        reachable: true,
                        error: nil,
                        fault: r.faults.fault,
                        drift: plan?.drift ?? []
                    )
                )
                continue
            }
            var message = "not found"
            if case .failure(let e)? = reading { message = e.description }
            files[UnitDump.path(for: unit.name)] = try RecordFiles.yaml(
                UnitDump(name: unit.name, serial: unit.serial, takenAt: started, reachable: false, error: message).json,
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
        for u in units where !u.drifted.isEmpty {
            logger.warning(
                "\(u.name) drifted: \(u.drifted.map { "\($0.key.rawValue) \($0.live.map($0.key.format) ?? "?") (want \($0.key.format($0.desired)))" }.joined(separator: ", "))",
                metadata: [
                    "LVX_UNIT": "\(u.name)", "LVX_SERIAL": "\(u.serial)",
                    "LVX_DRIFT_KEYS": "\(u.drifted.map(\.key.rawValue).joined(separator: ","))",
                    "LVX_PLAN_ID": "\(planID ?? "")",
                ]
            )
        }
        for p in problems { logger.error("\(p)") }
        if let planID {
            logger.warning("plan \(planID) pending", metadata: ["LVX_PLAN_ID": "\(planID)"])
        }

        let status: ExitStatus =
            if applyStatus == .applyFailed { .applyFailed } else if let applyStatus, applyStatus == .refused {
                .refused
            } else if units.contains(where: { !$0.reachable }) || !problems.isEmpty { .failure } else if planID != nil {
                .changes
            } else { .success }
        let summary = RunSummary(
            started: started,
            finished: clock.now(),
            desiredCommit: site.files.commit,
            units: units,
            planID: planID,
            planIsNew: planIsNew,
            applied: applied,
            exitCode: Int(status.rawValue)
        )
        files["runs/last.yaml"] = try RecordFiles.yaml(summary.json, header: "lvx run summary")
        notifier.status("committing the run")
        let commit = try RecordFiles.commit(files, message: summary.commitMessage, to: repository, clock: clock)
        Terminal.standardOutput.line(
            "\(summary.commitMessage.split(separator: "\n").first ?? "") [\(commit.prefix(12))]"
        )
        if upstream != .noUpstream {
            do {
                if case .heldBack(let count, let first) = try repository.pushToUpstream() {
                    logger.warning(
                        "the branch has \(count) commit(s) the upstream lacks that lvx did not make (\(first.shortID) by \(first.author)); the run's commit stays local until they are pushed"
                    )
                }
            } catch {
                logger.warning("push to the upstream failed: \(error.description)")
            }
        }
        try packIfNeeded(repository)
        if let metricsFile { try writeAtomically(summary.metrics, to: metricsFile) }
        return status
    }

    /// What one run reads from a unit: the plan's observation plus mode and faults for the dump.
    struct Reading: Sendable {
        var observation: Observation
        var mode: InverterMode
        var faults: FaultStatus

        func dump(_ unit: DesiredUnit, at time: WallTime) -> UnitDump {
            UnitDump(
                name: unit.name,
                serial: observation.serial,
                takenAt: time,
                reachable: true,
                port: observation.port,
                firmware: observation.firmware,
                mode: mode,
                fault: faults.fault,
                warnings: faults.activeWarnings,
                parallelIndex: observation.parallelIndex,
                settings: observation.settings
            )
        }
    }

    /// Reads every unit concurrently; a unit that cannot be found or read is a failure, not fatal.
    ///
    /// Units with `port:` are opened directly; the others are found by one shared discovery pass.
    /// `MCHGCR`/`MUCHGCR` are read for units whose plan writes a charging current, as `lvx plan` does.
    func readAll(_ state: DesiredState) async -> [SerialNumber: Result<Reading, DeviceError>] {
        var out: [SerialNumber: Result<Reading, DeviceError>] = [:]
        var targets: [Target] = []
        var discovery: Discovery?
        if state.units.contains(where: { $0.port == nil }) { discovery = try? await resolver.discover() }
        for unit in state.units {
            do {
                if let port = unit.port {
                    targets.append(Target(name: unit.name, serial: unit.serial, device: try resolver.client(port)))
                } else if let address = try discovery?.port(for: unit.serial) {
                    targets.append(
                        Target(
                            name: unit.name,
                            serial: unit.serial,
                            device: PI18Client(address: address, timing: resolver.timing)
                        )
                    )
                } else {
                    throw CLIError("no candidate port answered as serial \(unit.serial)")
                }
            } catch {
                out[unit.serial] = .failure(
                    DeviceError(kind: .open, port: unit.port ?? "discovery", command: "ID", detail: "\(error)")
                )
            }
        }
        let results = await readConcurrently(targets) { target in
            let observation = try await Observation.read(from: target.device)
            let mode = try await target.device.workingMode()
            let faults = try await target.device.faultStatus()
            return Reading(observation: observation, mode: mode, faults: faults)
        }
        var fleet = Fleet(targets: [:])
        for (target, result) in zip(targets, results) {
            if let serial = target.serial {
                out[serial] = result
                fleet.targets[serial] = target
            }
        }
        // The same planner as `lvx plan`, stacks included, says which units write a current; only
        // those have their current options read, as `lvx plan` does.
        var observations = out.compactMapValues { try? $0.get().observation }
        let plans = Planner(desired: state, today: CivilDate(clock.now())).plan(observations)
        if plans.contains(where: { $0.writes.contains(where: \.isCurrent) }) {
            do throws(DeviceError) {
                try await fleet.readCurrentOptions(for: plans, into: &observations)
                for (serial, observation) in observations {
                    if case .success(var reading)? = out[serial] {
                        reading.observation = observation
                        out[serial] = .success(reading)
                    }
                }
            } catch {
                for plan in plans where plan.writes.contains(where: \.isCurrent) {
                    out[plan.unit.serial] = .failure(error)
                }
            }
        }
        return out
    }

    /// The id of a pending (unapplied, unexpired) plan with the same content as `document`.
    func pendingIdentical(to document: PlanDocument, in site: Site, now: WallTime) throws -> String? {
        try RecordFiles.livePlans(in: site, now: now).first { $0.plan.sameWork(as: document) }?.plan.id
    }

    /// Fetches and fast-forwards from the upstream, if the branch has one; a failure is logged and
    /// the run goes on with what the repository holds.
    func syncFromUpstream(_ repository: GitRepository) -> UpstreamSync {
        do {
            let outcome = try repository.syncFromUpstream()
            switch outcome {
            case .fastForwarded(_, let to): logger.info("fast-forwarded to the upstream's \(to.prefix(12))")
            case .diverged(let ahead, let behind):
                logger.warning(
                    "the branch and its upstream diverged (\(ahead) local, \(behind) upstream commit(s)); nothing was merged"
                )
            default: break
            }
            return outcome
        } catch {
            logger.warning("fetching the upstream failed: \(error.description)")
            return .upToDate
        }
    }

    /// Packs loose objects when they pile up, so a year of 15-minute runs stays small and fast.
    func packIfNeeded(_ repository: GitRepository) throws {
        let threshold = Int(ProcessInfo.processInfo.environment["LVX_PACK_THRESHOLD"] ?? "") ?? 2_000
        if let loose = try? repository.looseObjectCount(), loose >= threshold {
            do {
                let packed = try repository.pack()
                logger.info("packed \(packed.packedObjects) objects, removed \(packed.removedLooseObjects) loose ones")
            } catch {
                logger.warning("packing failed: \(error.description)")
            }
        }
    }
}

/// Writes `text` to `path` through a temporary file and a rename, so readers never see half a file.
func writeAtomically(_ text: String, to path: String) throws {
    do {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw CLIError("cannot write '\(path)': \(error.localizedDescription)")
    }
}

extension PlanDocument {
    /// Whether `other` would do the same work: the same desired files, units, observations and steps.
    func sameWork(as other: PlanDocument) -> Bool {
        desiredDigest == other.desiredDigest
            && units.map { "\($0.serial)|\($0.observedDigest)|\($0.steps.map(\.command).joined(separator: ","))" }
                == other.units.map {
                    "\($0.serial)|\($0.observedDigest)|\($0.steps.map(\.command).joined(separator: ","))"
                }
    }
}
