/// The files that record what happened to a plan besides its approval and result.
///
/// | path | written by | means |
/// |---|---|---|
/// | `withdrawn/ID.yaml` | `lvx withdraw` | the plan may not be approved or applied |
/// | `refused/ID.yaml` | `apply`, `run` | the last attempt stopped before any write (stale, services) |
/// | `applying/ID.yaml` | `apply`, `run` | committed before the first write; a result file ends it |
public enum LifecyclePaths {
    public static func plan(_ id: String) -> String { "plans/\(id).yaml" }
    public static func approval(_ id: String) -> String { "approvals/\(id).yaml" }
    public static func result(_ id: String) -> String { "applied/\(id).yaml" }
    public static func withdrawal(_ id: String) -> String { "withdrawn/\(id).yaml" }
    public static func refusal(_ id: String) -> String { "refused/\(id).yaml" }
    public static func inProgress(_ id: String) -> String { "applying/\(id).yaml" }
}

/// `withdrawn/ID.yaml`: a person took the plan back, or a newer plan for its units replaced it.
public struct WithdrawalRecord: Sendable, Hashable {
    public var planID: String
    public var by: String
    public var at: WallTime
    public var reason: String?
    /// The newer plan that replaced this pending one, when `lvx plan` or `lvx run` wrote it.
    public var supersededBy: String?

    public init(planID: String, by: String, at: WallTime, reason: String?, supersededBy: String? = nil) {
        self.planID = planID
        self.by = by
        self.at = at
        self.reason = reason
        self.supersededBy = supersededBy
    }

    public var json: JSONValue {
        .object([
            ("format_version", .int(1)),
            ("plan", .string(planID)),
            ("withdrawn_by", .string(by)),
            ("withdrawn_at", .string(at.iso8601)),
            ("reason", reason.map { .string($0) } ?? .null),
            ("superseded_by", supersededBy.map { .string($0) } ?? .null),
        ])
    }

    public init(node: Node) throws(RecordFileError) {
        let r = try RecordReader(node, what: "a withdrawal")
        self.init(
            planID: try r.string("plan"),
            by: try r.string("withdrawn_by"),
            at: try r.time("withdrawn_at"),
            reason: r.optional("reason").flatMap { $0.isNull ? nil : $0.scalarText },
            supersededBy: r.optional("superseded_by").flatMap { $0.isNull ? nil : $0.scalarText }
        )
    }
}

/// `refused/ID.yaml`: the last apply of an approved plan stopped before its first write.
///
/// A stale refusal ends the plan (units or the desired state moved on); any other (the services
/// could not be stopped) leaves it approved, to be applied again once fixed.
public struct RefusalRecord: Sendable, Hashable {
    public var planID: String
    public var at: WallTime
    public var stale: Bool
    public var message: String

    public init(planID: String, at: WallTime, stale: Bool, message: String) {
        self.planID = planID
        self.at = at
        self.stale = stale
        self.message = message
    }

    /// The record for `refusal`, or `nil` for refusals that say nothing about the plan itself.
    public init?(_ refusal: Refusal, at: WallTime) {
        switch refusal {
        case .stale(let id, let reasons):
            // A unit that could not be found or read may answer next time; a change is for good.
            let final = reasons.contains { reason in
                switch reason {
                case .notFound, .unreadable: false
                default: true
                }
            }
            self.init(planID: id, at: at, stale: final, message: reasons.map(\.description).joined(separator: "; "))
        case .notDesired(let id, let difference):
            self.init(planID: id, at: at, stale: true, message: "not what the desired state gives: \(difference)")
        case .servicesNotStopped(let id, let unit, let message):
            self.init(planID: id, at: at, stale: false, message: "could not stop \(unit): \(message)")
        default: return nil
        }
    }

    public var json: JSONValue {
        .object([
            ("format_version", .int(1)),
            ("plan", .string(planID)),
            ("at", .string(at.iso8601)),
            ("stale", .bool(stale)),
            ("message", .string(message)),
        ])
    }

    public init(node: Node) throws(RecordFileError) {
        let r = try RecordReader(node, what: "a refusal")
        self.init(
            planID: try r.string("plan"),
            at: try r.time("at"),
            stale: try r.field("stale").scalarText == "true",
            message: try r.string("message")
        )
    }
}

/// `applying/ID.yaml`: committed before the services are stopped and again before the first
/// write, so a killed apply always leaves a trace.
///
/// Recovery (any later `apply`, `run` or `recover` that holds the lock) starts ``stoppedServices``
/// again; after a write had started it also re-reads the units and records the result as
/// interrupted with what the read-back shows, and before one it records a refusal that keeps the
/// plan approved.
public struct ApplyingRecord: Sendable, Hashable {
    /// How far the apply got.
    public enum Phase: String, Sendable, Hashable {
        /// About to stop the services; nothing written. ``stoppedServices`` are the ones asked for.
        case stopping
        /// About to write; ``stoppedServices`` are the ones that were running and were stopped.
        case writing
        /// The apply ended before any write (a refusal) and the services were started again.
        case ended
    }

    public var planID: String
    public var planDigest: String
    public var approvedBy: String
    public var started: WallTime
    public var pid: Int
    public var stoppedServices: [String]
    public var phase: Phase

    public init(
        planID: String,
        planDigest: String,
        approvedBy: String,
        started: WallTime,
        pid: Int,
        stoppedServices: [String],
        phase: Phase = .writing
    ) {
        self.planID = planID
        self.planDigest = planDigest
        self.approvedBy = approvedBy
        self.started = started
        self.pid = pid
        self.stoppedServices = stoppedServices
        self.phase = phase
    }

    public var json: JSONValue {
        .object([
            ("format_version", .int(1)),
            ("plan", .string(planID)),
            ("plan_digest", .string(planDigest)),
            ("approved_by", .string(approvedBy)),
            ("started", .string(started.iso8601)),
            ("pid", .int(pid)),
            ("stopped_services", .array(stoppedServices.map { .string($0) })),
            ("phase", .string(phase.rawValue)),
        ])
    }

    public init(node: Node) throws(RecordFileError) {
        let r = try RecordReader(node, what: "an in-progress record")
        var phase = Phase.writing
        if let node = r.optional("phase") {
            guard let text = node.scalarText, let known = Phase(rawValue: text) else {
                throw RecordFileError(node.location, "unknown phase")
            }
            phase = known
        }
        var services: [String] = []
        for item in try r.list("stopped_services") {
            guard let text = item.scalarText else { throw RecordFileError(item.location, "a service must be a string") }
            services.append(text)
        }
        self.init(
            planID: try r.string("plan"),
            planDigest: try r.string("plan_digest"),
            approvedBy: try r.string("approved_by"),
            started: try r.time("started"),
            pid: try r.int("pid"),
            stoppedServices: services,
            phase: phase
        )
    }
}

extension ApplyResult {
    /// What `plans` and `show` need from `applied/ID.yaml`.
    public struct Summary: Sendable, Hashable {
        public var outcome: Outcome
        public var finished: WallTime
        public var error: String?
        /// The command of the step that failed, if one did.
        public var failedStep: String?

        public init(outcome: Outcome, finished: WallTime, error: String?, failedStep: String?) {
            self.outcome = outcome
            self.finished = finished
            self.error = error
            self.failedStep = failedStep
        }

        public init(node: Node) throws(RecordFileError) {
            let r = try RecordReader(node, what: "an apply result")
            let text = try r.string("outcome")
            guard let outcome = Outcome(rawValue: text) else {
                throw RecordFileError(try r.field("outcome").location, "unknown outcome '\(text)'")
            }
            var failed: String?
            for step in try r.list("steps") {
                let s = try RecordReader(step, what: "a step outcome")
                let ack = try s.string("ack")
                if ack != StepOutcome.Ack.notSent.rawValue
                    && (ack != StepOutcome.Ack.accepted.rawValue || s.optional("matched")?.scalarText != "true")
                {
                    failed = "\(try s.string("unit")): \(try s.string("command"))"
                    break
                }
            }
            self.init(
                outcome: outcome,
                finished: try r.time("finished"),
                error: r.optional("error").flatMap { $0.isNull ? nil : $0.scalarText },
                failedStep: failed
            )
        }
    }

    public var summary: Summary {
        let failed = steps.first(where: \.failed)
        return Summary(
            outcome: outcome,
            finished: finished,
            error: error,
            failedStep: failed.map { "\($0.unit): \($0.command)" }
        )
    }
}
