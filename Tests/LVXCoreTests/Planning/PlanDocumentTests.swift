import LVXCore
import Testing

private typealias F = PlanFixture

/// The bytes a plan's digest is taken over, and the digest, pinned: any change to the canonical
/// form would silently invalidate every approval.
@Suite("plan document") struct PlanDocumentTests {
    static let document = PlanDocument(
        created: WallTime(secondsSince1970: 1_795_230_900),
        expires: WallTime(secondsSince1970: 1_795_230_900 + 86_400),
        desiredCommit: "0123456789abcdef0123456789abcdef01234567",
        desiredDigest: "5d41402abc4b2a76b9719d911017c592",
        toolVersion: "0.1.0",
        site: "home \"north\"",
        units: [
            PlannedUnit(
                serial: F.second,
                name: "lvx6048-2",
                port: "hidraw:/dev/hidraw1",
                firmware: FirmwareVersions(main: "00123.45", slave1: "00067.89", slave2: "00000.00"),
                parallelIndex: 1,
                observedDigest: "9b2c",
                observed: Settings([
                    .batteryType: F.v(2), .stopChargeVoltage: F.v(540), .floatVoltage: F.v(540),
                    .maxChargingCurrent: F.v(50),
                ]),
                steps: [
                    PlanStep(
                        write: .chargeVoltages(bulk: F.v(564), float: F.v(560)),
                        from: Settings([.bulkVoltage: F.v(564), .floatVoltage: F.v(540)]),
                        command: "MCHGV564,560"
                    ),
                    PlanStep(
                        write: .stopVoltages(stopDischarge: F.v(480), stopCharge: F.v(0)),
                        from: Settings([.stopDischargeVoltage: F.v(480), .stopChargeVoltage: F.v(540)]),
                        command: "BUCD480,000"
                    ),
                    PlanStep(
                        write: .maxChargingCurrent(F.v(60), parallelIndex: 1),
                        from: Settings([.maxChargingCurrent: F.v(50)]),
                        command: "MCHGC1,060"
                    ),
                ]
            )
        ]
    )

    static let canonicalText =
        #"{"format_version":1,"created":"2026-11-21T03:15:00Z","expires":"2026-11-22T03:15:00Z","#
        + #""desired_commit":"0123456789abcdef0123456789abcdef01234567","#
        + #""desired_digest":"5d41402abc4b2a76b9719d911017c592","tool_version":"0.1.0","site":"home \"north\"","#
        + #""units":[{"serial":"96142408100255","name":"lvx6048-2","port":"hidraw:/dev/hidraw1","#
        + #""firmware":{"main":"00123.45","slave1":"00067.89","slave2":"00000.00"},"parallel_index":1,"#
        + #""observed_digest":"9b2c","#
        + #""observed":{"battery_type":"USER","stop_charge_voltage":54.0,"float_voltage":54.0,"max_charging_current":50},"#
        + #""steps":["#
        + #"{"keys":["bulk_voltage","float_voltage"],"from":{"bulk_voltage":56.4,"float_voltage":54.0},"#
        + #""to":{"bulk_voltage":56.4,"float_voltage":56.0},"command":"MCHGV564,560"},"#
        + #"{"keys":["stop_discharge_voltage","stop_charge_voltage"],"#
        + #""from":{"stop_discharge_voltage":48.0,"stop_charge_voltage":54.0},"#
        + #""to":{"stop_discharge_voltage":48.0,"stop_charge_voltage":0.0},"command":"BUCD480,000"},"#
        + #"{"keys":["max_charging_current"],"from":{"max_charging_current":50},"#
        + #""to":{"max_charging_current":60},"command":"MCHGC1,060"}"#
        + #"]}]}"#

    static let digest = "b3a468c666c296550d363c002d88a4aa52c6b21b42e8eecef8722ea922b7bfa4"

    @Test("the canonical content is exactly the pinned text")
    func canonicalContent() {
        #expect(Self.document.canonicalContent.text == Self.canonicalText)
    }

    @Test("the digest is the SHA-256 of that text, and the id its first 16 hex digits")
    func digest() {
        #expect(Self.document.digest == Self.digest)
        #expect(Self.document.id == String(Self.digest.prefix(16)))
        #expect(SHA256.hex(Self.canonicalText) == Self.digest)
    }

    @Test("the full document puts id and digest before the content")
    func fullDocument() {
        let prefix = #"{"id":"\#(Self.document.id)","digest":"\#(Self.digest)","format_version":1,"#
        #expect(Self.document.json.text == prefix + Self.canonicalText.dropFirst(#"{"format_version":1,"#.count))
    }
}
