/// Renders `lvx fleet status` and `lvx fleet plans`, as text (an aligned table) and as JSON.
public struct FleetText: Sendable {
    public var now: WallTime
    public var policy: FleetPolicy

    public init(now: WallTime, policy: FleetPolicy) {
        self.now = now
        self.policy = policy
    }

    /// A duration as people say it: `45s`, `12m`, `3h05m`, `2d04h`.
    public static func age(_ seconds: Int64) -> String {
        let s = max(0, seconds)
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" }
        let two: (Int64) -> String = { $0 < 10 ? "0\($0)" : "\($0)" }
        if s < 86_400 { return "\(s / 3600)h\(two(s % 3600 / 60))m" }
        return "\(s / 86_400)d\(two(s % 86_400 / 3600))h"
    }

    /// Parses a duration such as `15m`, `1h` or `1d12h` into seconds (`nil` when it is not one).
    public static func seconds(_ text: String) -> Int64? { TextFormats.durationSeconds(text) }

    // MARK: - status

    /// The table: one row per site, then a line per site that is late, unreachable or unknown, then a summary.
    public func status(_ sites: [SiteStatus]) -> String {
        var rows = [["SITE", "HEALTH", "LAST RUN", "UNITS", "DRIFT", "FAULTS", "PLAN", "LAST APPLY"]]
        var notes: [String] = []
        for site in sites {
            let health = site.health(now: now, policy: policy)
            let run = site.lastRun
            let units = run.map { r in "\(r.units.filter(\.reachable).count)/\(r.units.count)" } ?? "-"
            let drift = run.map { r in r.units.flatMap { u in u.driftedKeys.map { "\(u.name):\($0)" } } } ?? []
            let faults = run.map { r in r.units.compactMap { u in u.fault.map { "\(u.name):\($0)" } } } ?? []
            rows.append([
                site.site,
                health.rawValue.replacingUnderscores,
                site.age(now: now).map { "\(Self.age($0)) ago" } ?? "never",
                units,
                drift.isEmpty ? "-" : drift.joined(separator: ","),
                faults.isEmpty ? "-" : faults.joined(separator: ","),
                site.pendingPlan.map(planCell) ?? "-",
                site.lastApply.map { "\(String($0.id.prefix(8))) \($0.state.name.replacingUnderscores)" } ?? "-",
            ])
            switch health {
            case .late:
                let age = site.age(now: now).map(Self.age) ?? "?"
                notes.append(
                    "\(site.site): late: no run for \(age), more than \(policy.latePeriods) x \(Self.age(policy.periodSeconds))"
                )
            case .unreachable:
                let names = run?.units.filter { !$0.reachable }.map(\.name) ?? []
                notes.append("\(site.site): unreachable in the last run: \(names.joined(separator: ", "))")
            case .unknown:
                notes.append("\(site.site): \(site.problem ?? "no run recorded")")
            case .inSync, .changes:
                break
            }
        }
        var out = Self.table(rows)
        for note in notes { out += note + "\n" }
        out += summary(sites) + "\n"
        return out
    }

    /// `3 site(s): 1 in sync, 1 with changes, 1 late, 0 unreachable, 0 unknown`.
    public func summary(_ sites: [SiteStatus]) -> String {
        let health = sites.map { $0.health(now: now, policy: policy) }
        func count(_ h: SiteStatus.Health) -> Int { health.filter { $0 == h }.count }
        return "\(sites.count) site(s): \(count(.inSync)) in sync, \(count(.changes)) with changes, "
            + "\(count(.late)) late, \(count(.unreachable)) unreachable, \(count(.unknown)) unknown"
    }

    /// Every site as one JSON object.
    public func statusJSON(_ sites: [SiteStatus]) -> JSONValue {
        .array(
            sites.map { site in
                let run = site.lastRun
                return .object([
                    ("site", .string(site.site)),
                    ("tip", .string(site.tip)),
                    ("health", .string(site.health(now: now, policy: policy).rawValue)),
                    ("late", .bool(site.isLate(now: now, policy: policy))),
                    (
                        "last_run",
                        run.map { r in
                            .object([
                                ("finished", .string(r.finished.iso8601)),
                                ("age_seconds", .int(Int(site.age(now: now) ?? 0))),
                                ("exit_code", .int(r.exitCode)),
                            ])
                        } ?? .null
                    ),
                    ("problem", site.problem.map { .string($0) } ?? .null),
                    (
                        "units",
                        .array(
                            (run?.units ?? []).map { u in
                                .object([
                                    ("name", .string(u.name)), ("reachable", .bool(u.reachable)),
                                    ("drifted", .array(u.driftedKeys.map { .string($0) })),
                                    ("fault", u.fault.map { .string($0) } ?? .null),
                                ])
                            }
                        )
                    ),
                    ("pending_plan", site.pendingPlan.map(planJSON) ?? .null),
                    ("last_apply", site.lastApply.map(planJSON) ?? .null),
                ])
            }
        )
    }

    // MARK: - plans

    /// Every pending plan across the sites, oldest first (the longest waiting on top).
    public func plans(_ plans: [FleetPlan]) -> String {
        guard !plans.isEmpty else { return "no plan is waiting at any site\n" }
        var rows = [["SITE", "PLAN", "CREATED", "WAITING", "WRITES", "UNITS", "STATE"]]
        for plan in plans {
            rows.append([
                plan.site, plan.id, plan.created.iso8601,
                Self.age(now.secondsSince1970 - plan.created.secondsSince1970),
                "\(plan.writes)", plan.units.joined(separator: ","), plan.state.description,
            ])
        }
        return Self.table(rows)
            + "\(plans.count) plan(s) waiting; approve one with lvx approve PLAN --fleet UPSTREAM "
            + "(review it first in a clone: git clone -b sites/SITE UPSTREAM, then lvx show PLAN)\n"
    }

    public func plansJSON(_ plans: [FleetPlan]) -> JSONValue { .array(plans.map(planJSON)) }

    private func planCell(_ plan: FleetPlan) -> String {
        "\(String(plan.id.prefix(8))) \(plan.state.name.replacingUnderscores), "
            + Self.age(now.secondsSince1970 - plan.created.secondsSince1970)
    }

    private func planJSON(_ plan: FleetPlan) -> JSONValue {
        .object([
            ("site", .string(plan.site)), ("id", .string(plan.id)), ("created", .string(plan.created.iso8601)),
            ("age_seconds", .int(Int(now.secondsSince1970 - plan.created.secondsSince1970))),
            ("writes", .int(plan.writes)), ("units", .array(plan.units.map { .string($0) })),
            ("state", .object([("name", .string(plan.state.name)), ("text", .string(plan.state.description))])),
        ])
    }

    /// Left-aligned columns two spaces apart, without trailing blanks.
    static func table(_ rows: [[String]]) -> String {
        var widths: [Int] = []
        for row in rows {
            for (i, cell) in row.enumerated() {
                if i >= widths.count { widths.append(0) }
                widths[i] = max(widths[i], cell.count)
            }
        }
        var out = ""
        for row in rows {
            var line = ""
            for (i, cell) in row.enumerated() {
                line += i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 2)
            }
            out += line + "\n"
        }
        return out
    }
}

extension String {
    fileprivate var replacingUnderscores: String { split(separator: "_").joined(separator: " ") }
}
