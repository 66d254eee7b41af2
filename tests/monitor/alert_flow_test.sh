#!/usr/bin/env bash
# The drift alert end to end, with the real programs: forja serve watches a model with a
# reference profile (window 5s), Prometheus scrapes it and evaluates `forja monitor alerts`'
# rules (drift_for 2s), Alertmanager sends what fires to forja server's webhook (POST
# /api/2.0/forja/alerts). Malformed payloads are refused (400, a JSON error, nothing recorded);
# reference-like traffic raises no drift alert; traffic with every feature shifted makes
# ForjaModelDataDrift fire in Prometheus and forja server record it against churn's version,
# with the labels and the rule's annotations; a workspace's forja agent retrains on it (an
# alert trigger reading forja server).
source "$(dirname "$0")/../lib/common.sh"
source "$FORJA_SOURCE/tests/lib/prometheus.sh"
source "$FORJA_SOURCE/tests/monitor/served_model.sh"

serve_monitored_model '  window: 5s
  interval: 1s
  alerts: {drift_for: 2s}'
expect_ok forja monitor alerts --out rules.yml
expect_contains "$(cat rules.yml)" "for: 2s"

# forja server takes Alertmanager's webhook (POST /api/2.0/forja/alerts).
start_forja_server
alerts() { curl -s "$SERVER/api/2.0/forja/alerts${1-}"; }

# A malformed payload is a 400 with a JSON error, and records nothing.
bad_payload() {  # BODY, expected message
  local code
  code=$(curl -s -o "$TEST_TMP/answer.json" -w '%{http_code}' -X POST -d "$1" "$SERVER/api/2.0/forja/alerts")
  expect_eq "$code" 400
  expect_contains "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["message"])' "$TEST_TMP/answer.json")" "$2"
}
good='{"status": "firing", "fingerprint": "f1", "startsAt": "2026-01-02T03:04:05.5Z", "labels": {"alertname": "A"}}'
bad_payload 'not json' "malformed JSON"
bad_payload '{"version": "3", "alerts": []}' "not an Alertmanager webhook payload"
bad_payload '{"version": "4", "alerts": {}}' "alerts: must be a list"
bad_payload '{"version": "4", "alerts": [{"status": "burning"}]}' "alerts[0].status: must be firing or resolved"
bad_payload '{"version": "4", "alerts": [{"status": "firing", "startsAt": "2026-01-02T03:04:05Z", "labels": {"alertname": "A"}}]}' \
  "alerts[0].fingerprint: missing"
bad_payload '{"version": "4", "alerts": [{"status": "firing", "fingerprint": "f", "startsAt": "yesterday", "labels": {"alertname": "A"}}]}' \
  "alerts[0].startsAt: 'yesterday' is not an RFC 3339 time"
bad_payload '{"version": "4", "alerts": [{"status": "firing", "fingerprint": "f", "startsAt": "2026-01-02T03:04:05Z", "labels": {"model": "m"}}]}' \
  "alerts[0].labels.alertname: missing"
bad_payload '{"version": "4", "alerts": [{"status": "firing", "fingerprint": "f", "startsAt": "2026-01-02T03:04:05Z", "labels": {"alertname": 1}}]}' \
  "alerts[0].labels.alertname: must be a string"
bad_payload "{\"version\": \"4\", \"alerts\": [$good, {\"status\": \"firing\"}]}" "alerts[1].fingerprint: missing"
expect_eq "$(alerts)" '{"alerts":[]}'

alertmanager_start "$SERVER/api/2.0/forja/alerts" || exit 1
at_exit alertmanager_stop
prometheus_start --rules rules.yml --alertmanager "$AM_URL" "${SERVE#http://}" || exit 1
at_exit prometheus_stop
if prometheus_wait_for 'up{job="forja"} == 1'; then pass; else fail "Prometheus does not scrape $SERVE"; fi
rules=$(curl -s "$PROM_URL/api/v1/rules")
for a in ForjaModelDataDrift ForjaModelColumnDrift ForjaServeErrorRate ForjaModelErrorRate ForjaModelLatencyP99 \
  ForjaModelNoTraffic; do
  expect_contains "$rules" "\"name\":\"$a\""
done

# --- reference-like traffic: a full window, no drift, no drift alert -----------------------------
send_rows 0 70 || fail "sending traffic failed"
if prometheus_wait_for 'forja_model_window_rows{model="churn"} > 500'; then pass; else
  fail "the window did not fill:"$'\n'"$(curl -s "$SERVE/metrics" | grep '^forja_model_')"
fi
if prometheus_wait_for 'forja_model_dataset_drifted{model="churn"} == 0'; then pass; else fail "reference-like traffic drifted"; fi
run promtool query instant "$PROM_URL" 'ALERTS{alertname=~"ForjaModel(Data|Column)Drift"}'
expect_eq "$OUT" ""
expect_eq "$(alerts '?model=churn')" '{"alerts":[]}'

# A workspace whose forja agent retrains on churn's drift alerts, read from forja server: its
# baseline is taken now, while no alert fires, so the alert the real chain delivers is new.
AGENT_WS="$TEST_TMP/agent-ws"
mkdir -p "$AGENT_WS" && (cd "$AGENT_WS" && git init -q . && "$FORJA" -q init && cat >>forja.yaml <<'YAML'
stages:
  retrain:
    cmd: echo "retrained on $FORJA_AGENT_TRIGGER" > retrained.txt
    outs: [retrained.txt]
triggers:
  drift:
    alert: {model: churn, name: ForjaModelDataDrift}
YAML
)
FORJA_TRACKING_URI=$SERVER expect_ok forja -C "$AGENT_WS" agent --once
expect_contains "$OUT" "drift: baseline alert (none)"

# --- drifted traffic: every feature shifted by 3 standard deviations ------------------------------
"$PY" "$SEND_ROWS" "$SERVE" 3 300 &
SENDER=$!
at_exit 'kill $SENDER 2>/dev/null'
if prometheus_wait_for 'ALERTS{alertname="ForjaModelDataDrift", alertstate="firing", model="churn"}' 40; then pass; else
  fail "ForjaModelDataDrift did not fire:"$'\n'"$(promtool query instant "$PROM_URL" 'ALERTS or forja_model_dataset_drift_share')"
fi
if prometheus_wait_for 'ALERTS{alertname="ForjaModelColumnDrift", alertstate="firing", column="f0"}' 10; then pass; else
  fail "ForjaModelColumnDrift did not fire for f0"
fi
for _ in $(seq 200); do [[ $(alerts '?model=churn') == *ForjaModelDataDrift* ]] && break; sleep 0.1; done
kill "$SENDER" 2>/dev/null
wait "$SENDER" 2>/dev/null

# Recorded against the version, with Alertmanager's labels and the rule's annotations.
run python3 - "$SERVER" <<'PY'
import json, sys, urllib.request
def get(q):
    return json.load(urllib.request.urlopen(sys.argv[1] + "/api/2.0/forja/alerts" + q))["alerts"]
drift = [a for a in get("?model=churn") if a["name"] == "ForjaModelDataDrift"]
assert drift, get("")
a = drift[0]
assert a["status"] == "firing" and a["ends_at"] == 0, a
assert a["model"] == "churn" and a["version"] and a["severity"] == "warning", a
assert a["labels"]["alertname"] == "ForjaModelDataDrift" and a["labels"]["model"] == "churn", a
assert "of the monitored columns of churn/" in a["annotations"]["description"], a
assert a["annotations"]["runbook"] and a["fingerprint"] and a["starts_at"] > 0, a
assert any(x["name"] == "ForjaModelDataDrift" for x in get("?model=churn&version=" + a["version"])), a
assert not get("?model=other"), get("?model=other")
print("forja server recorded", a["name"], "for", a["model"] + "/" + a["version"], "-", a["annotations"]["description"])
PY
if [[ $RC -eq 0 ]]; then pass; else fail "the alert recorded by forja server:"$'\n'"$OUT"$'\n'"$(alerts)"; fi
echo "$OUT"

# forja agent's alert trigger fires on it: the pipeline reruns, tracked in forja server with the trigger.
FORJA_TRACKING_URI=$SERVER expect_ok forja -C "$AGENT_WS" agent --once
expect_contains "$OUT" "drift: due: alert model=churn name=ForjaModelDataDrift"
expect_contains "$OUT" "-drift ok: tracked as run"
expect_eq "$(cat "$AGENT_WS/retrained.txt")" "retrained on drift"
expect_ok forja -C "$AGENT_WS" runs list --store "$SERVER" --filter "tags.forja.agent.trigger = 'drift'" --json
expect_contains "$OUT" '"drift"'

# forja models alerts lists them, from the server and from its SQL store alike.
expect_ok forja models alerts churn --store "$SERVER"
expect_contains "$(grep ForjaModelDataDrift <<<"$OUT")" "firing"
expect_contains "$(grep ForjaModelDataDrift <<<"$OUT")" "churn/"
expect_ok forja models alerts churn --store "sqlite:///$TEST_TMP/server.db" --json
expect_contains "$OUT" '"name": "ForjaModelDataDrift"'
expect_ok forja models alerts other --store "$SERVER" --json
expect_eq "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["alerts"])' <<<"$OUT")" "[]"
expect_fail 2 forja models alerts --version 1 --store "$SERVER"
expect_contains "$OUT" "--version needs the model's NAME"

# --- with auth on: the webhook needs a write token, the list a read token ---------------------------
expect_ok forja server token create --store "sqlite:///$TEST_TMP/auth.db" --name am --role write
WRITE=$(tail -1 <<<"$OUT")
expect_ok forja server token create --store "sqlite:///$TEST_TMP/auth.db" --name viewer --role read
READ=$(tail -1 <<<"$OUT")
"$FORJA" server --port 0 --store "sqlite:///$TEST_TMP/auth.db" >"$TEST_TMP/auth-server.log" 2>&1 &
AUTH_PID=$!
at_exit 'kill $AUTH_PID 2>/dev/null; wait $AUTH_PID 2>/dev/null'
for _ in $(seq 200); do grep -q 'http://' "$TEST_TMP/auth-server.log" && break; sleep 0.05; done
AUTH=$(grep -o 'http://[0-9.]*:[0-9]*' "$TEST_TMP/auth-server.log" | head -1)
post_alert() {  # TOKEN -> the HTTP code
  curl -s -o /dev/null -w '%{http_code}' -X POST ${1:+-H "Authorization: Bearer $1"} \
    -d "{\"version\": \"4\", \"alerts\": [$good]}" "$AUTH/api/2.0/forja/alerts"
}
expect_eq "$(post_alert "")" 401
expect_eq "$(post_alert "$READ")" 403
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$AUTH/api/2.0/forja/alerts")" 401
run env FORJA_TRACKING_TOKEN=$READ "$FORJA" models alerts --store "$AUTH" --json
expect_eq "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["alerts"])' <<<"$OUT")" "[]"
expect_eq "$(post_alert "$WRITE")" 200
run env FORJA_TRACKING_TOKEN=$READ "$FORJA" models alerts --store "$AUTH"
expect_contains "$OUT" "firing"
expect_contains "$OUT" " A "

finish
