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
        /// Why the unit cannot be planned (no writes are planned for it then).
        public var issues: [PlanProblem]

        /// ``issues`` as the text `lvx plan` prints.
        public var problems: [String] { issues.map(\.description) }
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
                all.filter { plans[$0.serial] == nil }.map { PlanProblem.StackBlocker.notRead($0.name) }
                + members.filter { plans[$0.serial]?.issues.isEmpty == false }.map {
                    PlanProblem.StackBlocker.unplannable($0.name)
                }
            if !blocked.isEmpty {
                for member in members where !blocked.contains(.unplannable(member.name)) {
                    plans[member.serial]?.issues.append(.stackBlocked(stack: stack.name, by: blocked))
                }
                continue
            }
            let keys = Set(
                members.flatMap { m in plans[m.serial]?.drift.filter { $0.state == .drifted }.map(\.key) ?? [] }
            )
            guard !keys.isEmpty else { continue }
            for member in members {
                guard var plan = plans[member.serial], plan.issues.isEmpty else { continue }
                for i in plan.drift.indices where keys.contains(plan.drift[i].key) {
                    if plan.drift[i].state != .drifted { plan.drift[i].state = .stackMember }
                }
                plans[member.serial] = plan
            }
        }
        for serial in Array(plans.keys) {
            guard var plan = plans[serial], plan.issues.isEmpty else { continue }
            plan.writes = writes(for: plan)
            plan.issues += checks(plan)
            if !plan.issues.isEmpty { plan.writes = [] }
            plans[serial] = plan
        }
        return desired.units.compactMap { plans[$0.serial] }
    }

    private func planUnit(_ unit: DesiredUnit, _ observation: Observation) -> UnitPlan {
        var problems: [PlanProblem] = []
        if observation.serial != unit.serial {
            problems.append(
                .serialMismatch(
                    unit: unit.name,
                    port: observation.port,
                    answered: observation.serial,
                    expected: unit.serial
                )
            )
        }
        if let expected = unit.parallelIndex, expected != observation.parallelIndex {
            problems.append(
                .parallelIndexMismatch(unit: unit.name, reported: observation.parallelIndex, configured: expected)
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
        return UnitPlan(unit: unit, observation: observation, drift: drift, writes: [], issues: problems)
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
    private func checks(_ plan: UnitPlan) -> [PlanProblem] {
        var problems: [PlanProblem] = []
        let name = plan.unit.name
        let live = plan.observation.settings
        var final = live
        for w in plan.writes { for (k, v) in w.expected.entries { final[k] = v } }
        let writesVoltage = plan.writes.contains { $0.keys.contains { $0.needsUserBatteryType } }
        if writesVoltage, let type = final[.batteryType], type.raw != 2 {
            problems.append(.voltageWritesNeedUserBatteryType(unit: name, batteryType: type))
        }
        for violation in SettingRules.violations(in: final) where violation.keys.count > 1 {
            problems.append(.wouldEndWith(unit: name, violation))
        }
        for w in plan.writes {
            switch w {
            case .maxChargingCurrent(let v, _):
                if let options = plan.observation.chargingCurrentOptions, !options.contains(v.raw) {
                    problems.append(.chargingCurrentNotOffered(unit: name, amps: v.raw, offered: options))
                }
            case .maxUtilityChargingCurrent(let v, _):
                if let options = plan.observation.utilityChargingCurrentOptions, !options.contains(v.raw) {
                    problems.append(.utilityChargingCurrentNotOffered(unit: name, amps: v.raw, offered: options))
                }
            default: break
            }
        }
        return problems
    }
}

/// Why the planner refuses to plan a unit: one case per refusal.
///
/// ``description`` is the text `lvx plan` prints after `! `.
public enum PlanProblem: Sendable, Hashable, CustomStringConvertible {
    /// A stack member that keeps the rest of its stack from being planned.
    public enum StackBlocker: Sendable, Hashable, CustomStringConvertible {
        /// The member was not read.
        case notRead(String)
        /// The member was read but has problems of its own.
        case unplannable(String)

        /// The member's name.
        public var name: String {
            switch self {
            case .notRead(let name), .unplannable(let name): name
            }
        }

        /// `NAME (not read)` or `NAME`.
        public var description: String {
            switch self {
            case .notRead(let name): "\(name) (not read)"
            case .unplannable(let name): name
            }
        }
    }

    /// The unit's port answered with another serial number.
    case serialMismatch(unit: String, port: String, answered: SerialNumber, expected: SerialNumber)
    /// GS field 27 differs from the unit's `parallel_index:`, so the machine digit would address another unit.
    case parallelIndexMismatch(unit: String, reported: Int, configured: Int)
    /// A member of the unit's stack was not read or cannot be planned, so no member is.
    case stackBlocked(stack: String, by: [StackBlocker])
    /// Voltage writes are planned while `battery_type` (after the writes) is not `USER`.
    case voltageWritesNeedUserBatteryType(unit: String, batteryType: SettingValue)
    /// After every write the unit would break a cross-key rule.
    case wouldEndWith(unit: String, SettingRules.Violation)
    /// `MCHGCR` does not offer the planned `max_charging_current`.
    case chargingCurrentNotOffered(unit: String, amps: Int, offered: [Int])
    /// `MUCHGCR` does not offer the planned `max_utility_charging_current`.
    case utilityChargingCurrentNotOffered(unit: String, amps: Int, offered: [Int])

    public var description: String {
        switch self {
        case .serialMismatch(let unit, let port, let answered, let expected):
            "port \(port) answers as serial \(answered), not \(expected); fix `port:` for '\(unit)' in lvx.yaml"
        case .parallelIndexMismatch(let unit, let reported, let configured):
            "'\(unit)' reports parallel index \(reported) but lvx.yaml says \(configured); the setters' machine digit would address another unit"
        case .stackBlocked(let stack, let blockers):
            "stack '\(stack)' is not planned because \(blockers.map(\.description).joined(separator: ", ")) cannot be"
        case .voltageWritesNeedUserBatteryType(let unit, let type):
            "'\(unit)' would get voltage writes while battery_type is \(SettingKey.batteryType.format(type)); the inverter only honours them with battery_type USER"
        case .wouldEndWith(let unit, let violation):
            "'\(unit)' would end with \(violation.message)"
        case .chargingCurrentNotOffered(let unit, let amps, let offered):
            "'\(unit)' does not accept max_charging_current \(amps) A over PI18 (MCHGCR offers \(Self.list(offered))); set it on the LCD and add an accept entry"
        case .utilityChargingCurrentNotOffered(let unit, let amps, let offered):
            "'\(unit)' does not accept max_utility_charging_current \(amps) A over PI18 (MUCHGCR offers \(Self.list(offered)))"
        }
    }

    private static func list(_ options: [Int]) -> String { options.map(String.init).joined(separator: ",") }
}
