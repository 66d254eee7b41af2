#!/usr/bin/env bash
# forja monitor alerts: the rules file passes Prometheus' own checks (promtool check rules), and
# promtool test rules proves each alert fires on a bad series and stays quiet on a good one,
# with the annotations rendered as Prometheus renders them. Thresholds come from forja.yaml's
# monitoring.alerts (read as forja serve reads it); bad ones are refused with the file, line and key.
source "$(dirname "$0")/../lib/common.sh"

if ! command -v promtool >/dev/null; then
  echo "FAIL: promtool is missing (Debian's prometheus package); run scripts/setup" >&2
  exit 1
fi

mkdir -p "$TEST_TMP/outside" && cd "$TEST_TMP/outside" || exit 1

# --- defaults outside a workspace, checked by promtool ---------------------------------------
expect_ok forja monitor alerts --out rules.yml
expect_contains "$OUT" "Wrote Prometheus alerting rules to rules.yml"
run promtool check rules rules.yml
expect_eq "$RC" 0
expect_contains "$OUT" "SUCCESS: 7 rules found"

# --- promtool test rules: each alert fires on the bad series, not on the good one -------------
# The summaries and descriptions are written out here (what an on-call person reads); the
# runbooks are taken from the rules with their {{ $labels.x }} filled in.
cat >cases.yml <<'YAML'
drift:
  input_series:
    # churn/3 drifts from the start (75% of its columns); churn/2 never; fraud/1 for 3 minutes only.
    - {series: 'forja_model_dataset_drifted{model="churn",version="3"}', values: '1x30'}
    - {series: 'forja_model_dataset_drift_share{model="churn",version="3"}', values: '0.75x30'}
    - {series: 'forja_model_dataset_drifted{model="churn",version="2"}', values: '0x30'}
    - {series: 'forja_model_dataset_drift_share{model="churn",version="2"}', values: '0.25x30'}
    - {series: 'forja_model_dataset_drifted{model="fraud",version="1"}', values: '0 1 1 1 0x26'}
    - {series: 'forja_model_dataset_drift_share{model="fraud",version="1"}', values: '0.1 0.6 0.6 0.6 0.1x26'}
    # column age drifts (Wasserstein 0.42); column income does not.
    - {series: 'forja_model_column_drifted{model="churn",version="3",column="age"}', values: '1x30'}
    - {series: 'forja_model_drift_score{model="churn",version="3",column="age",method="wasserstein"}', values: '0.42x30'}
    - {series: 'forja_model_column_drifted{model="churn",version="3",column="income"}', values: '0x30'}
    - {series: 'forja_model_drift_score{model="churn",version="3",column="income",method="wasserstein"}', values: '0.01x30'}
  checks:
    - {alert: ForjaModelDataDrift, at: 5m, fires: []}   # pending, not yet 10m
    - alert: ForjaModelDataDrift
      at: 15m
      fires:
        - labels: {severity: warning, model: churn, version: "3"}
          summary: "churn version 3: the data it scores has drifted from its reference"
          description: "75% of the monitored columns of churn/3 drift from the reference profile (the dataset threshold is reached), for 10m now."
    - alert: ForjaModelColumnDrift
      at: 15m
      fires:
        - labels: {severity: info, model: churn, version: "3", column: age, method: wasserstein}
          summary: "churn version 3: column age drifted"
          description: "Column age of churn/3 drifts from the reference (wasserstein score 0.42), for 10m now."
serving:
  input_series:
    # serve a: 10 errors in 110 answers a minute; serve b: 1 in 101.
    - {series: 'forja_serve_http_responses_total{instance="a:8080",job="forja",code="200"}', values: '0+100x60'}
    - {series: 'forja_serve_http_responses_total{instance="a:8080",job="forja",code="500"}', values: '0+10x60'}
    - {series: 'forja_serve_http_responses_total{instance="b:8080",job="forja",code="200"}', values: '0+100x60'}
    - {series: 'forja_serve_http_responses_total{instance="b:8080",job="forja",code="500"}', values: '0+1x60'}
    # churn/3: 10% of its requests fail; churn/2: none fail, and it gets no request at all.
    - {series: 'forja_serve_requests_total{instance="a:8080",job="forja",model="churn",version="3",code="200"}', values: '0+90x60'}
    - {series: 'forja_serve_requests_total{instance="a:8080",job="forja",model="churn",version="3",code="500"}', values: '0+10x60'}
    - {series: 'forja_serve_requests_total{instance="a:8080",job="forja",model="churn",version="2",code="200"}', values: '7x60'}
    - {series: 'forja_serve_model_info{instance="a:8080",job="forja",model="churn",version="3",ref="churn@production",platform="xgboost",role="primary"}', values: '1x60'}
    - {series: 'forja_serve_model_info{instance="a:8080",job="forja",model="churn",version="2",ref="churn/2",platform="xgboost",role="shadow"}', values: '1x60'}
    # churn/3 answers in (0.5, 1] s; fraud/1 within 0.1 s.
    - {series: 'forja_serve_request_duration_seconds_bucket{instance="a:8080",job="forja",model="churn",version="3",le="0.5"}', values: '0x60'}
    - {series: 'forja_serve_request_duration_seconds_bucket{instance="a:8080",job="forja",model="churn",version="3",le="1"}', values: '0+10x60'}
    - {series: 'forja_serve_request_duration_seconds_bucket{instance="a:8080",job="forja",model="churn",version="3",le="+Inf"}', values: '0+10x60'}
    - {series: 'forja_serve_request_duration_seconds_bucket{instance="a:8080",job="forja",model="fraud",version="1",le="0.1"}', values: '0+10x60'}
    - {series: 'forja_serve_request_duration_seconds_bucket{instance="a:8080",job="forja",model="fraud",version="1",le="0.5"}', values: '0+10x60'}
    - {series: 'forja_serve_request_duration_seconds_bucket{instance="a:8080",job="forja",model="fraud",version="1",le="+Inf"}', values: '0+10x60'}
  checks:
    - alert: ForjaServeErrorRate
      at: 10m
      fires:
        - labels: {severity: critical, instance: "a:8080", job: forja}
          summary: "forja serve on a:8080 answers 9.091% of requests with 5xx"
          description: "More than 0.05 of the HTTP answers of forja serve on a:8080 were server errors over the last 5m (all routes, all models)."
    - alert: ForjaModelErrorRate
      at: 10m
      fires:
        - labels: {severity: critical, instance: "a:8080", job: forja, model: churn, version: "3"}
          summary: "churn version 3 answers 10% of its requests with 5xx"
          description: "More than 0.05 of the inference requests to churn/3 failed with a server error over the last 5m."
    - alert: ForjaModelLatencyP99
      at: 10m
      fires:
        - labels: {severity: warning, instance: "a:8080", job: forja, model: churn, version: "3"}
          summary: "churn version 3: p99 latency 995ms"
          description: "The 99th percentile of the time forja serve takes to answer churn/3 is above 0.5 s over the last 5m."
    - {alert: ForjaModelNoTraffic, at: 20m, fires: []}  # pending, not yet 30m
    - alert: ForjaModelNoTraffic
      at: 45m
      fires:
        - labels: {severity: warning, instance: "a:8080", job: forja, model: churn, version: "2", ref: churn/2, platform: xgboost, role: shadow}
          summary: "churn version 2 has had no request for 30m"
          description: "forja serve on a:8080 has churn/2 loaded (shadow) but answered no request for it in 30m."
staleness:
  input_series:
    # churn/3 is stale for its age from the start; churn/2 never; fraud/1 for its data's age, 2 minutes only.
    - {series: 'forja_model_stale_reason{model="churn",version="3",reason="model_age"}', values: '1x30'}
    - {series: 'forja_model_stale_reason{model="churn",version="3",reason="drift"}', values: '0x30'}
    - {series: 'forja_model_stale_reason{model="churn",version="2",reason="model_age"}', values: '0x30'}
    - {series: 'forja_model_stale_reason{model="fraud",version="1",reason="data_age"}', values: '0 1 1 0x27'}
  checks:
    - {alert: ForjaModelStale, at: 3m, fires: []}   # pending, not yet 5m
    - alert: ForjaModelStale
      at: 10m
      fires:
        - labels: {severity: warning, model: churn, version: "3", reason: model_age}
          summary: "churn version 3 is stale: model_age"
          description: "forja serve finds churn/3 stale for the reason model_age (forja.yaml's monitoring.staleness thresholds), for 5m now."
YAML

# to_promtool.py RULES CASES: promtool's test file for the cases (also used for the quality rules below).
cat >"$TEST_TMP/to_promtool.py" <<'PY'
import re, sys, yaml
rules = {r["alert"]: r for g in yaml.safe_load(open(sys.argv[1]))["groups"] for r in g["rules"]}
cases = yaml.safe_load(open(sys.argv[2]))
tests = []
for name, case in cases.items():
    checks = []
    for c in case["checks"]:
        exp = []
        for f in c["fires"]:
            labels = {k: str(v) for k, v in f["labels"].items()}
            runbook = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels.get(m.group(1), ""),
                             rules[c["alert"]]["annotations"]["runbook"])
            exp.append({"exp_labels": labels, "exp_annotations": {
                "summary": f["summary"], "description": f["description"], "runbook": runbook}})
        checks.append({"eval_time": c["at"], "alertname": c["alert"], "exp_alerts": exp})
    tests.append({"name": name, "interval": "1m", "input_series": case["input_series"], "alert_rule_test": checks})
yaml.safe_dump({"rule_files": [sys.argv[1]], "evaluation_interval": "1m", "tests": tests}, sys.stdout, sort_keys=False)
PY
python3 "$TEST_TMP/to_promtool.py" rules.yml cases.yml >rules_test.yml
expect_eq "$?" 0
run promtool test rules rules_test.yml
if [[ $RC -eq 0 ]]; then pass; else fail "promtool test rules failed:"$'\n'"$OUT"; fi

# Every alert has a case that makes it fire.
for a in $(sed -n 's/^ *- alert: //p' rules.yml); do
  if grep -q "alert: $a\$" cases.yml; then pass; else fail "no promtool case fires $a"; fi
done

# --- thresholds from forja.yaml ----------------------------------------------------------------
new_repo ws
cat >>forja.yaml <<'YAML'
monitoring:
  alerts: {drift_for: 20m, error_rate: 0.01, p99_seconds: 0.25, no_traffic_for: 2h}
YAML
expect_ok forja monitor alerts --out rules.yml
expect_ok promtool check rules rules.yml
rules=$(cat rules.yml)
expect_contains "$rules" "for: 20m"
expect_contains "$rules" "> 0.01"
expect_contains "$rules" "> 0.25"
expect_contains "$rules" "for: 2h"
expect_not_contains "$rules" "for: 10m"
# A number is seconds, as forja serve reads the section.
sed -i '/^monitoring:/,$d' forja.yaml
printf 'monitoring:\n  alerts: {drift_for: 90}\n' >>forja.yaml
expect_ok forja monitor alerts --out rules.yml
expect_contains "$(cat rules.yml)" "for: 1m30s"

# Bad thresholds: one error line naming the file, line and key; nothing written.
bad_threshold() {  # YAML for alerts:, expected message
  sed -i '/^monitoring:/,$d' forja.yaml
  printf 'monitoring:\n  alerts: %s\n' "$1" >>forja.yaml
  rm -f bad.yml
  expect_fail 1 forja monitor alerts --out bad.yml
  expect_contains "$OUT" "$2"
  expect_one_error_line "$OUT"
  if [[ ! -e bad.yml ]]; then pass; else fail "bad.yml written despite the error"; fi
}
bad_threshold '{error_rate: 5}' "monitoring.alerts.error_rate: must be between 0 and 1"
bad_threshold '{drift_for: soon}' "monitoring.alerts.drift_for: 'soon' is not a duration"
bad_threshold '{p99_seconds: fast}' "monitoring.alerts.p99_seconds: 'fast' is not a number"
bad_threshold '{quality_below: 0.9}' "monitoring.alerts.quality_below: unknown setting"
bad_threshold '[1, 2]' "monitoring.alerts: must be a mapping"
expect_contains "$OUT" "forja.yaml:"

# --- quality from feedback against the production gates ----------------------------------------
# One rule per production gate on a quality metric (either side; gates against another version's
# run, and metrics that are not quality ones, are left out); it fires with enough labels only.
sed -i '/^monitoring:/,$d' forja.yaml
cat >>forja.yaml <<'YAML'
models:
  churn: {gates: {production: [metrics.accuracy >= 0.9, metrics.auc >= production.metrics.auc, "params.x == 'y'"]}}
  "*": {gates: {production: ["0.5 >= metrics.rmse", metrics.f1 >= 0.5]}}
monitoring:
  alerts: {quality_for: 10m, quality_min_labels: 20}
YAML
expect_ok forja monitor alerts --out quality.yml
expect_contains "$OUT" "2 quality gates"
run promtool check rules quality.yml
expect_eq "$RC" 0
cat >quality_cases.yml <<'YAML'
quality:
  input_series:
    # churn/3: accuracy 0.8 on 100 labels; churn/2: 0.95; churn/4: 0.5 on 5 labels only (not judged);
    # fraud/1: RMSE 0.7 (every model's gate); churn/3's recall has no gate.
    - {series: 'forja_model_quality{model="churn",version="3",metric="accuracy"}', values: '0.8x30'}
    - {series: 'forja_model_quality{model="churn",version="3",metric="recall"}', values: '0.1x30'}
    - {series: 'forja_model_quality_window_labels{model="churn",version="3"}', values: '100x30'}
    - {series: 'forja_model_quality{model="churn",version="2",metric="accuracy"}', values: '0.95x30'}
    - {series: 'forja_model_quality_window_labels{model="churn",version="2"}', values: '100x30'}
    - {series: 'forja_model_quality{model="churn",version="4",metric="accuracy"}', values: '0.5x30'}
    - {series: 'forja_model_quality_window_labels{model="churn",version="4"}', values: '5x30'}
    - {series: 'forja_model_quality{model="fraud",version="1",metric="rmse"}', values: '0.7x30'}
    - {series: 'forja_model_quality_window_labels{model="fraud",version="1"}', values: '50x30'}
  checks:
    - {alert: ForjaModelQualityBelowGate, at: 5m, fires: []}   # pending, not yet 10m
    - alert: ForjaModelQualityBelowGate
      at: 15m
      fires:
        - labels: {severity: warning, gate: "metrics.accuracy >= 0.9", model: churn, version: "3", metric: accuracy}
          summary: "churn version 3: accuracy from feedback fails the production gate"
          description: "The accuracy of churn/3 from the labels posted to /feedback is 0.8, below 0.9 (the production gate of churn: metrics.accuracy >= 0.9), for 10m now."
        - labels: {severity: warning, gate: "0.5 >= metrics.rmse", model: fraud, version: "1", metric: rmse}
          summary: "fraud version 1: rmse from feedback fails the production gate"
          description: "The rmse of fraud/1 from the labels posted to /feedback is 0.7, above 0.5 (the production gate of every model: 0.5 >= metrics.rmse), for 10m now."
YAML
python3 "$TEST_TMP/to_promtool.py" quality.yml quality_cases.yml >quality_test.yml
expect_eq "$?" 0
run promtool test rules quality_test.yml
if [[ $RC -eq 0 ]]; then pass; else fail "promtool test rules (quality) failed:"$'\n'"$OUT"; fi
# Outside the models section nothing changes: no gates, no quality rules (checked above: the defaults).

# --out is required.
expect_fail 2 forja monitor alerts
expect_contains "$OUT" "--out"

finish
