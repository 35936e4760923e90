import Testing

@testable import LVXCore

private typealias F = PlanFixture

/// One ordering trap: writes given in an unsafe order, and the order that avoids the trap.
struct OrderingTrap: Sendable, CustomTestStringConvertible {
    var label: String
    var live: Settings
    var given: [SettingWrite]
    var expected: [SettingWrite]
    var testDescription: String { label }

    private static func v(_ raw: Int) -> SettingValue { SettingValue(raw: raw) }
    private static func psdv(_ cutoff: Int) -> SettingWrite { .cutoffVoltage(v(cutoff)) }
    private static func bucd(_ discharge: Int, _ charge: Int) -> SettingWrite {
        .stopVoltages(stopDischarge: v(discharge), stopCharge: v(charge))
    }
    private static func mchgv(_ bulk: Int, _ float: Int) -> SettingWrite {
        .chargeVoltages(bulk: v(bulk), float: v(float))
    }

    static let all: [OrderingTrap] = [
        OrderingTrap(
            label: "float is raised before a stop-charge above the old float",
            live: F.seed,
            given: [bucd(480, 560), mchgv(564, 560)],
            expected: [mchgv(564, 560), bucd(480, 560)]
        ),
        OrderingTrap(
            label: "stop-charge is lowered before a float below the old stop-charge",
            live: F.with(F.seed, [.stopChargeVoltage: 560, .floatVoltage: 560]),
            given: [mchgv(564, 540), bucd(480, 540)],
            expected: [bucd(480, 540), mchgv(564, 540)]
        ),
        OrderingTrap(
            label: "cut-off is lowered before stop-discharge goes below the old cut-off",
            live: F.seed,
            given: [bucd(450, 540), psdv(440)],
            expected: [psdv(440), bucd(450, 540)]
        ),
        OrderingTrap(
            label: "stop-discharge is raised before cut-off goes above the old stop-discharge",
            live: F.with(F.seed, [.cutoffVoltage: 450, .stopDischargeVoltage: 460]),
            given: [psdv(470), bucd(470, 540)],
            expected: [bucd(470, 540), psdv(470)]
        ),
        OrderingTrap(
            label: "bulk and float are raised before stop-charge goes above them",
            live: F.seed,
            given: [bucd(480, 570), mchgv(580, 570)],
            expected: [mchgv(580, 570), bucd(480, 570)]
        ),
        OrderingTrap(
            label: "stop-charge is lowered before bulk and float go below it",
            live: F.with(F.seed, [.stopChargeVoltage: 570, .bulkVoltage: 580, .floatVoltage: 570]),
            given: [mchgv(564, 540), bucd(480, 540)],
            expected: [bucd(480, 540), mchgv(564, 540)]
        ),
        OrderingTrap(
            label: "all three voltage setters reorder among themselves; the other writes keep their place",
            live: F.with(F.seed, [.batteryType: 0, .cutoffVoltage: 450, .stopDischargeVoltage: 460]),
            given: [
                .batteryType(v(2)), psdv(470), bucd(470, 570), mchgv(580, 570),
                .maxChargingCurrent(v(80), parallelIndex: 0),
            ],
            expected: [
                .batteryType(v(2)), mchgv(580, 570), bucd(470, 570), psdv(470),
                .maxChargingCurrent(v(80), parallelIndex: 0),
            ]
        ),
    ]
}

@Suite("safe write order") struct SafeOrderTests {
    @Test(
        "each ordering trap is avoided, and no intermediate state breaks a new cross-key rule",
        arguments: OrderingTrap.all
    )
    func trap(_ t: OrderingTrap) {
        // The given order really is a trap.
        #expect(!F.newViolations(t.given, from: t.live).isEmpty)
        let ordered = Planner.safelyOrdered(t.given, from: t.live)
        #expect(ordered == t.expected)
        #expect(F.newViolations(ordered, from: t.live) == [])
    }

    @Test("a safe order is kept as given")
    func safeOrderKept() {
        let writes: [SettingWrite] = [
            .cutoffVoltage(F.v(440)), .stopVoltages(stopDischarge: F.v(450), stopCharge: F.v(540)),
            .chargeVoltages(bulk: F.v(570), float: F.v(550)),
        ]
        #expect(Planner.safelyOrdered(writes, from: F.seed) == writes)
    }

    @Test("a rule the live state already breaks does not block the order")
    func baselineViolation() {
        // Live already has float above bulk; raising bulk over it is the fix, and stays first.
        let live = F.with(F.seed, [.bulkVoltage: 540, .floatVoltage: 550])
        let writes: [SettingWrite] = [
            .stopVoltages(stopDischarge: F.v(480), stopCharge: F.v(540)),
            .chargeVoltages(bulk: F.v(564), float: F.v(550)),
        ]
        #expect(Planner.safelyOrdered(writes, from: live) == writes)
    }

    @Test("the planner itself sends float before a stop-charge above the old float")
    func plannerUsesTheSafeOrder() throws {
        let state = F.site(
            [F.unit("lvx6048-1", F.first)],
            profile: F.with(F.seed, [.stopChargeVoltage: 560, .floatVoltage: 560])
        )
        let plan = try #require(F.plan(state, [(F.first, F.observation(F.first))]).first)
        #expect(
            plan.writes == [
                .chargeVoltages(bulk: F.v(564), float: F.v(560)),
                .stopVoltages(stopDischarge: F.v(480), stopCharge: F.v(560)),
            ]
        )
        #expect(F.newViolations(plan.writes, from: F.seed) == [])
    }
}
