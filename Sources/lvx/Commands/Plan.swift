import ArgumentParser
import LVXCore
import LVXReconcile

extension LVXCommand {
    /// `lvx plan`: read every unit, diff against the desired state, save and print the plan.
    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read every unit, compute the writes that bring it to the desired state, and save the plan.",
            discussion: """
                A new plan replaces (supersedes) the pending plans for the same units. Exit 0 when there is nothing to do, 2 when the plan has steps, 1 on error.
                """
        )

        @OptionGroup var repository: RepositoryOptions
        @OptionGroup var device: DeviceOptions

        @Flag(help: "Print the plan as one JSON document instead of text.")
        var json = false

        @Flag(name: .customLong("no-commit"), help: "Do not save the plan in the repository.")
        var noCommit = false

        func run() async throws {
            try await execute {
                let reconciler = try Reconciler.real(repository: repository, device: device)
                WorkingTree.warnIfChanged(repository)
                let outcome = try await reconciler.plan(save: !noCommit)
                for d in outcome.snapshot.warnings { Terminal.standardError.line(outcome.snapshot.render(d)) }
                let text = PlanText(paint: Reconciler.painter()).render(
                    outcome.plans,
                    document: outcome.saved ? outcome.document : nil,
                    encode: RecordBook.encode
                )
                if outcome.hasProblems {
                    Terminal.standardOutput.write(text)
                    throw CLIError("the plan cannot be made; fix the problems above")
                }
                Terminal.standardOutput.write(json ? outcome.document.json.text + "\n" : text)
                return outcome.document.stepCount > 0 ? .changes : .success
            }
        }
    }
}
