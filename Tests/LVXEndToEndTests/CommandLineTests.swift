import Foundation
import LVXTestSupport
import Testing

/// What `lvx` itself says about its command line: unknown subcommands and help text.
@Suite("the command line end to end")
struct CommandLineTests {
    @Test("a mistyped subcommand is refused with the closest name (exit 64)")
    func mistypedSubcommand() throws {
        let result = try lvx(["stauts"])
        #expect(result.exitCode == 64, "\(result)")
        #expect(result.stderr == "error: unknown command 'stauts'; did you mean 'status'?\n")
        #expect(result.stdout.isEmpty)
        let far = try lvx(["frobnicate", "--json"])
        #expect(far.exitCode == 64, "\(far)")
        #expect(far.stderr.hasPrefix("error: unknown command 'frobnicate'\nnote: the commands are status, dump,"))
        // What argument-parser handles itself still works.
        #expect(try lvx(["help", "status"]).stdout.contains("USAGE: lvx status"))
        #expect(try lvx(["--version"]).exitCode == 0)
    }

    @Test(
        "help paragraphs are wrapped only by the terminal's width, not in the source",
        arguments: [
            (
                [] as [String],
                "Exit codes: 0 success / in sync, 1 error, 2 changes pending, 3 apply failed part-way, 4 refused (not approved, stale, expired, tampered, locked), 64 usage."
            ),
            (
                ["init"],
                "The pre-receive hook runs `lvx validate --rev NEW` for each pushed branch, so an invalid desired state is rejected with its file:line:column errors."
            ),
            (
                ["validate"],
                "The files are read from git objects at the revision, never from the working tree, so commit an edit before checking it."
            ),
        ]
    )
    func helpNotHardWrapped(_ command: [String], _ sentence: String) throws {
        let result = try lvx(command + ["--help"], environment: ["COLUMNS": "400"])
        #expect(result.exitCode == 0, "\(result)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.contains { $0.contains(sentence) }, "\(result.stdout)")
    }
}
