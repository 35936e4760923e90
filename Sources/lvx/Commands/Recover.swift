import ArgumentParser
import LVXCore
import LVXReconcile

extension LVXCommand {
    /// `lvx recover`: record an apply whose process died and restart the services it stopped.
    struct Recover: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Record applies whose process died, from a fresh read of their units, and start the services they stopped.",
            discussion: """
                An apply commits applying/PLAN_ID.yaml before its first write. If the process dies before the result is committed (kill -9, a power cut), this command re-reads the units, commits the result as interrupted with what each unit holds, and starts the services in the record. The service's ExecStopPost= runs it, and so does every apply and run before it starts. Exit 0 when there was nothing to recover or it was recorded.
                """
        )

        @OptionGroup var repository: RepositoryOptions
        @OptionGroup var device: DeviceOptions

        @Option(help: ArgumentHelp("Seconds to wait for the lock.", valueName: "seconds"))
        var lockWait: Double = 60

        func run() async throws {
            try await execute {
                let git = try repository.open()
                let reconciler = try Reconciler.real(repository: repository, opened: git, device: device)
                let lock = try RunLock.acquire(
                    gitDirectory: git.gitDirectory,
                    command: "lvx recover",
                    wait: lockWait
                )
                defer { lock.release() }
                let recovered = try await Recovery.run(reconciler)
                Terminal.standardOutput.line(
                    recovered.isEmpty
                        ? "nothing to recover"
                        : "recorded interrupted apply of plan(s) \(recovered.joined(separator: ", "))"
                )
                return .success
            }
        }
    }
}
