#!/usr/bin/env python3
"""Repository growth under agent mode: what a year of 15-minute `lvx run` commits costs.

Run by bench/growth.sh. Builds a year of run commits with `git fast-import` (history.py), then
measures on a fresh repository and on the year-old one: the per-run time of `lvx run` against
lvx-sim at baud 0 (and the commit phase and fsync share of it), the size of the repository before
and after lvx packs it, lvx's pack time against `git gc`, how lvx's packing cadence grows the
repository, and `lvx history` / `dump --at` / `diff --since` on the long history. Prints a table
and writes bench/results/growth.md. Every figure is measured; the year projection of packing is
computed from measured figures and says so.
"""

from __future__ import annotations

import argparse
import calendar
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
import history  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results" / "growth.md"
START = calendar.timegm((2025, 11, 21, 0, 0, 0))
THRESHOLD = 2000  # lvx run's default --pack-threshold


class BenchError(Exception):
    """The benchmark could not run as intended."""


def sh(cmd: list[str], env: dict[str, str] | None = None, check: bool = True, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr.strip()[-800:]}")
    return r


class Measured:
    def __init__(self, wall: float, rss_kb: int, result: subprocess.CompletedProcess):
        self.wall, self.rss_kb, self.result = wall, rss_kb, result


def measure(cmd: list[str], env: dict[str, str], ok=(0,), work: Path | None = None) -> Measured:
    """Runs `cmd` under GNU time: wall time (perf_counter around it) and peak RSS."""
    rss_file = (work or Path(tempfile.gettempdir())) / "rss.txt"
    t0 = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *cmd], env=env, capture_output=True,
                       text=True)
    wall = time.perf_counter() - t0
    if r.returncode not in ok:
        raise BenchError(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr.strip()[-800:]}")
    rss = int(rss_file.read_text().strip().splitlines()[-1])
    return Measured(wall, rss, r)


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def day(ts: int) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d")


def du(path: Path) -> int:
    return int(sh(["du", "-sb", str(path)]).stdout.split()[0])


def count_objects(repo: Path) -> dict[str, int]:
    out = sh(["git", "-C", str(repo), "count-objects", "-v"]).stdout
    return {k: int(v) for k, v in (line.split(": ") for line in out.strip().splitlines())}


def mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


def ms(s: float) -> str:
    return f"{s * 1000:.1f} ms"


def secs(s: float) -> str:
    return f"{s:.2f} s" if s < 10 else f"{s:.1f} s"


class Simulator:
    """lvx-sim --site seeds at baud 0, serving two units on ptys."""

    def __init__(self, binary: Path, work: Path):
        self.ports_file = work / "ports"
        self.proc = subprocess.Popen(
            [str(binary), "--site", "seeds", "--baud", "0", "--state-dir", str(work / "sim"), "--ports-file",
             str(self.ports_file)],
            stdout=subprocess.DEVNULL, stderr=open(work / "sim.err", "w"))
        for _ in range(200):
            if self.ports_file.exists() and len(self.ports_file.read_text().splitlines()) == 2:
                break
            if self.proc.poll() is not None:
                raise BenchError(f"lvx-sim exited {self.proc.returncode}: {(work / 'sim.err').read_text()[-400:]}")
            time.sleep(0.05)
        else:
            raise BenchError("lvx-sim did not write its ports file")
        self.ports = ",".join(line.split()[1] for line in self.ports_file.read_text().splitlines())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Site:
    """A bare desired-state repository and the clock its runs are dated by (LVX_NOW)."""

    def __init__(self, bench: "Bench", path: Path, now: int):
        self.bench, self.path, self.now = bench, path, now

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(LVX_REPO=str(self.path), LVX_PORTS=self.bench.sim.ports, LVX_NO_HIDRAW_SCAN="1",
                   LVX_LOG="stderr")
        env.update(extra)
        return env

    def run(self, prefix: list[str] | None = None, args: list[str] | None = None, **extra: str) -> Measured:
        """One `lvx run`, dated 15 minutes after the previous one; it must commit (exit 0 in sync)."""
        self.now += history.INTERVAL
        before = self.head()
        m = measure([*(prefix or []), str(self.bench.lvx), "run", *(args or [])], self.env(LVX_NOW=iso(self.now), **extra),
                    work=self.bench.work)
        if self.head() == before:
            raise BenchError(f"lvx run did not commit in {self.path}: {m.result.stderr[-400:]}")
        return m

    def head(self) -> str:
        return sh(["git", "-C", str(self.path), "rev-parse", "HEAD"]).stdout.strip()

    def git(self, *args: str) -> str:
        return sh(["git", "-C", str(self.path), *args]).stdout


def fast_import(repo: Path, gen: history.Generator, runs: int) -> float:
    t0 = time.perf_counter()
    p = subprocess.Popen(["git", "-C", str(repo), "fast-import", "--quiet"], stdin=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    assert p.stdin
    gen.emit(p.stdin, runs)
    p.stdin.close()
    err = p.stderr.read().decode() if p.stderr else ""
    if p.wait() != 0:
        raise BenchError(f"git fast-import failed: {err[-800:]}")
    return time.perf_counter() - t0


def new_bare(path: Path) -> Path:
    sh(["git", "init", "-q", "--bare", "-b", "main", str(path)])
    return path


STRACE_LINE = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(\w+)\((.*)\)\s+=\s+(-?\d+|\?).*?(?:<(\d+\.\d+)>)?$")


def commit_phase(trace: Path) -> tuple[float, int, float, float]:
    """From an `strace -f -ttt -T` trace of one `lvx run`: (commit phase seconds, fsync calls in
    it, their summed duration, whole process seconds). The commit phase runs from the first loose
    object file opened to the fsync of refs/heads/ after the branch's lock file is renamed."""
    events = []
    for line in trace.read_text().splitlines():
        m = STRACE_LINE.match(line)
        if m:
            events.append((float(m.group(2)), m.group(3), m.group(4), float(m.group(6) or 0)))
    if not events:
        raise BenchError(f"empty strace output in {trace}")
    start = next((i for i, e in enumerate(events) if e[1] == "openat" and "tmp_object" in e[2]), None)
    renamed = next((i for i, e in enumerate(events) if e[1] == "rename" and "refs/heads/" in e[2]), None)
    if start is None or renamed is None:
        raise BenchError(f"no commit found in {trace}")
    end = renamed
    for i in range(renamed + 1, min(renamed + 4, len(events))):
        if events[i][1] in ("fsync", "fdatasync"):
            end = i
            break
    fsyncs = [e for e in events[start:end + 1] if e[1] in ("fsync", "fdatasync")]
    phase = events[end][0] + events[end][3] - events[start][0]
    return phase, len(fsyncs), sum(e[3] for e in fsyncs), events[-1][0] - events[0][0]


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.bin_label = args.bin
        self.bin = Path(args.bin).resolve()
        self.lvx = self.bin / "lvx"
        self.work = Path(args.work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.site_files = history.site_files(ROOT / "desired-state")
        self.rows: list[tuple[str, str, str]] = []  # section, what, figure
        self.notes: list[str] = []
        self.nofsync = self.work / "nofsync.so"
        sh(["cc", "-shared", "-fPIC", "-O2", "-o", str(self.nofsync), str(ROOT / "bench/growth/nofsync.c")])
        self.strace = shutil.which("strace")
        self.sim = Simulator(self.bin / "lvx-sim", self.work)

    def row(self, section: str, what: str, figure: str) -> None:
        self.rows.append((section, what, figure))
        print(f"  {what:<62} {figure}", flush=True)

    # -- per-run cost -------------------------------------------------------------------------

    def run_costs(self, site: Site, label: str) -> dict[str, float]:
        """Median wall time of `lvx run` with fsync on and with fsync stubbed out (alternating),
        and the commit phase from strace."""
        n = self.args.runs
        with_fsync, without = [], []
        for _ in range(n):
            with_fsync.append(site.run().wall)
            without.append(site.run(LD_PRELOAD=str(self.nofsync)).wall)
        rss = site.run().rss_kb
        out = {"wall": statistics.median(with_fsync), "wall_nofsync": statistics.median(without), "rss": rss}
        self.row("run", f"lvx run, {label}: wall (median of {n})", ms(out["wall"]))
        self.row("run", f"lvx run, {label}: wall with fsync stubbed out (median of {n})", ms(out["wall_nofsync"]))
        self.row("run", f"lvx run, {label}: peak RSS", f"{rss / 1024:.0f} MB")
        if self.strace:
            phases = []
            for i in range(self.args.strace_runs):
                trace = self.work / f"strace-{label.split()[0]}-{i}.txt"
                site.run(prefix=[self.strace, "-f", "-ttt", "-T", "-o", str(trace), "-e",
                                 "trace=openat,rename,link,unlink,fsync,fdatasync,execve,exit_group"])
                phases.append(commit_phase(trace))
            out["commit"] = statistics.median(p[0] for p in phases)
            out["fsyncs"] = statistics.median(p[1] for p in phases)
            out["fsync_time"] = statistics.median(p[2] for p in phases)
            out["traced_total"] = statistics.median(p[3] for p in phases)
            k = self.args.strace_runs
            self.row("run", f"lvx run, {label}: commit phase under strace (median of {k})",
                     f"{ms(out['commit'])} of {ms(out['traced_total'])} traced")
            self.row("run", f"lvx run, {label}: fsync calls in the commit, their time",
                     f"{out['fsyncs']:.0f} calls, {ms(out['fsync_time'])}")
        return out

    # -- the generated history compared with real runs -----------------------------------------

    def compare_with_real(self, fresh: Site, year: Path) -> None:
        def per_commit(repo: Path, rev: str) -> tuple[int, int, int]:
            files = sh(["git", "-C", str(repo), "diff-tree", "-r", "--no-commit-id", "--name-only", rev]).stdout.split()
            size = sum(int(sh(["git", "-C", str(repo), "cat-file", "-s", f"{rev}:{f}"]).stdout) for f in files)
            objects = len(sh(["git", "-C", str(repo), "rev-list", "--objects", rev, "--not", f"{rev}^"]).stdout.split(
                "\n")) - 1
            return len(files), size, objects

        real = per_commit(fresh.path, "HEAD")
        # A generated run commit in sync, with no plan: the same shape as the real one.
        rev = sh(["git", "-C", str(year), "log", "-1", "--format=%H", "--grep=in sync$", "--author=lvx"]).stdout.strip()
        gen = per_commit(year, rev)
        sizes = {}
        for name, repo, r in (("real", fresh.path, "HEAD"), ("generated", year, rev)):
            sizes[name] = [int(sh(["git", "-C", str(repo), "cat-file", "-s", f"{r}:{f}"]).stdout)
                           for f in ("dumps/lvx6048-1.yaml", "dumps/lvx6048-2.yaml", "runs/last.yaml")]
            sizes[name].append(int(sh(["git", "-C", str(repo), "cat-file", "-s", r]).stdout))
        self.row("history", "files / bytes / new objects per in-sync run: real lvx run",
                 f"{real[0]} / {real[1]} / {real[2]}")
        self.row("history", "files / bytes / new objects per in-sync run: generated", f"{gen[0]} / {gen[1]} / {gen[2]}")
        self.row("history", "sizes: dump 1, dump 2, runs/last.yaml, commit object: real",
                 ", ".join(map(str, sizes["real"])))
        self.row("history", "sizes: dump 1, dump 2, runs/last.yaml, commit object: generated",
                 ", ".join(map(str, sizes["generated"])))

    # -- the benchmark -------------------------------------------------------------------------

    def main(self) -> None:
        a = self.args
        print(f"work directory: {self.work}")
        print("== a fresh site repository")
        fresh = Site(self, new_bare(self.work / "fresh.git"), 0)
        gen0 = history.Generator(START, self.site_files)
        fast_import(fresh.path, gen0, 0)  # few objects: fast-import leaves them loose
        fresh.now = gen0.last_time + 3600
        loose0 = count_objects(fresh.path)["count"]
        fresh_cost = self.run_costs(fresh, "fresh repo")
        runs_done = len(fresh.git("rev-list", "HEAD", "--author=lvx").split())
        objects_per_run = (count_objects(fresh.path)["count"] - loose0) / runs_done

        print(f"== a year of runs: {a.year_runs} commits by git fast-import")
        year = Site(self, new_bare(self.work / "year.git"), 0)
        gen = history.Generator(START, self.site_files)
        t = fast_import(year.path, gen, a.year_runs)
        year.now = gen.last_time + 60
        end = gen.last_time
        c = gen.counts
        self.row("history", f"generated: {c['runs']} runs + {c['people']} people's commits, by fast-import", secs(t))
        self.row("history", "generated: plans / approvals / unreachable-unit runs",
                 f"{c['plans']} / {c['approvals']} / {c['unreachable']}")
        self.row("history", "generated: file versions written, their bytes", f"{c['files']}, {mb(c['bytes'])}")
        self.compare_with_real(fresh, year.path)
        self.row("history", "new loose objects per real run (fresh repo)", f"{objects_per_run:.1f}")
        co = count_objects(year.path)
        self.row("size", "after fast-import: .git (du), objects in packs / packs",
                 f"{mb(du(year.path))}, {co['in-pack']} / {co['packs']}")

        print("== per-run cost after a year")
        year_cost = self.run_costs(year, f"after {a.year_runs} runs")
        self.row("run", "ratio after a year / fresh (wall, median)", f"{year_cost['wall'] / fresh_cost['wall']:.2f}x")
        if "commit" in year_cost:
            self.row("run", "ratio after a year / fresh (commit phase)",
                     f"{year_cost['commit'] / fresh_cost['commit']:.2f}x")
        self.row("run", "fsync share of a run, fresh (wall with - without fsync)",
                 ms(fresh_cost["wall"] - fresh_cost["wall_nofsync"]))

        print("== packing")
        copy = self.work / "year-gc.git"
        shutil.copytree(year.path, copy, symlinks=True)
        co_before = count_objects(year.path)
        self.row("size", "before lvx packs: .git (du), loose objects (KiB) / packed (KiB)",
                 f"{mb(du(year.path))}, {co_before['count']} ({co_before['size']}) / {co_before['size-pack']}")
        packs_before = set(p.name for p in (year.path / "objects/pack").glob("*.pack"))
        m = year.run(args=["--pack-threshold", "1"])
        packed = re.search(r"packed (\d+) objects, removed (\d+) loose", m.result.stderr)
        if not packed:
            raise BenchError(f"lvx run --pack-threshold 1 did not pack: {m.result.stderr[-400:]}")
        new_pack = [p for p in (year.path / "objects/pack").glob("*.pack") if p.name not in packs_before]
        lvx_pack_size = sum(p.stat().st_size + p.with_suffix(".idx").stat().st_size for p in new_pack)
        self.row("pack", "lvx run --pack-threshold 1 after a year: wall, peak RSS",
                 f"{secs(m.wall)}, {m.rss_kb / 1024:.0f} MB")
        self.row("pack", "  of which packing (wall - median run)", secs(m.wall - year_cost["wall"]))
        self.row("pack", "  objects packed / loose removed", f"{packed.group(1)} / {packed.group(2)}")
        co_after = count_objects(year.path)
        self.row("size", "after lvx packs: .git (du), packs, objects in packs",
                 f"{mb(du(year.path))}, {co_after['packs']}, {co_after['in-pack']}")
        self.row("size", "  lvx's new pack (.pack + .idx)", mb(lvx_pack_size))
        after_pack = statistics.median(year.run().wall for _ in range(a.runs))
        self.row("run", f"lvx run after lvx packed (median of {a.runs})", ms(after_pack))
        t0 = time.perf_counter()
        sh(["git", "-C", str(copy), "gc", "-q"])
        t_gc = time.perf_counter() - t0
        co_gc = count_objects(copy)
        self.row("pack", "git gc (reference; reuses fast-import's deltas): time, .git",
                 f"{secs(t_gc)}, {mb(du(copy))} ({co_gc['packs']} pack)")
        t0 = time.perf_counter()
        sh(["git", "-C", str(copy), "repack", "-a", "-d", "-f", "-q"])
        t_rp = time.perf_counter() - t0
        self.row("pack", "git repack -a -d -f (reference; fresh deltas, as from loose): time, .git",
                 f"{secs(t_rp)}, {mb(du(copy))}")
        shutil.rmtree(copy)

        print("== reading the year back")
        self.queries(year, end)

        print(f"== lvx's packing cadence over {a.cadence_days} days")
        self.cadence(lvx_pack_size, m.wall - year_cost["wall"], objects_per_run)

        self.write(fresh_cost, year_cost)

    def queries(self, year: Site, end: int) -> None:
        week = day(end - 7 * 86400)
        month = day(end - 30 * 86400)
        mid = day(START + 182 * 86400)
        env = year.env()
        cases = [
            ("lvx history lvx6048-1", ["history", "lvx6048-1"], (0,)),
            (f"lvx history lvx6048-1 --since {week}", ["history", "lvx6048-1", "--since", week], (0,)),
            ("lvx history lvx6048-1 --changes-only", ["history", "lvx6048-1", "--changes-only"], (0,)),
            (f"lvx dump lvx6048-1 --at {mid}", ["dump", "lvx6048-1", "--at", mid], (0,)),
            (f"lvx diff lvx6048-1 --since {month}", ["diff", "lvx6048-1", "--since", month], (0, 2)),
            ("lvx report --unit lvx6048-1 (a year, one unit)",
             ["report", "--unit", "lvx6048-1", "--out", str(self.work / "report.html")], (0,)),
        ]
        # The first history and report calls build their indexes (lvx/history/ in the git directory);
        # the figures below are the medians, so they are the calls that find the indexes.
        cold = {}
        for label, args in (("history", ["history", "lvx6048-1"]),
                            ("report", ["report", "--unit", "lvx6048-1", "--out", str(self.work / "report.html")])):
            shutil.rmtree(year.path / "lvx", ignore_errors=True)
            m = measure([str(self.lvx), *args], env, (0,), self.work)
            cold[label] = m
            self.row("query", f"lvx {label} lvx6048-1, first call (no index yet)",
                     f"{secs(m.wall)}, {m.rss_kb / 1024:.0f} MB")
        for label, args, ok in cases:
            runs = [measure([str(self.lvx), *args], env, ok, self.work) for _ in range(self.args.query_runs)]
            lines = len(runs[0].result.stdout.splitlines())
            self.row("query", f"{label} ({lines} lines)",
                     f"{secs(statistics.median(r.wall for r in runs))}, {max(r.rss_kb for r in runs) / 1024:.0f} MB")
        for label, args in (
            ("git log -- dumps/lvx6048-1.yaml (reference)", ["log", "--format=%H", "--", "dumps/lvx6048-1.yaml"]),
            (f"git log --since={week} -- dumps/lvx6048-1.yaml (reference)",
             ["log", "--format=%H", f"--since={week}", "--", "dumps/lvx6048-1.yaml"]),
        ):
            runs = [measure(["git", "-C", str(year.path), *args], env, (0,), self.work) for _ in range(3)]
            self.row("query", f"{label} ({len(runs[0].result.stdout.splitlines())} commits)",
                     f"{secs(statistics.median(r.wall for r in runs))}, {max(r.rss_kb for r in runs) / 1024:.0f} MB")

    def cadence(self, year_pack: int, year_pack_time: float, objects_per_run: float) -> None:
        """lvx's own packing as it happens: every THRESHOLD loose objects (about every
        THRESHOLD / objects-per-run runs) one `lvx run` packs them, and rolls up the small packs
        (geometric, factor 2). Each chunk of runs is written by fast-import, then unpacked into
        loose objects (`git unpack-objects`), which is what lvx's runs leave."""
        a = self.args
        site = Site(self, new_bare(self.work / "cadence.git"), 0)
        gen = history.Generator(START, self.site_files)
        chunk = max(1, math.ceil(THRESHOLD / objects_per_run) - 1)
        total = a.cadence_days * 96
        pack_counts, pack_times, rolled = [], [], 0
        while gen.run < total:
            before = set((site.path / "objects/pack").glob("*.pack"))
            fast_import(site.path, gen, min(chunk, total - gen.run))
            for p in [p for p in (site.path / "objects/pack").glob("*.pack") if p not in before]:
                data = p.read_bytes()
                for suffix in (".pack", ".idx", ".rev", ".keep"):
                    p.with_suffix(suffix).unlink(missing_ok=True)
                r = subprocess.run(["git", "-C", str(site.path), "unpack-objects", "-q"], input=data,
                                   capture_output=True)
                if r.returncode != 0:
                    raise BenchError(f"git unpack-objects failed: {r.stderr.decode()[-800:]}")
            site.now = gen.last_time + 7 * 60
            m = site.run(args=["--pack-threshold", "1"])
            rolled += len(re.findall(r"rolled (\d+) packs", m.result.stderr))
            pack_counts.append(count_objects(site.path)["packs"])
            pack_times.append(m.wall)
        sh(["git", "-C", str(site.path), "fsck", "--connectivity-only", "--no-dangling"])
        co = count_objects(site.path)
        self.row("cadence", f"{a.cadence_days} days = {gen.run} runs, lvx packs every {chunk + 1} runs: "
                 f"packings / roll-ups", f"{len(pack_counts)} / {rolled}")
        self.row("cadence", "  packs after each packing (geometric roll-up)", " ".join(map(str, pack_counts)))
        self.row("cadence", "  loose objects left / objects in packs / distinct objects", f"{co['count']} / "
                 f"{co['in-pack']} / {len(site.git('rev-list', '--objects', '--all').splitlines())}")
        self.row("cadence", "  .git (du)", mb(du(site.path)))
        self.row("cadence", "  packing run wall: first / median / max",
                 f"{secs(pack_times[0])} / {secs(statistics.median(pack_times))} / {secs(max(pack_times))}")
        site.now = gen.last_time + 20 * 60
        wall = statistics.median(site.run().wall for _ in range(a.runs))
        self.row("cadence", f"  lvx run with {co['packs']} packs (median of {a.runs})", ms(wall))
        per_year = a.year_runs / (chunk + 1)
        self.row("cadence", f"projected year: {per_year:.0f} packings, packs at most about log2",
                 f"{math.ceil(math.log2(per_year + 1))} (computed)")

    def write(self, fresh: dict, year: dict) -> None:
        cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                   platform.processor())
        fs = sh(["df", "-T", str(self.work)]).stdout.splitlines()[-1].split()[1]
        commit = sh(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]).stdout.strip()
        lines = [
            "# Repository growth in agent mode",
            "",
            f"Measured by `bench/growth.sh` on {datetime.now(timezone.utc).strftime('%Y-%m-%d')}: "
            f"{os.cpu_count()} cores ({cpu}), {fs} file system, "
            f"{sh(['git', '--version']).stdout.strip()}, lvx at {commit}, release build "
            f"(`{self.bin_label}`).",
            "",
            "Method: bench/growth/README.md. A year is "
            f"{self.args.year_runs} runs (15 minutes apart) generated with `git fast-import` in lvx's "
            "own file formats; `lvx run` is timed against lvx-sim at baud 0 in bare repositories "
            "(as deployed, `/var/lib/lvx/site.git`).",
            "",
            "| section | what | figure |",
            "|---|---|---|",
        ]
        order = ["history", "run", "pack", "size", "cadence", "query"]
        rows = sorted(self.rows, key=lambda r: order.index(r[0]))  # stable: measured order within a section
        lines += [f"| {s} | {w.strip()} | {f} |" for s, w, f in rows]
        out = Path(self.args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines) + "\n")
        print(f"wrote {out}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin", default=str(ROOT / ".build/release"))
    p.add_argument("--runs", type=int, default=9, help="timed lvx runs per repository state")
    p.add_argument("--strace-runs", type=int, default=5)
    p.add_argument("--query-runs", type=int, default=3)
    p.add_argument("--year-runs", type=int, default=365 * 96)
    p.add_argument("--cadence-days", type=int, default=60)
    p.add_argument("--out", default=str(RESULTS), help="the results file (default bench/results/growth.md)")
    p.add_argument("--work", help="work directory (default: a new temporary one)")
    p.add_argument("--keep", action="store_true", help="keep the temporary work directory")
    args = p.parse_args()
    created = not args.work
    if created:
        args.work = tempfile.mkdtemp(prefix="lvx-growth.")
    bench = None
    try:
        bench = Bench(args)
        bench.main()
    except BenchError as e:
        print(f"growth: {e}", file=sys.stderr)
        return 1
    finally:
        if bench:
            bench.sim.stop()
        if created and not args.keep:
            shutil.rmtree(args.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
