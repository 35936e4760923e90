import Foundation
import LVXCore
import LVXGit
import LVXWire
import LVXYAML

/// Reading and writing the files lvx keeps in the repository: plans, approvals, results.
enum RecordFiles {
    static func planPath(_ id: String) -> String { "plans/\(id).yaml" }
    static func approvalPath(_ id: String) -> String { "approvals/\(id).yaml" }
    static func resultPath(_ id: String) -> String { "applied/\(id).yaml" }

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

    /// Parses a record file read from the repository.
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

    /// Loads `plans/ID.yaml` at `commit`, refusing (exit 4) an unknown or altered plan.
    static func loadPlan(_ id: String, from repository: GitRepository, at commit: String) throws -> PlanDocument {
        // An id is 16 hex digits; anything else (`../lvx`) would otherwise reach the git layer as a path.
        guard id.count == 16, id.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
            throw CLIError(
                "no plan '\(id)' in the repository: a plan id is the 16 hex digits `lvx plan` printed",
                hint: "`lvx plans` lists the plans",
                status: .refused
            )
        }
        let path = planPath(id)
        guard let bytes = try repository.file(path, at: commit) else {
            throw CLIError("no plan '\(id)' in the repository", hint: "`lvx plans` lists the plans", status: .refused)
        }
        do {
            let plan = try PlanDocument(node: try node(bytes, path: path), encode: encode)
            guard plan.id == id else {
                throw CLIError(
                    "plan '\(id)' was refused: \(path) holds plan '\(plan.id)'; the file was renamed or copied",
                    hint: "make a new plan with `lvx plan`",
                    status: .refused
                )
            }
            return plan
        } catch let error as RecordFileError {
            throw CLIError(
                "plan '\(id)' was refused: \(error.description)",
                hint: "make a new plan with `lvx plan`",
                status: .refused
            )
        }
    }

    /// Loads `approvals/ID.yaml`, or `nil` when the plan has no approval.
    static func loadApproval(_ id: String, from repository: GitRepository, at commit: String) throws -> ApprovalRecord?
    {
        let path = approvalPath(id)
        guard let bytes = try repository.file(path, at: commit) else { return nil }
        do {
            return try ApprovalRecord(node: try node(bytes, path: path))
        } catch let error as RecordFileError {
            throw CLIError("approval of '\(id)' is malformed: \(error.description)", status: .refused)
        }
    }

    /// The ids of every plan file at `commit`, newest first by creation time.
    static func planIDs(in repository: GitRepository, at commit: String) throws -> [String] {
        try repository.list("plans", at: commit).compactMap { path in
            let name = path.split(separator: "/").last.map(String.init) ?? path
            return name.hasSuffix(".yaml") ? String(name.dropLast(5)) : nil
        }
    }

    /// The plans that can still be approved or applied: they load (unaltered), have not expired,
    /// and have no result file.
    static func livePlans(in site: Site, now: WallTime) throws -> [PlanDocument] {
        try planIDs(in: site.repository, at: site.files.commit).compactMap { id in
            guard let plan = try? loadPlan(id, from: site.repository, at: site.files.commit), now <= plan.expires,
                try site.repository.file(resultPath(id), at: site.files.commit) == nil
            else { return nil }
            return plan
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
