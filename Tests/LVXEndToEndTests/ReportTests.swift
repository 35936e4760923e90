import Foundation
import LVXTestSupport
import Testing

/// `lvx report` on a site with a history of runs, drift, a plan approved and applied, and an
/// outage, checked as text and in a real headless browser (Debian's chromium).
@Suite("report: the settings timeline as a static page")
struct ReportTests {
    static let unit1 = AgentTests.unit1
    static let unit2 = AgentTests.unit2

    /// A site whose history holds: an in-sync run, a drift with its plan, an approval by a person
    /// whose name tries to inject markup, the run that applies it, and a run with unit 2 unplugged.
    static func history() throws -> TemporaryRepository {
        let repo = try AgentTests.site {
            $0 = $0.replacingOccurrences(of: "auto_apply_approved: false", with: "auto_apply_approved: true")
        }
        func run(_ sim: SimulatorProcess, _ now: String) throws {
            _ = try lvx(["run", "--timeout", "0.3"], environment: AgentTests.env(repo, sim, now: now))
        }
        try run(try SimulatorProcess(["--site", "seeds"]), "2026-11-01T00:00:00Z")
        let drifted = try SimulatorProcess(["--site", "seeds", "--set", "\(unit1):float_voltage=54.4"])
        try run(drifted, "2026-11-02T00:00:00Z")
        let plan = try #require(
            try repo.git("ls-tree", "--name-only", "HEAD", "plans/").split(separator: "\n").last.map {
                String($0.dropFirst("plans/".count).dropLast(".yaml".count))
            }
        )
        let approved = try lvx(
            ["approve", plan, "--by", "<script>alert(1)</script>"],
            environment: AgentTests.env(repo, drifted, now: "2026-11-02T06:00:00Z")
        )
        #expect(approved.exitCode == 0, "\(approved)")
        try run(drifted, "2026-11-02T12:00:00Z")
        try run(try SimulatorProcess(["--site", "seeds", "--fault", "\(unit2):hang-after=0"]), "2026-11-03T00:00:00Z")
        try run(try SimulatorProcess(["--site", "seeds"]), "2026-11-04T00:00:00Z")
        return repo
    }

    static func report(_ repo: TemporaryRepository, _ extra: [String] = []) throws -> (CommandResult, String, String) {
        let out = repo.path.deletingLastPathComponent().appendingPathComponent("report-\(UUID().uuidString).html").path
        let result = try lvx(["report", "--out", out] + extra, environment: ["LVX_REPO": repo.path.path])
        return (result, out, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
    }

    @Test("the page has a summary row and a chart per setting for each unit, with drift, markers and the outage")
    func page() throws {
        let repo = try Self.history()
        let (result, path, html) = try Self.report(repo)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(result.exitCode == 0, "\(result)")
        #expect(result.stdout.hasPrefix("wrote \(path): 2 unit(s)"), "\(result)")
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(!html.contains("<script"), "no script, and the approver's name is escaped")
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        for unit in ["lvx6048-1", "lvx6048-2"] {
            #expect(html.contains(#"data-unit="\#(unit)""#))
            #expect(html.contains("<a href=\"#unit-home-\(unit)\">\(unit)</a>"), "a summary row links the unit")
        }
        let unit1 = try #require(html.range(of: #"data-unit="lvx6048-1""#)).upperBound
        let unit2 = try #require(html.range(of: #"data-unit="lvx6048-2""#)).lowerBound
        let first = String(html[unit1..<unit2])
        #expect(first.components(separatedBy: "class=\"chart\"").count - 1 == 12, "one chart per setting")
        let float = try #require(first.components(separatedBy: #"data-key="float_voltage""#).dropFirst().first)
        let chart = String(float.prefix { _ in true }.split(separator: "</svg>").first ?? "")
        #expect(chart.contains(#"class="live""#) && chart.contains(#"class="band""#))
        #expect(chart.contains(#"class="drift""#), "54.4 against 54.0 +/- 0.05 is drift")
        for marker in ["marker-plan", "marker-approval", "marker-applied"] {
            #expect(chart.contains(marker), "\(marker)")
        }
        #expect(!first.contains(#"class="gap""#), "unit 1 always answered")
        let second = String(html[unit2...])
        #expect(second.contains(#"class="gap""#), "unit 2's outage is a gap")
    }

    @Test("the page in a real headless browser: it loads without errors and its DOM holds every chart and marker")
    func browser() throws {
        let repo = try Self.history()
        let (_, path, _) = try Self.report(repo)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let shot = path + ".png"
        defer { try? FileManager.default.removeItem(atPath: shot) }
        let flags = [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)",
            "--enable-logging=stderr", "--v=0", "--window-size=1100,1800",
        ]
        // A page that ran script could block on a dialog forever: the bound turns that into a failure.
        let dom = try runCommand("/usr/bin/chromium", flags + ["--dump-dom", "file://\(path)"], timeout: 300)
        #expect(dom.exitCode == 0, "\(dom.stderr.suffix(2000))")
        // What the browser built, not what the file says: every chart is an svg element in the DOM.
        #expect(dom.stdout.components(separatedBy: "<svg ").count - 1 == 24, "12 charts for each of 2 units")
        for marker in ["marker-plan", "marker-approval", "marker-applied"] { #expect(dom.stdout.contains(marker)) }
        #expect(dom.stdout.contains(#"class="gap""#) && dom.stdout.contains(#"class="drift""#))
        #expect(!dom.stdout.contains("<script"), "the escaped name did not become an element")
        let console = dom.stderr.split(separator: "\n").filter { $0.contains("CONSOLE") || $0.contains("Uncaught") }
        #expect(console.isEmpty, "no console messages: \(console)")
        let picture = try runCommand(
            "/usr/bin/chromium",
            flags + ["--screenshot=\(shot)", "file://\(path)"],
            timeout: 300
        )
        #expect(picture.exitCode == 0, "\(picture.stderr.suffix(2000))")
        let png = try #require(FileManager.default.contents(atPath: shot))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 20_000, "a PNG with something drawn")
    }

    @Test("--unit and --since narrow the page; an unknown unit is an error naming the units")
    func options() throws {
        let repo = try Self.history()
        let (one, path, html) = try Self.report(repo, ["--unit", "lvx6048-2", "--since", "2026-11-03"])
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(one.exitCode == 0, "\(one)")
        #expect(!html.contains(#"data-unit="lvx6048-1""#) && html.contains(#"data-unit="lvx6048-2""#))
        #expect(html.contains("2026-11-03T00:00:00Z"), "the page starts at --since")
        #expect(!html.contains("2026-11-01T00:00:00Z"))
        let (bad, _, _) = try Self.report(repo, ["--unit", "lvx6048-3"])
        #expect(bad.exitCode == 1 && bad.stderr.contains("no unit named 'lvx6048-3'"), "\(bad)")
        #expect(bad.stderr.contains("the units are lvx6048-1, lvx6048-2"), "\(bad)")
    }
}
