#!/usr/bin/env bash
# make test: the Prometheus rules and the Grafana dashboard in examples/ against the metrics lvx writes.
#   promtool check rules, promtool test rules (the unit tests in lvx.rules.test.yml), and every lvx_*
#   metric the rules and the dashboard name is one `lvx run --metrics-file` writes (RunSummary.metrics).
set -euo pipefail
cd "$(dirname "$0")/.."
rules=examples/prometheus/lvx.rules.yml
dashboard=examples/grafana/lvx-dashboard.json
promtool check rules "$rules"
(cd examples/prometheus && promtool test rules lvx.rules.test.yml)
python3 -m json.tool "$dashboard" >/dev/null || { echo "monitoring: $dashboard is not valid JSON"; exit 1; }
written=$(grep -oE '# TYPE lvx_[a-z_]+' Sources/LVXCore/Agent/RunSummary.swift | cut -d' ' -f3 | sort -u)
[ -n "$written" ] || { echo "monitoring: found no metric in RunSummary.swift"; exit 1; }
bad=0
for file in "$rules" "$dashboard"; do
    for name in $(grep -oE 'lvx_[a-z_]+' "$file" | sort -u); do
        if ! grep -qx "$name" <<<"$written"; then
            echo "monitoring: $file names $name, which lvx does not write (it writes: $(echo $written))"
            bad=1
        fi
    done
done
[ "$bad" = 0 ] && echo "monitoring: rules and dashboard use only the $(wc -l <<<"$written") metrics lvx writes"
exit "$bad"
