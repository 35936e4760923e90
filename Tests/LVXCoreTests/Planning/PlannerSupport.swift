@testable import LVXCore

/// Desired states and observations built in code, for the planner's table tests.
enum PlanFixture {
    static let location = SourceLocation(file: "lvx.yaml", line: 1, column: 1)
    static let today = Fixture.today

    static func v(_ raw: Int) -> SettingValue { SettingValue(raw: raw) }

    static func serial(_ text: String) -> SerialNumber {
        guard let serial = SerialNumber(text) else { fatalError("bad fixture serial \(text)") }
        return serial
    }

    static let first = serial("96142109100037")
    static let second = serial("96142408100255")

    /// The commissioning profile: USER, cut-off 48.0 = stop-discharge 48.0, stop-charge 54.0,
    /// bulk 56.4, float 54.0, 30 A utility, 60 A, solar_battery_utility, solar_first,
    /// load_battery_utility, grid tie disabled.
    static let seed = Settings([
        .batteryType: v(2), .cutoffVoltage: v(480), .stopDischargeVoltage: v(480), .stopChargeVoltage: v(540),
        .bulkVoltage: v(564), .floatVoltage: v(540), .maxUtilityChargingCurrent: v(30), .maxChargingCurrent: v(60),
        .outputSourcePriority: v(1), .chargerPriority: v(0), .solarPowerPriority: v(1), .gridTie: v(0),
    ])

    /// `settings` with `changes` applied.
    static func with(_ settings: Settings, _ changes: [SettingKey: Int]) -> Settings {
        var out = settings
        for (key, raw) in changes { out[key] = v(raw) }
        return out
    }

    static func unit(
        _ name: String,
        _ serial: SerialNumber,
        parallelIndex: Int? = nil,
        tolerances: Tolerances = Tolerances()
    ) -> DesiredUnit {
        DesiredUnit(
            serial: serial,
            name: name,
            profileName: "p",
            parallelIndex: parallelIndex,
            tolerances: tolerances,
            location: location
        )
    }

    /// A site whose units all use one profile `p`.
    static func site(
        _ units: [DesiredUnit],
        profile: Settings = seed,
        stacks: [String: [String]] = [:],
        tolerances: Tolerances = Tolerances(),
        accepts: [AcceptedDrift] = []
    ) -> DesiredState {
        DesiredState(
            units: units,
            profiles: ["p": Profile(name: "p", settings: profile)],
            stacks: stacks.keys.sorted().map { Stack(name: $0, members: stacks[$0] ?? [], location: location) },
            tolerances: tolerances,
            accepts: accepts
        )
    }

    static func observation(
        _ serial: SerialNumber,
        _ settings: Settings = seed,
        parallelIndex: Int = 0,
        port: String = "hidraw:/dev/hidraw0",
        charging: [Int]? = nil,
        utility: [Int]? = nil
    ) -> Observation {
        Observation(
            serial: serial,
            port: port,
            firmware: FirmwareVersions(main: "00123.45", slave1: "00067.89", slave2: "00000.00"),
            settings: settings,
            parallelIndex: parallelIndex,
            chargingCurrentOptions: charging,
            utilityChargingCurrentOptions: utility
        )
    }

    /// Plans `observations` (keyed by their unit's serial) against `state` on `today`.
    static func plan(
        _ state: DesiredState,
        _ observations: [(SerialNumber, Observation)],
        today: CivilDate = today
    ) -> [Planner.UnitPlan] {
        Planner(desired: state, today: today).plan(Dictionary(uniqueKeysWithValues: observations))
    }

    /// The cross-key violations that appear after some prefix of `writes` applied to `live` and
    /// that `live` did not already have, as `after N writes: message`.
    static func newViolations(_ writes: [SettingWrite], from live: Settings) -> [String] {
        let baseline = Set(SettingRules.violations(in: live).map(\.message))
        var state = live
        var found: [String] = []
        for (i, write) in writes.enumerated() {
            for (key, value) in write.expected.entries { state[key] = value }
            for violation in SettingRules.violations(in: state)
            where violation.keys.count > 1 && !baseline.contains(violation.message) {
                found.append("after \(i + 1) writes: \(violation.message)")
            }
        }
        return found
    }
}
