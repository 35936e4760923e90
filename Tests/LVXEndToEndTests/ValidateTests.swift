import Foundation
import LVXTestSupport
import Testing

/// `lvx validate` on bad desired states of every kind, and commands stopped by one.
///
/// Exit 1 with compiler-style `file:line:column: error: ...` lines, the source line and a caret on
/// stderr; commands that need a valid desired state stop before talking to any inverter.
@Suite("lvx validate end to end")
struct ValidateTests {
    /// The seeds' profile without comments, so line and column numbers stay put.
    static let profile = """
        battery_type: USER
        cutoff_voltage: 48.0
        stop_discharge_voltage: 48.0
        stop_charge_voltage: 54.0
        bulk_voltage: 56.4
        float_voltage: 54.0
        max_utility_charging_current: 30
        max_charging_current: 60
        output_source_priority: solar_battery_utility
        charger_priority: solar_first
        solar_power_priority: load_battery_utility
        grid_tie: disabled

        """

    static let profilePath = "profiles/eg4-lp4-v2.yaml"

    /// A desired state: the compact seeds' site, with `edits` (path, old text, new text) applied to
    /// it and `added` files written beside it.
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var edits: [Edit] = []
        var added: [String: String] = [:]
        var exitCode: Int32 = 1
        var stderr: String
        var testDescription: String { name }

        /// Replace the first `old` in `path` by `new`.
        struct Edit: Sendable {
            var path: String
            var old: String
            var new: String

            static func edit(_ path: String, _ old: String, _ new: String) -> Edit {
                Edit(path: path, old: old, new: new)
            }
        }

        /// The repository's files.
        func files() throws -> [String: String] {
            var files = ["lvx.yaml": ReviewSite.site(), ValidateTests.profilePath: ValidateTests.profile]
            for edit in edits {
                let text = try #require(files[edit.path])
                let range = try #require(text.range(of: edit.old), "'\(edit.old)' is not in \(edit.path)")
                files[edit.path] = text.replacingCharacters(in: range, with: edit.new)
            }
            files.merge(added) { _, new in new }
            return files
        }
    }

    static let site = "lvx.yaml"
    static let accept = """
        accept:
          - {unit: lvx6048-1, key: max_charging_current, value: 100, reason: set on the LCD, until: 2026-01-31}
          - {unit: lvx6048-2, key: max_charging_current, value: 100, reason: set on the LCD, until: 2026-01-31}

        """

    static let cases: [Case] = [
        Case(
            name: "syntax error in lvx.yaml",
            edits: [.edit(site, "site: home", "site: [home")],
            stderr: """
                lvx.yaml:2:6: error: did not find expected ',' or ']' while parsing a flow sequence started at line 1, column 7
                units:
                     ^
                1 error

                """
        ),
        Case(
            name: "syntax error in a profile",
            edits: [.edit(profilePath, "float_voltage: 54.0", "float_voltage: {54.0")],
            stderr: """
                profiles/eg4-lp4-v2.yaml:7:29: error: did not find expected ',' or '}' while parsing a flow mapping started at line 6, column 16
                max_utility_charging_current: 30
                                            ^
                1 error

                """
        ),
        Case(
            name: "unknown key in a profile, with a suggestion",
            edits: [.edit(profilePath, "float_voltage:", "flaot_voltage:")],
            stderr: """
                profiles/eg4-lp4-v2.yaml:6:1: error: unknown key 'flaot_voltage'; did you mean 'float_voltage'?
                flaot_voltage: 54.0
                ^
                note: allowed here: battery_type, cutoff_voltage, stop_discharge_voltage, stop_charge_voltage, bulk_voltage, float_voltage, max_utility_charging_current, max_charging_current, output_source_priority, charger_priority, solar_power_priority, grid_tie
                1 error

                """
        ),
        Case(
            name: "unknown key in lvx.yaml, with a suggestion",
            edits: [.edit(site, "tolerances:", "tolerence:")],
            stderr: """
                lvx.yaml:7:1: error: unknown key 'tolerence'; did you mean 'tolerances'?
                tolerence:
                ^
                note: allowed here: site, units, stacks, tolerances, accept, apply
                1 error

                """
        ),
        Case(
            name: "out-of-range value",
            edits: [.edit(profilePath, "bulk_voltage: 56.4", "bulk_voltage: 66.4")],
            stderr: """
                profiles/eg4-lp4-v2.yaml:5:15: error: 'bulk_voltage' = 66.4 out of range [48.0, 58.4]
                bulk_voltage: 66.4
                              ^
                note: PI18 cannot write it: set it on the inverter's LCD and add an 'accept' entry with value 66.4 for 'lvx6048-1', 'lvx6048-2', or choose a value PI18 can write
                1 error

                """
        ),
        Case(
            name: "voltages without battery_type USER",
            edits: [.edit(profilePath, "battery_type: USER", "battery_type: AGM")],
            stderr: """
                profiles/eg4-lp4-v2.yaml:1:15: error: voltages are only honoured when battery_type is USER, but it is 'AGM'
                battery_type: AGM
                              ^
                note: set battery_type: USER, or remove 'cutoff_voltage', 'stop_discharge_voltage', 'stop_charge_voltage', 'bulk_voltage', 'float_voltage'
                1 error

                """
        ),
        Case(
            name: "float above bulk",
            edits: [.edit(profilePath, "float_voltage: 54.0", "float_voltage: 56.8")],
            stderr: """
                profiles/eg4-lp4-v2.yaml:6:16: error: 'float_voltage' (56.8) must be <= 'bulk_voltage' (56.4)
                float_voltage: 56.8
                               ^
                note: lower 'float_voltage' or raise 'bulk_voltage'
                1 error

                """
        ),
        Case(
            name: "unknown profile, with a suggestion",
            edits: [.edit(site, "lvx6048-1, profile: eg4-lp4-v2", "lvx6048-1, profile: eg4-lp4")],
            stderr: """
                lvx.yaml:3:48: error: unknown profile 'eg4-lp4'; did you mean 'eg4-lp4-v2'?
                  "96142109100037": {name: lvx6048-1, profile: eg4-lp4}
                                                               ^
                note: available profiles: eg4-lp4-v2 (the files profiles/NAME.yaml)
                1 error

                """
        ),
        Case(
            name: "malformed port string, checked with the transports' parser",
            edits: [
                .edit(
                    site,
                    "lvx6048-2, profile: eg4-lp4-v2}",
                    "lvx6048-2, profile: eg4-lp4-v2, port: \"serial:/dev/ttyUSB0?baud=2401\"}"
                )
            ],
            stderr: """
                lvx.yaml:4:66: error: port 'serial:/dev/ttyUSB0?baud=2401' is not valid: baud '2401' is not one of 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200
                  "96142408100255": {name: lvx6048-2, profile: eg4-lp4-v2, port: "serial:/dev/ttyUSB0?baud=2401"}
                                                                                 ^
                note: accepted forms: hidraw:/dev/hidraw0, /dev/hidraw0, serial:/dev/ttyUSB0?baud=2400, tcp://HOST:PORT
                1 error

                """
        ),
        Case(
            name: "duplicate serial, short form",
            edits: [.edit(site, "\"96142408100255\"", "\"96142109100037\"")],
            stderr: """
                lvx.yaml:4:3: error: duplicate key '96142109100037' (first defined at line 3)
                  "96142109100037": {name: lvx6048-2, profile: eg4-lp4-v2}
                  ^
                note: keep one of them
                1 error

                """
        ),
        Case(
            name: "duplicate serial, raw form of the same serial",
            edits: [.edit(site, "\"96142408100255\"", "\"1496142109100037000000\"")],
            stderr: """
                lvx.yaml:4:3: error: duplicate serial '1496142109100037000000' (= 96142109100037) (first at line 3)
                  "1496142109100037000000": {name: lvx6048-2, profile: eg4-lp4-v2}
                  ^
                note: list each inverter once
                1 error

                """
        ),
        Case(
            name: "stack members with different profiles",
            edits: [.edit(site, "lvx6048-2, profile: eg4-lp4-v2", "lvx6048-2, profile: other")],
            added: ["profiles/other.yaml": profile.replacingOccurrences(of: "current: 60", with: "current: 50")],
            stderr: """
                lvx.yaml:6:3: error: units in stack 'main' must hold identical settings, but 'max_charging_current' differs (lvx6048-1: 60, lvx6048-2: 50)
                  main: [lvx6048-1, lvx6048-2]
                  ^
                note: give the units the same profile, or make their 'accept' entries agree
                1 error

                """
        ),
        Case(
            name: "stack members with an accept entry for one of them only",
            edits: [
                .edit(
                    site,
                    "  plan_lifetime: 24h\n",
                    "  plan_lifetime: 24h\naccept:\n  - {unit: lvx6048-1, key: max_charging_current, value: 100, reason: set on the LCD}\n"
                )
            ],
            stderr: """
                lvx.yaml:6:3: error: units in stack 'main' must hold identical settings, but 'max_charging_current' differs (lvx6048-1: 100, lvx6048-2: 60)
                  main: [lvx6048-1, lvx6048-2]
                  ^
                note: give the units the same profile, or make their 'accept' entries agree
                1 error

                """
        ),
        Case(
            name: "expired accept entries: warnings, still valid",
            edits: [.edit(site, "  plan_lifetime: 24h\n", "  plan_lifetime: 24h\n" + accept)],
            exitCode: 0,
            stderr: """
                lvx.yaml:13:93: warning: accept entry for unit 'lvx6048-1' and key 'max_charging_current' expired on 2026-01-31 and no longer applies
                  - {unit: lvx6048-1, key: max_charging_current, value: 100, reason: set on the LCD, until: 2026-01-31}
                                                                                                            ^
                note: extend 'until' or remove the entry
                lvx.yaml:14:93: warning: accept entry for unit 'lvx6048-2' and key 'max_charging_current' expired on 2026-01-31 and no longer applies
                  - {unit: lvx6048-2, key: max_charging_current, value: 100, reason: set on the LCD, until: 2026-01-31}
                                                                                                            ^
                note: extend 'until' or remove the entry

                """
        ),
        Case(
            name: "several problems in two files, all reported at once in file order",
            edits: [
                .edit(profilePath, "grid_tie: disabled", "grid_tie: false"),
                .edit(profilePath, "float_voltage: 54.0", "float_voltage: 56.8"),
                .edit(site, "tolerances:", "tolerence:"),
                .edit(site, "lvx6048-1, profile: eg4-lp4-v2", "lvx6048-1, profile: eg4-lp4"),
            ],
            stderr: """
                lvx.yaml:3:48: error: unknown profile 'eg4-lp4'; did you mean 'eg4-lp4-v2'?
                  "96142109100037": {name: lvx6048-1, profile: eg4-lp4}
                                                               ^
                note: available profiles: eg4-lp4-v2 (the files profiles/NAME.yaml)
                lvx.yaml:7:1: error: unknown key 'tolerence'; did you mean 'tolerances'?
                tolerence:
                ^
                note: allowed here: site, units, stacks, tolerances, accept, apply
                profiles/eg4-lp4-v2.yaml:6:16: error: 'float_voltage' (56.8) must be <= 'bulk_voltage' (56.4)
                float_voltage: 56.8
                               ^
                note: lower 'float_voltage' or raise 'bulk_voltage'
                profiles/eg4-lp4-v2.yaml:12:11: error: 'grid_tie' = 'false' is not one of disabled, enabled
                grid_tie: false
                          ^
                note: write 'disabled'
                4 errors

                """
        ),
    ]

    @Test("bad desired state: exact diagnostics with source line and caret", arguments: cases)
    func diagnostics(_ testCase: Case) throws {
        let repo = try TemporaryRepository(files: try testCase.files())
        let result = try lvx(
            ["validate"],
            environment: ["LVX_REPO": repo.path.path, "LVX_NOW": "2026-11-21T10:00:00Z"]
        )
        #expect(result.exitCode == testCase.exitCode, "\(result)")
        #expect(result.stderr == testCase.stderr, "\(result)")
        if testCase.exitCode == 0 {
            let commit = String(try repo.git("rev-parse", "HEAD").prefix(12))
            #expect(result.stdout == "valid: 2 unit(s), 1 profile(s) at \(commit), 2 warning(s)\n")
        } else {
            #expect(result.stdout.isEmpty, "\(result)")
        }
    }

    @Test("the pre-receive hook rejects a push whose port: string does not parse, at its file:line:column")
    func pushHookChecksPorts() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("lvx-hub-\(UUID())")
        defer { try? FileManager.default.removeItem(at: base) }
        let hub = base.appendingPathComponent("hub.git").path
        let initResult = try lvx(["init", hub, "--bare"])
        #expect(initResult.exitCode == 0, "\(initResult)")
        let clone = base.appendingPathComponent("clone").path
        let git = TemporaryRepository.gitEnvironment
        #expect(try runCommand("/usr/bin/git", ["clone", "-q", hub, clone], environment: git).exitCode == 0)
        try Self.profile.write(toFile: clone + "/" + Self.profilePath, atomically: true, encoding: .utf8)
        let site = "units:\n  \"96142109100037\": {name: shed, profile: eg4-lp4-v2, port: \"tcp://bridge\"}\n"
        try site.write(toFile: clone + "/lvx.yaml", atomically: true, encoding: .utf8)
        _ = try runCommand("/usr/bin/git", ["-C", clone, "add", "-A"], environment: git)
        _ = try runCommand("/usr/bin/git", ["-C", clone, "commit", "-qm", "a unit on a bridge"], environment: git)

        let rejected = try runCommand("/usr/bin/git", ["-C", clone, "push", "origin", "main"], environment: git)

        #expect(rejected.exitCode != 0)
        #expect(
            rejected.stderr.contains(
                "lvx.yaml:2:61: error: port 'tcp://bridge' is not valid: the port number is missing (tcp://HOST:PORT)"
            ),
            "\(rejected)"
        )
        #expect(rejected.stderr.contains("pre-receive hook declined"))
    }

    @Test("the compact seeds' site is valid")
    func valid() throws {
        let repo = try TemporaryRepository(files: try Case(name: "valid", stderr: "").files())
        let result = try lvx(["validate", "--repo", repo.path.path])
        #expect(result.exitCode == 0, "\(result)")
        let commit = String(try repo.git("rev-parse", "HEAD").prefix(12))
        #expect(result.stdout == "valid: 2 unit(s), 1 profile(s) at \(commit)\n")
        #expect(result.stderr.isEmpty)
    }

    @Test("plan and apply on an invalid desired state exit 1 without a single exchange with an inverter")
    func invalidStopsBeforeDevices() throws {
        let site = try ReviewSite(ReviewSite.sets([ReviewSite.unit1: ["float_voltage": "54.4"]]))
        let id = try site.approvedPlan()
        let exchanges = site.exchangeCount
        try site.edit(Self.profilePath, replacing: "battery_type: USER", with: "battery_type: AGM")
        for arguments in [["plan"], ["apply", id], ["apply"]] {
            let result = try site.lvx(arguments)
            #expect(result.exitCode == 1, "\(arguments): \(result)")
            #expect(result.stderr.hasPrefix("profiles/eg4-lp4-v2.yaml:"), "\(result)")
            #expect(
                result.stderr.contains(
                    ": error: voltages are only honoured when battery_type is USER, but it is 'AGM'\nbattery_type: AGM"
                ),
                "\(result)"
            )
            let commit = String(try site.repo.git("rev-parse", "HEAD").prefix(12))
            #expect(
                result.stderr.hasSuffix(
                    "error: the desired state at \(commit) is invalid: 1 error\nnote: run `lvx validate` and fix the errors above\n"
                ),
                "\(result)"
            )
        }
        #expect(site.exchangeCount == exchanges, "no command may talk to a unit")
        #expect(site.sim.settersReceived.isEmpty)
        #expect(site.isClean)
    }

    @Test("--rev checks another revision; an unknown one is a clear error (exit 1)")
    func revision() throws {
        let repo = try TemporaryRepository(files: try Case(name: "valid", stderr: "").files())
        try repo.commit(
            [Self.profilePath: Self.profile.replacingOccurrences(of: "USER", with: "AGM")],
            message: "break"
        )
        let env = ["LVX_REPO": repo.path.path]
        #expect(try lvx(["validate"], environment: env).exitCode == 1)
        let previous = try lvx(["validate", "--rev", "HEAD~1"], environment: env)
        #expect(previous.exitCode == 0, "\(previous)")
        let commit = String(try repo.git("rev-parse", "HEAD~1").prefix(12))
        #expect(previous.stdout == "valid: 2 unit(s), 1 profile(s) at \(commit)\n")
        let unknown = try lvx(["validate", "--rev", "nosuch"], environment: env)
        #expect(unknown.exitCode == 1)
        #expect(
            unknown.stderr == """
                error: unknown revision 'nosuch' in \(repo.path.path)
                note: use a branch, tag or commit id that exists there

                """
        )
        #expect(unknown.stdout.isEmpty)
    }

    @Test("a missing repository, an empty one and one without lvx.yaml: clear errors (exit 1), no exchange")
    func missingRepository() throws {
        let sim = try SimulatorProcess(["--site", "seeds"])
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("lvx-none-\(UUID())").path
        for arguments in [["validate"], ["plan"], ["apply"], ["plans"]] {
            let result = try lvx(arguments, environment: ["LVX_REPO": missing, "LVX_PORTS": sim.portList])
            #expect(result.exitCode == 1, "\(arguments): \(result)")
            #expect(
                result.stderr == """
                    error: not a desired-state repository: \(missing) (not a git repository: \(missing); run `lvx init` or pass --repo)
                    note: pass --repo DIR, set LVX_REPO, or create one with `git init` and an lvx.yaml

                    """,
                "\(arguments)"
            )
        }
        #expect(sim.log(ReviewSite.unit1).isEmpty && sim.log(ReviewSite.unit2).isEmpty)

        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("lvx-empty-\(UUID())")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        _ = try runCommand(
            "/usr/bin/git",
            ["init", "-q", "-b", "main", empty.path],
            environment: TemporaryRepository.gitEnvironment
        )
        let unborn = try lvx(["validate", "--repo", empty.path])
        #expect(unborn.exitCode == 1)
        #expect(
            unborn.stderr
                == "error: the branch 'main' in \(empty.path) has no commits yet\nnote: commit the desired state first\n"
        )

        let bare = try TemporaryRepository(files: ["README": "no desired state here\n"])
        let noSite = try lvx(["validate", "--repo", bare.path.path])
        #expect(noSite.exitCode == 1)
        #expect(
            noSite.stderr
                == "error: missing 'lvx.yaml' at the repository root\nnote: add lvx.yaml with at least 'units'\n1 error\n"
        )
    }
}
