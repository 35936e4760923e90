import ArgumentParser
import Dispatch
import Foundation
import LVXCore
import LVXReconcile
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
        @OptionGroup var trust: TrustOptions

        func run() async throws {
            try await execute {
                let notifier = SystemdNotifier()  // STATUS= lines under systemd; nothing otherwise
                let git = try repository.open()
                let reconciler = try Reconciler.real(
                    repository: repository,
                    opened: git,
                    device: device,
                    trust: trust,
                    notifier: notifier
                )
                let lock = try RunLock.acquire(gitDirectory: git.gitDirectory, command: "lvx apply")
                defer { lock.release() }
                try await Recovery.run(reconciler)
                let cancel = CancellationFlag.installSignalHandlers()
                let report = try await reconciler.apply(
                    planID,
                    isCancelled: { cancel.isSet },
                    events: ApplyOutput(notifier: notifier).callAsFunction
                )
                try reconciler.commit(report)
                return try Applied.print(report)
            }
        }
    }
}

/// How the end of an apply is printed, by `lvx apply` and `lvx run`.
enum Applied {
    /// Prints the outcome and returns the exit status; a refusal is thrown to the edge.
    static func print(_ report: Reconciler.ApplyReport) throws -> ExitStatus {
        if let restart = report.restartError { Terminal.standardError.error(restart) }
        if let refusal = report.refusal { throw refusal }
        guard let result = report.result else { return report.status }
        if result.outcome == .applied {
            Terminal.standardOutput.line(
                Terminal.standardOutput.paint(
                    "applied \(result.steps.count) write(s); result in \(LifecyclePaths.result(report.plan.id))",
                    .green
                )
            )
        } else {
            Terminal.standardError.error(
                "apply \(result.outcome.rawValue): \(result.error ?? "unknown")",
                hint: report.nextStep
            )
        }
        return report.status
    }
}

/// Recording applies whose process died, before any command that takes the lock goes on.
enum Recovery {
    @discardableResult
    static func run(_ reconciler: Reconciler) async throws -> [String] {
        let recovered = try await reconciler.recoverInterrupted()
        for r in recovered where r.record.phase == .stopping {
            Terminal.standardError.warning(
                "the apply of plan \(r.planID) started at \(r.record.started.iso8601) by pid \(r.record.pid) died before any write; started \(r.record.stoppedServices.joined(separator: ", ")) again, and the plan stays approved"
            )
            if let error = r.restartError { Terminal.standardError.error(error) }
        }
        for r in recovered where r.record.phase != .stopping {
            Terminal.standardError.warning(
                "the apply of plan \(r.planID) started at \(r.record.started.iso8601) by pid \(r.record.pid) died without a result; recorded what the units hold"
                    + (r.record.stoppedServices.isEmpty
                        ? "" : " and started \(r.record.stoppedServices.joined(separator: ", ")) again")
            )
            if let error = r.restartError { Terminal.standardError.error(error) }
        }
        return recovered.map(\.planID)
    }
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
