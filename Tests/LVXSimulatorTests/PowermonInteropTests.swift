import Foundation
import LVXCore
import LVXSimulator
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A Python virtual environment holding powermon 1.0.18 from PyPI, at `<package root>/.venv-powermon/`.
///
/// Reused when it already has that version; otherwise created with `python3 -m venv` and filled with
/// `pip install powermon==1.0.18`. The directory is git-ignored.
enum PowermonEnvironment {
    static let version = "1.0.18"

    static var directory: URL { TestPaths.packageRoot().appendingPathComponent(".venv-powermon") }

    /// Prepares the environment and returns its `powermon` executable.
    static func prepare() throws -> URL {
        let python = directory.appendingPathComponent("bin/python")
        let probe = "import importlib.metadata as m; print(m.version('powermon'))"
        if FileManager.default.isExecutableFile(atPath: python.path),
            let out = try? run(python.path, ["-c", probe], timeout: 60), out.status == 0,
            out.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == version
        {
            return directory.appendingPathComponent("bin/powermon")
        }
        let venv = try run("/usr/bin/env", ["python3", "-m", "venv", "--clear", directory.path], timeout: 120)
        guard venv.status == 0 else { throw TestFailure("python3 -m venv failed: \(venv.stderr)") }
        let pip = try run(
            directory.appendingPathComponent("bin/pip").path,
            ["install", "--disable-pip-version-check", "--no-input", "--quiet", "powermon==\(version)"],
            timeout: 600
        )
        guard pip.status == 0 else { throw TestFailure("pip install powermon==\(version) failed: \(pip.stderr)") }
        return directory.appendingPathComponent("bin/powermon")
    }
}

/// The result of a finished process.
struct ProcessOutput {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a program to completion (killing it after `timeout` seconds), capturing its output.
func run(_ executable: String, _ arguments: [String], timeout: Double) throws -> ProcessOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let directory = try TestPaths.temporaryDirectory("lvx-run")
    let outURL = directory.appendingPathComponent("stdout")
    let errURL = directory.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(20_000) }
    if process.isRunning {
        process.terminate()
        process.waitUntilExit()
        throw TestFailure("\(executable) did not finish within \(Int(timeout)) s")
    }
    try out.close()
    try err.close()
    return ProcessOutput(
        status: process.terminationStatus,
        stdout: try String(contentsOf: outURL, encoding: .utf8),
        stderr: try String(contentsOf: errURL, encoding: .utf8)
    )
}

/// Proof that the simulator speaks real PI18: an independent implementation (powermon 1.0.18, as the
/// seed program used) talks to `lvx-sim` over a hidraw-style pty at 2400 baud and decodes what it holds.
@Suite("Interop with powermon 1.0.18")
struct PowermonInteropTests {
    @Test("powermon decodes PIRI and GS from lvx-sim and gets ^1 for a setter", .timeLimit(.minutes(15)))
    func powermon() throws {
        let powermon = try PowermonEnvironment.prepare()
        let sim = try SimulatorProcess(["--transport", "hidraw", "--baud", "2400"])
        defer { _ = sim.stop() }
        #expect(sim.lines[0].hasPrefix("96142109100037 hidraw:/dev/pts/"))
        let output = { (name: String) -> [String: Any] in
            ["command": name, "outputs": [["type": "screen", "format": "json"]]]
        }
        let config: [String: Any] = [
            "device": ["port": ["type": "usb", "path": sim.path(0), "protocol": "PI18"]],
            "commands": [output("PIRI"), output("GS"), output("MCHGV544,540")],
        ]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
        let began = Date()
        let result = try run(powermon.path, ["--once", "--config", json], timeout: 120)
        let elapsed = Date().timeIntervalSince(began)
        #expect(result.status == 0, "\(result.stderr)")

        var readings: [String: Any] = [:]
        var setterReplies: [String] = []
        for line in result.stdout.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let name = object["data_name"] as? String
            else { continue }
            if name.hasPrefix("set_") { setterReplies.append("\(object["data_value"] ?? "")") }
            // PIRI and GS both have ac_output_voltage and battery_voltage; keep the first (PIRI) under its name
            // and GS's under a prefix.
            if readings[name] == nil {
                readings[name] = object["data_value"]
            } else {
                readings["gs." + name] = object["data_value"]
            }
        }
        func number(_ key: String) -> Double? { (readings[key] as? NSNumber)?.doubleValue }
        // PIRI: the settings and ratings the unit holds.
        #expect(number("battery_float_charge_voltage") == 54.0)
        #expect(number("battery_bulk_charge_voltage") == 56.4)
        #expect(number("battery_under_voltage") == 48.0)
        #expect(number("battery_re-charge_voltage") == 48.0)
        #expect(number("battery_re-discharge_voltage") == 54.0)
        #expect(number("max_charging_current") == 60)
        #expect(number("max_ac_charging_current") == 30)
        #expect(readings["battery_type"] as? String == "User")
        #expect(readings["output_source_priority"] as? String == "Solar - Battery - Utility")
        #expect(readings["charger_source_priority"] as? String == "Solar First")
        #expect(readings["machine_type"] as? String == "Off Grid")
        #expect(number("ac_output_voltage") == 120.0)
        #expect(number("ac_output_frequency") == 60.0)
        #expect(number("battery_voltage") == 48.0)  // PIRI field 7: battery rated voltage
        #expect(number("max_parallel_units") == 6)
        // GS: live status.
        #expect(number("gs.battery_voltage") == 55.1)
        #expect(number("gs.ac_output_voltage") == 120.0)
        #expect(number("gs.ac_output_frequency") == 60.0)
        #expect(number("battery_charging_current") == 55)
        // The setter: acknowledged, decoded by powermon, honoured by the unit.
        #expect(setterReplies == ["Succeeded"])

        let log = try logLines(sim.stateDirectory, "96142109100037")
        #expect(log.map(\.payload) == ["PIRI", "GS", "MCHGV544,540"])
        #expect(log.map(\.reply) == [.data, .data, .ack])
        // powermon sends every request with a CRC, and sends the raw CRC 0x00CD of MCHGV544,540 as 01 CD.
        #expect(log[0].note == nil && log[1].note == nil)
        #expect(log[2].note == "crc-00-sent-as-01")
        let state = try String(
            contentsOf: sim.stateDirectory.appendingPathComponent("96142109100037.json"),
            encoding: .utf8
        )
        #expect(state.contains("\"bulk_voltage\": 54.4") && state.contains("\"float_voltage\": 54.0"))
        print("powermon interop: 3 commands at 2400 baud took \(String(format: "%.2f", elapsed)) s")
    }
}
