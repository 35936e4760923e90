import ArgumentParser
import LVXCore

extension LVXCommand {
    /// `lvx status`: serial, port, firmware, mode, faults, parallel index and battery voltage per unit.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show each unit's serial, port, firmware, mode, faults, parallel index and battery voltage."
        )

        @Argument(help: "Units (port string, serial number, or unit name); default: every unit in lvx.yaml.")
        var units: [String] = []

        @Flag(help: "Print one JSON object per unit instead of a table.")
        var json = false

        @OptionGroup var device: DeviceOptions
        @OptionGroup var repository: RepositoryOptions

        func run() async throws {
            try await execute {
                let resolver = UnitResolver(device: device, repository: repository)
                let targets = try await resolver.resolve(units.isEmpty ? try resolver.allDesiredUnitRefs() : units)
                let results = await readConcurrently(targets) { target in
                    try await UnitReport.read(from: target.device, knownSerial: target.serial)
                }
                let out = Terminal.standardOutput
                var failed = false
                if !json {
                    out.line(
                        pad("UNIT", 16) + pad("SERIAL", 16) + pad("PORT", 26) + pad("FIRMWARE", 19) + pad("MODE", 14)
                            + pad("FAULT", 22) + pad("PARALLEL", 22) + "BATTERY"
                    )
                }
                for (target, result) in zip(targets, results) {
                    switch result {
                    case .success(let report):
                        if json {
                            var object = report.json
                            if case .object(var pairs) = object, let name = target.name {
                                pairs.insert(("name", .string(name)), at: 0)
                                object = .object(pairs)
                            }
                            out.line(object.text)
                        } else {
                            let fault =
                                report.faults.fault.isFault
                                ? out.paint("\(report.faults.fault.code) \(report.faults.fault.name)", .red) : "none"
                            out.line(
                                pad(target.name ?? "-", 16) + pad(report.serial?.digits ?? "-", 16)
                                    + pad(report.port, 26)
                                    + pad(
                                        "\(report.firmware.main)/\(report.firmware.slave1)/\(report.firmware.slave2)",
                                        19
                                    )
                                    + pad("\(report.mode.name) (\(report.mode.code))", 14)
                                    + pad(fault, 22) + pad(report.parallelRole, 22)
                                    + "\(tenths(report.status.batteryVoltage)) V"
                            )
                        }
                    case .failure(let error):
                        failed = true
                        let cli = CLIError(error)
                        if json {
                            out.line(
                                JSONValue.object([
                                    ("name", target.name.map { .string($0) } ?? .null),
                                    ("serial", target.serial.map { .string($0.digits) } ?? .null),
                                    ("port", .string(target.device.port)),
                                    ("error", .string(error.description)),
                                ]).text
                            )
                        }
                        Terminal.standardError.error(cli.message, hint: cli.hint)
                    }
                }
                return failed ? .failure : .success
            }
        }
    }
}

/// Pads `text` with spaces to `width` columns (ANSI colour codes do not count).
func pad(_ text: String, _ width: Int) -> String {
    var visible = 0
    var inEscape = false
    for scalar in text.unicodeScalars {
        if scalar == "\u{1B}" {
            inEscape = true
        } else if inEscape {
            if scalar == "m" { inEscape = false }
        } else {
            visible += 1
        }
    }
    return text + String(repeating: " ", count: max(1, width - visible))
}
