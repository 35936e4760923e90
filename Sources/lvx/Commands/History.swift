import ArgumentParser
import Foundation
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
                let out = Terminal.standardOutput
                var shown = 0
                for entry in try history.timeline() {
                    if let to, entry.commitTime > to.secondsSince1970 { continue }
                    if let from, entry.takenAt < from { continue }
                    if changesOnly && entry.changes.isEmpty { continue }
                    shown += 1
                    let changes =
                        entry.changes.isEmpty ? out.paint("unchanged", .dim) : entry.changes.joined(separator: "; ")
                    out.line("\(entry.takenAt.iso8601)  \(entry.commit.prefix(12))  \(changes)")
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

    /// The branch HEAD names (`main`, `sites/home`), or `HEAD` when detached: the index's folder.
    var branch: String { ((try? repository.currentBranch()) ?? nil) ?? "HEAD" }

    init(repositoryPath: String, unit: String) throws {
        do {
            repository = try GitRepository.open(path: repositoryPath)
        } catch {
            throw CLIError("not a desired-state repository: \(repositoryPath) (\(error.description))")
        }
        self.unit = unit
    }

    /// The history of `unit` in a repository already open.
    init(repository: GitRepository, unit: String) {
        self.repository = repository
        self.unit = unit
    }

    /// The dump in `bytes` (the file at `path`), or `nil` when it does not parse.
    static func parse(_ bytes: [UInt8], path: String) -> UnitDump? {
        (try? RecordFiles.node(bytes, path: path)).flatMap { try? UnitDump(node: $0) }
    }

    /// Calls `body` with each dump committed up to `until` (and since commit `after`), newest
    /// first, until it returns `false`; unreadable versions are skipped.
    func forEach(until: WallTime?, after: String? = nil, _ body: (Version) -> Bool) throws {
        let path = UnitDump.path(for: unit)
        var reader = DumpReader()
        do {
            try repository.forEachFileVersion(path: path, until: until, after: after) { version in
                guard let bytes = version.content,
                    let dump = reader.read(bytes, parse: { Self.parse($0, path: path) })
                else { return true }
                return body(Version(commit: version.entry.commit, time: version.entry.time, dump: dump))
            }
        } catch {
            throw CLIError("cannot read the history of \(path): \(error.description)")
        }
    }

    /// Every version of the unit's dump, oldest first, each with what changed since the one before.
    ///
    /// A year of runs is 35,000 versions, and reading them all takes over a second; so the list is
    /// kept in the repository's git directory (`lvx/history/BRANCH/UNIT.index`, derived data that is never
    /// committed) up to the HEAD it was made at, and later calls read only the commits since. An
    /// index that does not match (another unit, a HEAD that does not contain its tip, a damaged
    /// file) is made again; one that cannot be written is only not kept.
    func timeline() throws -> [HistoryIndex.Entry] {
        let file = HistoryIndex.path(gitDirectory: repository.gitDirectory, branch: branch, unit: unit)
        var entries: [HistoryIndex.Entry] = []
        var after: String?
        var base: UnitDump?
        if let index = HistoryIndex.load(file, unit: unit), (try? repository.headContains(index.tip)) == true {
            let last = index.entries.last
            base = last.flatMap { dump(at: $0.commit) }
            if last == nil || base != nil {
                entries = index.entries
                after = index.tip
            }
        }
        var fresh: [HistoryIndex.Entry] = []  // newest first
        var newer: Version?
        try forEach(until: nil, after: after) { version in
            if let newer { fresh.append(HistoryIndex.Entry(newer, changes: newer.dump.changes(since: version.dump))) }
            newer = version
            return true
        }
        if let newer {
            let changes = base.map { newer.dump.changes(since: $0) } ?? ["first dump"]
            fresh.append(HistoryIndex.Entry(newer, changes: changes))
        }
        entries += fresh.reversed()
        if after == nil || !fresh.isEmpty, let head = try? repository.resolve("HEAD") {
            HistoryIndex(unit: unit, tip: head, entries: entries).save(file)
        }
        return entries
    }

    /// The unit's dump as commit `commit` left it.
    func dump(at commit: String) -> UnitDump? {
        let path = UnitDump.path(for: unit)
        guard let bytes = try? repository.file(path, at: commit) else { return nil }
        return Self.parse(bytes, path: path)
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

/// `lvx history`'s list of a unit's dump versions, kept in the git directory between calls.
///
/// Format (text, one record a line): `lvx history index 1`, `unit NAME`, `tip COMMIT`, then per
/// version, oldest first, `COMMIT COMMIT_TIME TAKEN_AT` and the changes, each after a tab.
struct HistoryIndex {
    struct Entry: Equatable {
        var commit: String
        /// The commit time, seconds since 1970.
        var commitTime: Int64
        var takenAt: WallTime
        /// What changed since the version before (`first dump` for the first); empty: unchanged.
        var changes: [String]

        init(commit: String, commitTime: Int64, takenAt: WallTime, changes: [String]) {
            self.commit = commit
            self.commitTime = commitTime
            self.takenAt = takenAt
            self.changes = changes
        }

        init(_ version: DumpHistory.Version, changes: [String]) {
            self.init(
                commit: version.commit,
                commitTime: version.time.secondsSince1970,
                takenAt: version.dump.takenAt,
                changes: changes
            )
        }
    }

    static let header = "lvx history index 1"

    var unit: String
    /// The HEAD the index was made at: every version up to it is listed.
    var tip: String
    var entries: [Entry]

    /// Where the index of `unit` on `branch` is kept (each branch its own: a fleet's mirror holds
    /// one branch per site, with the same unit names).
    static func path(gitDirectory: String, branch: String, unit: String) -> String {
        (gitDirectory as NSString).appendingPathComponent("lvx/history/\(branch)/\(unit).index")
    }

    /// The index in `file`, or `nil` when there is none or it is not one for `unit`.
    static func load(_ file: String, unit: String) -> HistoryIndex? {
        guard let data = FileManager.default.contents(atPath: file) else { return nil }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 4, lines[0] == header, lines[1] == "unit \(unit)", lines[2].hasPrefix("tip "),
            lines.last == ""
        else { return nil }
        var entries: [Entry] = []
        entries.reserveCapacity(lines.count)
        for line in lines[3..<(lines.count - 1)] {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            let head = fields[0].split(separator: " ")
            guard head.count == 3, head[0].count == 40, let time = Int64(head[1]), let taken = Int64(head[2]) else {
                return nil
            }
            entries.append(
                Entry(
                    commit: String(head[0]),
                    commitTime: time,
                    takenAt: WallTime(secondsSince1970: taken),
                    changes: fields.dropFirst().map(Self.unescape)
                )
            )
        }
        return HistoryIndex(unit: unit, tip: String(lines[2].dropFirst(4)), entries: entries)
    }

    /// A change with its backslashes, tabs and newlines written as `\\`, `\t` and `\n`.
    static func escape(_ text: String) -> String {
        guard text.contains(where: { $0 == "\\" || $0 == "\t" || $0 == "\n" }) else { return text }
        var out = ""
        for c in text {
            switch c {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    static func unescape(_ field: Substring) -> String {
        guard field.contains("\\") else { return String(field) }
        var out = ""
        var escaped = false
        for c in field {
            if escaped {
                out.append(c == "t" ? "\t" : c == "n" ? "\n" : c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// Writes the index atomically; a directory that cannot be written only means no index.
    func save(_ file: String) {
        var text = "\(Self.header)\nunit \(unit)\ntip \(tip)\n"
        text.reserveCapacity(entries.count * 80)
        for entry in entries {
            text += "\(entry.commit) \(entry.commitTime) \(entry.takenAt.secondsSince1970)"
            for change in entry.changes { text += "\t" + Self.escape(change) }
            text += "\n"
        }
        let directory = (file as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try? Data(text.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
    }
}
