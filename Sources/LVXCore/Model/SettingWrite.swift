/// One write an inverter can be asked to make: exactly the setters for the twelve profile keys.
///
/// There is deliberately no case for factory reset, clearing energy, date, serial, frequency or
/// output voltage: such a write cannot be expressed, so it cannot be planned or sent.
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

    /// The settings the inverter should report after the write is honoured.
    public var expected: Settings {
        switch self {
        case .batteryType(let v): Settings([.batteryType: v])
        case .cutoffVoltage(let v): Settings([.cutoffVoltage: v])
        case .stopVoltages(let d, let c): Settings([.stopDischargeVoltage: d, .stopChargeVoltage: c])
        case .chargeVoltages(let b, let f): Settings([.bulkVoltage: b, .floatVoltage: f])
        case .maxUtilityChargingCurrent(let v, _): Settings([.maxUtilityChargingCurrent: v])
        case .maxChargingCurrent(let v, _): Settings([.maxChargingCurrent: v])
        case .outputSourcePriority(let v): Settings([.outputSourcePriority: v])
        case .chargerPriority(let v, _): Settings([.chargerPriority: v])
        case .solarPowerPriority(let v): Settings([.solarPowerPriority: v])
        case .gridTie(let v): Settings([.gridTie: v])
        }
    }

    /// The keys the write changes, in safe order.
    public var keys: [SettingKey] { expected.keys }
}
