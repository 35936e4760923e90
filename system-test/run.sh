#!/bin/sh
# The system test: boot a Debian 12 VM under qemu, run the scenarios in it, print the results.
# usage: system-test/run.sh   (from the repository root, as root; `make system-test` builds the packages first)
# env: LVX_DEB_DIR  the packages under test, lvx_*.deb and lvx-sim_*.deb (default .build-deb)
#      VM_TIMEOUT   hard limit for the boot and the scenarios, seconds (default 600)
#      VM_ACCEL     kvm or tcg (default: kvm only where /sys/module/kvm_intel or kvm_amd exists)
# Exit status: 0 when every check passed; 1 on a failed check, a timeout or missing results.
set -eu
ROOT=$(pwd); ST=$ROOT/system-test; CACHE=$ROOT/.build-vm
DEBS=${LVX_DEB_DIR:-$ROOT/.build-deb}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

if ! command -v qemu-system-x86_64 >/dev/null || ! command -v mmdebstrap >/dev/null; then
  echo "######## system-test SKIPPED: qemu-system-x86_64 or mmdebstrap is missing (apt-get install qemu-system-x86 mmdebstrap) ########"
  exit 0
fi
for p in lvx lvx-sim; do
  [ "$(ls "$DEBS"/${p}_*.deb 2>/dev/null | wc -l)" = 1 ] ||
    { echo "system-test: expected one $DEBS/${p}_*.deb; build the packages first (make system-test does)"; exit 1; }
done

# 1. The image, rebuilt only when its inputs change.
mkdir -p "$CACHE"
KEY=$(cat "$ST/build-image.sh" "$ST/packages.txt" $(find "$ST/files" -type f | LC_ALL=C sort) | sha256sum | cut -c1-16)
IMG=$CACHE/image-$KEY
if [ ! -f "$IMG/root.img" ]; then
  echo "system-test: building the VM image $KEY (mmdebstrap; about 2 minutes)"
  t0=$(now); rm -rf "$IMG.tmp"
  "$ST/build-image.sh" "$IMG.tmp" > "$CACHE/image-build.log" 2>&1 || {
    tail -n 30 "$CACHE/image-build.log"; echo "system-test: image build failed (log: $CACHE/image-build.log)"; exit 1; }
  for old in "$CACHE"/image-*; do [ "$old" = "$IMG.tmp" ] || rm -rf "$old"; done
  mv "$IMG.tmp" "$IMG"
  echo "system-test: image built in $(secs "$t0" "$(now)") s"
else
  echo "system-test: using the cached VM image $KEY"
fi

# 2. The share: the packages and the scenarios in; results out.
SHARE=$CACHE/share; rm -rf "$SHARE"; mkdir -p "$SHARE/debs" "$SHARE/out"
cp "$DEBS"/lvx_*.deb "$DEBS"/lvx-sim_*.deb "$SHARE/debs/"
cp -r "$ST/scenarios" "$SHARE/"

# 3. Boot under a hard timeout.
ACCEL=${VM_ACCEL:-tcg}
if [ -z "${VM_ACCEL:-}" ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; } && [ -w /dev/kvm ]; then ACCEL=kvm; fi
case $ACCEL in kvm) ACCEL_ARGS="-accel kvm -cpu host" ;; *) ACCEL_ARGS="-accel tcg,thread=multi -cpu max" ;; esac
LOG=$CACHE/serial.log; rm -f "$LOG"
echo "system-test: booting ($ACCEL), timeout ${VM_TIMEOUT:-600} s; serial log $LOG"
t0=$(now); rc=0
timeout -k 10 "${VM_TIMEOUT:-600}" qemu-system-x86_64 $ACCEL_ARGS -machine q35 -smp 2 -m 1536 \
  -nodefaults -no-user-config -nographic -no-reboot -serial "file:$LOG" -monitor none \
  -kernel "$IMG/vmlinuz" -initrd "$IMG/initrd.img" \
  -append "console=ttyS0 root=/dev/vda rw panic=-1 systemd.show_status=1" \
  -drive "file=$IMG/root.img,format=raw,if=virtio,snapshot=on" \
  -virtfs "local,path=$SHARE,mount_tag=share,security_model=none,id=share" \
  -nic none || rc=$?
t1=$(now)

# 4. Results.
OUT=$SHARE/out
[ -f "$OUT/results.txt" ] && cat "$OUT/results.txt"
[ -f "$OUT/timing.txt" ] && sed 's/^/system-test: vm /' "$OUT/timing.txt"
echo "system-test: qemu exited $rc after $(secs "$t0" "$t1") s (boot, scenarios, power-off); logs in $OUT"
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then echo "system-test: FAILED: timed out after ${VM_TIMEOUT:-600} s"; tail -n 20 "$LOG"; exit 1; fi
if ! tail -n 1 "$OUT/results.txt" 2>/dev/null | grep -Eq '^[0-9]+ passed, 0 failed$'; then
  [ -f "$OUT/results.txt" ] || { echo "system-test: FAILED: no results (serial log tail follows)"; tail -n 30 "$LOG"; }
  echo "system-test: FAILED"; exit 1
fi
echo "system-test: passed"
