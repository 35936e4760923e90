import LVXCore
import Testing

@Suite struct SiteValidationTests {
    @Test func seedSiteValidatesClean() throws {
        let loaded = try load(Fixture.seedSite)
        #expect(loaded.descriptions == [])
        let state = try #require(loaded.state)
        #expect(state.site == "home")
        #expect(state.units.map(\.name) == ["lvx6048-1", "lvx6048-2"])
        #expect(state.units.map(\.serial.digits) == ["96142109100037", "96142408100255"])
        #expect(state.units.map(\.port) == [nil, "hidraw:/dev/hidraw1"])
        #expect(state.units.map(\.parallelIndex) == [0, 1])
        #expect(state.units.first?.location == LVXCore.SourceLocation(file: "lvx.yaml", line: 3, column: 3))
        #expect(state.stacks == [Stack(name: "main", members: ["lvx6048-1", "lvx6048-2"], location: at(6, 3))])
        #expect(
            state.applyPolicy
                == ApplyPolicy(stopUnits: ["powermon.service", "powermon2.service"], approvers: ["alice"])
        )

        let profile = try #require(state.profiles["eg4-lp4-v2"])
        #expect(profile.settings.count == 12)
        #expect(profile.settings[.bulkVoltage] == SettingValue(raw: 564))
        #expect(profile.settings[.stopChargeVoltage] == SettingValue(raw: 540))
        #expect(profile.settings[.maxChargingCurrent] == SettingValue(raw: 60))
        #expect(profile.settings[.batteryType] == SettingValue(raw: 2))
        #expect(profile.settings[.gridTie] == SettingValue(raw: 0))
        #expect(profile.settings[.solarPowerPriority] == SettingValue(raw: 1))
        #expect(
            profile.locations[.floatVoltage]
                == LVXCore.SourceLocation(file: "profiles/eg4-lp4-v2.yaml", line: 7, column: 16)
        )

        let unit = try #require(state.unit(named: "lvx6048-2"))
        #expect(state.profile(for: unit) == profile)
        #expect(state.stack(containing: unit)?.name == "main")
        #expect(state.tolerance(for: .floatVoltage, on: unit) == Tolerance(hundredths: 10))
        #expect(state.tolerance(for: .bulkVoltage, on: unit) == Tolerance(hundredths: 5))
        #expect(state.tolerance(for: .maxChargingCurrent, on: unit) == .exact)
    }

    /// The format description's own example accepts 100 A on one unit of a stack whose other unit
    /// holds the profile's 60 A: exactly the mismatch that made the field notes' stack misbehave.
    @Test func formatExampleReportsItsStackMismatch() throws {
        let loaded = try load(Fixture.formatExample)
        #expect(
            loaded.descriptions == [
                "lvx.yaml:6:3: error: units in stack 'main' must hold identical settings, but 'max_charging_current' differs (lvx6048-1: 100, lvx6048-2: 60)"
            ]
        )
        #expect(loaded.hints == ["give the units the same profile, or make their 'accept' entries agree"])
        #expect(loaded.codes == ["stack-mismatch"])
        #expect(loaded.state == nil)
    }

    @Test func formatExampleWithoutTheStackValidatesClean() throws {
        let site = Fixture.formatExample.replacingFirst("stacks:\n  main: [lvx6048-1, lvx6048-2]\n", with: "")
        let loaded = try load(site)
        #expect(loaded.descriptions == [])
        let state = try #require(loaded.state)
        let unit = try #require(state.unit(named: "lvx6048-1"))
        let drift = try #require(state.acceptedDrift(for: .maxChargingCurrent, on: unit, at: Fixture.today))
        #expect(drift.value == SettingValue(raw: 100))
        #expect(drift.reason == "set on the LCD, program 02")
        #expect(drift.until == Fixture.date("2026-12-31"))
        #expect(state.effectiveSettings(for: unit, at: Fixture.today)[.maxChargingCurrent] == SettingValue(raw: 100))
        #expect(
            state.effectiveSettings(for: unit, at: Fixture.date("2027-01-01"))[.maxChargingCurrent]
                == SettingValue(raw: 60)
        )
    }

    @Test func allProblemsAreReportedAtOnce() throws {
        let loaded = try load(
            """
            site: home
            units:
              "96142109100037": {name: lvx6048-1, profile: eg4-lp4-v2, parallel_index: 12}
              "abc": {name: lvx6048-2, profile: eg4-lp4-v2}
            apply:
              plan_lifetime: soon
            """
        )
        #expect(
            loaded.descriptions == [
                "lvx.yaml:3:76: error: 'parallel_index' must be a whole number from 0 to 9, got 12",
                "lvx.yaml:4:3: error: malformed serial 'abc'",
                "lvx.yaml:6:18: error: expected a duration like 24h, 90m or 2d for 'plan_lifetime', got 'soon'",
            ]
        )
        #expect(loaded.codes == ["out-of-range", "malformed-serial", "bad-duration"])
        #expect(loaded.state == nil)
    }

    @Test func problemsInSeveralFilesAreReportedTogetherInFileOrder() throws {
        let loaded = try load(
            Fixture.twoUnits(extra: "colour: blue"),
            profiles: ["eg4-lp4-v2": "float_voltage: abc\nbattery_type: USER"]
        )
        #expect(
            loaded.descriptions == [
                "lvx.yaml:4:1: error: unknown key 'colour'",
                "profiles/eg4-lp4-v2.yaml:1:16: error: expected a number for 'float_voltage', got 'abc'",
            ]
        )
    }

    @Test func missingSiteFileIsAnError() throws {
        let loaded = try load(nil)
        #expect(loaded.descriptions == ["error: missing 'lvx.yaml' at the repository root"])
        #expect(loaded.codes == ["missing-file"])
    }

    @Test func emptySiteFileNeedsUnits() throws {
        let loaded = try load("# nothing yet\n")
        #expect(loaded.descriptions == ["lvx.yaml:1:1: error: missing required key 'units' in lvx.yaml"])
    }

    @Test func missingUnitsKey() throws {
        let loaded = try load("site: home\nstacks: {}")
        #expect(loaded.descriptions == ["lvx.yaml:1:1: error: missing required key 'units' in lvx.yaml"])
        #expect(loaded.codes == ["missing-key"])
    }

    @Test func emptyUnitsIsOnlyAWarning() throws {
        let loaded = try load("units: {}")
        #expect(loaded.descriptions == ["lvx.yaml:1:8: warning: 'units' is empty, so lvx has nothing to manage"])
        #expect(loaded.state?.units == [])
    }

    @Test func unknownTopLevelKeySuggestsTheClosest() throws {
        let loaded = try load(Fixture.seedSite + "\ntolerance:\n  float_voltage: 0.2")
        #expect(
            loaded.descriptions == ["lvx.yaml:14:1: error: unknown key 'tolerance'; did you mean 'tolerances'?"]
        )
        #expect(loaded.hints == ["allowed here: site, units, stacks, tolerances, accept, apply"])
        #expect(loaded.codes == ["unknown-key"])
    }

    @Test func duplicateKeysAreErrors() throws {
        let loaded = try load(Fixture.seedSite + "\nsite: cabin")
        #expect(loaded.descriptions == ["lvx.yaml:14:1: error: duplicate key 'site' (first at line 1)"])
        #expect(loaded.codes == ["duplicate-key"])
    }

    @Test func wrongCollectionTypes() throws {
        let loaded = try load(
            """
            units: [96142109100037]
            stacks: [main]
            tolerances: 0.1
            accept: {unit: lvx6048-1}
            apply: []
            """
        )
        #expect(
            loaded.descriptions == [
                "lvx.yaml:1:8: error: expected a mapping for 'units', got a list",
                "lvx.yaml:2:9: error: expected a mapping for 'stacks', got a list",
                "lvx.yaml:3:13: error: expected a mapping for 'tolerances', got '0.1'",
                "lvx.yaml:4:9: error: expected a list for 'accept', got a mapping",
                "lvx.yaml:5:8: error: expected a mapping for 'apply', got a list",
            ]
        )
        #expect(Set(loaded.codes) == ["wrong-type"])
    }

    @Test func ignoredProfileFilesAreWarnedAbout() throws {
        let loaded = try load(
            Fixture.twoUnits(),
            profiles: ["eg4-lp4-v2": Fixture.seedProfile, "profiles/spare.yml": "grid_tie: enabled"]
        )
        #expect(
            loaded.descriptions == ["profiles/spare.yml:1:1: warning: 'profiles/spare.yml' is not read as a profile"]
        )
        #expect(loaded.state != nil)
    }

    @Test func profilePathsMapToNames() {
        #expect(DesiredStateLoader.profileName(forPath: "profiles/eg4-lp4-v2.yaml") == "eg4-lp4-v2")
        #expect(DesiredStateLoader.profileName(forPath: "profiles/a/b.yaml") == nil)
        #expect(DesiredStateLoader.profileName(forPath: "profiles/.yaml") == nil)
        #expect(DesiredStateLoader.profileName(forPath: "lvx.yaml") == nil)
    }

    private func at(_ line: Int, _ column: Int) -> LVXCore.SourceLocation {
        LVXCore.SourceLocation(file: "lvx.yaml", line: line, column: column)
    }
}

extension String {
    /// The string with the first occurrence of `target` replaced (tests only; LVXCore has no Foundation).
    func replacingFirst(_ target: String, with replacement: String) -> String {
        let text = Array(self)
        let pattern = Array(target)
        guard !pattern.isEmpty, pattern.count <= text.count else { return self }
        for start in 0...(text.count - pattern.count) where Array(text[start..<(start + pattern.count)]) == pattern {
            return String(text[..<start]) + replacement + String(text[(start + pattern.count)...])
        }
        return self
    }
}
