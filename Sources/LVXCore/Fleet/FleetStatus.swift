/// How `lvx fleet status` judges a site: the timer's period and how many periods make it late.
public struct FleetPolicy: Sendable, Hashable {
    /// The agents' timer period, seconds (lvx-run.timer: 15 minutes).
    public var periodSeconds: Int64
    /// A site whose last run finished more than this many periods ago is late.
    public var latePeriods: Int

    public init(periodSeconds: Int64 = 15 * 60, latePeriods: Int = 3) {
        self.periodSeconds = periodSeconds
        self.latePeriods = latePeriods
    }

    /// The age beyond which a site is late, seconds.
    public var lateAfterSeconds: Int64 { periodSeconds * Int64(latePeriods) }
}

/// What a site's newest `runs/last.yaml` says, as `lvx fleet status` shows it.
public struct LastRun: Sendable, Hashable {
    /// One unit of the run.
    public struct Unit: Sendable, Hashable {
        public var name: String
        public var reachable: Bool
        /// The keys beyond tolerance and not accepted.
        public var driftedKeys: [String]
        /// The FWS fault code when not `00`.
        public var fault: String?

        public init(name: String, reachable: Bool, driftedKeys: [String], fault: String?) {
            self.name = name
            self.reachable = reachable
            self.driftedKeys = driftedKeys
            self.fault = fault
        }
    }

    public var finished: WallTime
    public var exitCode: Int
    public var units: [Unit]

    public init(finished: WallTime, exitCode: Int, units: [Unit]) {
        self.finished = finished
        self.exitCode = exitCode
        self.units = units
    }

    /// Reads the fields fleet status needs from a parsed `runs/last.yaml`.
    ///
    /// - Returns: `nil` when the document is not a run summary (no `finished` time).
    public init?(_ node: Node) {
        guard let finishedText = node["finished"]?.scalarText, let finished = WallTime(iso8601: finishedText)
        else { return nil }
        self.finished = finished
        exitCode = node["exit_code"]?.scalarText.flatMap { Int($0) } ?? -1
        var units: [Unit] = []
        if case .sequence(let items, _) = node["units"] {
            for item in items {
                var drifted: [String] = []
                if case .sequence(let keys, _) = item["drifted"] {
                    drifted = keys.compactMap { $0["key"]?.scalarText }
                }
                let fault = item["fault"].flatMap { $0.isNull ? nil : $0.scalarText }
                units.append(
                    Unit(
                        name: item["name"]?.scalarText ?? "?",
                        reachable: item["reachable"]?.scalarText == "true",
                        driftedKeys: drifted,
                        fault: fault == "00" ? nil : fault
                    )
                )
            }
        }
        self.units = units
    }
}

/// A plan as the fleet view names it: its id, when it was made, and its state's name and text.
public struct FleetPlan: Sendable, Hashable {
    public var site: String
    public var id: String
    public var created: WallTime
    public var writes: Int
    /// The units the plan writes.
    public var units: [String]
    public var state: PlanState

    public init(site: String, id: String, created: WallTime, writes: Int, units: [String], state: PlanState) {
        self.site = site
        self.id = id
        self.created = created
        self.writes = writes
        self.units = units
        self.state = state
    }

    /// Whether the plan still waits for someone (``PlanState/isWaiting``).
    public var isPending: Bool { state.isWaiting }

    /// Whether the plan reached an outcome on the units (``PlanState/isOutcome``).
    public var isOutcome: Bool { state.isOutcome }
}

/// One row of `lvx fleet status`: a site's last run, its pending plan and its last apply.
public struct SiteStatus: Sendable, Hashable {
    /// What is wrong with a site as a whole.
    public enum Health: String, Sendable, Hashable {
        case inSync = "in_sync"
        /// Drift, or a plan waiting.
        case changes
        /// No run for longer than the policy allows.
        case late
        /// A unit did not answer in the last run.
        case unreachable
        /// No run recorded, or its summary could not be read.
        case unknown
    }

    public var site: String
    /// The site branch's commit.
    public var tip: String
    public var lastRun: LastRun?
    /// Why there is no last run, when there is none.
    public var problem: String?
    /// The newest plan that still waits, if any.
    public var pendingPlan: FleetPlan?
    /// The newest plan with an outcome on the units, if any.
    public var lastApply: FleetPlan?

    public init(
        site: String,
        tip: String,
        lastRun: LastRun?,
        problem: String?,
        pendingPlan: FleetPlan?,
        lastApply: FleetPlan?
    ) {
        self.site = site
        self.tip = tip
        self.lastRun = lastRun
        self.problem = problem
        self.pendingPlan = pendingPlan
        self.lastApply = lastApply
    }

    /// Seconds since the last run finished.
    public func age(now: WallTime) -> Int64? { lastRun.map { now.secondsSince1970 - $0.finished.secondsSince1970 } }

    /// Whether the last run is older than the policy allows (a site with no run is not late but unknown).
    public func isLate(now: WallTime, policy: FleetPolicy) -> Bool {
        guard let age = age(now: now) else { return false }
        return age > policy.lateAfterSeconds
    }

    /// The site's worst condition, in the order late, unreachable, unknown, changes, in sync.
    public func health(now: WallTime, policy: FleetPolicy) -> Health {
        guard let run = lastRun else { return .unknown }
        if isLate(now: now, policy: policy) { return .late }
        if run.units.contains(where: { !$0.reachable }) { return .unreachable }
        if pendingPlan != nil || run.units.contains(where: { !$0.driftedKeys.isEmpty }) { return .changes }
        return .inSync
    }
}

/// The exit status of `lvx fleet status`: 1 when any site is late, unreachable or unknown, else 2
/// when any has drift or a pending plan, else 0.
public enum FleetVerdict {
    public static func exitStatus(_ sites: [SiteStatus], now: WallTime, policy: FleetPolicy) -> ExitStatus {
        let health = sites.map { $0.health(now: now, policy: policy) }
        if health.contains(where: { $0 == .late || $0 == .unreachable || $0 == .unknown }) { return .failure }
        if health.contains(.changes) { return .changes }
        return .success
    }
}

extension Node {
    /// The value of `key` in a mapping; `nil` for a missing key or a node that is not a mapping.
    public subscript(key: String) -> Node? {
        guard case .mapping(let pairs, _) = self else { return nil }
        return pairs.first { $0.key.scalarText == key }?.value
    }
}
