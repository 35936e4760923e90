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

    /// The whole plan: per unit its changes and notable non-changes, then a summary line.
    public func render(_ plans: [Planner.UnitPlan], document: PlanDocument?, encode: (SettingWrite) -> String) -> String
    {
        var out = ""
        for plan in plans {
            let header = "\(plan.unit.name) (\(plan.unit.serial)) on \(plan.observation.port)"
            out += paint(header, .bold) + "\n"
            for problem in plan.problems { out += "  " + paint("! ", .problem) + problem + "\n" }
            for write in plan.writes {
                for key in write.keys {
                    guard let want = write.expected[key] else { continue }
                    let live = plan.observation.settings[key]
                    if live == want { continue }
                    let was = live.map(key.format) ?? "?"
                    out += "  " + paint("~ ", .change) + "\(key.rawValue): \(was) -> \(key.format(want))\n"
                }
                // A write no key of which drifted here is one the stack needs: say so.
                let drifted = Set(plan.drift.filter { $0.state == .drifted }.map(\.key))
                let stackKeys = write.keys.filter { key in
                    plan.drift.contains { $0.key == key && $0.state == .stackMember }
                }
                if !write.keys.contains(where: drifted.contains) && !stackKeys.isEmpty {
                    out +=
                        "  " + paint("= ", .note) + stackKeys.map(\.rawValue).joined(separator: ", ")
                        + " already set; written so the stack stays identical\n"
                }
                out += "      " + paint(encode(write), .dim) + "\n"
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
}
