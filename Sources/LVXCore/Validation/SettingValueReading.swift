extension Findings {
    /// Reads a setting's value in the key's written format: volts with at most one decimal,
    /// whole amperes, or a choice name.
    ///
    /// Only the format is checked here, not whether the PI18 setter can write the value (see
    /// ``SettingRules``): an `accept` entry may well name a value like 100 A.
    /// - Parameters:
    ///   - node: the value as written.
    ///   - key: the setting whose format applies.
    ///   - label: the name used in messages, such as `'float_voltage'` or `'value'`.
    /// - Returns: the raw value, or `nil` after reporting why it cannot be read.
    mutating func settingValue(_ node: Node, key: SettingKey, label: String) -> SettingValue? {
        switch key.kind {
        case .voltage:
            guard let number = number(node, label: label, hint: "write volts with at most one decimal, such as 54.0")
            else { return nil }
            guard let tenths = number.scaled(decimals: 1) else {
                let below = SettingValue(raw: number.truncated(decimals: 1))
                let above = SettingValue(raw: below.raw + (number.isNegative ? -1 : 1))
                error(
                    .badPrecision,
                    at: node.location,
                    "\(label) = \(node.scalarText ?? "") has more than one decimal, but the setter has 0.1 V resolution",
                    hint: "use \(key.format(below)) or \(key.format(above))"
                )
                return nil
            }
            return SettingValue(raw: tenths)
        case .current:
            guard let number = number(node, label: label, hint: "write whole amperes, such as 60") else { return nil }
            guard let amps = number.scaled(decimals: 0) else {
                error(
                    .badPrecision,
                    at: node.location,
                    "\(label) = \(node.scalarText ?? "") must be a whole number of amperes"
                )
                return nil
            }
            return SettingValue(raw: amps)
        case .choice(let names):
            let choices = names.joined(separator: ", ")
            guard case .scalar(let text, _, _) = node, !node.isNull else {
                error(
                    .wrongType,
                    at: node.location,
                    "expected one of \(choices) for \(label), got \(Self.describe(node))"
                )
                return nil
            }
            if let code = key.choiceCode(named: text) { return SettingValue(raw: code) }
            let suggestion = Suggestion.closest(to: text, among: names)
            error(
                .unknownChoice,
                at: node.location,
                "\(label) = '\(text)' is not one of \(choices)",
                hint: suggestion.map { "did you mean '\($0)'?" } ?? Self.choiceHint(key: key, text: text)
            )
            return nil
        }
    }

    /// A hint for a choice written as a YAML boolean, which is a common slip for `grid_tie`.
    private static func choiceHint(key: SettingKey, text: String) -> String? {
        guard key == .gridTie else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return "write 'enabled'"
        case "false", "no", "off": return "write 'disabled'"
        default: return nil
        }
    }
}
