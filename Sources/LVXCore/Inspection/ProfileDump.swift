/// The seed's `dump`: live settings as a profile, minus the values a setter could not reproduce.
public struct ProfileDump: Sendable, Hashable {
    /// The keys a profile can hold, in safe order.
    public var settings: Settings
    /// Keys left out, each with the value read and why (`max_charging_current = 100 (...)`).
    public var skipped: [(key: SettingKey, value: SettingValue, reason: String)]

    /// Splits `live` into writable settings and skipped ones, with the seed's rules: a value out of
    /// its setter's range is skipped; a cross-key rule that fails skips the first key it names.
    public init(_ live: Settings) {
        var keep = live
        var skipped: [(SettingKey, SettingValue, String)] = []
        for violation in SettingRules.violations(in: live) {
            guard let key = violation.keys.first, let value = keep[key] else { continue }
            keep[key] = nil
            skipped.append((key, value, violation.message))
        }
        self.settings = keep
        self.skipped = skipped.sorted { $0.0 < $1.0 }.map { (key: $0.0, value: $0.1, reason: $0.2) }
    }

    public static func == (lhs: ProfileDump, rhs: ProfileDump) -> Bool {
        lhs.settings == rhs.settings && lhs.skipped.map(\.reason) == rhs.skipped.map(\.reason)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(settings)
        hasher.combine(skipped.map(\.reason))
    }

    /// The header comment lines the dump starts with.
    public func headerLines(source: String) -> [String] {
        var lines = [
            "LVX6048 settings profile. Edit freely; all keys are optional.",
            "Read from \(source) by lvx dump.",
            "`lvx plan` previews changes; `lvx apply` writes an approved plan.",
        ]
        if !skipped.isEmpty {
            lines.append("")
            lines.append("skipped (read-only or out of settable range):")
            for s in skipped { lines.append("\(s.key.rawValue) = \(s.key.format(s.value)) (\(s.reason))") }
        }
        return lines
    }
}
