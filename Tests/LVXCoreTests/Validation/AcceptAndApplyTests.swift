import LVXCore
import Testing

@Suite struct AcceptValidationTests {
    private let hundredAmps = "max_charging_current: 100"

    private func site(until: String) -> String {
        Fixture.twoUnits(
            extra: """
                accept:
                  - {unit: lvx6048-1, key: max_charging_current, value: 100, reason: "set on the LCD", until: \(until)}
                  - {unit: lvx6048-2, key: max_charging_current, value: 100, reason: "set on the LCD", until: \(until)}
                """
        )
    }

    @Test func acceptCoversUpToAndIncludingItsLastDay() throws {
        let loaded = try load(
            site(until: "2026-12-31"),
            profiles: ["eg4-lp4-v2": hundredAmps],
            today: Fixture.date("2026-12-31")
        )
        #expect(loaded.descriptions == [])
        let state = try #require(loaded.state)
        #expect(state.accepts.map(\.unitName) == ["lvx6048-1", "lvx6048-2"])
        #expect(state.accepts.allSatisfy { $0.applies(on: Fixture.date("2026-12-31")) })
    }

    @Test func expiredAcceptIsAWarningAndNoLongerCovers() throws {
        let loaded = try load(
            site(until: "2026-12-31"),
            profiles: ["eg4-lp4-v2": hundredAmps],
            today: Fixture.date("2027-01-01")
        )
        #expect(
            loaded.descriptions == [
                "lvx.yaml:5:95: warning: accept entry for unit 'lvx6048-1' and key 'max_charging_current' expired on 2026-12-31 and no longer applies",
                "lvx.yaml:6:95: warning: accept entry for unit 'lvx6048-2' and key 'max_charging_current' expired on 2026-12-31 and no longer applies",
                "profiles/eg4-lp4-v2.yaml:1:23: error: 'max_charging_current' = 100 must be one of 10,20,30,40,50,60,70,80",
            ]
        )
        #expect(loaded.hints.first == "extend 'until' or remove the entry")
        #expect(loaded.codes == ["expired-accept", "expired-accept", "not-settable"])
    }

    @Test func expiredAcceptForASettableValueIsOnlyAWarning() throws {
        let loaded = try load(site(until: "2026-01-31"))
        #expect(loaded.diagnostics.map(\.severity) == [.warning, .warning])
        let state = try #require(loaded.state)
        let unit = try #require(state.unit(named: "lvx6048-1"))
        #expect(state.acceptedDrift(for: .maxChargingCurrent, on: unit, at: Fixture.today) == nil)
        #expect(state.effectiveSettings(for: unit, at: Fixture.today)[.maxChargingCurrent] == SettingValue(raw: 60))
    }

    @Test func missingKeysInAnEntry() throws {
        let loaded = try load(
            Fixture.twoUnits(
                extra: """
                    accept:
                      - unit: lvx6048-1
                        key: max_charging_current
                        value: 100
                      - {reasn: "typo"}
                    """
            )
        )
        #expect(
            loaded.descriptions == [
                "lvx.yaml:5:5: error: missing required key 'reason' in an accept entry",
                "lvx.yaml:8:5: error: missing required key 'unit' in an accept entry",
                "lvx.yaml:8:5: error: missing required key 'key' in an accept entry",
                "lvx.yaml:8:5: error: missing required key 'value' in an accept entry",
                "lvx.yaml:8:5: error: missing required key 'reason' in an accept entry",
                "lvx.yaml:8:6: error: unknown key 'reasn'; did you mean 'reason'?",
            ]
        )
        #expect(loaded.hints.first == "say why the drift is accepted, such as reason: \"set on the LCD, program 02\"")
    }

    @Test func emptyReasonIsRejected() throws {
        let loaded = try load(
            Fixture.twoUnits(
                extra: """
                    accept:
                      - {unit: lvx6048-1, key: max_charging_current, value: 60, reason: ""}
                    """
            )
        )
        #expect(loaded.descriptions == ["lvx.yaml:5:69: error: 'reason' must not be empty"])
        #expect(loaded.hints == ["say why the drift is accepted"])
    }

    @Test func unknownUnitAndKey() throws {
        let loaded = try load(
            Fixture.twoUnits(
                extra: """
                    accept:
                      - {unit: lvx6048-3, key: max_charging_current, value: 100, reason: "x"}
                      - {unit: lvx6048-1, key: max_charge_current, value: 100, reason: "x"}
                      - {unit: 96142408100255, key: grid_tie, value: enabled, reason: "x"}
                    """
            )
        )
        #expect(
            loaded.descriptions == [
                "lvx.yaml:5:12: error: unknown unit 'lvx6048-3' in an accept entry; did you mean 'lvx6048-1'?",
                "lvx.yaml:6:28: error: unknown setting 'max_charge_current' in an accept entry; did you mean 'max_charging_current'?",
                "lvx.yaml:7:12: error: unknown unit '96142408100255' in an accept entry",
            ]
        )
        #expect(loaded.hints.last == "name the unit rather than its serial: 'lvx6048-2'")
        #expect(loaded.codes == ["unknown-unit", "unknown-setting", "unknown-unit"])
    }

    @Test func valuesMustHaveTheKeysFormatButNeedNotBeSettable() throws {
        let loaded = try load(
            Fixture.twoUnits(
                extra: """
                    accept:
                      - {unit: lvx6048-1, key: max_charging_current, value: lots, reason: "x"}
                      - {unit: lvx6048-1, key: float_voltage, value: 54.05, reason: "x"}
                      - {unit: lvx6048-1, key: battery_type, value: LI, reason: "x"}
                      - {unit: lvx6048-2, key: max_charging_current, value: 120, reason: "x"}
                    """
            )
        )
        #expect(
            loaded.descriptions == [
                "lvx.yaml:5:57: error: expected a number for 'value', got 'lots'",
                "lvx.yaml:6:50: error: 'value' = 54.05 has more than one decimal, but the setter has 0.1 V resolution",
                "lvx.yaml:7:49: error: 'value' = 'LI' is not one of AGM, FLOODED, USER",
            ]
        )
    }

    @Test func duplicateEntryForOneUnitAndKey() throws {
        let loaded = try load(
            Fixture.twoUnits(
                extra: """
                    accept:
                      - {unit: lvx6048-1, key: max_charging_current, value: 100, reason: "x"}
                      - {unit: lvx6048-1, key: max_charging_current, value: 90, reason: "y"}
                    """
            )
        )
        #expect(
            loaded.descriptions == [
                "lvx.yaml:6:5: error: duplicate accept entry for unit 'lvx6048-1' and key 'max_charging_current' (first at line 5)"
            ]
        )
        #expect(loaded.codes == ["duplicate-accept"])
    }

    @Test(arguments: ["2026-13-01", "2026-02-29", "31.12.2026", "tomorrow"])
    func badUntilDates(text: String) throws {
        let loaded = try load(
            Fixture.twoUnits(
                extra: """
                    accept:
                      - {unit: lvx6048-1, key: max_charging_current, value: 60, reason: "x", until: \(text)}
                    """
            )
        )
        #expect(loaded.descriptions == ["lvx.yaml:5:81: error: expected a date YYYY-MM-DD for 'until', got '\(text)'"])
        #expect(loaded.codes == ["bad-date"])
    }
}

@Suite struct ApplyPolicyValidationTests {
    private func loadApply(_ body: String) throws -> Loaded {
        try load(Fixture.twoUnits(extra: "apply:\n" + body))
    }

    @Test func defaultsWhenAbsent() throws {
        let state = try #require(try load(Fixture.twoUnits()).state)
        #expect(state.applyPolicy == ApplyPolicy())
        #expect(state.applyPolicy.planLifetimeSeconds == 86_400)
        #expect(state.applyPolicy.autoApplyApproved == false)
        #expect(state.applyPolicy.permitsApprover("anyone"))
    }

    @Test func approversRestrictWhoMayApprove() throws {
        let policy = try #require(try loadApply("  approvers: [alice, bob]").state?.applyPolicy)
        #expect(policy.permitsApprover("alice"))
        #expect(!policy.permitsApprover("mallory"))
    }

    @Test(arguments: [("24h", 86_400), ("90m", 5_400), ("2d", 172_800), ("1d12h", 129_600), ("45s", 45)])
    func planLifetimes(text: String, seconds: Int64) throws {
        let loaded = try loadApply("  plan_lifetime: \(text)\n  auto_apply_approved: true")
        #expect(loaded.descriptions == [])
        #expect(loaded.state?.applyPolicy.planLifetimeSeconds == seconds)
        #expect(loaded.state?.applyPolicy.autoApplyApproved == true)
    }

    @Test func planLifetimeMustBePositiveAndHaveAUnit() throws {
        let loaded = try loadApply("  plan_lifetime: 0h")
        #expect(loaded.descriptions == ["lvx.yaml:5:18: error: 'plan_lifetime' must be positive, got '0h'"])
        #expect(loaded.hints == ["units: d, h, m, s; the default is 24h"])
        let bare = try loadApply("  plan_lifetime: 24")
        #expect(
            bare.descriptions == [
                "lvx.yaml:5:18: error: expected a duration like 24h, 90m or 2d for 'plan_lifetime', got '24'"
            ]
        )
        #expect(bare.codes == ["bad-duration"])
    }

    @Test func stopUnitsMustBeSystemdUnitNames() throws {
        let loaded = try loadApply(
            "  stop_units: [powermon, \"power mon.service\", lvx-links.service, powermon.socket, powermon.socket]"
        )
        #expect(
            loaded.descriptions == [
                "lvx.yaml:5:16: error: 'powermon' is not a systemd unit name",
                "lvx.yaml:5:26: error: 'power mon.service' is not a systemd unit name",
                "lvx.yaml:5:83: warning: 'powermon.socket' is listed twice in 'stop_units'",
            ]
        )
        #expect(
            loaded.hints == [
                "write the full name with its type, such as 'powermon.service' (.service, .socket, .device, ...)",
                "unit names hold only letters, digits and ':', '-', '_', '.', '\\', '@'",
                nil,
            ]
        )
        #expect(loaded.codes == ["bad-systemd-unit", "bad-systemd-unit", "duplicate-entry"])
    }

    @Test func typesOfApplyValues() throws {
        let loaded = try loadApply(
            "  stop_units: powermon.service\n  approvers: [[alice]]\n  auto_apply_approved: yes\n  aprovers: [bob]"
        )
        #expect(
            loaded.descriptions == [
                "lvx.yaml:5:15: error: expected a list for 'stop_units', got 'powermon.service'",
                "lvx.yaml:6:15: error: expected a string for an entry of 'approvers', got a list",
                "lvx.yaml:7:24: error: expected true or false for 'auto_apply_approved', got 'yes'",
                "lvx.yaml:8:3: error: unknown key 'aprovers'; did you mean 'approvers'?",
            ]
        )
        #expect(loaded.hints.first == "write a list, such as [powermon.service]")
    }
}

@Suite struct ToleranceValidationTests {
    @Test func siteAndUnitTolerancesParseInHundredths() throws {
        let loaded = try load(
            """
            units:
              "96142109100037": {name: lvx6048-1, profile: eg4-lp4-v2, tolerances: {bulk_voltage: 0.25}}
              "96142408100255": {name: lvx6048-2, profile: eg4-lp4-v2}
            tolerances:
              float_voltage: 0.1
              bulk_voltage: 1
              max_charging_current: 10
            """
        )
        #expect(loaded.descriptions == [])
        let state = try #require(loaded.state)
        #expect(state.tolerances[.floatVoltage] == Tolerance(hundredths: 10))
        #expect(state.tolerances[.maxChargingCurrent] == Tolerance(hundredths: 1_000))
        let first = try #require(state.unit(named: "lvx6048-1"))
        let second = try #require(state.unit(named: "lvx6048-2"))
        #expect(state.tolerance(for: .bulkVoltage, on: first) == Tolerance(hundredths: 25))
        #expect(state.tolerance(for: .bulkVoltage, on: second) == Tolerance(hundredths: 100))
        #expect(state.tolerance(for: .cutoffVoltage, on: second) == Tolerance(hundredths: 5))
        #expect(state.tolerance(for: .maxUtilityChargingCurrent, on: second) == .exact)
        #expect(state.tolerance(for: .gridTie, on: second) == .exact)
    }

    @Test func badTolerances() throws {
        let loaded = try load(
            Fixture.twoUnits(
                extra: """
                    tolerances:
                      float_voltage: -0.1
                      battery_type: 1
                      flaot_voltage: 0.1
                      bulk_voltage: 0.125
                      cutoff_voltage: abc
                    """
            )
        )
        #expect(
            loaded.descriptions == [
                "lvx.yaml:5:18: error: the tolerance of 'float_voltage' must not be negative, got -0.1",
                "lvx.yaml:6:3: error: 'battery_type' cannot have a tolerance; only voltage and current keys can",
                "lvx.yaml:7:3: error: unknown key 'flaot_voltage'; did you mean 'float_voltage'?",
                "lvx.yaml:8:17: error: the tolerance of 'bulk_voltage' must be a multiple of 0.01 V, got 0.125",
                "lvx.yaml:9:19: error: expected a number for the tolerance of 'cutoff_voltage', got 'abc'",
            ]
        )
        #expect(
            loaded.codes == [
                "negative-tolerance", "tolerance-not-allowed", "unknown-key", "bad-precision", "wrong-type",
            ]
        )
    }
}
