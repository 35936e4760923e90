import Foundation
import LVXCore
import LVXTestSupport
import Testing

@testable import LVXGit

extension GitTests {
    /// libgit2 reads only the repository's own config: not the system's, the user's, or env overrides.
    ///
    /// libgit2 locates the user's config from `HOME` when it initialises, so the proof runs in a
    /// child process (this test binary, filtered to ``isolatedChild()``) that starts with a hostile
    /// environment: a `HOME/.gitconfig`, an XDG config, and `GIT_CONFIG_*` variables.
    @Suite struct IsolationTests {
        static let childVariable = "LVX_GIT_ISOLATION_CHILD"

        @Test func userAndMachineConfigDoNotLeakIn() throws {
            let directory = try TemporaryDirectory()
            let home = directory("home")
            try write(
                """
                [user]
                \tname = Leaked Name
                [url "https://leak.example/"]
                \tinsteadOf = https://github.com/
                [init]
                \tdefaultBranch = leaked
                [lvx]
                \tfromhome = yes

                """,
                to: home + "/.gitconfig"
            )
            try write("[lvx]\n\tfromxdg = yes\n", to: home + "/xdg/git/config")
            try write("[lvx]\n\tfromglobalenv = yes\n", to: directory("global.cfg"))
            try write("[lvx]\n\tfromsystem = yes\n", to: directory("system.cfg"))
            try FileManager.default.createDirectory(atPath: directory("work"), withIntermediateDirectories: true)
            var environment = [
                "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                "HOME": home,
                "XDG_CONFIG_HOME": home + "/xdg",
                "GIT_CONFIG_SYSTEM": directory("system.cfg"),
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "lvx.fromcount",
                "GIT_CONFIG_VALUE_0": "yes",
                "GIT_CONFIG_PARAMETERS": "'lvx.fromparameters'='yes'",
                Self.childVariable: directory("work"),
            ]
            // Control: the git CLI in this environment does see every one of them.
            let visible = try run("/usr/bin/git", ["config", "--list"], environment: environment, in: directory.path)
            for line in [
                "user.name=Leaked Name", "lvx.fromhome=yes", "lvx.fromxdg=yes", "lvx.fromsystem=yes",
                "lvx.fromcount=yes", "lvx.fromparameters=yes",
            ] {
                #expect(visible.output.contains(line), "control: git does not see \(line)")
            }
            environment["GIT_CONFIG_GLOBAL"] = directory("global.cfg")
            let global = try run("/usr/bin/git", ["config", "lvx.fromglobalenv"], environment: environment)
            #expect(global.output == "yes\n")

            let child = try run(
                "/proc/self/exe",
                ["--testing-library", "swift-testing", "--filter", "isolatedChild"],
                environment: environment
            )
            #expect(child.status == 0, "child failed:\n\(child.output)\(child.error)")
            #expect(
                (child.output + child.error).contains("isolatedChild() passed"),
                "child did not run:\n\(child.output)\(child.error)"
            )
        }

        @Test(.enabled(if: ProcessInfo.processInfo.environment[childVariable] != nil))
        func isolatedChild() throws {
            let work = try #require(ProcessInfo.processInfo.environment[Self.childVariable])
            #expect(LibGit2Runtime.liveTokens == 0)  // libgit2 initialises in this environment
            let repository = try GitRepository.initialize(path: work + "/repo")
            #expect(LibGit2Runtime.liveTokens == 1)
            for key in [
                "user.name", "url.https://leak.example/.insteadof", "init.defaultbranch", "lvx.fromhome",
                "lvx.fromxdg", "lvx.fromglobalenv", "lvx.fromsystem", "lvx.fromcount", "lvx.fromparameters",
            ] {
                #expect(try repository.configString(key) == nil, "\(key) leaked in")
            }
            #expect(try read(work + "/repo/.git/HEAD") == "ref: refs/heads/main\n")

            // The repository's own config is read.
            let config = work + "/repo/.git/config"
            try write(try read(config) + "[lvx]\n\tlocal = yes\n", to: config)
            #expect(try GitRepository.open(path: work + "/repo").configString("lvx.local") == "yes")
        }
    }
}
