/// `runs/last.yaml`: one run of `lvx run` in the spirit of Puppet's last_run_summary.
public struct RunSummary: Sendable {
    /// One unit's outcome.
    public struct UnitOutcome: Sendable {
        public var name: String
        public var serial: SerialNumber
        public var reachable: Bool
        public var error: String?
        public var fault: FaultCode?
        /// Every managed key's comparison (empty when unreachable).
        public var drift: [KeyDrift]

        public init(
            name: String,
            serial: SerialNumber,
            reachable: Bool,
            error: String?,
            fault: FaultCode?,
            drift: [KeyDrift]
        ) {
            self.name = name
            self.serial = serial
            self.reachable = reachable
            self.error = error
            self.fault = fault
            self.drift = drift
        }

        /// The keys beyond tolerance and not accepted.
        public var drifted: [KeyDrift] { drift.filter { $0.state == .drifted } }
    }

    public var started: WallTime
    public var finished: WallTime
    public var desiredCommit: String
    public var units: [UnitOutcome]
    /// The plan written (or the identical pending one found), if any drift.
    public var planID: String?
    /// Whether the plan id names a plan this run wrote (false: an identical plan was pending).
    public var planIsNew: Bool
    public var applied: ApplyResult?
    public var exitCode: Int

    public init(
        started: WallTime,
        finished: WallTime,
        desiredCommit: String,
        units: [UnitOutcome],
        planID: String?,
        planIsNew: Bool,
        applied: ApplyResult?,
        exitCode: Int
    ) {
        self.started = started
        self.finished = finished
        self.desiredCommit = desiredCommit
        self.units = units
        self.planID = planID
        self.planIsNew = planIsNew
        self.applied = applied
        self.exitCode = exitCode
    }

    /// The commit message: `run 2026-11-21T03:15Z: 2 units, 1 drifted: lvx6048-1 float_voltage 53.5 (want 54.0 +/- 0.05)`.
    public var commitMessage: String {
        let drifted = units.filter { !$0.drifted.isEmpty }
        let unreachable = units.filter { !$0.reachable }
        var head = "run \(started.minuteStamp): \(units.count) unit\(units.count == 1 ? "" : "s")"
        if unreachable.isEmpty && drifted.isEmpty { head += ", in sync" }
        if !unreachable.isEmpty { head += ", \(unreachable.count) unreachable" }
        if !drifted.isEmpty {
            let detail = drifted.flatMap { u in
                u.drifted.map { d in
                    "\(u.name) \(d.key.rawValue) \(d.live.map(d.key.format) ?? "?") (want \(d.key.format(d.desired))"
                        + (d.tolerance.hundredths > 0
                            ? " +/- \(d.tolerance.formatted(for: d.key).split(separator: " ")[0])" : "")
                        + ")"
                }
            }
            head += ", \(drifted.count) drifted: " + detail.joined(separator: ", ")
        }
        if let applied { head += ", applied plan \(applied.planID): \(applied.outcome.rawValue)" }
        var body: [String] = []
        if let planID { body.append(planIsNew ? "plan \(planID) written" : "plan \(planID) pending (unchanged)") }
        if let error = applied?.error { body.append("apply: \(error)") }
        for u in unreachable { body.append("\(u.name): unreachable: \(u.error ?? "?")") }
        return body.isEmpty ? head : head + "\n\n" + body.joined(separator: "\n")
    }

    public var json: JSONValue {
        .object([
            ("format_version", .int(1)),
            ("started", .string(started.iso8601)),
            ("finished", .string(finished.iso8601)),
            ("duration_seconds", .int(Int(finished.secondsSince1970 - started.secondsSince1970))),
            ("desired_commit", .string(desiredCommit)),
            ("exit_code", .int(exitCode)),
            (
                "units",
                .array(
                    units.map { u in
                        .object([
                            ("name", .string(u.name)),
                            ("serial", .string(u.serial.digits)),
                            ("reachable", .bool(u.reachable)),
                            ("error", u.error.map { .string($0) } ?? .null),
                            ("fault", u.fault.map { .string($0.code) } ?? .null),
                            ("in_sync", .int(u.drift.filter { $0.state == .inSync }.count)),
                            (
                                "within_tolerance",
                                .array(
                                    u.drift.filter { if case .withinTolerance = $0.state { true } else { false } }.map(
                                        Self.keyJSON
                                    )
                                )
                            ),
                            (
                                "accepted",
                                .array(
                                    u.drift.filter { if case .accepted = $0.state { true } else { false } }.map(
                                        Self.keyJSON
                                    )
                                )
                            ),
                            ("drifted", .array(u.drifted.map(Self.keyJSON))),
                        ])
                    }
                )
            ),
            ("plan", planID.map { .string($0) } ?? .null),
            ("plan_is_new", .bool(planIsNew)),
            (
                "apply",
                applied.map {
                    .object([
                        ("plan", .string($0.planID)), ("outcome", .string($0.outcome.rawValue)),
                        ("error", $0.error.map { .string($0) } ?? .null),
                    ])
                }
                    ?? .null
            ),
        ])
    }

    private static func keyJSON(_ d: KeyDrift) -> JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("key", .string(d.key.rawValue)),
            ("live", d.live.map { d.key.json($0) } ?? .null),
            ("want", d.key.json(d.desired)),
            ("tolerance", .string(d.tolerance.formatted(for: d.key))),
        ]
        if case .accepted(let a) = d.state {
            pairs.append(("reason", .string(a.reason)))
            pairs.append(("until", a.until.map { .string($0.description) } ?? .null))
        }
        return .object(pairs)
    }

    /// A node_exporter textfile: last run time and result, per unit reachability, drift count,
    /// fault code, and whether a plan is pending.
    public var metrics: String {
        var lines = [
            "# HELP lvx_last_run_timestamp_seconds When the last lvx run finished.",
            "# TYPE lvx_last_run_timestamp_seconds gauge",
            "lvx_last_run_timestamp_seconds \(finished.secondsSince1970)",
            "# HELP lvx_last_run_exit_code Exit code of the last lvx run (0 in sync, 1 error, 2 drift, 3 apply failed, 4 refused).",
            "# TYPE lvx_last_run_exit_code gauge",
            "lvx_last_run_exit_code \(exitCode)",
            "# HELP lvx_last_run_duration_seconds How long the last lvx run took.",
            "# TYPE lvx_last_run_duration_seconds gauge",
            "lvx_last_run_duration_seconds \(finished.secondsSince1970 - started.secondsSince1970)",
            "# HELP lvx_plan_pending Whether a plan with steps waits for approval or apply.",
            "# TYPE lvx_plan_pending gauge",
            "lvx_plan_pending \(planID != nil && applied?.outcome != .applied ? 1 : 0)",
            "# HELP lvx_unit_reachable Whether the unit answered in the last run.",
            "# TYPE lvx_unit_reachable gauge",
        ]
        func labels(_ u: UnitOutcome) -> String { "{unit=\"\(u.name)\",serial=\"\(u.serial.digits)\"}" }
        for u in units { lines.append("lvx_unit_reachable\(labels(u)) \(u.reachable ? 1 : 0)") }
        lines += [
            "# HELP lvx_unit_drifted_settings Settings beyond tolerance and not accepted.",
            "# TYPE lvx_unit_drifted_settings gauge",
        ]
        for u in units where u.reachable { lines.append("lvx_unit_drifted_settings\(labels(u)) \(u.drifted.count)") }
        lines += [
            "# HELP lvx_unit_fault_code The unit's FWS fault code (0 = no fault).", "# TYPE lvx_unit_fault_code gauge",
        ]
        for u in units where u.reachable {
            lines.append("lvx_unit_fault_code\(labels(u)) \(Int(u.fault?.code ?? "0") ?? -1)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
