import ArgumentParser
import Foundation
import LVXCore

extension LVXCommand {
    /// `lvx validate`: every problem in the desired state at once, as `file:line:column: error: ...`.
    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Check lvx.yaml and the profiles at a revision; report every problem at once (exit 0 valid, 1 invalid).",
            discussion: """
                The files are read from git objects at the revision, never from the working tree, so commit an edit before checking it. Each problem is printed as file:line:column: error: message, with the source line, a caret under the value and a note saying what to do.

                The pre-receive hook installed by `lvx init` runs this on every pushed branch and rejects a push that has an error.
                """
        )

        @OptionGroup var repository: RepositoryOptions
        @OptionGroup var trust: TrustOptions

        @Option(
            help: ArgumentHelp(
                "The revision to check (default HEAD); the pre-receive hook passes the pushed one.",
                valueName: "rev"
            )
        )
        var rev = "HEAD"

        func run() async throws {
            try await execute {
                if rev == "HEAD" { WorkingTree.warnIfChanged(repository) }
                // Not in a hook: the pusher is told by the hook's own output, the host by its runs.
                if ProcessInfo.processInfo.environment["GIT_QUARANTINE_PATH"] == nil,
                    !FileManager.default.fileExists(atPath: trust.allowedSignersPath)
                {
                    trust.warnUnauthenticated()
                }
                let site = try Site.load(
                    repositoryPath: repository.path,
                    revision: rev,
                    today: CivilDate(SystemClock().now())
                )
                site.printDiagnostics()
                let errors = site.diagnostics.filter { $0.severity == .error }.count
                if errors > 0 {
                    Terminal.standardError.line(DiagnosticRenderer.summary(site.diagnostics))
                    return .failure
                }
                let units = site.state?.units.count ?? 0
                let profiles = site.state?.profiles.count ?? 0
                let warnings = site.diagnostics.count
                Terminal.standardOutput.line(
                    "valid: \(units) unit(s), \(profiles) profile(s) at \(String(site.files.commit.prefix(12)))"
                        + (warnings > 0 ? ", \(warnings) warning(s)" : "")
                )
                return .success
            }
        }
    }
}
