import LVXCore
import LVXTestSupport
import LVXWire
import Testing

@Suite("PI18 framing and CRC")
struct FrameTests {
    @Test("CRC-16/XMODEM check value")
    func checkValue() {
        #expect(PI18CRC.xmodem(Array("123456789".utf8)) == 0x31C3)
    }

    @Test(
        "query frames match the reference bytes",
        arguments: [
            (PI18Query.protocolID, "5E 50 30 30 35 50 49 71 8B 0D"),
            (.serialNumber, "5E 50 30 30 35 49 44 19 CD 0D"),
            (.firmwareVersions, "5E 50 30 30 36 56 46 57 F6 E6 0D"),
            (.ratedInformation, "5E 50 30 30 37 50 49 52 49 EE 38 0D"),
            (.generalStatus, "5E 50 30 30 35 47 53 58 14 0D"),
            (.workingMode, "5E 50 30 30 36 4D 4F 44 DD BE 0D"),
            (.faultStatus, "5E 50 30 30 36 46 57 53 C5 43 0D"),
            (.flags, "5E 50 30 30 37 46 4C 41 47 8E 18 0D"),
            (.chargingCurrentOptions, "5E 50 30 30 39 4D 43 48 47 43 52 EE 22 0D"),
            (.utilityChargingCurrentOptions, "5E 50 30 31 30 4D 55 43 48 47 43 52 B5 8B 0D"),
        ]
    )
    func queryFrames(_ query: PI18Query, _ hex: String) {
        #expect(query.frame.bytes == hexBytes(hex))
    }

    @Test(
        "setter frames match the reference bytes, including the CR fix-up",
        arguments: [
            (SettingWrite.outputSourcePriority(SettingValue(raw: 0)), "5E 53 30 30 37 50 4F 50 30 1D 31 0D"),
            (.outputSourcePriority(SettingValue(raw: 1)), "5E 53 30 30 37 50 4F 50 31 0E 10 0D"),
            (.solarPowerPriority(SettingValue(raw: 1)), "5E 53 30 30 37 50 53 50 31 3B 12 0D"),
            (.gridTie(SettingValue(raw: 1)), "5E 53 30 30 36 50 45 49 3A 68 0D"),
            (.gridTie(SettingValue(raw: 0)), "5E 53 30 30 36 50 44 49 09 59 0D"),
            (.chargerPriority(SettingValue(raw: 1), parallelIndex: 0), "5E 53 30 30 39 50 43 50 30 2C 31 8F 07 0D"),
            (
                .maxChargingCurrent(SettingValue(raw: 60), parallelIndex: 0),
                "5E 53 30 31 33 4D 43 48 47 43 30 2C 30 36 30 3B 1B 0D"
            ),
            (
                .maxUtilityChargingCurrent(SettingValue(raw: 30), parallelIndex: 0),
                "5E 53 30 31 34 4D 55 43 48 47 43 30 2C 30 33 30 EE DD 0D"
            ),
            (
                .chargeVoltages(bulk: SettingValue(raw: 564), float: SettingValue(raw: 540)),
                "5E 53 30 31 35 4D 43 48 47 56 35 36 34 2C 35 34 30 8B 8D 0D"
            ),
            (.cutoffVoltage(SettingValue(raw: 440)), "5E 53 30 31 30 50 53 44 56 34 34 30 1F BA 0D"),
            (
                .stopVoltages(stopDischarge: SettingValue(raw: 460), stopCharge: SettingValue(raw: 540)),
                "5E 53 30 31 34 42 55 43 44 34 36 30 2C 35 34 30 5C 40 0D"
            ),
        ]
    )
    func setterFrames(_ write: SettingWrite, _ hex: String) throws {
        #expect(try PI18Setter(write).frame.bytes == hexBytes(hex))
    }

    @Test("setter payloads use the PDF's formats")
    func setterPayloads() throws {
        #expect(try PI18Setter(.outputSourcePriority(SettingValue(raw: 1))).payload == "POP1")
        #expect(try PI18Setter(.maxChargingCurrent(SettingValue(raw: 60), parallelIndex: 1)).payload == "MCHGC1,060")
        #expect(
            try PI18Setter(.stopVoltages(stopDischarge: SettingValue(raw: 480), stopCharge: SettingValue(raw: 0)))
                .payload == "BUCD480,000"
        )
        #expect(try PI18Setter(.batteryType(SettingValue(raw: 2))).payload == "PBT2")
        #expect(try PI18Setter(.chargerPriority(SettingValue(raw: 2), parallelIndex: 3)).payload == "PCP3,2")
    }

    @Test("values that do not fit the wire format are refused before framing")
    func encodingErrors() {
        #expect(throws: PI18Setter.EncodingError.self) {
            try PI18Setter(.maxChargingCurrent(SettingValue(raw: 60), parallelIndex: 10))
        }
        #expect(throws: PI18Setter.EncodingError.self) { try PI18Setter(.cutoffVoltage(SettingValue(raw: 1000))) }
        #expect(throws: PI18Setter.EncodingError.self) { try PI18Setter(.gridTie(SettingValue(raw: 2))) }
        #expect(throws: PI18Setter.EncodingError.self) { try PI18Setter(.outputSourcePriority(SettingValue(raw: 10))) }
    }

    @Test("only the ten profile setters can be built")
    func setterMnemonics() throws {
        let v = SettingValue(raw: 1)
        let writes: [SettingWrite] = [
            .batteryType(v), .cutoffVoltage(SettingValue(raw: 440)),
            .stopVoltages(stopDischarge: SettingValue(raw: 480), stopCharge: SettingValue(raw: 540)),
            .chargeVoltages(bulk: SettingValue(raw: 564), float: SettingValue(raw: 540)),
            .maxUtilityChargingCurrent(SettingValue(raw: 30), parallelIndex: 0),
            .maxChargingCurrent(SettingValue(raw: 60), parallelIndex: 0), .outputSourcePriority(v),
            .chargerPriority(v, parallelIndex: 0), .solarPowerPriority(v), .gridTie(v), .gridTie(SettingValue(raw: 0)),
        ]
        let mnemonics = Set(try writes.map { try PI18Setter($0).payload.prefix { $0.isLetter } })
        #expect(mnemonics == ["PBT", "PSDV", "BUCD", "MCHGV", "MUCHGC", "MCHGC", "POP", "PCP", "PSP", "PEI", "PDI"])
    }

    @Test("every setter of the table encodes as its mnemonic, machine digit and fields")
    func setterTable() throws {
        let v = { (raw: Int) in SettingValue(raw: raw) }
        let source = Settings([
            .batteryType: v(2), .cutoffVoltage: v(480), .stopDischargeVoltage: v(480), .stopChargeVoltage: v(0),
            .bulkVoltage: v(564), .floatVoltage: v(540), .maxUtilityChargingCurrent: v(2),
            .maxChargingCurrent: v(60), .outputSourcePriority: v(1), .chargerPriority: v(2),
            .solarPowerPriority: v(0), .gridTie: v(1),
        ])
        var payloads: [String] = []
        for kind in SettingWrite.Kind.allCases {
            let write = try #require(SettingWrite(kind: kind, settings: source, parallelIndex: 7))
            payloads.append(try PI18Setter(write).payload)
        }
        #expect(
            payloads == [
                "PBT2", "PSDV480", "BUCD480,000", "MCHGV564,540", "MUCHGC7,002", "MCHGC7,060", "POP1", "PCP7,2",
                "PSP0", "PEI",
            ]
        )
    }

    @Test(
        "encoding errors name the field and the value",
        arguments: [
            (SettingWrite.gridTie(SettingValue(raw: 2)), "grid_tie code 2 is neither 0 (disabled) nor 1 (enabled)"),
            (.chargerPriority(SettingValue(raw: 1), parallelIndex: 10), "parallel index 10 is not a single digit"),
            (.chargerPriority(SettingValue(raw: 12), parallelIndex: 0), "charger_priority 12 is not a single digit"),
            (
                .chargeVoltages(bulk: SettingValue(raw: 564), float: SettingValue(raw: 1000)),
                "float_voltage 1000 tenths of a volt does not fit three digits"
            ),
            (
                .maxChargingCurrent(SettingValue(raw: 1000), parallelIndex: 0),
                "max_charging_current 1000 A does not fit three digits"
            ),
        ]
    )
    func encodingErrorMessages(_ write: SettingWrite, _ message: String) {
        let error = #expect(throws: PI18Setter.EncodingError.self) { try PI18Setter(write) }
        #expect(error?.message == message)
    }

    @Test("a CRC byte that is a comma does not split a field")
    func crcComma() throws {
        // ^S010PSDV450 has CRC 2C 8B: a comma. The same applies to replies; build one whose CRC has a comma.
        var found: [UInt8]?
        for n in 0..<2000 {
            let frame = PI18Reply.encodeData("\(n),1")
            if frame[frame.count - 3] == 0x2C || frame[frame.count - 2] == 0x2C {
                found = frame
                break
            }
        }
        let frame = try #require(found)
        guard case .data(let fields) = try PI18Reply.parse(frame) else {
            Issue.record("not data")
            return
        }
        #expect(fields.count == 2)
    }

    @Test("acks parse, wrong length and wrong CRC are rejected")
    func acksAndErrors() throws {
        #expect(try PI18Reply.parse(hexBytes("5E 31 0B C2 0D")) == .accepted)
        #expect(try PI18Reply.parse(hexBytes("5E 30 1B E3 0D")) == .refused)
        #expect(throws: PI18WireError.crcMismatch(expected: 0x0BC2, got: 0x0BC3)) {
            try PI18Reply.parse(hexBytes("5E 31 0B C3 0D"))
        }
        var frame = PI18Reply.encodeData("05")
        frame[4] = 0x36  // declared length 006 instead of 005
        #expect(throws: PI18WireError.lengthMismatch(declared: 6, actual: 5)) { try PI18Reply.parse(frame) }
        #expect(throws: PI18WireError.unterminated) { try PI18Reply.parse(Array(frame.dropLast())) }
        #expect(throws: PI18WireError.empty) { try PI18Reply.parse([]) }
    }

    @Test("MOD 06 decodes as unknown(06), not an error")
    func mod06() throws {
        guard case .data(let fields) = try PI18Reply.parse(PI18Reply.encodeData("06")) else {
            Issue.record("not data")
            return
        }
        let mode = try PI18Decode.workingMode(fields)
        #expect(mode.name == "unknown(06)")
        #expect(!mode.isKnown)
    }

    @Test("decoders reject wrong field counts and non-numeric fields")
    func decoderErrors() {
        #expect(throws: PI18WireError.fieldCount(command: "GS", expected: "28", got: 3)) {
            try PI18Decode.generalStatus(["1", "2", "3"])
        }
        var piri = Array(repeating: "0", count: 26)
        piri[12] = "5x4"
        #expect(
            throws: PI18WireError.badField(command: "PIRI", index: 12, value: "5x4", expected: "an unsigned number")
        ) { try PI18Decode.ratedInformation(piri) }
        #expect(throws: PI18WireError.self) { try PI18Decode.serialNumber(["0012345"]) }
        #expect(throws: PI18WireError.self) { try PI18Decode.serialNumber(["2112345678901234567890"]) }
    }

    @Test("requests are read tolerantly: with CRC, with the 0x00 variant, and without CRC")
    func incomingRequests() throws {
        let withCRC = PI18IncomingRequest.parse(PI18Query.generalStatus.frame.bytes)
        #expect((try? withCRC.get())?.payload == "GS")
        let noCRC = PI18IncomingRequest.parse(Array("^P005GS\r".utf8))
        #expect((try? noCRC.get())?.hadCRC == false)
        // ^S015MCHGV544,540 has raw CRC 0x00CD; powermon sends 01 CD.
        let bumped = hexBytes("5E 53 30 31 35 4D 43 48 47 56 35 34 34 2C 35 34 30 01 CD 0D")
        #expect((try? PI18IncomingRequest.parse(bumped).get())?.payload == "MCHGV544,540")
        var bad = PI18Query.generalStatus.frame.bytes
        bad[7] ^= 0xFF
        #expect(throws: PI18IncomingRequest.ParseError.badCRC) { try PI18IncomingRequest.parse(bad).get() }
    }
}
