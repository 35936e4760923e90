#!/usr/bin/env python3
"""Benchmarks of lvx against lvx-sim at 2400 baud: wall time versus the simulator's wire time.

Run by bench/run.sh (`make bench`). Every figure is measured, never asserted: the script prints a
table, writes bench/results/latest.md and bench/results/latest.json, and exits 0 unless the
benchmark itself could not run (a command failed, a binary is missing). Method: bench/README.md.
"""
from __future__ import annotations

import argparse
import json
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
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PROFILE = ROOT / "desired-state" / "profiles" / "eg4-lp4-v2.yaml"
# The seed program is rebuilt at run time from the stored seed beside the project root, into a
# git-ignored folder (bench/seed/rebuild.py says how).
SEED_SOURCE = ROOT.parent / "shared" / "seeds" / "000_ca02fe81a007f9d2.txt"
SEED = ROOT / "bench" / "seed" / "build" / "flash.py"
VENV_PYTHON = ROOT / ".venv-powermon" / "bin" / "python"
BAUD = 2400
SEEDS_DRIFT = [
    "96142109100037:float_voltage=54.4", "96142408100255:float_voltage=54.4",
    "96142109100037:max_charging_current=50", "96142408100255:max_charging_current=50",
]


class BenchError(Exception):
    """The benchmark could not run as intended (not a slow result: those are only reported)."""


# ---------------------------------------------------------------- simulator and its logs

@dataclass
class Exchange:
    """One line of SERIAL.log: `SEQ KIND PAYLOAD REPLY WIRE [NOTE]`."""
    seq: int
    kind: str
    payload: str
    reply: str
    wire: float

    @property
    def name(self) -> str:
        """The command name for listings: queries as is, setters with their arguments."""
        return self.payload if self.kind != "?" else "?"


class Sim:
    """An lvx-sim process at 2400 baud with its own state directory."""

    def __init__(self, binary: Path, work: Path, name: str, args: list[str], baud: int = BAUD):
        self.dir = work / name
        self.dir.mkdir(parents=True)
        self.state = self.dir / "state"
        ports = self.dir / "ports"
        self.out = open(self.dir / "sim.out", "wb")
        self.err = open(self.dir / "sim.err", "wb")
        self.proc = subprocess.Popen(
            [str(binary), *args, "--baud", str(baud), "--state-dir", str(self.state), "--ports-file", str(ports)],
            stdout=self.out, stderr=self.err,
        )
        deadline = time.monotonic() + 20
        while not (ports.exists() and ports.stat().st_size > 0):
            if self.proc.poll() is not None:
                raise BenchError(f"lvx-sim {' '.join(args)} exited: {(self.dir / 'sim.err').read_text()}")
            if time.monotonic() > deadline:
                raise BenchError("lvx-sim did not write its ports file within 20 s")
            time.sleep(0.05)
        self.units = [tuple(line.split(" ", 1)) for line in ports.read_text().splitlines() if line.strip()]
        self.serials = [s for s, _ in self.units]

    @property
    def ports(self) -> list[str]:
        return [p for _, p in self.units]

    def path(self, i: int) -> str:
        """The pty path of unit i (`hidraw:/dev/pts/N` -> `/dev/pts/N`)."""
        return self.units[i][1].split(":", 1)[1]

    def _lines(self, serial: str) -> list[str]:
        log = self.state / f"{serial}.log"
        return log.read_text().splitlines() if log.exists() else []

    def mark(self) -> dict[str, int]:
        return {s: len(self._lines(s)) for s in self.serials}

    def since(self, mark: dict[str, int]) -> dict[str, list[Exchange]]:
        out = {}
        for s in self.serials:
            entries = []
            for line in self._lines(s)[mark[s]:]:
                p = line.split(" ")
                entries.append(Exchange(int(p[0]), p[1], p[2], p[3], float(p[4])))
            out[s] = entries
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        self.err.close()


# ---------------------------------------------------------------- repositories

def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", *args],
        check=True, capture_output=True, text=True,
    ).stdout


def commit_repo(repo: Path, message: str) -> Path:
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return repo


def seeds_repo(work: Path, name: str) -> Path:
    """desired-state/ copied and committed, `stop_units` emptied (no systemd here), as scripts/demo.sh."""
    repo = work / name
    shutil.copytree(ROOT / "desired-state", repo)
    lvx_yaml = repo / "lvx.yaml"
    text = re.sub(r"(?m)^  stop_units: .*$", "  stop_units: []", lvx_yaml.read_text())
    lvx_yaml.write_text(text)
    return commit_repo(repo, "desired state of the seeds' site")


def numbered_repo(work: Path, name: str, serials: list[str]) -> Path:
    """A site whose lvx.yaml lists `serials` (no ports: found by discovery), all on eg4-lp4-v2."""
    repo = work / name
    (repo / "profiles").mkdir(parents=True)
    shutil.copy(PROFILE, repo / "profiles" / "eg4-lp4-v2.yaml")
    units = "".join(f'  "{s}": {{name: u{i + 1:02d}, profile: eg4-lp4-v2}}\n' for i, s in enumerate(serials))
    (repo / "lvx.yaml").write_text(
        f"site: bench{len(serials)}\nunits:\n{units}"
        "apply:\n  stop_units: []\n  plan_lifetime: 24h\n  auto_apply_approved: false\n"
    )
    return commit_repo(repo, f"{len(serials)} units for the benchmark")


def last_plan_id(repo: Path) -> str:
    subject = git(repo, "log", "-1", "--format=%s").strip()
    m = re.match(r"plan ([0-9a-f]+):", subject)
    if not m:
        raise BenchError(f"no plan commit at HEAD of {repo}: {subject!r}")
    return m.group(1)


# ---------------------------------------------------------------- running and measuring

@dataclass
class Run:
    wall: float
    code: int
    exchanges: dict[str, list[Exchange]]


class Bench:
    def __init__(self, bin_dir: Path, work: Path, runs: int):
        self.lvx = bin_dir / "lvx"
        self.sim_binary = bin_dir / "lvx-sim"
        self.work = work
        self.runs = runs
        self.rows: list[dict] = []
        self.notes: list[str] = []
        self.sims: list[Sim] = []

    def sim(self, name: str, args: list[str], baud: int = BAUD) -> Sim:
        s = Sim(self.sim_binary, self.work, name, args, baud)
        self.sims.append(s)
        return s

    def stop(self, s: Sim):
        s.stop()
        self.sims.remove(s)

    @staticmethod
    def env(sim: Sim | None = None, repo: Path | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env["LVX_NO_HIDRAW_SCAN"] = "1"  # probe only LVX_PORTS: this machine's real hidraw nodes are not inverters
        env["NO_COLOR"] = "1"
        env.pop("LVX_PORTS", None)
        env.pop("LVX_REPO", None)
        if sim is not None:
            env["LVX_PORTS"] = ",".join(sim.ports)
        if repo is not None:
            env["LVX_REPO"] = str(repo)
        return env

    def run(self, argv: list[str], env: dict[str, str], sim: Sim | None, ok: tuple[int, ...]) -> Run:
        mark = sim.mark() if sim else {}
        t0 = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True)
        wall = time.perf_counter() - t0
        if done.returncode not in ok:
            raise BenchError(
                f"`{' '.join(argv)}` exited {done.returncode} (expected {ok}):\n"
                + done.stdout.decode(errors="replace")[-1500:] + done.stderr.decode(errors="replace")[-1500:]
            )
        return Run(wall, done.returncode, sim.since(mark) if sim else {})

    # -- rows

    def add(self, group: str, label: str, runs: list[Run], wire_model: str, goal: str = "", extra: str = ""):
        """Records one table row from repeated runs of one command."""
        walls = [r.wall for r in runs]
        wires = [model_wire(r.exchanges, wire_model) for r in runs]
        unit_wires = [max((sum(e.wire for e in ex) for ex in r.exchanges.values() if ex), default=0.0) for r in runs]
        total_wires = [sum(e.wire for ex in r.exchanges.values() for e in ex) for r in runs]
        wall = statistics.median(walls)
        wire = statistics.median(wires) if wires else 0.0
        row = {
            "group": group, "label": label, "n": len(runs),
            "wall_median": wall, "wall_min": min(walls), "wall_max": max(walls),
            "wire": wire, "wire_model": wire_model,
            "wire_one_unit": statistics.median(unit_wires), "wire_total": statistics.median(total_wires),
            "ratio": wall / wire if wire else None, "goal": goal,
            "exchanges": describe_exchanges(runs), "extra": extra,
        }
        self.rows.append(row)
        ratio = f"{row['ratio']:.2f}" if row["ratio"] else "-"
        print(f"  {label:<44} wall {wall:7.3f} s  wire {wire:7.3f} s  ratio {ratio:>5}  {goal}", flush=True)
        return row

    def add_plain(self, group: str, label: str, value: str, how: str):
        self.rows.append({"group": group, "label": label, "value": value, "how": how})
        print(f"  {label:<44} {value}", flush=True)


def model_wire(exchanges: dict[str, list[Exchange]], model: str) -> float:
    """The wire time a command cannot beat, from its exchanges.

    - `unit`: units are read concurrently, so the slowest unit's summed wire time.
    - `sequential`: everything one after the other, except the discovery probes (the first ID of
      each unit), which run concurrently: max(first ID) + the sum of every other exchange.
    """
    per_unit = [ex for ex in exchanges.values() if ex]
    if not per_unit:
        return 0.0
    if model == "unit":
        return max(sum(e.wire for e in ex) for ex in per_unit)
    probes = [ex[0].wire for ex in per_unit if ex[0].payload == "ID"]
    rest = sum(e.wire for ex in per_unit for e in (ex[1:] if ex[0].payload == "ID" else ex))
    return (max(probes) if probes else 0.0) + rest


def describe_exchanges(runs: list[Run]) -> str:
    """`N per unit: A B C` from the first run, noting when units or runs differ."""
    first = runs[0].exchanges
    seqs = {s: [e.name for e in ex] for s, ex in first.items() if ex}
    if not seqs:
        return "none"
    distinct = []
    for seq in seqs.values():
        if seq not in distinct:
            distinct.append(seq)
    parts = []
    for seq in distinct:
        who = [s for s, q in seqs.items() if q == seq]
        scope = "per unit" if len(who) == len(seqs) else f"on {len(who)} unit(s)"
        parts.append(f"{len(seq)} {scope}: {compress(seq)}")
    counts = {tuple(len(ex) for ex in r.exchanges.values()) for r in runs}
    if len(counts) > 1:
        parts.append("(counts varied between runs: retries?)")
    bad = [e for r in runs for ex in r.exchanges.values() for e in ex if e.reply not in ("data", "ack")]
    if bad:
        parts.append(f"({len(bad)} non-data replies: {sorted({e.reply for e in bad})})")
    return "; ".join(parts)


def apply_accounting(runs: list[Run]) -> str:
    """How an apply's exchanges split: discovery, re-read, (write, read-back) pairs, anything else."""
    ex_by_unit = runs[0].exchanges
    steps = paired = 0
    rereads: dict[str, int] = {}
    extras: dict[str, int] = {}
    for ex in ex_by_unit.values():
        names = ["S" if e.kind == "S" else e.payload for e in ex]
        i = 0
        if names[:2] == ["ID", "ID"]:
            extras["discovery ID"] = extras.get("discovery ID", 0) + 1
            i = 1
        reread = " ".join(names[i:i + 4])
        rereads[reread] = rereads.get(reread, 0) + 1
        i += 4
        while i < len(names):
            if names[i] == "S":
                steps += 1
                if i + 1 < len(names) and names[i + 1] == "PIRI":
                    paired += 1
                    i += 2
                    continue
            else:
                key = "PIRI after the last read-back" if names[i] == "PIRI" and "S" in names[:i] else names[i]
                extras[key] = extras.get(key, 0) + 1
            i += 1
    units = len([ex for ex in ex_by_unit.values() if ex])
    parts = [f"{paired} of {steps} steps are exactly 1 write + 1 PIRI read-back",
             "re-read at start: " + ", ".join(f"{k} ({v} unit(s))" for k, v in rereads.items())]
    if extras:
        parts.append("besides: " + ", ".join(f"{k} x{v}" for k, v in extras.items()) + f" (over {units} units)")
    return "; ".join(parts)


def compress(seq: list[str]) -> str:
    """`PIRI PIRI PIRI` -> `PIRI x3`, keeping order."""
    out: list[str] = []
    i = 0
    while i < len(seq):
        j = i
        while j + 1 < len(seq) and seq[j + 1] == seq[i]:
            j += 1
        out.append(seq[i] if j == i else f"{seq[i]} x{j - i + 1}")
        i = j + 1
    return " ".join(out)


# ---------------------------------------------------------------- the benchmarks

def bench_read_only(b: Bench):
    print("read-only commands (seeds site, 2 units)", flush=True)
    sim = b.sim("ro", ["--site", "seeds"])
    repo = seeds_repo(b.work, "ro-repo")
    try:
        env = b.env(sim, repo)
        p1, p2 = sim.ports
        lvx = str(b.lvx)
        n = b.runs
        for i, port in enumerate((p1, p2)):
            runs = [b.run([lvx, "dump", port], env, sim, (0,)) for _ in range(n)]
            b.add("read", f"dump unit {i + 1} (by port)", runs, "unit", "goal <= 1.15")
        runs = [b.run([lvx, "status", p1], env, sim, (0,)) for _ in range(n)]
        b.add("read", "status unit 1 (by port)", runs, "unit", "goal <= 1.15")
        runs = [b.run([lvx, "status", p1, p2], env, sim, (0,)) for _ in range(n)]
        b.add("read", "status both units (by port)", runs, "unit", "goal <= 1.15")
        runs = [b.run([lvx, "status"], env, sim, (0,)) for _ in range(n)]
        b.add("read", "status (units of lvx.yaml, by discovery)", runs, "unit", "goal <= 1.15")
    finally:
        b.stop(sim)


def plan_apply_cycles(b: Bench, name: str, sim_args: list[str], make_repo, cycles: int, extra_plans: int):
    """Per cycle: fresh simulator with drift, plan, approve, apply, plan again (in sync)."""
    plans, approves, applies, replans = [], [], [], []
    lvx = str(b.lvx)
    for c in range(cycles):
        sim = b.sim(f"{name}-{c}", sim_args)
        try:
            repo = make_repo(sim, f"{name}-repo-{c}")
            env = b.env(sim, repo)
            plans.append(b.run([lvx, "plan"], env, sim, (2,)))
            plan_id = last_plan_id(repo)
            if c == 0:
                for _ in range(extra_plans):
                    plans.append(b.run([lvx, "plan"], env, sim, (2,)))
            approves.append(b.run([lvx, "approve", plan_id, "--by", "bench"], env, sim, (0,)))
            applies.append(b.run([lvx, "apply", plan_id], env, sim, (0,)))
            replans.append(b.run([lvx, "plan"], env, sim, (0,)))
        finally:
            b.stop(sim)
    return plans, approves, applies, replans


def bench_plan_apply(b: Bench, apply16_cycles: int):
    print("plan and apply", flush=True)
    plans, approves, applies, replans = plan_apply_cycles(
        b, "seeds", ["--site", "seeds", *[a for s in SEEDS_DRIFT for a in ("--set", s)]],
        lambda sim, name: seeds_repo(b.work, name), cycles=max(1, b.runs // 2 + 1), extra_plans=max(0, b.runs - 3),
    )
    b.add("plan", "plan, seeds (2 units, float + current drift)", plans, "unit", "goal <= 1.2 x one unit")
    b.add("plan", "plan, seeds, in sync (after apply)", replans, "unit", "goal <= 1.2 x one unit")
    b.add("apply", "approve, seeds", approves, "unit")
    b.add("apply", "apply, seeds (4 steps)", applies, "sequential", "goal <= 1.15", extra=apply_accounting(applies))

    drift16 = [a for i in range(1, 17) for a in ("--set", f"961000000000{i:02d}:float_voltage=54.4")]
    plans, approves, applies, replans = plan_apply_cycles(
        b, "u16", ["--units", "16", *drift16],
        lambda sim, name: numbered_repo(b.work, name, sim.serials), cycles=apply16_cycles, extra_plans=b.runs - 1,
    )
    b.add("plan", "plan, 16 units (float drift)", plans, "unit", "goal <= 1.2 x one unit")
    b.add("plan", "plan, 16 units, in sync (after apply)", replans, "unit", "goal <= 1.2 x one unit")
    b.add("apply", "apply, 16 units (16 steps)", applies, "sequential", "goal <= 1.15", extra=apply_accounting(applies))

    # Current drift on 16 units: the planner also reads MCHGCR before a charging-current write.
    drift16c = drift16 + [a for i in range(1, 17) for a in ("--set", f"961000000000{i:02d}:max_charging_current=50")]
    sim = b.sim("u16c", ["--units", "16", *drift16c])
    try:
        repo = numbered_repo(b.work, "u16c-repo", sim.serials)
        env = b.env(sim, repo)
        runs = [b.run([str(b.lvx), "plan"], env, sim, (2,)) for _ in range(max(2, b.runs - 2))]
        b.add("plan", "plan, 16 units (float + current drift)", runs, "unit", "goal <= 1.2 x one unit")
    finally:
        b.stop(sim)


def bench_startup(b: Bench):
    print("startup and memory", flush=True)
    repo = seeds_repo(b.work, "startup-repo")
    env = b.env(None, repo)
    for label, argv in (("lvx --version", [str(b.lvx), "--version"]), ("lvx validate (seeds repo)", [str(b.lvx), "validate"])):
        out = b.work / "hyperfine.json"
        if shutil.which("hyperfine"):
            subprocess.run(
                ["hyperfine", "-N", "--warmup", "3", "--runs", "30", "--export-json", str(out), "--style", "none",
                 " ".join(argv)],
                env=env, check=True, capture_output=True,
            )
            r = json.loads(out.read_text())["results"][0]
            value = f"median {r['median'] * 1000:.1f} ms (mean {r['mean'] * 1000:.1f} +- {r['stddev'] * 1000:.1f} ms, n=30)"
            how = "hyperfine -N --warmup 3 --runs 30"
        else:
            walls = sorted(b.run(argv, env, None, (0,)).wall for _ in range(30))
            value = f"median {statistics.median(walls) * 1000:.1f} ms (n=30)"
            how = "30 timed runs (hyperfine missing)"
        b.add_plain("startup", label, value, how)

    time_bin = "/usr/bin/time"
    if not os.path.exists(time_bin):
        b.notes.append("/usr/bin/time is missing (apt package `time`): peak RSS not measured")
        return

    def peak_rss(argv, env, ok) -> int:
        done = subprocess.run([time_bin, "-v", *argv], env=env, capture_output=True, text=True)
        if done.returncode not in ok:
            raise BenchError(f"{argv} exited {done.returncode}: {done.stderr[-800:]}")
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
        if not m:
            raise BenchError("/usr/bin/time -v printed no maximum resident set size")
        return int(m.group(1))

    b.add_plain("memory", "peak RSS, lvx --version", f"{peak_rss([str(b.lvx), '--version'], env, (0,)) / 1024:.1f} MiB",
                "/usr/bin/time -v")
    drift16 = [a for i in range(1, 17) for a in ("--set", f"961000000000{i:02d}:float_voltage=54.4")]
    sim = b.sim("rss16", ["--units", "16", *drift16])
    try:
        repo16 = numbered_repo(b.work, "rss16-repo", sim.serials)
        kib = max(peak_rss([str(b.lvx), "plan"], b.env(sim, repo16), (2,)) for _ in range(3))
        b.add_plain("memory", "peak RSS, lvx plan, 16 units", f"{kib / 1024:.1f} MiB (max of 3)", "/usr/bin/time -v")
    finally:
        b.stop(sim)


def bench_overhead(b: Bench):
    """The same commands against an instant simulator (--baud 0): lvx's own cost without the wire."""
    print("software overhead (lvx-sim --baud 0)", flush=True)
    lvx = str(b.lvx)
    n = max(10, b.runs)
    sim = b.sim("fast2", ["--site", "seeds"], baud=0)
    try:
        repo = seeds_repo(b.work, "fast2-repo")
        env = b.env(sim, repo)
        for label, argv in (("dump unit 1", [lvx, "dump", sim.ports[0]]),
                            ("status both units", [lvx, "status", *sim.ports]),
                            ("plan, seeds (in sync)", [lvx, "plan"])):
            walls = [b.run(argv, env, sim, (0,)).wall for _ in range(n)]
            b.add_plain("overhead", f"{label}, --baud 0", f"median {statistics.median(walls) * 1000:.1f} ms (n={n})",
                        "timed runs")
    finally:
        b.stop(sim)
    drift16 = [a for i in range(1, 17) for a in ("--set", f"961000000000{i:02d}:float_voltage=54.4")]
    sim = b.sim("fast16", ["--units", "16", *drift16], baud=0)
    try:
        repo = numbered_repo(b.work, "fast16-repo", sim.serials)
        env = b.env(sim, repo)
        for label, argv in (("plan, 16 units --no-commit", [lvx, "plan", "--no-commit"]),
                            ("plan, 16 units (plan committed)", [lvx, "plan"])):
            walls = [b.run(argv, env, sim, (2,)).wall for _ in range(n)]
            b.add_plain("overhead", f"{label}, --baud 0", f"median {statistics.median(walls) * 1000:.1f} ms (n={n})",
                        "timed runs")
    finally:
        b.stop(sim)


def build_seed() -> str | None:
    """Rebuilds SEED from SEED_SOURCE; returns why the comparison is skipped, or None when built."""
    if not SEED_SOURCE.is_file():
        return f"seed comparison skipped: ../shared/seeds/{SEED_SOURCE.name} (beside the project root) is absent"
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "seed" / "rebuild.py"), str(SEED_SOURCE), str(SEED)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise BenchError(r.stderr.strip() or f"bench/seed/rebuild.py exited {r.returncode}")
    return None


def bench_seed(b: Bench):
    print("the seed flash.py (powermon 1.0.18) for comparison", flush=True)
    skipped = build_seed()
    if skipped:
        print(f"  {skipped}", flush=True)
        b.notes.append(skipped)
        return
    if not VENV_PYTHON.exists():
        b.notes.append(f"seed comparison skipped: {VENV_PYTHON} is missing (bench/run.sh makes it with pip)")
        return
    check = subprocess.run([str(VENV_PYTHON), "-c", "import powermon, yaml"], capture_output=True, text=True)
    if check.returncode != 0:
        b.notes.append(f"seed comparison skipped: powermon cannot be imported: {check.stderr.strip()[-300:]}")
        return
    sim = b.sim("seed", ["--units", "1", "--set", "96100000000001:float_voltage=54.4"])
    try:
        repo = numbered_repo(b.work, "seed-repo", sim.serials)
        env = b.env(sim, repo)
        argv = [str(VENV_PYTHON), str(SEED), "diff", "--device", sim.path(0), "--profile", str(PROFILE)]
        runs = []
        for _ in range(b.runs):
            r = b.run(argv, env, sim, (0,))
            runs.append(r)
        out = subprocess.run(argv, env=env, capture_output=True, text=True).stdout.strip().splitlines()
        seed_row = b.add("seed", "seed flash.py diff (1 unit)", runs, "unit", "",
                         extra="prints: " + " / ".join(out[:3]))
        startup = [b.run([str(VENV_PYTHON), str(SEED), "--help"], env, None, (0,)).wall for _ in range(b.runs)]
        b.add_plain("seed", "seed flash.py --help (Python + powermon import)",
                    f"median {statistics.median(startup) * 1000:.0f} ms (n={b.runs})", "timed runs")
        plan_runs = [b.run([str(b.lvx), "plan", "--no-commit"], env, sim, (2,)) for _ in range(b.runs)]
        plan_row = b.add("seed", "lvx plan --no-commit (same unit)", plan_runs, "unit", "")
        plan_commit = [b.run([str(b.lvx), "plan"], env, sim, (2,)) for _ in range(b.runs)]
        commit_row = b.add("seed", "lvx plan (same unit, plan committed)", plan_commit, "unit", "")
        dump_runs = [b.run([str(b.lvx), "dump", sim.ports[0]], env, sim, (0,)) for _ in range(b.runs)]
        dump_row = b.add("seed", "lvx dump (same unit, PIRI only, as the seed)", dump_runs, "unit", "")
        b.add_plain(
            "seed", "seed diff wall / lvx plan wall",
            f"{seed_row['wall_median'] / commit_row['wall_median']:.2f} (plan committed), "
            f"{seed_row['wall_median'] / plan_row['wall_median']:.2f} (--no-commit); "
            f"seed diff / lvx dump {seed_row['wall_median'] / dump_row['wall_median']:.2f}",
            "ratio of medians",
        )
    finally:
        b.stop(sim)


# ---------------------------------------------------------------- report

def machine() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        swift = subprocess.run(["swift", "--version"], capture_output=True, text=True, timeout=60).stdout.splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        swift = "?"
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "Sources", "Package.swift"],
                               capture_output=True, text=True).stdout.strip()
        commit += " + uncommitted Sources changes" if dirty else ""
    except OSError:
        commit = "?"
    return {"cores": str(os.cpu_count()), "cpu": cpu, "kernel": platform.release(), "swift": swift,
            "commit": commit}


def render(rows: list[dict], info: dict[str, str], notes: list[str]) -> str:
    lines = [
        "# lvx benchmark results",
        "",
        f"- date: {info['date']}",
        f"- machine: {info['cores']} cores ({info['cpu']}), Linux {info['kernel']}; load average "
        f"{info['load_before']} before, {info['load_after']} after (other work shares these cores)",
        f"- build: {info['build']} ({info['bin']}), {info['swift']}, commit {info['commit']}",
        f"- simulator: lvx-sim, hidraw-style ptys, {BAUD} baud; runs per figure: {info['runs']}; total "
        f"{info['elapsed']:.0f} s",
        "",
        "Wire = the simulator's own wire seconds (SERIAL.log) for the exchanges the command caused: "
        "`unit` = the slowest unit's sum (units are read concurrently), `seq` = max(discovery ID) + every "
        "other exchange (apply is sequential). Ratio = median wall / wire.",
        "",
        "| figure | wall median (min-max) | wire | ratio | goal | exchanges |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "value" in r:
            continue
        ratio = f"{r['ratio']:.2f}" if r["ratio"] else "-"
        model = "seq" if r["wire_model"] == "sequential" else "unit"
        extra = f"; {r['extra']}" if r["extra"] else ""
        lines.append(
            f"| {r['label']} | {r['wall_median']:.3f} s ({r['wall_min']:.3f}-{r['wall_max']:.3f}, n={r['n']}) "
            f"| {r['wire']:.3f} s ({model}) | {ratio} | {r['goal']} | {r['exchanges']}{extra} |"
        )
    lines += ["", "| figure | value | how |", "|---|---|---|"]
    for r in rows:
        if "value" in r:
            lines.append(f"| {r['label']} | {r['value']} | {r['how']} |")
    if notes:
        lines += ["", "Notes:"] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bin", default=str(ROOT / ".build" / "release"), help="directory with lvx and lvx-sim")
    ap.add_argument("--runs", type=int, default=5, help="runs per figure (median reported)")
    ap.add_argument("--apply16", type=int, default=1, help="plan/approve/apply cycles on 16 units (about 40 s each)")
    ap.add_argument("--only", choices=["read", "plan", "startup", "seed"], action="append",
                    help="run only these parts (repeatable)")
    args = ap.parse_args()
    bin_dir = Path(args.bin).resolve()
    for exe in ("lvx", "lvx-sim"):
        if not (bin_dir / exe).exists():
            print(f"bench: {bin_dir / exe} is missing; build first (swift build -c release)", file=sys.stderr)
            return 1
    RESULTS.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="lvx-bench."))
    b = Bench(bin_dir, work, max(1, args.runs))
    started = time.monotonic()
    info = machine()
    info.update(date=time.strftime("%Y-%m-%d %H:%M:%S %z"), bin=str(bin_dir), runs=str(b.runs),
                build="release" if "release" in bin_dir.name else bin_dir.name,
                load_before=" ".join(f"{x:.2f}" for x in os.getloadavg()))
    parts = args.only or ["read", "plan", "startup", "seed"]
    code = 0
    try:
        if "read" in parts:
            bench_read_only(b)
        if "plan" in parts:
            bench_plan_apply(b, max(1, args.apply16))
        if "startup" in parts:
            bench_startup(b)
            bench_overhead(b)
        if "seed" in parts:
            try:
                bench_seed(b)
            except BenchError as e:
                b.notes.append(f"seed comparison failed: {e}")
                print(f"  seed comparison failed: {e}", file=sys.stderr)
    except BenchError as e:
        print(f"bench: {e}", file=sys.stderr)
        b.notes.append(f"benchmark stopped early: {e}")
        code = 1
    finally:
        for s in list(b.sims):
            b.stop(s)
        info["elapsed"] = time.monotonic() - started
        info["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        text = render(b.rows, info, b.notes)
        (RESULTS / "latest.md").write_text(text)
        (RESULTS / "latest.json").write_text(json.dumps({"machine": info, "rows": b.rows, "notes": b.notes}, indent=1))
        print()
        print(text)
        if code == 0:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"bench: work directory kept: {work}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
