import LVXCore
import LVXReconcile
import Logging

/// How an apply is shown: the plan first (like `terraform apply`), then one line per step with
/// its unit, keys, values, command and read-back; the same fields go to the journal and to
/// sd_notify.
struct ApplyOutput: Sendable {
    var terminal: Terminal = .standardOutput
    var notifier: (any ServiceNotifier)?
    var logger: Logger?

    func callAsFunction(_ event: ApplyEvent) {
        switch event {
        case .starting(let plan, let approvedBy):
            terminal.write(PlanText(paint: Reconciler.painter(terminal)).render(plan))
            terminal.line("applying plan \(plan.id) (\(plan.stepCount) write(s)), approved by \(approvedBy)")
            logger?.info(
                "applying plan \(plan.id) (\(plan.stepCount) write(s)), approved by \(approvedBy)",
                metadata: ["LVX_PLAN_ID": "\(plan.id)"]
            )
        case .progress(let step):
            let line = Self.describe(step, terminal)
            // The step's own line says it all once it is done; systemd hears both.
            if case .writing = step {} else { terminal.line(line) }
            notifier?.status(Self.describe(step, Terminal.plain))
            if case .stepDone(let unit, let planned, let outcome) = step {
                let ok = outcome.succeeded
                let back = planned.changingKeys.compactMap { k in outcome.readBack?[k].map(k.format) }
                logger?.log(
                    level: ok ? .info : .error,
                    "\(Self.describe(step, Terminal.plain))",
                    metadata: [
                        "LVX_UNIT": "\(unit)",
                        "LVX_KEYS": "\(planned.changingKeys.map(\.rawValue).joined(separator: ","))",
                        "LVX_FROM":
                            "\(planned.changingKeys.map { k in planned.from[k].map(k.format) ?? "?" }.joined(separator: ","))",
                        "LVX_TO":
                            "\(planned.changingKeys.map { k in planned.to[k].map(k.format) ?? "?" }.joined(separator: ","))",
                        "LVX_COMMAND": "\(planned.command)", "LVX_READ_BACK": "\(back.joined(separator: ","))",
                        "LVX_ACK": "\(outcome.ack.rawValue)",
                    ]
                )
            }
        }
    }

    /// One line of progress.
    static func describe(_ event: PlanApplier.Event, _ t: Terminal) -> String {
        switch event {
        case .stoppingServices(let units): return "stopping \(units.joined(separator: ", "))"
        case .rereading(let unit): return "re-reading \(unit)"
        case .writing(let unit, let step, let of, let planned):
            return "\(unit): step \(step)/\(of): \(planned.change) (\(planned.command))"
        case .stepDone(let unit, let planned, let outcome):
            let head = "\(unit): \(planned.change) (\(planned.command))"
            if outcome.succeeded {
                let back = planned.changingKeys.compactMap { k in outcome.readBack?[k].map(k.format) }
                return head + " " + t.paint("ok", .green) + ", read back " + back.joined(separator: ", ")
            }
            return head + " " + t.paint("FAILED", .red) + ": \(outcome.detail ?? outcome.ack.rawValue)"
        case .startingServices(let units): return "starting \(units.joined(separator: ", "))"
        }
    }
}
