import ArgumentParser
import Foundation
import LVXCore
import LVXGit
import LVXPort

extension LVXCommand {
    /// `lvx init DIR`: a new desired-state repository with the validate and plan-on-push hooks.
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a desired-state repository from the template, with git hooks that validate pushes.",
            discussion: """
                The pre-receive hook runs `lvx validate --rev NEW` for each pushed branch, so an invalid desired state is rejected with its file:line:column errors. The post-receive hook starts lvx-run.service without waiting (or runs $LVX_RUN_ON_PUSH in the background when set).

                The history cannot be rewritten: it is the audit record of every plan, approval and write. The pre-receive hook refuses a force-push (an update that is not a fast-forward) and the deletion of a branch, and says why; pull, then push a new commit on top instead. lvx init also sets receive.denyNonFastForwards and receive.denyDeletes in the repository, so git refuses both even if the hook is removed.

                Records only lvx makes: lvx writes applied/, applying/, refused/, runs/ and dumps/ itself, as local commits in the repository it runs on, so a pushed change to them could only be forged. The pre-receive hook refuses any pushed commit (on any branch or tag) that adds, changes or deletes a file in those folders, naming the commit and the file, and any push that changes them on the branch lvx reads (the repository's HEAD). Plans, approvals and withdrawals (plans/, approvals/, withdrawn/) may be pushed, and merging lvx's commits (git pull) is fine.

                So run lvx run on this repository itself (LVX_REPO pointing at it): an lvx run in a clone pushes its records to the clone's upstream, and these hooks refuse them there. To move a repository that holds lvx's records, copy it (git clone --bare) rather than pushing its history into a new one.

                The hooks find lvx when they run: $LVX_BIN, else lvx on PATH, else /usr/bin/lvx, else the lvx that ran lvx init. So moving or upgrading lvx does not break pushes; when none of them is there, the push is rejected with "the lvx command is not installed on the hub".

                To protect a repository that an older lvx init made, or to refresh its hooks, run `lvx init --hooks DIR`: it installs the hooks and the two settings in the existing repository DIR (bare or not) and leaves its content alone.

                A site of a fleet (several sites sharing one upstream, see lvx fleet): `lvx init DIR --bare --site NAME --upstream URL` makes the repository on branch sites/NAME with `site: NAME`, sets URL as its upstream (remote origin) and pushes the first commit there. If the upstream already has sites/NAME (the site is being set up again), the repository takes that branch as it is instead. Each lvx run then fetches the branch, fast-forwards to what people pushed, and pushes its own commits back; it never merges and never pushes another site's branch.
                """
        )

        @Argument(help: "Where to create the repository.") var dir: String
        @Flag(help: "Create a bare repository (the one people push to).") var bare = false
        @Flag(help: "Import the live units found by discovery as the first units and profiles.") var fromLive = false
        @Flag(
            help:
                "Only install the hooks and the receive.deny* settings in the existing repository DIR (bare or not), leaving its content alone."
        )
        var hooks = false
        @Option(help: ArgumentHelp("Make this a fleet site: branch sites/NAME, site: NAME.", valueName: "name"))
        var site: String?
        @Option(help: ArgumentHelp("The fleet's upstream repository, with --site.", valueName: "url"))
        var upstream: String?
        @OptionGroup var device: DeviceOptions

        func run() async throws {
            try await execute {
                if hooks { return try installHooks() }
                if FileManager.default.fileExists(
                    atPath: (dir as NSString).appendingPathComponent(bare ? "HEAD" : ".git")
                ) {
                    throw CLIError("'\(dir)' already holds a git repository", hint: "choose a new directory")
                }
                let fleet = try fleetSite()
                let repository: GitRepository
                do {
                    repository = try GitRepository.initialize(
                        path: dir,
                        bare: bare,
                        branch: fleet.map { GitRepository.siteBranchPrefix + $0.site } ?? "main"
                    )
                } catch {
                    throw CLIError("cannot create a repository at '\(dir)': \(error)")
                }
                var adopted = false
                if let fleet { adopted = try joinFleet(repository, fleet) }
                var files: [String: String] = [:]
                if !adopted {
                    files = fromLive ? try await liveFiles() : Templates.files
                    if let fleet { files["lvx.yaml"] = Templates.naming(files["lvx.yaml"] ?? "", site: fleet.site) }
                    _ = try RecordFiles.commit(
                        files,
                        message: fromLive
                            ? "lvx init: desired state imported from the live units"
                            : "lvx init: desired-state template",
                        to: repository,
                        clock: SystemClock()
                    )
                    if let fleet { try publish(repository, fleet) }
                }
                try Templates.installHooks(gitDirectory: repository.gitDirectory, lvx: Self.executablePath())
                do {
                    try repository.refuseHistoryRewrites()
                } catch {
                    throw CLIError(
                        "cannot set receive.denyNonFastForwards and receive.denyDeletes in '\(dir)': \(error)"
                    )
                }
                let content =
                    adopted
                    ? "the upstream's sites/\(fleet?.site ?? "")" : "\(files.count) file(s)"
                Terminal.standardOutput.line(
                    "created \(bare ? "bare " : "")repository \(dir) with \(content); hooks: pre-receive (no force-push, branch deletion or pushed lvx records; lvx validate), post-receive (lvx-run.service)"
                )
                if let fleet {
                    Terminal.standardOutput.line(
                        "fleet site \(fleet.site): branch sites/\(fleet.site) \(adopted ? "taken from" : "pushed to") \(fleet.upstream); lvx run fetches and pushes it"
                    )
                }
                Terminal.standardOutput.line(
                    "approvals count only when signed by a key pinned on this host: add 'PRINCIPAL KEY' lines to \(TrustOptions.defaultAllowedSigners) (Docs/Operations.md, Signed approvals)"
                )
                return .success
            }
        }

        /// The fleet site asked for with `--site NAME --upstream URL`, checked; `nil` without them.
        func fleetSite() throws -> (site: String, upstream: String)? {
            switch (site, upstream) {
            case (nil, nil): return nil
            case (let site?, let upstream?):
                guard DesiredStateLoader.isSiteName(site) else {
                    throw CLIError(
                        "--site '\(site)' is not a site name",
                        hint: "use letters, digits, '.', '_' and '-', starting with a letter or digit",
                        status: .usage
                    )
                }
                return (site, upstream)
            default:
                throw CLIError("--site and --upstream go together", hint: "give both, or neither", status: .usage)
            }
        }

        /// Sets the fleet's upstream and, when it already has this site's branch, takes it.
        func joinFleet(_ repository: GitRepository, _ fleet: (site: String, upstream: String)) throws -> Bool {
            do {
                try repository.setUpstream(remote: "origin", url: fleet.upstream)
                guard try repository.upstreamHasBranch() else { return false }
                _ = try repository.syncFromUpstream()
                return true
            } catch {
                throw CLIError(
                    "cannot reach the fleet's upstream \(fleet.upstream): \(error)",
                    hint: "check the URL and that git can reach it; remove \(dir) before trying again"
                )
            }
        }

        /// Pushes the site's first commit to the fleet's upstream.
        func publish(_ repository: GitRepository, _ fleet: (site: String, upstream: String)) throws {
            do {
                _ = try repository.pushToUpstream()
            } catch {
                throw CLIError(
                    "cannot push sites/\(fleet.site) to \(fleet.upstream): \(error)",
                    hint: "the repository is made; push it later with git push, or remove \(dir) and try again"
                )
            }
        }

        /// `lvx init --hooks DIR`: the hooks and settings of a new repository, in an existing one.
        func installHooks() throws -> ExitStatus {
            if bare || fromLive {
                throw CLIError(
                    "--hooks cannot be combined with \(bare ? "--bare" : "--from-live")",
                    hint: "--hooks leaves the repository's content alone; run `lvx init --hooks \(dir)` alone",
                    status: .usage
                )
            }
            let repository: GitRepository
            do {
                repository = try GitRepository.open(path: dir)
            } catch let error where error.code == .notARepository {
                throw CLIError(
                    "cannot install hooks: '\(dir)' is not a git repository",
                    hint:
                        "pass the repository's working tree, or the directory of a bare repository; `lvx init \(dir)` creates a new one"
                )
            } catch {
                throw CLIError("cannot install hooks in '\(dir)': \(error)")
            }
            try Templates.installHooks(gitDirectory: repository.gitDirectory, lvx: Self.executablePath())
            do {
                try repository.refuseHistoryRewrites()
            } catch {
                throw CLIError("cannot set receive.denyNonFastForwards and receive.denyDeletes in '\(dir)': \(error)")
            }
            Terminal.standardOutput.line(
                "installed hooks in \((repository.gitDirectory as NSString).appendingPathComponent("hooks")): pre-receive (no force-push, branch deletion or pushed lvx records; lvx validate), post-receive (lvx-run.service); set receive.denyNonFastForwards and receive.denyDeletes"
            )
            return .success
        }

        /// Reads every unit discovery finds and turns each into a unit and a profile.
        func liveFiles() async throws -> [String: String] {
            let resolver = UnitResolver(device: device, repository: RepositoryOptions())
            let discovery = try await resolver.discover()
            let serials = discovery.ports.keys.sorted()
            guard !serials.isEmpty else {
                throw CLIError(
                    "no inverter answered on any candidate port",
                    hint: "connect the units, or list their ports in --port or LVX_PORTS"
                )
            }
            var units = ""
            var files: [String: String] = [:]
            for (i, serial) in serials.enumerated() {
                guard let address = discovery.ports[serial] else { continue }
                let client = PI18Client(address: address, timing: resolver.timing)
                let rated = try await client.ratedInformation()
                let name = "lvx6048-\(i + 1)"
                files["profiles/\(name).yaml"] = try ProfileText.render(
                    ProfileDump(rated.settings),
                    source: "\(name) (\(serial)) at \(address)"
                )
                units += "  \"\(serial.digits)\": {name: \(name), profile: \(name)}\n"
            }
            files["lvx.yaml"] = Templates.site(units: units)
            return files
        }

        /// The absolute path of this executable, for the hooks.
        static func executablePath() -> String {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        }
    }
}

/// The files and hooks `lvx init` writes.
enum Templates {
    static func site(units: String) -> String {
        """
        # lvx desired state. One entry per inverter under `units`, keyed by its serial number (`lvx status`
        # shows it), naming a profile in profiles/. See Docs/DesiredStateSpec.md for every key.
        site: home

        units:
        \(units.isEmpty ? "  {}\n" : units)
        # stacks:                        # units in parallel must hold identical settings
        #   main: [lvx6048-1, lvx6048-2]

        tolerances: {}                   # absolute, in the key's unit; voltages default to 0.05 V

        apply:
          stop_units: []                 # systemd units that hold the ports, e.g. [powermon.service]
          approvers: []                  # who may approve; empty = anyone
          plan_lifetime: 24h
          auto_apply_approved: false

        """
    }

    /// The site file with its `site:` line naming `site`.
    static func naming(_ siteFile: String, site: String) -> String {
        siteFile.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasPrefix("site: ") ? "site: \(site)" : String($0)
        }.joined(separator: "\n")
    }

    static var files: [String: String] {
        [
            "lvx.yaml": site(units: ""),
            "profiles/example.yaml": """
            # An example profile: every key is optional; a key left out is not managed.
            # Copy it, name a unit's profile after the copy, and push.
            battery_type: USER
            cutoff_voltage: 48.0
            stop_discharge_voltage: 48.0
            stop_charge_voltage: 54.0
            bulk_voltage: 56.4
            float_voltage: 54.0
            max_utility_charging_current: 30
            max_charging_current: 60
            output_source_priority: solar_battery_utility
            charger_priority: solar_first
            solar_power_priority: load_battery_utility
            grid_tie: disabled

            """,
        ]
    }

    /// The folders of the records only lvx writes, which the pre-receive hook refuses in a push.
    ///
    /// lvx writes apply results, applies in progress, refusals, run summaries and dumps as local
    /// commits in the repository it runs on, never through a push. The folders come from the
    /// functions that name those records, so the hook refuses exactly what lvx writes.
    static let recordFolders: [String] = [
        LifecyclePaths.result("ID"), LifecyclePaths.inProgress("ID"), LifecyclePaths.refusal("ID"), "runs/last.yaml",
        UnitDump.path(for: "UNIT"),
    ].map { String($0.prefix { $0 != "/" }) + "/" }

    static func preReceive(lvx: String) -> String {
        let folders = recordFolders.dropLast().joined(separator: ", ") + " and " + (recordFolders.last ?? "")
        return """
            #!/bin/sh
            # Installed by `lvx init`: reject a push that rewrites or deletes a branch, that changes a record only lvx
            # writes, or whose desired state does not validate.
            # git runs this with the pushed objects in quarantine; git and lvx read them through GIT_* variables.
            # lvx is found when the hook runs, so moving or upgrading it does not break pushes: $LVX_BIN, else lvx
            # on PATH, else /usr/bin/lvx (the package), else the lvx that ran `lvx init`, recorded here.
            LVX_AT_INIT="\(lvx)"
            if [ -n "$LVX_BIN" ]; then
                LVX="$LVX_BIN"
            elif LVX=$(command -v lvx); then
                :
            elif [ -x /usr/bin/lvx ]; then
                LVX=/usr/bin/lvx
            elif [ -n "$LVX_AT_INIT" ] && [ -x "$LVX_AT_INIT" ]; then
                LVX="$LVX_AT_INIT"
            else
                LVX=""
            fi
            MISSING="lvx: cannot check this push: the lvx command is not installed on the hub (looked in PATH and /usr/bin/lvx)"
            AUDIT="its history is the audit record of every plan, approval and write"
            # lvx writes these as local commits in this repository, never through a push, so a pushed change to them is forged.
            RECORDS="\(recordFolders.joined(separator: " "))"
            WHY="\(folders) are written only by lvx on this host (push plans, approvals and withdrawals only)"
            SITE=$(git symbolic-ref -q HEAD)
            status=0
            told=""
            zero() { case "$1" in *[!0]*) return 1 ;; esac; }
            short() { echo "$1" | cut -c1-12; }
            while read -r old new ref; do
                branch=false
                case "$ref" in refs/heads/*) branch=true ;; esac
                if zero "$new"; then
                    if $branch; then
                        echo "lvx: refusing to delete $ref: $AUDIT; keep the branch"
                        status=1
                    fi
                    continue
                fi
                if $branch && ! zero "$old" && ! git merge-base --is-ancestor "$old" "$new" 2>/dev/null; then
                    echo "lvx: refusing to rewrite $ref (a non-fast-forward push): $AUDIT; push a new commit on top instead"
                    status=1
                    continue
                fi
                forged=""
                if commit=$(git rev-parse -q --verify "$new^{commit}"); then
                    # Each commit no ref has yet, against its parent (a merge: the paths that differ from every parent).
                    forged=$(git rev-list --topo-order --reverse "$commit" --not --all | while read -r c; do
                        git diff-tree -r -c --root --name-only --no-commit-id "$c" -- $RECORDS | while IFS= read -r path; do
                            echo "lvx: refusing $ref: commit $(short "$c") changes $path; $WHY"
                        done
                    done)
                    # The branch lvx reads, as a whole: a merge can also take an older record, or none.
                    if [ -z "$forged" ] && [ "$ref" = "$SITE" ] && ! zero "$old"; then
                        forged=$(git diff --name-only "$old" "$commit" -- $RECORDS | while IFS= read -r path; do
                            c=$(git log -1 --format=%H "$old..$commit" -- "$path")
                            echo "lvx: refusing $ref: commit $(short "${c:-$commit}") changes $path; $WHY"
                        done)
                    fi
                fi
                if [ -n "$forged" ]; then
                    echo "$forged"
                    status=1
                    continue
                fi
                $branch || continue
                if [ -z "$LVX" ]; then
                    [ -n "$told" ] || echo "$MISSING"
                    told=1
                    status=1
                    continue
                fi
                echo "lvx: validating $ref at $(short "$new")"
                NO_COLOR=1 "$LVX" validate --repo "$PWD" --rev "$new"
                code=$?
                if [ $code -eq 126 ] || [ $code -eq 127 ]; then
                    echo "lvx: cannot check this push: $LVX cannot be run (exit $code); install lvx on the hub or fix LVX_BIN"
                    status=1
                elif [ $code -ne 0 ]; then
                    echo "lvx: push of $ref rejected: fix the errors above and push again"
                    status=1
                fi
            done
            exit $status

            """
    }

    static let postReceive = """
        #!/bin/sh
        # Installed by `lvx init`: plan a push within seconds, without making the pusher wait.
        if [ -n "$LVX_RUN_ON_PUSH" ]; then
            nohup sh -c "$LVX_RUN_ON_PUSH" >/dev/null 2>&1 &
            echo "lvx: started: $LVX_RUN_ON_PUSH"
        elif command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
            systemctl start --no-block lvx-run.service && echo "lvx: lvx-run.service started"
        fi
        exit 0

        """

    static func installHooks(gitDirectory: String, lvx: String) throws {
        let hooks = (gitDirectory as NSString).appendingPathComponent("hooks")
        try? FileManager.default.createDirectory(atPath: hooks, withIntermediateDirectories: true)
        for (name, text) in [("pre-receive", preReceive(lvx: lvx)), ("post-receive", postReceive)] {
            let path = (hooks as NSString).appendingPathComponent(name)
            try writeAtomically(text, to: path)
            chmod(path, 0o755)
        }
    }
}
