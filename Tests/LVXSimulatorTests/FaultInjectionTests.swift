import LVXCore
import LVXSimulator
import LVXWire
import Testing

@Suite("Fault injection is deterministic and counted")
struct FaultInjectionTests {
    private let s = seedUnit(0).serial

    private func site(_ specs: String...) throws -> SimulatedSite {
        var unit = seedUnit(0)
        for spec in specs { try unit.faults.add(spec) }
        return try SimulatedSite(units: [unit])
    }

    @Test("drop=2 sends nothing to the next two requests, and a dropped setter still takes effect")
    func drop() throws {
        var site = try site("drop=2")
        let first = try exchange(&site, s, Frames.query("PIRI"))
        #expect(first.output.isEmpty && first.entry.reply == .dropped)
        let second = try exchange(&site, s, Frames.setter("POP0"))
        #expect(second.output.isEmpty && second.entry.reply == .dropped)
        #expect(site[s]?.value(.outputSourcePriority) == 0)
        let third = try exchange(&site, s, Frames.query("MOD"))
        #expect(third.entry.reply == .data)
        #expect(try reply(third) == .data(fields: ["05"]))
        #expect(site[s]?.faults.isEmpty == true)
    }

    @Test("corrupt-crc=1 corrupts exactly one reply's CRC")
    func corrupt() throws {
        var site = try site("corrupt-crc=1")
        let bad = try exchange(&site, s, Frames.query("GS"))
        #expect(bad.entry.reply == .corrupt && bad.entry.note == "was-data")
        let bytes = try #require(bad.output.last)
        #expect(bytes.last == 0x0D && bytes.dropLast().allSatisfy { $0 != 0x0D })
        #expect {
            _ = try PI18Reply.parse(bytes)
        } throws: { error in
            if case .crcMismatch = error as? PI18WireError { return true }
            return false
        }
        #expect(try reply(exchange(&site, s, Frames.query("GS"))) != .refused)
    }

    @Test("garbage=1 sends junk (ending in a stray CR frame) before one reply, the same junk every time")
    func garbage() throws {
        var site = try site("garbage=1")
        let ex = try exchange(&site, s, Frames.setter("POP0"))
        #expect(ex.output.count == 2)
        let junk = ex.output[0]
        #expect(junk.last == 0x0D && junk.dropLast().allSatisfy { $0 != 0x0D && $0 != 0x00 })
        #expect(junk.count >= 12)
        #expect(throws: PI18WireError.self) { try PI18Reply.parse(junk) }
        #expect(try PI18Reply.parse(ex.output[1]) == .accepted)
        #expect(ex.entry.reply == .ack && ex.entry.note == "garbage")
        #expect(try exchange(&site, s, Frames.query("MOD")).output.count == 1)
        var again = try self.site("garbage=1")
        #expect(try exchange(&again, s, Frames.setter("POP0")).output == ex.output)
    }

    @Test("hang-after=2 answers two more requests, then never answers and ignores setters")
    func hang() throws {
        var site = try site("hang-after=2")
        #expect(try exchange(&site, s, Frames.query("PI")).output.count == 1)
        #expect(try exchange(&site, s, Frames.query("PI")).output.count == 1)
        #expect(site[s]?.faults.isHung == true)
        let hung = try exchange(&site, s, Frames.setter("POP0"))
        #expect(hung.output.isEmpty && hung.entry.reply == .hang)
        #expect(site[s]?.value(.outputSourcePriority) == 1)
        #expect(try exchange(&site, s, Frames.query("PI")).entry.reply == .hang)
    }

    @Test("unplug-after=2 answers two more requests, then the unit goes away instead of answering")
    func unplug() throws {
        var site = try site("unplug-after=2")
        for _ in 0..<2 {
            let answered = try exchange(&site, s, Frames.query("PI"))
            #expect(answered.output.count == 1 && !answered.unplugs)
        }
        let gone = try exchange(&site, s, Frames.setter("POP0"))
        #expect(gone.unplugs && gone.output.isEmpty && gone.entry.reply == .unplugged)
        #expect(site[s]?.value(.outputSourcePriority) == 1, "the request that met the pulled cable did nothing")
        #expect(gone.entry.description.hasPrefix("3 S POP0 unplugged "))
    }

    @Test("mode and fault overrides show in MOD and FWS")
    func overrides() throws {
        var site = try site("mode=06", "fault=86")
        #expect(try reply(exchange(&site, s, Frames.query("MOD"))) == .data(fields: ["06"]))
        let fws = try PI18Decode.faultStatus(try fields(reply(exchange(&site, s, Frames.query("FWS")))))
        #expect(fws.fault.code == "86")
        #expect(InverterMode(code: "06").isKnown == false)
    }

    @Test(
        "specs round-trip and bad specs are explained",
        arguments: [
            "drop=2", "corrupt-crc=1", "garbage=3", "hang-after=0", "unplug-after=4", "ignore=float_voltage",
            "refuse=max_charging_current",
            "mode=06", "fault=71",
        ]
    )
    func specRoundTrip(_ spec: String) throws {
        let injections = try FaultInjections(specs: [spec])
        #expect(injections.specs == [spec])
    }

    @Test(
        "bad fault specs",
        arguments: ["drop", "drop=-1", "drop=x", "ignore=floaty", "mode=6", "fault=abc", "melt=1"]
    )
    func badSpecs(_ spec: String) {
        #expect(throws: SimulatorError.self) { try FaultInjections(specs: [spec]) }
    }
}
