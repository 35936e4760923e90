/// A setting's value as the inverter reports it: the integer that PIRI carries.
///
/// Voltages are tenths of a volt (`540` is 54.0 V), currents are amperes, and choices are their
/// wire code (`2` is `USER` for `battery_type`). Keeping the raw integer makes comparison exact and
/// leaves names and decimals to formatting.
public struct SettingValue: Sendable, Hashable, Comparable {
    /// The raw integer: tenths of a volt, amperes, or a choice's wire code.
    public var raw: Int

    public init(raw: Int) { self.raw = raw }

    public static func < (lhs: SettingValue, rhs: SettingValue) -> Bool { lhs.raw < rhs.raw }
}

extension SettingKey {
    /// Formats a value as a person (and a profile file) writes it: `54.0`, `60`, `USER`.
    public func format(_ value: SettingValue) -> String {
        switch kind {
        case .voltage:
            let sign = value.raw < 0 ? "-" : ""
            let magnitude = abs(value.raw)
            return "\(sign)\(magnitude / 10).\(magnitude % 10)"
        case .current:
            return String(value.raw)
        case .choice(let names):
            return names.indices.contains(value.raw) ? names[value.raw] : "unknown(\(value.raw))"
        }
    }

    /// Whether `value` is one the key's PI18 setter can write (range, step, or known choice).
    ///
    /// Cross-key rules (cut-off not above stop-discharge, float not above bulk) are checked by
    /// ``SettingRules``.
    public func isSettable(_ value: SettingValue) -> Bool {
        switch kind {
        case .voltage(let range, let allowsFull):
            if allowsFull && value.raw == 0 { return true }
            return range.contains(value.raw) && value.raw % voltageStep == 0
        case .current(let allowed):
            return allowed.contains(value.raw)
        case .choice(let names):
            return names.indices.contains(value.raw)
        }
    }

    /// Why `value` cannot be written, in the seed's words, or `nil` when it can.
    public func settableProblem(_ value: SettingValue) -> String? {
        guard !isSettable(value) else { return nil }
        switch kind {
        case .voltage(let range, let allowsFull):
            let low = format(SettingValue(raw: range.lowerBound))
            let high = format(SettingValue(raw: range.upperBound))
            let full = allowsFull ? "0 (=Full) or " : ""
            if range.contains(value.raw) {
                let next = format(SettingValue(raw: range.lowerBound + voltageStep))
                return
                    "\(rawValue) = \(format(value)) must be a whole number of volts (the inverter offers \(low), \(next), ... \(high))"
            }
            return "\(rawValue) = \(format(value)) out of range \(full)[\(low), \(high)]"
        case .current(let allowed):
            return "\(rawValue) = \(value.raw) must be one of \(allowed.map(String.init).joined(separator: ","))"
        case .choice(let names):
            return "\(rawValue) = \(format(value)) not in [\(names.joined(separator: ", "))]"
        }
    }

    /// Parses a choice name (exact match) to its wire code.
    public func choiceCode(named name: String) -> Int? {
        guard case .choice(let names) = kind else { return nil }
        return names.firstIndex(of: name)
    }
}

extension SettingKey {
    /// Parses a value exactly as ``format(_:)`` writes it (`54.0`, `60`, `USER`).
    ///
    /// This is the strict form used in files lvx writes itself. Profiles people write go through validation instead.
    public func parse(_ text: String) -> SettingValue? {
        switch kind {
        case .voltage:
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[1].count == 1, let whole = Int(parts[0]), let tenth = Int(parts[1]),
                whole >= 0, tenth >= 0
            else { return nil }
            return SettingValue(raw: whole * 10 + tenth)
        case .current:
            return Int(text).map(SettingValue.init(raw:))
        case .choice:
            return choiceCode(named: text).map(SettingValue.init(raw:))
        }
    }
}
