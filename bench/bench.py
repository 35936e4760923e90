#!/usr/bin/env python3
"""Benchmarks of lvx against lvx-sim at 2400 baud: wall time versus the simulator's wire time.

Run by bench/run.sh (`make bench`). Every figure is measured, never asserted: the script prints a
table, writes bench/results/latest.md and bench/results/latest.json, and exits 0 unless the
benchmark itself could not run (a command failed, a binary is missing). Method: bench/README.md.
"""
from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import os
import platform
import re
import shutil
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
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
    # When the simulator logged it (perf_counter seconds from the command's start), which is when the
    # request frame had arrived: the exchange ends `wire` seconds later. None without a watcher.
    at: float | None = None

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

    def since(self, mark: dict[str, int], times: dict[str, list[float]] | None = None,
              t0: float = 0.0) -> dict[str, list[Exchange]]:
        out = {}
        for s in self.serials:
            entries = []
            stamps = (times or {}).get(s, [])
            for k, line in enumerate(self._lines(s)[mark[s]:]):
                p = line.split(" ")
                at = stamps[k] - t0 if k < len(stamps) else None
                entries.append(Exchange(int(p[0]), p[1], p[2], p[3], float(p[4]), at))
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


class LogWatcher:
    """Times each new SERIAL.log line as it is written (inotify, so no polling load on the cores).

    The simulator appends a line when a request frame has arrived, before it holds the exchange for
    its wire time, so a line's time is the exchange's start. Used for apply's phases (how the wall
    splits between startup, probe, re-read, the in-progress commit, the writes and the end)."""

    IN_MODIFY = 0x2
    _libc = None

    def __init__(self, sim: "Sim"):
        if LogWatcher._libc is None:
            LogWatcher._libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc = LogWatcher._libc
        self.sim = sim
        self.fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise BenchError(f"inotify_init1: {os.strerror(ctypes.get_errno())}")
        if libc.inotify_add_watch(self.fd, str(sim.state).encode(), self.IN_MODIFY) < 0:
            os.close(self.fd)
            raise BenchError(f"inotify_add_watch {sim.state}: {os.strerror(ctypes.get_errno())}")
        self.times: dict[str, list[float]] = {s: [] for s in sim.serials}
        self.offsets = {}
        for s in sim.serials:
            log = sim.state / f"{s}.log"
            self.offsets[s] = log.stat().st_size if log.exists() else 0
        self.stop_r, self.stop_w = os.pipe()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _collect(self, serial: str, t: float):
        log = self.sim.state / f"{serial}.log"
        try:
            with open(log, "rb") as f:
                f.seek(self.offsets[serial])
                data = f.read()
        except OSError:
            return
        complete = data[: data.rfind(b"\n") + 1]
        self.offsets[serial] += len(complete)
        self.times[serial].extend([t] * complete.count(b"\n"))

    def _loop(self):
        while True:
            ready, _, _ = select.select([self.fd, self.stop_r], [], [])
            t = time.perf_counter()
            if self.fd in ready:
                try:
                    buf = os.read(self.fd, 65536)
                except BlockingIOError:
                    buf = b""
                names = set()
                i = 0
                while i + 16 <= len(buf):
                    _, _, _, length = struct.unpack_from("iIII", buf, i)
                    names.add(buf[i + 16:i + 16 + length].rstrip(b"\0").decode(errors="replace"))
                    i += 16 + length
                for name in names:
                    if name.endswith(".log") and name[:-4] in self.times:
                        self._collect(name[:-4], t)
            if self.stop_r in ready:
                return

    def finish(self) -> dict[str, list[float]]:
        os.write(self.stop_w, b"x")
        self.thread.join()  # a line it has not seen stays untimed (Exchange.at is None)
        for fd in (self.fd, self.stop_r, self.stop_w):
            os.close(fd)
        return self.times


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


def bare_clone(repo: Path, name: str) -> Path:
    """A bare clone of `repo`, as the agent's site repository: `lvx run` commits its dumps there."""
    bare = repo.parent / name
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True, capture_output=True)
    return bare


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


def stacks_of(repo: Path) -> list[set[str]]:
    """The serials of each stack in the repository's lvx.yaml (`stacks:` as `name: [unit, ...]`)."""
    text = (repo / "lvx.yaml").read_text()
    serial_of = {name: serial for serial, name in re.findall(r'(?m)^  "(\d+)": \{name: ([\w.-]+)', text)}
    m = re.search(r"(?m)^stacks:[^\n]*\n((?:  .*\n)+)", text)
    stacks = []
    for members in re.findall(r"(?m)^  [\w.-]+: \[([^\]]*)\]", m.group(1) if m else ""):
        names = [n.strip() for n in members.split(",") if n.strip()]
        if any(n not in serial_of for n in names):
            raise BenchError(f"{repo}/lvx.yaml: a stack names a unit it does not list: {names}")
        stacks.append({serial_of[n] for n in names})
    return stacks


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

    def run(self, argv: list[str], env: dict[str, str], sim: Sim | None, ok: tuple[int, ...],
            timeline: bool = False) -> Run:
        mark = sim.mark() if sim else {}
        watcher = LogWatcher(sim) if sim and timeline else None
        t0 = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True)
        wall = time.perf_counter() - t0
        times = watcher.finish() if watcher else None
        if done.returncode not in ok:
            raise BenchError(
                f"`{' '.join(argv)}` exited {done.returncode} (expected {ok}):\n"
                + done.stdout.decode(errors="replace")[-1500:] + done.stderr.decode(errors="replace")[-1500:]
            )
        return Run(wall, done.returncode, sim.since(mark, times, t0) if sim else {})

    # -- rows

    def add(self, group: str, label: str, runs: list[Run], wire_model: str, goal: str = "", extra: str = "",
            stacks: list[set[str]] | None = None):
        """Records one table row from repeated runs of one command."""
        walls = [r.wall for r in runs]
        wires = [model_wire(r.exchanges, wire_model, stacks) for r in runs]
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


def model_wire(exchanges: dict[str, list[Exchange]], model: str, stacks: list[set[str]] | None = None) -> float:
    """The wire time a command cannot beat, from its exchanges.

    - `unit`: units are read concurrently, so the slowest unit's summed wire time.
    - `apply`: apply's phases one after another, each as fast as its concurrency allows (see
      `apply_phases`): max(discovery ID) + max(re-read) over units + the writes and their read-backs,
      summed within a stack and max over the independent groups. Exchanges outside that shape (a PIRI
      after the last read-back) are not counted: they are what the goal measures.
    - `apply-unit`: one unit's apply: the slowest unit's discovery ID + re-read + writes and
      read-backs. The goal for independent units compares the whole apply with this.
    """
    per_unit = [ex for ex in exchanges.values() if ex]
    if not per_unit:
        return 0.0
    if model == "unit":
        return max(sum(e.wire for e in ex) for ex in per_unit)
    phases = {s: apply_phases(ex) for s, ex in exchanges.items() if ex}
    if model == "apply-unit":
        return max(wire(ph.probe) + wire(ph.reread) + wire(ph.steps) for ph in phases.values())
    if model != "apply":
        raise BenchError(f"unknown wire model {model!r}")
    groups = write_groups(list(phases), stacks or [])
    return (max(wire(ph.probe) for ph in phases.values())
            + max(wire(ph.reread) for ph in phases.values())
            + max(sum(wire(phases[s].steps) for s in g) for g in groups))


def wire(exchanges: list[Exchange]) -> float:
    return sum(e.wire for e in exchanges)


def write_groups(serials: list[str], stacks: list[set[str]]) -> list[list[str]]:
    """The groups apply writes at once: the members of a stack together, every other unit alone."""
    groups, placed = [], set()
    for s in serials:
        if s in placed:
            continue
        stack = next((st for st in stacks if s in st), {s})
        group = [u for u in serials if u in stack]
        placed.update(group)
        groups.append(group)
    return groups


@dataclass
class ApplyPhases:
    """One unit's apply exchanges, split by phase."""
    probe: list[Exchange]      # the discovery ID (when the unit was found by discovery)
    reread: list[Exchange]     # the re-read before the first write: ID VFW PIRI GS (+ MCHGCR/MUCHGCR)
    steps: list[Exchange]      # each write and the PIRI read-back right after it
    pairs: int                 # steps that are exactly 1 write + 1 PIRI
    writes: int                # writes (kind S)
    extra: list[Exchange]      # anything else: a PIRI after the last read-back, a write without read-back


def apply_phases(ex: list[Exchange]) -> ApplyPhases:
    names = ["S" if e.kind == "S" else e.payload for e in ex]
    i = 1 if names[:2] == ["ID", "ID"] else 0
    first_write = next((k for k in range(i, len(names)) if names[k] == "S"), len(names))
    ph = ApplyPhases(ex[:i], ex[i:first_write], [], 0, 0, [])
    k = first_write
    while k < len(ex):
        if names[k] == "S":
            ph.writes += 1
            if k + 1 < len(ex) and names[k + 1] == "PIRI":
                ph.steps += ex[k:k + 2]
                ph.pairs += 1
                k += 2
                continue
            ph.steps.append(ex[k])  # a write without its read-back
        else:
            ph.extra.append(ex[k])
        k += 1
    return ph


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


def apply_accounting(runs: list[Run], stacks: list[set[str]] | None = None) -> str:
    """How an apply's exchanges split (discovery, re-read, write + read-back pairs, anything else), the
    wire of one unit and of the model, and where the wall went when the log lines were timed."""
    ex_by_unit = {s: ex for s, ex in runs[0].exchanges.items() if ex}
    phases = {s: apply_phases(ex) for s, ex in ex_by_unit.items()}
    rereads: dict[str, int] = {}
    extras: dict[str, int] = {}
    for ph in phases.values():
        key = " ".join(e.payload for e in ph.reread)
        rereads[key] = rereads.get(key, 0) + 1
        for e in ph.extra:
            name = "PIRI after the last read-back" if e.payload == "PIRI" else e.name
            extras[name] = extras.get(name, 0) + 1
    steps = sum(ph.writes for ph in phases.values())
    paired = sum(ph.pairs for ph in phases.values())
    probes = sum(1 for ph in phases.values() if ph.probe)
    groups = write_groups(list(phases), stacks or [])
    parts = [f"{paired} of {steps} steps are exactly 1 write + 1 PIRI read-back",
             f"discovery ID on {probes} of {len(phases)} units",
             "re-read: " + ", ".join(f"{k} ({v} unit(s))" for k, v in rereads.items()),
             "nothing else" if not extras else
             "besides: " + ", ".join(f"{k} x{v}" for k, v in extras.items()) + f" (over {len(phases)} units)",
             f"written in {len(groups)} group(s) at once, of {'/'.join(str(len(g)) for g in groups)} unit(s)",
             f"wire: one unit's apply {statistics.median(model_wire(r.exchanges, 'apply-unit') for r in runs):.3f} s, "
             f"apply model {statistics.median(model_wire(r.exchanges, 'apply', stacks) for r in runs):.3f} s, "
             f"all exchanges summed {statistics.median(sum(wire(ex) for ex in r.exchanges.values()) for r in runs):.3f} s"]
    timed = [r for r in runs if all(e.at is not None for ex in r.exchanges.values() for e in ex)]
    if timed:
        spans = [apply_timeline(r, stacks) for r in timed]
        keys = spans[0].keys()
        parts.append("wall by phase (median of timed runs): "
                     + ", ".join(f"{k} {statistics.median(sp[k] for sp in spans):.3f} s" for k in keys))
    return "; ".join(parts)


def apply_timeline(run: Run, stacks: list[set[str]] | None) -> dict[str, float]:
    """Where an apply's wall went, from the times the simulator logged its exchanges (each an
    exchange's start; it ends `wire` later). Phases follow one another, so they add up to the wall.

    - start: process start -> first discovery ID sent (startup, lvx.yaml, plan and approval read)
    - discovery: -> the last probe answered, then -> the first re-read exchange sent
    - re-read: first re-read exchange sent -> the last one answered (wire of the slowest unit + gaps)
    - gate + in-progress commit: -> the first write sent (verify, commit of the in-progress record)
    - writes: first write sent -> the last read-back answered; `gaps` is this minus the write model
      (max over groups of their summed write + read-back wire), the client's time between exchanges
    - end: -> the process exited (extra reads, the result's commit, services restarted)
    """
    phases = {s: apply_phases(ex) for s, ex in run.exchanges.items() if ex}
    end = lambda e: e.at + e.wire  # noqa: E731
    probes = [e for ph in phases.values() for e in ph.probe]
    rereads = [e for ph in phases.values() for e in ph.reread]
    steps = [e for ph in phases.values() for e in ph.steps]
    everything = [e for ex in run.exchanges.values() for e in ex]
    t_first = min(e.at for e in everything)
    probe_end = max((end(e) for e in probes), default=t_first)
    reread_start = min((e.at for e in rereads), default=probe_end)
    reread_end = max((end(e) for e in rereads), default=reread_start)
    write_start = min((e.at for e in steps), default=reread_end)
    write_end = max((end(e) for e in steps), default=write_start)
    last_end = max(end(e) for e in everything)
    groups = write_groups(list(phases), stacks or [])
    write_wire = max(sum(wire(phases[s].steps) for s in g) for g in groups)
    reread_wire = max(wire(ph.reread) for ph in phases.values())
    return {
        "start": t_first,
        "discovery": reread_start - t_first,
        "re-read": reread_end - reread_start,
        "(its wire)": reread_wire,
        "gate + in-progress commit": write_start - reread_end,
        "writes": write_end - write_start,
        "(their wire)": write_wire,
        "after the last read-back": last_end - write_end,
        "end": run.wall - last_end,
        "wall": run.wall,
    }


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
    stacks: list[set[str]] = []
    lvx = str(b.lvx)
    for c in range(cycles):
        sim = b.sim(f"{name}-{c}", sim_args)
        try:
            repo = make_repo(sim, f"{name}-repo-{c}")
            stacks = stacks_of(repo)
            env = b.env(sim, repo)
            plans.append(b.run([lvx, "plan"], env, sim, (2,)))
            if c == 0:
                for _ in range(extra_plans):
                    plans.append(b.run([lvx, "plan"], env, sim, (2,)))
            # The newest plan: each `lvx plan` supersedes the pending plans for the same units.
            plan_id = last_plan_id(repo)
            approves.append(b.run([lvx, "approve", plan_id, "--by", "bench"], env, sim, (0,)))
            applies.append(b.run([lvx, "apply", plan_id], env, sim, (0,), timeline=True))
            replans.append(b.run([lvx, "plan"], env, sim, (0,)))
        finally:
            b.stop(sim)
    return plans, approves, applies, replans, stacks


def bench_plan_apply(b: Bench, apply16_cycles: int):
    print("plan and apply", flush=True)
    plans, approves, applies, replans, stacks = plan_apply_cycles(
        b, "seeds", ["--site", "seeds", *[a for s in SEEDS_DRIFT for a in ("--set", s)]],
        lambda sim, name: seeds_repo(b.work, name), cycles=max(1, b.runs // 2 + 1), extra_plans=max(0, b.runs - 3),
    )
    b.add("plan", "plan, seeds (2 units, float + current drift)", plans, "unit", "goal <= 1.2 x one unit")
    b.add("plan", "plan, seeds, in sync (after apply)", replans, "unit", "goal <= 1.2 x one unit")
    sim = b.sim("run2", ["--site", "seeds"])
    try:
        site = bare_clone(seeds_repo(b.work, "run2-repo"), "run2-site.git")
        runs = [b.run([str(b.lvx), "run"], b.env(sim, site), sim, (0,)) for _ in range(b.runs)]
        b.add("plan", "run, seeds, in sync (bare repo, commits)", runs, "unit", "goal <= 1.2 x one unit")
    finally:
        b.stop(sim)
    b.add("apply", "approve, seeds", approves, "unit")
    b.add("apply", "apply, seeds (4 steps, one stack)", applies, "apply", "goal <= 1.15",
          extra=apply_accounting(applies, stacks), stacks=stacks)

    drift16 = [a for i in range(1, 17) for a in ("--set", f"961000000000{i:02d}:float_voltage=54.4")]
    plans, approves, applies, replans, stacks = plan_apply_cycles(
        b, "u16", ["--units", "16", *drift16],
        lambda sim, name: numbered_repo(b.work, name, sim.serials), cycles=apply16_cycles, extra_plans=b.runs - 1,
    )
    b.add("plan", "plan, 16 units (float drift)", plans, "unit", "goal <= 1.2 x one unit")
    b.add("plan", "plan, 16 units, in sync (after apply)", replans, "unit", "goal <= 1.2 x one unit")
    b.add("apply", "apply, 16 independent units (16 steps)", applies, "apply-unit", "goal <= 1.3 x one unit",
          extra=apply_accounting(applies, stacks), stacks=stacks)

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
        # The agent's pass: read both units, plan (in sync), commit the run to a bare site repository.
        env = b.env(sim, bare_clone(repo, "fast2-site.git"))
        walls = [b.run([lvx, "run"], env, sim, (0,)).wall for _ in range(n)]
        b.add_plain("overhead", "run, seeds (in sync, bare repo, commits), --baud 0",
                    f"median {statistics.median(walls) * 1000:.1f} ms (n={n})", "timed runs")
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
        "`unit` = the slowest unit's sum (units are read concurrently); `apply` = max(discovery ID) + "
        "max(re-read) over units + the writes and their PIRI read-backs, summed within a stack and max over "
        "the groups written at once (extra exchanges are not counted); `apply-unit` = one unit's apply "
        "(the slowest unit's discovery ID + re-read + writes and read-backs). Ratio = median wall / wire.",
        "",
        "| figure | wall median (min-max) | wire | ratio | goal | exchanges |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "value" in r:
            continue
        ratio = f"{r['ratio']:.2f}" if r["ratio"] else "-"
        model = r["wire_model"]
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
