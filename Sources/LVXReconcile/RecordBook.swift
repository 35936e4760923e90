import LVXCore
import LVXWire

/// The records lvx keeps in the repository (plans, approvals, results, withdrawals, refusals,
/// in-progress applies), read at one commit and written as commits.
public struct RecordBook: Sendable {
    public let repository: any SiteRepository
    public let codec: any RecordCodec
    /// The commit records are read at.
    public let commit: String
    /// Checks who signed each approval; `nil` leaves approvals unchecked.
    public let verifier: (any ApprovalVerifier)?
    /// The time the plans' states will be decided at.
    ///
    /// A plan expired by then is over, so its approval is not checked. `nil`: every approval of a
    /// plan that is not over is checked.
    public let now: WallTime?

    public init(
        repository: any SiteRepository,
        codec: any RecordCodec,
        commit: String,
        verifier: (any ApprovalVerifier)? = nil,
        now: WallTime? = nil
    ) {
        self.repository = repository
        self.codec = codec
        self.commit = commit
        self.verifier = verifier
        self.now = now
    }

    /// The PI18 payload of a write, as plans show it.
    public static func encode(_ write: SettingWrite) -> String { (try? PI18Setter(write).payload) ?? "?" }

    /// A record as YAML with a header comment.
    public func render(_ value: JSONValue, header: String) throws -> String {
        do {
            return try codec.render(value, header: header)
        } catch {
            throw RepositoryError("cannot render YAML: \(error.message)")
        }
    }

    /// Commits `files` (path -> text) with lvx as the author; returns the new commit.
    @discardableResult
    public func commit(_ files: [String: String], message: String, time: WallTime) throws(RepositoryError) -> String {
        try repository.commit(files: files.mapValues { Array($0.utf8) }, message: message, author: "lvx", time: time)
    }

    /// The desired commit of the newest plan that was applied to one of `units`, for four eyes.
    public func lastAppliedDesiredCommit(for units: Set<SerialNumber>) throws -> String? {
        try all().compactMap { try? $0.records.get() }.first { records in
            records.result?.outcome == .applied && records.plan.units.contains { units.contains($0.serial) }
        }?.plan.desiredCommit
    }

    /// Parses a record file, or says (as the plan's refusal) why it is not one.
    func record<T>(
        _ path: String,
        of id: String,
        _ decode: (Node) throws(RecordFileError) -> T
    ) throws -> T? {
        guard let bytes = try repository.file(path, at: commit) else { return nil }
        let parsed: Node
        do {
            parsed = try codec.parse(bytes, file: path)
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

    /// Loads `plans/ID.yaml`, refusing an unknown or altered plan.
    public func plan(_ id: String) throws -> PlanDocument {
        // An id is 16 hex digits; anything else (`../lvx`) would otherwise reach the git layer as a path.
        guard id.count == 16, id.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { throw Refusal.notAnID(id) }
        let path = LifecyclePaths.plan(id)
        guard
            let plan = try record(
                path,
                of: id,
                { node throws(RecordFileError) in
                    try PlanDocument(node: node, encode: Self.encode)
                }
            )
        else { throw Refusal.unknown(id: id) }
        guard plan.id == id else {
            throw Refusal.altered(id: id, detail: "\(path) holds plan '\(plan.id)'; the file was renamed or copied")
        }
        return plan
    }

    /// Everything the repository holds about plan `id`, with its approval's signature checked
    /// while the approval can still decide anything.
    ///
    /// A plan with a result, an apply in progress, a withdrawal or a stale refusal is over whoever
    /// signed its approval (``PlanGate`` decides those first), and so is one past its expiry at
    /// ``now``: their approvals are not checked, which spares a walk of the history per plan (a
    /// year of applied plans) and lets a fleet mirror hold only recent history.
    public func records(_ id: String) throws -> PlanRecords {
        let plan = try plan(id)  // first: it refuses an id that is not one before it reaches a path
        var records = PlanRecords(
            plan: plan,
            approval: try record(LifecyclePaths.approval(id), of: id) { node throws(RecordFileError) in
                try ApprovalRecord(node: node)
            },
            result: try record(LifecyclePaths.result(id), of: id) { node throws(RecordFileError) in
                try ApplyResult.Summary(node: node)
            },
            withdrawal: try record(LifecyclePaths.withdrawal(id), of: id) { node throws(RecordFileError) in
                try WithdrawalRecord(node: node)
            },
            lastRefusal: try record(LifecyclePaths.refusal(id), of: id) { node throws(RecordFileError) in
                try RefusalRecord(node: node)
            },
            // An apply that ended before any write is over: only the record of it stays.
            inProgress: try record(LifecyclePaths.inProgress(id), of: id) { node throws(RecordFileError) in
                try ApplyingRecord(node: node)
            }.flatMap { $0.phase == .ended ? nil : $0 },
            approvalCheck: nil
        )
        if let approval = records.approval, let verifier {
            if !verifier.isConfigured {
                records.approvalCheck = .notConfigured
            } else if isOver(records) {
                // Never read as verified: a gate that got this far would refuse the plan.
                records.approvalCheck = .refused(
                    commit: nil,
                    principal: approval.approvedBy,
                    reason: "not checked: the plan is over"
                )
            } else {
                records.approvalCheck = verifier.check(
                    approvalAt: LifecyclePaths.approval(id),
                    principal: approval.approvedBy,
                    tip: commit
                )
            }
        }
        return records
    }

    /// Whether the plan's state no longer depends on who signed its approval.
    private func isOver(_ records: PlanRecords) -> Bool {
        if records.result != nil || records.inProgress != nil || records.withdrawal != nil { return true }
        if records.lastRefusal?.stale == true { return true }
        if let now, now > records.plan.expires { return true }
        return false
    }

    /// The ids of every plan file.
    public func planIDs() throws(RepositoryError) -> [String] { Array(try ids(in: "plans")).sorted() }

    /// The ids named by the `ID.yaml` files of `folder` (`plans`, `applied`, ...).
    func ids(in folder: String) throws(RepositoryError) -> Set<String> {
        Set(
            try repository.list(folder, at: commit).compactMap { path in
                let name = path.split(separator: "/").last.map(String.init) ?? path
                return name.hasSuffix(".yaml") ? String(name.dropLast(5)) : nil
            }
        )
    }

    /// The plans whose apply recorded itself and has neither a result nor a closed record: found
    /// from the folder listings, so recovery, which every apply and run does first, reads only these.
    public func openApplies() throws -> [PlanRecords] {
        let candidates = try ids(in: "applying").subtracting(try ids(in: "applied")).sorted()
        return candidates.compactMap { try? records($0) }.filter { $0.inProgress != nil && $0.result == nil }
    }

    /// Every plan file with its records (or why it does not load), newest first.
    public func all() throws -> [(id: String, records: Result<PlanRecords, Refusal>)] {
        var loaded: [(id: String, records: Result<PlanRecords, Refusal>)] = []
        for id in try planIDs() {
            do {
                loaded.append((id, .success(try records(id))))
            } catch let refusal as Refusal {
                loaded.append((id, .failure(refusal)))
            }
        }
        return loaded.sorted { a, b in
            let x = (try? a.records.get())?.plan.created ?? WallTime(secondsSince1970: 0)
            let y = (try? b.records.get())?.plan.created ?? WallTime(secondsSince1970: 0)
            return x == y ? a.id < b.id : x > y
        }
    }

    /// The plans that can still be approved or applied at `now`, newest first.
    ///
    /// A plan with a result or a withdrawal is over, which the folder listings tell without
    /// reading it: a year of plans costs two listings, not a parse and a digest each.
    public func live(policy: ApplyPolicy, now: WallTime) throws -> [PlanRecords] {
        let over = try ids(in: "applied").union(try ids(in: "withdrawn"))
        let candidates = try planIDs().filter { !over.contains($0) }
        return candidates.compactMap { try? records($0) }
            .filter { PlanGate.state(of: $0, policy: policy, now: now).isLive }
            .sorted { a, b in a.plan.created == b.plan.created ? a.plan.id < b.plan.id : a.plan.created > b.plan.created
            }
    }

    /// The plan to apply when none is named: the newest approved, live one.
    public func newestApproved(policy: ApplyPolicy, now: WallTime) throws -> String? {
        Self.newestApproved(among: try live(policy: policy, now: now), policy: policy, now: now)
    }

    /// Of `live` (as ``live(policy:now:)`` returns them), the newest approved plan.
    public static func newestApproved(among live: [PlanRecords], policy: ApplyPolicy, now: WallTime) -> String? {
        live.first { records in
            switch PlanGate.state(of: records, policy: policy, now: now) {
            case .approved, .refusedBeforeWrite: true
            default: false
            }
        }?.plan.id
    }

    /// The withdrawal records that mark the pending plans `document` replaces, to commit with it.
    public func supersessions(by document: PlanDocument, policy: ApplyPolicy, now: WallTime) throws -> [String: String]
    {
        try supersessions(by: document, among: try live(policy: policy, now: now), policy: policy, now: now)
    }

    /// The same, among `live` plans already read.
    public func supersessions(
        by document: PlanDocument,
        among live: [PlanRecords],
        policy: ApplyPolicy,
        now: WallTime
    ) throws -> [String: String] {
        var files: [String: String] = [:]
        for id in PlanGate.superseded(by: document, among: live, policy: policy, now: now) {
            let record = WithdrawalRecord(
                planID: id,
                by: "lvx",
                at: now,
                reason: "superseded by plan \(document.id)",
                supersededBy: document.id
            )
            files[LifecyclePaths.withdrawal(id)] = try render(record.json, header: "lvx: plan \(id) is superseded")
        }
        return files
    }
}
