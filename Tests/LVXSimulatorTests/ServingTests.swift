import Foundation
import LVXCore
import LVXSimulator
import LVXWire
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Serves units in-process and talks to them through their pty paths and TCP ports, as clients do.
@Suite("Serving on ptys and TCP")
struct ServingTests {
    private let master = "96142109100037"
    private let second = "96142408100255"

    private func start(
        _ transport: SimulatorTransport,
        baud: Int = 0,
        units: [SimulatedInverter]? = nil
    ) throws -> (
        InverterSimulator, URL
    ) {
        let directory = try TestPaths.temporaryDirectory("lvx-sim-serving")
        let simulator = try InverterSimulator(
            units: units ?? SimulatorSites.seeds(),
            options: InverterSimulator.Options(transport: transport, baud: baud, stateDirectory: directory.path)
        )
        return (simulator, directory)
    }

    @Test("hidraw style: 8-byte padded reports both ways, open and close freely, every request logged")
    func hidrawStyle() throws {
        let (simulator, directory) = try start(.hidraw)
        defer { simulator.stop() }
        #expect(simulator.served.map(\.serial.digits) == [master, second])
        let unit = simulator.served[0]
        #expect(unit.port == "hidraw:\(unit.path)" && unit.path.hasPrefix("/dev/pts/"))

        do {
            let client = try TestClient(ptyPath: unit.path, raw: false)
            client.sendReports(PI18Query.ratedInformation.frame.bytes)
            let bytes = client.read()
            #expect(bytes.count == 96)  // 94-byte reply in 12 reports of 8
            #expect(bytes.suffix(2) == [0, 0])
            let piri = try PI18Decode.ratedInformation(try fields(PI18Reply.parse(firstFrame(bytes))))
            #expect(piri.settings[.floatVoltage] == SettingValue(raw: 540))
            #expect(piri.settings[.bulkVoltage] == SettingValue(raw: 564))

            client.sendReports(Frames.setter("MCHGC1,050"))
            let ack = client.read()
            #expect(ack == PI18Reply.acceptedFrame + [0, 0, 0])
        }
        // Reopen the path: the simulator still answers.
        let again = try TestClient(ptyPath: unit.path, raw: false)
        again.sendReports(Frames.query("FWS"))
        #expect(try PI18Decode.faultStatus(try fields(PI18Reply.parse(firstFrame(again.read())))).fault.code == "00")

        let lines = try logLines(directory, master).map(\.description)
        #expect(
            lines == [
                "1 P PIRI data 0.000000", "2 S MCHGC1,050 ack 0.000000 routed:\(second)", "3 P FWS data 0.000000",
            ]
        )
        // The routed write reached the second unit, whose state file now shows it and fault 86.
        let state = try String(contentsOf: directory.appendingPathComponent("\(second).json"), encoding: .utf8)
        #expect(state.contains("\"max_charging_current\": 50"))
        #expect(state.contains("\"reported_fault\": \"86\""))
        #expect(simulator.unit(try serial(second))?.value(.maxChargingCurrent) == 50)
        #expect(simulator.requestLog(try serial(master)).count == 3)
    }

    @Test("serial style: a plain byte stream, no padding; pipelined requests answered in order")
    func serialStyle() throws {
        let (simulator, directory) = try start(.serial)
        defer { simulator.stop() }
        let unit = simulator.served[1]
        #expect(unit.port == "serial:\(unit.path)")
        let client = try TestClient(ptyPath: unit.path, raw: true)
        client.send(Frames.query("GS") + Frames.setter("POP01") + Frames.query("MOD"))
        let bytes = client.read(untilCRs: 3)
        let gsLength = 111
        #expect(bytes.count == gsLength + 5 + 10)
        let gs = try PI18Decode.generalStatus(try fields(PI18Reply.parse(Array(bytes[0..<gsLength]))))
        #expect(gs.parallelIndex == 1 && gs.batteryVoltage == 551)
        #expect(Array(bytes[gsLength..<(gsLength + 5)]) == PI18Reply.refusedFrame)
        #expect(try PI18Reply.parse(Array(bytes[(gsLength + 5)...])) == .data(fields: ["05"]))
        let log = try logLines(directory, second)
        #expect(log.map(\.kind) == [.query, .setter, .query])
        #expect(log[1].payload == "POP01" && log[1].reply == .nak && log[1].note == "malformed:POP")
    }

    @Test("tcp: 127.0.0.1 on a free port, several clients")
    func tcp() throws {
        let (simulator, _) = try start(.tcp)
        defer { simulator.stop() }
        let unit = simulator.served[0]
        #expect(unit.port.hasPrefix("tcp://127.0.0.1:"))
        let port = try #require(Int(unit.port.split(separator: ":").last ?? ""))
        let a = try TestClient(tcpPort: port)
        let b = try TestClient(tcpPort: port)
        a.send(Frames.query("ID"))
        b.send(Frames.query("VFW"))
        #expect(try PI18Decode.serialNumber(try fields(PI18Reply.parse(a.read(settle: 0)))).digits == master)
        #expect(try fields(PI18Reply.parse(b.read(settle: 0))) == ["06306", "06126", "00000"])
    }

    @Test("replies are paced like a UART at the baud rate, and units answer concurrently")
    func pacing() throws {
        let (simulator, directory) = try start(.serial, baud: 2400)
        defer { simulator.stop() }
        let clients = try simulator.served.map { try TestClient(ptyPath: $0.path, raw: true) }
        let began = Date()
        for client in clients { client.send(Frames.query("PIRI") + Frames.query("GS")) }
        for client in clients { #expect(client.read(untilCRs: 2, settle: 0).count == 94 + 111) }
        let elapsed = Date().timeIntervalSince(began)
        // Per unit: (12 + 94 + 10 + 111) bytes x 10 bits / 2400 baud = 0.946 s. A lower bound is
        // robust on a loaded machine; how close to one unit's time two units take is measured in bench/.
        #expect(elapsed >= 0.9)
        let log = try logLines(directory, master)
        #expect(log.map(\.wireSeconds) == [1060.0 / 2400.0, 1210.0 / 2400.0].map { ($0 * 1e6).rounded() / 1e6 })
        let total = simulator.unit(try serial(master))?.wireSeconds ?? 0
        #expect(abs(total - 2270.0 / 2400.0) < 1e-9)
    }

    @Test("injected garbage reaches a hidraw client before the reply")
    func garbageOverPty() throws {
        var units = SimulatorSites.seeds()
        try units[0].faults.add("garbage=1")
        let (simulator, directory) = try start(.hidraw, units: units)
        defer { simulator.stop() }
        let client = try TestClient(ptyPath: simulator.served[0].path, raw: false)
        client.sendReports(Frames.query("MOD"))
        let bytes = client.read(untilCRs: 2)
        let junk = firstFrame(bytes)
        #expect(throws: PI18WireError.self) { try PI18Reply.parse(junk) }
        let rest = Array(bytes[junk.count...].drop { $0 == 0 })
        #expect(try PI18Reply.parse(firstFrame(rest)) == .data(fields: ["05"]))
        #expect(try logLines(directory, master).last?.note == "garbage")
        let state = try String(contentsOf: directory.appendingPathComponent("\(master).json"), encoding: .utf8)
        #expect(state.contains("\"faults\": []"))
    }

    @Test("reloading the state files applies edits made while serving")
    func reload() throws {
        let (simulator, directory) = try start(.serial)
        defer { simulator.stop() }
        let file = directory.appendingPathComponent("\(master).json")
        var text = try String(contentsOf: file, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"float_voltage\": 54.0", with: "\"float_voltage\": 53.5")
        text = text.replacingOccurrences(of: "\"faults\": []", with: "\"faults\": [\"mode=06\"]")
        try text.write(to: file, atomically: true, encoding: .utf8)
        #expect(simulator.reloadStateFiles().isEmpty)
        let client = try TestClient(ptyPath: simulator.served[0].path, raw: true)
        client.send(Frames.query("PIRI"))
        let piri = try PI18Decode.ratedInformation(try fields(PI18Reply.parse(client.read(settle: 0))))
        #expect(piri.settings[.floatVoltage] == SettingValue(raw: 535))
        client.send(Frames.query("MOD"))
        #expect(try PI18Reply.parse(client.read(settle: 0)) == .data(fields: ["06"]))
        // The second unit now differs from the master: its file reports 86.
        let secondState = try String(contentsOf: directory.appendingPathComponent("\(second).json"), encoding: .utf8)
        #expect(secondState.contains("\"reported_fault\": \"86\""))
        // A broken file is reported and leaves the unit as it was.
        try "{ not json".write(to: file, atomically: true, encoding: .utf8)
        #expect(simulator.reloadStateFiles().count == 1)
        #expect(simulator.unit(try serial(master))?.value(.floatVoltage) == 535)
    }

    @Test("a pty whose replies nobody reads drops stale bytes instead of stalling the unit")
    func unreadReplies() throws {
        let (simulator, _) = try start(.serial)
        defer { simulator.stop() }
        let client = try TestClient(ptyPath: simulator.served[0].path, raw: true)
        let began = Date()
        // 400 PIRI replies (37,600 bytes) overflow the pty's queue (about 20 KiB) if nobody reads.
        for _ in 0..<8 {
            client.send(Array((0..<50).map { _ in Frames.query("PIRI") }.joined()))
            usleep(20_000)
        }
        let serial = try serial(master)
        // Waited for, never timed: how fast is bench/'s matter; a unit that stalled never gets there.
        while simulator.requestLog(serial).count < 400 && Date().timeIntervalSince(began) < 300 { usleep(20_000) }
        #expect(simulator.requestLog(serial).count == 400)
        // Drain what is left, then the unit still answers.
        _ = client.read(untilCRs: 1_000, timeout: 0.5)
        client.send(Frames.query("MOD"))
        #expect(try PI18Reply.parse(client.read(settle: 0)) == .data(fields: ["05"]))
    }
}
