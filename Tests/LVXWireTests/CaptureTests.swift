import Foundation
import LVXCore
import LVXTestSupport
import LVXWire
import Testing

/// Every capture in `pi18-captures.json`, decoded or rejected as its provenance says it should be.
@Suite("PI18 captures")
struct CaptureTests {
    static let captures: [PI18Capture] = (try? PI18Capture.load()) ?? []

    /// Captures whose bytes (as shipped, or after the catalogue's repair) form a valid PI18 frame.
    static var valid: [PI18Capture] {
        captures.filter { c in
            let bytes = c.repaired ?? c.bytes
            return bytes.first == 0x5E && bytes.last == 0x0D && isCRCValid(c) && c.lengthValid != false
                || c.repaired != nil && bytes.first == 0x5E
        }
    }

    static var broken: [PI18Capture] { captures.filter { !valid.map(\.index).contains($0.index) } }

    static var damagedBeforeRepair: [PI18Capture] { captures.filter { $0.repaired != nil } }

    private static func isCRCValid(_ c: PI18Capture) -> Bool {
        c.crcValid == true
    }

    @Test("the catalogue is loaded and the vendored copy matches the shared one")
    func catalogueLoads() throws {
        #expect(Self.captures.count == 62)
        let shared = PackagePaths.capturesFile()
        let vendored = PackagePaths.vendoredCapturesFile()
        if shared != vendored {
            #expect(try Data(contentsOf: shared) == Data(contentsOf: vendored))
        }
    }

    @Test("decodes every CRC-valid capture", arguments: valid)
    func decodesValid(_ capture: PI18Capture) throws {
        let bytes = capture.repaired ?? capture.bytes
        let reply = try PI18Reply.parse(bytes)
        switch reply {
        case .accepted:
            #expect(Array(bytes.prefix(2)) == [0x5E, 0x31])
        case .refused:
            #expect(Array(bytes.prefix(2)) == [0x5E, 0x30])
        case .data(let fields):
            let expectedCount = capture.fieldCount ?? fields.count
            #expect(fields.count == expectedCount, "\(capture)")
            try decode(capture.command, fields)
        }
    }

    @Test("rejects every broken capture with the error its defect calls for", arguments: broken)
    func rejectsBroken(_ capture: PI18Capture) throws {
        let bytes = capture.bytes
        let error = #expect(throws: PI18WireError.self) { try PI18Reply.parse(bytes) }
        guard let error else { return }
        if bytes.last != 0x0D {
            #expect(error == .unterminated, "\(capture)")
        } else if bytes.first != 0x5E || ![0x44, 0x30, 0x31].contains(bytes.dropFirst().first ?? 0) {
            guard case .badStart = error else {
                Issue.record("expected badStart, got \(error) for \(capture)")
                return
            }
        } else if capture.lengthValid == false {
            guard case .lengthMismatch = error else {
                Issue.record("expected lengthMismatch, got \(error) for \(capture)")
                return
            }
        } else {
            guard case .crcMismatch = error else {
                Issue.record("expected crcMismatch, got \(error) for \(capture)")
                return
            }
        }
    }

    @Test("rejects captures damaged by mojibake before their repair", arguments: damagedBeforeRepair)
    func rejectsDamaged(_ capture: PI18Capture) {
        #expect(throws: PI18WireError.self) { try PI18Reply.parse(capture.bytes) }
    }

    @Test("decoded values of the powermon PIRI capture")
    func powermonPIRI() throws {
        let capture = try #require(Self.captures.first { $0.command == "PIRI" && $0.crcValid == true })
        guard case .data(let fields) = try PI18Reply.parse(capture.bytes) else {
            Issue.record("not a data reply")
            return
        }
        let rated = try PI18Decode.ratedInformation(fields)
        #expect(rated.batteryRatedVoltage == 480)
        #expect(rated.settings[.bulkVoltage]?.raw == 570)
        #expect(rated.settings[.floatVoltage]?.raw == 570)
        #expect(rated.settings[.cutoffVoltage]?.raw == 440)
        #expect(rated.settings[.batteryType]?.raw == 2)
        #expect(rated.settings[.maxChargingCurrent]?.raw == 70)
        #expect(rated.settings[.maxUtilityChargingCurrent]?.raw == 10)
    }

    @Test("ID capture gives the short serial (first LL digits)")
    func serialFromID() throws {
        let capture = try #require(Self.captures.first { $0.command == "ID" && $0.crcValid == true })
        guard case .data(let fields) = try PI18Reply.parse(capture.bytes) else {
            Issue.record("not a data reply")
            return
        }
        #expect(try PI18Decode.serialNumber(fields).digits == "96161704100242")
    }

    @Test("GS capture: field 27 is the parallel index, not a flag")
    func gsParallelIndex() throws {
        let capture = try #require(
            Self.captures.first {
                $0.command == "GS" && $0.source.contains("esphome")
                    && String(decoding: $0.bytes, as: UTF8.self).contains("2422,499,2305")
            }
        )
        guard case .data(let fields) = try PI18Reply.parse(capture.bytes) else {
            Issue.record("not a data reply")
            return
        }
        let status = try PI18Decode.generalStatus(fields)
        #expect(status.parallelIndex == 1)
        #expect(status.batteryVoltage == 526)
        #expect(status.acOutputVoltage == 2305)
    }

    @Test("FWS with 18 fields decodes; the EEPROM flag is index 8 of the flags")
    func fws18() throws {
        let capture = try #require(Self.captures.first { $0.command == "FWS" && $0.crcValid == true })
        guard case .data(let fields) = try PI18Reply.parse(capture.bytes) else {
            Issue.record("not a data reply")
            return
        }
        #expect(fields.count == 18)
        let status = try PI18Decode.faultStatus(fields)
        #expect(status.fault.code == "00")
        #expect(status.flags.count == 17)
        #expect(status.activeWarnings == ["eeprom_fail"])
    }

    private func decode(_ command: String, _ fields: [String]) throws {
        switch command {
        case "PI": #expect(try PI18Decode.protocolID(fields) == "18")
        case "ID": _ = try PI18Decode.serialNumber(fields)
        case "VFW": _ = try PI18Decode.firmwareVersions(fields)
        case "PIRI": _ = try PI18Decode.ratedInformation(fields)
        case "GS": _ = try PI18Decode.generalStatus(fields)
        case "MOD": _ = try PI18Decode.workingMode(fields)
        case "FWS": _ = try PI18Decode.faultStatus(fields)
        case "FLAG": _ = try PI18Decode.flags(fields)
        case "MCHGCR", "MUCHGCR": _ = try PI18Decode.currentOptions(fields, command: command)
        default: #expect(!fields.isEmpty)
        }
    }
}
