import Foundation
import LVXCore

/// The JSON form of one unit: an entry of a `--config` file and the whole of a `SERIAL.json` state file.
///
/// ```json
/// {
///   "serial": "96142109100037",
///   "stack": "main",
///   "parallel_index": 0,
///   "firmware": { "main": "06306", "slave1": "06126", "slave2": "00000" },
///   "mode": "05",
///   "fault": "00",
///   "output_model": 1,
///   "battery_voltage": 55.1,
///   "settings": { "battery_type": "USER", "float_voltage": 54.0, "max_charging_current": 60, ... },
///   "faults": ["drop=2", "ignore=float_voltage"],
///   "wire_seconds": 0.0,
///   "requests": 0
/// }
/// ```
/// Only `serial` is required in a config entry; everything else defaults to the LVX6048 with the
/// EG4 LP4 v2 settings (given settings are merged over those). Settings use lvx's key names and
/// units: volts as numbers (`54.0`), amperes as integers, choices by name (`"USER"`,
/// `"solar_battery_utility"`, `"disabled"`) or wire code. `faults` holds fault specs as for
/// `--fault` (see ``FaultInjections``). A state file also carries `reported_fault` (what `FWS`
/// reports now, including a derived 86), which is informational and ignored when read back.
public enum UnitDocument {
    /// The keys `--set SERIAL:KEY=VALUE` accepts besides the twelve settings.
    public static let extraKeys = [
        "stack", "parallel_index", "mode", "fault", "firmware_main", "firmware_slave1", "firmware_slave2",
        "output_model", "battery_voltage",
    ]

    /// Reads a `--config` file: `{"units": [UNIT, ...]}` (or a bare array of units).
    ///
    /// Units without `output_model` get 1 when their stack has several members, else 0.
    /// - Throws: ``SimulatorError`` naming the file and the offending entry.
    public static func loadConfig(_ data: Data, file: String) throws(SimulatorError) -> [SimulatedInverter] {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw SimulatorError("\(file): not valid JSON (\(error.localizedDescription)); fix the syntax")
        }
        let list: [Any]
        if let dict = object as? [String: Any], let units = dict["units"] as? [Any] {
            list = units
        } else if let array = object as? [Any] {
            list = array
        } else {
            throw SimulatorError("\(file): expected an object with a \"units\" array")
        }
        var units: [SimulatedInverter] = []
        var explicitModel: Set<Int> = []
        for (i, item) in list.enumerated() {
            guard let dict = item as? [String: Any] else {
                throw SimulatorError("\(file): units[\(i)] is not an object")
            }
            guard let serialText = dict["serial"] as? String, let serial = SerialNumber(serialText) else {
                throw SimulatorError("\(file): units[\(i)] needs \"serial\": a string of 1 to 20 digits")
            }
            var unit = SimulatedInverter(serial: serial)
            do {
                try apply(dict, to: &unit)
            } catch {
                throw SimulatorError("\(file): units[\(i)] (\(serial)): \(error.message)")
            }
            if dict["output_model"] != nil { explicitModel.insert(i) }
            units.append(unit)
        }
        defaultOutputModels(&units, keeping: explicitModel)
        return units
    }

    /// Gives units without an explicit output model 1 (parallel) in a multi-unit stack, else 0 (single).
    public static func defaultOutputModels(_ units: inout [SimulatedInverter], keeping explicit: Set<Int> = []) {
        var sizes: [String: Int] = [:]
        for unit in units { sizes[unit.stack, default: 0] += 1 }
        for i in units.indices where !explicit.contains(i) {
            units[i].rated.outputModel = (sizes[units[i].stack] ?? 1) > 1 ? 1 : 0
        }
    }

    /// Reads a state file back into `unit` (used on SIGHUP); the serial must match.
    public static func reload(_ data: Data, into unit: inout SimulatedInverter, file: String) throws(SimulatorError) {
        guard let dict = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw SimulatorError("\(file): not a JSON object; fix or delete the file")
        }
        if let serialText = dict["serial"] as? String, SerialNumber(serialText) != unit.serial {
            throw SimulatorError(
                "\(file): serial '\(serialText)' is not \(unit.serial); the file belongs to another unit"
            )
        }
        var copy = unit
        do {
            try apply(dict, to: &copy)
        } catch {
            throw SimulatorError("\(file): \(error.message)")
        }
        if dict["faults"] == nil { copy.faults = FaultInjections() }
        unit = copy
    }

    /// Applies the fields present in `dict` to `unit`.
    static func apply(_ dict: [String: Any], to unit: inout SimulatedInverter) throws(SimulatorError) {
        if let stack = dict["stack"] {
            guard let s = stack as? String, !s.isEmpty else {
                throw SimulatorError("\"stack\" must be a non-empty string")
            }
            unit.stack = s
        }
        if let v = dict["parallel_index"] { unit.parallelIndex = try integer(v, "parallel_index", 0...9) }
        if let v = dict["mode"] { unit.mode = try code(v, "mode") }
        if let v = dict["fault"] { unit.fault = try code(v, "fault") }
        if let v = dict["output_model"] { unit.rated.outputModel = try integer(v, "output_model", 0...9) }
        if let v = dict["battery_voltage"] { unit.batteryVoltage = try tenths(v, "battery_voltage") }
        if let v = dict["firmware"] {
            guard let f = v as? [String: Any] else {
                throw SimulatorError("\"firmware\" must be an object with main, slave1 and slave2")
            }
            if let m = f["main"] { unit.firmware.main = try version(m, "firmware.main") }
            if let m = f["slave1"] { unit.firmware.slave1 = try version(m, "firmware.slave1") }
            if let m = f["slave2"] { unit.firmware.slave2 = try version(m, "firmware.slave2") }
        }
        if let v = dict["settings"] {
            guard let s = v as? [String: Any] else { throw SimulatorError("\"settings\" must be an object") }
            for (name, value) in s.sorted(by: { $0.key < $1.key }) {
                guard let key = SettingKey(rawValue: name) else {
                    throw SimulatorError("settings: '\(name)' is not a setting key; use one of \(keyList)")
                }
                unit.settings[key] = try settingValue(key, value)
            }
        }
        if let v = dict["faults"] {
            guard let list = v as? [Any] else { throw SimulatorError("\"faults\" must be an array of strings") }
            var injections = FaultInjections()
            for item in list {
                guard let spec = item as? String else { throw SimulatorError("\"faults\" entries must be strings") }
                try injections.add(spec)
            }
            unit.faults = injections
        }
        if let v = dict["wire_seconds"] {
            guard let n = number(v), n >= 0 else { throw SimulatorError("\"wire_seconds\" must be a number >= 0") }
            unit.wireSeconds = n
        }
        if let v = dict["requests"] { unit.requestCount = try integer(v, "requests", 0...Int.max) }
    }

    /// Applies `--set`'s `KEY=VALUE` to a unit: a setting (any value the inverter could hold, as if set
    /// from its LCD, such as 100 A) or one of ``extraKeys``.
    public static func set(_ assignment: String, on unit: inout SimulatedInverter) throws(SimulatorError) {
        guard let eq = assignment.firstIndex(of: "=") else {
            throw SimulatorError("'\(assignment)' is not KEY=VALUE (for example float_voltage=53.5)")
        }
        let name = String(assignment[..<eq])
        let text = String(assignment[assignment.index(after: eq)...])
        if let key = SettingKey(rawValue: name) {
            let value: Any = Double(text).map { $0 as Any } ?? text
            unit.settings[key] = try settingValue(key, value)
            return
        }
        switch name {
        case "stack": try apply(["stack": text], to: &unit)
        case "parallel_index", "output_model": try apply([name: Int(text) ?? -1], to: &unit)
        case "mode", "fault": try apply([name: text], to: &unit)
        case "battery_voltage": try apply([name: Double(text) ?? -1], to: &unit)
        case "firmware_main": unit.firmware.main = try version(text, name)
        case "firmware_slave1": unit.firmware.slave1 = try version(text, name)
        case "firmware_slave2": unit.firmware.slave2 = try version(text, name)
        default:
            throw SimulatorError(
                "'\(name)' is not a setting key or one of \(extraKeys.joined(separator: ", ")); settings are \(keyList)"
            )
        }
    }

    /// The state file text for `unit`, with the fault `FWS` reports now.
    public static func stateJSON(_ unit: SimulatedInverter, reportedFault: String) -> String {
        var settingLines: [String] = []
        for key in SettingKey.allCases {
            let value = unit.settings[key] ?? SettingValue(raw: 0)
            let rendered: String
            switch key.kind {
            case .voltage, .current: rendered = key.format(value)
            case .choice: rendered = quote(key.format(value))
            }
            settingLines.append("    \(quote(key.rawValue)): \(rendered)")
        }
        let fw = unit.firmware
        let faults = unit.faults.specs.map(quote).joined(separator: ", ")
        let lines = [
            "{",
            "  \"serial\": \(quote(unit.serial.digits)),",
            "  \"stack\": \(quote(unit.stack)),",
            "  \"parallel_index\": \(unit.parallelIndex),",
            "  \"firmware\": { \"main\": \(quote(fw.main)), \"slave1\": \(quote(fw.slave1)), \"slave2\": \(quote(fw.slave2)) },",
            "  \"mode\": \(quote(unit.mode)),",
            "  \"fault\": \(quote(unit.fault)),",
            "  \"reported_fault\": \(quote(reportedFault)),",
            "  \"output_model\": \(unit.rated.outputModel),",
            "  \"battery_voltage\": \(SettingKey.floatVoltage.format(SettingValue(raw: unit.batteryVoltage))),",
            "  \"settings\": {",
            settingLines.joined(separator: ",\n"),
            "  },",
            "  \"faults\": [\(faults)],",
            "  \"wire_seconds\": \(formatSeconds(unit.wireSeconds)),",
            "  \"requests\": \(unit.requestCount)",
            "}",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    private static var keyList: String { SettingKey.allCases.map(\.rawValue).joined(separator: ", ") }

    private static func settingValue(_ key: SettingKey, _ value: Any) throws(SimulatorError) -> SettingValue {
        switch key.kind {
        case .voltage:
            return SettingValue(raw: try tenths(value, key.rawValue))
        case .current:
            guard let n = number(value), n >= 0, n == n.rounded(), n < 1000 else {
                throw SimulatorError("\(key.rawValue): '\(value)' is not a whole number of amperes")
            }
            return SettingValue(raw: Int(n))
        case .choice(let names):
            if let name = value as? String, let code = names.firstIndex(of: name) { return SettingValue(raw: code) }
            if let n = number(value), n == n.rounded(), names.indices.contains(Int(n)) {
                return SettingValue(raw: Int(n))
            }
            throw SimulatorError("\(key.rawValue): '\(value)' is not one of \(names.joined(separator: ", "))")
        }
    }

    private static func tenths(_ value: Any, _ what: String) throws(SimulatorError) -> Int {
        guard let n = number(value), n >= 0, n < 100 else {
            throw SimulatorError("\(what): '\(value)' is not a voltage in volts, such as 54.0")
        }
        return Int((n * 10).rounded())
    }

    private static func integer(_ value: Any, _ what: String, _ range: ClosedRange<Int>) throws(SimulatorError) -> Int {
        guard let n = number(value), n == n.rounded(), n >= Double(range.lowerBound), n <= Double(range.upperBound)
        else {
            throw SimulatorError(
                "\"\(what)\": '\(value)' is not a whole number in \(range.lowerBound)...\(range.upperBound)"
            )
        }
        return Int(n)
    }

    private static func code(_ value: Any, _ what: String) throws(SimulatorError) -> String {
        guard let s = value as? String, s.utf8.count == 2, s.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw SimulatorError("\"\(what)\": '\(value)' is not a 2-digit code string such as \"05\"")
        }
        return s
    }

    private static func version(_ value: Any, _ what: String) throws(SimulatorError) -> String {
        guard let s = value as? String, s.utf8.count == 5, s.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw SimulatorError("\"\(what)\": '\(value)' is not a 5-digit version string such as \"06306\"")
        }
        return s
    }

    private static func number(_ value: Any) -> Double? {
        if let d = value as? Double { return d }
        if let i = value as? Int { return Double(i) }
        if let n = value as? NSNumber { return n.doubleValue }
        if let s = value as? String { return Double(s) }
        return nil
    }

    private static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if scalar.value < 0x20 {
                    let h = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
