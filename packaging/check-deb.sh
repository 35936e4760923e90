#!/usr/bin/env bash
# make deb-check: lintian (failing on errors) and the contents of both packages.
set -euo pipefail
cd "$(dirname "$0")/.."

SCRATCH=${SCRATCH:-.build-deb}
version=$(sed -nE 's/^ *static let version = "([^"]+)"$/\1/p' Sources/lvx/LVXCommand.swift)
arch=$(dpkg --print-architecture)
lvx=$SCRATCH/lvx_${version}_${arch}.deb
sim=$SCRATCH/lvx-sim_${version}_${arch}.deb
failed=0
fail() { echo "deb-check: $*"; failed=1; }

echo "deb-check: lintian $lvx $sim"
# Overrides: none. The warnings it prints are explained in packaging/README.md.
lintian --fail-on error --display-info "$lvx" "$sim" || fail "lintian reports errors"

# contains DEB PATH...: each path is in the package's file list.
contains() {
    local deb=$1 listing
    shift
    listing=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
    for path in "$@"; do
        grep -qxF "$path" <<<"$listing" || fail "$(basename "$deb") lacks $path"
    done
}
contains "$lvx" /usr/bin/lvx \
    /usr/lib/systemd/system/lvx-run.service /usr/lib/systemd/system/lvx-run.timer \
    /usr/lib/systemd/system/lvx-run-failed@.service \
    /usr/lib/udev/rules.d/99-lvx.rules /usr/lib/sysusers.d/lvx.conf /usr/lib/tmpfiles.d/lvx.conf \
    /usr/share/polkit-1/rules.d/50-lvx.rules \
    /usr/share/bash-completion/completions/lvx /usr/share/zsh/vendor-completions/_lvx \
    /usr/share/fish/vendor_completions.d/lvx.fish /usr/share/man/man1/lvx.1.gz \
    /usr/share/doc/lvx/Operations.md.gz /usr/share/doc/lvx/copyright /usr/share/doc/lvx/changelog.gz
contains "$sim" /usr/bin/lvx-sim /usr/share/man/man1/lvx-sim.1.gz \
    /usr/share/doc/lvx-sim/copyright /usr/share/doc/lvx-sim/changelog.gz
if dpkg-deb -c "$lvx" | grep -q "lvx-sim"; then fail "lvx carries the simulator"; fi

depends=$(dpkg-deb -f "$lvx" Depends)
for library in libgit2- libyaml- libsystemd0 "git," openssh-client; do
    grep -qF "$library" <<<"$depends" || fail "lvx's Depends lacks $library: $depends"
done
if grep -q "libswift\|libFoundation" <<<"$depends"; then fail "lvx depends on a Swift runtime library: $depends"; fi

# The units run the packaged binary; the binary is stripped and reports the package's version.
file() { dpkg-deb --fsys-tarfile "$1" | tar -xO ".$2"; }
for unit in lvx-run.service; do
    if file "$lvx" "/usr/lib/systemd/system/$unit" | grep -E "^Exec" | grep -v "/usr/bin/lvx "; then
        fail "$unit runs something other than /usr/bin/lvx"
    fi
done
for unit in lvx-run.service lvx-run.timer lvx-run-failed@.service; do
    if file "$lvx" "/usr/lib/systemd/system/$unit" | grep -n "/usr/local"; then fail "$unit names /usr/local"; fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$lvx" "$tmp"
if LC_ALL=C readelf -S "$tmp/usr/bin/lvx" | grep -q "\.debug_info\|\.symtab"; then fail "/usr/bin/lvx is not stripped"; fi
reported=$("$tmp/usr/bin/lvx" --version)
[ "$reported" = "$version" ] || fail "/usr/bin/lvx --version says '$reported', the package $version"
if command -v systemd-analyze >/dev/null 2>&1; then
    # The units as packaged, against the packaged binary.
    sed -i "s|/usr/bin/lvx|$tmp/usr/bin/lvx|g" "$tmp"/usr/lib/systemd/system/*
    if ! verified=$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no \
        "$tmp"/usr/lib/systemd/system/lvx-run.service "$tmp"/usr/lib/systemd/system/lvx-run.timer 2>&1) ||
        [ -n "$verified" ]; then
        fail "systemd-analyze verify of the packaged units: $verified"
    fi
fi

if [ "$failed" -ne 0 ]; then echo "deb-check: FAILED"; exit 1; fi
echo "deb-check: both packages pass: lintian has no errors, every file is in place"
