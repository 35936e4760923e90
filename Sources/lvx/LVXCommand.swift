import ArgumentParser

/// The `lvx` command: a declarative reconciler for LVX6048 inverters.
@main
struct LVXCommand: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "lvx",
        abstract: "Keep LVX6048 inverter settings in git, and write only plans a person approved.",
        discussion: """
            Exit codes: 0 success / in sync, 1 error, 2 changes pending, 3 apply failed part-way,
            4 refused (not approved, stale, expired, tampered, locked), 64 usage.

            A unit reference is a port string (hidraw:PATH, /dev/hidrawN, serial:PATH[?baud=N],
            tcp://HOST:PORT), a serial number (found by discovery), or a unit name from lvx.yaml.
            """,
        version: version,
        subcommands: [
            Status.self, Dump.self, Compare.self, SyncCheck.self,
            Validate.self, Plan.self, Approve.self, Show.self, Plans.self, Withdraw.self, Apply.self, Recover.self,
            Run.self, History.self, Diff.self, Init.self,
        ]
    )
}
