import Foundation
import LVXTestSupport
import Testing

/// `lvx run` (agent mode), `lvx init` and its hooks, history, against lvx-sim and real git repositories.
@Suite("agent mode end to end")
struct AgentTests {
    static let unit1 = "96142109100037"
    static let unit2 = "96142408100255"

    /// A non-bare site repository from desired-state/ with `stop_units` emptied (no systemd here).
    static func site(_ edit: (inout String) -> Void = { _ in }) throws -> TemporaryRepository {
        var files = try TemporaryRepository.desiredStateFiles()
        var site = files["lvx.yaml"] ?? ""
        site = site.replacingOccurrences(
            of: "stop_units: [powermon.service, powermon2.service]",
            with: "stop_units: []"
        )
        edit(&site)
        files["lvx.yaml"] = site
        return try TemporaryRepository(files: files)
    }

    static func env(_ repo: TemporaryRepository, _ sim: SimulatorProcess, now: String? = nil) -> [String: String] {
        var env = ["LVX_REPO": repo.path.path, "LVX_PORTS": sim.portList, "LVX_LOG": "stderr"]
        if let now { env["LVX_NOW"] = now }
        return env
    }

    static func commitCount(_ repo: TemporaryRepository) throws -> Int {
        Int(try repo.git("rev-list", "--count", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    @Test("--pack-threshold: a run packs the loose objects once there are that many, and only then")
    func packThreshold() throws {
        let sim = try SimulatorProcess(["--site", "seeds"])
        let repo = try Self.site()
        let quiet = try lvx(["run"], environment: Self.env(repo, sim))
        #expect(quiet.exitCode == 0, "\(quiet)")
        #expect(!quiet.stderr.contains("packed "), "below the default threshold nothing is packed: \(quiet)")
        let packed = try lvx(["run", "--pack-threshold", "1"], environment: Self.env(repo, sim))
        #expect(packed.exitCode == 0, "\(packed)")
        #expect(packed.stderr.contains("packed "), "\(packed)")
        let objects = try repo.git("count-objects", "-v")
        #expect(objects.contains("\ncount: 0\n") || objects.hasPrefix("count: 0\n"), "\(objects)")
        _ = try repo.git("fsck", "--strict")  // throws when git finds the packed repository broken
    }

    @Test("in sync: exit 0, one commit with dated dumps and the run summary")
    func inSync() throws {
        let sim = try SimulatorProcess(["--site", "seeds"])
        let repo = try Self.site()
        let before = try Self.commitCount(repo)
        let result = try lvx(["run"], environment: Self.env(repo, sim, now: "2026-11-21T03:15:00Z"))
        #expect(result.exitCode == 0, "\(result)")
        #expect(try Self.commitCount(repo) == before + 1)
        let message = try repo.git("log", "-1", "--format=%s%n%ad", "--date=iso-strict")
        #expect(message.hasPrefix("run 2026-11-21T03:15Z: 2 units, in sync\n2026-11-21T03:15:00"))
        let dump = try repo.show("dumps/lvx6048-1.yaml")
        #expect(dump.contains("taken_at: '2026-11-21T03:15:00Z'"))
        #expect(dump.contains("float_voltage: 54.0"))
        #expect(dump.contains("parallel_index: 0"))
        #expect(dump.contains("mode: {code: '05', name: Hybrid}"))
        let summary = try repo.show("runs/last.yaml")
        #expect(summary.contains("exit_code: 0"))
        #expect(try repo.git("status", "--porcelain").isEmpty)
        #expect(sim.settersReceived.isEmpty)
    }

    @Test("drift within tolerance is in sync; beyond it, a plan is written and the commit names the drift (exit 2)")
    func drift() throws {
        let within = try SimulatorProcess([
            "--site", "seeds", "--set", "\(Self.unit1):float_voltage=54.1", "--set", "\(Self.unit2):float_voltage=54.1",
        ])
        let repo = try Self.site()
        let ok = try lvx(["run"], environment: Self.env(repo, within))
        #expect(ok.exitCode == 0, "\(ok)")
        #expect(
            try repo.show("runs/last.yaml").contains(
                "within_tolerance:\n  - {key: float_voltage, live: 54.1, want: 54.0, tolerance: '0.1 V'}"
            )
        )

        let beyond = try SimulatorProcess(["--site", "seeds", "--set", "\(Self.unit1):float_voltage=53.5"])
        let drifted = try lvx(["run"], environment: Self.env(repo, beyond, now: "2026-11-21T04:00:00Z"))
        #expect(drifted.exitCode == 2, "\(drifted)")
        let subject = try repo.git("log", "-1", "--format=%s")
        #expect(
            subject.hasPrefix(
                "run 2026-11-21T04:00Z: 2 units, 1 drifted: lvx6048-1 float_voltage 53.5 (want 54.0 +/- 0.1)"
            )
        )
        let body = try repo.git("log", "-1", "--format=%b")
        #expect(body.contains("written"))
        let plans = try repo.git("ls-tree", "--name-only", "HEAD", "plans/")
        #expect(plans.split(separator: "\n").count == 1)
        #expect(drifted.stderr.contains("warning: lvx6048-1 drifted: float_voltage 53.5 (want 54.0)"))
        #expect(drifted.stderr.contains("LVX_DRIFT_KEYS=float_voltage"))
        // The same drift again: the pending plan is reused, not written twice.
        let again = try lvx(["run"], environment: Self.env(repo, beyond, now: "2026-11-21T04:15:00Z"))
        #expect(again.exitCode == 2)
        #expect(try repo.git("ls-tree", "--name-only", "HEAD", "plans/").split(separator: "\n").count == 1)
        #expect(try repo.git("log", "-1", "--format=%b").contains("pending (unchanged)"))
        #expect(beyond.settersReceived.isEmpty, "auto_apply_approved is false: nothing is written")
    }

    @Test("accepted drift is in sync until its expiry, then it is drift")
    func acceptedDrift() throws {
        let sim = try SimulatorProcess([
            "--site", "seeds", "--set", "\(Self.unit1):max_charging_current=100", "--set",
            "\(Self.unit2):max_charging_current=100",
        ])
        let repo = try Self.site { site in
            site += """

                accept:
                  - {unit: lvx6048-1, key: max_charging_current, value: 100, reason: "set on the LCD", until: 2026-12-31}
                  - {unit: lvx6048-2, key: max_charging_current, value: 100, reason: "set on the LCD", until: 2026-12-31}

                """
        }
        let before = try lvx(["run"], environment: Self.env(repo, sim, now: "2026-12-31T12:00:00Z"))
        #expect(before.exitCode == 0, "\(before)")
        #expect(try repo.show("runs/last.yaml").contains("reason: set on the LCD, until: '2026-12-31'"))
        let after = try lvx(["run"], environment: Self.env(repo, sim, now: "2027-01-01T00:00:00Z"))
        #expect(after.exitCode == 2, "\(after)")
        #expect(after.stderr.contains("expired on 2026-12-31"))
        #expect(try repo.git("log", "-1", "--format=%s").contains("max_charging_current 100 (want 60)"))
    }

    @Test("an unreachable unit is recorded as such, the run still commits, and exits 1")
    func unreachable() throws {
        let sim = try SimulatorProcess(["--site", "seeds", "--fault", "\(Self.unit2):hang-after=0"])
        let repo = try Self.site()
        let before = try Self.commitCount(repo)
        let result = try lvx(["run", "--timeout", "0.3"], environment: Self.env(repo, sim))
        #expect(result.exitCode == 1, "\(result)")
        #expect(try Self.commitCount(repo) == before + 1)
        let dump = try repo.show("dumps/lvx6048-2.yaml")
        #expect(dump.contains("reachable: false"))
        #expect(dump.contains("error:"))
        #expect(try repo.show("dumps/lvx6048-1.yaml").contains("reachable: true"))
        #expect(try repo.git("log", "-1", "--format=%s").contains("1 unreachable"))
    }

    @Test("a unit unplugged in the middle of a run: a clear error for it, the other unit read, nothing lost")
    func unpluggedMidRun() throws {
        // The pty hangs up after the unit answered two requests of the run's read (a pulled cable).
        let sim = try SimulatorProcess(["--site", "seeds", "--fault", "\(Self.unit2):unplug-after=2"])
        let repo = try Self.site()
        let history = try repo.git("rev-list", "HEAD")
        let result = try lvx(["run", "--timeout", "0.5"], environment: Self.env(repo, sim))
        #expect(result.exitCode == 1, "\(result)")
        #expect(sim.log(Self.unit2).contains { $0.contains(" unplugged ") }, "the unit went away mid-read")
        #expect(sim.log(Self.unit2).filter { $0.contains(" data ") }.count == 2)
        let node = String(sim.port(Self.unit2).drop { $0 != ":" }.dropFirst())
        #expect(!FileManager.default.fileExists(atPath: node), "the pty hung up, so \(node) went away")
        #expect(result.stderr.contains("lvx6048-2"), "the error names the unit: \(result)")
        let dump = try repo.show("dumps/lvx6048-2.yaml")
        #expect(dump.contains("reachable: false") && dump.contains("error:"), "\(dump)")
        #expect(try repo.show("dumps/lvx6048-1.yaml").contains("reachable: true"))
        #expect(try repo.git("log", "-1", "--format=%s").contains("1 unreachable"))
        let after = try repo.git("rev-list", "HEAD")
        #expect(
            after.hasSuffix(history) && after.split(separator: "\n").count == history.split(separator: "\n").count + 1
        )
        _ = try repo.git("fsck", "--strict")
    }

    @Test("an invalid desired state: errors logged, nothing read, nothing committed, exit 1")
    func invalid() throws {
        let sim = try SimulatorProcess(["--site", "seeds"])
        let repo = try Self.site()
        try repo.commit(["profiles/eg4-lp4-v2.yaml": "battery_type: USER\nfloat_voltage: 60.0\n"])
        let before = try Self.commitCount(repo)
        let result = try lvx(["run"], environment: Self.env(repo, sim))
        #expect(result.exitCode == 1)
        #expect(result.stderr.contains("profiles/eg4-lp4-v2.yaml:2:16: error:"))
        #expect(try Self.commitCount(repo) == before)
        #expect(sim.log(Self.unit1).isEmpty, "no exchange at all with an invalid desired state")
    }

    @Test(
        "an approved plan is applied by the run when auto_apply_approved is true: an in-progress commit, then the run's"
    )
    func autoApply() throws {
        let sim = try SimulatorProcess([
            "--site", "seeds", "--set", "\(Self.unit1):float_voltage=54.4", "--set", "\(Self.unit2):float_voltage=54.4",
        ])
        let repo = try Self.site {
            $0 = $0.replacingOccurrences(of: "auto_apply_approved: false", with: "auto_apply_approved: true")
        }
        let env = Self.env(repo, sim)
        let first = try lvx(["run"], environment: env)
        #expect(first.exitCode == 2, "\(first)")
        #expect(sim.settersReceived.isEmpty, "a plan is never applied before it is approved")
        let planID = try #require(
            try repo.git("ls-tree", "--name-only", "HEAD", "plans/").split(separator: "/").last.map {
                String($0.dropLast(6))
            }
        )
        #expect(try lvx(["approve", planID, "--by", "alice"], environment: env).exitCode == 0)
        let before = try Self.commitCount(repo)
        let second = try lvx(["run"], environment: env)
        #expect(second.exitCode == 0, "\(second)")
        // The in-progress record is committed before the first write, the result with the run.
        #expect(try Self.commitCount(repo) == before + 2)
        #expect(try repo.git("log", "-1", "--format=%s", "HEAD~1") == "apply plan \(planID): started\n")
        let files = try repo.git("show", "--name-only", "--format=", "HEAD")
        #expect(files.contains("applied/\(planID).yaml"))
        #expect(files.contains("runs/last.yaml"))
        #expect(try repo.show("dumps/lvx6048-1.yaml").contains("float_voltage: 54.0"))
        #expect(sim.settersReceived.count == 2)
        let third = try lvx(["run"], environment: env)
        #expect(third.exitCode == 0, "in sync after the apply: \(third)")
    }

    @Test("an approved plan gone stale is marked stale once; the run's exit then reflects the units (2, a new plan)")
    func staleApproved() throws {
        let sim = try SimulatorProcess([
            "--site", "seeds", "--set", "\(Self.unit1):float_voltage=54.4", "--set", "\(Self.unit2):float_voltage=54.4",
        ])
        let repo = try Self.site {
            $0 = $0.replacingOccurrences(of: "auto_apply_approved: false", with: "auto_apply_approved: true")
        }
        let env = Self.env(repo, sim)
        #expect(try lvx(["run"], environment: env).exitCode == 2)
        let planID = try #require(
            try repo.git("ls-tree", "--name-only", "HEAD", "plans/").split(separator: "/").last.map {
                String($0.dropLast(6))
            }
        )
        #expect(try lvx(["approve", planID], environment: env).exitCode == 0)
        try sim.editState(Self.unit1) { state in
            var settings = state["settings"] as? [String: Any] ?? [:]
            settings["float_voltage"] = 54.6
            state["settings"] = settings
        }
        let result = try lvx(["run"], environment: env)
        #expect(result.exitCode == 2, "drift with a fresh plan, not a refusal: \(result)")
        #expect(result.stderr.contains("refused before any write: plan is stale: 'lvx6048-1' changed since the plan"))
        #expect(sim.settersReceived.isEmpty)
        #expect(try repo.show("refused/\(planID).yaml").contains("stale: true"))
        let plans = try repo.git("ls-tree", "--name-only", "HEAD", "plans/").split(separator: "\n")
        #expect(plans.count == 2, "a new plan for the new drift: \(plans)")
        #expect(try repo.show("runs/last.yaml").contains("plan_is_new: true"))
        // The next run does not try the stale plan again, and reuses the pending one.
        let next = try lvx(["run"], environment: env)
        #expect(next.exitCode == 2, "\(next)")
        #expect(!next.stderr.contains("plan is stale"), "\(next)")
        #expect(try repo.show("runs/last.yaml").contains("plan_is_new: false"))
    }

    @Test("two runs at once: the second waits, then exits 4 naming the holder; a dead holder's lock is reclaimed")
    func locking() throws {
        let sim = try SimulatorProcess(["--site", "seeds"])
        let repo = try Self.site()
        let lock = repo.path.appendingPathComponent(".git/lvx.lock")
        try "\(getpid())\n2026-11-21T03:00:00Z\nlvx run\n".write(to: lock, atomically: true, encoding: .utf8)
        let blocked = try lvx(["run", "--lock-wait", "0.5"], environment: Self.env(repo, sim))
        #expect(blocked.exitCode == 4)
        #expect(
            blocked.stderr.contains("the repository is locked by pid \(getpid()) (lvx run, since 2026-11-21T03:00:00Z)")
        )
        // The holder's start time, as the lock records it, tells it from a process that got its pid.
        let stat = try String(contentsOfFile: "/proc/self/stat", encoding: .utf8)
        let fields = try #require(stat.split(separator: ")").last).split(separator: " ")
        let started = String(fields[19])
        try "\(getpid())\n2026-11-21T03:00:00Z\nlvx run\n\(started)\n".write(
            to: lock,
            atomically: true,
            encoding: .utf8
        )
        let live = try lvx(["run", "--lock-wait", "0.5"], environment: Self.env(repo, sim))
        #expect(live.exitCode == 4, "the pid and its start time match: the holder is alive: \(live)")
        // The same live pid with another start time: the pid was reused (after a reboot, say).
        try "\(getpid())\n2026-11-21T03:00:00Z\nlvx run\n1\n".write(to: lock, atomically: true, encoding: .utf8)
        let reused = try lvx(["run"], environment: Self.env(repo, sim))
        #expect(reused.exitCode == 0, "\(reused)")
        #expect(!FileManager.default.fileExists(atPath: lock.path))
        try "999999\n2026-11-21T03:00:00Z\nlvx run\n".write(to: lock, atomically: true, encoding: .utf8)
        let reclaimed = try lvx(["run"], environment: Self.env(repo, sim))
        #expect(reclaimed.exitCode == 0, "\(reclaimed)")
        #expect(!FileManager.default.fileExists(atPath: lock.path))
    }

    @Test("a real second run while the first holds the lock is refused with exit 4, naming it")
    func concurrentRuns() throws {
        // The first run is kept busy by a unit that never answers (3 attempts x 2 s).
        let sim = try SimulatorProcess(["--site", "seeds", "--fault", "\(Self.unit2):hang-after=0"])
        let repo = try Self.site()
        let env = Self.env(repo, sim)
        let group = DispatchGroup()
        let box = ResultBox()
        inBackground(group) { box.add(try? lvx(["run", "--timeout", "2"], environment: env)) }
        let lock = repo.path.appendingPathComponent(".git/lvx.lock").path
        var waited = 0
        while !FileManager.default.fileExists(atPath: lock) && waited < 6_000 {
            usleep(50_000)
            waited += 1
        }
        #expect(FileManager.default.fileExists(atPath: lock), "the first run takes the lock")
        let second = try lvx(["run", "--lock-wait", "0"], environment: env)
        group.wait()
        #expect(second.exitCode == 4, "\(second)")
        #expect(second.stderr.contains("(lvx run, since "))
        #expect(box.results.first?.exitCode == 1, "the first run finishes (one unit unreachable)")
        #expect(!FileManager.default.fileExists(atPath: lock), "the lock is released")
    }

    @Test("lvx init --bare: a bad push is rejected by the hook with file:line:column; a good push lands")
    func pushHook() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("lvx-hub-\(UUID())")
        defer { try? FileManager.default.removeItem(at: base) }
        let hub = base.appendingPathComponent("hub.git").path
        let initResult = try lvx(["init", hub, "--bare"])
        #expect(initResult.exitCode == 0, "\(initResult)")
        #expect(
            initResult.stdout.hasSuffix(
                "approvals count only when signed by a key pinned on this host: add 'PRINCIPAL KEY' lines to /etc/lvx/allowed_signers (Docs/Operations.md, Signed approvals)\n"
            ),
            "\(initResult)"
        )
        let clone = base.appendingPathComponent("clone").path
        let git = TemporaryRepository.gitEnvironment
        #expect(try runCommand("/usr/bin/git", ["clone", "-q", hub, clone], environment: git).exitCode == 0)
        try "battery_type: USER\nfloat_voltage: 54.0\nflaot_voltage: 54.0\n".write(
            toFile: clone + "/profiles/example.yaml",
            atomically: true,
            encoding: .utf8
        )
        _ = try runCommand("/usr/bin/git", ["-C", clone, "commit", "-qam", "typo"], environment: git)
        let rejected = try runCommand("/usr/bin/git", ["-C", clone, "push", "origin", "main"], environment: git)
        #expect(rejected.exitCode != 0)
        #expect(
            rejected.stderr.contains(
                "profiles/example.yaml:3:1: error: unknown key 'flaot_voltage'; did you mean 'float_voltage'?"
            )
        )
        #expect(rejected.stderr.contains("pre-receive hook declined"))
        try "battery_type: USER\nfloat_voltage: 54.0\n".write(
            toFile: clone + "/profiles/example.yaml",
            atomically: true,
            encoding: .utf8
        )
        _ = try runCommand("/usr/bin/git", ["-C", clone, "commit", "-qam", "fixed"], environment: git)
        let accepted = try runCommand("/usr/bin/git", ["-C", clone, "push", "origin", "main"], environment: git)
        #expect(accepted.exitCode == 0, "\(accepted)")
        #expect(accepted.stderr.contains("valid: 0 unit(s), 1 profile(s)"))
    }

    @Test("lvx init --from-live imports each live unit as a unit and a profile that validates")
    func initFromLive() throws {
        let sim = try SimulatorProcess(["--site", "seeds", "--set", "\(Self.unit2):float_voltage=54.4"])
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("lvx-live-\(UUID())")
        defer { try? FileManager.default.removeItem(at: base) }
        let site = base.appendingPathComponent("site").path
        let result = try lvx(["init", site, "--from-live"], environment: ["LVX_PORTS": sim.portList])
        #expect(result.exitCode == 0, "\(result)")
        let yaml = try String(contentsOfFile: site + "/lvx.yaml", encoding: .utf8)
        #expect(yaml.contains("\"96142109100037\": {name: lvx6048-1, profile: lvx6048-1}"))
        #expect(yaml.contains("\"96142408100255\": {name: lvx6048-2, profile: lvx6048-2}"))
        let profile = try String(contentsOfFile: site + "/profiles/lvx6048-2.yaml", encoding: .utf8)
        #expect(profile.contains("\nfloat_voltage: 54.4\n"))
        #expect(try lvx(["validate", "--repo", site]).exitCode == 0)
        #expect(sim.settersReceived.isEmpty)
        let status = try runCommand(
            "/usr/bin/git",
            ["-C", site, "status", "--porcelain"],
            environment: TemporaryRepository.gitEnvironment
        )
        #expect(status.stdout.isEmpty)
    }

    @Test("a push racing a run loses nothing on either side")
    func pushRacingRun() throws {
        // lvx6048-2 never answers, so the run is still reading (3 attempts x 1 s) when the push lands.
        let sim = try SimulatorProcess([
            "--site", "seeds", "--set", "\(Self.unit1):float_voltage=53.5", "--fault", "\(Self.unit2):hang-after=0",
        ])
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("lvx-race-\(UUID())")
        defer { try? FileManager.default.removeItem(at: base) }
        let hub = base.appendingPathComponent("hub.git").path
        #expect(try lvx(["init", hub, "--bare"]).exitCode == 0)
        let git = TemporaryRepository.gitEnvironment
        let clone = base.appendingPathComponent("clone").path
        _ = try runCommand("/usr/bin/git", ["clone", "-q", hub, clone], environment: git)
        var files = try TemporaryRepository.desiredStateFiles()
        files["lvx.yaml"] = files["lvx.yaml"]?.replacingOccurrences(
            of: "stop_units: [powermon.service, powermon2.service]",
            with: "stop_units: []"
        )
        for (path, text) in files {
            let url = URL(fileURLWithPath: clone).appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        _ = try runCommand("/usr/bin/git", ["-C", clone, "add", "-A"], environment: git)
        _ = try runCommand("/usr/bin/git", ["-C", clone, "commit", "-qm", "the site"], environment: git)
        #expect(
            try runCommand("/usr/bin/git", ["-C", clone, "push", "-q", "origin", "main"], environment: git).exitCode
                == 0
        )
        // Start a run, and push a change once it holds the lock (it has read the desired state).
        let env = ["LVX_REPO": hub, "LVX_PORTS": sim.portList, "LVX_LOG": "stderr"]
        let box = ResultBox()
        let group = DispatchGroup()
        inBackground(group) { box.add(try? lvx(["run", "--timeout", "1"], environment: env)) }
        let lock = hub + "/lvx.lock"
        var waited = 0
        while !FileManager.default.fileExists(atPath: lock) && waited < 6_000 {
            usleep(50_000)
            waited += 1
        }
        #expect(FileManager.default.fileExists(atPath: lock), "the run takes the lock before the push")
        try "# pushed during a run\n".appending(files["profiles/eg4-lp4-v2.yaml"] ?? "").write(
            toFile: clone + "/profiles/eg4-lp4-v2.yaml",
            atomically: true,
            encoding: .utf8
        )
        _ = try runCommand(
            "/usr/bin/git",
            ["-C", clone, "commit", "-qam", "a comment pushed during the run"],
            environment: git
        )
        let push = try runCommand("/usr/bin/git", ["-C", clone, "push", "-q", "origin", "main"], environment: git)
        group.wait()
        #expect(push.exitCode == 0, "\(push)")
        #expect(box.results.first?.exitCode == 1, "drift and an unreachable unit: \(box.results)")
        let log = try runCommand("/usr/bin/git", ["-C", hub, "log", "--format=%s", "main"], environment: git).stdout
        #expect(log.contains("a comment pushed during the run"))
        #expect(log.contains("run "))
        let profile = try runCommand(
            "/usr/bin/git",
            ["-C", hub, "show", "main:profiles/eg4-lp4-v2.yaml"],
            environment: git
        ).stdout
        #expect(profile.hasPrefix("# pushed during a run"))
        #expect(try runCommand("/usr/bin/git", ["-C", hub, "fsck", "--strict"], environment: git).exitCode == 0)
    }

    @Test("with an upstream, run fast-forwards to a pushed change first and pushes its own commit back")
    func upstream() throws {
        let sim = try SimulatorProcess(["--site", "seeds"])
        let origin = try Self.site()
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("lvx-up-\(UUID())")
        defer { try? FileManager.default.removeItem(at: base) }
        let git = TemporaryRepository.gitEnvironment
        let hub = base.appendingPathComponent("hub.git").path
        let agent = base.appendingPathComponent("agent").path
        let person = base.appendingPathComponent("person").path
        _ = try runCommand("/usr/bin/git", ["clone", "-q", "--bare", origin.path.path, hub], environment: git)
        _ = try runCommand("/usr/bin/git", ["clone", "-q", hub, agent], environment: git)
        _ = try runCommand("/usr/bin/git", ["clone", "-q", hub, person], environment: git)
        // A person raises float to 54.2 and pushes; the agent's clone does not have it yet.
        let profile = person + "/profiles/eg4-lp4-v2.yaml"
        let text = try String(contentsOfFile: profile, encoding: .utf8)
        try text.replacingOccurrences(of: "float_voltage: 54.0", with: "float_voltage: 54.2").write(
            toFile: profile,
            atomically: true,
            encoding: .utf8
        )
        _ = try runCommand("/usr/bin/git", ["-C", person, "commit", "-qam", "float 54.2"], environment: git)
        #expect(
            try runCommand("/usr/bin/git", ["-C", person, "push", "-q", "origin", "main"], environment: git).exitCode
                == 0
        )
        let result = try lvx(["run"], environment: ["LVX_REPO": agent, "LVX_PORTS": sim.portList, "LVX_LOG": "stderr"])
        #expect(result.exitCode == 2, "the pushed profile is what the run compares with: \(result)")
        #expect(result.stdout.contains("float_voltage 54.0 (want 54.2"))
        let hubLog = try runCommand("/usr/bin/git", ["-C", hub, "log", "--format=%s", "main"], environment: git).stdout
        #expect(hubLog.hasPrefix("run "), "the run's commit was pushed: \(hubLog)")
        #expect(hubLog.contains("float 54.2"))
        #expect(
            try runCommand("/usr/bin/git", ["-C", agent, "status", "--porcelain"], environment: git).stdout.isEmpty
        )
    }

    @Test("run in a clone with a person's unpushed commit keeps its own commit local and says why")
    func unpushedForeignCommit() throws {
        let sim = try SimulatorProcess(["--site", "seeds"])
        let origin = try Self.site()
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("lvx-up-\(UUID())")
        defer { try? FileManager.default.removeItem(at: base) }
        let git = TemporaryRepository.gitEnvironment
        let hub = base.appendingPathComponent("hub.git").path
        let laptop = base.appendingPathComponent("laptop").path
        _ = try runCommand("/usr/bin/git", ["clone", "-q", "--bare", origin.path.path, hub], environment: git)
        _ = try runCommand("/usr/bin/git", ["clone", "-q", hub, laptop], environment: git)
        let hubBefore = try runCommand("/usr/bin/git", ["-C", hub, "rev-parse", "main"], environment: git).stdout
        // A person tries a port in their clone and commits, but does not push.
        let site = laptop + "/lvx.yaml"
        let text = try String(contentsOfFile: site, encoding: .utf8)
        try text.replacingOccurrences(
            of: "{name: lvx6048-1, profile: eg4-lp4-v2}",
            with: "{name: lvx6048-1, profile: eg4-lp4-v2, port: /dev/lvx-no-such-port}"
        ).write(toFile: site, atomically: true, encoding: .utf8)
        _ = try runCommand("/usr/bin/git", ["-C", laptop, "commit", "-qam", "try a port"], environment: git)
        let personal = try runCommand("/usr/bin/git", ["-C", laptop, "rev-parse", "HEAD"], environment: git).stdout
        let result = try lvx(
            ["run"],
            environment: ["LVX_REPO": laptop, "LVX_PORTS": sim.portList, "LVX_LOG": "stderr"]
        )
        #expect(result.exitCode == 1, "the broken port makes a unit unreachable: \(result)")
        #expect(
            result.stderr.contains(
                "the branch has 1 commit(s) the upstream lacks that lvx did not make (\(personal.prefix(12)) by test); the run's commit stays local until they are pushed"
            ),
            "\(result)"
        )
        #expect(try runCommand("/usr/bin/git", ["-C", hub, "rev-parse", "main"], environment: git).stdout == hubBefore)
        let local = try runCommand("/usr/bin/git", ["-C", laptop, "log", "--format=%s", "-2"], environment: git).stdout
        #expect(local.hasPrefix("run "), "the run still committed locally: \(local)")
        #expect(local.contains("try a port"))
    }

    @Test("history lists the dated dumps with what changed; dump --at and diff --since read it back")
    func history() throws {
        let repo = try Self.site()
        let first = try SimulatorProcess(["--site", "seeds"])
        #expect(try lvx(["run"], environment: Self.env(repo, first, now: "2026-11-20T03:00:00Z")).exitCode == 0)
        first.stop()
        let second = try SimulatorProcess(["--site", "seeds", "--set", "\(Self.unit1):float_voltage=53.5"])
        #expect(try lvx(["run"], environment: Self.env(repo, second, now: "2026-11-21T03:00:00Z")).exitCode == 2)
        let history = try lvx(["history", "lvx6048-1"], environment: ["LVX_REPO": repo.path.path])
        #expect(history.exitCode == 0, "\(history)")
        let lines = history.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("2026-11-20T03:00:00Z") == true)
        #expect(lines.last?.contains("float_voltage 54.0 -> 53.5") == true)
        let at = try lvx(["dump", "lvx6048-1", "--at", "2026-11-20"], environment: ["LVX_REPO": repo.path.path])
        #expect(at.stdout.contains("\nfloat_voltage: 54.0\n"), "\(at)")
        // Since the day of the second dump: the baseline is the dump before that day, not the newest.
        let diff = try lvx(["diff", "lvx6048-1", "--since", "2026-11-21"], environment: ["LVX_REPO": repo.path.path])
        #expect(diff.exitCode == 2, "\(diff)")
        #expect(diff.stdout.hasPrefix("lvx6048-1: 2026-11-20T03:00:00Z ("))
        #expect(diff.stdout.contains("~ float_voltage 54.0 -> 53.5"))
        let beforeAll = try lvx(
            ["diff", "lvx6048-1", "--since", "2026-11-20"],
            environment: ["LVX_REPO": repo.path.path]
        )
        #expect(beforeAll.exitCode == 1, "\(beforeAll)")
        #expect(
            beforeAll.stderr.hasPrefix(
                "error: no dump of 'lvx6048-1' before 2026-11-20 to compare with; the first is from 2026-11-20T03:00:00Z\n"
            )
        )
        let later = try lvx(["diff", "lvx6048-1", "--since", "2026-11-25"], environment: ["LVX_REPO": repo.path.path])
        #expect(later.exitCode == 0, "\(later)")
        #expect(later.stdout.hasPrefix("lvx6048-1: no dumps since 2026-11-25; the newest is from 2026-11-21T03:00:00Z"))
    }

    @Test(
        "history keeps an index in the git directory: later runs are added, a bad index is made again, the output never changes"
    )
    func historyIndex() throws {
        let repo = try Self.site()
        let env = ["LVX_REPO": repo.path.path]
        for (day, float) in [("20", "54.0"), ("21", "53.5")] {
            let sim = try SimulatorProcess(["--site", "seeds", "--set", "\(Self.unit1):float_voltage=\(float)"])
            _ = try lvx(["run"], environment: Self.env(repo, sim, now: "2026-11-\(day)T03:00:00Z"))
        }
        let two = try lvx(["history", "lvx6048-1"], environment: env)
        #expect(two.stdout.split(separator: "\n").count == 2, "\(two)")
        let index = repo.path.appendingPathComponent(".git/lvx/history/main/lvx6048-1.index").path
        let head = try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try String(contentsOfFile: index, encoding: .utf8).contains("\ntip \(head)\n"))
        // A run after the index: only it is read, and it is added.
        let sim = try SimulatorProcess(["--site", "seeds", "--set", "\(Self.unit1):float_voltage=54.4"])
        _ = try lvx(["run"], environment: Self.env(repo, sim, now: "2026-11-22T03:00:00Z"))
        let three = try lvx(["history", "lvx6048-1"], environment: env)
        let lines = three.stdout.split(separator: "\n")
        #expect(lines.count == 3 && lines[2].contains("float_voltage 53.5 -> 54.4"), "\(three)")
        #expect(three.stdout.hasPrefix(two.stdout), "the older lines are the same")
        // Whatever the index holds, the output is what a walk of the whole history gives.
        try FileManager.default.removeItem(atPath: index)
        let walked = try lvx(["history", "lvx6048-1"], environment: env)
        #expect(walked.stdout == three.stdout)
        let bad = [
            "garbage\n",
            "lvx history index 1\nunit lvx6048-1\ntip \(String(repeating: "ab", count: 20))\n",
            "lvx history index 1\nunit lvx6048-2\ntip \(head)\n",
            "lvx history index 1\nunit lvx6048-1\ntip \(head)\nnot an entry\n",
        ]
        for text in bad {
            try text.write(toFile: index, atomically: true, encoding: .utf8)
            let again = try lvx(["history", "lvx6048-1"], environment: env)
            #expect(again.stdout == three.stdout, "index \(text.debugDescription): \(again)")
        }
        let changes = try lvx(["history", "lvx6048-1", "--changes-only", "--since", "2026-11-21"], environment: env)
        #expect(changes.stdout.split(separator: "\n").count == 2, "\(changes)")
    }

    @Test("history of a unit that is not in lvx.yaml and has no dumps is an error with the closest name")
    func historyOfUnknownUnit() throws {
        let repo = try Self.site()
        let env = ["LVX_REPO": repo.path.path]
        let typo = try lvx(["history", "lvx6084-1"], environment: env)
        #expect(typo.exitCode == 1, "\(typo)")
        #expect(
            typo.stderr == """
                error: no unit named 'lvx6084-1' in lvx.yaml and no dumps of it in history; did you mean 'lvx6048-1'?
                note: the units are lvx6048-1, lvx6048-2

                """
        )
        let unknown = try lvx(["history", "nosuch"], environment: env)
        #expect(unknown.exitCode == 1, "\(unknown)")
        #expect(unknown.stderr.hasPrefix("error: no unit named 'nosuch' in lvx.yaml and no dumps of it in history\n"))
        #expect(try lvx(["diff", "nosuch", "--since", "2026-11-20"], environment: env).exitCode == 1)
        // A unit of lvx.yaml without dumps yet is known: an empty history, not an error.
        let known = try lvx(["history", "lvx6048-2"], environment: env)
        #expect(known.exitCode == 0, "\(known)")
        #expect(known.stdout == "no dumps of 'lvx6048-2' in that range\n")
    }

    @Test("run reports progress to systemd with sd_notify STATUS= lines, including during apply")
    func notifies() throws {
        let sim = try SimulatorProcess([
            "--site", "seeds", "--set", "\(Self.unit1):float_voltage=54.4", "--set", "\(Self.unit2):float_voltage=54.4",
        ])
        let repo = try Self.site {
            $0 = $0.replacingOccurrences(of: "auto_apply_approved: false", with: "auto_apply_approved: true")
        }
        var env = Self.env(repo, sim)
        #expect(try lvx(["run"], environment: env).exitCode == 2)
        let planID = try #require(
            try repo.git("ls-tree", "--name-only", "HEAD", "plans/").split(separator: "/").last.map {
                String($0.dropLast(6))
            }
        )
        #expect(try lvx(["approve", planID], environment: env).exitCode == 0)
        let socket = try NotifySocket()
        env["NOTIFY_SOCKET"] = socket.path
        #expect(try lvx(["run"], environment: env).exitCode == 0)
        let messages = socket.drain()
        #expect(messages.contains("STATUS=reading 2 unit(s)"), "\(messages)")
        #expect(messages.contains("STATUS=applying plan \(planID)"))
        #expect(
            messages.contains("STATUS=lvx6048-1: step 1/1: float_voltage 54.4 -> 54.0 (MCHGV564,540)"),
            "\(messages)"
        )
        #expect(messages.contains("STATUS=lvx6048-1: float_voltage 54.4 -> 54.0 (MCHGV564,540) ok, read back 54.0"))
        #expect(messages.contains("STATUS=committing the run"))
    }

    @Test("run writes the metrics textfile atomically")
    func metrics() throws {
        let sim = try SimulatorProcess(["--site", "seeds", "--set", "\(Self.unit1):float_voltage=53.5"])
        let repo = try Self.site()
        let file = repo.path.deletingLastPathComponent().appendingPathComponent("lvx-\(UUID()).prom").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(try lvx(["run", "--metrics-file", file], environment: Self.env(repo, sim)).exitCode == 2)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("lvx_last_run_exit_code 2\n"))
        #expect(text.contains("lvx_unit_drifted_settings{unit=\"lvx6048-1\",serial=\"96142109100037\"} 1\n"))
        #expect(text.contains("lvx_unit_reachable{unit=\"lvx6048-2\",serial=\"96142408100255\"} 1\n"))
        #expect(text.contains("lvx_plan_pending 1\n"))
        // Prometheus's own linter for the exposition format (`make deps` installs promtool).
        let lint = try runCommand("/bin/sh", ["-c", "promtool check metrics < '\(file)'"])
        #expect(lint.exitCode == 0 && lint.stdout.isEmpty && lint.stderr.isEmpty, "\(lint)")
    }

    @Test("a metrics file that cannot be written is a warning: the pass is committed and its status stands")
    func metricsUnwritable() throws {
        let sim = try SimulatorProcess(["--site", "seeds", "--set", "\(Self.unit1):float_voltage=53.5"])
        let repo = try Self.site()
        let before = try Self.commitCount(repo)
        let file = "/nonexistent-\(UUID())/node-exporter/lvx.prom"
        let result = try lvx(["run", "--metrics-file", file], environment: Self.env(repo, sim))
        #expect(result.exitCode == 2, "drift, as without the flag: \(result)")
        #expect(
            result.stderr.contains("metrics not written: cannot write '\(file)': there is no directory /nonexistent-"),
            "\(result)"
        )
        #expect(try Self.commitCount(repo) == before + 1)
    }
}

/// Collects command results from several threads.
final class ResultBox: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var items: [CommandResult] = []

    func add(_ r: CommandResult?) { if let r { lock.withLock { items.append(r) } } }

    var results: [CommandResult] { lock.withLock { items } }
}

/// An AF_UNIX datagram socket standing in for systemd's notify socket.
final class NotifySocket {
    let path: String
    private let fd: Int32

    init() throws {
        path =
            FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString.prefix(8))").path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard fd >= 0, bound == 0 else { throw SimulatorError(message: "cannot bind \(path): errno \(errno)") }
    }

    /// Every datagram received so far, one entry per line of each.
    func drain() -> [String] {
        var lines: [String] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if n <= 0 { break }
            lines += String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\n").map(String.init)
        }
        return lines
    }

    deinit {
        close(fd)
        unlink(path)
    }
}
