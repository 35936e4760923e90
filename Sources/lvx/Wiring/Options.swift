import ArgumentParser
import Foundation

/// Options for reaching inverters: extra discovery candidates and the reply timeout.
struct DeviceOptions: ParsableArguments {
    @Option(
        name: .customLong("port"),
        help: ArgumentHelp(
            "Extra candidate ports for discovery by serial, comma-separated (also read from LVX_PORTS).",
            valueName: "ports"
        )
    )
    var ports: [String] = []

    @Option(help: ArgumentHelp("Seconds to wait for one reply before retrying.", valueName: "seconds"))
    var timeout: Double?

    func validate() throws {
        if let timeout, !(timeout > 0 && timeout <= 60) {
            throw ValidationError("--timeout must be between 0 and 60 seconds, got \(timeout)")
        }
    }

    /// Every extra candidate: `--port` values and `LVX_PORTS`, split on commas, empty entries dropped.
    var extraCandidates: [String] { Self.candidates(ports) }

    /// `ports` and `LVX_PORTS`, split on commas, trimmed, empty entries dropped.
    static func candidates(_ ports: [String] = []) -> [String] {
        let env = ProcessInfo.processInfo.environment["LVX_PORTS"] ?? ""
        return (ports + [env]).flatMap { $0.split(separator: ",") }.map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
    }
}
