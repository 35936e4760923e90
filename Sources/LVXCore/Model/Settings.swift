/// A set of setting values, keyed by ``SettingKey``; any subset of the twelve keys.
public struct Settings: Sendable, Hashable {
    private var values: [SettingKey: SettingValue]

    public init(_ values: [SettingKey: SettingValue] = [:]) { self.values = values }

    public subscript(key: SettingKey) -> SettingValue? {
        get { values[key] }
        set { values[key] = newValue }
    }

    /// The keys present, in safe write order.
    public var keys: [SettingKey] { values.keys.sorted() }

    public var isEmpty: Bool { values.isEmpty }

    public var count: Int { values.count }

    /// The key/value pairs in safe write order.
    public var entries: [(key: SettingKey, value: SettingValue)] { keys.compactMap { k in values[k].map { (k, $0) } } }

    /// A canonical one-line text, `key=value;...` in safe order, used for digests.
    public var canonicalText: String {
        entries.map { "\($0.key.rawValue)=\($0.value.raw)" }.joined(separator: ";")
    }
}
