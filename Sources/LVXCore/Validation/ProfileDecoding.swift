/// A profile as read, before the checks that need the units (accept coverage, stacks).
struct ProfileDraft {
    var profile: Profile
    /// Keys written in the file whose value could not be read; their value is unknown.
    var unreadableKeys: Set<SettingKey> = []
    /// Keys whose value no PI18 setter can write, with the reason; fine only if `accept` covers them.
    var unsettable: [(key: SettingKey, problem: String)] = []
}

extension Findings {
    /// Reads `profiles/NAME.yaml` and checks everything that depends on the profile alone:
    /// types, unknown keys, formats, cross-key rules and the `battery_type: USER` rule.
    mutating func decodeProfile(named name: String, root: Node) -> ProfileDraft {
        var draft = ProfileDraft(profile: Profile(name: name, settings: Settings()))
        if root.isNull { return draft }
        let allowed = SettingKey.allCases.map(\.rawValue)
        guard let fields = fields(of: root, label: "profile '\(name)'", allowed: allowed) else { return draft }
        for entry in fields.entries {
            guard let key = SettingKey(rawValue: entry.name) else { continue }
            draft.profile.locations[key] = entry.value.location
            if let value = settingValue(entry.value, key: key, label: "'\(key.rawValue)'") {
                draft.profile.settings[key] = value
            } else {
                draft.unreadableKeys.insert(key)
            }
        }
        checkRules(&draft)
        checkBatteryType(draft, fields: fields)
        return draft
    }

    /// Range, step and cross-key rules; single-key problems are kept for the accept coverage check.
    private mutating func checkRules(_ draft: inout ProfileDraft) {
        let locations = draft.profile.locations
        for violation in SettingRules.violations(in: draft.profile.settings) {
            if violation.keys.count == 1, let key = violation.keys.first {
                draft.unsettable.append((key, violation.message))
                continue
            }
            // Report a cross-key rule at whichever of its keys comes later in the file.
            let placed = violation.keys.compactMap { key in locations[key].map { (key, $0) } }
            let later = placed.max { $0.1 < $1.1 }
            error(
                .ruleViolated,
                at: later?.1,
                Self.quotingKeys(violation.message, violation.keys),
                hint: Self.ruleHint(violation.keys)
            )
        }
    }

    /// Voltages are honoured only with `battery_type: USER`.
    private mutating func checkBatteryType(_ draft: ProfileDraft, fields: Fields) {
        let voltages = draft.profile.locations.filter { $0.key.needsUserBatteryType }.sorted { $0.value < $1.value }
        guard let firstVoltage = voltages.first else { return }
        let voltageKeys = voltages.map(\.key)
        let listed = voltageKeys.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        guard let batteryNode = fields.value(SettingKey.batteryType.rawValue) else {
            if draft.unreadableKeys.contains(.batteryType) || fields.keyNode(SettingKey.batteryType.rawValue) != nil {
                return
            }
            warning(
                .voltageDependsOnBatteryType,
                at: firstVoltage.value,
                "voltages are only honoured when battery_type is USER, and this profile does not set 'battery_type'",
                hint: "add battery_type: USER; until then \(listed) depend on the inverter's live battery type"
            )
            return
        }
        guard let batteryType = draft.profile.settings[.batteryType] else { return }
        let user = SettingKey.batteryType.choiceCode(named: "USER")
        guard batteryType.raw != user else { return }
        error(
            .voltageNeedsUserBatteryType,
            at: batteryNode.location,
            "voltages are only honoured when battery_type is USER, but it is '\(SettingKey.batteryType.format(batteryType))'",
            hint: "set battery_type: USER, or remove \(listed)"
        )
    }

    /// Puts the setting keys named in a ``SettingRules`` message in quotes (whole words only).
    static func quotingKeys(_ message: String, _ keys: [SettingKey]) -> String {
        let names = Set(keys.map(\.rawValue))
        var result = ""
        var word = ""
        func flush() {
            result += names.contains(word) ? "'\(word)'" : word
            word = ""
        }
        for character in message {
            if character.isLetter || character.isNumber || character == "_" {
                word.append(character)
            } else {
                flush()
                result.append(character)
            }
        }
        flush()
        return result
    }

    /// Puts the key name at the start of a ``SettingKey/settableProblem(_:)`` message in quotes.
    static func quotingKey(_ message: String, _ key: SettingKey) -> String { quotingKeys(message, [key]) }

    private static func ruleHint(_ keys: [SettingKey]) -> String? {
        switch Set(keys) {
        case [.cutoffVoltage, .stopDischargeVoltage]: "lower 'cutoff_voltage' or raise 'stop_discharge_voltage'"
        case [.floatVoltage, .bulkVoltage]: "lower 'float_voltage' or raise 'bulk_voltage'"
        case [.stopChargeVoltage, .floatVoltage]:
            "lower 'stop_charge_voltage' to at most 'float_voltage', or use 0 for full"
        default: nil
        }
    }
}
