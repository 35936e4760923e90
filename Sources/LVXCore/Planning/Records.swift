/// The desired-state files a plan was computed from, and their digest.
public struct DesiredFiles: Sendable, Hashable {
    /// The commit the files were read at.
    public var commit: String
    /// Path -> content, for `lvx.yaml` and `profiles/*.yaml`.
    public var files: [String: [UInt8]]

    public init(commit: String, files: [String: [UInt8]]) {
        self.commit = commit
        self.files = files
    }

    /// SHA-256 over every path and its content's SHA-256, in path order: unchanged by commits that
    /// only add plans, approvals or dumps.
    public var digest: String {
        var text = ""
        for path in files.keys.sorted() {
            var hasher = SHA256()
            hasher.update(files[path] ?? [])
            text += "\(path)\t\(hasher.finalizeHex())\n"
        }
        return SHA256.hex(text)
    }
}

/// `approvals/ID.yaml`: who approved which plan (by digest), when, and until when.
public struct ApprovalRecord: Sendable, Hashable {
    public static let formatVersion = 1

    public var planID: String
    public var planDigest: String
    public var approvedBy: String
    public var approvedAt: WallTime
    public var expires: WallTime

    public init(planID: String, planDigest: String, approvedBy: String, approvedAt: WallTime, expires: WallTime) {
        self.planID = planID
        self.planDigest = planDigest
        self.approvedBy = approvedBy
        self.approvedAt = approvedAt
        self.expires = expires
    }

    public var json: JSONValue {
        .object([
            ("format_version", .int(Self.formatVersion)),
            ("plan", .string(planID)),
            ("plan_digest", .string(planDigest)),
            ("approved_by", .string(approvedBy)),
            ("approved_at", .string(approvedAt.iso8601)),
            ("expires", .string(expires.iso8601)),
        ])
    }

    public init(node: Node) throws(RecordFileError) {
        let r = try RecordReader(node, what: "an approval")
        guard try r.int("format_version") == Self.formatVersion else {
            throw RecordFileError(try r.field("format_version").location, "approval format version is not supported")
        }
        self.init(
            planID: try r.string("plan"),
            planDigest: try r.string("plan_digest"),
            approvedBy: try r.string("approved_by"),
            approvedAt: try r.time("approved_at"),
            expires: try r.time("expires")
        )
    }
}

/// What happened to one step during apply.
public struct StepOutcome: Sendable, Hashable {
    public enum Ack: String, Sendable, Hashable {
        /// `^1`.
        case accepted
        /// `^0`.
        case refused
        /// No valid acknowledgement: the effect is unknown.
        case error
        /// Not sent (an earlier step failed, or apply was interrupted).
        case notSent = "not_sent"
        /// The process died during the apply: whether this step was sent is not known; the
        /// read-back taken by the recovery says whether the unit holds its values.
        case unknown
    }

    public var unit: String
    public var command: String
    public var sentAt: WallTime?
    public var ack: Ack
    /// The written keys as read back with `PIRI` after the write.
    public var readBack: Settings?
    /// Whether the read-back equals the step's target values.
    public var matched: Bool
    public var detail: String?

    public init(
        unit: String,
        command: String,
        sentAt: WallTime?,
        ack: Ack,
        readBack: Settings?,
        matched: Bool,
        detail: String?
    ) {
        self.unit = unit
        self.command = command
        self.sentAt = sentAt
        self.ack = ack
        self.readBack = readBack
        self.matched = matched
        self.detail = detail
    }

    /// Whether the write was acknowledged and read back with its values.
    public var succeeded: Bool { ack == .accepted && matched }

    /// Whether the step was tried (or may have been) and did not succeed.
    public var failed: Bool { ack != .notSent && !succeeded }

    /// A step that was not sent because an earlier one failed or apply was interrupted.
    public static func notSent(unit: String, command: String) -> StepOutcome {
        StepOutcome(
            unit: unit,
            command: command,
            sentAt: nil,
            ack: .notSent,
            readBack: nil,
            matched: false,
            detail: nil
        )
    }

    public var json: JSONValue {
        .object([
            ("unit", .string(unit)),
            ("command", .string(command)),
            ("sent_at", sentAt.map { .string($0.iso8601) } ?? .null),
            ("ack", .string(ack.rawValue)),
            ("read_back", readBack?.json ?? .null),
            ("matched", .bool(matched)),
            ("detail", detail.map { .string($0) } ?? .null),
        ])
    }
}

/// `applied/ID.yaml`: the result of applying a plan, with the settings before and after.
public struct ApplyResult: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable {
        /// Every step was acknowledged and read back.
        case applied
        /// A step was refused, not acknowledged, or did not read back; later steps were not sent.
        case failed
        /// Apply was interrupted by a signal between steps, or the process died (recorded later).
        case interrupted
    }

    public var planID: String
    public var planDigest: String
    public var approvedBy: String
    public var started: WallTime
    public var finished: WallTime
    public var outcome: Outcome
    public var steps: [StepOutcome]
    /// Serial -> settings read before the first write.
    public var before: [(unit: String, settings: Settings)]
    /// Serial -> settings read after the last write (missing when the read failed).
    public var after: [(unit: String, settings: Settings?)]
    /// Services stopped and what happened when restarting them.
    public var stoppedServices: [String]
    public var restartError: String?
    public var error: String?

    public init(
        planID: String,
        planDigest: String,
        approvedBy: String,
        started: WallTime,
        finished: WallTime,
        outcome: Outcome,
        steps: [StepOutcome],
        before: [(unit: String, settings: Settings)],
        after: [(unit: String, settings: Settings?)],
        stoppedServices: [String],
        restartError: String?,
        error: String?
    ) {
        self.planID = planID
        self.planDigest = planDigest
        self.approvedBy = approvedBy
        self.started = started
        self.finished = finished
        self.outcome = outcome
        self.steps = steps
        self.before = before
        self.after = after
        self.stoppedServices = stoppedServices
        self.restartError = restartError
        self.error = error
    }

    public static func == (lhs: ApplyResult, rhs: ApplyResult) -> Bool { lhs.json == rhs.json }

    public func hash(into hasher: inout Hasher) { hasher.combine(json) }

    public var json: JSONValue {
        .object([
            ("format_version", .int(1)),
            ("plan", .string(planID)),
            ("plan_digest", .string(planDigest)),
            ("approved_by", .string(approvedBy)),
            ("started", .string(started.iso8601)),
            ("finished", .string(finished.iso8601)),
            ("outcome", .string(outcome.rawValue)),
            ("error", error.map { .string($0) } ?? .null),
            ("stopped_services", .array(stoppedServices.map { .string($0) })),
            ("restart_error", restartError.map { .string($0) } ?? .null),
            ("steps", .array(steps.map(\.json))),
            ("before", .object(before.map { ($0.unit, $0.settings.json) })),
            ("after", .object(after.map { ($0.unit, $0.settings?.json ?? .null) })),
        ])
    }
}
