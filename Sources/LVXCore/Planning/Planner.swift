/// Computes the writes that bring units to their desired settings: a pure function of the desired
/// state, what was read, and the date.
///
/// Keys within tolerance or covered by accepted drift are left alone. Writes follow the seed's safe
/// order (battery type, cut-off, the `BUCD` pair, the `MCHGV` pair, currents, priorities, grid tie),
/// and the three voltage writes are reordered when needed so that no intermediate state breaks a
/// cross-key rule (for example float is raised before a stop-charge value above the old float).
/// Units in a stack get the same writes.
public struct Planner: Sendable {
    public var desired: DesiredState
    public var today: CivilDate

    public init(desired: DesiredState, today: CivilDate) {
        self.desired = desired
        self.today = today
    }

    /// A unit's planned steps, or why it cannot be planned.
    public struct UnitPlan: Sendable, Hashable {
        public var unit: DesiredUnit
        public var observation: Observation
        public var drift: [KeyDrift]
        public var writes: [SettingWrite]
        /// Problems that make the unit unplannable (no writes are planned for it then).
        public var problems: [String]
    }

    /// Plans every observed unit.
    ///
    /// `observations` is keyed by serial; units missing from it are skipped.
    public func plan(_ observations: [SerialNumber: Observation]) -> [UnitPlan] {
        var plans: [SerialNumber: UnitPlan] = [:]
        for unit in desired.units {
            guard let observation = observations[unit.serial] else { continue }
            plans[unit.serial] = planUnit(unit, observation)
        }
        // Stacks: every member gets the union of its members' drifted keys.
        for stack in desired.stacks {
            let all = stack.members.compactMap { desired.unit(named: $0) }
            let members = all.filter { plans[$0.serial] != nil }
            // A member that was not read or cannot be planned blocks the stack: members must stay identical.
            let blocked =
                all.filter { plans[$0.serial] == nil }.map { "\($0.name) (not read)" }
                + members.filter { plans[$0.serial]?.problems.isEmpty == false }.map(\.name)
            if !blocked.isEmpty {
                for member in members where !blocked.contains(member.name) {
                    plans[member.serial]?.problems.append(
                        "stack '\(stack.name)' is not planned because \(blocked.joined(separator: ", ")) cannot be"
                    )
                }
                continue
            }
            let keys = Set(
                members.flatMap { m in plans[m.serial]?.drift.filter { $0.state == .drifted }.map(\.key) ?? [] }
            )
            guard !keys.isEmpty else { continue }
            for member in members {
                guard var plan = plans[member.serial], plan.problems.isEmpty else { continue }
                for i in plan.drift.indices where keys.contains(plan.drift[i].key) {
                    if plan.drift[i].state != .drifted { plan.drift[i].state = .stackMember }
                }
                plans[member.serial] = plan
            }
        }
        for serial in Array(plans.keys) {
            guard var plan = plans[serial], plan.problems.isEmpty else { continue }
            plan.writes = writes(for: plan)
            plan.problems += checks(plan)
            if !plan.problems.isEmpty { plan.writes = [] }
            plans[serial] = plan
        }
        return desired.units.compactMap { plans[$0.serial] }
    }

    private func planUnit(_ unit: DesiredUnit, _ observation: Observation) -> UnitPlan {
        var problems: [String] = []
        if observation.serial != unit.serial {
            problems.append(
                "port \(observation.port) answers as serial \(observation.serial), not \(unit.serial); fix `port:` for '\(unit.name)' in lvx.yaml"
            )
        }
        if let expected = unit.parallelIndex, expected != observation.parallelIndex {
            problems.append(
                "'\(unit.name)' reports parallel index \(observation.parallelIndex) but lvx.yaml says \(expected); the setters' machine digit would address another unit"
            )
        }
        let profile = desired.profile(for: unit)?.settings ?? Settings()
        var drift: [KeyDrift] = []
        for (key, want) in profile.entries {
            let live = observation.settings[key]
            let tolerance = desired.tolerance(for: key, on: unit)
            let state: KeyState
            if let live, live == want {
                state = .inSync
            } else if let live, tolerance.allows(live, desired: want, for: key) {
                state = .withinTolerance(tolerance)
            } else if let live, let accepted = desired.acceptedDrift(for: key, on: unit, at: today),
                accepted.value == live
            {
                state = .accepted(accepted)
            } else {
                state = .drifted
            }
            drift.append(KeyDrift(key: key, live: live, desired: want, state: state, tolerance: tolerance))
        }
        return UnitPlan(unit: unit, observation: observation, drift: drift, writes: [], problems: problems)
    }

    /// The writes for the keys marked drifted or stack member, pairs merged, in a safe order.
    private func writes(for plan: UnitPlan) -> [SettingWrite] {
        let live = plan.observation.settings
        let pending = Set(plan.drift.filter { $0.state == .drifted || $0.state == .stackMember }.map(\.key))
        var values = live
        for drift in plan.drift { values[drift.key] = drift.desired }
        var kinds: [SettingWrite.Kind] = []
        for key in SettingKey.allCases where pending.contains(key) {
            let kind = SettingWrite.Kind(writing: key)
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        // A pair's other key comes from the target, else the live value; a kind with a value
        // missing from both is not written.
        let out = kinds.compactMap {
            SettingWrite(kind: $0, settings: values, parallelIndex: plan.observation.parallelIndex)
        }
        return Self.safelyOrdered(out, from: live)
    }

    /// Reorders the voltage writes (cut-off, `BUCD`, `MCHGV`) so that each intermediate state breaks
    /// no cross-key rule that the live state did not already break; other writes keep their place.
    static func safelyOrdered(_ writes: [SettingWrite], from live: Settings) -> [SettingWrite] {
        func isVoltage(_ w: SettingWrite) -> Bool {
            switch w {
            case .cutoffVoltage, .stopVoltages, .chargeVoltages: true
            default: false
            }
        }
        let voltage = writes.filter(isVoltage)
        guard voltage.count > 1 else { return writes }
        let baseline = Set(SettingRules.violations(in: live).map(\.message))
        func safe(_ order: [SettingWrite]) -> Bool {
            var state = live
            for w in order {
                for (k, v) in w.expected.entries { state[k] = v }
                let crossKey = SettingRules.violations(in: state).filter { $0.keys.count > 1 }
                if crossKey.contains(where: { !baseline.contains($0.message) }) { return false }
            }
            return true
        }
        let chosen = permutations(voltage).first(where: safe) ?? voltage
        var iterator = chosen.makeIterator()
        return writes.map { isVoltage($0) ? (iterator.next() ?? $0) : $0 }
    }

    private static func permutations(_ items: [SettingWrite]) -> [[SettingWrite]] {
        guard items.count > 1 else { return [items] }
        var out: [[SettingWrite]] = []
        for (i, item) in items.enumerated() {
            var rest = items
            rest.remove(at: i)
            for tail in permutations(rest) { out.append([item] + tail) }
        }
        return out
    }

    /// Checks that make a unit's writes unsafe to send.
    private func checks(_ plan: UnitPlan) -> [String] {
        var problems: [String] = []
        let live = plan.observation.settings
        var final = live
        for w in plan.writes { for (k, v) in w.expected.entries { final[k] = v } }
        let writesVoltage = plan.writes.contains { $0.keys.contains { $0.needsUserBatteryType } }
        if writesVoltage, let type = final[.batteryType], type.raw != 2 {
            problems.append(
                "'\(plan.unit.name)' would get voltage writes while battery_type is \(SettingKey.batteryType.format(type)); the inverter only honours them with battery_type USER"
            )
        }
        for violation in SettingRules.violations(in: final) where violation.keys.count > 1 {
            problems.append("'\(plan.unit.name)' would end with \(violation.message)")
        }
        for w in plan.writes {
            switch w {
            case .maxChargingCurrent(let v, _):
                if let options = plan.observation.chargingCurrentOptions, !options.contains(v.raw) {
                    problems.append(
                        "'\(plan.unit.name)' does not accept max_charging_current \(v.raw) A over PI18 (MCHGCR offers \(options.map(String.init).joined(separator: ","))); set it on the LCD and add an accept entry"
                    )
                }
            case .maxUtilityChargingCurrent(let v, _):
                if let options = plan.observation.utilityChargingCurrentOptions, !options.contains(v.raw) {
                    problems.append(
                        "'\(plan.unit.name)' does not accept max_utility_charging_current \(v.raw) A over PI18 (MUCHGCR offers \(options.map(String.init).joined(separator: ",")))"
                    )
                }
            default: break
            }
        }
        return problems
    }
}
