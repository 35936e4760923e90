#!/bin/sh
# Build the system-test VM image: a Debian 12 root filesystem from mmdebstrap, made into an ext4 image.
# usage: system-test/build-image.sh OUTDIR   (root, Debian host; ~100 s, ~140 MB download)
# Writes OUTDIR/root.img, OUTDIR/vmlinuz, OUTDIR/initrd.img. The image holds no project code: the
# binaries and the scenarios come in over 9p at boot, so only this script, packages.txt and files/
# decide whether the cached image is still good (system-test/run.sh hashes them).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$1; R=$OUT/rootfs
SOURCES=${SOURCES:-$(ls /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list 2>/dev/null | head -n 1)}
PACKAGES=$(grep -v '^#' "$HERE/packages.txt" | tr -s '\n ' ',,' | sed 's/^,//; s/,$//')
rm -rf "$R"; mkdir -p "$OUT"
# 1. root filesystem (the archive this machine's apt already uses)
mmdebstrap --variant=minbase --aptopt='APT::Install-Recommends "false"' --include="$PACKAGES" \
  bookworm "$R" "$SOURCES"
# 2. the harness unit, the stand-in service, boot tuning
install -m755 "$HERE/files/vm-harness" "$R/usr/local/sbin/vm-harness"
install -m644 "$HERE/files/vm-harness.service" "$R/etc/systemd/system/"
ln -sf /etc/systemd/system/vm-harness.service "$R/etc/systemd/system/multi-user.target.wants/"
echo 0123456789abcdef0123456789abcdef > "$R/etc/machine-id"   # non-empty: no first-boot logic
echo lvxtest > "$R/etc/hostname"
printf '/dev/vda / ext4 rw,errors=remount-ro 0 0\n' > "$R/etc/fstab"   # passno 0: no fsck
ln -sf multi-user.target "$R/etc/systemd/system/default.target"
rm -f "$R"/etc/systemd/system/timers.target.wants/* "$R/etc/systemd/system/multi-user.target.wants/e2scrub_reap.service" \
      "$R/etc/systemd/system/getty.target.wants/getty@tty1.service"
for u in systemd-pstore.service systemd-binfmt.service proc-sys-fs-binfmt_misc.automount sys-kernel-debug.mount \
         sys-kernel-tracing.mount serial-getty@ttyS0.service getty@.service systemd-update-utmp.service \
         systemd-update-utmp-runlevel.service systemd-tmpfiles-clean.timer apt-daily.timer \
         apt-daily-upgrade.timer fstrim.timer; do
  ln -sf /dev/null "$R/etc/systemd/system/$u"; done
# 3. a small initrd (virtio_pci, virtio_blk, ext4 only): 7 MB instead of 36 MB, ~8 s less under TCG
KVER=$(ls "$R"/boot/vmlinuz-* | sed 's|.*/vmlinuz-||' | tail -1)
rm -rf "$R/tmp/irs"; cp -r "$HERE/files/initramfs-small" "$R/tmp/irs"
mkdir -p "$R/tmp/irs/conf.d" "$R/tmp/irs/hooks" "$R/tmp/irs/scripts"
chroot "$R" mkinitramfs -d /tmp/irs -o /boot/initrd-small.img "$KVER"; rm -rf "$R/tmp/irs"
cp "$R/boot/vmlinuz-$KVER" "$OUT/vmlinuz"; cp "$R/boot/initrd-small.img" "$OUT/initrd.img"
# 4. the ext4 image straight from the directory (no loop mount)
mkfs.ext4 -q -F -L root -d "$R" "$OUT/root.img" 1536M
rm -rf "$R"
echo "built $OUT/root.img (kernel $KVER)"
