import Testing

@testable import LVXCore

private typealias F = PlanFixture

/// One refusal of the planner: the site, what was read, and what each planned unit gets.
struct RefusalCase: Sendable, CustomTestStringConvertible {
    var label: String
    var state: DesiredState
    var observations: [(SerialNumber, Observation)]
    /// Per planned unit, in file order: its name, its typed problems and their text.
    var expected: [(unit: String, issues: [PlanProblem], messages: [String])]

    var testDescription: String { label }

    static let all: [RefusalCase] = [
        RefusalCase(
            label: "the port answers with another serial",
            state: F.site([F.unit("lvx6048-1", F.first)]),
            observations: [(F.first, F.observation(F.second, F.with(F.seed, [.maxChargingCurrent: 50])))],
            expected: [
                (
                    "lvx6048-1",
                    [
                        .serialMismatch(
                            unit: "lvx6048-1",
                            port: "hidraw:/dev/hidraw0",
                            answered: F.second,
                            expected: F.first
                        )
                    ],
                    [
                        "port hidraw:/dev/hidraw0 answers as serial 96142408100255, not 96142109100037; fix `port:` for 'lvx6048-1' in lvx.yaml"
                    ]
                )
            ]
        ),
        RefusalCase(
            label: "GS-27 differs from parallel_index",
            state: F.site([F.unit("lvx6048-1", F.first, parallelIndex: 1)]),
            observations: [(F.first, F.observation(F.first, F.with(F.seed, [.maxChargingCurrent: 50])))],
            expected: [
                (
                    "lvx6048-1",
                    [.parallelIndexMismatch(unit: "lvx6048-1", reported: 0, configured: 1)],
                    [
                        "'lvx6048-1' reports parallel index 0 but lvx.yaml says 1; the setters' machine digit would address another unit"
                    ]
                )
            ]
        ),
        RefusalCase(
            label: "voltage writes while battery_type stays AGM",
            state: F.site([F.unit("lvx6048-1", F.first)], profile: Settings([.bulkVoltage: F.v(570)])),
            observations: [(F.first, F.observation(F.first, F.with(F.seed, [.batteryType: 0])))],
            expected: [
                (
                    "lvx6048-1",
                    [.voltageWritesNeedUserBatteryType(unit: "lvx6048-1", batteryType: F.v(0))],
                    [
                        "'lvx6048-1' would get voltage writes while battery_type is AGM; the inverter only honours them with battery_type USER"
                    ]
                )
            ]
        ),
        RefusalCase(
            label: "the unit would end with float above bulk",
            state: F.site([F.unit("lvx6048-1", F.first)], profile: Settings([.floatVoltage: F.v(570)])),
            observations: [(F.first, F.observation(F.first))],
            expected: [
                (
                    "lvx6048-1",
                    [
                        .wouldEndWith(
                            unit: "lvx6048-1",
                            SettingRules.Violation(
                                keys: [.floatVoltage, .bulkVoltage],
                                message: "float_voltage (57.0) must be <= bulk_voltage (56.4)"
                            )
                        )
                    ],
                    ["'lvx6048-1' would end with float_voltage (57.0) must be <= bulk_voltage (56.4)"]
                )
            ]
        ),
        RefusalCase(
            label: "MCHGCR does not offer the charging current",
            state: F.site([F.unit("lvx6048-1", F.first)], profile: F.with(F.seed, [.maxChargingCurrent: 80])),
            observations: [(F.first, F.observation(F.first, charging: [10, 20, 30, 40, 50, 60]))],
            expected: [
                (
                    "lvx6048-1",
                    [.chargingCurrentNotOffered(unit: "lvx6048-1", amps: 80, offered: [10, 20, 30, 40, 50, 60])],
                    [
                        "'lvx6048-1' does not accept max_charging_current 80 A over PI18 (MCHGCR offers 10,20,30,40,50,60); set it on the LCD and add an accept entry"
                    ]
                )
            ]
        ),
        RefusalCase(
            label: "MUCHGCR does not offer the utility charging current",
            state: F.site([F.unit("lvx6048-1", F.first)], profile: F.with(F.seed, [.maxUtilityChargingCurrent: 40])),
            observations: [(F.first, F.observation(F.first, utility: [2, 10, 20, 30]))],
            expected: [
                (
                    "lvx6048-1",
                    [.utilityChargingCurrentNotOffered(unit: "lvx6048-1", amps: 40, offered: [2, 10, 20, 30])],
                    [
                        "'lvx6048-1' does not accept max_utility_charging_current 40 A over PI18 (MUCHGCR offers 2,10,20,30)"
                    ]
                )
            ]
        ),
        RefusalCase(
            label: "a stack member that was not read blocks the others",
            state: F.site(
                [F.unit("lvx6048-1", F.first), F.unit("lvx6048-2", F.second)],
                stacks: ["main": ["lvx6048-1", "lvx6048-2"]]
            ),
            observations: [(F.first, F.observation(F.first, F.with(F.seed, [.maxChargingCurrent: 50])))],
            expected: [
                (
                    "lvx6048-1",
                    [.stackBlocked(stack: "main", by: [.notRead("lvx6048-2")])],
                    ["stack 'main' is not planned because lvx6048-2 (not read) cannot be"]
                )
            ]
        ),
        RefusalCase(
            label: "a stack member that cannot be planned blocks the others",
            state: F.site(
                [F.unit("lvx6048-1", F.first), F.unit("lvx6048-2", F.second, parallelIndex: 1)],
                stacks: ["main": ["lvx6048-1", "lvx6048-2"]]
            ),
            observations: [
                (F.first, F.observation(F.first, F.with(F.seed, [.maxChargingCurrent: 50]))),
                (F.second, F.observation(F.second, parallelIndex: 2)),
            ],
            expected: [
                (
                    "lvx6048-1",
                    [.stackBlocked(stack: "main", by: [.unplannable("lvx6048-2")])],
                    ["stack 'main' is not planned because lvx6048-2 cannot be"]
                ),
                (
                    "lvx6048-2",
                    [.parallelIndexMismatch(unit: "lvx6048-2", reported: 2, configured: 1)],
                    [
                        "'lvx6048-2' reports parallel index 2 but lvx.yaml says 1; the setters' machine digit would address another unit"
                    ]
                ),
            ]
        ),
    ]
}

@Suite("planner") struct PlannerTests {
    @Test("every refusal has its exact message and leaves the unit without writes", arguments: RefusalCase.all)
    func refusals(_ c: RefusalCase) {
        let plans = F.plan(c.state, c.observations)
        #expect(plans.map(\.unit.name) == c.expected.map(\.unit))
        for (plan, expected) in zip(plans, c.expected) {
            #expect(plan.issues == expected.issues)
            #expect(plan.problems == expected.messages)
            #expect(plan.issues.map(\.description) == expected.messages)
            #expect(plan.writes == [])
        }
    }

    @Test("voltage writes pass when the same plan sets battery_type USER first")
    func userBatteryTypeInTheSamePlan() throws {
        let state = F.site(
            [F.unit("lvx6048-1", F.first)],
            profile: Settings([.batteryType: F.v(2), .bulkVoltage: F.v(570)])
        )
        let plan = try #require(
            F.plan(state, [(F.first, F.observation(F.first, F.with(F.seed, [.batteryType: 0])))]).first
        )
        #expect(plan.issues == [])
        #expect(plan.writes == [.batteryType(F.v(2)), .chargeVoltages(bulk: F.v(570), float: F.v(540))])
    }

    @Test("a current the options list offers is planned")
    func offeredCurrents() throws {
        let state = F.site(
            [F.unit("lvx6048-1", F.first)],
            profile: F.with(F.seed, [.maxChargingCurrent: 80, .maxUtilityChargingCurrent: 40])
        )
        let observation = F.observation(F.first, charging: [60, 80], utility: [30, 40])
        let plan = try #require(F.plan(state, [(F.first, observation)]).first)
        #expect(plan.issues == [])
        #expect(
            plan.writes == [
                .maxUtilityChargingCurrent(F.v(40), parallelIndex: 0), .maxChargingCurrent(F.v(80), parallelIndex: 0),
            ]
        )
    }

    struct ToleranceCase: Sendable, CustomTestStringConvertible {
        var label: String
        var site: Tolerances = Tolerances()
        var unit: Tolerances = Tolerances()
        var key: SettingKey
        var live: Int
        /// `nil` when the key must be within tolerance.
        var write: SettingWrite?
        var testDescription: String { label }
    }

    static let toleranceCases: [ToleranceCase] = [
        ToleranceCase(
            label: "float 0.1 V above with a 0.1 V tolerance is allowed",
            site: Tolerances([.floatVoltage: Tolerance(hundredths: 10)]),
            key: .floatVoltage,
            live: 541
        ),
        ToleranceCase(
            label: "bulk 0.1 V below with a 0.1 V tolerance is allowed",
            site: Tolerances([.bulkVoltage: Tolerance(hundredths: 10)]),
            key: .bulkVoltage,
            live: 563
        ),
        ToleranceCase(
            label: "float 0.2 V above with a 0.1 V tolerance has drifted",
            site: Tolerances([.floatVoltage: Tolerance(hundredths: 10)]),
            key: .floatVoltage,
            live: 542,
            write: .chargeVoltages(bulk: SettingValue(raw: 564), float: SettingValue(raw: 540))
        ),
        ToleranceCase(
            label: "bulk 0.2 V below with a 0.1 V tolerance has drifted",
            site: Tolerances([.bulkVoltage: Tolerance(hundredths: 10)]),
            key: .bulkVoltage,
            live: 562,
            write: .chargeVoltages(bulk: SettingValue(raw: 564), float: SettingValue(raw: 540))
        ),
        ToleranceCase(
            label: "the standard 0.05 V lets no tenth through",
            key: .bulkVoltage,
            live: 565,
            write: .chargeVoltages(bulk: SettingValue(raw: 564), float: SettingValue(raw: 540))
        ),
        ToleranceCase(
            label: "the unit's 0.2 V tolerance takes precedence over the site's 0.1 V",
            site: Tolerances([.floatVoltage: Tolerance(hundredths: 10)]),
            unit: Tolerances([.floatVoltage: Tolerance(hundredths: 20)]),
            key: .floatVoltage,
            live: 542
        ),
        ToleranceCase(
            label: "just beyond the unit's 0.2 V tolerance has drifted",
            site: Tolerances([.floatVoltage: Tolerance(hundredths: 30)]),
            unit: Tolerances([.floatVoltage: Tolerance(hundredths: 20)]),
            key: .floatVoltage,
            live: 543,
            write: .chargeVoltages(bulk: SettingValue(raw: 564), float: SettingValue(raw: 540))
        ),
        ToleranceCase(
            label: "a current exactly 10 A off with a 10 A tolerance is allowed",
            site: Tolerances([.maxChargingCurrent: Tolerance(hundredths: 1000)]),
            key: .maxChargingCurrent,
            live: 70
        ),
        ToleranceCase(
            label: "a current 20 A off with a 10 A tolerance has drifted",
            site: Tolerances([.maxChargingCurrent: Tolerance(hundredths: 1000)]),
            key: .maxChargingCurrent,
            live: 80,
            write: .maxChargingCurrent(SettingValue(raw: 60), parallelIndex: 0)
        ),
        ToleranceCase(
            label: "stop-charge 1 V off with a 1 V tolerance is allowed",
            site: Tolerances([.stopChargeVoltage: Tolerance(hundredths: 100)]),
            key: .stopChargeVoltage,
            live: 530
        ),
        ToleranceCase(
            label: "stop-charge 'full' (0) is never within a tolerance of a voltage",
            site: Tolerances([.stopChargeVoltage: Tolerance(hundredths: 10_000)]),
            key: .stopChargeVoltage,
            live: 0,
            write: .stopVoltages(stopDischarge: SettingValue(raw: 480), stopCharge: SettingValue(raw: 540))
        ),
    ]

    @Test(
        "tolerance edges: exactly at the tolerance is allowed, one step beyond has drifted",
        arguments: toleranceCases
    )
    func toleranceEdges(_ c: ToleranceCase) throws {
        let state = F.site([F.unit("lvx6048-1", F.first, tolerances: c.unit)], tolerances: c.site)
        let live = F.with(F.seed, [c.key: c.live])
        let plan = try #require(F.plan(state, [(F.first, F.observation(F.first, live))]).first)
        let drift = try #require(plan.drift.first { $0.key == c.key })
        #expect(plan.issues == [])
        if let write = c.write {
            #expect(drift.state == .drifted)
            #expect(plan.writes == [write])
        } else {
            #expect(drift.state == .withinTolerance(state.tolerance(for: c.key, on: plan.unit)))
            #expect(plan.writes == [])
        }
        // Every other key is in sync.
        #expect(plan.drift.filter { $0.key != c.key }.allSatisfy { $0.state == .inSync })
    }

    @Test(
        "accepted drift holds before and on its last day, and is planned away the day after",
        arguments: [("2026-12-30", true), ("2026-12-31", true), ("2027-01-01", false)]
    )
    func acceptedDriftExpiry(_ day: String, _ accepted: Bool) throws {
        let entry = AcceptedDrift(
            unitName: "lvx6048-1",
            key: .maxChargingCurrent,
            value: F.v(100),
            reason: "set on the LCD, program 02",
            until: Fixture.date("2026-12-31"),
            location: F.location
        )
        let state = F.site([F.unit("lvx6048-1", F.first)], accepts: [entry])
        let live = F.with(F.seed, [.maxChargingCurrent: 100])
        let plan = try #require(
            F.plan(state, [(F.first, F.observation(F.first, live))], today: Fixture.date(day)).first
        )
        let drift = try #require(plan.drift.first { $0.key == .maxChargingCurrent })
        #expect(plan.issues == [])
        if accepted {
            #expect(drift.state == .accepted(entry))
            #expect(plan.writes == [])
        } else {
            #expect(drift.state == .drifted)
            #expect(plan.writes == [.maxChargingCurrent(F.v(60), parallelIndex: 0)])
        }
    }

    @Test("an accept entry covers only its own value")
    func acceptedDriftOtherValue() throws {
        let entry = AcceptedDrift(
            unitName: "lvx6048-1",
            key: .maxChargingCurrent,
            value: F.v(100),
            reason: "LCD",
            location: F.location
        )
        let state = F.site([F.unit("lvx6048-1", F.first)], accepts: [entry])
        let live = F.with(F.seed, [.maxChargingCurrent: 80])
        let plan = try #require(F.plan(state, [(F.first, F.observation(F.first, live))]).first)
        #expect(plan.drift.first { $0.key == .maxChargingCurrent }?.state == .drifted)
        #expect(plan.writes == [.maxChargingCurrent(F.v(60), parallelIndex: 0)])
    }

    @Test("the machine digit of MUCHGC, MCHGC and PCP is the observation's GS-27 parallel index")
    func machineDigit() throws {
        let state = F.site(
            [F.unit("lvx6048-1", F.first)],
            profile: F.with(F.seed, [.maxUtilityChargingCurrent: 40, .maxChargingCurrent: 80, .chargerPriority: 1])
        )
        let plan = try #require(F.plan(state, [(F.first, F.observation(F.first, parallelIndex: 3))]).first)
        #expect(plan.issues == [])
        #expect(
            plan.writes == [
                .maxUtilityChargingCurrent(F.v(40), parallelIndex: 3), .maxChargingCurrent(F.v(80), parallelIndex: 3),
                .chargerPriority(F.v(1), parallelIndex: 3),
            ]
        )
    }

    @Test("a stack member without drift gets the stack's writes as a stack member, with its own machine digit")
    func stackMemberGetsTheWrites() throws {
        let state = F.site(
            [F.unit("lvx6048-1", F.first, parallelIndex: 0), F.unit("lvx6048-2", F.second, parallelIndex: 1)],
            stacks: ["main": ["lvx6048-1", "lvx6048-2"]]
        )
        let plans = F.plan(
            state,
            [
                (F.first, F.observation(F.first, F.with(F.seed, [.maxChargingCurrent: 50]), parallelIndex: 0)),
                (F.second, F.observation(F.second, parallelIndex: 1)),
            ]
        )
        #expect(plans.map(\.unit.name) == ["lvx6048-1", "lvx6048-2"])
        let first = try #require(plans.first)
        let second = try #require(plans.last)
        #expect(first.drift.first { $0.key == .maxChargingCurrent }?.state == .drifted)
        #expect(second.drift.first { $0.key == .maxChargingCurrent }?.state == .stackMember)
        #expect(first.writes == [.maxChargingCurrent(F.v(60), parallelIndex: 0)])
        #expect(second.writes == [.maxChargingCurrent(F.v(60), parallelIndex: 1)])
        #expect(first.issues == [] && second.issues == [])
    }

    @Test("a stack in sync plans nothing")
    func stackInSync() {
        let state = F.site(
            [F.unit("lvx6048-1", F.first), F.unit("lvx6048-2", F.second)],
            stacks: ["main": ["lvx6048-1", "lvx6048-2"]]
        )
        let plans = F.plan(state, [(F.first, F.observation(F.first)), (F.second, F.observation(F.second))])
        #expect(plans.map(\.writes) == [[], []])
        #expect(plans.map(\.issues) == [[], []])
    }

    @Test("a stack member's writes are ordered safely against its own live values")
    func stackMemberOrdering() throws {
        // Raising float and stop-charge to 56.0 V: the first unit has drifted; the second is within its
        // 2 V tolerances and gets the same two writes. BUCD first would put stop-charge above float.
        let loose = Tolerances([
            .floatVoltage: Tolerance(hundredths: 200), .stopChargeVoltage: Tolerance(hundredths: 200),
        ])
        let state = F.site(
            [F.unit("lvx6048-1", F.first), F.unit("lvx6048-2", F.second, tolerances: loose)],
            profile: F.with(F.seed, [.stopChargeVoltage: 560, .floatVoltage: 560]),
            stacks: ["main": ["lvx6048-1", "lvx6048-2"]]
        )
        let plans = F.plan(state, [(F.first, F.observation(F.first)), (F.second, F.observation(F.second))])
        let second = try #require(plans.last)
        #expect(second.drift.filter { $0.state == .stackMember }.map(\.key) == [.stopChargeVoltage, .floatVoltage])
        let expected: [SettingWrite] = [
            .chargeVoltages(bulk: F.v(564), float: F.v(560)),
            .stopVoltages(stopDischarge: F.v(480), stopCharge: F.v(560)),
        ]
        #expect(plans.map(\.writes) == [expected, expected])
        #expect(F.newViolations(second.writes, from: F.seed) == [])
        #expect(!F.newViolations(expected.reversed(), from: F.seed).isEmpty)
    }
}
