#!/usr/bin/env bash
# forja monitor grafana: the provisioning folder, its dashboards checked against Grafana's
# published dashboard model (grafana_check.py says how, and why Grafana itself is not started),
# and every PromQL expression of every panel and variable evaluated by a real Prometheus
# (tests/lib/prometheus.sh): each must parse and evaluate. The serving and model health
# dashboards' queries must also return data, after Prometheus has scraped a real `forja serve`
# (with a reference profile) under traffic.
source "$(dirname "$0")/../lib/common.sh"
source "$FORJA_SOURCE/tests/lib/prometheus.sh"

PY=$FORJA_SOURCE/.venv/bin/python
cd "$TEST_TMP" || exit 1

# --- the files -----------------------------------------------------------------------------------
expect_ok forja monitor grafana --out prov --prometheus-url http://prometheus:9090
expect_contains "$OUT" "Wrote Grafana provisioning to prov"
for f in datasources/forja-prometheus.yaml dashboards/provider.yaml dashboards/forja-serving.json \
  dashboards/forja-model-health.json dashboards/forja-tracking.json; do
  if [[ -s prov/$f ]]; then pass; else fail "prov/$f was not written"; fi
done
expect_contains "$(cat prov/datasources/forja-prometheus.yaml)" 'url: "http://prometheus:9090"'
expect_contains "$(cat prov/dashboards/provider.yaml)" 'path: "/etc/grafana/provisioning/dashboards"'

# Written again over an existing folder: the same bytes (no timestamps, stable ids).
expect_ok forja monitor grafana --out prov2 --prometheus-url http://prometheus:9090
expect_ok forja monitor grafana --out prov2 --prometheus-url http://prometheus:9090
run diff -r prov prov2
expect_eq "$RC" 0

expect_fail 2 forja monitor grafana --out bad --prometheus-url localhost:9090
expect_contains "$OUT" "--prometheus-url: must be an http:// or https:// URL"
expect_fail 2 forja monitor grafana
expect_contains "$OUT" "--out"

# --- Grafana's published dashboard model -------------------------------------------------------
run "$PY" "$FORJA_SOURCE/tests/monitor/grafana_check.py" prov "$TEST_TMP/queries.tsv"
if [[ $RC -eq 0 ]]; then pass; else fail "the dashboards do not fit Grafana's dashboard model:"$'\n'"$OUT"; fi
echo "$OUT"

# --- every query against Prometheus scraping a real forja serve ---------------------------------
# A workspace whose forja.yaml gives the served model a reference profile, so that forja serve
# exports the drift series too (window 30s, refreshed every second).
new_repo ws
# An xgboost package of 8 features (tests/serve/harness.py trains it with the venv's xgboost),
# and its reference data: columns f0..f7 and the label.
"$PY" - "$FORJA_SOURCE/tests/serve" "$TEST_TMP/churn" ref.csv <<'PY' || { echo "FAIL: could not make the test model" >&2; exit 1; }
import csv, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import harness
harness.make_package(sys.argv[2])
x = np.random.default_rng(1).normal(size=(1000, harness.FEATURES))
with open(sys.argv[3], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow([f"f{j}" for j in range(harness.FEATURES)] + ["label"])
    w.writerows([list(r) + [int(r[0] > 0)] for r in x])
PY
expect_ok forja monitor profile "$TEST_TMP/churn" --data ref.csv --target label --out churn-profile.json
cat >>forja.yaml <<'YAML'
monitoring:
  window: 30s
  interval: 1s
  models: {churn: {profile: churn-profile.json}}
YAML
# "$FORJA", not the forja() function: $! must be the server itself.
"$FORJA" serve --port 0 "$TEST_TMP/churn" >serve.log 2>&1 &
SERVE_PID=$!
at_exit 'kill $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null'
for _ in $(seq 200); do grep -q 'forja serve on http://' serve.log && break; sleep 0.05; done
SERVE=$(grep -o 'http://[0-9.]*:[0-9]*' serve.log | head -1)
[[ -n $SERVE ]] || { cat serve.log; echo "FAIL: forja serve did not start" >&2; exit 1; }

prometheus_start "${SERVE#http://}" || exit 1
at_exit prometheus_stop
up=""
for _ in $(seq 100); do
  up=$(promtool query instant "$PROM_URL" 'up{job="forja"} == 1' 2>/dev/null)
  [[ -n $up ]] && break
  sleep 0.1
done
if [[ -n $up ]]; then pass; else fail "Prometheus does not scrape forja serve at $SERVE:"$'\n'"$(cat "$PROM_LOG")"; fi

# Traffic across several scrapes (so that rate() has two points), with one bad request (400).
infer='{"inputs": [{"name": "features", "datatype": "FP32", "shape": [2, 8], "data": [1, 2, 3, 4, 5, 6, 7, 8, 8, 7, 6, 5, 4, 3, 2, 1]}]}'
for _ in $(seq 40); do
  curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -d "$infer" "$SERVE/v2/models/churn/infer"
  sleep 0.1
done
curl -s -o /dev/null -X POST -d '{"inputs": 1}' "$SERVE/v2/models/churn/infer"
sleep 3

n=0
while IFS=$'\t' read -r dashboard panel expr; do
  n=$((n + 1))
  run promtool query instant -o json "$PROM_URL" "$expr"
  if [[ $RC -ne 0 ]]; then
    fail "$dashboard / $panel: Prometheus refused $expr:"$'\n'"$OUT"
    continue
  fi
  pass
  # Serving and model health: forja serve exports these; after traffic each must return data.
  # (Tracking's come from forja server, not started here: those must parse and evaluate.)
  if [[ $dashboard == forja-serving || $dashboard == forja-model-health ]]; then
    if [[ $OUT != "[]" && -n $OUT ]]; then pass; else fail "$dashboard / $panel: no data for $expr"; fi
  fi
done <"$TEST_TMP/queries.tsv"
echo "$n queries evaluated"
if ((n >= 25)); then pass; else fail "only $n queries in the dashboards"; fi

finish
