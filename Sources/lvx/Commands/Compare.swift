import ArgumentParser
import LVXCore

extension LVXCommand {
    /// `lvx compare A B`: the two units' live settings side by side (seed semantics).
    struct Compare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare two units' live settings (exit 0 identical, 1 differ or error)."
        )

        @Argument(help: "The first unit.") var a: String
        @Argument(help: "The second unit.") var b: String

        @OptionGroup var device: DeviceOptions
        @OptionGroup var repository: RepositoryOptions

        func run() async throws {
            try await execute {
                let resolver = UnitResolver(device: device, repository: repository)
                let targets = try await resolver.resolve([a, b])
                let results = await readConcurrently(targets) { try await $0.device.ratedInformation().settings }
                let settings = try results.map { try $0.get() }
                let comparison = SettingsComparison(settings[0], settings[1])
                Terminal.standardOutput.write(comparison.render(nameA: targets[0].label, nameB: targets[1].label))
                return comparison.matches ? .success : .failure
            }
        }
    }

    /// `lvx sync-check A B`: whether two paralleled units are in a valid parallel state (seed rules).
    struct SyncCheck: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sync-check",
            abstract: "Check that two paralleled units are in sync (exit 0 SYNC OK, 1 issues or error)."
        )

        @Argument(help: "The first unit.") var a: String
        @Argument(help: "The second unit.") var b: String

        @OptionGroup var device: DeviceOptions
        @OptionGroup var repository: RepositoryOptions

        func run() async throws {
            try await execute {
                let resolver = UnitResolver(device: device, repository: repository)
                let targets = try await resolver.resolve([a, b])
                let results = await readConcurrently(targets) { target in
                    try await UnitReport.read(from: target.device, knownSerial: target.serial, identify: false)
                }
                let reports = try results.map { try $0.get() }
                let check = LVXCore.SyncCheck(reports[0], reports[1], nameA: targets[0].label, nameB: targets[1].label)
                Terminal.standardOutput.write(
                    check.render(reports[0], reports[1], nameA: targets[0].label, nameB: targets[1].label)
                )
                return check.inSync ? .success : .failure
            }
        }
    }
}
