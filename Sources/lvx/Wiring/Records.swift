import Foundation
import LVXCore
import LVXGit
import LVXWire
import LVXYAML

/// Reading and writing the files lvx keeps in the repository: plans, approvals, results.
enum RecordFiles {
    static func planPath(_ id: String) -> String { LifecyclePaths.plan(id) }
    static func approvalPath(_ id: String) -> String { LifecyclePaths.approval(id) }
    static func resultPath(_ id: String) -> String { LifecyclePaths.result(id) }

    /// The PI18 payload of a write, as plans show it; `nil` if it cannot be encoded.
    static func encode(_ write: SettingWrite) -> String? { try? PI18Setter(write).payload }

    /// Renders a JSON document as YAML through libyaml (objects of scalars and lists of scalars in
    /// flow style, the rest in block style).
    static func yaml(_ value: JSONValue, header: String? = nil) throws -> String {
        let text: String
        do {
            text = try YAMLEmitter.render(emitNode(value))
        } catch {
            throw CLIError("cannot render YAML: \(error.description)")
        }
        return (header.map { "# \($0)\n" } ?? "") + text
    }

    static func emitNode(_ value: JSONValue) -> EmitNode {
        switch value {
        case .null: return .plain("null")
        case .bool(let b): return .plain(b ? "true" : "false")
        case .int(let i): return .plain(String(i))
        case .decimal(let d): return .plain(d)
        case .string(let s): return .string(s)
        case .array(let items):
            let flow = items.allSatisfy(\.isScalar) && !items.isEmpty
            return .sequence(items.map(emitNode), flow ? .flow : .block)
        case .object(let pairs):
            let flow = pairs.allSatisfy { $0.1.isScalar } && !pairs.isEmpty && pairs.count <= 12
            return .mapping(pairs.map { (key: $0.0, value: emitNode($0.1)) }, flow ? .flow : .block)
        }
    }

    /// Parses a file lvx wrote (a dump, a run summary) read from history.
    static func node(_ bytes: [UInt8], path: String) throws -> Node {
        do {
            return try YAMLParser.parse(bytes, file: path)
        } catch {
            // Not `error.description`: that repeats the path and an "error:" of its own.
            throw CLIError(
                "\(path) is not valid YAML: line \(error.location.line), column \(error.location.column): \(error.message)",
                hint: "restore it from git history",
                status: .refused
            )
        }
    }

    /// Parses a record file, or says (as the plan's refusal) why it is not one.
    static func record<T>(
        _ path: String,
        of id: String,
        from repository: GitRepository,
        at commit: String,
        _ decode: (Node) throws(RecordFileError) -> T
    ) throws -> T? {
        guard let bytes = try repository.file(path, at: commit) else { return nil }
        let parsed: Node
        do {
            parsed = try YAMLParser.parse(bytes, file: path)
        } catch {
            throw Refusal.altered(
                id: id,
                detail:
                    "\(path) is not valid YAML: line \(error.location.line), column \(error.location.column): \(error.message)"
            )
        }
        do {
            return try decode(parsed)
        } catch {
            throw Refusal.altered(id: id, detail: error.description)
        }
    }

    /// Loads `plans/ID.yaml` at `commit`, refusing an unknown or altered plan.
    static func loadPlan(_ id: String, from repository: GitRepository, at commit: String) throws -> PlanDocument {
        // An id is 16 hex digits; anything else (`../lvx`) would otherwise reach the git layer as a path.
        guard id.count == 16, id.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { throw Refusal.notAnID(id) }
        let path = planPath(id)
        guard
            let plan = try record(
                path,
                of: id,
                from: repository,
                at: commit,
                { node throws(RecordFileError) in try PlanDocument(node: node, encode: encode) }
            )
        else {
            throw Refusal.unknown(id: id)
        }
        guard plan.id == id else {
            throw Refusal.altered(id: id, detail: "\(path) holds plan '\(plan.id)'; the file was renamed or copied")
        }
        return plan
    }

    /// Loads `approvals/ID.yaml`, or `nil` when the plan has no approval.
    static func loadApproval(_ id: String, from repository: GitRepository, at commit: String) throws -> ApprovalRecord?
    {
        try record(approvalPath(id), of: id, from: repository, at: commit) { node throws(RecordFileError) in
            try ApprovalRecord(node: node)
        }
    }

    /// The ids of every plan file at `commit`.
    static func planIDs(in repository: GitRepository, at commit: String) throws -> [String] {
        try repository.list("plans", at: commit).compactMap { path in
            let name = path.split(separator: "/").last.map(String.init) ?? path
            return name.hasSuffix(".yaml") ? String(name.dropLast(5)) : nil
        }
    }

    /// Everything the repository holds about plan `id` at the site's commit.
    static func records(_ id: String, in site: Site) throws -> PlanRecords {
        let repo = site.repository
        let commit = site.files.commit
        let plan = try loadPlan(id, from: repo, at: commit)
        return PlanRecords(
            plan: plan,
            approval: try loadApproval(id, from: repo, at: commit),
            result: try record(LifecyclePaths.result(id), of: id, from: repo, at: commit) {
                node throws(RecordFileError) in
                try ApplyResult.Summary(node: node)
            },
            withdrawal: try record(LifecyclePaths.withdrawal(id), of: id, from: repo, at: commit) {
                node throws(RecordFileError) in
                try WithdrawalRecord(node: node)
            },
            lastRefusal: try record(LifecyclePaths.refusal(id), of: id, from: repo, at: commit) {
                node throws(RecordFileError) in
                try RefusalRecord(node: node)
            },
            inProgress: try record(LifecyclePaths.inProgress(id), of: id, from: repo, at: commit) {
                node throws(RecordFileError) in
                try ApplyingRecord(node: node)
            }
        )
    }

    /// Every plan file with its records (or why it does not load), newest first.
    static func allRecords(in site: Site) throws -> [(id: String, records: Result<PlanRecords, Refusal>)] {
        var loaded: [(String, Result<PlanRecords, Refusal>)] = []
        for id in try planIDs(in: site.repository, at: site.files.commit) {
            do {
                loaded.append((id, .success(try records(id, in: site))))
            } catch let refusal as Refusal {
                loaded.append((id, .failure(refusal)))
            }
        }
        return loaded.sorted { a, b in
            let x = (try? a.1.get())?.plan.created ?? WallTime(secondsSince1970: 0)
            let y = (try? b.1.get())?.plan.created ?? WallTime(secondsSince1970: 0)
            return x == y ? a.0 < b.0 : x > y
        }
    }

    /// The withdrawal records that mark the pending plans `document` replaces, to commit with it.
    static func supersessions(by document: PlanDocument, in site: Site, now: WallTime) throws -> [String: String] {
        let policy = site.state?.applyPolicy ?? ApplyPolicy()
        let all = try allRecords(in: site).compactMap { try? $0.records.get() }
        var files: [String: String] = [:]
        for id in PlanGate.superseded(by: document, among: all, policy: policy, now: now) {
            let record = WithdrawalRecord(
                planID: id,
                by: "lvx",
                at: now,
                reason: "superseded by plan \(document.id)",
                supersededBy: document.id
            )
            files[LifecyclePaths.withdrawal(id)] = try yaml(record.json, header: "lvx: plan \(id) is superseded")
        }
        return files
    }

    /// The plans that can still be approved or applied at `now`, newest first.
    static func livePlans(in site: Site, now: WallTime) throws -> [PlanRecords] {
        let policy = site.state?.applyPolicy ?? ApplyPolicy()
        return try allRecords(in: site).compactMap { try? $0.records.get() }.filter {
            PlanGate.state(of: $0, policy: policy, now: now).isLive
        }
    }

    /// Commits `files` with lvx as the author.
    static func commit(
        _ files: [String: String],
        message: String,
        to repository: GitRepository,
        clock: any WallClock
    ) throws
        -> String
    {
        try repository.commit(
            files: files.mapValues { Array($0.utf8) },
            message: message,
            author: "lvx",
            time: clock.now()
        )
    }
}

extension JSONValue {
    var isScalar: Bool {
        switch self {
        case .array, .object: false
        default: true
        }
    }
}
