/// `dumps/UNIT.yaml`: what one run learned about one unit, committed on every run.
///
/// Git history of these files is the record of what each inverter held and when.
public struct UnitDump: Sendable, Hashable {
    public var name: String
    public var serial: SerialNumber
    public var takenAt: WallTime
    /// Whether the unit answered; an unreachable unit's dump holds only the error.
    public var reachable: Bool
    public var error: String?
    public var port: String?
    public var firmware: FirmwareVersions?
    public var mode: InverterMode?
    public var fault: FaultCode?
    public var warnings: [String]
    public var parallelIndex: Int?
    public var settings: Settings?

    public init(
        name: String,
        serial: SerialNumber,
        takenAt: WallTime,
        reachable: Bool,
        error: String? = nil,
        port: String? = nil,
        firmware: FirmwareVersions? = nil,
        mode: InverterMode? = nil,
        fault: FaultCode? = nil,
        warnings: [String] = [],
        parallelIndex: Int? = nil,
        settings: Settings? = nil
    ) {
        self.name = name
        self.serial = serial
        self.takenAt = takenAt
        self.reachable = reachable
        self.error = error
        self.port = port
        self.firmware = firmware
        self.mode = mode
        self.fault = fault
        self.warnings = warnings
        self.parallelIndex = parallelIndex
        self.settings = settings
    }

    /// The repository path: `dumps/NAME.yaml`.
    public static func path(for name: String) -> String { "dumps/\(name).yaml" }

    public var json: JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("format_version", .int(1)),
            ("unit", .string(name)),
            ("serial", .string(serial.digits)),
            ("taken_at", .string(takenAt.iso8601)),
            ("reachable", .bool(reachable)),
        ]
        if let error { pairs.append(("error", .string(error))) }
        if let port { pairs.append(("port", .string(port))) }
        if let firmware {
            pairs.append(
                (
                    "firmware",
                    .object([
                        ("main", .string(firmware.main)), ("slave1", .string(firmware.slave1)),
                        ("slave2", .string(firmware.slave2)),
                    ])
                )
            )
        }
        if let mode { pairs.append(("mode", .object([("code", .string(mode.code)), ("name", .string(mode.name))]))) }
        if let fault {
            pairs.append(("fault", .object([("code", .string(fault.code)), ("name", .string(fault.name))])))
        }
        if reachable { pairs.append(("warnings", .array(warnings.map { .string($0) }))) }
        if let parallelIndex { pairs.append(("parallel_index", .int(parallelIndex))) }
        if let settings { pairs.append(("settings", settings.json)) }
        return .object(pairs)
    }

    /// Reads a dump back from history.
    public init(node: Node) throws(RecordFileError) {
        let r = try RecordReader(node, what: "a dump")
        let serialText = try r.string("serial")
        guard let serial = SerialNumber(serialText) else {
            throw RecordFileError(try r.field("serial").location, "'serial' is not a serial number")
        }
        let reachable = (try r.string("reachable")) == "true"
        var firmware: FirmwareVersions?
        if let fw = r.optional("firmware") {
            let f = try RecordReader(fw, what: "'firmware'")
            firmware = FirmwareVersions(
                main: try f.string("main"),
                slave1: try f.string("slave1"),
                slave2: try f.string("slave2")
            )
        }
        var mode: InverterMode?
        if let m = r.optional("mode") { mode = InverterMode(code: try RecordReader(m, what: "'mode'").string("code")) }
        var fault: FaultCode?
        if let f = r.optional("fault") { fault = FaultCode(code: try RecordReader(f, what: "'fault'").string("code")) }
        var warnings: [String] = []
        if r.optional("warnings") != nil { warnings = try r.list("warnings").compactMap(\.scalarText) }
        self.init(
            name: try r.string("unit"),
            serial: serial,
            takenAt: try r.time("taken_at"),
            reachable: reachable,
            error: r.optional("error")?.scalarText,
            port: r.optional("port")?.scalarText,
            firmware: firmware,
            mode: mode,
            fault: fault,
            warnings: warnings,
            parallelIndex: r.optional("parallel_index").flatMap { $0.scalarText.flatMap(Int.init) },
            settings: r.optional("settings") == nil ? nil : try r.settings("settings")
        )
    }

    /// What changed from `older` to this dump, one line per difference (settings, firmware, mode,
    /// fault, parallel index, reachability).
    public func changes(since older: UnitDump) -> [String] {
        var out: [String] = []
        if older.reachable != reachable { out.append(reachable ? "reachable again" : "unreachable: \(error ?? "?")") }
        guard reachable else { return out }
        if let a = older.firmware, let b = firmware, a != b {
            out.append("firmware \(a.main)/\(a.slave1)/\(a.slave2) -> \(b.main)/\(b.slave1)/\(b.slave2)")
        }
        if let a = older.mode, let b = mode, a != b {
            out.append("mode \(a.name) (\(a.code)) -> \(b.name) (\(b.code))")
        }
        if let a = older.fault, let b = fault, a != b { out.append("fault \(a.code) -> \(b.code) (\(b.name))") }
        if let a = older.parallelIndex, let b = parallelIndex, a != b { out.append("parallel index \(a) -> \(b)") }
        if let a = older.settings, let b = settings {
            for key in SettingKey.allCases where a[key] != b[key] {
                out.append("\(key.rawValue) \(a[key].map(key.format) ?? "-") -> \(b[key].map(key.format) ?? "-")")
            }
        }
        return out
    }
}

/// Reads a unit's dumps one after another, parsing only those that differ from the one before in
/// more than their time.
///
/// Every run rewrites every dump, if only for `taken_at` and the header comment, so a year of
/// history is 35,000 versions of which a few hundred say anything new. A version whose other lines
/// are byte for byte those of the version read before it is that dump again, taken at another time.
public struct DumpReader {
    private var lastRest: [UInt8] = []
    private var last: UnitDump?

    public init() {}

    /// The dump in `bytes`: the previous one with a new `taken_at` when only that and comments
    /// changed, else `parse(bytes)`.
    public mutating func read(_ bytes: [UInt8], parse: ([UInt8]) -> UnitDump?) -> UnitDump? {
        let (time, rest) = Self.split(bytes)
        if let time, var dump = last, rest == lastRest {
            dump.takenAt = time
            last = dump
            return dump
        }
        guard let dump = parse(bytes) else { return nil }
        last = dump
        lastRest = rest
        return dump
    }

    /// The `taken_at` time and every line but it and the comments (`#`).
    static func split(_ bytes: [UInt8]) -> (WallTime?, [UInt8]) {
        var rest: [UInt8] = []
        rest.reserveCapacity(bytes.count)
        var time: WallTime?
        let prefix = Array("taken_at: ".utf8)
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            let line = bytes[start..<end]
            if line.first == UInt8(ascii: "#") {
                // a comment: the header names the run
            } else if line.starts(with: prefix) {
                var value = line.dropFirst(prefix.count)
                if value.first == UInt8(ascii: "'") && value.last == UInt8(ascii: "'") && value.count >= 2 {
                    value = value.dropFirst().dropLast()
                }
                time = WallTime(iso8601: String(decoding: value, as: UTF8.self))
            } else {
                rest += line
                rest.append(UInt8(ascii: "\n"))
            }
            start = end + 1
        }
        return (time, rest)
    }
}
