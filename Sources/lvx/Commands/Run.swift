import ArgumentParser
import Foundation
import LVXCore
import LVXGit
import LVXReconcile
import LVXSystemd
import Logging

extension LVXCommand {
    /// `lvx run`: one pass of agent mode, the systemd timer's entry point.
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One agent pass: read every unit, commit dated dumps and a run summary, plan on drift.",
            discussion: """
                Takes the lock (waits --lock-wait seconds for another run), records an apply whose process died, fetches and fast-forwards from the upstream, validates the desired state (invalid: logs the errors, commits nothing, exit 1), reads all units concurrently, writes dumps/UNIT.yaml and runs/last.yaml, writes a plan when something drifted (unless an identical plan is pending), applies an approved plan when apply.auto_apply_approved is true, commits all of it as one commit described by the run, and pushes only commits lvx made.

                Exit 0 in sync, 2 drift or plan pending, 3 apply failed, 1 error (an unreachable unit), 4 refused or locked.
                """
        )

        @OptionGroup var repository: RepositoryOptions
        @OptionGroup var device: DeviceOptions
        @OptionGroup var trust: TrustOptions

        @Option(help: ArgumentHelp("Write a node_exporter textfile here (atomically).", valueName: "path"))
        var metricsFile: String?

        @Option(
            help: ArgumentHelp(
                "Seconds to wait for another run's lock before giving up (exit 4).",
                valueName: "seconds"
            )
        )
        var lockWait: Double = 60

        @Option(
            help: ArgumentHelp(
                "Pack the repository's loose objects once there are this many (default 2000).",
                valueName: "count"
            )
        )
        var packThreshold = 2_000

        func run() async throws {
            LoggingSystem.bootstrap(LoggingBootstrap.handlerFactory())
            let logger = Logger(label: "lvx")
            try await execute {
                let notifier = SystemdNotifier()
                let git = try repository.open()
                let reconciler = try Reconciler.real(
                    repository: repository,
                    opened: git,
                    device: device,
                    trust: trust,
                    notifier: notifier
                )
                if !reconciler.approvalsAuthenticated && !trust.isDeclined {
                    logger.warning(
                        "approvals are not authenticated: there is no allowed signers file at \(trust.allowedSignersPath)"
                    )
                }
                let lock = try RunLock.acquire(gitDirectory: git.gitDirectory, command: "lvx run", wait: lockWait)
                defer { lock.release() }
                try await Recovery.run(reconciler)
                notifier.status("fetching the upstream")
                let upstream = Upstream.sync(git, logger: logger)
                let cancel = CancellationFlag.installSignalHandlers()
                let report: Reconciler.PassReport
                do {
                    report = try await reconciler.pass(
                        logger: logger,
                        isCancelled: { cancel.isSet },
                        events: ApplyOutput(notifier: notifier, logger: logger).callAsFunction
                    )
                } catch let invalid as InvalidDesiredState {
                    for line in invalid.details { Terminal.standardError.line(line) }
                    throw CLIError(
                        "the desired state at \(String(invalid.commit.prefix(12))) is invalid; nothing was read or committed",
                        hint: "fix it and push again; `lvx validate` lists the errors"
                    )
                }
                let message = report.summary.commitMessage
                Terminal.standardOutput.line(
                    "\(message.split(separator: "\n").first ?? "") [\(report.commit.prefix(12))]"
                )
                if upstream != .noUpstream { Upstream.push(git, logger: logger) }
                Upstream.packIfNeeded(git, threshold: packThreshold, logger: logger)
                if let metricsFile { writeMetrics(report.summary.metrics, to: metricsFile, logger: logger) }
                logger.info("run finished", metadata: ["LVX_EXIT": "\(report.status.rawValue)"])
                return report.status
            }
        }
    }
}

/// The run's exchanges with the upstream, and packing: git housekeeping around the pass.
enum Upstream {
    /// Fetches and fast-forwards from the upstream, if the branch has one; a failure is logged and
    /// the run goes on with what the repository holds.
    static func sync(_ repository: GitRepository, logger: Logger) -> UpstreamSync {
        do {
            let outcome = try repository.syncFromUpstream()
            switch outcome {
            case .fastForwarded(_, let to): logger.info("fast-forwarded to the upstream's \(to.prefix(12))")
            case .diverged(let ahead, let behind): replay(repository, ahead: ahead, behind: behind, logger: logger)
            default: break
            }
            return outcome
        } catch {
            logger.warning("fetching the upstream failed: \(error.description)")
            return .upToDate
        }
    }

    /// Pushes the run's commits, never a person's: a branch with commits lvx did not make is left alone.
    static func push(_ repository: GitRepository, logger: Logger) {
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

    /// Packs loose objects when they pile up, so a year of 15-minute runs stays small and fast.
    static func packIfNeeded(_ repository: GitRepository, threshold: Int, logger: Logger) {
        if let loose = try? repository.looseObjectCount(), loose >= threshold {
            do {
                let packed = try repository.pack()
                let rolled = packed.rolledUpPacks > 0 ? "; rolled \(packed.rolledUpPacks) packs into one" : ""
                logger.info(
                    "packed \(packed.packedObjects) objects, removed \(packed.removedLooseObjects) loose ones\(rolled); \(packed.packs) pack(s)"
                )
            } catch {
                logger.warning("packing failed: \(error.description)")
            }
        }
    }
}

extension Upstream {
    /// After a person pushed between a run's fetch and its push: lvx's own unpublished commits go
    /// back on top of the upstream (never a merge); when they cannot, the run goes on with what the
    /// branch holds and says why.
    static func replay(_ repository: GitRepository, ahead: Int, behind: Int, logger: Logger) {
        let diverged = "the branch and its upstream diverged (\(ahead) local, \(behind) upstream commit(s))"
        do {
            switch try repository.replayAgentCommitsOntoUpstream() {
            case .replayed(let count):
                logger.notice("\(diverged); replayed lvx's \(count) commit(s) on top of the upstream")
            case .foreignCommit(let commit):
                logger.warning(
                    "\(diverged); nothing was merged: commit \(commit.shortID) by \(commit.author) is not lvx's"
                )
            case .conflict(let path):
                logger.warning("\(diverged); nothing was merged: \(path) was changed on both sides")
            case .hasWorkingTree:
                logger.warning("\(diverged); nothing was merged (lvx replays its commits only in a bare repository)")
            case .notDiverged:
                break
            }
        } catch {
            logger.warning("\(diverged); replaying lvx's commits failed: \(error.description)")
        }
    }
}

/// Writes the metrics textfile, warning when it cannot.
///
/// The pass has been committed by then, so a failure is a warning, not the run's result: a host without node_exporter has no textfile directory, and the packaged unit
/// names one.
private func writeMetrics(_ text: String, to path: String, logger: Logger) {
    do {
        try writeAtomically(text, to: path)
    } catch {
        let reason = (error as? CLIError)?.message ?? "\(error)"
        logger.warning(
            "metrics not written: \(reason); create the directory (node_exporter's textfile collector) or drop --metrics-file"
        )
    }
}

/// Writes `text` to `path` through a temporary file and a rename, so readers never see half a file.
func writeAtomically(_ text: String, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    do {
        try Data(text.utf8).write(to: url, options: .atomic)
    } catch {
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) || !isDirectory.boolValue {
            throw CLIError("cannot write '\(path)': there is no directory \(directory)")
        }
        throw CLIError("cannot write '\(path)': \(error.localizedDescription)")
    }
}
