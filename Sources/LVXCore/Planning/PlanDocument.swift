/// A saved plan: what was observed, what was desired, and the ordered writes, bound by a digest.
///
/// The ``digest`` is the SHA-256 of the canonical JSON of everything else, and ``id`` is its first
/// 16 hex digits. Loading a plan recomputes the digest, so an edited plan file is detected;
/// approvals record the digest, so an approval cannot be moved to another plan.
public struct PlanDocument: Sendable, Hashable {
    public static let formatVersion = 1

    public var created: WallTime
    public var expires: WallTime
    /// The desired-state commit the plan was computed from.
    public var desiredCommit: String
    /// The digest of the desired-state files (``DesiredFiles/digest``): apply refuses if they changed.
    public var desiredDigest: String
    public var toolVersion: String
    public var site: String?
    public var units: [PlannedUnit]

    public init(
        created: WallTime,
        expires: WallTime,
        desiredCommit: String,
        desiredDigest: String,
        toolVersion: String,
        site: String?,
        units: [PlannedUnit]
    ) {
        self.created = created
        self.expires = expires
        self.desiredCommit = desiredCommit
        self.desiredDigest = desiredDigest
        self.toolVersion = toolVersion
        self.site = site
        self.units = units
    }

    /// The SHA-256 of ``canonicalContent``.
    public var digest: String { SHA256.hex(canonicalContent.text) }

    /// The first 16 hex digits of the digest: the plan's name (`plans/ID.yaml`).
    public var id: String { String(digest.prefix(16)) }

    /// The number of writes across all units.
    public var stepCount: Int { units.reduce(0) { $0 + $1.steps.count } }

    /// Everything but the id and digest, in a fixed order: the bytes the digest is taken over.
    public var canonicalContent: JSONValue {
        .object([
            ("format_version", .int(Self.formatVersion)),
            ("created", .string(created.iso8601)),
            ("expires", .string(expires.iso8601)),
            ("desired_commit", .string(desiredCommit)),
            ("desired_digest", .string(desiredDigest)),
            ("tool_version", .string(toolVersion)),
            ("site", site.map { .string($0) } ?? .null),
            ("units", .array(units.map(\.json))),
        ])
    }

    /// The full document as written to `plans/ID.yaml` and printed by `lvx plan --json`.
    public var json: JSONValue {
        guard case .object(let pairs) = canonicalContent else { return canonicalContent }
        return .object([("id", .string(id)), ("digest", .string(digest))] + pairs)
    }
}

/// One unit's part of a plan.
public struct PlannedUnit: Sendable, Hashable {
    public var serial: SerialNumber
    public var name: String
    public var port: String
    public var firmware: FirmwareVersions
    public var parallelIndex: Int
    /// ``Observation/digest`` at plan time.
    public var observedDigest: String
    /// The settings read at plan time.
    public var observed: Settings
    /// The writes, in the order they will be sent.
    public var steps: [PlanStep]

    public init(
        serial: SerialNumber,
        name: String,
        port: String,
        firmware: FirmwareVersions,
        parallelIndex: Int,
        observedDigest: String,
        observed: Settings,
        steps: [PlanStep]
    ) {
        self.serial = serial
        self.name = name
        self.port = port
        self.firmware = firmware
        self.parallelIndex = parallelIndex
        self.observedDigest = observedDigest
        self.observed = observed
        self.steps = steps
    }

    var json: JSONValue {
        .object([
            ("serial", .string(serial.digits)),
            ("name", .string(name)),
            ("port", .string(port)),
            (
                "firmware",
                .object([
                    ("main", .string(firmware.main)), ("slave1", .string(firmware.slave1)),
                    ("slave2", .string(firmware.slave2)),
                ])
            ),
            ("parallel_index", .int(parallelIndex)),
            ("observed_digest", .string(observedDigest)),
            ("observed", observed.json),
            ("steps", .array(steps.map(\.json))),
        ])
    }
}

/// One write: the keys it changes, their values before and after, and the PI18 command text.
public struct PlanStep: Sendable, Hashable {
    public var write: SettingWrite
    /// The live values of the written keys at plan time.
    public var from: Settings
    /// The PI18 setter payload, such as `MCHGV564,540` (shown to the approver; the bytes sent are
    /// always encoded again from ``write``).
    public var command: String

    public init(write: SettingWrite, from: Settings, command: String) {
        self.write = write
        self.from = from
        self.command = command
    }

    /// The values the write sets.
    public var to: Settings { write.expected }

    var json: JSONValue {
        .object([
            ("keys", .array(write.keys.map { .string($0.rawValue) })),
            ("from", from.json),
            ("to", to.json),
            ("command", .string(command)),
        ])
    }
}
