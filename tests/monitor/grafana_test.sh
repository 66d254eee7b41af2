#!/usr/bin/env bash
# forja monitor grafana: the provisioning folder, its dashboards checked against Grafana's
# published dashboard model (grafana_check.py says how, and why Grafana itself is not started),
# and every PromQL expression of every panel and variable evaluated by a real Prometheus
# (tests/lib/prometheus.sh): each must parse and return data, after Prometheus has scraped a
# real `forja serve` (with a reference profile) and `forja server` under traffic.
source "$(dirname "$0")/../lib/common.sh"
source "$FORJA_SOURCE/tests/lib/prometheus.sh"
source "$FORJA_SOURCE/tests/monitor/served_model.sh"
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

# Credentials in the URL go into the data source file (Grafana needs them) but never to the terminal.
expect_ok forja monitor grafana --out prov3 --prometheus-url http://u:s3cret@prometheus:9090
expect_not_contains "$OUT" "s3cret"
expect_contains "$OUT" "http://u:***@prometheus:9090"
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
serve_monitored_model '  window: 30s
  interval: 1s'

# And forja server, for the tracking dashboard.
start_forja_server

prometheus_start "${SERVE#http://}" "${SERVER#http://}" || exit 1
at_exit prometheus_stop
if prometheus_wait_for 'count(up{job="forja"} == 1) == 2'; then pass; else
  fail "Prometheus does not scrape forja serve at $SERVE and forja server at $SERVER:"$'\n'"$(cat "$PROM_LOG")"
fi

# Traffic across several scrapes (so that rate() has two points): inference, with one bad
# request (400); a run logging metrics; a model registered and promoted.
send_rows 0 40 || fail "sending traffic failed"
curl -s -o /dev/null -X POST -d '{"inputs": 1}' "$SERVE/v2/models/churn/infer"
run_id=$(curl -s -X POST -d '{"experiment_id": "0"}' "$SERVER/api/2.0/mlflow/runs/create" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["run"]["info"]["run_id"])')
if [[ -n $run_id ]]; then pass; else fail "no run created on $SERVER"; fi
for step in $(seq 20); do
  curl -sf -o /dev/null -X POST -d "{\"run_id\": \"$run_id\", \"key\": \"auc\", \"value\": 0.$step, \"timestamp\": 0, \"step\": $step}" \
    "$SERVER/api/2.0/mlflow/runs/log-metric" || fail "log-metric refused"
  sleep 0.1
done
expect_ok forja models register --store "$SERVER" churn "$TEST_TMP/churn"
expect_ok forja models promote --store "$SERVER" churn 1 --to production
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
  # After the traffic every query returns data.
  if [[ $OUT != "[]" && -n $OUT ]]; then pass; else fail "$dashboard / $panel: no data for $expr"; fi
done <"$TEST_TMP/queries.tsv"
echo "$n queries evaluated"
if ((n >= 25)); then pass; else fail "only $n queries in the dashboards"; fi

finish
