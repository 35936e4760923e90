/// A problem in a file lvx wrote itself (a plan, an approval, a result), found when reading it back.
public struct RecordFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String

    public init(_ location: SourceLocation, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}

/// Strict reading of machine-written mappings: every field required unless asked for optionally.
struct RecordReader {
    let node: Node

    init(_ node: Node, what: String) throws(RecordFileError) {
        guard case .mapping = node else { throw RecordFileError(node.location, "\(what) must be a mapping") }
        self.node = node
    }

    func optional(_ key: String) -> Node? {
        guard case .mapping(let pairs, _) = node else { return nil }
        return pairs.first { $0.key.scalarText == key }?.value
    }

    func field(_ key: String) throws(RecordFileError) -> Node {
        guard let value = optional(key) else { throw RecordFileError(node.location, "missing '\(key)'") }
        return value
    }

    func string(_ key: String) throws(RecordFileError) -> String {
        let value = try field(key)
        guard let text = value.scalarText, !value.isNull else {
            throw RecordFileError(value.location, "'\(key)' must be a string")
        }
        return text
    }

    func int(_ key: String) throws(RecordFileError) -> Int {
        let value = try field(key)
        guard let text = value.scalarText, let n = Int(text) else {
            throw RecordFileError(value.location, "'\(key)' must be an integer")
        }
        return n
    }

    func time(_ key: String) throws(RecordFileError) -> WallTime {
        let value = try field(key)
        guard let text = value.scalarText, let t = WallTime(iso8601: text) else {
            throw RecordFileError(value.location, "'\(key)' must be a UTC time like 2026-11-21T03:15:00Z")
        }
        return t
    }

    func list(_ key: String) throws(RecordFileError) -> [Node] {
        let value = try field(key)
        guard case .sequence(let items, _) = value else {
            throw RecordFileError(value.location, "'\(key)' must be a list")
        }
        return items
    }

    func settings(_ key: String) throws(RecordFileError) -> Settings {
        let value = try field(key)
        return try Self.settings(value, what: key)
    }

    static func settings(_ value: Node, what: String) throws(RecordFileError) -> Settings {
        guard case .mapping(let pairs, _) = value else {
            throw RecordFileError(value.location, "'\(what)' must be a mapping of settings")
        }
        var settings = Settings()
        for pair in pairs {
            guard let name = pair.key.scalarText, let key = SettingKey(rawValue: name) else {
                throw RecordFileError(pair.key.location, "unknown setting '\(pair.key.scalarText ?? "?")'")
            }
            guard let text = pair.value.scalarText, let v = key.parse(text) else {
                throw RecordFileError(pair.value.location, "'\(name)' has a malformed value")
            }
            settings[key] = v
        }
        return settings
    }
}

extension PlanDocument {
    /// Reads a plan file back and checks it was not altered.
    ///
    /// - Parameters:
    ///   - node: the parsed file.
    ///   - encode: renders a write's PI18 command, to check the file's `command` text.
    /// - Throws: ``RecordFileError`` for a malformed file, or when the recorded digest differs from
    ///   the digest of the content (the file was edited after `lvx plan` wrote it).
    public init(node: Node, encode: (SettingWrite) -> String?) throws(RecordFileError) {
        let r = try RecordReader(node, what: "a plan")
        let version = try r.int("format_version")
        guard version == Self.formatVersion else {
            throw RecordFileError(
                try r.field("format_version").location,
                "plan format version \(version) is not supported (this lvx reads \(Self.formatVersion))"
            )
        }
        var units: [PlannedUnit] = []
        for item in try r.list("units") {
            let u = try RecordReader(item, what: "a plan unit")
            let serialText = try u.string("serial")
            guard let serial = SerialNumber(serialText) else {
                throw RecordFileError(try u.field("serial").location, "'serial' is not a serial number")
            }
            let fw = try RecordReader(try u.field("firmware"), what: "'firmware'")
            let parallelIndex = try u.int("parallel_index")
            var steps: [PlanStep] = []
            for stepNode in try u.list("steps") {
                let s = try RecordReader(stepNode, what: "a plan step")
                let to = try s.settings("to")
                guard let write = SettingWrite(keys: to, parallelIndex: parallelIndex) else {
                    throw RecordFileError(stepNode.location, "step 'to' does not name the keys of one setter")
                }
                let command = try s.string("command")
                guard encode(write) == command else {
                    throw RecordFileError(
                        try s.field("command").location,
                        "step command '\(command)' does not match its 'to' values"
                    )
                }
                steps.append(PlanStep(write: write, from: try s.settings("from"), command: command))
            }
            units.append(
                PlannedUnit(
                    serial: serial,
                    name: try u.string("name"),
                    port: try u.string("port"),
                    firmware: FirmwareVersions(
                        main: try fw.string("main"),
                        slave1: try fw.string("slave1"),
                        slave2: try fw.string("slave2")
                    ),
                    parallelIndex: parallelIndex,
                    observedDigest: try u.string("observed_digest"),
                    observed: try u.settings("observed"),
                    steps: steps
                )
            )
        }
        let site = r.optional("site").flatMap { $0.isNull ? nil : $0.scalarText }
        self.init(
            created: try r.time("created"),
            expires: try r.time("expires"),
            desiredCommit: try r.string("desired_commit"),
            desiredDigest: try r.string("desired_digest"),
            toolVersion: try r.string("tool_version"),
            site: site,
            units: units
        )
        let recorded = try r.string("digest")
        guard recorded == digest else {
            throw RecordFileError(
                try r.field("digest").location,
                "plan content does not match its digest: the file was altered after `lvx plan` wrote it"
            )
        }
        guard try r.string("id") == id else {
            throw RecordFileError(try r.field("id").location, "plan id does not match its digest")
        }
    }
}
