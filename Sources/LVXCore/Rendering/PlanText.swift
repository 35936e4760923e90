/// Renders a plan as text, Terraform-style: `~ float_voltage: 53.5 -> 54.0` per changing key.
public struct PlanText: Sendable {
    /// Colours a fragment; the CLI passes ANSI colours on a terminal and the identity elsewhere.
    public enum Tone: Sendable {
        case change
        case ok
        case note
        case problem
        case dim
        case bold
    }

    public var paint: @Sendable (String, Tone) -> String

    public init(paint: @escaping @Sendable (String, Tone) -> String = { text, _ in text }) {
        self.paint = paint
    }

    /// The whole plan as `lvx plan` prints it: per unit its changes and notable non-changes, then
    /// a summary line.
    public func render(_ plans: [Planner.UnitPlan], document: PlanDocument?, encode: (SettingWrite) -> String) -> String
    {
        var out = ""
        for plan in plans {
            out += header(name: plan.unit.name, serial: plan.unit.serial, port: plan.observation.port)
            for problem in plan.problems { out += "  " + paint("! ", .problem) + problem + "\n" }
            for write in plan.writes {
                var from = Settings()
                for k in write.keys { from[k] = plan.observation.settings[k] }
                out += step(PlanStep(write: write, from: from, command: encode(write)))
            }
            for d in plan.drift {
                switch d.state {
                case .withinTolerance(let t):
                    let live = d.live.map(d.key.format) ?? "?"
                    out +=
                        "  " + paint("= ", .ok)
                        + "\(d.key.rawValue): \(live) (within \(t.formatted(for: d.key)) of \(d.key.format(d.desired)))\n"
                case .accepted(let a):
                    let until = a.until.map { ", until \($0)" } ?? ""
                    out +=
                        "  " + paint("= ", .ok)
                        + "\(d.key.rawValue): \(d.key.format(a.value)) (accepted: \(a.reason)\(until))\n"
                default: break
                }
            }
            if plan.writes.isEmpty && plan.problems.isEmpty { out += "  " + paint("in sync", .ok) + "\n" }
            out += "\n"
        }
        let writes = plans.reduce(0) { $0 + $1.writes.count }
        let changing = plans.filter { !$0.writes.isEmpty }.count
        let problems = plans.reduce(0) { $0 + $1.problems.count }
        if problems > 0 {
            out += paint("Plan cannot be made: \(problems) problem(s).", .problem) + "\n"
        } else if writes == 0 {
            out += paint("No changes. \(plans.count) unit(s) match the desired state.", .ok) + "\n"
        } else if let document {
            out += paint("Plan \(document.id): \(writes) write(s) on \(changing) of \(plans.count) unit(s).", .bold)
            out += " Expires \(document.expires.iso8601).\n"
            out += "Approve it with: lvx approve \(document.id)\n"
        } else {
            out += paint("Plan: \(writes) write(s) on \(changing) of \(plans.count) unit(s) (not saved).", .bold) + "\n"
        }
        return out
    }

    /// A saved plan's steps, as `lvx show` and `lvx apply` print them: the same lines `lvx plan`
    /// printed for each write, stack notes included.
    public func render(_ plan: PlanDocument) -> String {
        var out = ""
        for unit in plan.units {
            out += header(name: unit.name, serial: unit.serial, port: unit.port)
            for s in unit.steps { out += step(s) }
            if unit.steps.isEmpty { out += "  " + paint("in sync", .ok) + "\n" }
            out += "\n"
        }
        return out
    }

    private func header(name: String, serial: SerialNumber, port: String) -> String {
        paint("\(name) (\(serial)) on \(port)", .bold) + "\n"
    }

    /// One write: a `~` line per changing key, a note when it changes nothing on this unit (a
    /// stack member's write), and the PI18 command.
    private func step(_ step: PlanStep) -> String {
        var out = ""
        for key in step.write.keys {
            guard let want = step.to[key], step.from[key] != want else { continue }
            let was = step.from[key].map(key.format) ?? "?"
            out += "  " + paint("~ ", .change) + "\(key.rawValue): \(was) -> \(key.format(want))\n"
        }
        if step.write.keys.allSatisfy({ step.from[$0] == step.to[$0] }) {
            out +=
                "  " + paint("= ", .note) + step.write.keys.map(\.rawValue).joined(separator: ", ")
                + " already set; written so the stack stays identical\n"
        }
        out += "      " + paint(step.command, .dim) + "\n"
        return out
    }
}
