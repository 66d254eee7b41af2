#!/usr/bin/env bash
# The drift alert end to end, with the real programs: forja serve watches a model with a
# reference profile (window 5s), Prometheus scrapes it and evaluates `forja monitor alerts`'
# rules (drift_for 2s), Alertmanager routes what fires to a webhook. Reference-like traffic
# raises no drift alert; traffic with every feature shifted makes ForjaModelDataDrift fire in
# Prometheus and reach the webhook as Alertmanager's payload, with the model and version labels
# and the annotations. (The webhook is a small recorder here; forja server's own alerts route
# is a later slice.)
source "$(dirname "$0")/../lib/common.sh"
source "$FORJA_SOURCE/tests/lib/prometheus.sh"
source "$FORJA_SOURCE/tests/monitor/served_model.sh"

serve_monitored_model '  window: 5s
  interval: 1s
  alerts: {drift_for: 2s}'
expect_ok forja monitor alerts --out rules.yml
expect_contains "$(cat rules.yml)" "for: 2s"

# The webhook: records each POST body as one line.
python3 - "$PWD/hooks.jsonl" "$PWD/hook.port" <<'PY' &
import http.server, sys
out, portfile = sys.argv[1], sys.argv[2]
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
PY
HOOK_PID=$!
at_exit 'kill $HOOK_PID 2>/dev/null'
touch hooks.jsonl
for _ in $(seq 100); do [[ -s hook.port ]] && break; sleep 0.05; done
[[ -s hook.port ]] || { echo "FAIL: the webhook recorder did not start" >&2; exit 1; }

alertmanager_start "http://127.0.0.1:$(cat hook.port)/api/2.0/forja/alerts" || exit 1
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
expect_not_contains "$(cat hooks.jsonl)" "ForjaModelDataDrift"

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
for _ in $(seq 200); do grep -q ForjaModelDataDrift hooks.jsonl && break; sleep 0.1; done
kill "$SENDER" 2>/dev/null
wait "$SENDER" 2>/dev/null

# Alertmanager's webhook payload (version 4), as forja server will receive it.
run python3 - hooks.jsonl <<'PY'
import json, sys
seen = []
for line in open(sys.argv[1]):
    p = json.loads(line)
    assert p["version"] == "4" and p["receiver"] == "forja", p
    seen += [a for a in p["alerts"] if a["labels"]["alertname"] == "ForjaModelDataDrift"]
assert seen, "no ForjaModelDataDrift notification"
a = seen[0]
assert a["status"] == "firing", a
assert a["labels"]["model"] == "churn" and a["labels"]["version"], a["labels"]
assert a["labels"]["severity"] == "warning", a["labels"]
assert "churn version" in a["annotations"]["summary"], a["annotations"]
assert "of the monitored columns of churn/" in a["annotations"]["description"], a["annotations"]
assert a["annotations"]["runbook"], a["annotations"]
assert a["startsAt"] and a["fingerprint"], a
print("ForjaModelDataDrift reached the webhook:", a["labels"]["model"] + "/" + a["labels"]["version"],
      "-", a["annotations"]["description"])
PY
if [[ $RC -eq 0 ]]; then pass; else fail "Alertmanager's notification:"$'\n'"$OUT"$'\n'"$(cat hooks.jsonl)"; fi
echo "$OUT"

finish
