import ArgumentParser
import LVXCore
import LVXGit

extension LVXCommand {
    /// `lvx history UNIT`: the unit's dated dumps from git history, with what changed between them.
    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a unit's dated dumps from git history with what changed between consecutive ones."
        )

        @Argument(help: "The unit's name (as in lvx.yaml and dumps/NAME.yaml).") var unit: String
        @Option(
            help: ArgumentHelp("Only dumps taken on or after this date (YYYY-MM-DD or an ISO time).", valueName: "date")
        )
        var since: String?
        @Option(help: ArgumentHelp("Only dumps taken on or before this date.", valueName: "date")) var until: String?
        @Flag(help: "Show only the dumps that differ from the one before.") var changesOnly = false
        @OptionGroup var repository: RepositoryOptions

        func run() async throws {
            try await execute {
                let from = try since.map { try DumpHistory.parseDate($0, endOfDay: false) }
                let to = try until.map { try DumpHistory.parseDate($0, endOfDay: true) }
                let history = try DumpHistory(repositoryPath: repository.path, unit: unit)
                try history.requireKnownUnit(repositoryPath: repository.path)
                // Newest first, down to the first dump before --since (the baseline of the first shown).
                var versions: [DumpHistory.Version] = []
                try history.forEach(until: to) { version in
                    versions.append(version)
                    return from.map { version.dump.takenAt >= $0 } ?? true
                }
                let out = Terminal.standardOutput
                // Oldest first, each compared with the one before it (even if that one is before --since).
                let ordered = Array(versions.reversed())
                var shown = 0
                for (i, dump) in ordered.enumerated() {
                    if let from, dump.dump.takenAt < from { continue }
                    let changes = i == 0 ? ["first dump"] : dump.dump.changes(since: ordered[i - 1].dump)
                    if changesOnly && changes.isEmpty { continue }
                    shown += 1
                    let head = "\(dump.dump.takenAt.iso8601)  \(dump.commit.prefix(12))"
                    out.line(
                        head + "  " + (changes.isEmpty ? out.paint("unchanged", .dim) : changes.joined(separator: "; "))
                    )
                }
                if shown == 0 { out.line("no dumps of '\(unit)' in that range") }
                return .success
            }
        }
    }

    /// `lvx diff UNIT --since DATE`: what changed on a unit since a baseline dump.
    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Show what changed on a unit since DATE: its newest dump against the last one before DATE (exit 0 none, 2 changes)."
        )

        @Argument(help: "The unit's name.") var unit: String
        @Option(
            help: ArgumentHelp(
                "The baseline: the last dump taken before this date (YYYY-MM-DD: before that day's 00:00 UTC).",
                valueName: "date"
            )
        )
        var since: String
        @OptionGroup var repository: RepositoryOptions

        func run() async throws {
            try await execute {
                let start = try DumpHistory.parseDate(since, endOfDay: false)
                let history = try DumpHistory(repositoryPath: repository.path, unit: unit)
                try history.requireKnownUnit(repositoryPath: repository.path)
                var latest: DumpHistory.Version?
                var oldest: DumpHistory.Version?
                var found: DumpHistory.Version?
                try history.forEach(until: nil) { version in
                    if latest == nil { latest = version }
                    oldest = version
                    guard version.dump.takenAt < start else { return true }
                    found = version
                    return false
                }
                guard let latest else {
                    throw CLIError("no dumps of '\(unit)' in history", hint: "`lvx run` commits a dump of every unit")
                }
                guard let baseline = found else {
                    let first = oldest.map { "; the first is from \($0.dump.takenAt.iso8601)" } ?? ""
                    throw CLIError(
                        "no dump of '\(unit)' before \(since) to compare with\(first)",
                        hint: "pass a later date; `lvx history \(unit)` lists the dumps"
                    )
                }
                let out = Terminal.standardOutput
                if baseline.commit == latest.commit {
                    out.line(
                        "\(unit): no dumps since \(since); the newest is from \(latest.dump.takenAt.iso8601) (\(latest.commit.prefix(12)))"
                    )
                    return .success
                }
                let changes = latest.dump.changes(since: baseline.dump)
                out.line(
                    "\(unit): \(baseline.dump.takenAt.iso8601) (\(baseline.commit.prefix(12))) -> \(latest.dump.takenAt.iso8601) (\(latest.commit.prefix(12)))"
                )
                if changes.isEmpty {
                    out.line("no changes")
                    return .success
                }
                for c in changes { out.line("  " + out.paint("~ ", .yellow) + c) }
                return .changes
            }
        }
    }
}

/// A unit's dumps as git history holds them.
struct DumpHistory {
    struct Version {
        var commit: String
        /// The commit time.
        var time: WallTime
        var dump: UnitDump
    }

    let repository: GitRepository
    let unit: String

    init(repositoryPath: String, unit: String) throws {
        do {
            repository = try GitRepository.open(path: repositoryPath)
        } catch {
            throw CLIError("not a desired-state repository: \(repositoryPath) (\(error.description))")
        }
        self.unit = unit
    }

    /// Calls `body` with each dump committed up to `until`, newest first, until it returns `false`;
    /// unreadable versions are skipped.
    func forEach(until: WallTime?, _ body: (Version) -> Bool) throws {
        let path = UnitDump.path(for: unit)
        do {
            try repository.forEachFileVersion(path: path, until: until) { version in
                guard let bytes = version.content, let node = try? RecordFiles.node(bytes, path: path),
                    let dump = try? UnitDump(node: node)
                else { return true }
                return body(Version(commit: version.entry.commit, time: version.entry.time, dump: dump))
            }
        } catch {
            throw CLIError("cannot read the history of \(path): \(error.description)")
        }
    }

    /// Throws when `unit` is neither a unit in `lvx.yaml` at HEAD nor has any dump in history,
    /// with "did you mean" for a close name and the list of units.
    func requireKnownUnit(repositoryPath: String) throws {
        let site = try? Site.load(repositoryPath: repositoryPath, today: CivilDate(SystemClock().now()))
        let desired = site?.state?.units.map(\.name) ?? []
        if desired.contains(unit) { return }
        var dumped = false
        try forEach(until: nil) { _ in
            dumped = true
            return false
        }
        if dumped { return }
        // Units with a dump at HEAD, such as one removed from lvx.yaml since.
        let head = try? repository.resolve("HEAD")
        let withDumps = ((try? head.map { try repository.list("dumps", at: $0) }) ?? []).compactMap {
            path -> String? in
            guard path.hasPrefix("dumps/"), path.hasSuffix(".yaml") else { return nil }
            let name = String(path.dropFirst("dumps/".count).dropLast(".yaml".count))
            return UnitDump.path(for: name) == path ? name : nil
        }
        var names: [String] = []
        for name in desired + withDumps where !names.contains(name) { names.append(name) }
        let suggestion = NameSuggestion.closest(to: unit, among: names).map { "; did you mean '\($0)'?" } ?? ""
        throw CLIError(
            "no unit named '\(unit)' in lvx.yaml and no dumps of it in history\(suggestion)",
            hint: names.isEmpty ? "lvx.yaml names no units yet" : "the units are \(names.joined(separator: ", "))"
        )
    }

    /// `YYYY-MM-DD` (start or end of that day, UTC) or `YYYY-MM-DDTHH:MM:SSZ`.
    static func parseDate(_ text: String, endOfDay: Bool) throws -> WallTime {
        if let time = WallTime(iso8601: text) { return time }
        if let day = CivilDate(parsing: text) {
            return WallTime(secondsSince1970: day.daysSince1970 * 86_400 + (endOfDay ? 86_399 : 0))
        }
        throw CLIError("'\(text)' is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ", status: .usage)
    }
}
