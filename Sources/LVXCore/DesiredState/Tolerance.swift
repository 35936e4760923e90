/// How far a live value may sit from the desired one before it counts as drift.
///
/// Stored as an integer number of hundredths of the key's unit (centivolts for voltages,
/// centiamperes for currents), so comparisons are exact integer arithmetic and the default of
/// 0.05 V is representable. Live voltages come in tenths of a volt, so any tolerance below
/// 0.1 V (including the default) means "exactly equal"; 0.1 V admits one step either way.
public struct Tolerance: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The tolerance in hundredths of the key's unit; never negative.
    public let hundredths: Int

    /// A tolerance of `hundredths` hundredths of the key's unit; negative values are clamped to 0.
    public init(hundredths: Int) { self.hundredths = max(0, hundredths) }

    /// No drift allowed: the values must be equal.
    public static let exact = Tolerance(hundredths: 0)

    /// The tolerance a key has when neither the unit nor the site sets one: 0.05 V for voltages,
    /// exact for everything else.
    public static func standard(for key: SettingKey) -> Tolerance {
        if case .voltage = key.kind { return Tolerance(hundredths: 5) }
        return .exact
    }

    /// Whether `key` can have a tolerance at all: only voltages and currents can.
    public static func isAllowed(for key: SettingKey) -> Bool {
        switch key.kind {
        case .voltage, .current: true
        case .choice: false
        }
    }

    /// Whether `live` is close enough to `desired` for `key`.
    ///
    /// Choices must be equal. For `stop_charge_voltage`, 0 means "full" rather than 0 V, so a
    /// 0 on either side must match exactly.
    public func allows(_ live: SettingValue, desired: SettingValue, for key: SettingKey) -> Bool {
        switch key.kind {
        case .choice:
            return live == desired
        case .voltage(_, let allowsFull):
            if allowsFull && (live.raw == 0 || desired.raw == 0) { return live == desired }
            return abs(live.raw - desired.raw) * 10 <= hundredths
        case .current:
            return abs(live.raw - desired.raw) * 100 <= hundredths
        }
    }

    /// The tolerance in the key's unit, as a person writes it: `0.05 V`, `2 A`, `exact`.
    public func formatted(for key: SettingKey) -> String {
        let unit: String
        switch key.kind {
        case .voltage: unit = "V"
        case .current: unit = "A"
        case .choice: return "exact"
        }
        return "\(description) \(unit)"
    }

    /// The number without a unit: `0.05`, `0.1`, `2`.
    public var description: String {
        let whole = hundredths / 100
        let fraction = hundredths % 100
        if fraction == 0 { return String(whole) }
        if fraction % 10 == 0 { return "\(whole).\(fraction / 10)" }
        return "\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    public static func < (lhs: Tolerance, rhs: Tolerance) -> Bool { lhs.hundredths < rhs.hundredths }
}

/// Per-key tolerances as written in a `tolerances:` mapping; keys not present fall back further.
public struct Tolerances: Sendable, Hashable {
    private var values: [SettingKey: Tolerance]

    public init(_ values: [SettingKey: Tolerance] = [:]) { self.values = values }

    public subscript(key: SettingKey) -> Tolerance? {
        get { values[key] }
        set { values[key] = newValue }
    }

    public var isEmpty: Bool { values.isEmpty }

    /// The key/tolerance pairs in safe write order.
    public var entries: [(key: SettingKey, tolerance: Tolerance)] {
        values.keys.sorted().compactMap { key in values[key].map { (key, $0) } }
    }
}
