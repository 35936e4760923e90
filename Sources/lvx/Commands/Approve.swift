import ArgumentParser
import Foundation
import LVXCore

extension LVXCommand {
    /// `lvx approve PLAN_ID`: record that a person approved exactly this plan (bound to its digest).
    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve a plan: write and commit approvals/PLAN_ID.yaml bound to the plan's digest."
        )

        @Argument(help: "The plan's id, as `lvx plan` printed it.") var planID: String

        @Option(help: ArgumentHelp("Who approves (default: LVX_APPROVER, else the login name).", valueName: "name"))
        var by: String?

        @OptionGroup var repository: RepositoryOptions

        func run() async throws {
            try await execute {
                let clock = SystemClock()
                let now = clock.now()
                let site = try Site.load(repositoryPath: repository.path, today: CivilDate(now))
                let state = try site.requireValid()
                let repo = site.repository
                let commit = site.files.commit
                let plan = try RecordFiles.loadPlan(planID, from: repo, at: commit)
                let approver =
                    by ?? ProcessInfo.processInfo.environment["LVX_APPROVER"] ?? ProcessInfo.processInfo.environment[
                        "USER"
                    ] ?? "unknown"
                if try repo.file(RecordFiles.resultPath(plan.id), at: commit) != nil {
                    throw CLIError(
                        "plan '\(plan.id)' was already applied",
                        hint: "make a new plan with `lvx plan`",
                        status: .refused
                    )
                }
                if now > plan.expires {
                    throw CLIError(
                        "plan '\(plan.id)' expired at \(plan.expires.iso8601)",
                        hint: "make a fresh plan with `lvx plan`",
                        status: .refused
                    )
                }
                if plan.stepCount == 0 {
                    throw CLIError("plan '\(plan.id)' has no steps; there is nothing to approve", status: .refused)
                }
                guard state.applyPolicy.permitsApprover(approver) else {
                    throw CLIError(
                        "'\(approver)' may not approve plans",
                        hint: "approvers in lvx.yaml: \(state.applyPolicy.approvers.joined(separator: ", "))",
                        status: .refused
                    )
                }
                if let existing = try RecordFiles.loadApproval(plan.id, from: repo, at: commit),
                    existing.planDigest == plan.digest
                {
                    throw CLIError(
                        "plan '\(plan.id)' is already approved by \(existing.approvedBy) at \(existing.approvedAt.iso8601)",
                        status: .refused
                    )
                }
                let approval = ApprovalRecord(
                    planID: plan.id,
                    planDigest: plan.digest,
                    approvedBy: approver,
                    approvedAt: now,
                    expires: plan.expires
                )
                let text = try RecordFiles.yaml(approval.json, header: "lvx approval of plan \(plan.id)")
                _ = try RecordFiles.commit(
                    [RecordFiles.approvalPath(plan.id): text],
                    message: "approve plan \(plan.id) (by \(approver))",
                    to: repo,
                    clock: clock
                )
                Terminal.standardOutput.line(
                    "approved plan \(plan.id) (\(plan.stepCount) write(s)) by \(approver); apply with `lvx apply \(plan.id)`"
                )
                return .success
            }
        }
    }

    /// `lvx show PLAN_ID`: a saved plan and its approval state.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a saved plan and whether it is approved or applied."
        )

        @Argument(help: "The plan's id.") var planID: String
        @Flag(help: "Print the plan as JSON.") var json = false
        @OptionGroup var repository: RepositoryOptions

        func run() async throws {
            try await execute {
                let site = try Site.load(repositoryPath: repository.path, today: CivilDate(SystemClock().now()))
                let plan = try RecordFiles.loadPlan(planID, from: site.repository, at: site.files.commit)
                if json {
                    Terminal.standardOutput.line(plan.json.text)
                    return .success
                }
                let out = Terminal.standardOutput
                out.line(
                    out.paint("plan \(plan.id)", .bold)
                        + " created \(plan.created.iso8601), expires \(plan.expires.iso8601)"
                )
                out.line("desired state \(String(plan.desiredCommit.prefix(12))), lvx \(plan.toolVersion)")
                for unit in plan.units {
                    out.line("")
                    out.line(
                        out.paint("\(unit.name) (\(unit.serial)) on \(unit.port)", .bold)
                            + " firmware \(unit.firmware), parallel index \(unit.parallelIndex)"
                    )
                    if unit.steps.isEmpty { out.line("  " + out.paint("in sync", .green)) }
                    for step in unit.steps {
                        for key in step.write.keys where step.from[key] != step.to[key] {
                            let was = step.from[key].map(key.format) ?? "?"
                            out.line(
                                "  " + out.paint("~ ", .yellow)
                                    + "\(key.rawValue): \(was) -> \(step.to[key].map(key.format) ?? "?")"
                            )
                        }
                        out.line("      " + out.paint(step.command, .dim))
                    }
                }
                out.line("")
                out.line(try State.describe(plan, site: site))
                return .success
            }
        }
    }

    /// `lvx plans`: every saved plan with its state.
    struct Plans: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List saved plans, newest first, with their state.")

        @OptionGroup var repository: RepositoryOptions

        func run() async throws {
            try await execute {
                let site = try Site.load(repositoryPath: repository.path, today: CivilDate(SystemClock().now()))
                var rows: [(WallTime, String)] = []
                for id in try RecordFiles.planIDs(in: site.repository, at: site.files.commit) {
                    do {
                        let plan = try RecordFiles.loadPlan(id, from: site.repository, at: site.files.commit)
                        let units = plan.units.filter { !$0.steps.isEmpty }.map(\.name).joined(separator: ",")
                        rows.append(
                            (
                                plan.created,
                                "\(plan.id)  \(plan.created.iso8601)  \(plan.stepCount) write(s)  \(units)  \(try State.describe(plan, site: site))"
                            )
                        )
                    } catch let error as CLIError {
                        rows.append((WallTime(secondsSince1970: 0), "\(id)  refused: \(error.message)"))
                    }
                }
                if rows.isEmpty { Terminal.standardOutput.line("no plans") }
                for row in rows.sorted(by: { $0.0 > $1.0 }) { Terminal.standardOutput.line(row.1) }
                return .success
            }
        }
    }
}

/// A plan's state in words: applied, approved, expired or pending.
enum State {
    static func describe(_ plan: PlanDocument, site: Site) throws -> String {
        let repo = site.repository
        let commit = site.files.commit
        if try repo.file(RecordFiles.resultPath(plan.id), at: commit) != nil {
            return "applied (see \(RecordFiles.resultPath(plan.id)))"
        }
        let now = SystemClock().now()
        if now > plan.expires { return "expired at \(plan.expires.iso8601)" }
        if let approval = try RecordFiles.loadApproval(plan.id, from: repo, at: commit) {
            if approval.planDigest != plan.digest { return "approval does not match the plan's digest (refused)" }
            return "approved by \(approval.approvedBy) at \(approval.approvedAt.iso8601)"
        }
        return "pending approval (lvx approve \(plan.id))"
    }
}
