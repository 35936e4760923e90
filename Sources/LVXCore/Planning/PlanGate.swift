/// Why a plan may not be approved or applied: every refusal lvx makes about a plan, one case each.
///
/// ``PlanGate`` decides them and every command (`approve`, `apply`, `show`, `plans`, `run`) prints
/// them through ``description`` and ``hint``, so no refusal is decided or worded twice.
public enum Refusal: Error, Sendable, Hashable, CustomStringConvertible {
    /// No plan file by that id.
    case unknown(id: String)
    /// Not a plan id at all (16 lower-case hex digits).
    case notAnID(String)
    /// The plan file does not load as the plan it claims to be (edited, renamed, not YAML).
    case altered(id: String, detail: String)
    /// The plan has no steps.
    case noSteps(id: String)
    /// Nobody approved the plan.
    case notApproved(id: String)
    /// The approval names another digest: it approves other content.
    case digestMismatch(id: String)
    /// The person approving is not in `apply.approvers`.
    case mayNotApprove(approver: String, allowed: [String])
    /// The approval's approver is not in `apply.approvers`.
    case approverNotAllowed(id: String, approver: String, allowed: [String])
    /// The plan (or its approval) is past its expiry.
    case expired(id: String, at: WallTime)
    /// The plan already has a result: it is applied at most once.
    case alreadyApplied(id: String, outcome: ApplyResult.Outcome)
    /// The plan is already approved for this digest.
    case alreadyApproved(id: String, by: String, at: WallTime)
    /// A newer plan for the same units exists.
    case superseded(id: String, by: String)
    /// Someone withdrew the plan.
    case withdrawn(id: String, by: String, reason: String?)
    /// A unit or the desired state changed since the plan was made.
    case stale(id: String, reasons: [StaleReason])
    /// The plan's steps are not what the desired state at its commit gives for the fresh read.
    case notDesired(id: String, difference: String)
    /// An apply of this plan was started and never finished; recovery must run first.
    case applyInProgress(id: String)
    /// The services sharing the ports could not be stopped, so nothing was written.
    case servicesNotStopped(id: String, unit: String, message: String)
    /// The approval's commit is not signed by a key the host trusts for its principal.
    case approvalNotVerified(id: String, commit: String?, principal: String, reason: String)
    /// Four eyes: the approver changed the desired state the plan carries out.
    case sameApprover(id: String, commit: String, person: String)
    /// The in-progress record could not be committed, so nothing was written.
    case applyNotRecorded(id: String, error: String)
    /// A plan that is not pending or approved cannot be withdrawn.
    case notWithdrawable(id: String, state: String)
    /// No approved plan is waiting.
    case nothingApproved

    public var description: String {
        switch self {
        case .unknown(let id): "no plan '\(id)' in the repository"
        case .notAnID(let text):
            "no plan '\(text)' in the repository: a plan id is the 16 hex digits `lvx plan` printed"
        case .altered(let id, let detail): "plan '\(id)' was refused: \(detail)"
        case .noSteps(let id): "plan '\(id)' has no steps; there is nothing to approve or apply"
        case .notApproved(let id): "plan '\(id)' is not approved"
        case .digestMismatch(let id):
            "the approval of '\(id)' does not match the plan's digest: it approves other content"
        case .mayNotApprove(let approver, _): "'\(approver)' may not approve plans"
        case .approverNotAllowed(let id, let approver, _):
            "the approval of '\(id)' is by '\(approver)', who is not in apply.approvers"
        case .expired(let id, let at): "plan '\(id)' expired at \(at.iso8601)"
        case .alreadyApplied(let id, let outcome):
            outcome == .applied
                ? "plan '\(id)' was already applied; a plan is applied at most once"
                : "plan '\(id)' was already applied and \(outcome.rawValue); a plan is applied at most once"
        case .alreadyApproved(let id, let by, let at): "plan '\(id)' is already approved by \(by) at \(at.iso8601)"
        case .superseded(let id, let by): "plan '\(id)' is superseded by the newer plan '\(by)' for the same units"
        case .withdrawn(let id, let by, let reason):
            "plan '\(id)' was withdrawn by \(by)" + (reason.map { ": \($0)" } ?? "")
        case .stale(_, let reasons): "plan is stale: " + reasons.map(\.description).joined(separator: "; ")
        case .notDesired(let id, let difference):
            "plan '\(id)' is not what the desired state gives: \(difference); nothing was written"
        case .applyInProgress(let id): "an apply of plan '\(id)' was interrupted and is not recorded yet"
        case .servicesNotStopped(let id, let unit, let message):
            "plan '\(id)' was not applied: could not stop \(unit): \(message); nothing was written"
        case .approvalNotVerified(let id, let commit, let principal, let reason):
            "the approval of '\(id)' by \(principal)"
                + (commit.map { " in commit \(String($0.prefix(12)))" } ?? "") + " is refused: \(reason)"
        case .sameApprover(let id, let commit, let person):
            "plan '\(id)' needs a second person: \(person) approved it and also made commit \(String(commit.prefix(12))), which changed the desired state it carries out"
        case .applyNotRecorded(let id, let error):
            "plan '\(id)' was not applied: its in-progress record could not be committed (\(error)); nothing was written"
        case .notWithdrawable(let id, let state): "plan '\(id)' cannot be withdrawn: it is \(state)"
        case .nothingApproved: "no approved plan is waiting to be applied"
        }
    }

    /// What the person can do about it.
    public var hint: String? {
        switch self {
        case .unknown, .notAnID, .nothingApproved: "`lvx plans` lists the plans"
        case .altered, .alreadyApplied, .withdrawn: "make a new plan with `lvx plan`"
        case .expired: "make a fresh plan with `lvx plan`"
        case .stale, .notDesired: "make a fresh plan with `lvx plan` and review it"
        case .superseded(_, let newer): "review the newer plan with `lvx show \(newer)`"
        case .notApproved(let id): "review it with `lvx show \(id)`, then `lvx approve \(id)`"
        case .digestMismatch(let id): "approve the plan again with `lvx approve \(id)` after reviewing it"
        case .approverNotAllowed(_, _, let allowed), .mayNotApprove(_, let allowed):
            allowed.isEmpty ? nil : "approvers in lvx.yaml: \(allowed.joined(separator: ", "))"
        case .applyInProgress: "any lvx command that takes the lock (`lvx apply`, `lvx run`) records it first"
        case .servicesNotStopped:
            "the plan is still approved; let lvx stop the units (the polkit rule in examples/systemd, or run as root), then apply again"
        case .applyNotRecorded: "check that the repository is writable and on a branch, then apply again"
        case .approvalNotVerified:
            "make a fresh plan with `lvx plan` and approve it with a key in the allowed signers file (git's user.signingkey with gpg.format=ssh, or `lvx approve --key FILE`)"
        case .sameApprover: "apply.require_distinct_approver is true: someone else must approve this plan"
        case .noSteps, .alreadyApproved, .notWithdrawable: nil
        }
    }
}

/// Why an approved plan no longer fits the units or the desired state.
public enum StaleReason: Sendable, Hashable, CustomStringConvertible {
    /// `lvx.yaml` or a profile changed since the plan.
    case desiredStateChanged
    /// The unit could not be found on any port.
    case notFound(unit: String)
    /// The unit could not be re-read.
    case unreadable(unit: String, error: String)
    /// The unit answers differently: another serial, firmware, parallel index or settings.
    case changed(unit: String, changes: [String])
    /// A stale refusal read back from the repository, in its recorded words.
    case recorded(String)

    public var description: String {
        switch self {
        case .recorded(let text): text
        case .desiredStateChanged: "the desired state (lvx.yaml or a profile) changed since the plan was made"
        case .notFound(let unit): "'\(unit)' could not be found"
        case .unreadable(let unit, let error): "'\(unit)' could not be re-read: \(error)"
        case .changed(let unit, let changes): "'\(unit)' changed since the plan: " + changes.joined(separator: ", ")
        }
    }
}

/// Everything the repository holds about one plan: the plan, and the records that refer to it.
public struct PlanRecords: Sendable {
    public var plan: PlanDocument
    public var approval: ApprovalRecord?
    public var result: ApplyResult.Summary?
    public var withdrawal: WithdrawalRecord?
    /// The last refusal made after the approval checks (stale, services), if any.
    public var lastRefusal: RefusalRecord?
    /// Set when an apply committed its in-progress record.
    public var inProgress: ApplyingRecord?
    /// Who signed the approval, as the host checked it (`nil`: not checked).
    public var approvalCheck: ApprovalCheck?

    public init(
        plan: PlanDocument,
        approval: ApprovalRecord? = nil,
        result: ApplyResult.Summary? = nil,
        withdrawal: WithdrawalRecord? = nil,
        lastRefusal: RefusalRecord? = nil,
        inProgress: ApplyingRecord? = nil,
        approvalCheck: ApprovalCheck? = nil
    ) {
        self.plan = plan
        self.approval = approval
        self.result = result
        self.withdrawal = withdrawal
        self.lastRefusal = lastRefusal
        self.inProgress = inProgress
        self.approvalCheck = approvalCheck
    }
}

/// Where a plan stands: the one answer `show`, `plans`, `approve`, `apply` and `run` share.
public enum PlanState: Sendable, Hashable, CustomStringConvertible {
    case pendingApproval
    /// `key` is the fingerprint of the key that signed it, when the host checks signatures.
    case approved(by: String, at: WallTime, key: String?)
    /// Approved, but the last attempt stopped before any write for a reason that can be fixed.
    case refusedBeforeWrite(by: String, reason: String)
    case applied(finished: WallTime)
    case failed(step: String?, why: String)
    case interrupted(why: String)
    /// An apply is under way, or died without recording its result.
    case applying(since: WallTime)
    case stale(reasons: String)
    case superseded(by: String)
    case withdrawn(by: String, reason: String?)
    case expired(at: WallTime)
    /// The approval is for other content, or by someone not allowed: it does not count.
    case approvalRefused(String)

    /// A short word for the state, as `--json` and scripts see it.
    public var name: String {
        switch self {
        case .pendingApproval: "pending_approval"
        case .approved: "approved"
        case .refusedBeforeWrite: "refused_before_write"
        case .applied: "applied"
        case .failed: "failed"
        case .interrupted: "interrupted"
        case .applying: "applying"
        case .stale: "stale"
        case .superseded: "superseded"
        case .withdrawn: "withdrawn"
        case .expired: "expired"
        case .approvalRefused: "approval_refused"
        }
    }

    public var description: String {
        switch self {
        case .pendingApproval: "pending approval"
        case .approved(let by, let at, let key):
            "approved by \(by) at \(at.iso8601)" + (key.map { " (verified, key \($0))" } ?? "")
        case .refusedBeforeWrite(let by, let reason):
            "approved by \(by); the last apply stopped before any write: \(reason)"
        case .applied(let finished): "applied at \(finished.iso8601)"
        case .failed(_, let why): "failed: \(why)"
        case .interrupted(let why): "interrupted: \(why)"
        case .applying(let since): "apply started at \(since.iso8601) and not finished"
        case .stale(let reasons): "stale: \(reasons)"
        case .superseded(let by): "superseded by \(by)"
        case .withdrawn(let by, let reason): "withdrawn by \(by)" + (reason.map { ": \($0)" } ?? "")
        case .expired(let at): "expired at \(at.iso8601)"
        case .approvalRefused(let why): "approval refused: \(why)"
        }
    }

    /// Whether the plan can still be approved or applied.
    public var isLive: Bool {
        switch self {
        case .pendingApproval, .approved, .refusedBeforeWrite: true
        default: false
        }
    }

    /// Whether the plan still waits for someone: approval (again, when the one it has does not
    /// count), its apply, or a fresh plan (stale).
    public var isWaiting: Bool {
        switch self {
        case .pendingApproval, .approved, .applying, .stale, .approvalRefused: true
        default: false
        }
    }

    /// Whether the plan reached an outcome on the units: applied, failed, interrupted or refused.
    public var isOutcome: Bool {
        switch self {
        case .applied, .failed, .interrupted, .refusedBeforeWrite: true
        default: false
        }
    }
}

/// The one place that decides whether a plan may be approved or applied, and what state it is in.
///
/// Pure: a function of the plan's records, the site's apply policy and the time.
public enum PlanGate {
    /// The plan's state at `now`.
    public static func state(of records: PlanRecords, policy: ApplyPolicy, now: WallTime) -> PlanState {
        let plan = records.plan
        if let result = records.result {
            switch result.outcome {
            case .applied: return .applied(finished: result.finished)
            case .failed: return .failed(step: result.failedStep, why: result.error ?? "unknown")
            case .interrupted: return .interrupted(why: result.error ?? "interrupted")
            }
        }
        if let progress = records.inProgress { return .applying(since: progress.started) }
        if let withdrawal = records.withdrawal {
            if let newer = withdrawal.supersededBy { return .superseded(by: newer) }
            return .withdrawn(by: withdrawal.by, reason: withdrawal.reason)
        }
        if let refusal = records.lastRefusal, refusal.stale { return .stale(reasons: refusal.message) }
        if now > plan.expires { return .expired(at: plan.expires) }
        guard let approval = records.approval else { return .pendingApproval }
        if approval.planDigest != plan.digest || approval.planID != plan.id {
            return .approvalRefused(Refusal.digestMismatch(id: plan.id).description)
        }
        if !policy.permitsApprover(approval.approvedBy) {
            return .approvalRefused("'\(approval.approvedBy)' is not in apply.approvers")
        }
        if now > approval.expires { return .expired(at: approval.expires) }
        if let refusal = records.lastRefusal {
            return .refusedBeforeWrite(by: approval.approvedBy, reason: refusal.message)
        }
        if case .refused(_, _, let reason)? = records.approvalCheck { return .approvalRefused(reason) }
        var key: String?
        if case .verified(_, _, let fingerprint)? = records.approvalCheck { key = fingerprint }
        return .approved(by: approval.approvedBy, at: approval.approvedAt, key: key)
    }

    /// Whether `approver` may approve the plan now.
    public static func checkApprove(
        _ records: PlanRecords,
        approver: String,
        policy: ApplyPolicy,
        now: WallTime
    ) -> Refusal? {
        let plan = records.plan
        if let refusal = terminal(records, now: now) { return refusal }
        if plan.stepCount == 0 { return .noSteps(id: plan.id) }
        guard policy.permitsApprover(approver) else {
            return .mayNotApprove(approver: approver, allowed: policy.approvers)
        }
        if let existing = records.approval, existing.planDigest == plan.digest {
            return .alreadyApproved(id: plan.id, by: existing.approvedBy, at: existing.approvedAt)
        }
        return nil
    }

    /// The checks that need no hardware before an apply.
    public static func checkApply(_ records: PlanRecords, policy: ApplyPolicy, now: WallTime) -> Refusal? {
        let plan = records.plan
        if let refusal = terminal(records, now: now) { return refusal }
        guard let approval = records.approval else { return .notApproved(id: plan.id) }
        guard approval.planDigest == plan.digest, approval.planID == plan.id else {
            return .digestMismatch(id: plan.id)
        }
        guard policy.permitsApprover(approval.approvedBy) else {
            return .approverNotAllowed(id: plan.id, approver: approval.approvedBy, allowed: policy.approvers)
        }
        if case .refused(let commit, let principal, let reason)? = records.approvalCheck {
            return .approvalNotVerified(id: plan.id, commit: commit, principal: principal, reason: reason)
        }
        if now > approval.expires { return .expired(id: plan.id, at: approval.expires) }
        if plan.stepCount == 0 { return .noSteps(id: plan.id) }
        return nil
    }

    /// The refusals that hold whoever asks: applied, in progress, withdrawn, stale, expired.
    private static func terminal(_ records: PlanRecords, now: WallTime) -> Refusal? {
        let plan = records.plan
        if let result = records.result { return .alreadyApplied(id: plan.id, outcome: result.outcome) }
        if records.inProgress != nil { return .applyInProgress(id: plan.id) }
        if let withdrawal = records.withdrawal {
            if let newer = withdrawal.supersededBy { return .superseded(id: plan.id, by: newer) }
            return .withdrawn(id: plan.id, by: withdrawal.by, reason: withdrawal.reason)
        }
        if let refusal = records.lastRefusal, refusal.stale {
            return .stale(id: plan.id, reasons: [.recorded(refusal.message)])
        }
        if now > plan.expires { return .expired(id: plan.id, at: plan.expires) }
        return nil
    }

    /// Checks a fresh read against the plan before the first write.
    ///
    /// - Parameters:
    ///   - plan: the plan about to be applied.
    ///   - currentDesiredDigest: the digest of the desired-state files at the branch tip now.
    ///   - observed: the fresh read of each planned unit, by serial (missing: not found).
    /// - Returns: the stale reasons, empty when the plan still fits.
    public static func staleReasons(
        _ plan: PlanDocument,
        currentDesiredDigest: String,
        observed: [SerialNumber: Result<Observation, DeviceError>]
    ) -> [StaleReason] {
        var reasons: [StaleReason] = []
        if currentDesiredDigest != plan.desiredDigest { reasons.append(.desiredStateChanged) }
        for unit in plan.units {
            switch observed[unit.serial] {
            case nil: reasons.append(.notFound(unit: unit.name))
            case .failure(let e)?: reasons.append(.unreadable(unit: unit.name, error: e.description))
            case .success(let now)?:
                if now.digest != unit.observedDigest {
                    reasons.append(.changed(unit: unit.name, changes: changes(unit, now)))
                }
            }
        }
        return reasons
    }

    /// What differs between the plan's observation of a unit and a fresh one.
    static func changes(_ unit: PlannedUnit, _ now: Observation) -> [String] {
        var parts: [String] = []
        if now.serial != unit.serial { parts.append("port now answers as serial \(now.serial)") }
        if now.firmware != unit.firmware { parts.append("firmware \(unit.firmware) -> \(now.firmware)") }
        if now.parallelIndex != unit.parallelIndex {
            parts.append("parallel index \(unit.parallelIndex) -> \(now.parallelIndex)")
        }
        for key in SettingKey.allCases where unit.observed[key] != now.settings[key] {
            let was = unit.observed[key].map(key.format) ?? "?"
            let isNow = now.settings[key].map(key.format) ?? "?"
            parts.append("\(key.rawValue) \(was) -> \(isNow)")
        }
        return parts
    }

    /// Recomputes the plan from the desired state at its commit and the fresh read, and says where
    /// the plan's steps differ from that; `nil` when they are identical.
    ///
    /// A hand-edited plan with a recomputed digest and an approval is thereby inert: its steps must
    /// be exactly what lvx itself would plan now.
    public static func difference(
        _ plan: PlanDocument,
        desired: DesiredState,
        desiredDigest: String,
        observed: [SerialNumber: Observation],
        today: CivilDate,
        encode: (SettingWrite) -> String
    ) -> String? {
        if desiredDigest != plan.desiredDigest {
            return
                "the files at desired_commit \(String(plan.desiredCommit.prefix(12))) are not the ones the plan names"
        }
        let recomputed = Planner(desired: desired, today: today).plan(observed)
        let wanted = Dictionary(recomputed.map { ($0.unit.serial, $0) }, uniquingKeysWith: { a, _ in a })
        for unit in plan.units {
            guard let mine = wanted[unit.serial] else {
                return "'\(unit.name)' (\(unit.serial)) is not a unit of the desired state"
            }
            if mine.unit.name != unit.name {
                return "unit \(unit.serial) is named '\(mine.unit.name)', not '\(unit.name)'"
            }
            if let problem = mine.problems.first { return "the desired state cannot be planned: \(problem)" }
            for (i, step) in unit.steps.enumerated() {
                guard i < mine.writes.count else {
                    return "step \(i + 1) on '\(unit.name)' is \(step.command), the desired state gives no such step"
                }
                let want = mine.writes[i]
                if step.write != want || step.command != encode(want) {
                    return "step \(i + 1) on '\(unit.name)' is \(step.command), the desired state gives \(encode(want))"
                }
                var from = Settings()
                for k in want.keys { from[k] = observed[unit.serial]?.settings[k] }
                if step.from != from {
                    return "step \(i + 1) on '\(unit.name)' states other 'from' values than the unit holds"
                }
            }
            if mine.writes.count > unit.steps.count {
                return
                    "'\(unit.name)' is missing step \(unit.steps.count + 1): \(encode(mine.writes[unit.steps.count]))"
            }
            // Every target passes the ranges and cross-key rules, on the unit's final state too.
            var final = observed[unit.serial]?.settings ?? Settings()
            for step in unit.steps { for (k, v) in step.to.entries { final[k] = v } }
            if let violation = SettingRules.violations(in: final).first {
                return "'\(unit.name)' would end with \(violation.message)"
            }
        }
        let planned = Set(plan.units.map(\.serial))
        for mine in recomputed where !mine.writes.isEmpty && !planned.contains(mine.unit.serial) {
            return "'\(mine.unit.name)' needs writes the plan does not hold"
        }
        return nil
    }

    /// The pending plans (not approved, still live) that a new plan replaces.
    ///
    /// Those are the ones that write a unit the new plan also writes; `lvx plan` and `lvx run`
    /// record them as superseded in the commit that adds the new plan.
    public static func superseded(
        by new: PlanDocument,
        among plans: [PlanRecords],
        policy: ApplyPolicy,
        now: WallTime
    ) -> [String] {
        let mine = Set(new.units.filter { !$0.steps.isEmpty }.map(\.serial))
        let newID = new.id  // a digest: computed once, not per plan
        return plans.filter { records in
            guard records.plan.id != newID, case .pendingApproval = state(of: records, policy: policy, now: now) else {
                return false
            }
            return records.plan.units.contains { !$0.steps.isEmpty && mine.contains($0.serial) }
        }.map(\.plan.id)
    }
}
