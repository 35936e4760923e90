#!/usr/bin/env bash
# The fleet benchmark (bench/fleet/fleet.py): lvx fleet status over many site branches of one
# upstream, agents racing a person's pushes, and a year of 100 sites with real agents on it.
# Writes bench/results/fleet.md.
#   bench/fleet.sh [--sites 100] [--days 7] [--race-sites 4] [--rounds 60] [--year-sites 100]
#                  [--year-passes 10] [--year-upstream DIR] [--parts reading,racing,year]
# env: LVX_BIN_DIR  where lvx and lvx-sim are (default .build/release; `make bench` builds them)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${LVX_BIN_DIR:-.build/release}
exec python3 bench/fleet/fleet.py --lvx "$PWD/$BIN/lvx" --sim "$PWD/$BIN/lvx-sim" "$@"
