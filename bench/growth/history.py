"""A year of `lvx run` commits as a `git fast-import` stream, in lvx's own file formats.

Each 15-minute run is one commit by `lvx <lvx@localhost>` that rewrites dumps/lvx6048-1.yaml,
dumps/lvx6048-2.yaml and runs/last.yaml, byte for byte as lvx 0.1.0 writes them (the formats
were copied from real `lvx run` commits against lvx-sim --site seeds). Every run changes every
dump (taken_at). Seeded, so the same arguments give the same history:

- drift: about every 10 days a setting drifts on one or both units (float_voltage or
  max_charging_current set on the LCD); the first drifted run writes plans/ID.yaml, later runs say
  "pending (unchanged)"; after 2-20 hours a person commits approvals/ID.yaml and the next run
  applies it (applied/ID.yaml) and is in sync again;
- grid outages about twice a month, 1-8 runs in Battery mode (03) on both units;
- a fault on one unit about 4 times a year (one run), a warning now and then;
- a unit unreachable for one run about once a week (a USB hiccup), with lvx's real error text;
- a person edits the desired state about once a month (a profile comment line).

Ids that lvx would compute (commit ids, digests, plan ids) are random hex of the same length.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from datetime import datetime, timezone
from typing import IO

UNITS = [
    # name, serial, port, slave1 firmware, parallel index
    ("lvx6048-1", "96142109100037", "hidraw:/dev/hidraw0", "06126", 0),
    ("lvx6048-2", "96142408100255", "hidraw:/dev/hidraw1", "06021", 1),
]
SETTINGS = {
    "battery_type": "USER", "cutoff_voltage": "48.0", "stop_discharge_voltage": "48.0",
    "stop_charge_voltage": "54.0", "bulk_voltage": "56.4", "float_voltage": "54.0",
    "max_utility_charging_current": "30", "max_charging_current": "60",
    "output_source_priority": "solar_battery_utility", "charger_priority": "solar_first",
    "solar_power_priority": "load_battery_utility", "grid_tie": "disabled",
}
MODES = {"05": "Hybrid", "03": "Battery"}
FAULTS = {"00": "No fault", "56": "Battery connection is open"}
UNREACHABLE = (
    "discovery: ID: no inverter with serial {serial} found; probed 2 ports:\\n"
    "  hidraw:/dev/hidraw0: answered serial {other}\\n"
    "  hidraw:/dev/hidraw1: ID: no complete reply within 1 s after 2 attempts\\n"
    "check the cable, or set LVX_PORTS (or --port) to the inverter's port"
)
INTERVAL = 15 * 60


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def minute(ts: int) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


def settings_line(values: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in values.items()) + "}"


def dump(unit, ts: int, mode: str, fault: str, warnings: list[str], values: dict[str, str]) -> str:
    name, serial, port, slave1, index = unit
    return (
        f"# lvx run {iso(ts)}\n"
        "format_version: 1\n"
        f"unit: {name}\n"
        f"serial: '{serial}'\n"
        f"taken_at: '{iso(ts)}'\n"
        "reachable: true\n"
        f"port: {port}\n"
        f"firmware: {{main: '06306', slave1: '{slave1}', slave2: '00000'}}\n"
        f"mode: {{code: '{mode}', name: {MODES[mode]}}}\n"
        f"fault: {{code: '{fault}', name: {FAULTS[fault]}}}\n"
        f"warnings: [{', '.join(warnings)}]\n"
        f"parallel_index: {index}\n"
        f"settings: {settings_line(values)}\n"
    )


def unreachable_dump(unit, other, ts: int) -> str:
    name, serial, *_ = unit
    error = UNREACHABLE.format(serial=serial, other=other[1])
    return (
        f"# lvx run {iso(ts)}: unreachable; the last good dump is in git history\n"
        f"{{format_version: 1, unit: {name}, serial: '{serial}', taken_at: '{iso(ts)}', "
        f'reachable: false, error: "{error}"}}\n'
    )


def hexid(rng: random.Random, n: int) -> str:
    return "%0*x" % (n, rng.getrandbits(4 * n))


def summary(ts: int, end: int, desired: str, code: int, units: list[dict], plan: str | None,
            new: bool, applied: str | None) -> str:
    out = [
        "# lvx run summary", "format_version: 1", f"started: '{iso(ts)}'", f"finished: '{iso(end)}'",
        f"duration_seconds: {end - ts}", f"desired_commit: '{desired}'", f"exit_code: {code}", "units:",
    ]
    for u in units:
        out += [
            f"- name: {u['name']}", f"  serial: '{u['serial']}'",
            f"  reachable: {'true' if u['error'] is None else 'false'}",
            f"  error: {'null' if u['error'] is None else chr(34) + u['error'] + chr(34)}",
            f"  fault: {'null' if u['fault'] is None else repr(u['fault'])}",
            f"  in_sync: {u['in_sync']}", "  within_tolerance: []", "  accepted: []",
        ]
        if u["drifted"]:
            out.append("  drifted:")
            out += [f"  - {{key: {k}, live: {live}, want: {want}, tolerance: '{tol}'}}" for k, live, want, tol in u["drifted"]]
        else:
            out.append("  drifted: []")
    out += [f"plan: {plan or 'null'}", f"plan_is_new: {'true' if new else 'false'}"]
    out.append(f"apply: {{plan: {applied}, result: applied, steps: 1}}" if applied else "apply: null")
    return "\n".join(out) + "\n"


VOLTAGES = {"cutoff_voltage", "stop_discharge_voltage", "stop_charge_voltage", "bulk_voltage", "float_voltage"}
CURRENTS = {"max_utility_charging_current", "max_charging_current"}


def canonical(value) -> str:
    """JSONValue.text: compact JSON, keys in the order given; a Decimal-like `Raw` unquoted."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k) + ":" + canonical(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


class Raw:
    """A decimal as lvx writes it (`54.0`), unquoted in JSON."""

    def __init__(self, text: str):
        self.text = text


def setting_json(values: dict[str, str]) -> dict:
    """Settings.json: voltages as decimals, currents as integers, choices as names, in write order."""
    order = list(SETTINGS)
    out = {}
    for key in sorted(values, key=order.index):
        v = values[key]
        out[key] = Raw(v) if key in VOLTAGES else int(v) if key in CURRENTS else v
    return out


def plan_record(rng: random.Random, ts: int, drift: dict[int, dict[str, str]], site: str) -> tuple[str, str, str]:
    """A plan as lvx writes it, whose digest and id load: (id, digest, YAML text).

    The steps are the setters the planner would choose: MCHGV (bulk and float together) for a
    float drift, MCHGC addressed to the unit for a charging-current drift.
    """
    units = []
    for i, (name, serial, port, slave1, index) in enumerate(UNITS):
        if i not in drift:
            continue
        observed = dict(SETTINGS, **drift[i])
        key = next(iter(drift[i]))
        if key == "float_voltage":
            keys = ["bulk_voltage", "float_voltage"]
            command = "MCHGV" + ",".join(SETTINGS[k].replace(".", "") for k in keys)
        else:
            keys = [key]
            command = f"MCHGC{index},{int(SETTINGS[key]):03d}"
        units.append({
            "serial": serial, "name": name, "port": port,
            "firmware": {"main": "06306", "slave1": slave1, "slave2": "00000"},
            "parallel_index": index, "observed_digest": hexid(rng, 64), "observed": setting_json(observed),
            "steps": [{"keys": keys, "from": setting_json({k: observed[k] for k in keys}),
                       "to": setting_json({k: SETTINGS[k] for k in keys}), "command": command}],
        })
    content = {
        "format_version": 1, "created": iso(ts), "expires": iso(ts + 86400), "desired_commit": hexid(rng, 40),
        "desired_digest": hexid(rng, 64), "tool_version": "0.1.0", "site": site, "units": units,
    }
    digest = hashlib.sha256(canonical(content).encode()).hexdigest()
    pid = digest[:16]

    def flow(values: dict) -> str:
        return "{" + ", ".join(f"{k}: {canonical(v) if not isinstance(v, str) else v}" for k, v in values.items()) + "}"

    out = [
        f"# lvx plan; approve with `lvx approve {pid}`", f"id: '{pid}'", f"digest: '{digest}'",
        "format_version: 1", f"created: '{content['created']}'", f"expires: '{content['expires']}'",
        f"desired_commit: '{content['desired_commit']}'", f"desired_digest: '{content['desired_digest']}'",
        "tool_version: '0.1.0'", f"site: {site}", "units:",
    ]
    for u in units:
        step = u["steps"][0]
        out += [
            f"- serial: '{u['serial']}'", f"  name: {u['name']}", f"  port: {u['port']}",
            f"  firmware: {{main: '06306', slave1: '{u['firmware']['slave1']}', slave2: '00000'}}",
            f"  parallel_index: {u['parallel_index']}", f"  observed_digest: '{u['observed_digest']}'",
            f"  observed: {flow(u['observed'])}", "  steps:",
            f"  - keys: [{', '.join(step['keys'])}]", f"    from: {flow(step['from'])}", f"    to: {flow(step['to'])}",
            f"    command: {step['command']}",
        ]
    return pid, digest, "\n".join(out) + "\n"


def approval_record(pid: str, digest: str, ts: int, created: int) -> str:
    return (f"# lvx approval of plan {pid}\nformat_version: 1\nplan: '{pid}'\nplan_digest: '{digest}'\n"
            f"approved_by: alice\napproved_at: '{iso(ts)}'\nexpires: '{iso(created + 86400)}'\n")


def result_record(pid: str, ts: int, steps: list[tuple[str, str]]) -> str:
    out = [f"# lvx apply of plan {pid}", "format_version: 1", f"plan: '{pid}'", "outcome: applied",
           f"started: '{iso(ts)}'", f"finished: '{iso(ts + 9)}'", "steps:"]
    out += [f"- {{unit: {unit}, command: {command}, ack: accepted, matched: true}}" for unit, command in steps]
    return "\n".join(out) + "\n"


class Stream:
    """Writes fast-import commands with inline file data."""

    def __init__(self, out: IO[bytes], parent: str | None = None, ref: str = "refs/heads/main"):
        self.out = out
        self.parent = parent  # for the first commit only
        self.ref = ref

    def commit(self, who: str, ts: int, message: str, files: dict[str, str]) -> None:
        w = self.out.write
        msg = message.encode()
        w(f"commit {self.ref}\n".encode())
        w(f"author {who} {ts} +0000\ncommitter {who} {ts} +0000\n".encode())
        w(b"data %d\n%s\n" % (len(msg), msg))
        if self.parent:
            w(f"from {self.parent}\n".encode())
            self.parent = None
        for path, text in files.items():
            data = text.encode()
            w(f"M 100644 inline {path}\n".encode())
            w(b"data %d\n%s\n" % (len(data), data))
        w(b"\n")


def site_files(root) -> dict[str, str]:
    """desired-state/ with stop_units emptied (no systemd on the bench machine)."""
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            text = path.read_text()
            if path.name == "lvx.yaml":
                text = "\n".join(
                    "  stop_units: []" if line.startswith("  stop_units:") else line for line in text.split("\n")
                )
            files[str(path.relative_to(root))] = text
    return files


class Generator:
    """Writes the history in pieces: a root commit holding the site, then runs every 15 minutes.

    Each piece is one fast-import stream; a piece after the first starts from the branch's tip
    (which may hold commits made by lvx in between). Counts of what was written are in `counts`.
    """

    def __init__(self, start: int, site: dict[str, str], seed: int = 6048, ref: str = "refs/heads/main"):
        self.ref = ref
        self.rng = random.Random(seed)
        self.start = start
        self.site = site
        self.profile = site["profiles/eg4-lp4-v2.yaml"]
        self.run = 0
        self.counts = {"runs": 0, "plans": 0, "approvals": 0, "people": 0, "unreachable": 0, "files": 0, "bytes": 0}
        self.drift: dict[int, dict[str, str]] = {}
        self.plan_id: str | None = None
        self.plan_digest = ""
        self.plan_created = 0
        self.plan_steps: list[tuple[str, str]] = []
        match = re.search(r"(?m)^site: (\S+)$", site.get("lvx.yaml", ""))
        self.name = match.group(1) if match else "home"
        self.approve_at = 0
        self.approved = False
        self.outage = 0

    @property
    def last_time(self) -> int:
        """The time of the last run written (or of the site commit)."""
        return self.start + (self.run - 1) * INTERVAL + 2 if self.run else self.start - 3600

    def emit(self, out: IO[bytes], runs: int) -> None:
        """Writes the next `runs` runs (with the site commit first if nothing was written yet)."""
        s = Stream(out, parent=f"{self.ref}^0" if self.run else None, ref=self.ref)
        alice = "alice <alice@example.invalid>"
        lvx = "lvx <lvx@localhost>"
        rng, counts = self.rng, self.counts
        if self.run == 0:
            s.commit(alice, self.start - 3600, "desired state of the seeds' site\n", self.site)
        drift, plan_id, approve_at, approved, outage = (
            self.drift, self.plan_id, self.approve_at, self.approved, self.outage)
        profile = self.profile
        for r in range(self.run, self.run + runs):
            ts = self.start + r * INTERVAL + rng.randint(0, 2)
            # Events for this run.
            if not drift and rng.random() < 1 / 960:
                key, value = rng.choice([("float_voltage", "54.4"), ("max_charging_current", "50")])
                drift = {i: {key: value} for i in rng.choice([[0], [1], [0, 1]])}
            if outage == 0 and rng.random() < 1 / 1440:
                outage = rng.randint(1, 8)
            mode = "03" if outage > 0 else "05"
            outage = max(0, outage - 1)
            fault_unit = rng.randrange(2) if rng.random() < 1 / 8760 * 4 else -1
            warn_unit = rng.randrange(2) if rng.random() < 1 / 500 else -1
            down = rng.randrange(2) if rng.random() < 1 / 672 else -1
            # A person approves a pending plan; this run applies it.
            applied = None
            files: dict[str, str] = {}
            if plan_id and not approved and ts >= approve_at:
                approval = approval_record(plan_id, self.plan_digest, ts - 60, self.plan_created)
                s.commit(alice, ts - 60, f"approve plan {plan_id}\n", {f"approvals/{plan_id}.yaml": approval})
                counts["approvals"] += 1
                counts["people"] += 1
                approved = True
            if approved and plan_id and down < 0:
                applied = plan_id
                files[f"applied/{plan_id}.yaml"] = result_record(plan_id, ts, self.plan_steps)
                drift = {}
            if rng.random() < 1 / 2880:
                note = f"# reviewed {iso(ts)[:10]} by alice\n"
                s.commit(alice, ts - 30, "profile: reviewed\n", {"profiles/eg4-lp4-v2.yaml": profile + note})
                counts["people"] += 1
            units = []
            for i, unit in enumerate(UNITS):
                values = dict(SETTINGS, **drift.get(i, {}))
                if i == down:
                    files[f"dumps/{unit[0]}.yaml"] = unreachable_dump(unit, UNITS[1 - i], ts)
                    units.append({"name": unit[0], "serial": unit[1], "error": UNREACHABLE.format(serial=unit[1], other=UNITS[1 - i][1]),
                                  "fault": None, "in_sync": 0, "drifted": []})
                    counts["unreachable"] += 1
                    continue
                warnings = ["'Battery voltage low'"] if i == warn_unit else []
                fault = "56" if i == fault_unit else "00"
                files[f"dumps/{unit[0]}.yaml"] = dump(unit, ts, mode, fault, warnings, values)
                drifted = [(k, v, SETTINGS[k], "0.1 V" if k == "float_voltage" else "0 A") for k, v in drift.get(i, {}).items()]
                units.append({"name": unit[0], "serial": unit[1], "error": None, "fault": fault,
                              "in_sync": 12 - len(drifted), "drifted": drifted})
            plan_new = False
            if drift and plan_id is None:
                plan_id, self.plan_digest, text = plan_record(rng, ts, drift, self.name)
                self.plan_created = ts
                self.plan_steps = re.findall(r"^  name: (\S+)$[\s\S]*?^    command: (\S+)$", text, re.M)
                plan_new = True
                approve_at = ts + rng.randint(2, 20) * 3600
                approved = False
                files[f"plans/{plan_id}.yaml"] = text
                counts["plans"] += 1
            end = ts + rng.randint(3, 6)
            code = 1 if down >= 0 else (2 if drift else 0)
            files["runs/last.yaml"] = summary(ts, end, hexid(rng, 40), code, units, plan_id if drift else None,
                                              plan_new, applied)
            subject = f"run {minute(ts)}: 2 units, "
            if down >= 0:
                subject += "1 unreachable"
            elif drift:
                parts = [f"{UNITS[i][0]} {k} {v} (want {SETTINGS[k]} +/- {'0.1' if k == 'float_voltage' else '0'})"
                         for i, d in drift.items() for k, v in d.items()]
                subject += f"{len(drift)} drifted: " + ", ".join(parts)
            else:
                subject += "in sync"
            body = ""
            if plan_id and drift:
                body = f"\nplan {plan_id} {'written' if plan_new else 'pending (unchanged)'}\n"
            if applied:
                body = f"\nplan {applied} applied\n"
                plan_id = None
                approved = False
            s.commit(lvx, ts, subject + "\n" + body, files)
            counts["runs"] += 1
            counts["files"] += len(files)
            counts["bytes"] += sum(len(t) for t in files.values())
        self.run += runs
        self.drift, self.plan_id, self.approve_at, self.approved, self.outage = (
            drift, plan_id, approve_at, approved, outage)
