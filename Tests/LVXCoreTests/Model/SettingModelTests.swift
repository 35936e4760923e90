import LVXCore
import Testing

@Suite struct SettingFormattingTests {
    @Test func voltagesFormatAsVoltsWithOneDecimal() {
        #expect(SettingKey.floatVoltage.format(SettingValue(raw: 540)) == "54.0")
        #expect(SettingKey.bulkVoltage.format(SettingValue(raw: 564)) == "56.4")
        #expect(SettingKey.cutoffVoltage.format(SettingValue(raw: 5)) == "0.5")
        #expect(SettingKey.cutoffVoltage.format(SettingValue(raw: -5)) == "-0.5")
        #expect(SettingKey.stopChargeVoltage.format(SettingValue(raw: 0)) == "0.0")
    }

    @Test func currentsAndChoices() {
        #expect(SettingKey.maxChargingCurrent.format(SettingValue(raw: 100)) == "100")
        #expect(SettingKey.batteryType.format(SettingValue(raw: 2)) == "USER")
        #expect(SettingKey.gridTie.format(SettingValue(raw: 1)) == "enabled")
        #expect(SettingKey.gridTie.format(SettingValue(raw: 0)) == "disabled")
        #expect(SettingKey.chargerPriority.format(SettingValue(raw: 7)) == "unknown(7)")
    }

    @Test func choiceCodesAreTheWireIndexes() {
        #expect(SettingKey.batteryType.choiceCode(named: "AGM") == 0)
        #expect(SettingKey.outputSourcePriority.choiceCode(named: "solar_battery_utility") == 1)
        #expect(SettingKey.solarPowerPriority.choiceCode(named: "battery_load_utility_ac") == 0)
        #expect(SettingKey.gridTie.choiceCode(named: "enabled") == 1)
        #expect(SettingKey.batteryType.choiceCode(named: "user") == nil)
        #expect(SettingKey.floatVoltage.choiceCode(named: "USER") == nil)
    }

    @Test func settableProblemsInTheSeedsWords() {
        #expect(
            SettingKey.maxChargingCurrent.settableProblem(SettingValue(raw: 100))
                == "max_charging_current = 100 must be one of 10,20,30,40,50,60,70,80"
        )
        #expect(SettingKey.maxUtilityChargingCurrent.settableProblem(SettingValue(raw: 2)) == nil)
        #expect(SettingKey.maxUtilityChargingCurrent.settableProblem(SettingValue(raw: 5)) != nil)
        #expect(
            SettingKey.cutoffVoltage.settableProblem(SettingValue(raw: 399))
                == "cutoff_voltage = 39.9 out of range [40.0, 48.0]"
        )
        #expect(SettingKey.stopChargeVoltage.settableProblem(SettingValue(raw: 0)) == nil)
        #expect(SettingKey.stopDischargeVoltage.settableProblem(SettingValue(raw: 0)) != nil)
        #expect(SettingKey.bulkVoltage.settableProblem(SettingValue(raw: 584)) == nil)
        #expect(
            SettingKey.bulkVoltage.settableProblem(SettingValue(raw: 585))
                == "bulk_voltage = 58.5 out of range [48.0, 58.4]"
        )
        #expect(
            SettingKey.batteryType.settableProblem(SettingValue(raw: 3))
                == "battery_type = unknown(3) not in [AGM, FLOODED, USER]"
        )
    }

    @Test func keysAreInSafeWriteOrder() {
        #expect(SettingKey.allCases.first == .batteryType)
        #expect(SettingKey.allCases.last == .gridTie)
        #expect(SettingKey.cutoffVoltage < SettingKey.stopDischargeVoltage)
        #expect(SettingKey.allCases.filter(\.needsUserBatteryType).count == 5)
    }
}

@Suite struct SettingRulesTests {
    private func settings(_ values: [SettingKey: Int]) -> Settings {
        Settings(values.mapValues(SettingValue.init(raw:)))
    }

    @Test func cutoffEqualToStopDischargeIsAllowed() {
        #expect(SettingRules.violations(in: settings([.cutoffVoltage: 480, .stopDischargeVoltage: 480])) == [])
    }

    @Test func cutoffAboveStopDischargeIsNot() {
        let found = SettingRules.violations(in: settings([.cutoffVoltage: 470, .stopDischargeVoltage: 460]))
        #expect(found.map(\.message) == ["cutoff_voltage (47.0) must be <= stop_discharge_voltage (46.0)"])
        #expect(found.map(\.keys) == [[.cutoffVoltage, .stopDischargeVoltage]])
    }

    @Test func floatAboveBulkIsNot() {
        #expect(SettingRules.violations(in: settings([.floatVoltage: 540, .bulkVoltage: 540])) == [])
        let found = SettingRules.violations(in: settings([.floatVoltage: 541, .bulkVoltage: 540]))
        #expect(found.map(\.message) == ["float_voltage (54.1) must be <= bulk_voltage (54.0)"])
    }

    @Test func stopChargeAboveFloatIsNotButFullIs() {
        #expect(SettingRules.violations(in: settings([.stopChargeVoltage: 540, .floatVoltage: 540])) == [])
        #expect(SettingRules.violations(in: settings([.stopChargeVoltage: 0, .floatVoltage: 540])) == [])
        let found = SettingRules.violations(in: settings([.stopChargeVoltage: 550, .floatVoltage: 540]))
        #expect(found.map(\.keys) == [[.stopChargeVoltage, .floatVoltage]])
    }

    @Test func rangeProblemsNameOneKey() {
        let found = SettingRules.violations(in: settings([.maxChargingCurrent: 100, .gridTie: 1]))
        #expect(found.map(\.keys) == [[.maxChargingCurrent]])
    }

    @Test func seedProfileHasNoViolations() throws {
        let loaded = try load(Fixture.twoUnits())
        let profile = try #require(loaded.state?.profiles["eg4-lp4-v2"])
        #expect(SettingRules.violations(in: profile.settings) == [])
        #expect(profile.settings.canonicalText.hasPrefix("battery_type=2;cutoff_voltage=480;"))
    }
}
