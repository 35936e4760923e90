import ArgumentParser
import Foundation
import LVXCore
import LVXGit
import LVXReconcile
import LVXReport
import LVXYAML

extension LVXCommand {
    /// `lvx report`: every unit's settings over time, as a static HTML page.
    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a static HTML page with each unit's settings over time, from git history.",
            discussion: """
                Per unit, one chart per setting: the live value as a step line, the desired value with its tolerance band, drift shaded, unreachable gaps, faults along the top, and markers for plans, approvals and apply outcomes (hover for details); and a summary table per site. Everything comes from what the runs committed: dumps, plans, approvals and results. The page needs no server and no script: open it from the file.
                """
        )

        @OptionGroup var repository: RepositoryOptions
        @Option(help: ArgumentHelp("Where to write the page.", valueName: "file")) var out = "lvx-report.html"
        @Option(name: .customLong("unit"), help: ArgumentHelp("Only this unit (repeatable).", valueName: "name"))
        var units: [String] = []
        @Option(help: ArgumentHelp("Start at this date (YYYY-MM-DD or an ISO time).", valueName: "date"))
        var since: String?
        @Option(
            help: ArgumentHelp(
                "Report every site of a fleet instead: its upstream (a URL or path), read through lvx fleet's mirror.",
                valueName: "upstream"
            )
        )
        var fleet: String?
        @Option(help: ArgumentHelp("The fleet mirror's directory, with --fleet.", valueName: "dir")) var cache: String?

        func run() async throws {
            try await execute {
                let from = try since.map { try DumpHistory.parseDate($0, endOfDay: false) }
                var sites: [ReportPage.Site] = []
                if let fleet {
                    let (mirror, branches) = try FleetMirror.open(upstream: fleet, cache: cache, history: .whole)
                    var options = RepositoryOptions()
                    options.repo = mirror.path
                    for branch in branches {
                        try mirror.setHead(branch.reference)
                        let reconciler = try Reconciler.real(repository: options, opened: mirror)
                        sites.append(
                            try SiteReport(git: mirror, reconciler: reconciler, since: from).site(
                                units: units,
                                strict: false
                            )
                        )
                    }
                } else {
                    let git = try repository.open()
                    let reconciler = try Reconciler.real(repository: repository, opened: git)
                    sites.append(try SiteReport(git: git, reconciler: reconciler, since: from).site(units: units))
                }
                let page = ReportPage(
                    title: fleet == nil ? "lvx report: \(sites[0].name)" : "lvx report: \(sites.count) sites",
                    generated: SystemClock().now(),
                    toolVersion: LVXCommand.version,
                    sites: sites
                )
                do {
                    try Data(page.render().utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
                } catch {
                    throw CLIError("cannot write the report to '\(out)': \(error.localizedDescription)")
                }
                let path = URL(fileURLWithPath: out).standardizedFileURL.path
                let units = sites.flatMap(\.units)
                let dumps = units.reduce(0) { $0 + $1.timeline.dumps }
                let names = sites.map(\.name).joined(separator: ", ")
                Terminal.standardOutput.line(
                    "wrote \(path): \(units.count) unit(s), \(dumps) distinct dump(s), site\(sites.count == 1 ? "" : "s") \(names)"
                )
                return .success
            }
        }
    }
}

/// Reads what one site's history holds for the report: the dumps where something changed, the
/// versions of the desired state, and the plans with their approvals and outcomes.
struct SiteReport {
    let git: GitRepository
    let reconciler: Reconciler
    let since: WallTime?

    /// The site's page part; with `strict`, a unit in `wanted` that the site lacks is an error.
    func site(units wanted: [String], strict: Bool = true) throws -> ReportPage.Site {
        let snapshot = try reconciler.snapshot()
        guard let state = snapshot.state else {
            _ = try snapshot.requireValid()
            throw CLIError("the desired state at HEAD is invalid")
        }
        var units = state.units
        if !wanted.isEmpty {
            for name in wanted where strict && state.unit(named: name) == nil {
                throw CLIError(
                    "no unit named '\(name)' in lvx.yaml",
                    hint: "the units are \(state.units.map(\.name).joined(separator: ", "))"
                )
            }
            units = units.filter { wanted.contains($0.name) }
        }
        let desired = try desiredVersions(upTo: snapshot.commit)
        let plans = try reconciler.records(at: snapshot).all().compactMap { try? $0.records.get() }
        let now = reconciler.clock.now()
        var summaries: [UnitSummary] = []
        for unit in units {
            let history = DumpHistory(repository: git, unit: unit.name)
            // The dumps where something changed (the first is one); before --since, only the last
            // of them, as the state at the start.
            var points: [TimelineBuilder.Point] = []
            var end: WallTime?
            var baseline: HistoryIndex.Entry?
            func point(_ entry: HistoryIndex.Entry, at time: WallTime) {
                if let dump = history.dump(at: entry.commit) {
                    points.append(TimelineBuilder.Point(time: time, dump: dump))
                }
            }
            for entry in try history.timeline() {
                end = entry.takenAt
                guard !entry.changes.isEmpty else { continue }
                if let since, entry.takenAt < since {
                    baseline = entry
                    continue
                }
                if points.isEmpty, let baseline, let since { point(baseline, at: since) }
                point(entry, at: entry.takenAt)
            }
            if points.isEmpty, let baseline, let since { point(baseline, at: since) }
            let mine = plans.filter { records in
                records.plan.units.contains { $0.name == unit.name && !$0.steps.isEmpty }
            }
            let timeline = TimelineBuilder.build(
                name: unit.name,
                serial: unit.serial.digits,
                points: points,
                end: end ?? now,
                desired: desired,
                markers: mine.flatMap(markers)
            )
            summaries.append(
                UnitSummary(
                    timeline: timeline,
                    plans: mine.count,
                    applied: mine.filter { $0.result?.outcome == .applied }.count,
                    failed: mine.filter { $0.result.map { $0.outcome != .applied } ?? false }.count,
                    pending: mine.filter { PlanGate.state(of: $0, policy: snapshot.applyPolicy, now: now).isWaiting }
                        .count
                )
            )
        }
        return ReportPage.Site(name: state.site ?? "site", commit: snapshot.commit, units: summaries)
    }

    /// Every version of the desired state that loads, oldest first, dated by its commit.
    func desiredVersions(upTo tip: String) throws -> [TimelineBuilder.Desired] {
        var out: [TimelineBuilder.Desired] = []
        for (id, time) in try desiredCommits(upTo: tip) {
            guard let state = try? reconciler.snapshot(at: id).state else { continue }
            out.append(TimelineBuilder.Desired(time: time, state: state))
        }
        return out
    }

    /// The commits that changed `lvx.yaml` or `profiles/`, oldest first.
    ///
    /// Finding them walks the
    /// whole history (35,000 commits in a year), so the list is kept beside the history index
    /// (`lvx/history/BRANCH/desired.index`) up to the commit it was made at, and extended from there.
    func desiredCommits(upTo tip: String) throws -> [(id: String, time: WallTime)] {
        let branch = ((try? git.currentBranch()) ?? nil) ?? "HEAD"
        let file = (git.gitDirectory as NSString).appendingPathComponent("lvx/history/\(branch)/desired.index")
        var known: [(id: String, time: WallTime)] = []
        var after: String?
        if let data = FileManager.default.contents(atPath: file) {
            let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
            if lines.count >= 2, lines[0] == "lvx desired index 1", lines[1].hasPrefix("tip ") {
                let indexed = String(lines[1].dropFirst(4))
                let entries = lines.dropFirst(2).compactMap { line -> (id: String, time: WallTime)? in
                    let parts = line.split(separator: " ")
                    guard parts.count == 2, parts[0].count == 40, let seconds = Int64(parts[1]) else { return nil }
                    return (String(parts[0]), WallTime(secondsSince1970: seconds))
                }
                if entries.count == lines.count - 2, (try? git.headContains(indexed)) == true {
                    known = entries
                    after = indexed
                }
            }
        }
        if after == tip { return known }
        let fresh = try git.commits(touching: ["lvx.yaml", "profiles"], after: after, upTo: tip)
        known += fresh.reversed().map { ($0.id, $0.committer.time) }
        var text = "lvx desired index 1\ntip \(tip)\n"
        for (id, time) in known { text += "\(id) \(time.secondsSince1970)\n" }
        try? FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        try? Data(text.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
        return known
    }

    /// The markers of one plan: made, approved, and its outcome or withdrawal.
    func markers(_ records: PlanRecords) -> [TimelineMarker] {
        let id = records.plan.id
        var out = [
            TimelineMarker(
                time: records.plan.created,
                kind: .plan,
                planID: id,
                text: "\(records.plan.stepCount) write(s)"
            )
        ]
        if let approval = records.approval {
            out.append(
                TimelineMarker(
                    time: approval.approvedAt,
                    kind: .approval,
                    planID: id,
                    text: "by \(approval.approvedBy)"
                )
            )
        }
        if let result = records.result {
            let kind: TimelineMarker.Kind =
                switch result.outcome {
                case .applied: .applied
                case .failed: .failed
                case .interrupted: .interrupted
                }
            out.append(
                TimelineMarker(
                    time: result.finished,
                    kind: kind,
                    planID: id,
                    text: result.error ?? result.outcome.rawValue
                )
            )
        } else if let refusal = records.lastRefusal {
            out.append(TimelineMarker(time: refusal.at, kind: .refused, planID: id, text: refusal.message))
        }
        if let withdrawal = records.withdrawal {
            out.append(
                TimelineMarker(
                    time: withdrawal.at,
                    kind: .withdrawn,
                    planID: id,
                    text: withdrawal.supersededBy.map { "superseded by \($0)" } ?? "by \(withdrawal.by)"
                )
            )
        }
        return out
    }
}
