import LVXCore
import Testing

@Suite struct ToleranceTests {
    private func v(_ raw: Int) -> SettingValue { SettingValue(raw: raw) }

    @Test func standardToleranceIsHalfATenthForVoltagesAndExactOtherwise() {
        #expect(Tolerance.standard(for: .floatVoltage) == Tolerance(hundredths: 5))
        #expect(Tolerance.standard(for: .maxChargingCurrent) == .exact)
        #expect(Tolerance.standard(for: .batteryType) == .exact)
        // Live voltages move in 0.1 V steps, so 0.05 V admits only equality.
        #expect(Tolerance.standard(for: .floatVoltage).allows(v(540), desired: v(540), for: .floatVoltage))
        #expect(!Tolerance.standard(for: .floatVoltage).allows(v(541), desired: v(540), for: .floatVoltage))
    }

    @Test func tenthOfAVoltAdmitsOneStepEitherWay() {
        let tenth = Tolerance(hundredths: 10)
        #expect(tenth.allows(v(541), desired: v(540), for: .floatVoltage))
        #expect(tenth.allows(v(539), desired: v(540), for: .floatVoltage))
        #expect(!tenth.allows(v(542), desired: v(540), for: .floatVoltage))
    }

    @Test func currentsAreInWholeAmperes() {
        let tenAmps = Tolerance(hundredths: 1_000)
        #expect(tenAmps.allows(v(70), desired: v(60), for: .maxChargingCurrent))
        #expect(!tenAmps.allows(v(71), desired: v(60), for: .maxChargingCurrent))
        #expect(!Tolerance(hundredths: 50).allows(v(61), desired: v(60), for: .maxChargingCurrent))
    }

    @Test func fullStopChargeMatchesOnlyExactly() {
        let wide = Tolerance(hundredths: 10_000)
        #expect(wide.allows(v(0), desired: v(0), for: .stopChargeVoltage))
        #expect(!wide.allows(v(5), desired: v(0), for: .stopChargeVoltage))
        #expect(wide.allows(v(500), desired: v(540), for: .stopChargeVoltage))
    }

    @Test func choicesIgnoreTolerance() {
        #expect(!Tolerance(hundredths: 100).allows(v(1), desired: v(2), for: .batteryType))
        #expect(!Tolerance.isAllowed(for: .gridTie))
        #expect(Tolerance.isAllowed(for: .maxUtilityChargingCurrent))
    }

    @Test func formatting() {
        #expect(Tolerance(hundredths: 5).formatted(for: .floatVoltage) == "0.05 V")
        #expect(Tolerance(hundredths: 10).formatted(for: .floatVoltage) == "0.1 V")
        #expect(Tolerance(hundredths: 125).description == "1.25")
        #expect(Tolerance(hundredths: 200).formatted(for: .maxChargingCurrent) == "2 A")
        #expect(Tolerance.exact.formatted(for: .gridTie) == "exact")
        #expect(Tolerance(hundredths: -3) == .exact)
    }
}
