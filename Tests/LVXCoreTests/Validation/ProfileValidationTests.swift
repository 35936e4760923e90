import LVXCore
import Testing

@Suite struct ProfileValidationTests {
    private let file = "profiles/eg4-lp4-v2.yaml"

    /// Loads the two-unit site with `profile` as its one profile.
    private func loadProfile(_ profile: String, site: String = Fixture.twoUnits()) throws -> Loaded {
        try load(site, profiles: ["eg4-lp4-v2": profile])
    }

    @Test func voltagesParseAsTenths() throws {
        let loaded = try loadProfile(
            "battery_type: USER\nbulk_voltage: 54\nfloat_voltage: 53.5\nstop_charge_voltage: 0"
        )
        #expect(loaded.descriptions == [])
        let settings = try #require(loaded.state?.profiles["eg4-lp4-v2"]?.settings)
        #expect(settings[.bulkVoltage] == SettingValue(raw: 540))
        #expect(settings[.floatVoltage] == SettingValue(raw: 535))
        #expect(settings[.stopChargeVoltage] == SettingValue(raw: 0))
    }

    @Test func trailingZerosAreNotExtraDecimals() throws {
        let loaded = try loadProfile("battery_type: USER\nfloat_voltage: 54.50")
        #expect(loaded.descriptions == [])
        #expect(loaded.state?.profiles["eg4-lp4-v2"]?.settings[.floatVoltage] == SettingValue(raw: 545))
    }

    @Test func voltageWithTwoDecimalsIsRejected() throws {
        let loaded = try loadProfile("battery_type: USER\nfloat_voltage: 54.05")
        #expect(
            loaded.descriptions == [
                "\(file):2:16: error: 'float_voltage' = 54.05 has more than one decimal, but the setter has 0.1 V resolution"
            ]
        )
        #expect(loaded.hints == ["use 54.0 or 54.1"])
        #expect(loaded.codes == ["bad-precision"])
    }

    @Test func fractionalCurrentIsRejected() throws {
        let loaded = try loadProfile("max_charging_current: 60.5")
        #expect(
            loaded.descriptions == [
                "\(file):1:23: error: 'max_charging_current' = 60.5 must be a whole number of amperes"
            ]
        )
    }

    @Test func textWhereANumberBelongs() throws {
        let loaded = try loadProfile("max_charging_current: sixty\nbattery_type: USER\nfloat_voltage: \"54.0\"")
        #expect(
            loaded.descriptions == [
                "\(file):1:23: error: expected a number for 'max_charging_current', got 'sixty'",
                "\(file):3:16: error: expected a number for 'float_voltage', got the string \"54.0\"",
            ]
        )
        #expect(loaded.hints == ["write whole amperes, such as 60", "remove the quotes"])
        #expect(loaded.codes == ["wrong-type", "wrong-type"])
    }

    @Test func unknownChoiceSuggestsTheClosest() throws {
        let loaded = try loadProfile(
            "battery_type: user\ncharger_priority: solar_frist\ngrid_tie: true\noutput_source_priority: grid"
        )
        #expect(
            loaded.descriptions == [
                "\(file):1:15: error: 'battery_type' = 'user' is not one of AGM, FLOODED, USER",
                "\(file):2:19: error: 'charger_priority' = 'solar_frist' is not one of solar_first, solar_and_utility, solar_only",
                "\(file):3:11: error: 'grid_tie' = 'true' is not one of disabled, enabled",
                "\(file):4:25: error: 'output_source_priority' = 'grid' is not one of solar_utility_battery, solar_battery_utility",
            ]
        )
        #expect(loaded.hints == ["did you mean 'USER'?", "did you mean 'solar_first'?", "write 'enabled'", nil])
        #expect(Set(loaded.codes) == ["unknown-choice"])
    }

    @Test func unknownKeySuggestsTheClosest() throws {
        let loaded = try loadProfile("battery_type: USER\nflaot_voltage: 54.0\nmax_current: 60")
        #expect(
            loaded.descriptions == [
                "\(file):2:1: error: unknown key 'flaot_voltage'; did you mean 'float_voltage'?",
                "\(file):3:1: error: unknown key 'max_current'",
            ]
        )
    }

    @Test func profileMustBeAMapping() throws {
        let loaded = try loadProfile("- battery_type: USER")
        #expect(loaded.descriptions == ["\(file):1:1: error: expected a mapping for profile 'eg4-lp4-v2', got a list"])
    }

    @Test func emptyProfileIsAllowed() throws {
        let loaded = try loadProfile("# nothing managed yet\n")
        #expect(loaded.descriptions == [])
        #expect(loaded.state?.profiles["eg4-lp4-v2"]?.settings.isEmpty == true)
    }

    @Test func valueMissing() throws {
        let loaded = try loadProfile("battery_type:\nmax_charging_current:")
        #expect(
            loaded.descriptions == [
                "\(file):1:14: error: expected one of AGM, FLOODED, USER for 'battery_type', got nothing",
                "\(file):2:22: error: expected a number for 'max_charging_current', got nothing",
            ]
        )
    }

    // MARK: battery type

    @Test func voltagesNeedUserBatteryType() throws {
        let loaded = try loadProfile("bulk_voltage: 56.4\nbattery_type: AGM\nfloat_voltage: 54.0\ngrid_tie: enabled")
        #expect(
            loaded.descriptions == [
                "\(file):2:15: error: voltages are only honoured when battery_type is USER, but it is 'AGM'"
            ]
        )
        #expect(loaded.hints == ["set battery_type: USER, or remove 'bulk_voltage', 'float_voltage'"])
        #expect(loaded.codes == ["voltage-needs-user-battery-type"])
    }

    @Test func voltagesWithoutBatteryTypeAreAWarning() throws {
        let loaded = try loadProfile("max_charging_current: 60\nfloat_voltage: 54.0\nbulk_voltage: 56.4")
        #expect(
            loaded.descriptions == [
                "\(file):2:16: warning: voltages are only honoured when battery_type is USER, and this profile does not set 'battery_type'"
            ]
        )
        #expect(
            loaded.hints == [
                "add battery_type: USER; until then 'float_voltage', 'bulk_voltage' depend on the inverter's live battery type"
            ]
        )
        #expect(loaded.state != nil)
    }

    @Test func otherBatteryTypesWithoutVoltagesAreFine() throws {
        let loaded = try loadProfile("battery_type: FLOODED\nmax_charging_current: 60")
        #expect(loaded.descriptions == [])
    }

    // MARK: rules

    @Test func cutoffEqualToStopDischargeIsAllowed() throws {
        let loaded = try loadProfile("battery_type: USER\ncutoff_voltage: 48.0\nstop_discharge_voltage: 48.0")
        #expect(loaded.descriptions == [])
    }

    @Test func crossKeyRulesAreReportedAtTheLaterKey() throws {
        let loaded = try loadProfile(
            """
            battery_type: USER
            float_voltage: 56.0
            stop_discharge_voltage: 47.0
            stop_charge_voltage: 57.0
            bulk_voltage: 55.0
            cutoff_voltage: 47.5
            """
        )
        #expect(
            loaded.descriptions == [
                "\(file):4:22: error: 'stop_charge_voltage' (57.0) must not be above 'float_voltage' (56.0)",
                "\(file):5:15: error: 'float_voltage' (56.0) must be <= 'bulk_voltage' (55.0)",
                "\(file):6:17: error: 'cutoff_voltage' (47.5) must be <= 'stop_discharge_voltage' (47.0)",
            ]
        )
        #expect(
            loaded.hints == [
                "lower 'stop_charge_voltage' to at most 'float_voltage', or use 0 for full",
                "lower 'float_voltage' or raise 'bulk_voltage'",
                "lower 'cutoff_voltage' or raise 'stop_discharge_voltage'",
            ]
        )
        #expect(Set(loaded.codes) == ["rule-violated"])
    }

    @Test func stopChargeZeroMeansFullAndIsAllowed() throws {
        let loaded = try loadProfile("battery_type: USER\nfloat_voltage: 54.0\nstop_charge_voltage: 0")
        #expect(loaded.descriptions == [])
    }

    @Test func outOfRangeVoltageIsNotSettable() throws {
        let loaded = try loadProfile("battery_type: USER\nbulk_voltage: 60.0\nstop_charge_voltage: 20")
        #expect(
            loaded.descriptions == [
                "\(file):2:15: error: 'bulk_voltage' = 60.0 out of range [48.0, 58.4]",
                "\(file):3:22: error: 'stop_charge_voltage' = 20.0 out of range 0 (=Full) or [48.0, 58.0]",
            ]
        )
        #expect(Set(loaded.codes) == ["not-settable"])
    }

    // MARK: values PI18 cannot write, and accept

    @Test func hundredAmpsWithoutAcceptIsAnError() throws {
        let loaded = try loadProfile("max_charging_current: 100")
        #expect(
            loaded.descriptions == [
                "\(file):1:23: error: 'max_charging_current' = 100 must be one of 10,20,30,40,50,60,70,80"
            ]
        )
        #expect(
            loaded.hints == [
                "PI18 cannot write it: set it on the inverter's LCD and add an 'accept' entry with value 100 for 'lvx6048-1', 'lvx6048-2', or choose a value PI18 can write"
            ]
        )
        #expect(loaded.codes == ["not-settable"])
        #expect(loaded.state == nil)
    }

    @Test func hundredAmpsAcceptedOnOnlyOneUnitIsAnError() throws {
        let loaded = try loadProfile(
            "max_charging_current: 100",
            site: Fixture.twoUnits(
                extra: """
                    accept:
                      - {unit: lvx6048-1, key: max_charging_current, value: 100, reason: "set on the LCD"}
                    """
            )
        )
        #expect(
            loaded.descriptions == [
                "\(file):1:23: error: 'max_charging_current' = 100 must be one of 10,20,30,40,50,60,70,80"
            ]
        )
        #expect(
            loaded.hints == [
                "PI18 cannot write it: set it on the inverter's LCD and add an 'accept' entry with value 100 for 'lvx6048-2', or choose a value PI18 can write"
            ]
        )
    }

    @Test func hundredAmpsAcceptedOnEveryUnitIsFine() throws {
        let loaded = try loadProfile(
            "max_charging_current: 100",
            site: Fixture.twoUnits(
                extra: """
                    accept:
                      - {unit: lvx6048-1, key: max_charging_current, value: 100, reason: "set on the LCD"}
                      - {unit: lvx6048-2, key: max_charging_current, value: 100, reason: "set on the LCD"}
                    """
            )
        )
        #expect(loaded.descriptions == [])
        #expect(loaded.state?.profiles["eg4-lp4-v2"]?.settings[.maxChargingCurrent] == SettingValue(raw: 100))
    }

    @Test func acceptOfADifferentValueDoesNotCover() throws {
        let loaded = try loadProfile(
            "max_charging_current: 100",
            site: Fixture.twoUnits(
                extra: """
                    accept:
                      - {unit: lvx6048-1, key: max_charging_current, value: 90, reason: "set on the LCD"}
                      - {unit: lvx6048-2, key: max_charging_current, value: 100, reason: "set on the LCD"}
                    """
            )
        )
        #expect(
            loaded.descriptions == [
                "\(file):1:23: error: 'max_charging_current' = 100 must be one of 10,20,30,40,50,60,70,80"
            ]
        )
        #expect(loaded.hints.first??.contains("for 'lvx6048-1', or") == true)
    }

    @Test func unsettableValueInAnUnusedProfileCannotBeCovered() throws {
        let loaded = try load(
            Fixture.twoUnits(),
            profiles: ["eg4-lp4-v2": Fixture.seedProfile, "spare": "max_charging_current: 100"]
        )
        #expect(
            loaded.descriptions == [
                "profiles/spare.yaml:1:23: error: 'max_charging_current' = 100 must be one of 10,20,30,40,50,60,70,80"
            ]
        )
        #expect(
            loaded.hints == [
                "no unit uses this profile, so no 'accept' entry can cover it; choose a value PI18 can write"
            ]
        )
    }
}
