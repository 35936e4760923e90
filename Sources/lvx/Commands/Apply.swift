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
                Refuses (exit 4) a plan that is unknown, altered, not approved, approved for other content,
                expired, already applied, or stale (a unit or the desired state changed since the plan).
                Exit 3 when a write is refused or does not read back; later writes are not sent.
                The services in `apply.stop_units` are stopped first and restarted in every case.
                """
        )

        @Argument(help: "The plan's id (default: the newest approved, unapplied plan).") var planID: String?

        @OptionGroup var repository: RepositoryOptions
        @OptionGroup var device: DeviceOptions

        func run() async throws {
            try await execute {
                try await Applying.apply(
                    planID: planID,
                    repositoryPath: repository.path,
                    resolver: UnitResolver(device: device, repository: repository),
                    clock: SystemClock(),
                    notifier: SystemdNotifier()  // STATUS= lines under systemd; nothing otherwise
                ).status
            }
        }
    }
}

/// Applying a plan: shared by `lvx apply` and `lvx run`.
enum Applying {
    struct Outcome {
        var status: ExitStatus
        var result: ApplyResult?
        var planID: String
        /// The result file's path and text, when the caller commits it (`commitResult: false`).
        var resultFile: (path: String, text: String)?
    }

    /// The plan to apply when none is named: the newest approved, unexpired, unapplied one.
    static func newestApproved(in site: Site, now: WallTime) throws -> String? {
        var best: PlanDocument?
        for plan in try RecordFiles.livePlans(in: site, now: now) {
            guard let approval = try? RecordFiles.loadApproval(plan.id, from: site.repository, at: site.files.commit),
                approval.planDigest == plan.digest
            else { continue }
            if best.map({ plan.created > $0.created }) ?? true { best = plan }
        }
        return best?.id
    }

    /// Every check that needs no hardware, then the apply itself, then the result commit.
    static func apply(
        planID: String?,
        repositoryPath: String,
        resolver: UnitResolver,
        clock: any WallClock,
        notifier: (any ServiceNotifier)?,
        lockHeld: RunLock? = nil,
        commitResult: Bool = true
    ) async throws -> Outcome {
        let now = clock.now()
        var site = try Site.load(repositoryPath: repositoryPath, today: CivilDate(now))
        let lock = try lockHeld ?? RunLock.acquire(gitDirectory: site.repository.gitDirectory, command: "lvx apply")
        defer { if lockHeld == nil { lock.release() } }
        // Re-read under the lock: another apply may have committed meanwhile.
        site = try Site.load(repositoryPath: repositoryPath, today: CivilDate(now))
        let state = try site.requireValid()
        try site.requireBranch()
        guard let id = try planID ?? newestApproved(in: site, now: now) else {
            throw CLIError(
                "no approved plan is waiting to be applied",
                hint: "`lvx plans` lists the plans",
                status: .refused
            )
        }
        let repo = site.repository
        let commit = site.files.commit
        let plan = try RecordFiles.loadPlan(id, from: repo, at: commit)
        if try repo.file(RecordFiles.resultPath(plan.id), at: commit) != nil {
            throw CLIError(
                "plan '\(plan.id)' was already applied; a plan is applied at most once",
                hint: "make a new plan with `lvx plan`",
                status: .refused
            )
        }
        guard let approval = try RecordFiles.loadApproval(plan.id, from: repo, at: commit) else {
            throw CLIError(
                "plan '\(plan.id)' is not approved",
                hint: "review it with `lvx show \(plan.id)`, then `lvx approve \(plan.id)`",
                status: .refused
            )
        }
        guard approval.planDigest == plan.digest, approval.planID == plan.id else {
            throw CLIError(
                "the approval of '\(plan.id)' does not match the plan's digest: it approves other content",
                hint: "approve the plan again with `lvx approve \(plan.id)` after reviewing it",
                status: .refused
            )
        }
        guard state.applyPolicy.permitsApprover(approval.approvedBy) else {
            throw CLIError(
                "the approval of '\(plan.id)' is by '\(approval.approvedBy)', who is not in apply.approvers",
                status: .refused
            )
        }
        if now > plan.expires || now > approval.expires {
            throw CLIError(
                "plan '\(plan.id)' expired at \(plan.expires.iso8601)",
                hint: "make a fresh plan with `lvx plan`",
                status: .refused
            )
        }
        guard plan.stepCount > 0 else {
            throw CLIError("plan '\(plan.id)' has no steps", status: .refused)
        }

        let fleet = try await Fleet.open(state, resolver: resolver)
        let cancel = CancellationFlag.installSignalHandlers()
        let terminal = Terminal.standardOutput
        let applier = PlanApplier(
            plan: plan,
            approvedBy: approval.approvedBy,
            currentDesiredDigest: site.files.digest,
            stopUnits: state.applyPolicy.stopUnits
        )
        terminal.line("applying plan \(plan.id) (\(plan.stepCount) write(s)), approved by \(approval.approvedBy)")
        let services: any ServiceManager = state.applyPolicy.stopUnits.isEmpty ? NoServices() : SystemdServiceManager()
        let result = await applier.run(
            devices: fleet.devices,
            services: services,
            clock: clock,
            isCancelled: { cancel.isSet },
            progress: { event in
                let line = describe(event, terminal)
                terminal.line(line)
                notifier?.status(line)
            }
        )
        switch result {
        case .failure(let stale):
            throw CLIError(stale.description, hint: "make a fresh plan with `lvx plan` and review it", status: .refused)
        case .success(let result):
            let text = try RecordFiles.yaml(result.json, header: "lvx apply result for plan \(plan.id)")
            if commitResult {
                _ = try RecordFiles.commit(
                    [RecordFiles.resultPath(plan.id): text],
                    message: "apply plan \(plan.id): \(result.outcome.rawValue)"
                        + (result.error.map { " (\($0))" } ?? ""),
                    to: repo,
                    clock: clock
                )
            }
            switch result.outcome {
            case .applied:
                terminal.line(
                    terminal.paint(
                        "applied \(result.steps.count) write(s); result in \(RecordFiles.resultPath(plan.id))",
                        .green
                    )
                )
            case .failed, .interrupted:
                Terminal.standardError.error(
                    "apply \(result.outcome.rawValue): \(result.error ?? "unknown")",
                    hint: "later writes were not sent; the evidence is in \(RecordFiles.resultPath(plan.id))"
                )
            }
            if let restart = result.restartError { Terminal.standardError.error(restart) }
            let ok = result.outcome == .applied && result.restartError == nil
            return Outcome(
                status: ok ? .success : .applyFailed,
                result: result,
                planID: plan.id,
                resultFile: (RecordFiles.resultPath(plan.id), text)
            )
        }
    }

    static func describe(_ event: PlanApplier.Event, _ t: Terminal) -> String {
        switch event {
        case .stoppingServices(let units): "stopping \(units.joined(separator: ", "))"
        case .rereading(let unit): "re-reading \(unit)"
        case .writing(let unit, let step, let of, let command): "\(unit): step \(step)/\(of): \(command)"
        case .stepDone(let unit, let command, let outcome):
            outcome.ack == .accepted && outcome.matched
                ? "\(unit): \(command) " + t.paint("ok", .green) + " (read back)"
                : "\(unit): \(command) " + t.paint("FAILED", .red) + ": \(outcome.detail ?? outcome.ack.rawValue)"
        case .startingServices(let units): "starting \(units.joined(separator: ", "))"
        }
    }
}

/// The service manager when `apply.stop_units` is empty: nothing to stop or start.
struct NoServices: ServiceManager {
    func stop(_ units: [String]) async throws(ServiceError) -> [String] { [] }
    func start(_ units: [String]) async throws(ServiceError) {}
}

/// Set by SIGINT or SIGTERM during apply; checked between writes.
final class CancellationFlag: @unchecked Sendable {
    // Guarded by `lock`; the signal sources run on a private queue.
    private let lock = NSLock()
    private var value = false
    private var sources: [DispatchSourceSignal] = []

    var isSet: Bool { lock.withLock { value } }

    static func installSignalHandlers() -> CancellationFlag {
        let flag = CancellationFlag()
        // A parent (a test runner, a shell) may have left these blocked; apply must see them.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        let queue = DispatchQueue(label: "lvx.signals")
        for sig in [SIGINT, SIGTERM] {
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
