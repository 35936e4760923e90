import Foundation
import LVXTestSupport
import Testing

/// The seeds' site on `lvx-sim` and a desired-state repository, wired together for the review-cycle
/// tests (`plan`, `approve`, `show`, `plans`, `apply`).
final class ReviewSite: @unchecked Sendable {
    // Used by the one test that made it.
    static let unit1 = "96142109100037"
    static let unit2 = "96142408100255"

    let sim: SimulatorProcess
    let repo: TemporaryRepository
    /// Extra environment for every `lvx` run (LVX_NOW, DBUS_SYSTEM_BUS_ADDRESS...).
    var environment: [String: String] = [:]

    /// Starts `lvx-sim --site seeds` with `simulator` arguments and makes a repository holding
    /// `site` as `lvx.yaml` beside the real profile from `desired-state/`.
    init(_ simulator: [String] = [], baud: Int = 0, site: String = ReviewSite.site()) throws {
        sim = try SimulatorProcess(["--site", "seeds"] + simulator, baud: baud)
        var files = try TemporaryRepository.desiredStateFiles()
        files["lvx.yaml"] = site
        repo = try TemporaryRepository(files: files)
    }

    /// The seeds' site as `lvx.yaml`, without comments and with `stop_units` empty (no systemd here).
    ///
    /// - Parameters:
    ///   - tolerances: the `tolerances:` block's entries, or `nil` for no block.
    ///   - apply: the `apply:` block's entries.
    ///   - extra: lines added at the end (each ending in a newline).
    /// - Returns: the text of `lvx.yaml`.
    static func site(
        tolerances: String? = "  float_voltage: 0.1\n",
        apply: String = "  stop_units: []\n  plan_lifetime: 24h\n",
        extra: String = ""
    ) -> String {
        """
        site: home
        units:
          "96142109100037": {name: lvx6048-1, profile: eg4-lp4-v2}
          "96142408100255": {name: lvx6048-2, profile: eg4-lp4-v2}
        stacks:
          main: [lvx6048-1, lvx6048-2]

        """ + (tolerances.map { "tolerances:\n\($0)" } ?? "") + "apply:\n\(apply)\(extra)"
    }

    /// The real `desired-state/lvx.yaml`, with `stop_units` emptied as the demo does.
    static func seedsSite() throws -> String {
        let text = try #require(try TemporaryRepository.desiredStateFiles()["lvx.yaml"])
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix("  stop_units:") ? "  stop_units: []" : String(line)
        }
        #expect(lines.contains("  stop_units: []"), "desired-state/lvx.yaml has no apply.stop_units line")
        return lines.joined(separator: "\n")
    }

    /// `--set SERIAL:KEY=VALUE` for each unit and setting.
    static func sets(_ values: [String: [String: String]]) -> [String] {
        values.keys.sorted().flatMap { serial in
            (values[serial] ?? [:]).keys.sorted().flatMap { key in
                ["--set", "\(serial):\(key)=\(values[serial]?[key] ?? "")"]
            }
        }
    }

    /// Runs the built `lvx` against this site; `LVX_APPROVER` is alice unless `environment` says otherwise.
    func lvx(_ arguments: [String], _ extra: [String: String] = [:], timeout: Double = 600) throws -> CommandResult {
        var env = ["LVX_REPO": repo.path.path, "LVX_PORTS": sim.portList, "LVX_APPROVER": "alice"]
        env.merge(environment) { _, new in new }
        env.merge(extra) { _, new in new }
        return try LVXTestSupport.lvx(arguments, environment: env, timeout: timeout)
    }

    /// Runs `lvx plan`, expects exit 2, and returns the plan's id as printed.
    func plan(_ extra: [String: String] = [:]) throws -> String {
        let result = try lvx(["plan"], extra)
        #expect(result.exitCode == 2, "\(result)")
        return try #require(Self.planID(in: result.stdout), "\(result)")
    }

    /// Runs `lvx plan` and `lvx approve`, expecting both to succeed, and returns the plan's id.
    func approvedPlan(_ extra: [String: String] = [:]) throws -> String {
        let id = try plan(extra)
        let approve = try lvx(["approve", id], extra)
        #expect(approve.exitCode == 0, "\(approve)")
        return id
    }

    /// The id in `Plan ID: N write(s) ...` of `lvx plan`'s text.
    static func planID(in text: String) -> String? {
        guard let range = text.range(of: "\nPlan ") ?? (text.hasPrefix("Plan ") ? text.range(of: "Plan ") : nil)
        else { return nil }
        let id = String(text[range.upperBound...].prefix(16))
        return id.count == 16 && id.allSatisfy(\.isHexDigit) ? id : nil
    }

    /// Whether the working tree and index match HEAD (`git status --porcelain` prints nothing).
    var isClean: Bool { (try? repo.git("status", "--porcelain"))?.isEmpty ?? false }

    /// The number of commits on HEAD.
    var commitCount: Int {
        Int((try? repo.git("rev-list", "--count", "HEAD"))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
            ?? -1
    }

    /// The commit id `revision` names.
    func rev(_ revision: String) -> String {
        ((try? repo.git("rev-parse", revision)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The subject of HEAD's commit.
    var lastSubject: String {
        ((try? repo.git("log", "-1", "--format=%s")) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A file's content at HEAD, or `nil` when HEAD does not hold it.
    func file(_ path: String) -> String? { try? repo.show(path) }

    /// Commits `files` with the git CLI, as a person editing the repository would.
    func commit(_ files: [String: String], _ message: String = "edit by hand") throws {
        try repo.commit(files, message: message)
    }

    /// Rewrites a file at HEAD by replacing the first occurrence of `old` with `new`, and commits it.
    func edit(_ path: String, replacing old: String, with new: String) throws {
        let text = try #require(file(path), "\(path) is not at HEAD")
        let range = try #require(text.range(of: old), "'\(old)' is not in \(path)")
        try commit([path: text.replacingCharacters(in: range, with: new)])
    }

    /// The request log of `serial` as `KIND PAYLOAD` tokens (`S MCHGV564,540`, `P PIRI`), from the
    /// first setter on: the exact sequence of writes and reads during apply.
    func writeSequence(_ serial: String) -> [String] {
        let tokens = sim.log(serial).map { line in
            line.split(separator: " ").dropFirst().prefix(2).joined(separator: " ")
        }
        guard let first = tokens.firstIndex(where: { $0.hasPrefix("S ") }) else { return [] }
        return Array(tokens[first...])
    }

    /// The setter payloads `serial` received, in order.
    func setters(_ serial: String) -> [String] {
        writeSequence(serial).filter { $0.hasPrefix("S ") }.map { String($0.dropFirst(2)) }
    }

    /// The unit's live settings in the simulator, as `lvx` writes them (`54.0`, `60`, `USER`).
    func liveSettings(_ serial: String) throws -> [String: String] {
        let settings = try #require(try sim.state(serial)["settings"] as? [String: Any])
        var out: [String: String] = [:]
        for (key, value) in settings {
            if let number = value as? NSNumber, !(value is String) {
                out[key] = key.hasSuffix("_voltage") ? String(format: "%.1f", number.doubleValue) : "\(number.intValue)"
            } else {
                out[key] = "\(value)"
            }
        }
        return out
    }

    /// The profile `desired-state/profiles/eg4-lp4-v2.yaml` as key -> value text.
    static func profile() throws -> [String: String] {
        let text = try #require(try TemporaryRepository.desiredStateFiles()["profiles/eg4-lp4-v2.yaml"])
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && line.contains(":") {
            let content = line.split(separator: "#", maxSplits: 1)[0]
            let parts = content.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            out[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        return out
    }

    /// Sets one setting in the simulator's state and makes it re-read the state (SIGHUP).
    func setLive(_ serial: String, _ key: String, _ value: Any) throws {
        try sim.editState(serial) { state in
            var settings = state["settings"] as? [String: Any] ?? [:]
            settings[key] = value
            state["settings"] = settings
        }
    }

    /// Replaces the unit's fault injections (`hang-after=5`...) and makes the simulator re-read them.
    func setFaults(_ serial: String, _ faults: [String]) throws {
        try sim.editState(serial) { $0["faults"] = faults }
    }

    /// The number of exchanges in every unit's log, to show a command talked to no inverter.
    var exchangeCount: Int { sim.ports.reduce(0) { $0 + sim.log($1.serial).count } }

    /// The scalar after the first `name: ` in a record file (block or flow style), without quotes.
    static func field(_ name: String, in text: String) -> String? {
        guard let range = text.range(of: "\(name): ") else { return nil }
        let value = text[range.upperBound...].prefix { $0 != "," && $0 != "}" && $0 != "\n" }
        return value.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
    }

    /// How many times `needle` occurs in `text`.
    static func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }
}

/// `lvx` running as a child process the test can signal, its output going to files.
final class LVXChild: @unchecked Sendable {
    // Used by the one test that made it.
    private let process = Process()
    private let outURL: URL
    private let errURL: URL

    init(_ arguments: [String], environment: [String: String]) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lvx-child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        outURL = dir.appendingPathComponent("stdout")
        errURL = dir.appendingPathComponent("stderr")
        try Data().write(to: outURL)
        try Data().write(to: errURL)
        process.executableURL = PackagePaths.productsDirectory().appendingPathComponent("lvx")
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        env["LVX_NO_HIDRAW_SCAN"] = "1"
        env["LVX_ALLOWED_SIGNERS"] = "none"
        env.merge(environment) { _, new in new }
        process.environment = env
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
    }

    /// Sends SIGTERM.
    func terminate() { process.terminate() }

    /// Sends `signal` (SIGKILL, SIGHUP...).
    func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits up to `timeout` seconds; returns the exit code, or `nil` (after killing it) on timeout.
    func wait(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    var stdout: String { (try? String(contentsOf: outURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: errURL, encoding: .utf8)) ?? "" }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: outURL.deletingLastPathComponent())
    }
}

/// Waits up to `timeout` seconds for `condition`.
func eventually(timeout: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// Why the D-Bus stand-in could not be used.
enum StandInError: Error {
    case notStarted
}

/// A private D-Bus with a stand-in for systemd's manager on it
/// (`Tests/LVXSystemdTests/Scripts/fake_systemd.py`), for `apply.stop_units`.
final class StandInSystemd: @unchecked Sendable {
    // Used by the one test that made it.
    static let python = "/usr/bin/python3"
    static let script = PackagePaths.root().appendingPathComponent("Tests/LVXSystemdTests/Scripts/fake_systemd.py")

    /// Whether the stand-in can run here (dbus-daemon, python3-dbus, python3-gi).
    static var isAvailable: Bool {
        guard FileManager.default.isExecutableFile(atPath: python),
            FileManager.default.fileExists(atPath: script.path),
            let result = try? runCommand(python, ["-c", "import dbus, gi.repository.GLib"], timeout: 120)
        else { return false }
        let daemon = ["/usr/bin/dbus-daemon", "/bin/dbus-daemon"].contains {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        return result.exitCode == 0 && daemon
    }

    let address: String
    private let directory: URL
    private let process = Process()
    private let input = Pipe()

    /// Starts the bus with `units`, each active and stopping and starting cleanly.
    init(units: [String], stopError: String? = nil) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("lvx-bus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = directory.appendingPathComponent("config.json")
        var described: [String: Any] = [:]
        for unit in units {
            described[unit] = [
                "state": "active", "stop_result": "done", "start_result": "done",
                "stop_error": stopError.map { $0 as Any } ?? NSNull(),
                "signal_before_reply": false,
            ]
        }
        try JSONSerialization.data(withJSONObject: ["dir": directory.path, "units": described]).write(to: config)
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = [Self.script.path, config.path]
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let ready = directory.appendingPathComponent("ready")
        guard eventually(timeout: 120, { FileManager.default.fileExists(atPath: ready.path) }) else {
            throw StandInError.notStarted
        }
        address = try String(contentsOf: ready, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The `StopUnit`/`StartUnit` calls, as `StopUnit powermon.service replace`, in order.
    var jobCalls: [String] {
        let text = (try? String(contentsOf: directory.appendingPathComponent("calls.log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { $0.split(separator: "\t").joined(separator: " ") }.filter {
            $0.hasPrefix("StopUnit ") || $0.hasPrefix("StartUnit ")
        }
    }

    deinit {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}
