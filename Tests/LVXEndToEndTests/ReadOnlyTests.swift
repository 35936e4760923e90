import Foundation
import LVXTestSupport
import Testing

/// The read-only commands against `lvx-sim` on pseudo-terminals: dump, status, compare, sync-check.
@Suite("read-only commands end to end")
struct ReadOnlyTests {
    static let unit1 = "96142109100037"
    static let unit2 = "96142408100255"

    @Test("dump reproduces the simulator's settings exactly, and sends no setter")
    func dumpReproducesState() throws {
        let sim = try SimulatorProcess([
            "--site", "seeds", "--set", "\(Self.unit1):float_voltage=54.7", "--set",
            "\(Self.unit1):max_utility_charging_current=2",
        ])
        let result = try lvx(["dump", sim.port(Self.unit1)])
        #expect(result.exitCode == 0, "\(result)")
        let dumped = Dictionary(
            uniqueKeysWithValues: result.stdout.split(separator: "\n").filter {
                !$0.hasPrefix("#") && $0.contains(": ")
            }.map {
                let parts = $0.split(separator: ":", maxSplits: 1)
                return (String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces))
            }
        )
        let settings = try #require(try sim.state(Self.unit1)["settings"] as? [String: Any])
        #expect(dumped.count == 12)
        for (key, value) in settings {
            let expected: String
            if let n = value as? NSNumber, key.hasSuffix("_voltage") {
                expected = String(format: "%.1f", n.doubleValue)
            } else {
                expected = "\(value)"
            }
            #expect(dumped[key] == expected, "\(key)")
        }
        #expect(dumped["float_voltage"] == "54.7")
        #expect(sim.settersReceived.isEmpty)
        #expect(sim.log(Self.unit1).count == 1, "dump needs one exchange (PIRI): \(sim.log(Self.unit1))")
    }

    @Test("dump lists settings a setter cannot reproduce as skipped comments")
    func dumpSkipsUnsettable() throws {
        let sim = try SimulatorProcess(["--site", "seeds", "--set", "\(Self.unit1):max_charging_current=100"])
        let out = try #require(
            FileManager.default.temporaryDirectory.appendingPathComponent("dump-\(UUID()).yaml").path as String?
        )
        let result = try lvx(["dump", sim.port(Self.unit1), "--out", out])
        #expect(result.exitCode == 0, "\(result)")
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text.contains("# skipped (read-only or out of settable range):"))
        #expect(
            text.contains(
                "# max_charging_current = 100 (max_charging_current = 100 must be one of 10,20,30,40,50,60,70,80)"
            )
        )
        #expect(!text.contains("\nmax_charging_current:"))
        // A cross-key rule skips the first key it names: stop-charge above float.
        let crossed = try SimulatorProcess(["--site", "seeds", "--set", "\(Self.unit1):float_voltage=53.7"])
        let crossedDump = try lvx(["dump", crossed.port(Self.unit1)])
        #expect(
            crossedDump.stdout.contains(
                "# stop_charge_voltage = 54.0 (stop_charge_voltage (54.0) must not be above float_voltage (53.7))"
            )
        )
        #expect(!crossedDump.stdout.contains("\nstop_charge_voltage:"))
        #expect(result.stderr.contains("wrote \(out) with 11 keys (1 skipped)"))
    }

    @Test("dump --out creates the missing folders; a path it cannot write is an error worded by lvx")
    func dumpOutFolders() throws {
        let sim = try SimulatorProcess(["--site", "seeds"])
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("dump-\(UUID())")
        defer { try? FileManager.default.removeItem(at: base) }
        let out = base.appendingPathComponent("site/profiles/lvx6048-1.yaml").path
        let result = try lvx(["dump", sim.port(Self.unit1), "--out", out])
        #expect(result.exitCode == 0, "\(result)")
        #expect(try String(contentsOfFile: out, encoding: .utf8).contains("\nfloat_voltage: 54.0\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: base.path + "/site/profiles") == ["lvx6048-1.yaml"])
        // A file where a folder should be.
        let blocked = base.appendingPathComponent("site/profiles/lvx6048-1.yaml/inner.yaml").path
        let failed = try lvx(["dump", sim.port(Self.unit1), "--out", blocked])
        #expect(failed.exitCode == 1)
        #expect(failed.stderr == "error: cannot write '\(blocked)': '\(out)' is not a folder\n")
        // A folder where the file should be.
        let folder = base.appendingPathComponent("site").path
        let onFolder = try lvx(["dump", sim.port(Self.unit1), "--out", folder])
        #expect(onFolder.exitCode == 1)
        #expect(onFolder.stderr == "error: cannot write '\(folder)': is a directory\n", "\(onFolder)")
    }

    @Test("status prints each unit, as a table and as JSON, with the decoded fields under stable names")
    func status() throws {
        let sim = try SimulatorProcess(["--site", "seeds", "--fault", "\(Self.unit2):mode=06"])
        let table = try lvx(["status", sim.port(Self.unit1), sim.port(Self.unit2)])
        #expect(table.exitCode == 0, "\(table)")
        #expect(table.stdout.contains("96142109100037  \(sim.port(Self.unit1))"))
        #expect(table.stdout.contains("instance 0 (master)"))
        #expect(table.stdout.contains("unknown(06) (06)"))
        let json = try lvx(["status", "--json", sim.port(Self.unit2)])
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        )
        #expect(object["serial"] as? String == Self.unit2)
        #expect(object["parallel_index"] as? Int == 1)
        #expect((object["battery_voltage"] as? NSNumber)?.doubleValue == 55.1)
        #expect((object["mode"] as? [String: Any])?["name"] as? String == "unknown(06)")
        #expect((object["firmware"] as? [String: Any])?["main"] as? String == "06306")
        #expect(sim.settersReceived.isEmpty)
    }

    @Test("status on a hidraw: port that is a regular file exits 1 and leaves the file byte-for-byte unchanged")
    func statusOnRegularFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lvx-file-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("hidraw0")
        var generator = SystemRandomNumberGenerator()
        let bytes = Data((0..<(2 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try bytes.write(to: file)
        let before = try FileManager.default.attributesOfItem(atPath: file.path)

        let result = try lvx(["status", "hidraw:\(file.path)"])

        #expect(result.exitCode == 1, "\(result)")
        #expect(
            result.stderr == """
                error: hidraw:\(file.path): ID: cannot open the port: not a character device (a regular file)
                note: the port string names something that is not a serial device or hidraw node; use a port such as hidraw:/dev/hidraw0 or serial:/dev/ttyUSB0

                """,
            "\(result)"
        )
        #expect(try Data(contentsOf: file) == bytes, "the file's bytes changed")
        let after = try FileManager.default.attributesOfItem(atPath: file.path)
        #expect(after[.size] as? Int == 2 << 20)
        #expect(after[.modificationDate] as? Date == before[.modificationDate] as? Date)
    }

    @Test("status on a missing hidraw node exits 1 with advice to check the cable and list the nodes")
    func statusOnMissingNode() throws {
        let result = try lvx(["status", "hidraw:/dev/lvx-nonexistent"])
        #expect(result.exitCode == 1, "\(result)")
        #expect(
            result.stderr == """
                error: hidraw:/dev/lvx-nonexistent: ID: cannot open the port: open: no such file or directory (errno 2)
                note: check the cable and the path; `ls /dev/hidraw*` lists the hidraw nodes

                """,
            "\(result)"
        )
        let serial = try lvx(["status", "serial:/dev/lvx-nonexistent"])
        #expect(serial.exitCode == 1, "\(serial)")
        #expect(
            serial.stderr.hasSuffix(
                "\nnote: check the cable and the path; `ls /dev/ttyUSB*` lists the USB-serial adapters\n"
            )
        )
    }

    @Test("a unit given by serial is found by discovery among LVX_PORTS candidates")
    func discoveryBySerial() throws {
        let sim = try SimulatorProcess(["--site", "seeds"])
        let result = try lvx(
            ["status", Self.unit2, "1496142109100037000000"],
            environment: ["LVX_PORTS": sim.portList]
        )
        #expect(result.exitCode == 0, "\(result)")
        #expect(result.stdout.contains("96142408100255  \(sim.port(Self.unit2))"))
        #expect(result.stdout.contains("96142109100037  \(sim.port(Self.unit1))"))
        let missing = try lvx(["status", "96100000000999"], environment: ["LVX_PORTS": sim.portList])
        #expect(missing.exitCode == 1)
        #expect(missing.stderr.contains("96100000000999"))
        #expect(missing.stderr.contains(sim.port(Self.unit1)))
    }

    @Test("compare: identical units match (exit 0); a differing key is listed (exit 1)")
    func compare() throws {
        let same = try SimulatorProcess(["--site", "seeds"])
        let match = try lvx(["compare", same.port(Self.unit1), same.port(Self.unit2)])
        #expect(match.exitCode == 0, "\(match)")
        #expect(match.stdout.hasPrefix("MATCH - 12 settings identical on"))
        let differ = try SimulatorProcess(["--site", "seeds", "--set", "\(Self.unit2):max_charging_current=100"])
        let result = try lvx(["compare", differ.port(Self.unit1), differ.port(Self.unit2)])
        #expect(result.exitCode == 1, "\(result)")
        #expect(result.stdout.contains("1 setting(s) differ (of 12 shared):"))
        #expect(
            result.stdout.contains(
                "max_charging_current  \(differ.port(Self.unit1)) = 60  \(differ.port(Self.unit2)) = 100"
            )
        )
        // A voltage 0.1 V apart differs; the seed's 0.05 V rule.
        let close = try SimulatorProcess(["--site", "seeds", "--set", "\(Self.unit2):float_voltage=54.1"])
        #expect(try lvx(["compare", close.port(Self.unit1), close.port(Self.unit2)]).exitCode == 1)
        #expect(same.settersReceived.isEmpty && differ.settersReceived.isEmpty)
    }

    @Test("sync-check: SYNC OK on the seeds' stack")
    func syncOK() throws {
        let sim = try SimulatorProcess(["--site", "seeds"])
        let result = try lvx(["sync-check", sim.port(Self.unit1), sim.port(Self.unit2)])
        #expect(result.exitCode == 0, "\(result)")
        #expect(result.stdout.hasSuffix("SYNC OK\n"))
        #expect(result.stdout.contains("parallel=instance 0 (master)"))
        #expect(result.stdout.contains("note: slave CPU firmware differs (06126 vs 06021)"))
        #expect(sim.settersReceived.isEmpty)
    }

    @Test("sync-check: a member whose settings differ from the master's reports fault 86")
    func syncFault86() throws {
        let sim = try SimulatorProcess(["--site", "seeds", "--set", "\(Self.unit2):max_charging_current=50"])
        let result = try lvx(["sync-check", sim.port(Self.unit1), sim.port(Self.unit2)])
        #expect(result.exitCode == 1, "\(result)")
        #expect(result.stdout.contains("\(sim.port(Self.unit2)): active fault 86 (Parallel output setting different)"))
    }

    @Test("sync-check: main firmware mismatch and a duplicate parallel index are issues")
    func syncFirmwareAndIndex() throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("sim-\(UUID()).json")
        try Data(
            """
            {"units": [
              {"serial": "96100000000001", "stack": "a", "parallel_index": 0, "firmware": {"main": "06303", "slave1": "06126", "slave2": "00000"}},
              {"serial": "96100000000002", "stack": "b", "parallel_index": 0, "firmware": {"main": "06440", "slave1": "06126", "slave2": "00000"}}
            ]}
            """.utf8
        ).write(to: config)
        let sim = try SimulatorProcess(["--config", config.path])
        let result = try lvx(["sync-check", sim.port("96100000000001"), sim.port("96100000000002")])
        #expect(result.exitCode == 1, "\(result)")
        #expect(result.stdout.contains("firmware mismatch: main CPU 06303 vs 06440"))
        #expect(result.stdout.contains("both units report the same parallel instance index (0)"))
    }
}
