"""Fleet benchmark: many sites on one upstream (a branch `sites/NAME` each).

Run by bench/fleet.sh. Two parts:

1. Reading: an upstream with SITES site branches, each a generated site history in lvx's own
   record formats (bench/growth/history.py: runs every 15 minutes, drift, plans, approvals,
   outages) over DAYS days. `lvx fleet status` is timed with farm-bench from a warm mirror and
   from an empty one (the fetch included), against `git fetch` of the same branches.
2. Racing: RACE_SITES real sites made by `lvx init --site --upstream --from-live` on units of one
   lvx-sim, whose agents run ROUNDS passes each (four at a time) while a person pushes profile
   edits to random site branches of the same upstream, racing them. Counted afterwards: every run
   an agent reported is on the upstream (replayed runs included), every push the person made is
   on the upstream unchanged, and the upstream has no merge commit.
3. A year (--year-sites, default 100): an upstream holding a generated year of runs for each of
   YEAR_SITES sites x 2 units (35,040 runs each, as in part 1), its size, `lvx fleet status` over
   it from an empty mirror and a warm one; then a real agent per site (each with its own lvx-sim
   of the two seed units) takes its year-long branch (`lvx init --site`, as a re-installed host
   does) and runs YEAR_PASSES timer periods compressed in time, all pushing to the one upstream
   while a person pushes to random site branches: runs lost, pushes lost or rewritten, and the
   upstream's size after. --year-upstream reuses an upstream generated earlier.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent / "growth"))
import history  # noqa: E402

START = 1_795_000_000 - 1_795_000_000 % 86_400  # a midnight in 2026
GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "person",
    "GIT_AUTHOR_EMAIL": "person@example.invalid",
    "GIT_COMMITTER_NAME": "person",
    "GIT_COMMITTER_EMAIL": "person@example.invalid",
}


def sh(cmd: list[str], env: dict[str, str] | None = None, check: bool = True, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, env=env or GIT_ENV, capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{r.stdout[-1500:]}{r.stderr[-1500:]}")
    return r


def farm(label: str, cmd: list[str], runs: int, rows: list[str], timeout: int = 900) -> None:
    out = sh(["farm-bench", "-n", str(runs), "--timeout", str(timeout), "--", *cmd], env={**os.environ}, check=False)
    text = out.stdout + out.stderr
    print(f"--- {label}\n{text}")
    wall = re.search(r"^A wall s\s+(\S+)\s+(\S+)\s+(\S+)", text, re.M)
    peak = re.search(r"^A peak MiB\s+(\S+)\s+(\S+)\s+(\S+)", text, re.M)
    rows.append(f"| {label} | {wall.group(2) + ' s (min ' + wall.group(1) + ', max ' + wall.group(3) + ')' if wall else '?'}"
                f" | {peak.group(2) + ' MiB peak' if peak else '?'} |")


def build_upstream(work: Path, sites: int, days: int) -> Path:
    upstream = work / "upstream.git"
    sh(["git", "init", "-q", "--bare", str(upstream)])
    base = history.site_files(ROOT / "desired-state")
    t0 = time.perf_counter()
    p = subprocess.Popen(["git", "-C", str(upstream), "fast-import", "--quiet"], stdin=subprocess.PIPE, env=GIT_ENV)
    assert p.stdin
    for i in range(sites):
        name = f"site-{i:03d}"
        files = dict(base)
        files["lvx.yaml"] = re.sub(r"(?m)^site: .*$", f"site: {name}", files["lvx.yaml"])
        gen = history.Generator(START, files, seed=i, ref=f"refs/heads/sites/{name}")
        gen.emit(p.stdin, days * 96)
    p.stdin.close()
    if p.wait() != 0:
        raise SystemExit("git fast-import failed")
    print(f"upstream: {sites} site branches x {days * 96} runs in {time.perf_counter() - t0:.1f} s")
    return upstream


def reading(args: argparse.Namespace, work: Path, lvx: str, rows: list[str]) -> None:
    upstream = build_upstream(work, args.sites, args.days)
    size = sum(f.stat().st_size for f in upstream.rglob("*") if f.is_file())
    rows.append(f"| upstream: {args.sites} sites x {args.days} day(s) of runs (git fast-import, one pack) | "
                f"{size / 1e6:.1f} MB | |")
    cache = work / "cache"
    # The clock just after the last generated run, so no site is late.
    last = START + args.days * 86_400
    env = {"LVX_ALLOWED_SIGNERS": "none", "LVX_NOW": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(last))}
    first = sh([lvx, "fleet", "status", str(upstream), "--cache", str(cache)], env={**os.environ, **env}, check=False)
    print(first.stdout[-600:], first.stderr[-600:])
    rows.append(f"| lvx fleet status: exit code, summary | {first.returncode} | {first.stdout.strip().splitlines()[-1]} |")
    os.environ.update(env)
    farm(f"lvx fleet status, {args.sites} sites, warm mirror",
         [lvx, "fleet", "status", str(upstream), "--cache", str(cache)], args.runs, rows)
    fresh = work / "fresh-cache"
    farm(f"lvx fleet status, {args.sites} sites, empty mirror (fetch included)",
         ["sh", "-c", f"rm -rf '{fresh}'; exec '{lvx}' fleet status '{upstream}' --cache '{fresh}'"], args.runs, rows)
    mirror = work / "git-mirror.git"
    farm(f"reference: git fetch of the {args.sites} site branches into an empty repository",
         ["sh", "-c", f"rm -rf '{mirror}'; git init -q --bare '{mirror}' && exec git -C '{mirror}' fetch -q "
          f"'{upstream}' '+refs/heads/sites/*:refs/heads/sites/*'"], args.runs, rows)
    farm(f"lvx fleet plans, {args.sites} sites, warm mirror",
         [lvx, "fleet", "plans", str(upstream), "--cache", str(cache)], args.runs, rows)


def start_sim(sim: str, work: Path, tag: str, extra: list[str]) -> tuple[subprocess.Popen, list[str]]:
    """An lvx-sim at baud 0 and the ports it serves, in its ports file's order."""
    ports_file = work / f"{tag}.ports"
    proc = subprocess.Popen([sim, *extra, "--baud", "0", "--state-dir", str(work / f"{tag}-sim"),
                             "--ports-file", str(ports_file)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        if ports_file.exists() and ports_file.stat().st_size:
            break
        time.sleep(0.1)
    return proc, [line.split()[1] for line in ports_file.read_text().splitlines()]


def size_of(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def race(work: Path, lvx: str, upstream: Path, names: list[str], ports: dict[str, str], rounds: int,
         start: int) -> dict[str, int | float]:
    """Runs every site's agent ROUNDS times (4 at a time), a timer period apart in LVX_NOW, while
    a person pushes profile edits to random site branches; then one quiet pass. Counts what the
    upstream kept."""
    env = {**os.environ, "LVX_ALLOWED_SIGNERS": "none", "LVX_NO_HIDRAW_SCAN": "1"}
    reported = {name: 0 for name in names}
    replayed = {name: 0 for name in names}
    before = {}
    for name in names:
        log = sh(["git", "--git-dir", str(upstream), "log", "--format=%an %s", f"sites/{name}"]).stdout
        before[name] = sum(1 for line in log.splitlines() if line.startswith("lvx run "))
    pushed: list[tuple[str, str]] = []
    refused: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def person() -> None:
        # A clone per site touched, brought up to date before each edit, so a push follows a
        # fetch closely and often lands between an agent's fetch and its push.
        rng = random.Random(1)
        clones: dict[str, Path] = {}
        n = 0
        while not stop.is_set():
            name = rng.choice(names)
            clone = clones.get(name)
            try:
                if clone is None:
                    clone = work / f"person-{name}"
                    sh(["git", "clone", "-q", "--depth", "1", "-b", f"sites/{name}", "file://" + str(upstream),
                        str(clone)])
                    clones[name] = clone
                # Up to three tries: when a run pushed first, the push is refused and the person
                # makes the edit again on top of it, as one would after a pull.
                for _ in range(3):
                    sh(["git", "-C", str(clone), "fetch", "-q", "--depth", "1"])
                    sh(["git", "-C", str(clone), "reset", "-q", "--hard", f"origin/sites/{name}"])
                    profile = next((clone / "profiles").glob("*.yaml"))
                    profile.write_text(profile.read_text() + f"# edit {n}\n")
                    sh(["git", "-C", str(clone), "commit", "-qam", f"a person's edit {n}"])
                    r = sh(["git", "-C", str(clone), "push", "-q"], check=False)
                    if r.returncode == 0:
                        break
                    refused.append(r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}")
            except SystemExit as failed:  # sh's failure; a thread would drop it silently
                print(f"person: {failed}", flush=True)
                continue
            if r.returncode == 0:
                with lock:
                    pushed.append((name, sh(["git", "-C", str(clone), "rev-parse", "HEAD"]).stdout.strip()))
            n += 1

    def agent(name: str, now: str) -> None:
        r = sh([lvx, "run", "--repo", str(work / f"{name}.git")],
               env={**env, "LVX_PORTS": ports[name], "LVX_NOW": now, "LVX_LOG": "stderr"}, check=False)
        if re.search(r"^run \S+: .*\[[0-9a-f]{12}\]$", r.stdout, re.M):
            with lock:
                reported[name] += 1
                replayed[name] += "replayed lvx's" in r.stderr
        elif r.returncode not in (0, 2):
            print(f"{name}: exit {r.returncode}: {r.stderr[-400:]}", flush=True)

    t0 = time.perf_counter()
    racer = threading.Thread(target=person)
    racer.start()
    with ThreadPoolExecutor(max_workers=4) as pool:
        for r in range(rounds):
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + r * 900))
            list(pool.map(lambda name: agent(name, now), names))
    stop.set()
    racer.join()
    # One quiet pass, as the next timer run would: a run whose push lost the race replays now.
    final = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + rounds * 900))
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda name: agent(name, final), names))
    took = time.perf_counter() - t0
    on_upstream = 0
    lost_runs = 0
    for name in names:
        log = sh(["git", "--git-dir", str(upstream), "log", "--format=%an %s", f"sites/{name}"]).stdout
        runs = sum(1 for line in log.splitlines() if line.startswith("lvx run ")) - before[name]
        on_upstream += runs
        lost_runs += max(0, reported[name] - runs)
    lost_pushes = 0
    for name, commit in pushed:
        r = sh(["git", "--git-dir", str(upstream), "merge-base", "--is-ancestor", commit, f"sites/{name}"],
               check=False)
        lost_pushes += r.returncode != 0
    merges = sh(["git", "--git-dir", str(upstream), "rev-list", "--merges", "--all"]).stdout.split()
    if refused:
        print(f"person: {len(refused)} push(es) refused, the last: {refused[-1]}", flush=True)
    return {"took": took, "refused": len(refused), "reported": sum(reported.values()), "on_upstream": on_upstream, "lost_runs": lost_runs,
            "pushes": len(pushed), "lost_pushes": lost_pushes, "merges": len(merges),
            "replays": sum(replayed.values())}


def year(args: argparse.Namespace, work: Path, lvx: str, sim: str, rows: list[str]) -> None:
    if args.year_upstream:
        upstream = Path(args.year_upstream)
        sites = len(sh(["git", "--git-dir", str(upstream), "for-each-ref", "refs/heads/sites/"]).stdout.splitlines())
    else:
        upstream = build_upstream(work, args.year_sites, 365)
        sites = args.year_sites
    days = 365
    rows.append(f"| upstream after a simulated year: {sites} sites x 2 units x {days * 96} runs (git fast-import "
                f"packs) | {size_of(upstream) / 1e9:.2f} GB | |")
    last = START + days * 86_400
    env = {"LVX_ALLOWED_SIGNERS": "none", "LVX_NOW": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(last))}
    saved = dict(os.environ)
    os.environ.update(env)
    cache = work / "year-cache"
    farm(f"lvx fleet status, {sites} sites with a year each, empty mirror (fetch included)",
         ["sh", "-c", f"rm -rf '{cache}'; exec '{lvx}' fleet status '{upstream}' --cache '{cache}'"], args.runs,
         rows)
    rows.append(f"| the mirror a status leaves (shallow: the tips) | {size_of(cache) / 1e6:.1f} MB | |")
    farm(f"lvx fleet status, {sites} sites with a year each, warm mirror",
         [lvx, "fleet", "status", str(upstream), "--cache", str(cache)], args.runs, rows)
    os.environ.clear()
    os.environ.update(saved)
    if args.year_passes <= 0:
        return
    # Real agents: each site takes its year-long branch, as a re-installed host does.
    names = [line.split("refs/heads/sites/")[1] for line in
             sh(["git", "--git-dir", str(upstream), "for-each-ref", "--format=%(refname)", "refs/heads/sites/"]
                ).stdout.splitlines()][: args.year_agents]
    sims = []
    ports: dict[str, str] = {}
    t0 = time.perf_counter()
    try:
        for name in names:
            proc, served = start_sim(sim, work, f"year-{name}", [])
            sims.append(proc)
            ports[name] = ",".join(served)

        def adopt(name: str) -> None:
            sh([lvx, "init", str(work / f"{name}.git"), "--bare", "--site", name, "--upstream", str(upstream)],
               env={**os.environ, "LVX_ALLOWED_SIGNERS": "none", "LVX_NO_HIDRAW_SCAN": "1",
                    "LVX_PORTS": ports[name]})

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(adopt, names))
        print(f"{len(names)} agents set up in {time.perf_counter() - t0:.0f} s", flush=True)
        got = race(work, lvx, upstream, names, ports, args.year_passes, last + 900)
    finally:
        for proc in sims:
            proc.terminate()
        for proc in sims:
            proc.wait()
    rows.append(f"| race on the year-long upstream: {len(names)} agents (2 units each) x {args.year_passes + 1} "
                f"timer periods, 4 at a time, a person pushing to random site branches, {got['took']:.0f} s | "
                f"runs reported {got['reported']}, on the upstream {got['on_upstream']}, lost {got['lost_runs']} | "
                f"person pushes {got['pushes']}, lost or rewritten {got['lost_pushes']}; merge commits "
                f"{got['merges']}; replays {got['replays']} |")
    rows.append(f"| upstream after the race | {size_of(upstream) / 1e9:.2f} GB | |")


def racing(args: argparse.Namespace, work: Path, lvx: str, sim: str, rows: list[str]) -> None:
    upstream = work / "race-upstream.git"
    sh(["git", "init", "-q", "--bare", str(upstream)])
    simproc, ports = start_sim(sim, work, "race", ["--units", str(args.race_sites)])
    try:
        env = {**os.environ, "LVX_ALLOWED_SIGNERS": "none", "LVX_NO_HIDRAW_SCAN": "1"}
        names = [f"race-{i:02d}" for i in range(args.race_sites)]
        for name, port in zip(names, ports):
            sh([lvx, "init", str(work / f"{name}.git"), "--bare", "--site", name, "--upstream", str(upstream),
                "--from-live"], env={**env, "LVX_PORTS": port})
        got = race(work, lvx, upstream, names, dict(zip(names, ports)), args.rounds, START + 86_400 * 400)
        rows.append(f"| race: {args.race_sites} sites x {args.rounds + 1} passes (4 at a time) with a person pushing "
                    f"to random site branches, {got['took']:.0f} s | runs reported {got['reported']}, on the "
                    f"upstream {got['on_upstream']}, lost {got['lost_runs']} | person pushes {got['pushes']}, lost "
                    f"or rewritten {got['lost_pushes']}; merge commits {got['merges']}; replays {got['replays']} |")
    finally:
        simproc.terminate()
        simproc.wait()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lvx", required=True)
    ap.add_argument("--sim", required=True)
    ap.add_argument("--sites", type=int, default=100)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--race-sites", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--year-sites", type=int, default=100)
    ap.add_argument("--year-upstream", help="an upstream generated earlier (part 3), reused as it is")
    ap.add_argument("--year-agents", type=int, default=100, help="how many of the year's sites run real agents")
    ap.add_argument("--year-passes", type=int, default=10, help="timer periods the agents run on the year (0: none)")
    ap.add_argument("--parts", default="reading,racing,year")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "fleet.md"))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lvx-fleet-bench-"))
    rows = ["| what | figure | |", "|---|---|---|"]
    try:
        parts = args.parts.split(",")
        if "reading" in parts:
            reading(args, work, args.lvx, rows)
        if "racing" in parts:
            racing(args, work, args.lvx, args.sim, rows)
        if "year" in parts:
            year(args, work, args.lvx, args.sim, rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = "\n".join(rows) + "\n"
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
