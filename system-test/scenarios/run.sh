#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # vm-harness starts it with sh
# The scenarios, run inside the VM by vm-harness as root: SHARE (debs/: the packages under test, scenarios/) OUT (results).
# Writes OUT/results.txt: "ok N - name" or "not ok N - name", then "N passed, M failed". Details of
# each check go to OUT/scenarios.log (this script's output).
SHARE=$1; OUT=$2
REPO=/var/lib/lvx/site.git; WORK=/var/lib/lvx/work; SIM=/run/lvx-sim
S1=96142109100037; S2=96142408100255
n=0; pass=0; fail=0; todo=0; : > "$OUT/results.txt"
up() { cut -d' ' -f1 /proc/uptime; }
result() {  # result NAME STATUS(0 = ok) [TODO]: a TODO check is a known gap, its failure not counted (TAP)
  n=$((n + 1))
  if [ "$2" = 0 ]; then pass=$((pass + 1)); line="ok $n - $1"
  elif [ -n "${3:-}" ]; then todo=$((todo + 1)); line="not ok $n - $1 # TODO $3"
  else fail=$((fail + 1)); line="not ok $n - $1"; fi
  echo "$line" >> "$OUT/results.txt"; echo "=== $line (uptime $(up))"
}
note() { echo "# $*" >> "$OUT/results.txt"; echo "# $*"; }   # a TAP comment in the results
check() {  # check NAME COMMAND...: runs the command (output to the log), records ok when it exits 0
  name=$1; shift; echo "--- $name: $*"; "$@"; result "$name" $?
}
as_lvx() { runuser -u lvx -- "$@"; }
wait_for() {  # wait_for SECONDS COMMAND...: until the command succeeds, at most SECONDS
  local end=$((SECONDS + $1)); shift
  while [ $SECONDS -lt $end ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1
}
start_sim() {  # lvx-sim serving the two seed units on real hidraw nodes through /dev/uhid
  rm -f "$SIM/ports"
  systemd-run --unit=lvx-sim --collect -p StandardError=journal /usr/bin/lvx-sim --transport uhid \
    --site seeds --baud "${BAUD:-0}" --state-dir "$SIM" --ports-file "$SIM/ports" "$@"
  wait_for 20 test -s "$SIM/ports"
}
stop_sim() { systemctl stop lvx-sim; wait_for 10 bash -c '! ls /sys/class/hidraw/*/device/uevent 2>/dev/null | xargs -r grep -l 0003:00000665:00005161 | grep -q .'; }
node_of() { sed -n "s|^$1 hidraw:||p" "$SIM/ports"; }
invocation() { systemctl show -p InvocationID --value lvx-run.service; }
wait_run() {  # wait_run OLD_INVOCATION: until lvx-run.service ran again and ended
  wait_for 180 bash -c "[ \"\$(systemctl show -p InvocationID --value lvx-run.service)\" != '$1' ] && \
    systemctl show -p ActiveState --value lvx-run.service | grep -Eqx 'inactive|failed'"
}
lvx_status_json() { lvx status "$S1" "$S2" --json; }

export HOME=/root; git config --global --add safe.directory '*'   # root reads lvx's repository
echo "scenarios start, uptime $(up)"; echo "test_start_uptime=$(up)" >> "$OUT/timing.txt"

# --- install: the packages, with apt, as a user would (their dependencies are in the image) ---------
DEBS=/var/cache/lvx-system-test; mkdir -p "$DEBS"; cp "$SHARE"/debs/*.deb "$DEBS/"; ls -l "$DEBS"
check "install: apt install ./lvx_*.deb ./lvx-sim_*.deb (no network: every dependency is met)" \
  bash -o pipefail -c "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $DEBS/lvx_*.deb $DEBS/lvx-sim_*.deb 2>&1 | tee '$OUT/apt-install.txt'"
VERSION=$(dpkg-query -W -f='${Version}' lvx)
check "install: /usr/bin/lvx --version prints the package's version ($VERSION)" \
  bash -c "[ \"\$(command -v lvx)\" = /usr/bin/lvx ] && [ \"\$(lvx --version)\" = '$VERSION' ]"
check "install: lvx-sim comes from its own package, not from lvx" \
  bash -c "dpkg -S /usr/bin/lvx-sim | grep -q '^lvx-sim:' && ! dpkg -L lvx | grep -q lvx-sim"
check "install: the lvx system user and group (sysusers.d), home /var/lib/lvx" \
  bash -c "getent passwd lvx | grep -q ':/var/lib/lvx:' && getent group lvx && [ \"\$(id -u lvx)\" -lt 1000 ]"
check "install: /var/lib/lvx is lvx's, mode 0750 (tmpfiles.d)" bash -c "[ \"\$(stat -c %U:%G:%a /var/lib/lvx)\" = lvx:lvx:750 ]"
check "install: the units are in /usr/lib/systemd/system and verify; the timer is left disabled" \
  bash -c "systemctl cat lvx-run.service | head -n 1 | grep -Eqx '# (/usr)?/lib/systemd/system/lvx-run.service' && \
         systemd-analyze verify --man=no /usr/lib/systemd/system/lvx-run.service /usr/lib/systemd/system/lvx-run.timer && \
         systemctl is-enabled lvx-run.timer | grep -qx disabled"
check "install: the udev rule, the polkit rule, the manual page and the completions are in place" \
  test -f /usr/lib/udev/rules.d/99-lvx.rules -a -f /usr/share/polkit-1/rules.d/50-lvx.rules \
    -a -f /usr/share/man/man1/lvx.1.gz -a -f /usr/share/bash-completion/completions/lvx
install -m644 "$SHARE/scenarios/powermon.service" /etc/systemd/system/   # the stand-in port user
systemctl daemon-reload

# --- uhid: lvx-sim on real hidraw nodes, given to group lvx by the packaged udev rule ---------------
mkdir -p "$SIM"
CHECKED=$(systemctl show -p ConditionTimestampMonotonic --value lvx-run.service)
check "uhid: lvx-sim --transport uhid serves both seed units and names their ports" start_sim
cat "$SIM/ports"; N1=$(node_of $S1); N2=$(node_of $S2)
check "uhid: each unit has its own /dev/hidrawN character device" bash -c "[ -c '$N1' ] && [ -c '$N2' ] && [ '$N1' != '$N2' ]"
udevadm settle
udevadm info -q all -n "$N1" > "$OUT/uhid-udevadm-info.txt" 2>&1; udevadm info -a -n "$N1" > "$OUT/uhid-udevadm-info-a.txt" 2>&1
check "uhid: the node's HID parent is 0003:0665:5161.* with HID_UNIQ = serial" \
  bash -c "readlink -f /sys/class/hidraw/$(basename "$N1")/device | grep -q '/0003:0665:5161\.' && \
         grep -qx HID_UNIQ=$S1 /sys/class/hidraw/$(basename "$N1")/device/uevent"
check "udev: the packaged rule gives the nodes to group lvx, mode 0660" \
  bash -c "[ \"\$(stat -c %G:%a '$N1')\" = lvx:660 ] && [ \"\$(stat -c %G:%a '$N2')\" = lvx:660 ]"
check "udev: the rule tags the node for systemd (a .device unit exists)" \
  bash -c "systemctl list-units --all --type=device | grep -q '$(basename "$N1")'"
check "hot-plug before lvx init: the rule's lvx-run.service is skipped by its condition, not failed" \
  wait_for 60 bash -c "[ \"\$(systemctl show -p ConditionTimestampMonotonic --value lvx-run.service)\" != '$CHECKED' ] && \
    systemctl show -p ConditionResult --value lvx-run.service | grep -qx no && ! systemctl is-failed -q lvx-run.service"
check "discovery: lvx status finds both units by sd-device (no LVX_PORTS, no port:)" \
  bash -o pipefail -c "env -u LVX_PORTS lvx status $S1 $S2 --json | tee '$OUT/status.json' | grep -c '\"serial\"' | grep -qx 2"
check "discovery: lvx status reports the ports lvx-sim named" \
  bash -c "grep -q '$N1' '$OUT/status.json' && grep -q '$N2' '$OUT/status.json'"
check "discovery: user lvx reads both units (group access, no LVX_PORTS)" as_lvx lvx status "$S1" "$S2"
check "uhid: a 9-byte write with a leading 0x00 (report ID 0) is stripped as usbhid does" \
  bash -c "exec 3<>'$N1'; printf '\\000^P005PIq' >&3; printf '\\000\\213\\r\\000\\000\\000\\000\\000\\000' >&3; \
    timeout 10 dd bs=8 count=2 <&3 2>/dev/null | tr -d '\\000' | tee '$OUT/uhid-9-byte.txt' | grep -q '^^D00518'"

# --- init as lvx, then hot-plug starts lvx-run.service through SYSTEMD_WANTS -----------------
check "init: lvx init --bare --from-live as lvx imports both units by discovery" \
  bash -c "cd /var/lib/lvx && runuser -u lvx -- lvx init $REPO --bare --from-live && \
         git --git-dir=$REPO show HEAD:lvx.yaml | tee '$OUT/lvx.yaml' | grep -q $S1 && grep -q $S2 '$OUT/lvx.yaml'"
rm "$REPO/hooks/pre-receive" "$REPO/hooks/post-receive"
check "init: lvx init --hooks puts back the hooks of an existing repository" \
  bash -c "runuser -u lvx -- lvx init --hooks $REPO && [ -x $REPO/hooks/pre-receive ] && [ -x $REPO/hooks/post-receive ]"
OLD=$(invocation)
stop_sim; start_sim; cat "$SIM/ports"; N1=$(node_of $S1); N2=$(node_of $S2)
check "hot-plug: the udev rule (SYSTEMD_WANTS) starts lvx-run.service, which finishes" wait_run "$OLD"
systemctl status lvx-run.service --no-pager -l > "$OUT/lvx-run-status-1.txt" 2>&1
check "run: systemctl status lvx-run shows lvx's sd_notify STATUS" grep -q 'Status: "' "$OUT/lvx-run-status-1.txt"
check "run: lvx-run.service (User=lvx, hardened) ends with success" \
  bash -c "systemctl show -p Result --value lvx-run.service | grep -qx success"
check "run: without node_exporter's textfile directory the pass warns that no metrics were written" \
  bash -c "journalctl -u lvx-run.service -p warning -o cat --no-pager | grep -q 'metrics not written'"
check "run: the pass committed dumps of both units to the repository" \
  bash -c "git --git-dir=$REPO log --name-only --format=%s | tee '$OUT/git-log-1.txt' | grep -x dumps/lvx6048-1.yaml >/dev/null && grep -qx dumps/lvx6048-2.yaml '$OUT/git-log-1.txt'"

# --- a push: hooks validate and start a run; drift is in the journal with LVX_* fields -----------
as_lvx git clone -q "$REPO" "$WORK"
sed -i 's/^\(float_voltage:\) *[0-9.]*/\1 54.2/' "$WORK"/profiles/*.yaml
sed -i 's/^\(  stop_units:\) \[\]/\1 [powermon.service]/' "$WORK/lvx.yaml"
sed -i 's/^\(  auto_apply_approved:\) false/\1 true/' "$WORK/lvx.yaml"
git -C "$WORK" diff --stat
OLD=$(invocation)
check "push: a profile change is accepted by the pre-receive hook (lvx validate)" \
  bash -o pipefail -c "cd $WORK && runuser -u lvx -- git -c user.name=Test -c user.email=test@lvxtest commit -qam 'float 54.2, stop powermon, auto-apply' && \
         runuser -u lvx -- git push origin HEAD 2>&1 | tee '$OUT/push.txt'"
check "push: the post-receive hook starts lvx-run.service (polkit lets lvx start it)" wait_run "$OLD"
journalctl -u lvx-run.service -o json --no-pager > "$OUT/lvx-run-journal.json"
check "journal: lvx-run logged the drift with LVX_UNIT, LVX_DRIFT_KEYS and LVX_PLAN_ID" \
  bash -c "journalctl -u lvx-run.service -p warning -o json --no-pager | grep '\"LVX_DRIFT_KEYS\"' | grep '\"LVX_UNIT\"' | grep -q '\"LVX_PLAN_ID\"'"
check "run: drift ends the pass with exit 2, not a failure (SuccessExitStatus=2)" \
  bash -c "systemctl show -p ExecMainStatus --value lvx-run.service | grep -qx 2 && systemctl show -p Result --value lvx-run.service | grep -qx success"
PLAN=$(journalctl -u lvx-run.service -o json --no-pager | sed -n 's/.*"LVX_PLAN_ID":"\([0-9a-f]*\)".*/\1/p' | tail -n 1)
echo "plan: $PLAN"

# --- the next run applies the approved plan: powermon.service stopped and started through polkit --
systemctl start powermon.service
PM=$(systemctl show -p InvocationID --value powermon.service)
check "apply: powermon.service (the stand-in) holds both units' hidraw nodes open" \
  bash -c "ls -l /proc/\$(systemctl show -p MainPID --value powermon.service)/fd | tee '$OUT/powermon-fds.txt' | grep -q '$N1' && grep -q '$N2' '$OUT/powermon-fds.txt'"
check "apply: lvx approve of the plan as lvx" as_lvx lvx approve "$PLAN" --repo "$REPO"
OLD=$(invocation); systemctl start --no-block lvx-run.service
check "apply: the next run (auto_apply_approved) applies the plan" wait_run "$OLD"
check "apply: that run ends with success" bash -c "systemctl show -p Result --value lvx-run.service | grep -qx success"
journalctl _SYSTEMD_INVOCATION_ID=$(invocation) -o json --no-pager > "$OUT/apply-run-journal.json"
check "apply: each write is in the journal with LVX_COMMAND and the value read back (LVX_READ_BACK)" \
  bash -c "grep '\"LVX_COMMAND\":\"MCHGV' '$OUT/apply-run-journal.json' | grep -q '\"LVX_READ_BACK\":\"54.2\"'"
check "apply: powermon.service was stopped and started again as lvx through polkit (a new invocation, active)" \
  bash -c "systemctl is-active powermon.service && [ \"\$(systemctl show -p InvocationID --value powermon.service)\" != '$PM' ]"
check "apply: the simulated units hold float_voltage 54.2" \
  bash -c "grep -q '\"float_voltage\" *: *54.2' $SIM/$S1.json && grep -q '\"float_voltage\" *: *54.2' $SIM/$S2.json"
check "apply: the applied record is committed" bash -c "git --git-dir=$REPO show HEAD:applied/$PLAN.yaml > /dev/null"

# --- kill -9 mid-apply: ExecStopPost= recovery restarts powermon and git records the writes ------
# The line at the real 2400 baud (about 0.1 s an exchange) so the apply is still going when it is killed.
stop_sim; OLD=$(invocation); BAUD=2400 start_sim; N1=$(node_of $S1); N2=$(node_of $S2); wait_run "$OLD"
as_lvx git -C "$WORK" pull -q --ff-only   # lvx's own commits since the first push
sed -i 's/^\(float_voltage:\) *[0-9.]*/\1 54.4/' "$WORK"/profiles/*.yaml
OLD=$(invocation)
(cd "$WORK" && runuser -u lvx -- git -c user.name=Test -c user.email=test@lvxtest commit -qam 'float 54.4' && \
  runuser -u lvx -- git push -q origin HEAD) 2>&1
wait_run "$OLD"
PLAN2=$(journalctl _SYSTEMD_INVOCATION_ID=$(invocation) -o json --no-pager | sed -n 's/.*"LVX_PLAN_ID":"\([0-9a-f]*\)".*/\1/p' | tail -n 1)
echo "plan 2: $PLAN2"
as_lvx lvx approve "$PLAN2" --repo "$REPO"
OLD=$(invocation); systemctl start --no-block lvx-run.service
check "kill: the auto-applying run stops powermon.service for its writes" \
  wait_for 120 bash -c "! systemctl is-active -q powermon.service"
systemctl kill --signal=KILL --kill-whom=main lvx-run.service
wait_run "$OLD"
systemctl status lvx-run.service --no-pager -l > "$OUT/lvx-run-status-killed.txt" 2>&1
check "kill: the killed pass is recorded failed by systemd (signal)" \
  bash -c "systemctl show -p Result --value lvx-run.service | grep -qx signal"
# The kill lands before the first write (while the units are re-read) or during the writes: either
# way ExecStopPost= (lvx recover) starts powermon again and git says what happened.
check "kill: ExecStopPost= (lvx recover) started powermon.service again" \
  wait_for 120 systemctl is-active -q powermon.service
check "kill: git records the killed apply (interrupted with what the units hold, or died before any write)" \
  bash -c "git --git-dir=$REPO show HEAD:applied/$PLAN2.yaml 2>/dev/null | grep -q interrupted || git --git-dir=$REPO show HEAD:refused/$PLAN2.yaml | grep -q 'died before any write'"
systemctl start powermon.service
systemctl reset-failed lvx-run.service

# --- the timer fires the service -----------------------------------------------------------
mkdir -p /etc/systemd/system/lvx-run.timer.d
printf '[Timer]\nOnCalendar=\nOnActiveSec=2s\nRandomizedDelaySec=0\nPersistent=false\n' \
  > /etc/systemd/system/lvx-run.timer.d/system-test.conf
systemctl daemon-reload; OLD=$(invocation); systemctl start lvx-run.timer
check "timer: lvx-run.timer (a drop-in shortens it to 2 s) fires lvx-run.service" wait_run "$OLD"
systemctl stop lvx-run.timer
check "timer: the timed pass ends without failure" \
  bash -c "systemctl show -p Result --value lvx-run.service | grep -qx success"

# --- the hardened sandbox of lvx-run.service: hidraw yes, /dev/mem and /etc no -------------------
mkdir -p /etc/systemd/system/lvx-run.service.d
cat > /etc/systemd/system/lvx-run.service.d/system-test-probe.conf <<PROBE
[Service]
ExecStart=
ExecStart=/bin/sh -c 'exec > /var/lib/lvx/sandbox.txt 2>&1; (exec 3<>$N1) && echo hidraw=open; (exec 3</dev/mem) || echo mem=denied; touch /etc/lvx-probe || echo etc=denied; touch /var/lib/lvx/probe && echo varlib=written'
ExecStopPost=
PROBE
systemctl daemon-reload; systemctl start lvx-run.service; cat /var/lib/lvx/sandbox.txt
check "sandbox: lvx-run.service opens the hidraw node read-write" grep -qx hidraw=open /var/lib/lvx/sandbox.txt
check "sandbox: lvx-run.service cannot open /dev/mem" grep -qx mem=denied /var/lib/lvx/sandbox.txt
check "sandbox: lvx-run.service cannot write /etc, can write /var/lib/lvx" \
  bash -c "grep -qx etc=denied /var/lib/lvx/sandbox.txt && grep -qx varlib=written /var/lib/lvx/sandbox.txt && [ ! -e /etc/lvx-probe ]"
rm -f /etc/systemd/system/lvx-run.service.d/system-test-probe.conf; systemctl daemon-reload
systemd-analyze security lvx-run.service --no-pager > "$OUT/security.txt" 2>&1
note "systemd-analyze security: $(tail -n 1 "$OUT/security.txt")"

# --- one unit unplugged mid-run: a clear error for it, the other still read, nothing lost ---------
# lvx-sim loads unplug-after=3 for lvx6048-2 from its state file (SIGHUP): the unit answers three
# requests of the next pass's read, then its hidraw node goes away, as when its cable is pulled.
BEFORE=$(git --git-dir=$REPO rev-parse HEAD)
reloads() { journalctl -u lvx-sim -o cat --no-pager | grep -c 'reloaded state files'; }
RELOADS=$(reloads)
sed -i 's/"faults": *\[[^]]*\]/"faults": ["unplug-after=3"]/' "$SIM/$S2.json"; grep faults "$SIM/$S2.json"
systemctl kill -s HUP lvx-sim.service
wait_for 30 bash -c "[ \$(journalctl -u lvx-sim -o cat --no-pager | grep -c 'reloaded state files') -gt $RELOADS ]"
OLD=$(invocation); systemctl start --no-block lvx-run.service; wait_run "$OLD"
journalctl _SYSTEMD_INVOCATION_ID=$(invocation) -o cat --no-pager > "$OUT/unplug-one-run.txt"
check "unplug one: lvx6048-2 went away in the middle of the pass's read (its hidraw node is gone)" \
  bash -c "grep ' unplugged ' '$SIM/$S2.log' && [ ! -e '$N2' ]"
check "unplug one: the pass ends failed; its journal names lvx6048-2 and its port" \
  bash -c "systemctl is-failed -q lvx-run.service && grep 'lvx6048-2' '$OUT/unplug-one-run.txt' | grep -q '$N2'"
check "unplug one: lvx6048-1 was still read: its dump is committed reachable, lvx6048-2's unreachable" \
  bash -c "git --git-dir=$REPO show HEAD:dumps/lvx6048-1.yaml | grep -q 'reachable: true' && \
         git --git-dir=$REPO show HEAD:dumps/lvx6048-2.yaml | grep -q 'reachable: false'"
check "unplug one: nothing lost: the history before the pass is under HEAD, and git fsck passes" \
  bash -c "[ \"\$(git --git-dir=$REPO rev-parse HEAD)\" != '$BEFORE' ] && \
         git --git-dir=$REPO merge-base --is-ancestor '$BEFORE' HEAD && git --git-dir=$REPO fsck --strict"
systemctl reset-failed lvx-run.service

# --- unplugged: the pass fails clearly and OnFailure= reports it ---------------------------------
failures() { journalctl -t lvx-run-failed -o cat --no-pager | grep -c 'lvx-run.service failed'; }
FAILURES=$(failures)
stop_sim
OLD=$(invocation); systemctl start --no-block lvx-run.service
wait_run "$OLD"
check "unplugged: with both units gone the pass ends failed" systemctl is-failed -q lvx-run.service
journalctl _SYSTEMD_INVOCATION_ID=$(invocation) -o cat --no-pager > "$OUT/unplugged-run.txt"
check "unplugged: the run's journal names the unreachable units" \
  bash -c "grep -q lvx6048-1 '$OUT/unplugged-run.txt' && grep -q lvx6048-2 '$OUT/unplugged-run.txt'"
check "unplugged: OnFailure= starts lvx-run-failed@, which logs the failure" \
  wait_for 60 bash -c "[ \$(journalctl -t lvx-run-failed -o cat --no-pager | grep -c 'lvx-run.service failed') -gt $FAILURES ]"

# --- apt remove: the programs go; the repository and its history stay, byte for byte -------------
tree_sums() { (cd /var/lib/lvx && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum); }
export -f tree_sums; tree_sums > /tmp/lvx-tree-before.txt; HEAD_BEFORE=$(git --git-dir=$REPO rev-parse HEAD)
check "remove: apt remove lvx lvx-sim" \
  bash -o pipefail -c "DEBIAN_FRONTEND=noninteractive apt-get remove -y lvx lvx-sim 2>&1 | tee '$OUT/apt-remove.txt'"
check "remove: the programs, the units and the rules are gone" \
  bash -c "! command -v lvx && ! command -v lvx-sim && [ ! -e /usr/lib/systemd/system/lvx-run.service ] && \
         [ ! -e /usr/lib/udev/rules.d/99-lvx.rules ] && [ ! -e /usr/share/polkit-1/rules.d/50-lvx.rules ]"
check "remove: every file under /var/lib/lvx is untouched, the repository's HEAD the same, git fsck passes" \
  bash -c "tree_sums | diff /tmp/lvx-tree-before.txt - && [ \"\$(git --git-dir=$REPO rev-parse HEAD)\" = '$HEAD_BEFORE' ] && \
         git --git-dir=$REPO fsck --strict"
DEBIAN_FRONTEND=noninteractive apt-get purge -y lvx > "$OUT/apt-purge.txt" 2>&1   # lvx-sim has no postrm: gone already
check "remove: purged too, /var/lib/lvx and the lvx user stay, and the package says so" \
  bash -c "cat '$OUT/apt-remove.txt' '$OUT/apt-purge.txt' | grep -q 'left /var/lib/lvx' && id lvx && \
         tree_sums | diff /tmp/lvx-tree-before.txt - && \
         [ \"\$(stat -c %U /var/lib/lvx/site.git)\" = lvx ] && ! dpkg -s lvx 2>/dev/null | grep -q '^Status: install'"

echo "test_end_uptime=$(up)" >> "$OUT/timing.txt"
[ $todo = 0 ] || note "$todo known gap(s) marked TODO, not counted as failures"
echo "$pass passed, $fail failed" >> "$OUT/results.txt"
echo "scenarios end, uptime $(up): $pass passed, $fail failed"
