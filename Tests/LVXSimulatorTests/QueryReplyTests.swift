import LVXCore
import LVXSimulator
import LVXWire
import Testing

@Suite("Query replies decode to the state the unit holds")
struct QueryReplyTests {
    @Test("every query lvx sends is answered with a valid data frame")
    func everyQueryAnswered() throws {
        var unit = seedUnit(0)
        for query in PI18Query.all {
            let reply = try ask(&unit, query.frame.bytes)
            guard case .data = reply else {
                Issue.record("\(query) answered \(reply)")
                continue
            }
        }
    }

    @Test("ID, VFW, MOD and PI")
    func identity() throws {
        var unit = seedUnit(1)
        let id = try PI18Decode.serialNumber(try fields(ask(&unit, PI18Query.serialNumber.frame.bytes)))
        #expect(id == unit.serial)
        #expect(unit.idPayload == "1496142408100255000000")
        let fw = try PI18Decode.firmwareVersions(try fields(ask(&unit, PI18Query.firmwareVersions.frame.bytes)))
        #expect(fw == FirmwareVersions(main: "06306", slave1: "06021", slave2: "00000"))
        let mode = try PI18Decode.workingMode(try fields(ask(&unit, PI18Query.workingMode.frame.bytes)))
        #expect(mode.code == "05")
        let pi = try PI18Decode.protocolID(try fields(ask(&unit, PI18Query.protocolID.frame.bytes)))
        #expect(pi == "18")
    }

    @Test("PIRI: 26 fields, the twelve settings and the LVX6048 ratings")
    func ratedInformation() throws {
        var unit = seedUnit(0)
        unit.settings[.floatVoltage] = SettingValue(raw: 535)
        unit.settings[.maxChargingCurrent] = SettingValue(raw: 100)  // as if set from the LCD
        let raw = unit.respond(to: PI18Query.ratedInformation.frame.bytes)
        #expect(Array(raw.prefix(5)) == Array("^D089".utf8))
        let f = try fields(PI18Reply.parse(raw))
        #expect(f.count == 26)
        let piri = try PI18Decode.ratedInformation(f)
        #expect(piri.settings == unit.settings)
        #expect(piri.settings[.floatVoltage] == SettingValue(raw: 535))
        #expect(piri.settings[.bulkVoltage] == SettingValue(raw: 564))
        #expect(piri.settings[.maxChargingCurrent] == SettingValue(raw: 100))
        #expect(piri.batteryRatedVoltage == 480)
        #expect(piri.acOutputRatedVoltage == 1200)
        #expect(piri.acOutputRatedFrequency == 600)
        #expect(piri.ratedActivePower == 6000)
        #expect(piri.parallelMax == 6)
        #expect(piri.outputModel == 1)
        #expect(f[14] == "030" && f[15] == "100" && f[25] == "00")
    }

    @Test("GS: 28 fields, battery 55.1 V, output 120.0 V / 60.0 Hz, field 27 the parallel index")
    func generalStatus() throws {
        for index in [0, 1] {
            var unit = seedUnit(index)
            let raw = unit.respond(to: PI18Query.generalStatus.frame.bytes)
            #expect(Array(raw.prefix(5)) == Array("^D106".utf8))
            let f = try fields(PI18Reply.parse(raw))
            #expect(f.count == 28)
            let gs = try PI18Decode.generalStatus(f)
            #expect(gs.batteryVoltage == 551)
            #expect(gs.acOutputVoltage == 1200)
            #expect(gs.acOutputFrequency == 600)
            #expect(gs.parallelIndex == index)
        }
    }

    @Test("FWS: fault code and 17 flags (^D039)")
    func faultStatus() throws {
        var unit = seedUnit(0)
        unit.warnings[8] = true
        let raw = unit.respond(to: PI18Query.faultStatus.frame.bytes)
        #expect(Array(raw.prefix(5)) == Array("^D039".utf8))
        let status = try PI18Decode.faultStatus(try fields(PI18Reply.parse(raw)))
        #expect(status.fault.code == "00")
        #expect(status.flags.count == 17)
        #expect(status.activeWarnings == ["eeprom_fail"])
    }

    @Test("FLAG, MCHGCR and MUCHGCR")
    func flagsAndOptions() throws {
        var unit = seedUnit(0)
        let flags = try PI18Decode.flags(try fields(ask(&unit, PI18Query.flags.frame.bytes)))
        #expect(flags == unit.flags && flags.count == 9)
        let charging = try fields(ask(&unit, PI18Query.chargingCurrentOptions.frame.bytes))
        #expect(charging == ["010", "020", "030", "040", "050", "060", "070", "080"])
        #expect(try PI18Decode.currentOptions(charging, command: "MCHGCR") == [10, 20, 30, 40, 50, 60, 70, 80])
        let utility = try fields(ask(&unit, PI18Query.utilityChargingCurrentOptions.frame.bytes))
        #expect(utility == ["002", "010", "020", "030", "040", "050", "060", "070", "080"])
    }

    @Test("a query the unit does not know is answered ^0", arguments: ["T", "ET", "PGS0", "QPIGS", "PIRIX", "DI"])
    func unknownQuery(_ payload: String) throws {
        var unit = seedUnit(0)
        #expect(try ask(&unit, Frames.query(payload)) == .refused)
    }

    @Test("a request without CRC (mpp-solar pi18lvx style) is answered like one with CRC")
    func noCRCRequest() throws {
        var unit = seedUnit(0)
        let withCRC = unit.respond(to: Frames.query("PIRI"))
        let without = unit.respond(to: Frames.request("P", "PIRI", crc: false))
        #expect(without == withCRC)
        var site = try SimulatedSite(units: [seedUnit(0)])
        let ex = try exchange(&site, seedUnit(0).serial, Frames.request("P", "GS", crc: false))
        #expect(ex.entry.note == "no-crc")
    }

    @Test("a frame with a wrong CRC or length is logged as unparseable and answered ^0")
    func badFrames() throws {
        var site = try SimulatedSite(units: [seedUnit(0)])
        let s = seedUnit(0).serial
        var bad = Frames.query("PIRI")
        bad[bad.count - 2] ^= 0x01
        let ex = try exchange(&site, s, bad)
        #expect(ex.entry.kind == .unparseable)
        #expect(ex.entry.payload.hasPrefix("hex:5e503030375049524"))
        #expect(ex.entry.reply == .nak)
        #expect(try reply(ex) == .refused)
        let junk = try exchange(&site, s, Array("hello\r".utf8))
        #expect(junk.entry.kind == .unparseable && junk.entry.note == "not-a-request")
    }

    @Test("wire time is (request + reply bytes) x 10 / baud and accumulates")
    func wireTime() throws {
        var site = try SimulatedSite(units: [seedUnit(0)])
        let s = seedUnit(0).serial
        let piri = try exchange(&site, s, Frames.query("PIRI"), baud: 2400)
        // 12 request bytes + 94 reply bytes = 106 bytes = 1060 bits.
        #expect(abs(piri.entry.wireSeconds - 1060.0 / 2400.0) < 1e-9)
        let ack = try exchange(&site, s, Frames.setter("POP1"), baud: 2400)
        #expect(abs(ack.entry.wireSeconds - 170.0 / 2400.0) < 1e-9)
        #expect(abs((site[s]?.wireSeconds ?? 0) - 1230.0 / 2400.0) < 1e-9)
        let instant = try exchange(&site, s, Frames.query("GS"), baud: 0)
        #expect(instant.entry.wireSeconds == 0)
        #expect(site[s]?.requestCount == 3 && instant.entry.sequence == 3)
    }
}
