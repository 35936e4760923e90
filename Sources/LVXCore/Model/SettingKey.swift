/// One of the twelve inverter settings that a profile can hold and a PI18 setter can write.
///
/// The cases are declared in the seed program's safe write order: battery type, cut-off, the
/// stop-discharge/stop-charge pair (one `BUCD`), the bulk/float pair (one `MCHGV`), currents,
/// priorities, and grid tie last.
public enum SettingKey: String, CaseIterable, Sendable, Hashable, Comparable {
    case batteryType = "battery_type"
    case cutoffVoltage = "cutoff_voltage"
    case stopDischargeVoltage = "stop_discharge_voltage"
    case stopChargeVoltage = "stop_charge_voltage"
    case bulkVoltage = "bulk_voltage"
    case floatVoltage = "float_voltage"
    case maxUtilityChargingCurrent = "max_utility_charging_current"
    case maxChargingCurrent = "max_charging_current"
    case outputSourcePriority = "output_source_priority"
    case chargerPriority = "charger_priority"
    case solarPowerPriority = "solar_power_priority"
    case gridTie = "grid_tie"

    /// The key's position in the safe write order.
    public var order: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    public static func < (lhs: SettingKey, rhs: SettingKey) -> Bool { lhs.order < rhs.order }

    /// What kind of value the key holds, with its settable range or choices.
    public var kind: SettingKind {
        switch self {
        case .batteryType: .choice(["AGM", "FLOODED", "USER"])
        case .cutoffVoltage: .voltage(400...480, allowsFull: false)
        case .stopDischargeVoltage: .voltage(440...510, allowsFull: false)
        case .stopChargeVoltage: .voltage(480...580, allowsFull: true)
        case .bulkVoltage: .voltage(480...584, allowsFull: false)
        case .floatVoltage: .voltage(480...584, allowsFull: false)
        case .maxChargingCurrent: .current([10, 20, 30, 40, 50, 60, 70, 80])
        case .maxUtilityChargingCurrent: .current([2, 10, 20, 30, 40, 50, 60, 70, 80])
        case .outputSourcePriority: .choice(["solar_utility_battery", "solar_battery_utility"])
        case .chargerPriority: .choice(["solar_first", "solar_and_utility", "solar_only"])
        case .solarPowerPriority: .choice(["battery_load_utility_ac", "load_battery_utility"])
        case .gridTie: .choice(["disabled", "enabled"])
        }
    }

    /// The step a voltage moves in, in tenths of a volt.
    ///
    /// The `BUCD` pair is selectable in whole volts only (44, 45, ... 51 and 48, 49, ... 58 on a
    /// 48 V unit); the others in tenths.
    public var voltageStep: Int {
        switch self {
        case .stopDischargeVoltage, .stopChargeVoltage: 10
        default: 1
        }
    }

    /// Whether the inverter honours the key only when `battery_type` is `USER`.
    public var needsUserBatteryType: Bool {
        switch self {
        case .cutoffVoltage, .stopDischargeVoltage, .stopChargeVoltage, .bulkVoltage, .floatVoltage: true
        default: false
        }
    }

    /// The one-line constraint comment that `lvx dump` writes above the key, as the seed did.
    public var constraintComment: String {
        switch self {
        case .batteryType: "enum: AGM | FLOODED | USER"
        case .cutoffVoltage:
            "V 40.0..48.0 - hard shutdown; must be <= stop_discharge_voltage. Only honored when battery_type=USER."
        case .stopDischargeVoltage:
            "V 44.0..51.0 - switch battery->grid below this (pair: stop_charge_voltage). Only honored when battery_type=USER."
        case .stopChargeVoltage:
            "V 0 (=Full) or 48.0..58.0 - switch grid->battery above this (pair: stop_discharge_voltage). Only honored when battery_type=USER."
        case .bulkVoltage:
            "V 48.0..58.4 - CC->CV transition (pair: float_voltage; must be >= float_voltage). Only honored when battery_type=USER."
        case .floatVoltage:
            "V 48.0..58.4 - held while on grid (pair: bulk_voltage; must be <= bulk_voltage). Only honored when battery_type=USER."
        case .maxChargingCurrent: "A 10,20,30,40,50,60,70,80 - combined solar+AC cap"
        case .maxUtilityChargingCurrent: "A 2,10,20,30,40,50,60,70,80 - grid-side cap only"
        case .outputSourcePriority: "enum: solar_utility_battery | solar_battery_utility"
        case .chargerPriority: "enum: solar_first | solar_and_utility | solar_only"
        case .solarPowerPriority: "enum: battery_load_utility_ac | load_battery_utility"
        case .gridTie: "enum: enabled | disabled (PEI/PDI)"
        }
    }
}

/// The shape of a setting's value.
public enum SettingKind: Sendable, Equatable {
    /// A battery voltage in tenths of a volt, settable within `range`; `allowsFull` admits 0 (= "full").
    case voltage(ClosedRange<Int>, allowsFull: Bool)
    /// A current in whole amperes, settable to one of the listed values.
    case current([Int])
    /// A named choice; the wire code of a name is its index.
    case choice([String])
}
