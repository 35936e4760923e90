import LVXCore

/// A setter payload as the simulated firmware reads it, before any range check.
///
/// The format is checked exactly as the PDF writes it: `POP1` has one digit (so `POP01` is
/// malformed), `MCHGC0,060` has one digit, a comma and three digits. Setters lvx never sends (factory
/// reset, clearing energy, date, serial, frequency, output voltage, the other `PE`/`PD` flags, input
/// range, output model, AC time windows) parse as ``forbidden(_:)``; they are always refused.
public enum SimulatedSetter: Sendable, Hashable {
    /// `PBTn`.
    case batteryType(Int)
    /// `PSDVnnn`.
    case cutoffVoltage(Int)
    /// `BUCDnnn,nnn`: stop-discharge (re-charge) and stop-charge (re-discharge; 0 = full).
    case stopVoltages(discharge: Int, charge: Int)
    /// `MCHGVnnn,nnn`: bulk and float.
    case chargeVoltages(bulk: Int, float: Int)
    /// `MCHGCm,nnn`.
    case maxChargingCurrent(index: Int, amps: Int)
    /// `MUCHGCm,nnn`.
    case maxUtilityChargingCurrent(index: Int, amps: Int)
    /// `POPn`.
    case outputSourcePriority(Int)
    /// `PCPm,n`.
    case chargerPriority(index: Int, code: Int)
    /// `PSPn`.
    case solarPowerPriority(Int)
    /// `PEI` (1) or `PDI` (0).
    case gridTie(Int)
    /// A real PI18 setter that lvx never sends, named by its mnemonic (`PF`, `CLE`, `DAT`, ...).
    case forbidden(String)
    /// A known setter mnemonic whose arguments are not in the PDF's format.
    case malformed(String)
    /// Not a PI18 setter.
    case unknown

    /// Reads a setter payload (the text between the length digits and the CRC).
    public init(payload: String) {
        let p = Array(payload.utf8)
        func rest(after prefix: String) -> [UInt8]? {
            let head = Array(prefix.utf8)
            guard p.count >= head.count, Array(p[0..<head.count]) == head else { return nil }
            return Array(p[head.count...])
        }
        // Longest mnemonics first: MUCHGC before MCHGC, POPM before POP.
        if let a = rest(after: "MUCHGC") {
            self =
                Self.indexAndAmps(a).map { .maxUtilityChargingCurrent(index: $0.0, amps: $0.1) } ?? .malformed("MUCHGC")
        } else if let a = rest(after: "MCHGC") {
            self = Self.indexAndAmps(a).map { .maxChargingCurrent(index: $0.0, amps: $0.1) } ?? .malformed("MCHGC")
        } else if let a = rest(after: "MCHGV") {
            self = Self.pair(a).map { .chargeVoltages(bulk: $0.0, float: $0.1) } ?? .malformed("MCHGV")
        } else if let a = rest(after: "PSDV") {
            self = Self.digits(a, 3).map { .cutoffVoltage($0) } ?? .malformed("PSDV")
        } else if let a = rest(after: "BUCD") {
            self = Self.pair(a).map { .stopVoltages(discharge: $0.0, charge: $0.1) } ?? .malformed("BUCD")
        } else if rest(after: "POPM") != nil {
            self = .forbidden("POPM")
        } else if let a = rest(after: "POP") {
            self = Self.digits(a, 1).map { .outputSourcePriority($0) } ?? .malformed("POP")
        } else if let a = rest(after: "PSP") {
            self = Self.digits(a, 1).map { .solarPowerPriority($0) } ?? .malformed("PSP")
        } else if let a = rest(after: "PBT") {
            self = Self.digits(a, 1).map { .batteryType($0) } ?? .malformed("PBT")
        } else if let a = rest(after: "PCP") {
            self = Self.indexAndDigit(a).map { .chargerPriority(index: $0.0, code: $0.1) } ?? .malformed("PCP")
        } else if payload == "PEI" {
            self = .gridTie(1)
        } else if payload == "PDI" {
            self = .gridTie(0)
        } else if let name = Self.forbiddenMnemonic(payload) {
            self = .forbidden(name)
        } else if payload.hasPrefix("PEI") || payload.hasPrefix("PDI") {
            self = .malformed(String(payload.prefix(3)))
        } else {
            self = .unknown
        }
    }

    /// The settings this setter changes, as the target unit would then report them.
    public var changes: Settings {
        switch self {
        case .batteryType(let v): Settings([.batteryType: SettingValue(raw: v)])
        case .cutoffVoltage(let v): Settings([.cutoffVoltage: SettingValue(raw: v)])
        case .stopVoltages(let d, let c):
            Settings([.stopDischargeVoltage: SettingValue(raw: d), .stopChargeVoltage: SettingValue(raw: c)])
        case .chargeVoltages(let b, let f):
            Settings([.bulkVoltage: SettingValue(raw: b), .floatVoltage: SettingValue(raw: f)])
        case .maxChargingCurrent(_, let a): Settings([.maxChargingCurrent: SettingValue(raw: a)])
        case .maxUtilityChargingCurrent(_, let a): Settings([.maxUtilityChargingCurrent: SettingValue(raw: a)])
        case .outputSourcePriority(let v): Settings([.outputSourcePriority: SettingValue(raw: v)])
        case .chargerPriority(_, let v): Settings([.chargerPriority: SettingValue(raw: v)])
        case .solarPowerPriority(let v): Settings([.solarPowerPriority: SettingValue(raw: v)])
        case .gridTie(let v): Settings([.gridTie: SettingValue(raw: v)])
        case .forbidden, .malformed, .unknown: Settings()
        }
    }

    /// The parallel digit `m` of `MCHGC`, `MUCHGC` and `PCP`: the stack index of the unit to write.
    public var parallelIndex: Int? {
        switch self {
        case .maxChargingCurrent(let m, _), .maxUtilityChargingCurrent(let m, _), .chargerPriority(let m, _): m
        default: nil
        }
    }

    /// Whether the firmware honours this setter only when the battery type is USER.
    public var needsUserBatteryType: Bool {
        switch self {
        case .cutoffVoltage, .stopVoltages, .chargeVoltages: true
        default: false
        }
    }

    /// Why the target unit refuses the values, or `nil` when they are acceptable.
    ///
    /// Checks the PDF's ranges and steps, the unit's `MCHGCR`/`MUCHGCR` lists, float not above bulk,
    /// and a non-zero stop-charge voltage not above the unit's current float voltage.
    public func refusal(by unit: SimulatedInverter) -> String? {
        switch self {
        case .batteryType(let v): return (0...2).contains(v) ? nil : "out-of-range"
        case .cutoffVoltage(let v): return (400...480).contains(v) ? nil : "out-of-range"
        case .stopVoltages(let d, let c):
            guard (440...510).contains(d), d % 10 == 0 else { return "out-of-range" }
            guard c == 0 || ((480...580).contains(c) && c % 10 == 0) else { return "out-of-range" }
            if c != 0, c > unit.value(.floatVoltage) { return "stop-charge-above-float" }
            return nil
        case .chargeVoltages(let b, let f):
            guard (480...584).contains(b), (480...584).contains(f) else { return "out-of-range" }
            return f <= b ? nil : "float-above-bulk"
        case .maxChargingCurrent(_, let a):
            return unit.chargingCurrentOptions.contains(a) ? nil : "not-in-MCHGCR"
        case .maxUtilityChargingCurrent(_, let a):
            return unit.utilityChargingCurrentOptions.contains(a) ? nil : "not-in-MUCHGCR"
        case .outputSourcePriority(let v), .solarPowerPriority(let v): return (0...1).contains(v) ? nil : "out-of-range"
        case .chargerPriority(_, let v): return (0...2).contains(v) ? nil : "out-of-range"
        case .gridTie: return nil
        case .forbidden(let name): return "forbidden:\(name)"
        case .malformed(let name): return "malformed:\(name)"
        case .unknown: return "unknown"
        }
    }

    private static func forbiddenMnemonic(_ payload: String) -> String? {
        let fixed = ["PF", "CLE", "F50", "F60"]
        if fixed.contains(payload) { return payload }
        for prefix in ["DAT", "ID", "LON", "PGR", "ACCT", "ACLT"] where payload.hasPrefix(prefix) { return prefix }
        let bytes = Array(payload.utf8)
        if bytes.count >= 2, bytes[0] == UInt8(ascii: "V"), bytes[1...].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            return "V"
        }
        // PEx / PDx with x = A...H (the LCD/buzzer flags); I is grid tie, handled by the caller.
        if bytes.count == 3, bytes[0] == UInt8(ascii: "P"),
            bytes[1] == UInt8(ascii: "E") || bytes[1] == UInt8(ascii: "D"),
            (UInt8(ascii: "A")...UInt8(ascii: "H")).contains(bytes[2])
        {
            return payload
        }
        return nil
    }

    private static func digits(_ bytes: [UInt8], _ count: Int) -> Int? {
        guard bytes.count == count, bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return bytes.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    private static func split(_ bytes: [UInt8]) -> ([UInt8], [UInt8])? {
        guard let comma = bytes.firstIndex(of: UInt8(ascii: ",")) else { return nil }
        return (Array(bytes[..<comma]), Array(bytes[(comma + 1)...]))
    }

    private static func pair(_ bytes: [UInt8]) -> (Int, Int)? {
        guard let (a, b) = split(bytes), let x = digits(a, 3), let y = digits(b, 3) else { return nil }
        return (x, y)
    }

    private static func indexAndAmps(_ bytes: [UInt8]) -> (Int, Int)? {
        guard let (a, b) = split(bytes), let m = digits(a, 1), let amps = digits(b, 3) else { return nil }
        return (m, amps)
    }

    private static func indexAndDigit(_ bytes: [UInt8]) -> (Int, Int)? {
        guard let (a, b) = split(bytes), let m = digits(a, 1), let n = digits(b, 1) else { return nil }
        return (m, n)
    }
}
