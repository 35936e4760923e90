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


def racing(args: argparse.Namespace, work: Path, lvx: str, sim: str, rows: list[str]) -> None:
    upstream = work / "race-upstream.git"
    sh(["git", "init", "-q", "--bare", str(upstream)])
    ports_file = work / "race.ports"
    simproc = subprocess.Popen([sim, "--units", str(args.race_sites), "--baud", "0", "--state-dir",
                                str(work / "race-sim"), "--ports-file", str(ports_file)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if ports_file.exists() and ports_file.stat().st_size:
                break
            time.sleep(0.1)
        ports = [line.split()[1] for line in ports_file.read_text().splitlines()]
        env = {**os.environ, "LVX_ALLOWED_SIGNERS": "none", "LVX_NO_HIDRAW_SCAN": "1"}
        names = [f"race-{i:02d}" for i in range(args.race_sites)]
        for name, port in zip(names, ports):
            sh([lvx, "init", str(work / f"{name}.git"), "--bare", "--site", name, "--upstream", str(upstream),
                "--from-live"], env={**env, "LVX_PORTS": port})
        reported = {name: 0 for name in names}
        replayed = {name: 0 for name in names}
        pushed: list[tuple[str, str]] = []
        stop = threading.Event()
        lock = threading.Lock()

        def person() -> None:
            # One clone per site, brought up to date before each edit, so a push follows a fetch
            # closely and often lands between an agent's fetch and its push.
            rng = random.Random(1)
            clones = {}
            for name in names:
                clones[name] = work / f"person-{name}"
                sh(["git", "clone", "-q", "-b", f"sites/{name}", str(upstream), str(clones[name])])
            n = 0
            while not stop.is_set():
                name = rng.choice(names)
                clone = clones[name]
                sh(["git", "-C", str(clone), "fetch", "-q"])
                sh(["git", "-C", str(clone), "reset", "-q", "--hard", f"origin/sites/{name}"])
                profile = next((clone / "profiles").glob("*.yaml"))
                profile.write_text(profile.read_text() + f"# edit {n}\n")
                sh(["git", "-C", str(clone), "commit", "-qam", f"a person's edit {n}"])
                r = sh(["git", "-C", str(clone), "push", "-q"], check=False)
                if r.returncode == 0:
                    with lock:
                        pushed.append((name, sh(["git", "-C", str(clone), "rev-parse", "HEAD"]).stdout.strip()))
                n += 1

        def agent(name: str, port: str, now: str) -> None:
            r = sh([lvx, "run", "--repo", str(work / f"{name}.git")],
                   env={**env, "LVX_PORTS": port, "LVX_NOW": now, "LVX_LOG": "stderr"}, check=False)
            if re.search(r"^run \S+: .*\[[0-9a-f]{12}\]$", r.stdout, re.M):
                with lock:
                    reported[name] += 1
                    replayed[name] += "replayed lvx's" in r.stderr

        t0 = time.perf_counter()
        racer = threading.Thread(target=person)
        racer.start()
        with ThreadPoolExecutor(max_workers=4) as pool:
            for r in range(args.rounds):
                now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(START + 86_400 * 400 + r * 900))
                list(pool.map(lambda nv: agent(nv[0], nv[1], now), zip(names, ports)))
        stop.set()
        racer.join()
        # One quiet pass, as the next timer run would: a run whose push lost the race replays now.
        final = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(START + 86_400 * 400 + args.rounds * 900))
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda nv: agent(nv[0], nv[1], final), zip(names, ports)))
        took = time.perf_counter() - t0
        on_upstream = 0
        lost_runs = 0
        for name in names:
            log = sh(["git", "--git-dir", str(upstream), "log", "--format=%an %s", f"sites/{name}"]).stdout
            runs = sum(1 for line in log.splitlines() if line.startswith("lvx run "))
            on_upstream += runs
            lost_runs += max(0, reported[name] - runs)
        lost_pushes = 0
        for name, commit in pushed:
            r = sh(["git", "--git-dir", str(upstream), "merge-base", "--is-ancestor", commit, f"sites/{name}"],
                   check=False)
            lost_pushes += r.returncode != 0
        merges = sh(["git", "--git-dir", str(upstream), "rev-list", "--merges", "--all"]).stdout.split()
        replays = sum(replayed.values())
        rows.append(f"| race: {args.race_sites} sites x {args.rounds + 1} passes (4 at a time) with a person pushing "
                    f"to random site branches, {took:.0f} s | runs reported {sum(reported.values())}, on the "
                    f"upstream {on_upstream}, lost {lost_runs} | person pushes {len(pushed)}, lost or rewritten "
                    f"{lost_pushes}; merge commits {len(merges)}; replays {replays} |")
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
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "fleet.md"))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lvx-fleet-bench-"))
    rows = ["| what | figure | |", "|---|---|---|"]
    try:
        reading(args, work, args.lvx, rows)
        racing(args, work, args.lvx, args.sim, rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = "\n".join(rows) + "\n"
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
