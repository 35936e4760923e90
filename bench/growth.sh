#!/usr/bin/env bash
# Repository growth in agent mode: a year of 15-minute `lvx run` commits (generated with git
# fast-import in lvx's formats), per-run commit cost fresh and after a year, repository size before
# and after lvx packs it, lvx's packing cadence, and history/dump --at/diff on the long history.
# Prints a table and writes bench/results/growth.md. Method: bench/growth/README.md.
#   LVX_BIN_DIR   where lvx and lvx-sim are (default .build/release; build them first with
#                 swift build -c release --product lvx && swift build -c release --product lvx-sim)
#   extra arguments go to bench/growth/growth.py (--runs N, --year-runs N, --cadence-days N, --keep)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${LVX_BIN_DIR:-.build/release}
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)

# GNU time (peak RSS) and strace (the commit phase; skipped when missing) and a C compiler (the
# fsync-free shim that isolates fsync's cost).
missing=""
[ -x /usr/bin/time ] || missing="$missing time"
command -v strace >/dev/null 2>&1 || missing="$missing strace"
if [ -n "$missing" ]; then
    echo "growth: installing:$missing"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing ||
        echo "growth: could not install$missing" >&2
fi
for tool in git cc python3 /usr/bin/time; do
    command -v "$tool" >/dev/null 2>&1 || { echo "growth: $tool is missing" >&2; exit 1; }
done
for exe in lvx lvx-sim; do
    if [ ! -x "$BIN/$exe" ]; then
        echo "growth: $BIN/$exe is missing; build first: swift build -c release --product $exe" >&2
        exit 1
    fi
done
exec python3 bench/growth/growth.py --bin "$BIN" "$@"
