import Foundation
import LVXTestSupport
import Testing

/// What `lvx` itself says about its command line: unknown subcommands.
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
}
