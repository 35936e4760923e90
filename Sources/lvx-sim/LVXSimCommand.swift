import ArgumentParser
import Foundation
import LVXCore
import LVXSimulator

#if canImport(Glibc)
    import Glibc
#endif

/// `lvx-sim`: serves simulated LVX6048 inverters speaking PI18 on ptys or TCP ports.
@main
struct LVXSimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lvx-sim",
        abstract: "Serve simulated LVX6048 inverters that speak PI18, for tests and demos.",
        discussion: """
            Prints one line per unit, "SERIAL PORT", where PORT is an lvx port \
            string (hidraw:/dev/pts/N, serial:/dev/pts/N, tcp://127.0.0.1:PORT or, \
            with --transport uhid, hidraw:/dev/hidrawN), \
            writes the same lines atomically to --ports-file, then serves until \
            SIGINT or SIGTERM (exit 0). SIGHUP re-reads every SERIAL.json in the \
            state directory.

            State directory (default: a new temporary directory, named on stderr):
              SERIAL.log   one line per request: SEQ KIND PAYLOAD REPLY WIRE [NOTE]
                           KIND: P query, S setter, ? unparseable (hex:...)
                           REPLY: data, ack, nak, dropped, corrupt, hang
                           WIRE: simulated wire seconds of the exchange
              SERIAL.json  the unit's state, rewritten atomically after every
                           change; the --config unit format plus
                           reported_fault (informational)

            --config FILE.json describes the units:
              {"units": [{
                "serial": "96142109100037",   (required, 1-20 digits)
                "stack": "main",              (same stack: one parallel system)
                "parallel_index": 0,
                "firmware": {"main": "06306", "slave1": "06126",
                             "slave2": "00000"},
                "mode": "05", "fault": "00",
                "output_model": 1, "battery_voltage": 55.1,
                "settings": {"float_voltage": 54.0, "battery_type": "USER",
                             "grid_tie": "disabled", ...},
                "faults": ["drop=2", "ignore=float_voltage"]}]}
            Omitted fields default to an LVX6048 with the EG4 LP4 v2 settings, \
            each unit its own stack at index 0; output_model defaults to 1 in a \
            multi-unit stack, else 0. With --units N as well, config entries \
            replace generated units of the same serial or are added.

            Fault specs (--fault SERIAL:SPEC, repeatable): drop=N, corrupt-crc=N, \
            garbage=N, hang-after=N, unplug-after=N, ignore=KEY, refuse=KEY, \
            mode=NN, fault=NN. unplug-after=N answers N more requests, then the \
            unit goes away as a pulled cable would: with uhid the kernel removes \
            its hidraw node; a pty or TCP port hangs up.

            --set SERIAL:KEY=VALUE (repeatable) takes the twelve lvx setting keys \
            in lvx units (volts, amperes, choice names; any value the LCD could \
            set, such as 100 A) or stack, parallel_index, mode, fault, \
            firmware_main, firmware_slave1, firmware_slave2, output_model, \
            battery_voltage.
            """
    )

    @Option(help: "A built-in set of units (default: seeds, the two stacked units of the field notes).")
    var site: String?

    @Option(help: "A JSON file describing the units (format above).")
    var config: String?

    @Option(help: "Serve N single units (serials 96100000000001...) instead of a site.")
    var units: Int?

    @Option(
        help: """
            hidraw (pty, 8-byte reports), serial (pty, byte stream), tcp (127.0.0.1, any free port) \
            or uhid (a real /dev/hidrawN through /dev/uhid, USB 0665:5161; root).
            """
    )
    var transport: SimulatorTransport = .hidraw

    @Option(help: "Simulated line speed: each exchange takes (request+reply bytes)*10/baud seconds; 0 = instant.")
    var baud: Int = 2400

    @Option(name: .customLong("state-dir"), help: "Directory for SERIAL.log and SERIAL.json.")
    var stateDir: String?

    @Option(name: .customLong("ports-file"), help: "Also write the SERIAL PORT lines here (atomically).")
    var portsFile: String?

    @Option(name: .customLong("fault"), help: "Inject a fault: SERIAL:SPEC, e.g. 96142109100037:drop=2.")
    var faults: [String] = []

    @Option(
        name: .customLong("set"),
        help: "Override a value at start: SERIAL:KEY=VALUE, e.g. 96142109100037:float_voltage=53.5."
    )
    var sets: [String] = []

    func validate() throws {
        if site != nil && units != nil { throw ValidationError("--site and --units cannot be combined; pick one") }
        if let units, units < 1 { throw ValidationError("--units must be at least 1") }
        if baud < 0 { throw ValidationError("--baud must be 0 (instant) or a positive rate such as 2400") }
    }

    func run() throws {
        let signals = Self.blockSignals()
        let simulator: InverterSimulator
        do {
            let units = try buildUnits()
            let directory = try stateDir ?? Self.makeTemporaryDirectory()
            if stateDir == nil { Self.printError("lvx-sim: state directory \(directory)") }
            simulator = try InverterSimulator(
                units: units,
                options: InverterSimulator.Options(transport: transport, baud: baud, stateDirectory: directory)
            )
        } catch let error as SimulatorError {
            Self.printError("error: \(error.message)")
            throw ExitCode(1)
        }
        let lines = simulator.served.map(\.description)
        FileHandle.standardOutput.write(Data(lines.map { $0 + "\n" }.joined().utf8))
        if let portsFile {
            do {
                try Data((lines.joined(separator: "\n") + "\n").utf8).write(
                    to: URL(fileURLWithPath: portsFile),
                    options: .atomic
                )
            } catch {
                simulator.stop()
                Self.printError("error: cannot write ports file \(portsFile): \(error.localizedDescription)")
                throw ExitCode(1)
            }
        }
        Self.serve(simulator, signals: signals)
    }

    /// Builds the unit list from --config, --units or --site, then applies --set and --fault.
    private func buildUnits() throws(SimulatorError) -> [SimulatedInverter] {
        var list: [SimulatedInverter]
        if let units {
            list = SimulatorSites.numbered(units)
        } else if config != nil && site == nil {
            list = []
        } else {
            list = try SimulatorSites.named(site ?? "seeds")
        }
        if let config {
            guard let data = FileManager.default.contents(atPath: config) else {
                throw SimulatorError("cannot read --config file \(config); check the path")
            }
            for unit in try UnitDocument.loadConfig(data, file: config) {
                if let i = list.firstIndex(where: { $0.serial == unit.serial }) {
                    list[i] = unit
                } else {
                    list.append(unit)
                }
            }
        }
        for item in sets {
            let (serial, rest) = try Self.split(item, flag: "--set", example: "96142109100037:float_voltage=53.5")
            guard let i = list.firstIndex(where: { $0.serial == serial }) else {
                throw SimulatorError("--set \(item): no unit has serial \(serial)")
            }
            do {
                try UnitDocument.set(rest, on: &list[i])
            } catch {
                throw SimulatorError("--set \(item): \(error.message)")
            }
        }
        for item in faults {
            let (serial, spec) = try Self.split(item, flag: "--fault", example: "96142109100037:drop=2")
            guard let i = list.firstIndex(where: { $0.serial == serial }) else {
                throw SimulatorError("--fault \(item): no unit has serial \(serial)")
            }
            try list[i].faults.add(spec)
        }
        return list
    }

    private static func split(
        _ item: String,
        flag: String,
        example: String
    ) throws(SimulatorError) -> (
        SerialNumber, String
    ) {
        guard let colon = item.firstIndex(of: ":"), let serial = SerialNumber(String(item[..<colon])) else {
            throw SimulatorError("\(flag) '\(item)' is not SERIAL:VALUE (for example \(example))")
        }
        return (serial, String(item[item.index(after: colon)...]))
    }

    /// Blocks SIGHUP, SIGINT and SIGTERM in this thread (and every thread started later) so that
    /// `sigwait` receives them; ignores SIGPIPE.
    private static func blockSignals() -> sigset_t {
        signal(SIGPIPE, SIG_IGN)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGHUP)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &set, nil)
        return set
    }

    /// Waits for signals: SIGHUP reloads the state files, SIGINT/SIGTERM stop the simulator.
    private static func serve(_ simulator: InverterSimulator, signals: sigset_t) {
        var set = signals
        while true {
            var received: Int32 = 0
            guard sigwait(&set, &received) == 0 else { continue }
            if received == SIGHUP {
                let problems = simulator.reloadStateFiles()
                for problem in problems { printError("lvx-sim: \(problem.message)") }
                printError("lvx-sim: reloaded state files (\(problems.count) problem(s))")
            } else {
                simulator.stop()
                return
            }
        }
    }

    private static func makeTemporaryDirectory() throws(SimulatorError) -> String {
        let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        var template = Array((base + "/lvx-sim.XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, let result = mkdtemp(base) else { return nil }
            return String(cString: result)
        }
        guard let made else { throw SimulatorError("cannot create a temporary state directory under \(base)") }
        return made
    }

    private static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

extension SimulatorTransport: ExpressibleByArgument {}
