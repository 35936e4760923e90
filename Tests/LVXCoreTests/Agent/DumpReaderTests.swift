import LVXCore
import Testing

@Suite("DumpReader parses a dump only when more than its time changed")
struct DumpReaderTests {
    func text(taken: String, float: String = "54.0", header: String = "# lvx run") -> [UInt8] {
        Array(
            """
            \(header)
            format_version: 1
            unit: lvx6048-1
            serial: '96142109100037'
            taken_at: '\(taken)'
            reachable: true
            settings: {float_voltage: \(float)}

            """.utf8
        )
    }

    func dump(_ taken: String) -> UnitDump? {
        guard let serial = SerialNumber("96142109100037"), let time = WallTime(iso8601: taken) else { return nil }
        return UnitDump(
            name: "lvx6048-1",
            serial: serial,
            takenAt: time,
            reachable: true,
            error: nil,
            port: nil,
            firmware: nil,
            mode: nil,
            fault: nil,
            warnings: [],
            parallelIndex: nil,
            settings: nil
        )
    }

    @Test("a new taken_at and header reuse the previous dump with the new time; any other line parses again")
    func reuse() {
        var reader = DumpReader()
        var parsed = 0
        let parse: ([UInt8]) -> UnitDump? = { _ in
            parsed += 1
            return dump("2026-11-20T03:00:00Z")
        }
        _ = reader.read(text(taken: "2026-11-20T03:00:00Z"), parse: parse)
        let again = reader.read(text(taken: "2026-11-20T03:15:00Z", header: "# lvx run 2"), parse: parse)
        #expect(parsed == 1)
        #expect(again?.takenAt == WallTime(iso8601: "2026-11-20T03:15:00Z"))
        _ = reader.read(text(taken: "2026-11-20T03:30:00Z", float: "53.5"), parse: parse)
        #expect(parsed == 2, "a setting changed: parsed")
        _ = reader.read(Array("taken_at: nonsense\nfloat: 1\n".utf8), parse: parse)
        #expect(parsed == 3, "no time read: parsed")
    }
}
