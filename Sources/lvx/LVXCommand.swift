import ArgumentParser
import Foundation
import LVXCore

/// The `lvx` command: a declarative reconciler for LVX6048 inverters.
@main
struct LVXCommand: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "lvx",
        abstract: "Keep LVX6048 inverter settings in git, and write only plans a person approved.",
        discussion: """
            Exit codes: 0 success / in sync, 1 error, 2 changes pending, 3 apply failed part-way, 4 refused (not approved, stale, expired, tampered, locked), 64 usage.

            A unit reference is a port string (hidraw:PATH, /dev/hidrawN, serial:PATH[?baud=N], tcp://HOST:PORT), a serial number (found by discovery), or a unit name from lvx.yaml.
            """,
        version: version,
        subcommands: [
            Status.self, Dump.self, Compare.self, SyncCheck.self,
            Validate.self, Plan.self, Approve.self, Show.self, Plans.self, Withdraw.self, Apply.self, Recover.self,
            Run.self, History.self, Diff.self, Report.self, Init.self, Fleet.self,
        ]
    )

    /// Parses and runs the command line, after refusing an unknown subcommand with a suggestion
    /// (argument-parser would only call it an unexpected argument).
    static func main() async {
        if let error = unknownSubcommand(Array(CommandLine.arguments.dropFirst())) {
            Terminal.standardError.error(error.message, hint: error.hint)
            Self.exit(withError: ExitCode(ExitStatus.usage.rawValue))
        }
        await main(nil)
    }

    /// The names `lvx NAME` accepts: every subcommand, and argument-parser's `help`.
    static var subcommandNames: [String] {
        configuration.subcommands.map { $0.configuration.commandName ?? $0._commandName } + ["help"]
    }

    /// An error when the first argument is neither an option nor a subcommand.
    ///
    /// The root command takes no positional arguments, so such a word can only be a mistyped
    /// subcommand.
    static func unknownSubcommand(_ arguments: [String]) -> CLIError? {
        guard let word = arguments.first, !word.hasPrefix("-"), !subcommandNames.contains(word) else { return nil }
        let commands = subcommandNames.dropLast()
        if let close = NameSuggestion.closest(to: word, among: Array(commands)) {
            return CLIError("unknown command '\(word)'; did you mean '\(close)'?", status: .usage)
        }
        return CLIError(
            "unknown command '\(word)'",
            hint: "the commands are \(commands.joined(separator: ", ")); see `lvx --help`",
            status: .usage
        )
    }
}
