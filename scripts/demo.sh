#!/usr/bin/env bash
# make demo: the seeds' site on simulated inverters. Read-only commands first, then the review
# cycle (validate, plan, approve, apply, plan again) on a temporary copy of desired-state/.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${LVX_BIN_DIR:-.build/debug}
LVX="$PWD/$BIN/lvx"
SIM="$PWD/$BIN/lvx-sim"
BAUD=${LVX_DEMO_BAUD:-2400}
work=$(mktemp -d /tmp/lvx-demo.XXXXXX)
sim_pid=""
cabin_pid=""
cleanup() {
    for pid in $sim_pid $cabin_pid; do kill "$pid" 2>/dev/null; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; set +e; "$@"; local rc=$?; set -e; echo "(exit $rc)"; }

# Two LVX6048 units as at the seeds' site; both have drifted from the profile since commissioning
# (float 54.4 V instead of 54.0, charging current 50 A instead of 60).
"$SIM" --site seeds --baud "$BAUD" --state-dir "$work/sim" --ports-file "$work/ports" \
    --set 96142109100037:float_voltage=54.4 --set 96142408100255:float_voltage=54.4 \
    --set 96142109100037:max_charging_current=50 --set 96142408100255:max_charging_current=50 \
    >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 100); do [ -s "$work/ports" ] && break; sleep 0.1; done
echo "lvx-sim serves (baud $BAUD):"; cat "$work/ports"
export LVX_PORTS=$(cut -d' ' -f2 "$work/ports" | paste -sd, -)
P1=$(sed -n 1p "$work/ports" | cut -d' ' -f2)
P2=$(sed -n 2p "$work/ports" | cut -d' ' -f2)

# The desired-state repository: a copy of desired-state/ committed to a fresh git repository.
# There is no systemd here, so the copy does not stop powermon during apply.
repo="$work/site"
mkdir -p "$repo" && cp -r desired-state/. "$repo/"
sed -i 's/^  stop_units: .*/  stop_units: []   # (demo: no systemd on this machine)/' "$repo/lvx.yaml"
git -C "$repo" init -q -b main
git -C "$repo" -c user.name=demo -c user.email=demo@example.invalid add -A
git -C "$repo" -c user.name=demo -c user.email=demo@example.invalid commit -qm "desired state of the seeds' site"
export LVX_REPO="$repo"
# This first part runs without pinned signers, on purpose; agent mode below signs and verifies.
export LVX_ALLOWED_SIGNERS=none

run "$LVX" status
run "$LVX" status --json "$P1"
run "$LVX" dump lvx6048-1
run "$LVX" sync-check lvx6048-1 lvx6048-2
run "$LVX" compare 96142109100037 96142408100255

run "$LVX" validate
run "$LVX" plan
plan_id=$(git -C "$repo" log -1 --format=%s | sed -n 's/^plan \([0-9a-f]*\):.*/\1/p')
run "$LVX" show "$plan_id"
run "$LVX" approve "$plan_id" --by demo
run "$LVX" apply "$plan_id"
run "$LVX" plan
run "$LVX" plans
say git log --oneline
git -C "$repo" log --oneline
say "setters the simulator received"
grep -h ' S ' "$work"/sim/*.log || true

# Agent mode: a bare hub that people push to and the timer's `lvx run` works on.
printf '\n\033[1m== agent mode: config changes by git push, drift detection by lvx run ==\033[0m\n'
G="git -c user.name=alice -c user.email=alice@example.invalid"
hub="$work/hub.git"
run "$LVX" init "$hub" --bare
$G clone -q "$hub" "$work/laptop"
cp -r desired-state/. "$work/laptop/"
sed -i 's/^  stop_units: .*/  stop_units: []   # (demo: no systemd on this machine)/' "$work/laptop/lvx.yaml"
sed -i 's/^  auto_apply_approved: false/  auto_apply_approved: true/' "$work/laptop/lvx.yaml"
rm -f "$work/laptop/profiles/example.yaml"
$G -C "$work/laptop" add -A && $G -C "$work/laptop" commit -qm "the seeds' site, applied automatically once approved"
run $G -C "$work/laptop" push -q origin main
export LVX_REPO="$hub"
# The host pins alice's SSH key: only approvals signed with it count.
ssh-keygen -q -t ed25519 -N '' -C alice -f "$work/alice"
echo "alice $(cut -d' ' -f1,2 "$work/alice.pub")" >"$work/allowed_signers"
export LVX_ALLOWED_SIGNERS="$work/allowed_signers"
say "cat allowed_signers"; cat "$work/allowed_signers"

# A person raises the float voltage on the laptop and pushes; a typo first is rejected by the hook.
sed -i 's/^float_voltage: 54.0$/float_voltage: 54.2/' "$work/laptop/profiles/eg4-lp4-v2.yaml"
sed -i 's/^bulk_voltage: 56.4/bulk_volatge: 56.4/' "$work/laptop/profiles/eg4-lp4-v2.yaml"
$G -C "$work/laptop" commit -qam "float 54.2 V (with a typo)"
run $G -C "$work/laptop" push origin main
sed -i 's/^bulk_volatge: 56.4/bulk_voltage: 56.4/' "$work/laptop/profiles/eg4-lp4-v2.yaml"
$G -C "$work/laptop" commit -qam "float 54.2 V for the winter"
run $G -C "$work/laptop" push -q origin main

# The agent's passes are dated by LVX_NOW, as the timer would space them, so the report below
# shows the days between them.
export LVX_NOW=2027-01-10T06:00:00Z
run "$LVX" run                     # the timer's pass: dumps, summary, and a plan for the drift
export LVX_NOW=2027-01-10T08:30:00Z
$G -C "$work/laptop" pull -q
agent_plan=$(ls "$work/laptop/plans" | sed -n 's/\.yaml$//p' | while read -r id; do
    [ -e "$work/laptop/applied/$id.yaml" ] || echo "$id"; done | tail -1)
run "$LVX" show "$agent_plan" --repo "$work/laptop"
run "$LVX" approve "$agent_plan" --by alice --key "$work/alice" --repo "$work/laptop"
run $G -C "$work/laptop" push -q origin main
run "$LVX" show "$agent_plan"      # approved by alice (verified, key SHA256:...)
export LVX_NOW=2027-01-10T09:00:00Z
run "$LVX" run                     # applies the approved plan, in the run's own commit
export LVX_NOW=2027-01-11T09:00:00Z
run "$LVX" run                     # in sync
# Two days later someone sets the float voltage on the inverter's LCD: the next pass finds it.
sed -i 's/"float_voltage": [0-9.]*/"float_voltage": 54.6/' "$work/sim/96142109100037.json"
kill -HUP "$sim_pid"
for _ in $(seq 50); do grep -q "reloaded state files" "$work/sim.err" && break; sleep 0.1; done
export LVX_NOW=2027-01-12T09:00:00Z
run "$LVX" run                     # drift: a new plan waits for approval
export LVX_NOW=2027-01-12T15:00:00Z
run "$LVX" run                     # still drifted, the same plan pending
unset LVX_NOW
run "$LVX" history lvx6048-1 --changes-only
say git log --oneline "(hub)"
git -C "$hub" log --oneline | head -12

# A fleet: the seeds' site ("home") and a one-unit cabin share one upstream, a branch each.
printf '\n\033[1m== fleet: two sites, one upstream, a branch each ==\033[0m\n'
fleet="$work/fleet.git"
git init -q --bare "$fleet"
"$SIM" --units 1 --baud 0 --set 96100000000001:float_voltage=53.5 --state-dir "$work/cabin-sim" \
    --ports-file "$work/cabin.ports" >/dev/null 2>"$work/cabin-sim.err" &
cabin_pid=$!
for _ in $(seq 100); do [ -s "$work/cabin.ports" ] && break; sleep 0.1; done
cabin_ports=$(cut -d' ' -f2 "$work/cabin.ports" | paste -sd, -)
run "$LVX" init "$work/home.git" --bare --site home --upstream "$fleet" --from-live
LVX_PORTS=$cabin_ports run "$LVX" init "$work/cabin.git" --bare --site cabin --upstream "$fleet" --from-live
# Someone wants the cabin's float at 54.0 V and pushes it to the cabin's branch of the upstream.
$G clone -q -b sites/cabin "$fleet" "$work/cabin-laptop"
sed -i 's/^float_voltage: .*/float_voltage: 54.0/' "$work/cabin-laptop"/profiles/*.yaml
$G -C "$work/cabin-laptop" commit -qam "cabin: float 54.0 V"
run $G -C "$work/cabin-laptop" push -q
run "$LVX" run --repo "$work/home.git"
LVX_PORTS=$cabin_ports run "$LVX" run --repo "$work/cabin.git"
run "$LVX" fleet status "$fleet" --cache "$work/fleet-cache"
run "$LVX" fleet plans "$fleet" --cache "$work/fleet-cache"
cabin_plan=$( { "$LVX" fleet plans "$fleet" --cache "$work/fleet-cache" --json || true; } | sed -n 's/.*"id" *: *"\([0-9a-f]*\)".*/\1/p' | head -n 1)
run "$LVX" approve "$cabin_plan" --by alice --key "$work/alice" --fleet "$fleet" --cache "$work/fleet-cache"
run "$LVX" fleet status "$fleet" --cache "$work/fleet-cache"   # the cabin's plan: approved

# The settings timeline of the agent-mode site, kept after the demo (the work directory is not).
report="$PWD/.build/demo/lvx-report.html"
mkdir -p "$(dirname "$report")"
run "$LVX" report --repo "$hub" --out "$report"
printf '\nThe report stays at %s: open it in a browser.\n' "$report"
