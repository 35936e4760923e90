/// The three CPU firmware versions that `VFW` reports, as the 5-digit strings the inverter sends.
public struct FirmwareVersions: Sendable, Hashable, CustomStringConvertible {
    public var main: String
    public var slave1: String
    public var slave2: String

    public init(main: String, slave1: String, slave2: String) {
        self.main = main
        self.slave1 = slave1
        self.slave2 = slave2
    }

    /// `main/slave1`, as the seed's sync-check printed it.
    public var description: String { "\(main)/\(slave1)" }
}

/// The inverter's working mode (`MOD`); codes the PDF does not define decode as ``unknown``.
public struct InverterMode: Sendable, Hashable, CustomStringConvertible {
    /// The two-digit code as sent, such as `05`.
    public var code: String

    public init(code: String) { self.code = code }

    /// The PDF's name for the code, or `unknown(NN)` (the field notes saw `06` while charging).
    public var name: String {
        switch code {
        case "00": "Power on"
        case "01": "Standby"
        case "02": "Bypass"
        case "03": "Battery"
        case "04": "Fault"
        case "05": "Hybrid"
        default: "unknown(\(code))"
        }
    }

    public var isKnown: Bool { !name.hasPrefix("unknown(") }

    public var description: String { name }
}

/// A fault code from `FWS` field 0: `00` is no fault.
public struct FaultCode: Sendable, Hashable, CustomStringConvertible {
    public var code: String

    public init(code: String) { self.code = code }

    public var isFault: Bool { code != "00" }

    /// The PDF's fault text, or `unknown (NN)` for an undefined code.
    public var name: String {
        switch code {
        case "00": "No fault"
        case "01": "Fan is locked"
        case "02": "Over temperature"
        case "03": "Battery voltage is too high"
        case "04": "Battery voltage is too low"
        case "05": "Output short circuited or Over temperature"
        case "06": "Output voltage is too high"
        case "07": "Over load time out"
        case "08": "Bus voltage is too high"
        case "09": "Bus soft start failed"
        case "11": "Main relay failed"
        case "51": "Over current inverter"
        case "52": "Bus soft start failed"
        case "53": "Inverter soft start failed"
        case "54": "Self-test failed"
        case "55": "Over DC voltage on output of inverter"
        case "56": "Battery connection is open"
        case "57": "Current sensor failed"
        case "58": "Output voltage is too low"
        case "60": "Inverter negative power"
        case "71": "Parallel version different"
        case "72": "Output circuit failed"
        case "80": "CAN communication failed"
        case "81": "Parallel host line lost"
        case "82": "Parallel synchronized signal lost"
        case "83": "Parallel battery voltage detect different"
        case "84": "Parallel Line voltage or frequency detect different"
        case "85": "Parallel Line input current unbalanced"
        case "86": "Parallel output setting different"
        default: "unknown (\(code))"
        }
    }

    public var description: String { name }
}

/// `FWS`: the fault code and the warning flags (16 in the PDF, 17 on real units).
public struct FaultStatus: Sendable, Hashable {
    public var fault: FaultCode
    /// The flags in PDF order (index 0 = line fail); a trailing undocumented flag is kept.
    public var flags: [Bool]

    public init(fault: FaultCode, flags: [Bool]) {
        self.fault = fault
        self.flags = flags
    }

    /// The PDF's names for the flags, index-aligned with ``flags``.
    public static let flagNames = [
        "line_fail", "output_circuit_short", "inverter_over_temperature", "fan_lock", "battery_voltage_high",
        "battery_low", "battery_under", "over_load", "eeprom_fail", "power_limit", "pv1_voltage_high",
        "pv2_voltage_high", "mppt1_overload_warning", "mppt2_overload_warning", "battery_too_low_to_charge_scc1",
        "battery_too_low_to_charge_scc2", "undocumented_17",
    ]

    /// The names of the flags that are set.
    public var activeWarnings: [String] {
        flags.indices.filter { flags[$0] }.map { $0 < Self.flagNames.count ? Self.flagNames[$0] : "flag_\($0)" }
    }
}

/// The settings-relevant and rating fields of `PIRI`.
public struct RatedInformation: Sendable, Hashable {
    /// The twelve profile keys as the inverter holds them now.
    public var settings: Settings
    /// Battery rated voltage, tenths of a volt (480 on a 48 V unit).
    public var batteryRatedVoltage: Int
    /// AC output rated voltage, tenths of a volt.
    public var acOutputRatedVoltage: Int
    /// AC output rated frequency, tenths of a hertz.
    public var acOutputRatedFrequency: Int
    /// AC output rated active power, watts.
    public var ratedActivePower: Int
    /// Output model setting: 0 single, 1 parallel, 2-4 three-phase.
    public var outputModel: Int
    /// Parallel max number.
    public var parallelMax: Int

    public init(
        settings: Settings,
        batteryRatedVoltage: Int,
        acOutputRatedVoltage: Int,
        acOutputRatedFrequency: Int,
        ratedActivePower: Int,
        outputModel: Int,
        parallelMax: Int
    ) {
        self.settings = settings
        self.batteryRatedVoltage = batteryRatedVoltage
        self.acOutputRatedVoltage = acOutputRatedVoltage
        self.acOutputRatedFrequency = acOutputRatedFrequency
        self.ratedActivePower = ratedActivePower
        self.outputModel = outputModel
        self.parallelMax = parallelMax
    }
}

/// The fields of `GS` that lvx uses; all voltages and frequencies in tenths.
public struct GeneralStatus: Sendable, Hashable {
    public var gridVoltage: Int
    public var gridFrequency: Int
    public var acOutputVoltage: Int
    public var acOutputFrequency: Int
    public var acOutputActivePower: Int
    public var outputLoadPercent: Int
    public var batteryVoltage: Int
    public var batteryDischargeCurrent: Int
    public var batteryChargingCurrent: Int
    public var batteryCapacity: Int
    public var pv1InputPower: Int
    public var pv2InputPower: Int
    /// GS field 27: the unit's own index in a parallel stack (0 = master); not a flag.
    public var parallelIndex: Int

    public init(
        gridVoltage: Int,
        gridFrequency: Int,
        acOutputVoltage: Int,
        acOutputFrequency: Int,
        acOutputActivePower: Int,
        outputLoadPercent: Int,
        batteryVoltage: Int,
        batteryDischargeCurrent: Int,
        batteryChargingCurrent: Int,
        batteryCapacity: Int,
        pv1InputPower: Int,
        pv2InputPower: Int,
        parallelIndex: Int
    ) {
        self.gridVoltage = gridVoltage
        self.gridFrequency = gridFrequency
        self.acOutputVoltage = acOutputVoltage
        self.acOutputFrequency = acOutputFrequency
        self.acOutputActivePower = acOutputActivePower
        self.outputLoadPercent = outputLoadPercent
        self.batteryVoltage = batteryVoltage
        self.batteryDischargeCurrent = batteryDischargeCurrent
        self.batteryChargingCurrent = batteryChargingCurrent
        self.batteryCapacity = batteryCapacity
        self.pv1InputPower = pv1InputPower
        self.pv2InputPower = pv2InputPower
        self.parallelIndex = parallelIndex
    }
}
