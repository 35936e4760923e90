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
                let resolved = try await resolver.resolveEach(
                    units.isEmpty ? try resolver.allDesiredUnitRefs() : units
                )
                let targets = resolved.compactMap { try? $0.get() }
                var reports = await readConcurrently(targets) { target in
                    try await UnitReport.read(from: target.device, knownSerial: target.serial)
                }[...]
                let out = Terminal.standardOutput
                if !json {
                    out.line(
                        pad("UNIT", 16) + pad("SERIAL", 16) + pad("PORT", 26) + pad("FIRMWARE", 19) + pad("MODE", 14)
                            + pad("FAULT", 22) + pad("PARALLEL", 22) + "BATTERY"
                    )
                }
                // Every unit gets its row, in the order asked: a report, or what went wrong.
                var errors: [CLIError] = []
                for resolution in resolved {
                    let row: Row
                    switch resolution {
                    case .failure(let unresolved):
                        row = .failed(
                            name: unresolved.name,
                            serial: unresolved.serial.digits,
                            port: nil,
                            error: "no inverter with serial \(unresolved.serial) found by discovery"
                        )
                        errors.append(unresolved.error)
                    case .success(let target):
                        switch reports.removeFirst() {
                        case .success(let report):
                            row = .answered(name: target.name, report: report)
                        case .failure(let error):
                            row = .failed(
                                name: target.name,
                                serial: target.serial?.digits,
                                port: target.device.port,
                                error: "\(error.command): \(error.detail)"
                                    + (error.attempts > 1 ? " after \(error.attempts) attempts" : "")
                            )
                            errors.append(CLIError(error.message, hint: error.hint))
                        }
                    }
                    out.line(json ? row.json.text : row.text(on: out))
                }
                for error in errors { Terminal.standardError.error(error.message, hint: error.hint) }
                return errors.isEmpty ? .success : .failure
            }
        }

        /// One unit's line of the table or of the JSON output.
        enum Row {
            case answered(name: String?, report: UnitReport)
            case failed(name: String?, serial: String?, port: String?, error: String)

            func text(on out: Terminal) -> String {
                switch self {
                case .answered(let name, let report):
                    let fault =
                        report.faults.fault.isFault
                        ? out.paint("\(report.faults.fault.code) \(report.faults.fault.name)", .red) : "none"
                    return pad(name ?? "-", 16) + pad(report.serial?.digits ?? "-", 16) + pad(report.port, 26)
                        + pad("\(report.firmware.main)/\(report.firmware.slave1)/\(report.firmware.slave2)", 19)
                        + pad("\(report.mode.name) (\(report.mode.code))", 14)
                        + pad(fault, 22) + pad(report.parallelRole, 22)
                        + "\(tenths(report.status.batteryVoltage)) V"
                case .failed(let name, let serial, let port, let error):
                    return pad(name ?? "-", 16) + pad(serial ?? "-", 16) + pad(port ?? "-", 26)
                        + out.paint("error: \(error)", .red)
                }
            }

            /// The report's object, or `name`, `serial`, `port` and `error`; each with `name` first.
            var json: JSONValue {
                switch self {
                case .answered(let name, let report):
                    guard case .object(let pairs) = report.json else { return report.json }
                    return .object([("name", name.map { .string($0) } ?? .null)] + pairs)
                case .failed(let name, let serial, let port, let error):
                    return .object([
                        ("name", name.map { .string($0) } ?? .null),
                        ("serial", serial.map { .string($0) } ?? .null),
                        ("port", port.map { .string($0) } ?? .null),
                        ("error", .string(error)),
                    ])
                }
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
