import LVXCore
import LVXWire

/// The rating fields of a `PIRI` reply: everything in it that is not one of the twelve settings.
///
/// Values are the integers PIRI carries (tenths of a volt, tenths of an ampere, VA, W, enum codes).
/// The defaults describe an LVX6048 (120 V split-phase leg, 60 Hz, 6000 W, 48 V battery).
public struct RatedFields: Sendable, Hashable {
    /// Field 0: AC input rated voltage, 0.1 V.
    public var acInputVoltage = 1200
    /// Field 1: AC input rated current, 0.1 A.
    public var acInputCurrent = 500
    /// Field 2: AC output rated voltage, 0.1 V.
    public var acOutputVoltage = 1200
    /// Field 3: AC output rated frequency, 0.1 Hz.
    public var acOutputFrequency = 600
    /// Field 4: AC output rated current, 0.1 A.
    public var acOutputCurrent = 500
    /// Field 5: AC output rated apparent power, VA.
    public var apparentPower = 6000
    /// Field 6: AC output rated active power, W.
    public var activePower = 6000
    /// Field 7: battery rated voltage, 0.1 V.
    public var batteryVoltage = 480
    /// Field 16: input voltage range (0 appliance, 1 UPS).
    public var inputVoltageRange = 0
    /// Field 19: parallel max number.
    public var parallelMax = 6
    /// Field 21: topology (0 transformerless).
    public var topology = 0
    /// Field 22: output model (0 single, 1 parallel, 2-4 three-phase).
    public var outputModel = 1
    /// Field 24: MPPT strings.
    public var mpptStrings = 2
    /// Field 25: the undocumented trailing field, `00` on every real capture.
    public var trailer = "00"
    /// The width of field 14 (max utility charging current): 3 on LV5048/LVX-style units, 2 on some older ones.
    public var utilityCurrentDigits = 3

    public init() {}
}

/// One simulated LVX6048: its state and the replies it gives, with no I/O.
///
/// Stack-wide behaviour (routing a setter by its parallel digit, fault 86 when a member's settings
/// differ from the master's) lives in ``SimulatedSite``; a unit on its own is a site of one.
public struct SimulatedInverter: Sendable, Hashable {
    /// The serial number `ID` reports.
    public var serial: SerialNumber
    /// The CPU versions `VFW` reports.
    public var firmware: FirmwareVersions
    /// The twelve settings; `PIRI` reports them.
    public var settings: Settings
    /// The stack this unit belongs to: units sharing a stack name form one parallel system.
    public var stack: String
    /// The unit's index in its stack (GS field 27): 0 is the master.
    public var parallelIndex: Int
    /// The working mode code `MOD` reports (unless a mode override is injected).
    public var mode: String
    /// The unit's own fault code (unless overridden); `00` is no fault.
    public var fault: String
    /// The 17 warning flags `FWS` reports after the fault code.
    public var warnings: [Bool]
    /// The 9 flags `FLAG` reports.
    public var flags: [Bool]
    /// The currents `MCHGC` accepts, as `MCHGCR` lists them.
    public var chargingCurrentOptions: [Int]
    /// The currents `MUCHGC` accepts, as `MUCHGCR` lists them.
    public var utilityChargingCurrentOptions: [Int]
    /// The PIRI rating fields.
    public var rated: RatedFields
    /// GS fields 0 to 26 (field 27 is ``parallelIndex``).
    public var generalStatus: [Int]
    /// The faults injected into this unit.
    public var faults: FaultInjections
    /// How many requests the unit has received (the request log's sequence number).
    public var requestCount: Int
    /// The total simulated wire time of every exchange, seconds.
    public var wireSeconds: Double

    /// The settings of an EG4 LP4 v2 bank as commissioned (the seed's `eg4-lp4-v2.yaml` profile).
    public static let eg4LP4V2Settings = Settings([
        .batteryType: SettingValue(raw: 2),
        .cutoffVoltage: SettingValue(raw: 480),
        .stopDischargeVoltage: SettingValue(raw: 480),
        .stopChargeVoltage: SettingValue(raw: 540),
        .bulkVoltage: SettingValue(raw: 564),
        .floatVoltage: SettingValue(raw: 540),
        .maxUtilityChargingCurrent: SettingValue(raw: 30),
        .maxChargingCurrent: SettingValue(raw: 60),
        .outputSourcePriority: SettingValue(raw: 1),
        .chargerPriority: SettingValue(raw: 0),
        .solarPowerPriority: SettingValue(raw: 1),
        .gridTie: SettingValue(raw: 0),
    ])

    /// GS fields 0-26 of a unit charging from PV in hybrid mode: 120.0 V / 60.0 Hz out, battery 55.1 V.
    public static let defaultGeneralStatus = [
        1200, 600, 1200, 600, 443, 400, 7, 551, 551, 0, 0, 55, 80, 39, 0, 0, 3150, 0, 3900, 0, 0, 2, 0, 1, 1, 2, 1,
    ]

    /// The widths of GS fields 0-27, from the captures (`^D106`).
    static let generalStatusWidths = [
        4, 3, 4, 3, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 1, 1, 1, 1, 1, 1, 1, 1,
    ]

    /// A unit with the LVX6048 defaults, the EG4 LP4 v2 settings, mode 05 and no fault.
    public init(
        serial: SerialNumber,
        firmware: FirmwareVersions = FirmwareVersions(main: "06306", slave1: "06126", slave2: "00000"),
        stack: String? = nil,
        parallelIndex: Int = 0,
        settings: Settings = SimulatedInverter.eg4LP4V2Settings
    ) {
        self.serial = serial
        self.firmware = firmware
        self.settings = settings
        self.stack = stack ?? serial.digits
        self.parallelIndex = parallelIndex
        self.mode = "05"
        self.fault = "00"
        self.warnings = Array(repeating: false, count: 17)
        self.flags = [true, false, true, false, false, true, true, true, false]
        self.chargingCurrentOptions = [10, 20, 30, 40, 50, 60, 70, 80]
        self.utilityChargingCurrentOptions = [2, 10, 20, 30, 40, 50, 60, 70, 80]
        self.rated = RatedFields()
        self.generalStatus = Self.defaultGeneralStatus
        self.faults = FaultInjections()
        self.requestCount = 0
        self.wireSeconds = 0
    }

    /// GS field 7: the battery voltage, tenths of a volt.
    public var batteryVoltage: Int {
        get { generalStatus[7] }
        set { generalStatus[7] = newValue }
    }

    /// GS field 2: the AC output voltage, tenths of a volt.
    public var acOutputVoltage: Int {
        get { generalStatus[2] }
        set { generalStatus[2] = newValue }
    }

    /// GS field 3: the AC output frequency, tenths of a hertz.
    public var acOutputFrequency: Int {
        get { generalStatus[3] }
        set { generalStatus[3] = newValue }
    }

    /// The mode `MOD` reports: the injected override if any, else ``mode``.
    public var reportedMode: String { faults.mode ?? mode }

    /// A setting's value, 0 when absent.
    public func value(_ key: SettingKey) -> Int { settings[key]?.raw ?? 0 }

    // MARK: - Reply payloads

    /// The `ID` payload: `LL` (number of serial digits) and the serial padded with zeros to 20 digits.
    public var idPayload: String {
        let digits = serial.digits
        let length = digits.utf8.count
        return pad(length, 2) + digits + String(repeating: "0", count: max(0, 20 - length))
    }

    /// The `VFW` payload: three 5-digit versions.
    public var firmwarePayload: String { [firmware.main, firmware.slave1, firmware.slave2].joined(separator: ",") }

    /// The `PIRI` payload: 26 fields with the widths real units send (`^D089`).
    public var ratedInformationPayload: String {
        let r = rated
        let fields = [
            pad(r.acInputVoltage, 4), pad(r.acInputCurrent, 3), pad(r.acOutputVoltage, 4),
            pad(r.acOutputFrequency, 3), pad(r.acOutputCurrent, 3), pad(r.apparentPower, 4), pad(r.activePower, 4),
            pad(r.batteryVoltage, 3), pad(value(.stopDischargeVoltage), 3), pad(value(.stopChargeVoltage), 3),
            pad(value(.cutoffVoltage), 3), pad(value(.bulkVoltage), 3), pad(value(.floatVoltage), 3),
            pad(value(.batteryType), 1), pad(value(.maxUtilityChargingCurrent), r.utilityCurrentDigits),
            pad(value(.maxChargingCurrent), 3), pad(r.inputVoltageRange, 1), pad(value(.outputSourcePriority), 1),
            pad(value(.chargerPriority), 1), pad(r.parallelMax, 1), pad(value(.gridTie), 1), pad(r.topology, 1),
            pad(r.outputModel, 1), pad(value(.solarPowerPriority), 1), pad(r.mpptStrings, 1), r.trailer,
        ]
        return fields.joined(separator: ",")
    }

    /// The `GS` payload: 28 fields (`^D106`), field 27 being the parallel index.
    public var generalStatusPayload: String {
        let values = Array(generalStatus.prefix(27)) + [parallelIndex]
        return zip(values, Self.generalStatusWidths).map { pad($0, $1) }.joined(separator: ",")
    }

    /// The `FWS` payload for a given fault code: the code and 17 flags (`^D039`).
    public func faultStatusPayload(fault code: String) -> String {
        ([code] + warnings.map { $0 ? "1" : "0" }).joined(separator: ",")
    }

    /// The `FLAG` payload: nine 0/1 fields (`^D020`).
    public var flagsPayload: String { flags.map { $0 ? "1" : "0" }.joined(separator: ",") }

    /// A `MCHGCR`/`MUCHGCR` payload: 3-digit amp values separated by commas.
    public static func optionsPayload(_ amps: [Int]) -> String { amps.map { pad($0, 3) }.joined(separator: ",") }

    /// The data payload answering a query, or `nil` for one this unit does not know (answered `^0`).
    ///
    /// - Parameters:
    ///   - mnemonic: the query, such as `PIRI`.
    ///   - fault: the fault code `FWS` reports, which depends on the stack (see ``SimulatedSite``).
    /// - Returns: the comma-separated payload of the `^D` reply.
    public func queryPayload(_ mnemonic: String, fault: String) -> String? {
        switch mnemonic {
        case "PI": "18"
        case "ID": idPayload
        case "VFW": firmwarePayload
        case "PIRI": ratedInformationPayload
        case "GS": generalStatusPayload
        case "MOD": reportedMode
        case "FWS": faultStatusPayload(fault: fault)
        case "FLAG": flagsPayload
        case "MCHGCR": Self.optionsPayload(chargingCurrentOptions)
        case "MUCHGCR": Self.optionsPayload(utilityChargingCurrentOptions)
        default: nil
        }
    }

    /// Answers one request frame as a unit standing alone (a site of one), updating its state.
    ///
    /// - Parameter frame: the request bytes ending in CR, with any leading 0x00 padding removed.
    /// - Returns: the bytes sent back (empty when a fault injection drops the reply or hangs the unit).
    public mutating func respond(to frame: [UInt8]) -> [UInt8] {
        var site = SimulatedSite(uncheckedUnits: [self])
        let exchange = site.handle(frame: frame, at: serial, baud: 0)
        if let unit = site.units.first { self = unit }
        return exchange?.output.flatMap { $0 } ?? []
    }
}

/// Formats a non-negative integer with at least `width` digits, zero-padded (negative values become 0).
func pad(_ value: Int, _ width: Int) -> String {
    let text = String(max(0, value))
    return String(repeating: "0", count: max(0, width - text.utf8.count)) + text
}
