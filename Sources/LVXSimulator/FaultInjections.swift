import LVXCore

/// A problem with the simulator's input (a flag, a config or state file): says what and how to fix it.
public struct SimulatorError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, lower-case, naming the offending value.
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// The faults injected into one unit: deterministic and counted, so a test knows exactly what happens.
///
/// Specs (as given to `--fault SERIAL:SPEC` and kept in the state file's `faults` list):
/// - `drop=N`: send no reply to the next N requests (a setter's effect still happens).
/// - `corrupt-crc=N`: corrupt the CRC of the next N replies.
/// - `garbage=N`: send junk (random non-CR bytes and a stray CR-terminated junk frame) before the next N replies.
/// - `hang-after=N`: answer N more requests, then never answer again (`hang-after=0`: hung now).
/// - `unplug-after=N`: answer N more requests; the next one is not answered and the unit is unplugged:
///   its device node goes away (uhid: the kernel removes `/dev/hidrawN`; pty and TCP: hung up), as
///   when a USB cable is pulled during an exchange.
/// - `ignore=KEY[,KEY]`: acknowledge setters for KEY with `^1` but keep the old value (a silent revert).
/// - `refuse=KEY[,KEY]`: always answer `^0` to setters for KEY.
/// - `mode=NN`: `MOD` reports NN.
/// - `fault=NN`: `FWS` reports fault NN (this also suppresses the derived fault 86).
public struct FaultInjections: Sendable, Hashable {
    /// Replies still to drop.
    public var dropReplies = 0
    /// Replies still to send with a corrupted CRC.
    public var corruptReplies = 0
    /// Replies still to precede with garbage.
    public var garbageReplies = 0
    /// Requests still to answer before hanging; `nil` never hangs, 0 is hung.
    public var hangAfter: Int?
    /// Requests still to answer before the unit is unplugged; `nil` never, 0 at the next request.
    public var unplugAfter: Int?
    /// Keys whose setters are acknowledged but not honoured.
    public var ignoredKeys: Set<SettingKey> = []
    /// Keys whose setters are refused.
    public var refusedKeys: Set<SettingKey> = []
    /// The mode code `MOD` reports instead of the unit's own.
    public var mode: String?
    /// The fault code `FWS` reports instead of the unit's own or the derived one.
    public var fault: String?

    public init() {}

    /// Whether the unit no longer answers.
    public var isHung: Bool { hangAfter == 0 }

    /// Whether nothing is injected.
    public var isEmpty: Bool { specs.isEmpty }

    /// Adds one spec such as `drop=2` or `ignore=float_voltage`.
    ///
    /// - Throws: ``SimulatorError`` naming the spec when it is not one of the documented forms.
    public mutating func add(_ spec: String) throws(SimulatorError) {
        guard let eq = spec.firstIndex(of: "=") else {
            throw SimulatorError(
                "fault '\(spec)' is not NAME=VALUE; use drop=N, corrupt-crc=N, garbage=N, "
                    + "hang-after=N, unplug-after=N, ignore=KEY, refuse=KEY, mode=NN or fault=NN"
            )
        }
        let name = String(spec[..<eq])
        let value = String(spec[spec.index(after: eq)...])
        switch name {
        case "drop": dropReplies = try Self.count(value, spec)
        case "corrupt-crc": corruptReplies = try Self.count(value, spec)
        case "garbage": garbageReplies = try Self.count(value, spec)
        case "hang-after": hangAfter = try Self.count(value, spec)
        case "unplug-after": unplugAfter = try Self.count(value, spec)
        case "ignore": ignoredKeys.formUnion(try Self.keys(value, spec))
        case "refuse": refusedKeys.formUnion(try Self.keys(value, spec))
        case "mode": mode = try Self.code(value, spec)
        case "fault": fault = try Self.code(value, spec)
        default:
            throw SimulatorError(
                "fault '\(spec)': unknown kind '\(name)'; use drop, corrupt-crc, garbage, "
                    + "hang-after, unplug-after, ignore, refuse, mode or fault"
            )
        }
    }

    /// The active injections as specs, in a stable order (what the state file holds).
    public var specs: [String] {
        var out: [String] = []
        if dropReplies > 0 { out.append("drop=\(dropReplies)") }
        if corruptReplies > 0 { out.append("corrupt-crc=\(corruptReplies)") }
        if garbageReplies > 0 { out.append("garbage=\(garbageReplies)") }
        if let hangAfter { out.append("hang-after=\(hangAfter)") }
        if let unplugAfter { out.append("unplug-after=\(unplugAfter)") }
        for key in ignoredKeys.sorted() { out.append("ignore=\(key.rawValue)") }
        for key in refusedKeys.sorted() { out.append("refuse=\(key.rawValue)") }
        if let mode { out.append("mode=\(mode)") }
        if let fault { out.append("fault=\(fault)") }
        return out
    }

    /// Parses a list of specs.
    public init(specs: [String]) throws(SimulatorError) {
        self.init()
        for spec in specs { try add(spec) }
    }

    private static func count(_ value: String, _ spec: String) throws(SimulatorError) -> Int {
        guard let n = Int(value), n >= 0 else {
            throw SimulatorError("fault '\(spec)': '\(value)' is not a count (a whole number, 0 or more)")
        }
        return n
    }

    private static func keys(_ value: String, _ spec: String) throws(SimulatorError) -> Set<SettingKey> {
        var out: Set<SettingKey> = []
        for part in value.split(separator: ",") {
            guard let key = SettingKey(rawValue: String(part)) else {
                let known = SettingKey.allCases.map(\.rawValue).joined(separator: ", ")
                throw SimulatorError("fault '\(spec)': '\(part)' is not a setting key; use one of \(known)")
            }
            out.insert(key)
        }
        guard !out.isEmpty else { throw SimulatorError("fault '\(spec)' names no setting key") }
        return out
    }

    private static func code(_ value: String, _ spec: String) throws(SimulatorError) -> String {
        guard value.utf8.count == 2, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw SimulatorError("fault '\(spec)': '\(value)' is not a 2-digit code such as 06 or 86")
        }
        return value
    }
}
