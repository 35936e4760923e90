import Foundation
import LVXCore
import LVXSimulator
import LVXWire
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A running `lvx-sim` process started by a test.
final class SimulatorProcess {
    let process = Process()
    let directory: URL
    /// The `SERIAL PORT` lines from the ports file.
    let lines: [String]
    let stdout: Pipe

    init(_ arguments: [String], directory: URL? = nil) throws {
        let directory = try directory ?? TestPaths.temporaryDirectory("lvx-sim-cli")
        self.directory = directory
        let portsFile = directory.appendingPathComponent("ports")
        process.executableURL = try TestPaths.simulatorBinary()
        process.arguments =
            arguments + ["--state-dir", directory.appendingPathComponent("state").path, "--ports-file", portsFile.path]
        stdout = Pipe()
        process.standardOutput = stdout
        try process.run()
        let deadline = Date().addingTimeInterval(300)
        while !FileManager.default.fileExists(atPath: portsFile.path) && process.isRunning && Date() < deadline {
            usleep(20_000)
        }
        guard let text = try? String(contentsOf: portsFile, encoding: .utf8) else {
            process.terminate()
            throw TestFailure("lvx-sim wrote no ports file (running: \(process.isRunning))")
        }
        lines = text.split(separator: "\n").map(String.init)
    }

    /// The pty path or TCP port of line `i`.
    func path(_ i: Int) -> String {
        let port = lines[i].split(separator: " ")[1]
        return String(port.split(separator: ":", maxSplits: 1)[1])
    }

    var stateDirectory: URL { directory.appendingPathComponent("state") }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Sends SIGTERM and returns the exit status (gives up after 300 s).
    func stop(_ signal: Int32 = SIGTERM) -> Int32? {
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(300)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        guard !process.isRunning else {
            process.terminate()
            return nil
        }
        return process.terminationStatus
    }

    deinit { if process.isRunning { process.terminate() } }
}

/// Runs `lvx-sim` with arguments that make it fail at once; returns status and stderr.
func runFailing(_ arguments: [String]) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = try TestPaths.simulatorBinary()
    process.arguments = arguments
    let stderr = Pipe()
    process.standardError = stderr
    process.standardOutput = Pipe()
    try process.run()
    process.waitUntilExit()
    let text = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return (process.terminationStatus, text)
}

@Suite("The lvx-sim command")
struct CommandTests {
    @Test("seeds site with --set and --fault; prints SERIAL PORT; SIGHUP reloads; SIGTERM exits 0")
    func seeds() throws {
        let sim = try SimulatorProcess([
            "--transport", "serial", "--baud", "0", "--set", "96142109100037:float_voltage=53.5", "--fault",
            "96142408100255:mode=06", "--fault", "96142408100255:drop=1",
        ])
        let printed = String(decoding: sim.stdout.fileHandleForReading.availableData, as: UTF8.self)
        #expect(printed == sim.lines.joined(separator: "\n") + "\n")
        #expect(sim.lines.count == 2)
        #expect(sim.lines[0].hasPrefix("96142109100037 serial:/dev/pts/"))
        #expect(sim.lines[1].hasPrefix("96142408100255 serial:/dev/pts/"))

        let first = try TestClient(ptyPath: sim.path(0), raw: true)
        first.send(Frames.query("PIRI"))
        let piri = try PI18Decode.ratedInformation(try fields(PI18Reply.parse(first.read(settle: 0))))
        #expect(piri.settings[.floatVoltage] == SettingValue(raw: 535))

        let second = try TestClient(ptyPath: sim.path(1), raw: true)
        second.send(Frames.query("MOD"))
        #expect(second.read(timeout: 0.5).isEmpty)  // dropped
        second.send(Frames.query("MOD"))
        #expect(try PI18Reply.parse(second.read(settle: 0)) == .data(fields: ["06"]))
        // Settings differ from the master's (float 53.5 there): fault 86 on the member.
        second.send(Frames.query("FWS"))
        #expect(try fields(PI18Reply.parse(second.read(settle: 0)))[0] == "86")

        let file = sim.stateDirectory.appendingPathComponent("96142109100037.json")
        let text = try String(contentsOf: file, encoding: .utf8)
            .replacingOccurrences(of: "\"float_voltage\": 53.5", with: "\"float_voltage\": 54.0")
        try text.write(to: file, atomically: true, encoding: .utf8)
        sim.signal(SIGHUP)
        var fault = ""
        for _ in 0..<50 where fault != "00" {
            usleep(50_000)
            second.send(Frames.query("FWS"))
            fault = try fields(PI18Reply.parse(second.read(settle: 0)))[0]
        }
        #expect(fault == "00")
        let log = try logLines(sim.stateDirectory, "96142408100255")
        #expect(log.first?.reply == .dropped)
        #expect(!log.contains { $0.kind == .setter })
        #expect(sim.stop() == 0)
    }

    @Test("--units N serves N single units on TCP; SIGINT exits 0")
    func numberedUnits() throws {
        let sim = try SimulatorProcess(["--units", "3", "--transport", "tcp", "--baud", "0"])
        #expect(sim.lines.count == 3)
        #expect(sim.lines[2].hasPrefix("96100000000003 tcp://127.0.0.1:"))
        let port = try #require(Int(sim.lines[2].split(separator: ":").last ?? ""))
        let client = try TestClient(tcpPort: port)
        client.send(Frames.query("GS"))
        #expect(try PI18Decode.generalStatus(try fields(PI18Reply.parse(client.read(settle: 0)))).parallelIndex == 0)
        client.send(Frames.query("PIRI"))
        #expect(try fields(PI18Reply.parse(client.read(settle: 0)))[22] == "0")  // output model single
        #expect(sim.stop(SIGINT) == 0)
    }

    @Test("--config describes the units")
    func config() throws {
        let directory = try TestPaths.temporaryDirectory("lvx-sim-config")
        let config = directory.appendingPathComponent("site.json")
        try #"{"units": [{"serial": "1234", "settings": {"max_charging_current": 100}, "mode": "06"}]}"#
            .write(to: config, atomically: true, encoding: .utf8)
        let sim = try SimulatorProcess(["--config", config.path, "--baud", "0"], directory: directory)
        #expect(sim.lines.count == 1 && sim.lines[0].hasPrefix("1234 hidraw:/dev/pts/"))
        let client = try TestClient(ptyPath: sim.path(0), raw: false)
        client.sendReports(Frames.query("PIRI"))
        #expect(try fields(PI18Reply.parse(firstFrame(client.read())))[15] == "100")
        #expect(sim.stop() == 0)
    }

    @Test(
        "bad flags fail with a clear message",
        arguments: [
            (["--fault", "96142109100037:melt=1"], 1, "unknown kind 'melt'"),
            (["--set", "1:float_voltage=53.5"], 1, "no unit has serial 1"),
            (["--site", "nowhere"], 1, "unknown site 'nowhere'"),
            (["--units", "0"], 64, "--units must be at least 1"),
            (["--site", "seeds", "--units", "2"], 64, "cannot be combined"),
            (["--transport", "usb"], 64, "usb"),
        ]
    )
    func badFlags(_ arguments: [String], _ status: Int32, _ message: String) throws {
        let (code, stderr) = try runFailing(arguments)
        #expect(code == status)
        #expect(stderr.contains(message), "\(stderr)")
    }
}
