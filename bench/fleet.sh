#!/usr/bin/env bash
# The fleet benchmark (bench/fleet/fleet.py): lvx fleet status over many site branches of one
# upstream, and agents racing a person's pushes. Writes bench/results/fleet.md.
#   bench/fleet.sh [--sites 100] [--days 7] [--race-sites 12] [--rounds 8]
# env: LVX_BIN_DIR  where lvx and lvx-sim are (default .build/release; `make bench` builds them)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${LVX_BIN_DIR:-.build/release}
exec python3 bench/fleet/fleet.py --lvx "$PWD/$BIN/lvx" --sim "$PWD/$BIN/lvx-sim" "$@"
