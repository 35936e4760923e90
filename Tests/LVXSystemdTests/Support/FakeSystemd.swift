import Foundation

/// A private `dbus-daemon` with a stand-in for systemd's manager on it (`Scripts/fake_systemd.py`).
///
/// The stand-in owns `org.freedesktop.systemd1`, serves `GetUnit`, `Subscribe`, `StopUnit`,
/// `StartUnit` and the units' `ActiveState`, emits `JobRemoved` when a job ends, and records every
/// call, which ``calls()`` returns. Both processes end in ``shutDown()`` (or `deinit`), and on
/// their own if this test process dies (the stand-in exits when its standard input closes).
final class FakeSystemd {
    /// How one unit behaves.
    struct Unit {
        var state = "active"
        /// The `JobRemoved` result of a stop job; `nil`: the job never ends.
        var stopResult: String? = "done"
        var startResult: String? = "done"
        /// A D-Bus error name `StopUnit` answers with instead of making a job.
        var stopError: String?
        /// Send `JobRemoved` before the method's reply (a job that ends at once).
        var signalBeforeReply = false

        var json: [String: Any] {
            [
                "state": state,
                "stop_result": stopResult ?? NSNull(),
                "start_result": startResult ?? NSNull(),
                "stop_error": stopError ?? NSNull(),
                "signal_before_reply": signalBeforeReply,
            ]
        }
    }

    /// The private bus's address, for `SystemdServiceManager(busAddress:)`.
    let address: String
    let directory: URL
    private let process: Process
    private let input: Pipe

    /// Starts the bus and the stand-in with `units`, and waits until the name is owned.
    init(units: [String: Unit]) throws {
        directory = try TestScripts.scratchDirectory("lvx-bus")
        let config = directory.appendingPathComponent("config.json")
        let document: [String: Any] = ["dir": directory.path, "units": units.mapValues(\.json)]
        try JSONSerialization.data(withJSONObject: document).write(to: config)

        process = Process()
        process.executableURL = URL(fileURLWithPath: TestScripts.python)
        process.arguments = [TestScripts.path("fake_systemd.py"), config.path]
        input = Pipe()
        process.standardInput = input
        let log = directory.appendingPathComponent("stand-in.log")
        try Data().write(to: log)
        let logHandle = try FileHandle(forWritingTo: log)
        process.standardError = logHandle
        process.standardOutput = logHandle
        try process.run()

        let ready = directory.appendingPathComponent("ready")
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: ready.path) {
            guard process.isRunning, Date() < deadline else {
                let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                Self.stop(process, input)
                throw ScriptError(
                    "the D-Bus stand-in did not start (it needs dbus-daemon, python3-dbus and python3-gi; "
                        + "see Tests/LVXSystemdTests/README.md): \(output)"
                )
            }
            usleep(20_000)
        }
        address = try String(contentsOf: ready, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    deinit {
        shutDown()
    }

    /// Every call the stand-in received, one array of fields per call, in order.
    func calls() -> [[String]] {
        let text = (try? String(contentsOf: directory.appendingPathComponent("calls.log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
    }

    /// The `StopUnit`/`StartUnit` calls as `"StopUnit a.service replace"`, in order.
    func jobCalls() -> [String] {
        calls().filter { ["StopUnit", "StartUnit"].contains($0.first) }.map { $0.joined(separator: " ") }
    }

    /// Stops the stand-in and its daemon and removes the scratch directory (idempotent).
    func shutDown() {
        Self.stop(process, input)
        try? FileManager.default.removeItem(at: directory)
    }

    private static func stop(_ process: Process, _ input: Pipe) {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
