import Foundation
import LVXCore
import LVXSimulator
import LVXTestSupport
import LVXWire
import Testing

/// Feeds the field values of each genuine captured reply into a unit and checks that the unit's reply
/// to the same query is byte-identical to the capture: same widths, field counts, length and CRC.
@Suite("Replies are byte-identical in format to real captures")
struct CaptureFormatTests {
    static let supported: Set<String> = ["PI", "ID", "VFW", "PIRI", "GS", "MOD", "FWS", "FLAG", "MCHGCR", "MUCHGCR"]

    /// Every capture that parses as a valid reply to a query the simulator answers.
    ///
    /// Repaired bytes are used where the catalogue repaired them. Read at test time from
    /// `<package root>/../shared/reference/`.
    static func genuine() throws -> [PI18Capture] {
        try PI18Capture.load(TestPaths.captures()).filter { capture in
            guard supported.contains(capture.command) else { return false }
            guard case .data = try? PI18Reply.parse(capture.repaired ?? capture.bytes) else { return false }
            return true
        }
    }

    @Test("the captures file (../shared/reference, else its vendored copy) holds enough genuine replies")
    func coverage() throws {
        #expect(FileManager.default.fileExists(atPath: TestPaths.captures().path))
        let captures = try Self.genuine()
        let commands = Set(captures.map(\.command))
        #expect(commands == Self.supported)
        #expect(captures.count >= 18)
    }

    @Test("the unit's reply equals the capture", arguments: try CaptureFormatTests.genuine())
    func matches(_ capture: PI18Capture) throws {
        let expected = capture.repaired ?? capture.bytes
        let f = try fields(PI18Reply.parse(expected))
        var unit = try Self.unit(holding: f, for: capture.command)
        let query = Frames.query(capture.command)
        #expect(unit.respond(to: query) == expected, "\(capture)")
    }

    @Test("the simulator's default PIRI has the ^D089 shape of the LV5048 captures")
    func defaultShape() throws {
        var unit = seedUnit(0)
        let ours = unit.respond(to: Frames.query("PIRI"))
        let capture = try #require(try Self.genuine().first { $0.command == "PIRI" && $0.bytes.count == ours.count })
        let theirs = try fields(PI18Reply.parse(capture.repaired ?? capture.bytes))
        let mine = try fields(PI18Reply.parse(ours))
        #expect(mine.map(\.count) == theirs.map(\.count))
    }

    /// A unit whose state makes it send `fields` in answer to `command`.
    static func unit(holding f: [String], for command: String) throws -> SimulatedInverter {
        var unit = seedUnit(0)
        let n = f.map { Int($0) ?? -1 }
        switch command {
        case "PI": #expect(f == ["18"])
        case "ID": unit.serial = try #require(SerialNumber(f[0]))
        case "VFW": unit.firmware = FirmwareVersions(main: f[0], slave1: f[1], slave2: f[2])
        case "MOD": unit.mode = f[0]
        case "FLAG": unit.flags = f.map { $0 == "1" }
        case "FWS":
            unit.fault = f[0]
            unit.warnings = f.dropFirst().map { $0 == "1" }
        case "MCHGCR": unit.chargingCurrentOptions = n
        case "MUCHGCR": unit.utilityChargingCurrentOptions = n
        case "GS":
            unit.generalStatus = Array(n.prefix(27))
            unit.parallelIndex = n[27]
        case "PIRI":
            var r = RatedFields()
            (r.acInputVoltage, r.acInputCurrent, r.acOutputVoltage, r.acOutputFrequency) = (n[0], n[1], n[2], n[3])
            (r.acOutputCurrent, r.apparentPower, r.activePower, r.batteryVoltage) = (n[4], n[5], n[6], n[7])
            (r.inputVoltageRange, r.parallelMax, r.topology, r.outputModel, r.mpptStrings) = (
                n[16], n[19], n[21], n[22], n[24]
            )
            r.trailer = f[25]
            r.utilityCurrentDigits = f[14].count
            unit.rated = r
            unit.settings = try PI18Decode.ratedInformation(f).settings
        default: throw TestFailure("no state mapping for \(command)")
        }
        return unit
    }
}
