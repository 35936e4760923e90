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
                let approver =
                    by ?? ProcessInfo.processInfo.environment["LVX_APPROVER"] ?? ProcessInfo.processInfo.environment[
                        "USER"
                    ] ?? "unknown"
                let records = try RecordFiles.records(planID, in: site)
                let plan = records.plan
                if let refusal = PlanGate.checkApprove(
                    records,
                    approver: approver,
                    policy: state.applyPolicy,
                    now: now
                ) {
                    throw refusal
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

    /// `lvx show PLAN_ID`: a saved plan and its state.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a saved plan, as `lvx plan` printed it, and its state."
        )

        @Argument(help: "The plan's id.") var planID: String
        @Flag(help: "Print the plan and its state as JSON.") var json = false
        @OptionGroup var repository: RepositoryOptions

        func run() async throws {
            try await execute {
                let now = SystemClock().now()
                let site = try Site.load(repositoryPath: repository.path, today: CivilDate(now))
                let records = try RecordFiles.records(planID, in: site)
                let plan = records.plan
                let state = PlanGate.state(of: records, policy: site.state?.applyPolicy ?? ApplyPolicy(), now: now)
                if json {
                    guard case .object(let pairs) = plan.json else { return .failure }
                    Terminal.standardOutput.line(JSONValue.object(pairs + [("state", state.json)]).text)
                    return .success
                }
                let out = Terminal.standardOutput
                out.line(
                    out.paint("plan \(plan.id)", .bold)
                        + " created \(plan.created.iso8601), expires \(plan.expires.iso8601)"
                )
                out.line("desired state \(String(plan.desiredCommit.prefix(12))), lvx \(plan.toolVersion)")
                out.line("")
                out.write(PlanText(paint: Planning.painter(out)).render(plan))
                out.line("\(plan.stepCount) write(s). State: \(state)")
                if case .pendingApproval = state { out.line("Approve it with: lvx approve \(plan.id)") }
                return .success
            }
        }
    }

    /// `lvx plans`: every saved plan with its state.
    struct Plans: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List saved plans, newest first, with their state.")

        @OptionGroup var repository: RepositoryOptions
        @Flag(help: "Print one JSON array of plans with their state.") var json = false

        func run() async throws {
            try await execute {
                let now = SystemClock().now()
                let site = try Site.load(repositoryPath: repository.path, today: CivilDate(now))
                let policy = site.state?.applyPolicy ?? ApplyPolicy()
                var rows: [String] = []
                var items: [JSONValue] = []
                for (id, loaded) in try RecordFiles.allRecords(in: site) {
                    switch loaded {
                    case .success(let records):
                        let plan = records.plan
                        let state = PlanGate.state(of: records, policy: policy, now: now)
                        let units = plan.units.filter { !$0.steps.isEmpty }.map(\.name).joined(separator: ",")
                        rows.append(
                            "\(plan.id)  \(plan.created.iso8601)  \(plan.stepCount) write(s)  \(units)  \(state)"
                        )
                        items.append(
                            .object([
                                ("id", .string(plan.id)), ("created", .string(plan.created.iso8601)),
                                ("writes", .int(plan.stepCount)),
                                ("units", .array(plan.units.filter { !$0.steps.isEmpty }.map { .string($0.name) })),
                                ("state", state.json),
                            ])
                        )
                    case .failure(let refusal):
                        rows.append("\(id)  refused: \(refusal.description)")
                        items.append(.object([("id", .string(id)), ("refused", .string(refusal.description))]))
                    }
                }
                if json {
                    Terminal.standardOutput.line(JSONValue.array(items).text)
                    return .success
                }
                if rows.isEmpty { Terminal.standardOutput.line("no plans") }
                for row in rows { Terminal.standardOutput.line(row) }
                return .success
            }
        }
    }

    /// `lvx withdraw PLAN_ID`: take a plan back so it can never be approved or applied.
    struct Withdraw: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Withdraw a plan: it can no longer be approved or applied (withdrawn/PLAN_ID.yaml)."
        )

        @Argument(help: "The plan's id.") var planID: String
        @Option(help: ArgumentHelp("Why, for the record.", valueName: "text")) var reason: String?
        @Option(help: ArgumentHelp("Who withdraws (default: LVX_APPROVER, else the login name).", valueName: "name"))
        var by: String?
        @OptionGroup var repository: RepositoryOptions

        func run() async throws {
            try await execute {
                let clock = SystemClock()
                let now = clock.now()
                let site = try Site.load(repositoryPath: repository.path, today: CivilDate(now))
                let records = try RecordFiles.records(planID, in: site)
                let state = PlanGate.state(of: records, policy: site.state?.applyPolicy ?? ApplyPolicy(), now: now)
                guard state.isLive || { if case .superseded = state { true } else { false } }() else {
                    throw CLIError("plan '\(records.plan.id)' cannot be withdrawn: it is \(state)", status: .refused)
                }
                let person =
                    by ?? ProcessInfo.processInfo.environment["LVX_APPROVER"] ?? ProcessInfo.processInfo.environment[
                        "USER"
                    ] ?? "unknown"
                let record = WithdrawalRecord(planID: records.plan.id, by: person, at: now, reason: reason)
                _ = try RecordFiles.commit(
                    [
                        LifecyclePaths.withdrawal(records.plan.id): try RecordFiles.yaml(
                            record.json,
                            header: "lvx withdrawal of plan \(records.plan.id)"
                        )
                    ],
                    message: "withdraw plan \(records.plan.id) (by \(person))" + (reason.map { ": \($0)" } ?? ""),
                    to: site.repository,
                    clock: clock
                )
                Terminal.standardOutput.line("withdrew plan \(records.plan.id)")
                return .success
            }
        }
    }
}

extension PlanState {
    /// The state as `--json` prints it: its name, its words, and its details.
    var json: JSONValue {
        .object([("name", .string(name)), ("text", .string(description))])
    }
}
