import LVXCore
import Testing

/// The setter table: every key has exactly one setter, and a write is built from it and read back through it.
@Suite("setter table") struct SettingWriteTests {
    private func v(_ raw: Int) -> SettingValue { SettingValue(raw: raw) }

    @Test("every key is written by exactly one setter, and the setters' keys are in safe order")
    func everyKeyOnce() {
        let all = SettingWrite.Kind.allCases.flatMap(\.keys)
        #expect(all == SettingKey.allCases)
        for key in SettingKey.allCases {
            #expect(SettingWrite.Kind(writing: key).keys.contains(key), "\(key)")
        }
    }

    @Test("a key set names a setter only when it is exactly that setter's keys")
    func keySets() {
        #expect(SettingWrite.Kind(keys: [.stopChargeVoltage, .stopDischargeVoltage]) == .stopVoltages)
        #expect(SettingWrite.Kind(keys: [.bulkVoltage, .floatVoltage]) == .chargeVoltages)
        #expect(SettingWrite.Kind(keys: [.bulkVoltage]) == nil)
        #expect(SettingWrite.Kind(keys: [.cutoffVoltage, .stopDischargeVoltage]) == nil)
        #expect(SettingWrite.Kind(keys: []) == nil)
    }

    @Test(
        "building a write from the table gives the case, its read-back and its machine digit",
        arguments: [
            (SettingWrite.Kind.batteryType, SettingWrite.batteryType(SettingValue(raw: 2)), nil as Int?),
            (.cutoffVoltage, .cutoffVoltage(SettingValue(raw: 480)), nil),
            (
                .stopVoltages, .stopVoltages(stopDischarge: SettingValue(raw: 480), stopCharge: SettingValue(raw: 540)),
                nil
            ),
            (.chargeVoltages, .chargeVoltages(bulk: SettingValue(raw: 564), float: SettingValue(raw: 540)), nil),
            (.maxUtilityChargingCurrent, .maxUtilityChargingCurrent(SettingValue(raw: 30), parallelIndex: 3), 3),
            (.maxChargingCurrent, .maxChargingCurrent(SettingValue(raw: 60), parallelIndex: 3), 3),
            (.outputSourcePriority, .outputSourcePriority(SettingValue(raw: 1)), nil),
            (.chargerPriority, .chargerPriority(SettingValue(raw: 0), parallelIndex: 3), 3),
            (.solarPowerPriority, .solarPowerPriority(SettingValue(raw: 1)), nil),
            (.gridTie, .gridTie(SettingValue(raw: 0)), nil),
        ]
    )
    func build(_ kind: SettingWrite.Kind, _ write: SettingWrite, _ index: Int?) throws {
        let source = Settings([
            .batteryType: v(2), .cutoffVoltage: v(480), .stopDischargeVoltage: v(480), .stopChargeVoltage: v(540),
            .bulkVoltage: v(564), .floatVoltage: v(540), .maxUtilityChargingCurrent: v(30),
            .maxChargingCurrent: v(60), .outputSourcePriority: v(1), .chargerPriority: v(0),
            .solarPowerPriority: v(1), .gridTie: v(0),
        ])
        let built = try #require(SettingWrite(kind: kind, settings: source, parallelIndex: 3))
        #expect(built == write)
        #expect(built.kind == kind)
        #expect(built.parallelIndex == index)
        #expect(built.keys == kind.keys)
        #expect(built.expected.keys == kind.keys)
        #expect(built.expected.entries.map(\.value) == built.values)
        // Plan decoding rebuilds the write from its read-back alone.
        #expect(SettingWrite(keys: built.expected, parallelIndex: 3) == write)
    }

    @Test("a pair is not built when one of its values is missing")
    func missingPairValue() {
        #expect(
            SettingWrite(kind: .chargeVoltages, settings: Settings([.bulkVoltage: v(564)]), parallelIndex: 0) == nil
        )
        #expect(SettingWrite(keys: Settings([.bulkVoltage: v(564)]), parallelIndex: 0) == nil)
        #expect(
            SettingWrite(keys: Settings([.bulkVoltage: v(564), .cutoffVoltage: v(480)]), parallelIndex: 0) == nil
        )
    }

    @Test("the table names each PI18 setter once and marks the three that address a unit")
    func mnemonics() {
        let fixed = SettingWrite.Kind.allCases.compactMap { kind -> String? in
            if case .fixed(let m) = kind.mnemonic { m } else { nil }
        }
        #expect(fixed == ["PBT", "PSDV", "BUCD", "MCHGV", "MUCHGC", "MCHGC", "POP", "PCP", "PSP"])
        #expect(SettingWrite.Kind.gridTie.mnemonic == .perChoice(["PDI", "PEI"]))
        #expect(
            SettingWrite.Kind.allCases.filter(\.addressesUnit) == [
                .maxUtilityChargingCurrent, .maxChargingCurrent, .chargerPriority,
            ]
        )
    }
}
