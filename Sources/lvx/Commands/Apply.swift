import ArgumentParser
import Dispatch
import Foundation
import LVXCore
import LVXSystemd

extension LVXCommand {
    /// `lvx apply [PLAN_ID]`: write an approved, fresh plan, with read-back after every write.
    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply an approved plan (default: the newest approved one) with read-back after every write.",
            discussion: """
                Refuses (exit 4) a plan that is unknown, altered, not approved, approved for other content, expired, already applied, withdrawn, superseded, or stale, and one whose steps are not what the desired state at its commit gives for a fresh read. A refusal before the first write leaves an approved plan approved.

                Exit 3 when a write was sent and refused, or did not read back; later writes are not sent. The services in apply.stop_units are stopped first and restarted in every case.
                """
        )

        @Argument(help: "The plan's id (default: the newest approved, unapplied plan).") var planID: String?

        @OptionGroup var repository: RepositoryOptions
        @OptionGroup var device: DeviceOptions

        func run() async throws {
            try await execute {
                let clock = SystemClock()
                let lock = try RunLock.acquire(
                    gitDirectory: try Site.gitDirectory(repository.path),
                    command: "lvx apply"
                )
                defer { lock.release() }
                let resolver = UnitResolver(device: device, repository: repository)
                try await Recovery.recoverInterrupted(repositoryPath: repository.path, resolver: resolver, clock: clock)
                let outcome = try await Applying.apply(
                    planID: planID,
                    repositoryPath: repository.path,
                    resolver: resolver,
                    clock: clock,
                    notifier: SystemdNotifier()  // STATUS= lines under systemd; nothing otherwise
                )
                if !outcome.files.isEmpty {
                    _ = try RecordFiles.commit(
                        outcome.files,
                        message: outcome.commitMessage,
                        to: try Site.load(repositoryPath: repository.path, today: CivilDate(clock.now())).repository,
                        clock: clock
                    )
                }
                if let refusal = outcome.refusal { throw refusal }
                return outcome.status
            }
        }
    }
}

/// Applying a plan: shared by `lvx apply` and `lvx run`.
///
/// The caller holds the lock.
enum Applying {
    struct Outcome {
        var status: ExitStatus
        var planID: String
        var result: ApplyResult?
        /// Why nothing was written, after the approval checks passed (stale, not desired, services).
        var refusal: Refusal?
        /// The records to commit: the result, or the refusal.
        var files: [String: String]
        var commitMessage: String
    }

    /// The plan to apply when none is named: the newest approved, live one.
    static func newestApproved(in site: Site, now: WallTime) throws -> String? {
        let policy = site.state?.applyPolicy ?? ApplyPolicy()
        return try RecordFiles.livePlans(in: site, now: now).first { records in
            switch PlanGate.state(of: records, policy: policy, now: now) {
            case .approved, .refusedBeforeWrite: true
            default: false
            }
        }?.plan.id
    }

    /// The gate's checks, then the apply itself; the in-progress record is committed before the
    /// first write, and the result (or the refusal) is returned for the caller to commit.
    static func apply(
        planID: String?,
        repositoryPath: String,
        resolver: UnitResolver,
        clock: any WallClock,
        notifier: (any ServiceNotifier)?,
        output: Terminal = .standardOutput
    ) async throws -> Outcome {
        let now = clock.now()
        let site = try Site.load(repositoryPath: repositoryPath, today: CivilDate(now))
        let state = try site.requireValid()
        try site.requireBranch()
        guard let id = try planID ?? newestApproved(in: site, now: now) else { throw Refusal.nothingApproved }
        let records = try RecordFiles.records(id, in: site)
        if let refusal = PlanGate.checkApply(records, policy: state.applyPolicy, now: now) { throw refusal }
        let plan = records.plan
        let approvedBy = records.approval?.approvedBy ?? "?"
        // The desired state the plan names, to plan again from the fresh read before any write.
        let atPlan = try? Site.load(repositoryPath: repositoryPath, revision: plan.desiredCommit, today: CivilDate(now))

        output.write(PlanText(paint: Planning.painter(output)).render(plan))
        output.line("applying plan \(plan.id) (\(plan.stepCount) write(s)), approved by \(approvedBy)")
        let fleet = try await Fleet.open(state, resolver: resolver)
        let cancel = CancellationFlag.installSignalHandlers()
        let applier = PlanApplier(plan: plan, approvedBy: approvedBy, stopUnits: state.applyPolicy.stopUnits)
        let services: any ServiceManager = state.applyPolicy.stopUnits.isEmpty ? NoServices() : SystemdServiceManager()
        let currentDigest = site.files.digest
        let outcome = await applier.run(
            devices: fleet.devices,
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
                let difference = PlanGate.difference(
                    plan,
                    desired: desired,
                    desiredDigest: atPlan.files.digest,
                    observed: observed.compactMapValues { try? $0.get() },
                    today: CivilDate(now),
                    encode: Planning.encode
                )
                return difference.map { .notDesired(id: plan.id, difference: $0) }
            },
            beforeFirstWrite: { stopped in
                let record = ApplyingRecord(
                    planID: plan.id,
                    planDigest: plan.digest,
                    approvedBy: approvedBy,
                    started: clock.now(),
                    pid: Int(getpid()),
                    stoppedServices: stopped
                )
                _ = try RecordFiles.commit(
                    [
                        LifecyclePaths.inProgress(plan.id): try RecordFiles.yaml(
                            record.json,
                            header: "lvx apply in progress"
                        )
                    ],
                    message: "apply plan \(plan.id): started",
                    to: site.repository,
                    clock: clock
                )
            },
            isCancelled: { cancel.isSet },
            progress: { event in
                let line = describe(event, output)
                // The step's own line says it all once it is done; systemd hears both.
                if case .writing = event {} else { output.line(line) }
                notifier?.status(line)
            }
        )
        switch outcome {
        case .refused(let refusal, let restartError):
            if let restartError { Terminal.standardError.error(restartError) }
            var files: [String: String] = [:]
            if let record = RefusalRecord(refusal, at: clock.now()) {
                files[LifecyclePaths.refusal(plan.id)] = try RecordFiles.yaml(
                    record.json,
                    header: "lvx apply of plan \(plan.id) stopped before any write"
                )
            }
            return Outcome(
                status: .refused,
                planID: plan.id,
                refusal: refusal,
                files: files,
                commitMessage: "apply plan \(plan.id): refused before any write"
            )
        case .ran(let result):
            let text = try RecordFiles.yaml(result.json, header: "lvx apply result for plan \(plan.id)")
            switch result.outcome {
            case .applied:
                output.line(
                    output.paint(
                        "applied \(result.steps.count) write(s); result in \(LifecyclePaths.result(plan.id))",
                        .green
                    )
                )
            case .failed, .interrupted:
                Terminal.standardError.error(
                    "apply \(result.outcome.rawValue): \(result.error ?? "unknown")",
                    hint: nextStep(after: result, plan: plan)
                )
            }
            if let restart = result.restartError { Terminal.standardError.error(restart) }
            let ok = result.outcome == .applied && result.restartError == nil
            return Outcome(
                status: ok ? .success : .applyFailed,
                planID: plan.id,
                result: result,
                files: [LifecyclePaths.result(plan.id): text],
                commitMessage: "apply plan \(plan.id): \(result.outcome.rawValue)"
                    + (result.error.map { " (\($0))" } ?? "")
            )
        }
    }

    /// What to do after a failed or interrupted apply; a write the unit refused or did not keep
    /// names its keys and the two ways on.
    static func nextStep(after result: ApplyResult, plan: PlanDocument) -> String {
        let evidence = "later writes were not sent; the evidence is in \(LifecyclePaths.result(plan.id))"
        guard result.outcome == .failed,
            let failed = result.steps.first(where: { $0.ack != .notSent && !($0.ack == .accepted && $0.matched) }),
            failed.ack == .refused || (failed.ack == .accepted && failed.readBack != nil),
            let step = plan.units.first(where: { $0.name == failed.unit })?.steps.first(where: {
                $0.command == failed.command
            })
        else { return evidence }
        let changing = step.write.keys.filter { step.from[$0] != step.to[$0] }
        let keys = (changing.isEmpty ? step.write.keys : changing).map(\.rawValue).joined(separator: ", ")
        return
            "\(evidence). '\(failed.unit)' did not take \(keys): set it on the LCD and add an `accept` entry, or fix the profile; then `lvx plan` again"
    }

    /// One line of progress, with the unit, keys, values, command and read-back.
    static func describe(_ event: PlanApplier.Event, _ t: Terminal) -> String {
        switch event {
        case .stoppingServices(let units): return "stopping \(units.joined(separator: ", "))"
        case .rereading(let unit): return "re-reading \(unit)"
        case .writing(let unit, let step, let of, let planned):
            return "\(unit): step \(step)/\(of): \(change(planned)) (\(planned.command))"
        case .stepDone(let unit, let planned, let outcome):
            let head = "\(unit): \(change(planned)) (\(planned.command))"
            if outcome.ack == .accepted && outcome.matched {
                let changing = planned.write.keys.filter { planned.from[$0] != planned.to[$0] }
                let back = (changing.isEmpty ? planned.write.keys : changing).compactMap { k in
                    outcome.readBack?[k].map(k.format)
                }
                return head + " " + t.paint("ok", .green) + ", read back " + back.joined(separator: ", ")
            }
            return head + " " + t.paint("FAILED", .red) + ": \(outcome.detail ?? outcome.ack.rawValue)"
        case .startingServices(let units): return "starting \(units.joined(separator: ", "))"
        }
    }

    /// `max_charging_current 60 -> 80`: the keys the step changes (all of them when it changes
    /// none, as a stack member's write).
    static func change(_ step: PlanStep) -> String {
        let changing = step.write.keys.filter { step.from[$0] != step.to[$0] }
        return (changing.isEmpty ? step.write.keys : changing).map { k in
            "\(k.rawValue) \(step.from[k].map(k.format) ?? "?") -> \(step.to[k].map(k.format) ?? "?")"
        }.joined(separator: ", ")
    }
}

/// The service manager when `apply.stop_units` is empty: nothing to stop or start.
struct NoServices: ServiceManager {
    func stop(_ units: [String]) async throws(ServiceError) -> [String] { [] }
    func start(_ units: [String]) async throws(ServiceError) {}
}

/// Set by SIGINT, SIGTERM, SIGHUP or SIGUSR1 during apply; checked between writes.
///
/// SIGHUP is an SSH session dropping under `sudo -u lvx lvx apply`; SIGPIPE (`lvx apply | head`)
/// is ignored at start-up, so a closed pipe only loses output.
final class CancellationFlag: @unchecked Sendable {
    // Guarded by `lock`; the signal sources run on a private queue.
    private let lock = NSLock()
    private var value = false
    private var sources: [DispatchSourceSignal] = []

    static let signals = [SIGINT, SIGTERM, SIGHUP, SIGUSR1]

    var isSet: Bool { lock.withLock { value } }

    static func installSignalHandlers() -> CancellationFlag {
        let flag = CancellationFlag()
        // A parent (a test runner, a shell) may have left these blocked; apply must see them.
        var set = sigset_t()
        sigemptyset(&set)
        for sig in signals { sigaddset(&set, sig) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        let queue = DispatchQueue(label: "lvx.signals")
        for sig in signals {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler {
                flag.lock.withLock { flag.value = true }
                Terminal.standardError.line(
                    "lvx: signal received; finishing the current exchange, sending no further write"
                )
            }
            source.resume()
            flag.sources.append(source)
        }
        return flag
    }
}
