#!/usr/bin/env bash
# make bench: time lvx against lvx-sim at 2400 baud and compare with the simulator's wire time.
# Prints a table and writes bench/results/latest.md (and latest.json). Method: bench/README.md.
#   LVX_BIN_DIR   where lvx and lvx-sim are (default .build/release, what `make bench` builds)
#   extra arguments go to bench/bench.py (--runs N, --apply16 N, --only read|plan|startup|seed)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${LVX_BIN_DIR:-.build/release}
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)

# Tools: hyperfine (startup figures) and GNU time (peak RSS).
missing=""
command -v hyperfine >/dev/null 2>&1 || missing="$missing hyperfine"
[ -x /usr/bin/time ] || missing="$missing time"
if [ -n "$missing" ]; then
    echo "bench: installing:$missing"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi

# The seed program's runtime (powermon 1.0.18) for the comparison; the comparison is skipped with a
# note in the results when it cannot be made (no ../shared/seeds beside the project root, no venv).
if [ -f ../shared/seeds/000_ca02fe81a007f9d2.txt ] &&
    ! .venv-powermon/bin/python -c 'import powermon, yaml' >/dev/null 2>&1; then
    echo "bench: making .venv-powermon (pip install powermon==1.0.18)"
    { python3 -m venv .venv-powermon && .venv-powermon/bin/pip install -q powermon==1.0.18; } ||
        echo "bench: could not make .venv-powermon; the seed comparison will be skipped" >&2
fi

for exe in lvx lvx-sim; do
    if [ ! -x "$BIN/$exe" ]; then
        echo "bench: $BIN/$exe is missing; build first: swift build -c release" >&2
        exit 1
    fi
done
exec python3 bench/bench.py --bin "$BIN" "$@"
