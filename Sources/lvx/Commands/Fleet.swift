import ArgumentParser
import Foundation
import LVXCore
import LVXGit
import LVXReconcile
import LVXSSH
import LVXYAML

extension LVXCommand {
    /// `lvx fleet status|plans UPSTREAM`: every site sharing one upstream, one branch each.
    struct Fleet: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every site of a fleet that shares one upstream: their status, and the plans waiting.",
            discussion: """
                A fleet is one upstream repository with one branch per site, sites/NAME (lvx init --site NAME --upstream URL makes a site's branch and pushes it). Each site's agent fetches its own branch, runs, and pushes its run commit to it, so sites never write to each other's branch, and people change a site by pushing to its branch. lvx fleet fetches every sites/* branch into a local mirror ($XDG_CACHE_HOME/lvx/fleet, or --cache) and reads what the agents committed: runs/last.yaml, the plans and their records. The mirror is shallow: each branch's tip, and the history since the oldest approved plan still waiting (to check who signed its approval); lvx report --fleet fetches the rest. It reads no inverter and writes nothing upstream.
                """,
            subcommands: [FleetStatus.self, FleetPlans.self]
        )
    }

    /// `lvx fleet status UPSTREAM`.
    struct FleetStatus: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "One row per site: last run, units answering, drift, faults, the pending plan, the last apply.",
            discussion: """
                A site whose last run finished more than --late-after timer periods ago is late. Exit 0 when every site is in sync, 2 when any has drift or a pending plan, 1 when any is late, has a unit that did not answer, or has no readable run.
                """
        )

        @OptionGroup var fleet: FleetOptions
        @Option(help: ArgumentHelp("The agents' timer period (lvx-run.timer: 15m).", valueName: "duration"))
        var period = "15m"
        @Option(help: ArgumentHelp("A site is late after this many periods without a run.", valueName: "n"))
        var lateAfter = 3
        @Flag(help: "Print one JSON array, an object per site.") var json = false

        func run() async throws {
            try await execute {
                guard let seconds = FleetText.seconds(period), seconds > 0 else {
                    throw CLIError(
                        "--period '\(period)' is not a duration",
                        hint: "use one like 15m or 1h",
                        status: .usage
                    )
                }
                guard lateAfter > 0 else {
                    throw CLIError("--late-after must be at least 1", status: .usage)
                }
                let policy = FleetPolicy(periodSeconds: seconds, latePeriods: lateAfter)
                let (view, branches) = try fleet.open()
                let sites = branches.map { view.status(site: $0.site, tip: $0.tip) }
                let text = FleetText(now: view.clock.now(), policy: policy)
                Terminal.standardOutput.write(json ? text.statusJSON(sites).text + "\n" : text.status(sites))
                return FleetVerdict.exitStatus(sites, now: view.clock.now(), policy: policy)
            }
        }
    }

    /// `lvx fleet plans UPSTREAM`.
    struct FleetPlans: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "plans",
            abstract: "Every plan waiting at any site (approval, apply, or stale), the longest waiting first.",
            discussion: """
                Exit 0 when no plan waits, 2 when any does. Approve one with lvx approve PLAN_ID --fleet UPSTREAM: it finds the plan's site, commits the approval in a fresh clone of the site's branch and pushes it; the site's next run sees it.
                """
        )

        @OptionGroup var fleet: FleetOptions
        @Flag(help: "Print one JSON array, an object per plan.") var json = false

        func run() async throws {
            try await execute {
                let (view, branches) = try fleet.open()
                var plans: [FleetPlan] = []
                for branch in branches {
                    do {
                        plans += try view.plans(site: branch.site, tip: branch.tip).filter(\.isPending)
                    } catch {
                        Terminal.standardError.warning("\(branch.site): its plans cannot be read: \(error)")
                    }
                }
                plans.sort { $0.created < $1.created }
                let text = FleetText(now: view.clock.now(), policy: FleetPolicy())
                Terminal.standardOutput.write(json ? text.plansJSON(plans).text + "\n" : text.plans(plans))
                return plans.isEmpty ? .success : .changes
            }
        }
    }
}

/// The upstream of a fleet and the local mirror lvx fleet reads it through.
struct FleetOptions: ParsableArguments {
    @Argument(help: "The fleet's upstream repository: a URL or a path git can fetch from.")
    var upstream: String

    @Option(
        help: ArgumentHelp(
            "The local mirror of the upstream's site branches (default: $XDG_CACHE_HOME/lvx/fleet/HASH).",
            valueName: "dir"
        )
    )
    var cache: String?

    @OptionGroup var trust: TrustOptions

    /// Fetches the site branches into the mirror and returns the view over them, with the branches.
    ///
    /// `.recent` (status, plans, approve) fetches each branch's tip, then as much of a site's
    /// history as checking its live approvals needs; `.whole` (the fleet report) fetches it all.
    func open(history: FleetMirror.History = .recent) throws -> (FleetView, [SiteBranch]) {
        let (mirror, fetched) = try FleetMirror.open(upstream: upstream, cache: cache, history: history)
        if !trust.isDeclined && !FileManager.default.fileExists(atPath: trust.allowedSignersPath) {
            trust.warnUnauthenticated()
        }
        let verifier = SignatureVerifier(
            repository: mirror,
            allowedSigners: trust.allowedSignersPath,
            revokedKeys: trust.revokedKeysPath
        )
        let view = FleetView(repository: mirror, codec: YAMLCodec(), clock: SystemClock(), verifier: verifier)
        var branches = fetched
        if history == .recent, mirror.isShallow {
            let needs = branches.compactMap { branch in
                view.historyNeeded(site: branch.site, tip: branch.tip).map { (branch, $0) }
            }
            if let oldest = needs.map(\.1).min() {
                FleetMirror.deepen(mirror, from: upstream, sites: needs.map(\.0.site), since: oldest)
                branches = try FleetMirror.branches(of: mirror, upstream: upstream)
            }
        }
        return (view, branches)
    }
}

/// The local mirror of a fleet's site branches (`lvx fleet`, `lvx report --fleet`).
enum FleetMirror {
    /// The upstream as libgit2 fetches it: a local path made absolute, a URL as given.
    static func source(_ upstream: String) -> String {
        if upstream.contains("://") || upstream.contains("@") { return upstream }
        return URL(fileURLWithPath: upstream).standardizedFileURL.path
    }

    /// The mirror directory for `upstream`: `cache`, else $XDG_CACHE_HOME/lvx/fleet/HASH.
    static func path(_ upstream: String, cache: String?) -> String {
        if let cache { return cache }
        let env = ProcessInfo.processInfo.environment
        let base = env["XDG_CACHE_HOME"] ?? ((env["HOME"] ?? NSTemporaryDirectory()) + "/.cache")
        return "\(base)/lvx/fleet/\(SHA256.hex(source(upstream)).prefix(16))"
    }

    /// How much of each site's history a command needs.
    enum History {
        /// The tips, and the history since the oldest approval still to be checked.
        case recent
        /// All of it (the report's timelines).
        case whole
    }

    /// The refspec of every site branch, replaced on each fetch.
    static var siteRefspec: String { branchRefspec("*") }

    /// Fetches every `sites/*` branch of `source` into `mirror`, replacing them.
    ///
    /// It uses the git command when there is one: for a fleet's first fetch it is 7 times as fast as libgit2's
    /// (100 sites of a week's runs: 2.9 s against 19.7 s), it uses the person's SSH and
    /// credential settings, and it can fetch shallow: a year of runs is tens of megabytes per
    /// site, and status needs the tips. A new mirror, and a branch new to a shallow mirror, get
    /// the tip alone (`--depth=1`); a branch the mirror has gets its new commits (a plain fetch,
    /// which keeps what a deepen brought); a mirror that holds whole histories (the report's)
    /// stays whole. Without git, libgit2 fetches whole histories.
    /// - Returns: `false` when `.whole` was asked and the mirror could not be completed (git
    ///   cannot unshallow a history cut across a merge): the caller starts the mirror again.
    static func fetch(_ source: String, into mirror: GitRepository, history: History) throws -> Bool {
        guard GitCommand.path != nil else {
            try mirror.mirrorSiteBranches(from: source)
            return true
        }
        let fetch = ["--git-dir", mirror.gitDirectory, "fetch", "--quiet", "--no-write-fetch-head"]
        let local = Set(((try? mirror.siteBranches()) ?? []).map(\.site))
        switch history {
        case .whole where mirror.isShallow:
            let (status, _) = try GitCommand.execute(fetch + ["--prune", "--unshallow", source, siteRefspec])
            return status == 0 && !mirror.isShallow
        case .recent where local.isEmpty:
            // git fails a shallow fetch that finds no branch (or a transport that cannot fetch
            // shallow); the plain fetch then says which.
            if (try? GitCommand.run(fetch + ["--depth=1", source, siteRefspec])) != nil { return true }
        case .recent where mirror.isShallow:
            let remote = try remoteSites(source)
            for gone in local.subtracting(remote) {
                try GitCommand.run(["--git-dir", mirror.gitDirectory, "update-ref", "-d", branchRef(gone)])
            }
            let known = remote.intersection(local).sorted()
            let new = remote.subtracting(local).sorted()
            if !known.isEmpty { try GitCommand.run(fetch + [source] + known.map(branchRefspec)) }
            if !new.isEmpty { try GitCommand.run(fetch + ["--depth=1", source] + new.map(branchRefspec)) }
            return true
        case .whole, .recent: break
        }
        try GitCommand.run(fetch + ["--prune", source, siteRefspec])
        return true
    }

    /// The site names of `source`'s `sites/*` branches (`git ls-remote`).
    static func remoteSites(_ source: String) throws -> Set<String> {
        let output = try GitCommand.output(["ls-remote", "--heads", source, branchRef("*")])
        let prefix = branchRef("")
        return Set(
            output.split(separator: "\n").compactMap { line in
                line.split(separator: "\t").last.flatMap { ref in
                    ref.hasPrefix(prefix) ? String(ref.dropFirst(prefix.count)) : nil
                }
            }
        )
    }

    /// `refs/heads/sites/SITE` (a glob for `*`).
    static func branchRef(_ site: String) -> String { "refs/heads/\(GitRepository.siteBranchPrefix)\(site)" }

    /// The refspec that replaces the mirror's branch of `site` with the upstream's.
    static func branchRefspec(_ site: String) -> String { "+\(branchRef(site)):\(branchRef(site))" }

    /// Fetches the history of `sites` back to `since` (a day earlier, for clocks that disagree).
    static func deepen(_ mirror: GitRepository, from upstream: String, sites: [String], since: WallTime) {
        let date = WallTime(secondsSince1970: since.secondsSince1970 - 86_400).iso8601
        do {
            try GitCommand.run(
                [
                    "--git-dir", mirror.gitDirectory, "fetch", "--quiet", "--no-write-fetch-head",
                    "--shallow-since=" + date, source(upstream),
                ] + sites.map(branchRefspec)
            )
        } catch {
            // The approvals are then checked against less history: they show as refused, never
            // as verified, so the rows are still worth printing.
            Terminal.standardError.warning(
                "cannot fetch the history since \(date) of \(sites.joined(separator: ", ")) from \(upstream), so their approvals cannot be checked: \(error)"
            )
        }
    }

    /// Fetches every `sites/*` branch of `upstream` into the mirror; the mirror and the branches.
    static func open(upstream: String, cache: String?, history: History) throws -> (GitRepository, [SiteBranch]) {
        let path = path(upstream, cache: cache)
        var mirror = try openMirror(path)
        do {
            if try !fetch(source(upstream), into: mirror, history: history) {
                // A shallow mirror git cannot complete: it is a cache, so it is made again.
                try? FileManager.default.removeItem(atPath: path)
                mirror = try openMirror(path)
                _ = try fetch(source(upstream), into: mirror, history: history)
            }
        } catch {
            throw CLIError(
                "cannot fetch the site branches of \(upstream): \(error)",
                hint: "check the URL or path, and that git can reach it (SSH keys, network)"
            )
        }
        return (mirror, try branches(of: mirror, upstream: upstream))
    }

    /// The mirror at `path`, made when it does not exist.
    static func openMirror(_ path: String) throws -> GitRepository {
        do {
            if FileManager.default.fileExists(atPath: path + "/HEAD") { return try GitRepository.open(path: path) }
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            return try GitRepository.initialize(path: path, bare: true)
        } catch {
            throw CLIError("cannot open the fleet mirror at \(path): \(error)", hint: "pass another --cache directory")
        }
    }

    /// The site branches the mirror holds; at least one.
    static func branches(of mirror: GitRepository, upstream: String) throws -> [SiteBranch] {
        let branches: [SiteBranch]
        do {
            branches = try mirror.siteBranches()
        } catch {
            throw CLIError("cannot list the site branches in \(mirror.gitDirectory): \(error)")
        }
        guard !branches.isEmpty else {
            throw CLIError(
                "\(upstream) has no site branches (sites/NAME)",
                hint: "each site's `lvx init DIR --site NAME --upstream \(upstream)` pushes its branch"
            )
        }
        return branches
    }
}
