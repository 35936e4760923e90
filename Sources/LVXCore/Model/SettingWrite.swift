/// One write an inverter can be asked to make: exactly the setters for the twelve profile keys.
///
/// There is deliberately no case for factory reset, clearing energy, date, serial, frequency or
/// output voltage: such a write cannot be expressed, so it cannot be planned or sent.
///
/// ``Kind`` is the one setter table: which keys each setter writes, in its field order, its PI18
/// mnemonic and whether it addresses one unit of a stack. The planner, plan decoding and the wire
/// encoder all build and read writes through it.
public enum SettingWrite: Sendable, Hashable {
    /// `PBT`: battery type.
    case batteryType(SettingValue)
    /// `PSDV`: battery cut-off voltage.
    case cutoffVoltage(SettingValue)
    /// `BUCD`: stop-discharge (back to utility) and stop-charge (back to battery; 0 = full) together.
    case stopVoltages(stopDischarge: SettingValue, stopCharge: SettingValue)
    /// `MCHGV`: bulk (C.V.) and float voltage together.
    case chargeVoltages(bulk: SettingValue, float: SettingValue)
    /// `MUCHGC`: max utility charging current of the unit at `parallelIndex`.
    case maxUtilityChargingCurrent(SettingValue, parallelIndex: Int)
    /// `MCHGC`: max charging current of the unit at `parallelIndex`.
    case maxChargingCurrent(SettingValue, parallelIndex: Int)
    /// `POP`: output source priority.
    case outputSourcePriority(SettingValue)
    /// `PCP`: charger source priority of the unit at `parallelIndex`.
    case chargerPriority(SettingValue, parallelIndex: Int)
    /// `PSP`: solar power priority.
    case solarPowerPriority(SettingValue)
    /// `PEI` (enabled) or `PDI` (disabled): grid tie.
    case gridTie(SettingValue)

    /// The setter table: one entry per PI18 setter lvx can build, in the seed's safe write order.
    public enum Kind: CaseIterable, Sendable, Hashable {
        case batteryType
        case cutoffVoltage
        case stopVoltages
        case chargeVoltages
        case maxUtilityChargingCurrent
        case maxChargingCurrent
        case outputSourcePriority
        case chargerPriority
        case solarPowerPriority
        case gridTie

        /// How a setter's mnemonic is chosen.
        public enum Mnemonic: Sendable, Hashable {
            /// Always this mnemonic; the values follow it as comma-separated fields.
            case fixed(String)
            /// The value's choice code picks the mnemonic (`0` the first, ...), and is not sent as a field.
            case perChoice([String])
        }

        /// The keys the setter writes, in its field order (which is also safe write order).
        public var keys: [SettingKey] {
            switch self {
            case .batteryType: [.batteryType]
            case .cutoffVoltage: [.cutoffVoltage]
            case .stopVoltages: [.stopDischargeVoltage, .stopChargeVoltage]
            case .chargeVoltages: [.bulkVoltage, .floatVoltage]
            case .maxUtilityChargingCurrent: [.maxUtilityChargingCurrent]
            case .maxChargingCurrent: [.maxChargingCurrent]
            case .outputSourcePriority: [.outputSourcePriority]
            case .chargerPriority: [.chargerPriority]
            case .solarPowerPriority: [.solarPowerPriority]
            case .gridTie: [.gridTie]
            }
        }

        /// The PI18 mnemonic: `PBT`, `PSDV`, `BUCD`, `MCHGV`, `MUCHGC`, `MCHGC`, `POP`, `PCP`, `PSP`,
        /// and `PDI`/`PEI` for grid tie.
        public var mnemonic: Mnemonic {
            switch self {
            case .batteryType: .fixed("PBT")
            case .cutoffVoltage: .fixed("PSDV")
            case .stopVoltages: .fixed("BUCD")
            case .chargeVoltages: .fixed("MCHGV")
            case .maxUtilityChargingCurrent: .fixed("MUCHGC")
            case .maxChargingCurrent: .fixed("MCHGC")
            case .outputSourcePriority: .fixed("POP")
            case .chargerPriority: .fixed("PCP")
            case .solarPowerPriority: .fixed("PSP")
            case .gridTie: .perChoice(["PDI", "PEI"])
            }
        }

        /// Whether the setter addresses one unit of a stack: its first field is the machine digit,
        /// the unit's own parallel index (GS field 27).
        public var addressesUnit: Bool {
            switch self {
            case .maxUtilityChargingCurrent, .maxChargingCurrent, .chargerPriority: true
            default: false
            }
        }

        /// The setter that writes `key`.
        public init(writing key: SettingKey) {
            // Every key is in exactly one entry's keys; the fallback is never taken.
            self = Self.allCases.first { $0.keys.contains(key) } ?? .batteryType
        }

        /// The setter that writes exactly `keys` (in any order), or `nil` when no single setter does.
        public init?(keys: [SettingKey]) {
            guard let kind = Self.allCases.first(where: { $0.keys == keys.sorted() }) else { return nil }
            self = kind
        }
    }

    /// Builds the write of `kind` that sets its keys to their values in `settings`.
    ///
    /// This is the one place a write is built from values: the planner passes the target values
    /// over the live ones, plan decoding a step's `to`. `parallelIndex` is used only by setters that
    /// ``Kind/addressesUnit``.
    /// - Returns: `nil` when `settings` lacks one of the kind's keys.
    public init?(kind: Kind, settings: Settings, parallelIndex: Int) {
        var values: [SettingValue] = []
        for key in kind.keys {
            guard let value = settings[key] else { return nil }
            values.append(value)
        }
        switch (kind, values.count) {
        case (.batteryType, 1): self = .batteryType(values[0])
        case (.cutoffVoltage, 1): self = .cutoffVoltage(values[0])
        case (.stopVoltages, 2): self = .stopVoltages(stopDischarge: values[0], stopCharge: values[1])
        case (.chargeVoltages, 2): self = .chargeVoltages(bulk: values[0], float: values[1])
        case (.maxUtilityChargingCurrent, 1):
            self = .maxUtilityChargingCurrent(values[0], parallelIndex: parallelIndex)
        case (.maxChargingCurrent, 1): self = .maxChargingCurrent(values[0], parallelIndex: parallelIndex)
        case (.outputSourcePriority, 1): self = .outputSourcePriority(values[0])
        case (.chargerPriority, 1): self = .chargerPriority(values[0], parallelIndex: parallelIndex)
        case (.solarPowerPriority, 1): self = .solarPowerPriority(values[0])
        case (.gridTie, 1): self = .gridTie(values[0])
        default: return nil
        }
    }

    /// The write that sets exactly `keys` (one setter's keys), using `parallelIndex` for the
    /// per-unit setters; `nil` when the keys are not those of one setter.
    public init?(keys settings: Settings, parallelIndex: Int) {
        guard let kind = Kind(keys: settings.keys) else { return nil }
        self.init(kind: kind, settings: settings, parallelIndex: parallelIndex)
    }

    /// The write's entry in the setter table.
    public var kind: Kind { parts.kind }

    /// The values written, in the setter's field order (``Kind/keys``).
    public var values: [SettingValue] { parts.values }

    /// The machine digit for setters that ``Kind/addressesUnit``, else `nil`.
    public var parallelIndex: Int? { parts.parallelIndex }

    private var parts: (kind: Kind, values: [SettingValue], parallelIndex: Int?) {
        switch self {
        case .batteryType(let v): (.batteryType, [v], nil)
        case .cutoffVoltage(let v): (.cutoffVoltage, [v], nil)
        case .stopVoltages(let d, let c): (.stopVoltages, [d, c], nil)
        case .chargeVoltages(let b, let f): (.chargeVoltages, [b, f], nil)
        case .maxUtilityChargingCurrent(let v, let i): (.maxUtilityChargingCurrent, [v], i)
        case .maxChargingCurrent(let v, let i): (.maxChargingCurrent, [v], i)
        case .outputSourcePriority(let v): (.outputSourcePriority, [v], nil)
        case .chargerPriority(let v, let i): (.chargerPriority, [v], i)
        case .solarPowerPriority(let v): (.solarPowerPriority, [v], nil)
        case .gridTie(let v): (.gridTie, [v], nil)
        }
    }

    /// The settings the inverter should report after the write is honoured.
    public var expected: Settings {
        let parts = parts
        var settings = Settings()
        for (key, value) in zip(parts.kind.keys, parts.values) { settings[key] = value }
        return settings
    }

    /// The keys the write changes, in safe order.
    public var keys: [SettingKey] { kind.keys }
}
