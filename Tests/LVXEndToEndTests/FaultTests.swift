import Foundation
import LVXTestSupport
import Testing

/// A unit that drops, corrupts, prefixes garbage or hangs gets a correct value after a retry or a
/// clear error within a bounded time, never a wrong value.
@Suite("faulty replies end to end")
struct FaultTests {
    static let unit1 = "96142109100037"

    @Test(
        "a dropped, corrupted or garbage-prefixed reply is retried and the value is right",
        arguments: ["drop=1", "corrupt-crc=1", "garbage=1", "drop=2"]
    )
    func retried(_ fault: String) throws {
        let sim = try SimulatorProcess([
            "--site", "seeds", "--set", "\(Self.unit1):float_voltage=53.3", "--fault", "\(Self.unit1):\(fault)",
        ])
        let result = try lvx(["dump", sim.port(Self.unit1), "--timeout", "0.5"])
        #expect(result.exitCode == 0, "\(result)")
        #expect(result.stdout.contains("\nfloat_voltage: 53.3\n"))
        let piri = sim.log(Self.unit1).filter { $0.contains(" PIRI ") }
        #expect(piri.count >= 2, "the first reply was spoiled, so PIRI must have been sent again: \(piri)")
    }

    @Test("a unit that hangs gets a clear error naming the port and command within the stated bound")
    func hang() throws {
        let sim = try SimulatorProcess(["--site", "seeds", "--fault", "\(Self.unit1):hang-after=0"])
        let result = try lvx(["dump", sim.port(Self.unit1), "--timeout", "0.5"])
        #expect(result.exitCode == 1)
        #expect(result.stdout.isEmpty, "no value may be printed")
        #expect(result.stderr.contains("error: \(sim.port(Self.unit1)): PIRI:"))
        #expect(result.stderr.contains("after 3 attempts"))
        // 3 attempts x 0.5 s plus pauses is the bound; bench/ measures it, a test only sees it end.
    }

    @Test("status of one hanging unit still reports the other, with an error row for it, and exits 1")
    func partialStatus() throws {
        let sim = try SimulatorProcess(["--site", "seeds", "--fault", "96142408100255:hang-after=2"])
        let ports = [sim.port(Self.unit1), sim.port("96142408100255")]
        let result = try lvx(["status"] + ports + ["--timeout", "0.3"])
        #expect(result.exitCode == 1)
        let rows = result.stdout.split(separator: "\n").map(String.init)
        #expect(rows.count == 3, "a header and one row per unit: \(result)")
        #expect(rows.dropFirst().first?.contains("96142109100037") == true)
        let failed = try #require(rows.last)
        #expect(failed.hasPrefix("-"))
        #expect(failed.contains(ports[1]))
        #expect(failed.contains("error: "), "\(failed)")
        #expect(result.stderr.contains(ports[1]))
        let json = try lvx(["status", "--json"] + ports + ["--timeout", "0.3"])
        #expect(json.exitCode == 1)
        let objects = try json.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(objects.count == 2, "one object per unit: \(json)")
        #expect(objects.first?["serial"] as? String == Self.unit1)
        #expect(objects.first?["error"] == nil)
        #expect(objects.last?["port"] as? String == ports[1])
        #expect((objects.last?["error"] as? String)?.isEmpty == false, "\(json)")
    }

    @Test("status of every unit in lvx.yaml, one of them not found by discovery, reports both and exits 1")
    func statusWithUndiscoveredUnit() throws {
        let sim = try SimulatorProcess(["--site", "seeds"])
        let repo = try TemporaryRepository()
        let env = ["LVX_REPO": repo.path.path, "LVX_PORTS": sim.port(Self.unit1)]
        let result = try lvx(["status", "--timeout", "0.3"], environment: env)
        #expect(result.exitCode == 1)
        #expect(result.stdout.contains("lvx6048-1       96142109100037  \(sim.port(Self.unit1))"), "\(result)")
        #expect(
            result.stdout.contains(
                "lvx6048-2       96142408100255  -                         error: no inverter with serial 96142408100255 found"
            ),
            "\(result)"
        )
        #expect(result.stderr.contains("no inverter with serial 96142408100255 found"))
        let json = try lvx(["status", "--json", "--timeout", "0.3"], environment: env)
        #expect(json.exitCode == 1)
        let lines = json.stdout.split(separator: "\n")
        #expect(lines.count == 2, "\(json)")
        #expect(lines.first?.hasPrefix("{\"name\":\"lvx6048-1\",\"serial\":\"96142109100037\",") == true)
        #expect(
            lines.last
                == "{\"name\":\"lvx6048-2\",\"serial\":\"96142408100255\",\"port\":null,\"error\":\"no inverter with serial 96142408100255 found by discovery\"}"
        )
    }

    @Test("MOD 06 and an 18-field FWS decode without error")
    func mod06() throws {
        let sim = try SimulatorProcess([
            "--site", "seeds", "--fault", "\(Self.unit1):mode=06", "--fault", "\(Self.unit1):fault=86",
        ])
        let result = try lvx(["status", "--json", sim.port(Self.unit1)])
        #expect(result.exitCode == 0, "\(result)")
        #expect(result.stdout.contains("\"mode\":{\"code\":\"06\",\"name\":\"unknown(06)\"}"))
        #expect(result.stdout.contains("\"fault\":{\"code\":\"86\",\"name\":\"Parallel output setting different\"}"))
    }

    @Test("no read-only command sends a setter (the simulator's log proves it)")
    func readOnlySendsNoSetter() throws {
        let sim = try SimulatorProcess(["--site", "seeds", "--set", "\(Self.unit1):float_voltage=53.5"])
        let p1 = sim.port(Self.unit1)
        let p2 = sim.port("96142408100255")
        for args in [
            ["dump", p1], ["status", p1, p2], ["status", "--json", p1], ["compare", p1, p2], ["sync-check", p1, p2],
        ] {
            _ = try lvx(args)
        }
        #expect(sim.settersReceived.isEmpty, "\(sim.settersReceived)")
        #expect(!sim.log(Self.unit1).isEmpty)
    }
}
