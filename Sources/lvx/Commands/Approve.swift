import ArgumentParser
import Foundation
import LVXCore
import LVXGit
import LVXReconcile
import LVXYAML

extension LVXCommand {
    /// `lvx approve PLAN_ID`: record that a person approved exactly this plan (bound to its digest).
    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve a plan: write and commit approvals/PLAN_ID.yaml bound to the plan's digest."
        )

        @Argument(help: "The plan's id, as `lvx plan` printed it.") var planID: String

        @Option(help: ArgumentHelp("Who approves (default: LVX_APPROVER, else the login name).", valueName: "name"))
        var by: String?

        @Option(
            help: ArgumentHelp(
                "The SSH key to sign the approval with (default: git's user.signingkey when gpg.format is ssh).",
                valueName: "file"
            )
        )
        var key: String?

        @Option(
            help: ArgumentHelp(
                "Approve a plan of a fleet's site: the fleet's upstream. The site whose branch holds the plan is found through the fleet view; the approval is committed in a fresh clone of its branch and pushed.",
                valueName: "upstream"
            )
        )
        var fleet: String?

        @Option(help: ArgumentHelp("The mirror of --fleet (as lvx fleet --cache).", valueName: "dir")) var cache:
            String?

        @OptionGroup var repository: RepositoryOptions

        func run() async throws {
            try await execute {
                if let fleet { return try approveInFleet(fleet) }
                let approver = person(by)
                let signer = SSHApprovalSigner.reviewer(key: key, approver: approver, repositoryPath: repository.path)
                let (plan, _) = try Reconciler.real(repository: repository).approve(
                    planID,
                    by: approver,
                    signer: signer
                )
                Terminal.standardOutput.line(
                    "approved plan \(plan.id) (\(plan.stepCount) write(s)) by \(approver)"
                        + (signer.map { ", signed as \($0.identity)" } ?? "") + "; apply with `lvx apply \(plan.id)`"
                )
                if signer == nil {
                    Terminal.standardError.warning(
                        "the approval is not signed: it does not count where signers are pinned; set git's user.signingkey (gpg.format=ssh) or pass --key"
                    )
                }
                return .success
            }
        }
    }

}

extension LVXCommand.Approve {
    /// `lvx approve PLAN_ID --fleet UPSTREAM`: finds the site whose branch holds the plan, approves
    /// it in a fresh clone of that branch, and pushes the approval (never forced).
    func approveInFleet(_ upstream: String) throws -> ExitStatus {
        let (mirror, branches) = try FleetMirror.open(upstream: upstream, cache: cache, history: .recent)
        let view = FleetView(repository: mirror, codec: YAMLCodec(), clock: SystemClock())
        let holding = branches.filter { branch in
            ((try? view.plans(site: branch.site, tip: branch.tip)) ?? []).contains { $0.id == planID }
        }
        guard let branch = holding.first, holding.count == 1 else {
            throw CLIError(
                holding.isEmpty
                    ? "no site of \(upstream) has a plan '\(planID)'"
                    : "plan '\(planID)' is on several sites: \(holding.map(\.site).joined(separator: ", "))",
                hint: "`lvx fleet plans \(upstream)` lists the plans waiting, with their sites"
            )
        }
        let clone = NSTemporaryDirectory() + "lvx-approve-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: clone) }
        do {
            try GitCommand.run([
                "clone", "--quiet", "--single-branch", "--branch", "sites/\(branch.site)", FleetMirror.source(upstream),
                clone,
            ])
        } catch {
            throw CLIError("cannot clone site \(branch.site)'s branch of \(upstream): \(error)")
        }
        var options = RepositoryOptions()
        options.repo = clone
        let approver = person(by)
        let signer = SSHApprovalSigner.reviewer(key: key, approver: approver, repositoryPath: clone)
        let (plan, _) = try Reconciler.real(repository: options).approve(planID, by: approver, signer: signer)
        do {
            try GitCommand.run(["-C", clone, "push", "--quiet", "origin", "sites/\(branch.site)"])
        } catch {
            throw CLIError(
                "the approval of plan \(plan.id) could not be pushed to site \(branch.site)'s branch: \(error)",
                hint: "someone pushed meanwhile, or the site's run did; approve again"
            )
        }
        Terminal.standardOutput.line(
            "approved plan \(plan.id) of site \(branch.site) by \(approver)"
                + (signer.map { ", signed as \($0.identity)" } ?? "")
                + "; pushed to sites/\(branch.site), where the site's next run sees it"
        )
        if signer == nil {
            Terminal.standardError.warning(
                "the approval is not signed: it does not count where signers are pinned; set git's user.signingkey (gpg.format=ssh) or pass --key"
            )
        }
        return .success
    }
}

extension LVXCommand {
    /// `lvx show PLAN_ID`: a saved plan and its state.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a saved plan, as `lvx plan` printed it, and its state."
        )

        @Argument(help: "The plan's id.") var planID: String
        @Flag(help: "Print the plan and its state as JSON.") var json = false
        @OptionGroup var repository: RepositoryOptions
        @OptionGroup var trust: TrustOptions

        func run() async throws {
            try await execute {
                let reconciler = try Reconciler.real(repository: repository, trust: trust)
                if !reconciler.approvalsAuthenticated { trust.warnUnauthenticated() }
                let (records, state) = try reconciler.status(of: planID)
                let plan = records.plan
                let out = Terminal.standardOutput
                if json {
                    guard case .object(let pairs) = plan.json else { return .failure }
                    out.line(JSONValue.object(pairs + [("state", state.json)]).text)
                    return .success
                }
                out.line(
                    out.paint("plan \(plan.id)", .bold)
                        + " created \(plan.created.iso8601), expires \(plan.expires.iso8601)"
                )
                out.line("desired state \(String(plan.desiredCommit.prefix(12))), lvx \(plan.toolVersion)")
                out.line("")
                out.write(PlanText(paint: Reconciler.painter(out)).render(plan))
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
        @OptionGroup var trust: TrustOptions
        @Flag(help: "Print one JSON array of plans with their state.") var json = false

        func run() async throws {
            try await execute {
                var rows: [String] = []
                var items: [JSONValue] = []
                for (id, status) in try Reconciler.real(repository: repository, trust: trust).statuses() {
                    switch status {
                    case .success(let (records, state)):
                        let plan = records.plan
                        let units = plan.units.filter { !$0.steps.isEmpty }.map(\.name)
                        rows.append(
                            "\(plan.id)  \(plan.created.iso8601)  \(plan.stepCount) write(s)  \(units.joined(separator: ","))  \(state)"
                        )
                        items.append(
                            .object([
                                ("id", .string(plan.id)), ("created", .string(plan.created.iso8601)),
                                ("writes", .int(plan.stepCount)), ("units", .array(units.map { .string($0) })),
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
                } else {
                    if rows.isEmpty { Terminal.standardOutput.line("no plans") }
                    for row in rows { Terminal.standardOutput.line(row) }
                }
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
                let record = try Reconciler.real(repository: repository).withdraw(
                    planID,
                    by: person(by),
                    reason: reason
                )
                Terminal.standardOutput.line("withdrew plan \(record.planID)")
                return .success
            }
        }
    }
}

extension PlanState {
    /// The state as `--json` prints it: its name and its words.
    var json: JSONValue {
        .object([("name", .string(name)), ("text", .string(description))])
    }
}
