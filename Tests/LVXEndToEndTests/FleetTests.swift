import Foundation
import LVXTestSupport
import Testing

/// Several sites sharing one upstream (a branch `sites/NAME` each): `lvx init --site`, their runs,
/// `lvx fleet status` and `lvx fleet plans`, on real git repositories and simulated units.
@Suite("fleet: many sites, one upstream")
struct FleetTests {
    /// A fleet in a temporary directory: a bare upstream, and per site a simulator, a site
    /// repository made by `lvx init --site NAME --upstream`, and its ports.
    final class Fleet: @unchecked Sendable {
        // Used by one test at a time.
        let root: URL
        var upstream: String { root.appendingPathComponent("upstream.git").path }
        var cache: String { root.appendingPathComponent("cache").path }
        var sims: [String: SimulatorProcess] = [:]

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("lvx-fleet-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            try git(["init", "-q", "--bare", upstream])
        }

        deinit { try? FileManager.default.removeItem(at: root) }

        func repo(_ site: String) -> String { root.appendingPathComponent("\(site).git").path }

        /// A site whose units lvx-sim serves with `simulator` arguments, imported by `--from-live`.
        func addSite(_ site: String, _ simulator: [String], now: String? = nil) throws {
            let sim = try SimulatorProcess(simulator)
            sims[site] = sim
            let made = try lvx(
                ["init", repo(site), "--bare", "--site", site, "--upstream", upstream, "--from-live"],
                environment: ["LVX_PORTS": sim.portList].merging(now.map { ["LVX_NOW": $0] } ?? [:]) { $1 }
            )
            guard made.exitCode == 0 else { throw SimulatorError(message: "lvx init: \(made)") }
        }

        func run(_ site: String, now: String? = nil, _ extra: [String] = []) throws -> CommandResult {
            var env = ["LVX_REPO": repo(site), "LVX_PORTS": sims[site]?.portList ?? "", "LVX_LOG": "stderr"]
            if let now { env["LVX_NOW"] = now }
            return try lvx(["run"] + extra, environment: env)
        }

        func fleet(_ arguments: [String], now: String? = nil) throws -> CommandResult {
            try lvx(
                ["fleet"] + arguments + [upstream, "--cache", cache],
                environment: now.map { ["LVX_NOW": $0] } ?? [:]
            )
        }

        /// The fleet status as JSON objects keyed by site.
        func statusJSON(now: String? = nil) throws -> (CommandResult, [String: [String: Any]]) {
            let result = try fleet(["status", "--json"], now: now)
            let array = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] ?? []
            var out: [String: [String: Any]] = [:]
            for object in array { if let site = object["site"] as? String { out[site] = object } }
            return (result, out)
        }

        @discardableResult
        func git(_ arguments: [String]) throws -> String {
            let result = try runCommand("/usr/bin/git", arguments, environment: TemporaryRepository.gitEnvironment)
            guard result.exitCode == 0 else { throw SimulatorError(message: "git \(arguments): \(result.stderr)") }
            return result.stdout
        }

        func tip(_ site: String) throws -> String {
            try git(["--git-dir", upstream, "rev-parse", "refs/heads/sites/\(site)"])
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    static let home = ["--site", "seeds", "--baud", "0"]
    static func cabin(float: String = "54.0") -> [String] {
        ["--units", "1", "--baud", "0", "--set", "96100000000001:float_voltage=\(float)"]
    }

    @Test("each site pushes its runs to its own branch only; two sites in sync: exit 0")
    func inSync() throws {
        let fleet = try Fleet()
        try fleet.addSite("home", Self.home)
        try fleet.addSite("cabin", Self.cabin())
        let branches = try fleet.git(["--git-dir", fleet.upstream, "branch", "--format=%(refname:short)"])
        #expect(branches == "sites/cabin\nsites/home\n")
        let cabinBefore = try fleet.tip("cabin")
        #expect(try fleet.run("home").exitCode == 0)
        #expect(try fleet.tip("cabin") == cabinBefore, "home's run left cabin's branch alone")
        let homeLog = try fleet.git(["--git-dir", fleet.upstream, "log", "--format=%s", "sites/home"])
        #expect(homeLog.hasPrefix("run "), "home's run commit is on the upstream: \(homeLog)")
        #expect(try fleet.run("cabin").exitCode == 0)
        let (result, sites) = try fleet.statusJSON()
        #expect(result.exitCode == 0, "\(result)")
        #expect(sites["home"]?["health"] as? String == "in_sync")
        #expect(sites["cabin"]?["health"] as? String == "in_sync")
        let text = try fleet.fleet(["status"])
        #expect(text.stdout.contains("2 site(s): 2 in sync, 0 with changes, 0 late, 0 unreachable, 0 unknown"))
        // A site's repository fetches its own branch only, not the fleet's other sites, even
        // when its remote was set up to fetch every branch (as lvx did before).
        let refs = ["--git-dir", fleet.repo("home"), "for-each-ref", "--format=%(refname)", "refs/remotes"]
        #expect(try fleet.git(refs) == "refs/remotes/origin/sites/home\n")
        try fleet.git([
            "--git-dir", fleet.repo("home"), "config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*",
        ])
        #expect(try fleet.run("cabin").exitCode == 0)
        #expect(try fleet.run("home").exitCode == 0)
        #expect(try fleet.git(refs) == "refs/remotes/origin/sites/home\n")
        let cabin = try fleet.tip("cabin")
        let foreign = try runCommand("/usr/bin/git", ["--git-dir", fleet.repo("home"), "cat-file", "-e", cabin])
        #expect(foreign.exitCode != 0, "cabin's run commit is not in home's repository")
    }

    @Test("a drifted site: exit 2, its drift and pending plan in status, the plan in fleet plans")
    func drifted() throws {
        let fleet = try Fleet()
        try fleet.addSite("home", Self.home)
        try fleet.addSite("cabin", Self.cabin(float: "53.5"))
        // A person changes cabin's profile on its branch of the upstream.
        let work = fleet.root.appendingPathComponent("cabin-work").path
        try fleet.git(["clone", "-q", "-b", "sites/cabin", fleet.upstream, work])
        let profile = "\(work)/profiles/lvx6048-1.yaml"
        let text = try String(contentsOfFile: profile, encoding: .utf8)
        try text.replacingOccurrences(of: "float_voltage: 53.5", with: "float_voltage: 54.0")
            .write(toFile: profile, atomically: true, encoding: .utf8)
        try fleet.git(["-C", work, "commit", "-qam", "cabin: float 54.0"])
        try fleet.git(["-C", work, "push", "-q"])
        let person = try fleet.tip("cabin")
        #expect(try fleet.run("home").exitCode == 0)
        #expect(try fleet.run("cabin").exitCode == 2)
        // The agent fast-forwarded to the person's push and built on it: nothing of theirs is lost.
        try fleet.git(["--git-dir", fleet.upstream, "merge-base", "--is-ancestor", person, "sites/cabin"])
        let (result, sites) = try fleet.statusJSON()
        #expect(result.exitCode == 2, "\(result)")
        #expect(sites["home"]?["health"] as? String == "in_sync")
        #expect(sites["cabin"]?["health"] as? String == "changes")
        let units = sites["cabin"]?["units"] as? [[String: Any]]
        #expect(units?.first?["drifted"] as? [String] == ["float_voltage"])
        let plan = try #require(sites["cabin"]?["pending_plan"] as? [String: Any])
        #expect((plan["state"] as? [String: Any])?["name"] as? String == "pending_approval")
        let id = try #require(plan["id"] as? String)
        let plans = try fleet.fleet(["plans"])
        #expect(plans.exitCode == 2)
        #expect(plans.stdout.contains("cabin  \(id)"), "\(plans)")
        #expect(!plans.stdout.contains("home  "))
        // Approved in a clone of the site's branch and pushed: the fleet shows it approved.
        try fleet.git(["-C", work, "pull", "-q", "--ff-only"])
        let approved = try lvx(["approve", id, "--by", "alice"], environment: ["LVX_REPO": work])
        #expect(approved.exitCode == 0, "\(approved)")
        try fleet.git(["-C", work, "push", "-q"])
        let (_, after) = try fleet.statusJSON()
        let state = (after["cabin"]?["pending_plan"] as? [String: Any])?["state"] as? [String: Any]
        #expect(state?["name"] as? String == "approved", "\(String(describing: after["cabin"]))")
    }

    @Test("lvx approve --fleet finds the site of a plan, approves it on that site's branch, and the site applies it")
    func approveThroughTheFleet() throws {
        let fleet = try Fleet()
        try fleet.addSite("home", Self.home)
        try fleet.addSite("cabin", Self.cabin())
        // The cabin's desired float becomes 54.2, with auto-apply: its run plans the write.
        _ = try personPush(fleet, "cabin", "profiles/lvx6048-1.yaml") {
            $0.replacingOccurrences(of: "float_voltage: 54.0", with: "float_voltage: 54.2")
        }
        _ = try personPush(fleet, "cabin", "lvx.yaml") {
            $0.replacingOccurrences(of: "auto_apply_approved: false", with: "auto_apply_approved: true")
        }
        #expect(try fleet.run("cabin").exitCode == 2)
        #expect(try fleet.run("home").exitCode == 0)
        let (_, sites) = try fleet.statusJSON()
        let id = try #require((sites["cabin"]?["pending_plan"] as? [String: Any])?["id"] as? String)
        let homeBefore = try fleet.tip("home")
        let approved = try lvx(["approve", id, "--by", "alice", "--fleet", fleet.upstream, "--cache", fleet.cache])
        #expect(approved.exitCode == 0, "\(approved)")
        #expect(approved.stdout.contains("approved plan \(id) of site cabin by alice"), "\(approved)")
        #expect(try fleet.tip("home") == homeBefore, "only the cabin's branch changed")
        let applied = try fleet.run("cabin")
        #expect(applied.exitCode == 0, "the site fetched the approval and applied the plan: \(applied)")
        #expect(fleet.sims["cabin"]?.settersReceived.count == 1)
        let missing = try lvx(["approve", "0123456789abcdef", "--fleet", fleet.upstream, "--cache", fleet.cache])
        #expect(missing.exitCode == 1 && missing.stderr.contains("no site of"), "\(missing)")
    }

    @Test("a site whose approved plan went stale (the unit changed before the apply) shows it stale: exit 2")
    func stalePlan() throws {
        let fleet = try Fleet()
        try fleet.addSite("cabin", Self.cabin())
        _ = try personPush(fleet, "cabin", "profiles/lvx6048-1.yaml") {
            $0.replacingOccurrences(of: "float_voltage: 54.0", with: "float_voltage: 54.2")
        }
        #expect(try fleet.run("cabin").exitCode == 2)
        let (_, before) = try fleet.statusJSON()
        let id = try #require((before["cabin"]?["pending_plan"] as? [String: Any])?["id"] as? String)
        #expect(
            try lvx(["approve", id, "--by", "alice", "--fleet", fleet.upstream, "--cache", fleet.cache]).exitCode == 0
        )
        // Someone sets 54.4 on the LCD; then the site's operator applies: refused as stale.
        fleet.sims["cabin"] = try SimulatorProcess(Self.cabin(float: "54.4"))
        let env = ["LVX_PORTS": fleet.sims["cabin"]?.portList ?? ""]
        try fleet.git(["--git-dir", fleet.repo("cabin"), "fetch", "-q", "origin"])
        try fleet.git([
            "--git-dir", fleet.repo("cabin"), "update-ref", "refs/heads/sites/cabin", "refs/remotes/origin/sites/cabin",
        ])
        let apply = try lvx(["apply", id, "--repo", fleet.repo("cabin")], environment: env)
        #expect(apply.exitCode == 4 && apply.stderr.contains("plan is stale"), "\(apply)")
        try fleet.git(["--git-dir", fleet.repo("cabin"), "push", "-q", "origin", "sites/cabin"])
        let (result, after) = try fleet.statusJSON()
        #expect(result.exitCode == 2, "\(result)")
        let state = (after["cabin"]?["pending_plan"] as? [String: Any])?["state"] as? [String: Any]
        #expect(state?["name"] as? String == "stale", "\(String(describing: after["cabin"]))")
        #expect(after["cabin"]?["health"] as? String == "changes")
    }

    @Test("a site without a run for more than three timer periods is late: exit 1; within them it is not")
    func late() throws {
        let fleet = try Fleet()
        try fleet.addSite("home", Self.home)
        #expect(try fleet.run("home", now: "2026-11-30T06:00:00Z").exitCode == 0)
        let (fresh, sites) = try fleet.statusJSON(now: "2026-11-30T06:40:00Z")
        #expect(fresh.exitCode == 0, "40 minutes is within 3 x 15m: \(fresh)")
        #expect(sites["home"]?["late"] as? Bool == false)
        let (late, lateSites) = try fleet.statusJSON(now: "2026-11-30T06:50:00Z")
        #expect(late.exitCode == 1, "\(late)")
        #expect(lateSites["home"]?["health"] as? String == "late")
        let text = try fleet.fleet(["status"], now: "2026-11-30T06:50:00Z")
        #expect(text.stdout.contains("home: late: no run for 50m, more than 3 x 15m"), "\(text)")
        let relaxed = try fleet.fleet(["status", "--period", "1h"], now: "2026-11-30T06:50:00Z")
        #expect(relaxed.exitCode == 0, "with a 1h timer, 50 minutes is not late: \(relaxed)")
    }

    @Test("a site with a unit that did not answer: exit 1, the unit named")
    func unreachable() throws {
        let fleet = try Fleet()
        try fleet.addSite("home", Self.home)
        fleet.sims["home"] = try SimulatorProcess(Self.home + ["--fault", "96142408100255:hang-after=0"])
        _ = try fleet.run("home", now: nil, ["--timeout", "0.3"])
        let text = try fleet.fleet(["status"])
        #expect(text.exitCode == 1, "\(text)")
        #expect(text.stdout.contains("home: unreachable in the last run: lvx6048-2"), "\(text)")
    }

    /// Leaves one lvx run commit in the site's repository that the upstream lacks, as when a
    /// person pushes between the run's fetch and its push: the upstream is away during the run.
    func unpublishedRun(_ fleet: Fleet, _ site: String) throws {
        let away = fleet.upstream + ".away"
        try FileManager.default.moveItem(atPath: fleet.upstream, toPath: away)
        let offline = try fleet.run(site)
        try FileManager.default.moveItem(atPath: away, toPath: fleet.upstream)
        #expect(offline.stderr.contains("fetching the upstream failed"), "\(offline)")
    }

    /// A person's commit on the site's branch of the upstream, changing `file` with `edit`.
    func personPush(_ fleet: Fleet, _ site: String, _ file: String, _ edit: (String) -> String) throws -> String {
        let work = fleet.root.appendingPathComponent("\(site)-person-\(UUID().uuidString)").path
        try fleet.git(["clone", "-q", "-b", "sites/\(site)", fleet.upstream, work])
        let path = "\(work)/\(file)"
        try edit(try String(contentsOfFile: path, encoding: .utf8)).write(
            toFile: path,
            atomically: true,
            encoding: .utf8
        )
        try fleet.git(["-C", work, "commit", "-qam", "a person's change to \(file)"])
        try fleet.git(["-C", work, "push", "-q"])
        return try fleet.tip(site)
    }

    @Test("a person's push that raced a run: lvx replays its own commit on top, merges nothing, loses nothing")
    func racedPush() throws {
        let fleet = try Fleet()
        try fleet.addSite("cabin", Self.cabin(float: "53.5"))
        try unpublishedRun(fleet, "cabin")
        let local = try fleet.git(["--git-dir", fleet.repo("cabin"), "log", "-1", "--format=%H %s", "sites/cabin"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let person = try personPush(fleet, "cabin", "profiles/lvx6048-1.yaml") {
            $0.replacingOccurrences(of: "float_voltage: 53.5", with: "float_voltage: 54.0")
        }
        let result = try fleet.run("cabin")
        #expect(result.exitCode == 2, "the person's 54.0 is read: drift, a plan: \(result)")
        #expect(result.stderr.contains("replayed lvx's 1 commit(s) on top of the upstream"), "\(result)")
        let log = try fleet.git(["--git-dir", fleet.upstream, "log", "--format=%H %an %s", "sites/cabin"])
        let lines = log.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "init, the person's push, the replayed run, the new run: \(log)")
        #expect(lines[2].hasPrefix(person + " test a person's change"), "the person's commit, as pushed")
        #expect(lines[1].contains(" lvx run "), "\(lines)")
        #expect(lines[1].split(separator: " ").dropFirst(2) == local.split(separator: " ").dropFirst(1))
        #expect(!lines[1].hasPrefix(String(local.prefix(40))), "replayed: a new commit with the same message")
        #expect(try fleet.git(["--git-dir", fleet.upstream, "rev-list", "--merges", "sites/cabin"]).isEmpty)
    }

    @Test("a person's push while a run reads its units is never replaced by the run's push, and the next run replays")
    func pushDuringRun() throws {
        let fleet = try Fleet()
        try fleet.addSite("cabin", Self.cabin())
        // At 2400 baud the read takes over a second: the run has fetched, and will push after it.
        let slow = try SimulatorProcess(Self.cabin() + ["--baud", "2400"])
        fleet.sims["cabin"] = slow
        let box = ResultBox()
        let group = DispatchGroup()
        inBackground(group) { box.add(try? fleet.run("cabin")) }
        var waited = 0
        while slow.log("96100000000001").isEmpty && waited < 60_000 {
            usleep(10_000)
            waited += 10
        }
        #expect(!slow.log("96100000000001").isEmpty, "the run is reading the unit")
        let person = try personPush(fleet, "cabin", "profiles/lvx6048-1.yaml") { $0 + "# a person's note\n" }
        group.wait()
        let raced = try #require(box.results.first)
        #expect(raced.stderr.contains("rejected"), "the run's push must be refused: \(raced)")
        #expect(try fleet.tip("cabin") == person, "the person's commit is still the branch's tip")
        fleet.sims["cabin"] = try SimulatorProcess(Self.cabin())
        let next = try fleet.run("cabin")
        #expect(next.stderr.contains("replayed lvx's 1 commit(s)"), "\(next)")
        try fleet.git(["--git-dir", fleet.upstream, "merge-base", "--is-ancestor", person, "sites/cabin"])
    }

    @Test("a raced push that changed a file lvx's commit changed too: nothing merged, nothing pushed, the run goes on")
    func racedConflict() throws {
        let fleet = try Fleet()
        try fleet.addSite("cabin", Self.cabin())
        #expect(try fleet.run("cabin").exitCode == 0)
        try unpublishedRun(fleet, "cabin")
        let person = try personPush(fleet, "cabin", "runs/last.yaml") { $0 + "# a person's note\n" }
        let result = try fleet.run("cabin")
        #expect(result.stderr.contains("nothing was merged: runs/last.yaml was changed on both sides"), "\(result)")
        #expect(try fleet.tip("cabin") == person, "nothing was pushed over the person's commit")
    }

    @Test("a site set up again takes its branch from the upstream, and its history goes on")
    func adopted() throws {
        let fleet = try Fleet()
        try fleet.addSite("home", Self.home)
        #expect(try fleet.run("home").exitCode == 0)
        let before = try fleet.tip("home")
        try FileManager.default.removeItem(atPath: fleet.repo("home"))
        let again = try lvx(["init", fleet.repo("home"), "--bare", "--site", "home", "--upstream", fleet.upstream])
        #expect(again.exitCode == 0, "\(again)")
        #expect(again.stdout.contains("taken from"), "\(again)")
        #expect(try fleet.tip("home") == before, "setting a site up again pushes nothing")
        #expect(try fleet.run("home").exitCode == 0)
        try fleet.git(["--git-dir", fleet.upstream, "merge-base", "--is-ancestor", before, "sites/home"])
    }

    @Test("lvx report --fleet: one page with a section per site, each with its own units' charts")
    func fleetReport() throws {
        let fleet = try Fleet()
        try fleet.addSite("home", Self.home)
        try fleet.addSite("cabin", Self.cabin(float: "54.4"))
        #expect(try fleet.run("home").exitCode == 0)
        let cabinRun = try fleet.run("cabin")
        #expect(cabinRun.exitCode == 0, "\(cabinRun)")
        let out = fleet.root.appendingPathComponent("fleet.html").path
        let result = try lvx(["report", "--fleet", fleet.upstream, "--cache", fleet.cache, "--out", out])
        #expect(result.exitCode == 0, "\(result)")
        #expect(result.stdout.contains("3 unit(s)") && result.stdout.contains("sites cabin, home"), "\(result)")
        let html = try String(contentsOfFile: out, encoding: .utf8)
        #expect(html.contains(#"id="site-cabin""#) && html.contains(#"id="site-home""#))
        #expect(html.contains(#"id="unit-cabin-lvx6048-1""#))
        #expect(html.contains(#"id="unit-home-lvx6048-1""#) && html.contains(#"id="unit-home-lvx6048-2""#))
        #expect(!html.contains(#"id="unit-cabin-lvx6048-2""#), "cabin has one unit")
        // Each site's charts come from its own branch: cabin's float is 54.4, home's 54.0.
        let cabin = try #require(html.components(separatedBy: #"id="site-cabin""#).dropFirst().first)
        let cabinOnly = try #require(cabin.components(separatedBy: #"id="site-home""#).first)
        #expect(cabinOnly.contains("want 54.4") && !cabinOnly.contains("lvx6048-2"), "\(cabinOnly.prefix(300))")
        let home = try #require(html.components(separatedBy: #"id="site-home""#).dropFirst().first)
        #expect(home.contains("want 54.0") && !home.contains("want 54.4"))
    }

    @Test("bad fleet input: a site name that is not one, --site without --upstream, no site branches")
    func badInput() throws {
        let fleet = try Fleet()
        let badName = try lvx(["init", fleet.repo("x"), "--bare", "--site", "../x", "--upstream", fleet.upstream])
        #expect(badName.exitCode == 64 && badName.stderr.contains("--site '../x' is not a site name"), "\(badName)")
        let alone = try lvx(["init", fleet.repo("y"), "--bare", "--site", "y"])
        #expect(alone.exitCode == 64 && alone.stderr.contains("--site and --upstream go together"), "\(alone)")
        let empty = try fleet.fleet(["status"])
        #expect(empty.exitCode == 1 && empty.stderr.contains("has no site branches (sites/NAME)"), "\(empty)")
        let nowhere = try lvx([
            "fleet", "status", fleet.root.appendingPathComponent("missing").path, "--cache", fleet.cache,
        ])
        #expect(nowhere.exitCode == 1 && nowhere.stderr.contains("cannot fetch the site branches"), "\(nowhere)")
    }
}
