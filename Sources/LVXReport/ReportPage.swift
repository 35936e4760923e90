import LVXCore
import Plot

/// The summary row of one unit, from its timeline and its plans.
public struct UnitSummary: Sendable {
    public var timeline: UnitTimeline
    /// Plans that wrote to the unit, and how many of them were applied, failed or are pending.
    public var plans: Int
    public var applied: Int
    public var failed: Int
    public var pending: Int

    public init(timeline: UnitTimeline, plans: Int, applied: Int, failed: Int, pending: Int) {
        self.timeline = timeline
        self.plans = plans
        self.applied = applied
        self.failed = failed
        self.pending = pending
    }
}

/// `lvx report`: a static HTML page (no script) with a summary table per site and, per unit, a
/// timeline chart per setting drawn as inline SVG.
public struct ReportPage: Sendable {
    /// One site of the report.
    public struct Site: Sendable {
        public var name: String
        /// The commit the report was made from.
        public var commit: String
        public var units: [UnitSummary]

        public init(name: String, commit: String, units: [UnitSummary]) {
            self.name = name
            self.commit = commit
            self.units = units
        }
    }

    public var title: String
    public var generated: WallTime
    public var toolVersion: String
    public var sites: [Site]

    public init(title: String, generated: WallTime, toolVersion: String, sites: [Site]) {
        self.title = title
        self.generated = generated
        self.toolVersion = toolVersion
        self.sites = sites
    }

    /// The whole page.
    public func render() -> String {
        let html = HTML(
            .lang(.english),
            .head(
                .meta(.charset(.utf8)),
                .meta(.name("viewport"), .content("width=device-width, initial-scale=1")),
                .title(title),
                .style(Self.css)
            ),
            .body(
                .h1(.text(title)),
                .p(
                    .class("meta"),
                    .text(
                        "Generated \(generated.iso8601) by lvx \(toolVersion) from git history: every dump, plan, approval and apply result committed by the runs."
                    )
                ),
                .forEach(sites) { site in
                    .section(
                        .class("site"),
                        .id("site-\(site.name)"),
                        .h2(.text("Site \(site.name)")),
                        .p(.class("meta"), .text("At commit \(site.commit.prefix(12)).")),
                        summaryTable(site),
                        .p(.class("legend"), .raw(Self.legend)),
                        .forEach(site.units) { unit in unitSection(site, unit.timeline) }
                    )
                }
            )
        )
        return html.render(indentedBy: .spaces(1)) + "\n"
    }

    private func summaryTable(_ site: Site) -> Plot.Node<HTML.BodyContext> {
        .table(
            .class("summary"),
            .tr(
                .th("Unit"),
                .th("Serial"),
                .th("From"),
                .th("To"),
                .th("Dumps"),
                .th("Drifted"),
                .th("Unreachable"),
                .th("Faults"),
                .th("Plans"),
                .th("Applied"),
                .th("Failed"),
                .th("Pending")
            ),
            .forEach(site.units) { u in
                let t = u.timeline
                return .tr(
                    .td(.a(.href("#unit-\(site.name)-\(t.name)"), .text(t.name))),
                    .td(.text(t.serial)),
                    .td(.text(t.start.iso8601)),
                    .td(.text(t.end.iso8601)),
                    .td(.text("\(t.dumps)")),
                    .td(.text(Self.percent(t.driftSeconds, of: t.duration * Int64(max(1, t.keys.count)), keys: true))),
                    .td(.text("\(t.unreachable.count) (\(Self.duration(t.unreachable)))")),
                    .td(.text("\(t.faults.count)")),
                    .td(.text("\(u.plans)")),
                    .td(.text("\(u.applied)")),
                    .td(.class(u.failed > 0 ? "bad" : ""), .text("\(u.failed)")),
                    .td(.text("\(u.pending)"))
                )
            }
        )
    }

    private func unitSection(_ site: Site, _ t: UnitTimeline) -> Plot.Node<HTML.BodyContext> {
        .section(
            .class("unit"),
            .id("unit-\(site.name)-\(t.name)"),
            .attribute(named: "data-unit", value: t.name),
            .h3(.text("\(t.name) (\(t.serial))")),
            .p(
                .class("meta"),
                .text(
                    "\(t.dumps) distinct dump(s) from \(t.start.iso8601) to \(t.end.iso8601); \(t.markers.count) plan event(s); \(t.unreachable.count) unreachable gap(s); \(t.faults.count) fault period(s)."
                )
            ),
            .forEach(Self.ordered(t.keys)) { key in
                .div(
                    .class("chart"),
                    .attribute(named: "data-key", value: key.key.rawValue),
                    .h4(.text(key.key.rawValue)),
                    .raw(Chart(timeline: t, key: key).svg())
                )
            }
        )
    }

    /// The charts worth looking at first: keys that drifted, then keys whose value changed, then
    /// the rest, each in the settings' order; keys neither read nor managed are left out.
    static func ordered(_ keys: [KeyTimeline]) -> [KeyTimeline] {
        let shown = keys.filter { !$0.live.isEmpty || !$0.desired.isEmpty }
        func rank(_ k: KeyTimeline) -> Int {
            if !k.drift.isEmpty { return 0 }
            return Set(k.live.compactMap(\.value)).count > 1 ? 1 : 2
        }
        return shown.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(
            \.element
        )
    }

    static func percent(_ part: Int64, of whole: Int64, keys: Bool) -> String {
        guard part > 0 else { return "never" }
        let tenths = part * 1000 / max(1, whole)
        return "\(tenths / 10).\(tenths % 10)% of key-time"
    }

    static func duration(_ spans: [LVXCore.Span<String>]) -> String {
        let seconds = spans.reduce(Int64(0)) { $0 + $1.end.secondsSince1970 - $1.start.secondsSince1970 }
        if seconds < 3600 { return "\(seconds / 60) min" }
        return "\(seconds / 3600) h \(seconds % 3600 / 60) min"
    }

    static let legend = """
        <span class="key live">live value</span> <span class="key band">desired &#177; tolerance</span> \
        <span class="key drift">drift</span> <span class="key gap">unreachable</span> \
        <span class="key fault">fault</span> markers: <b class="m-plan">plan</b> <b class="m-approval">approval</b> \
        <b class="m-applied">applied</b> <b class="m-failed">failed / refused / interrupted</b>
        """

    static let css = """
        body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1b1b1b; }
        h1 { font-size: 1.5em; } h2 { margin-top: 1.5em; } h3 { margin: 1.5em 0 0.2em; }
        h4 { margin: 0.6em 0 0; font-size: 0.9em; font-family: ui-monospace, monospace; font-weight: normal; }
        .meta { color: #555; }
        table.summary { border-collapse: collapse; }
        table.summary th, table.summary td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
        table.summary td.bad { color: #b00020; font-weight: bold; }
        svg { display: block; max-width: 100%; height: auto; }
        svg text { font: 10px ui-monospace, monospace; fill: #555; }
        .band { fill: #2e7d32; fill-opacity: 0.18; }
        .desired { stroke: #2e7d32; stroke-dasharray: 4 3; fill: none; }
        .drift { fill: #e53935; fill-opacity: 0.16; }
        .gap { fill: #9e9e9e; fill-opacity: 0.45; }
        .fault { fill: #fb8c00; }
        .live { stroke: #1565c0; stroke-width: 2; fill: none; }
        .axis { stroke: #bbb; } .frame { fill: #fafafa; }
        .marker { stroke-width: 1.5; }
        .marker-plan { stroke: #5e35b1; } .marker-approval { stroke: #00897b; }
        .marker-applied { stroke: #2e7d32; }
        .marker-failed, .marker-refused, .marker-interrupted { stroke: #b00020; }
        .marker-withdrawn { stroke: #9e9e9e; }
        .legend .key { padding: 0 0.4em; border-radius: 3px; }
        .legend .live { border-bottom: 2px solid #1565c0; } .legend .band { background: #c8e6c9; }
        .legend .drift { background: #ffcdd2; } .legend .gap { background: #d0d0d0; } .legend .fault { background: #ffcc80; }
        .m-plan { color: #5e35b1; } .m-approval { color: #00897b; } .m-applied { color: #2e7d32; } .m-failed { color: #b00020; }
        """
}

/// One setting's chart: an SVG with the live value as a step line over the desired band, drift
/// shaded, unreachable gaps, faults along the top, and plan markers.
struct Chart {
    let timeline: UnitTimeline
    let key: KeyTimeline

    static let width = 960.0
    static let height = 96.0
    static let left = 64.0
    static let right = 8.0
    static let top = 8.0
    static let bottom = 18.0

    var plotWidth: Double { Self.width - Self.left - Self.right }
    var plotHeight: Double { Self.height - Self.top - Self.bottom }

    func x(_ time: WallTime) -> Double {
        let t = Double(time.secondsSince1970 - timeline.start.secondsSince1970)
        return Self.left + max(0, min(1, t / Double(timeline.duration))) * plotWidth
    }

    /// The y range: for a choice, its indices; else the values seen and wanted, with the bands.
    var range: (low: Double, high: Double) {
        if case .choice(let names) = key.key.kind { return (-0.5, Double(names.count) - 0.5) }
        var values: [Double] = key.live.compactMap { $0.value.map { Double($0.raw) } }
        for d in key.desired {
            guard let want = d.value else { continue }
            let tolerance = Double(want.tolerance.hundredths) / scale
            values += [Double(want.value.raw) - tolerance, Double(want.value.raw) + tolerance]
        }
        guard let low = values.min(), let high = values.max() else { return (0, 1) }
        let pad = max((high - low) * 0.15, 1)
        return (low - pad, high + pad)
    }

    /// Raw units per hundredth of the key's unit: voltages are tenths (raw 540 = 54.0 V).
    var scale: Double {
        if case .voltage = key.key.kind { return 10 }
        return 100
    }

    func y(_ raw: Double) -> Double {
        let (low, high) = range
        return Self.top + (1 - (raw - low) / max(high - low, 0.001)) * plotHeight
    }

    static func f(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    func svg() -> String {
        let f = Self.f
        var out =
            #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \#(f(Self.width)) \#(f(Self.height))" "#
            + #"width="\#(f(Self.width))" height="\#(f(Self.height))" role="img" aria-label="\#(key.key.rawValue)">"#
        let bottomY = Self.top + plotHeight
        out +=
            #"<rect class="frame" x="\#(f(Self.left))" y="\#(f(Self.top))" width="\#(f(plotWidth))" "#
            + #"height="\#(f(plotHeight))"/>"#
        for s in key.drift {
            out += rect(
                "drift",
                s.start,
                s.end,
                Self.top,
                plotHeight,
                title: "drift \(s.start.iso8601) - \(s.end.iso8601)"
            )
        }
        for s in timeline.unreachable {
            out += rect("gap", s.start, s.end, Self.top, plotHeight, title: "unreachable: \(s.value)")
        }
        for s in timeline.faults { out += rect("fault", s.start, s.end, Self.top, 4, title: "fault \(s.value)") }
        // The desired value: a band of its tolerance (numbers) or a dashed line (choices).
        for d in key.desired {
            guard let want = d.value else { continue }
            let tolerance = Double(want.tolerance.hundredths) / scale
            let value = Double(want.value.raw)
            if case .choice = key.key.kind {
                out += #"<path class="desired" d="M\#(f(x(d.start))) \#(f(y(value)))H\#(f(x(d.end)))"/>"#
            } else {
                let top = y(value + max(tolerance, 0.5))
                let bottom = y(value - max(tolerance, 0.5))
                out +=
                    #"<rect class="band" x="\#(f(x(d.start)))" y="\#(f(top))" width="\#(f(max(0.5, x(d.end) - x(d.start))))" "#
                    + #"height="\#(f(max(1, bottom - top)))"><title>want \#(key.key.format(want.value)) &#177; "#
                    + #"\#(want.tolerance.formatted(for: key.key))</title></rect>"#
                out += #"<path class="desired" d="M\#(f(x(d.start))) \#(f(y(value)))H\#(f(x(d.end)))"/>"#
            }
        }
        // The live value as a step line, broken where it is not known.
        var path = ""
        var previous: Double?
        for s in key.live {
            guard let v = s.value else {
                previous = nil
                continue
            }
            let yv = y(Double(v.raw))
            path += previous == nil ? "M\(f(x(s.start))) \(f(yv))" : "V\(f(yv))"
            path += "H\(f(x(s.end)))"
            previous = yv
        }
        if !path.isEmpty { out += #"<path class="live" d="\#(path)"/>"# }
        for m in timeline.markers {
            let mx = f(x(m.time))
            out +=
                #"<line class="marker marker-\#(m.kind.rawValue)" x1="\#(mx)" x2="\#(mx)" y1="\#(f(Self.top))" "#
                + #"y2="\#(f(bottomY))"><title>\#(Self.escape("\(m.kind.rawValue) \(m.planID.prefix(8)) \(m.time.iso8601): \(m.text)"))</title></line>"#
        }
        // Axes: the value range on the left, dates below.
        out +=
            #"<line class="axis" x1="\#(f(Self.left))" x2="\#(f(Self.left + plotWidth))" y1="\#(f(bottomY))" y2="\#(f(bottomY))"/>"#
        for label in yLabels() {
            out +=
                #"<text x="\#(f(Self.left - 4))" y="\#(f(label.y + 3))" text-anchor="end">\#(Self.escape(label.text))</text>"#
        }
        for (i, anchor) in ["start", "middle", "end"].enumerated() {
            let t = WallTime(secondsSince1970: timeline.start.secondsSince1970 + timeline.duration * Int64(i) / 2)
            out +=
                #"<text x="\#(f(Self.left + plotWidth * Double(i) / 2))" y="\#(f(Self.height - 4))" "#
                + #"text-anchor="\#(anchor)">\#(String(t.iso8601.prefix(16)))</text>"#
        }
        return out + "</svg>"
    }

    private func rect(
        _ cls: String,
        _ from: WallTime,
        _ to: WallTime,
        _ top: Double,
        _ height: Double,
        title: String
    )
        -> String
    {
        let f = Self.f
        return #"<rect class="\#(cls)" x="\#(f(x(from)))" y="\#(f(top))" width="\#(f(max(0.5, x(to) - x(from))))" "#
            + #"height="\#(f(height))"><title>\#(Self.escape(title))</title></rect>"#
    }

    private func yLabels() -> [(y: Double, text: String)] {
        if case .choice(let names) = key.key.kind {
            let used = Set(
                key.live.compactMap { $0.value?.raw } + key.desired.compactMap { $0.value?.value.raw }
            )
            return names.indices.filter { used.contains($0) }.map { (y(Double($0)), String(names[$0].prefix(9))) }
        }
        let (low, high) = range
        return [low + (high - low) * 0.1, high - (high - low) * 0.1].map { raw in
            (y(raw), key.key.format(SettingValue(raw: Int(raw.rounded()))))
        }
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
