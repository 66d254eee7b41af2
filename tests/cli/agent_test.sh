#!/usr/bin/env bash
# forja agent, as a user runs it: a workspace with a pipeline and triggers of every
# kind the agent watches here (interval, new data, git push), driven with
# `forja agent --once` and the FORJA_AGENT_NOW testing hook instead of waiting;
# registration and promotion after a run, a failing pipeline (webhook, nothing
# registered), the agent killed with -9 mid-run (interrupted, not run twice), the
# long-running agent stopped with SIGTERM, and malformed triggers as one error line.
#
# Notifications go to a local HTTP server started here that records each request: no
# Slack here; the body is Slack's incoming-webhook shape, {"text": "..."}.
source "$(dirname "$0")/../lib/common.sh"

export AGENT_TEST_TMP=$TEST_TMP
T0=1796000000  # 2026-11-30T00:53:20Z: the fake clock's start

# ---- the webhook receiver --------------------------------------------------------------
cat >"$TEST_TMP/hook.py" <<'EOF'
import http.server, json, sys
log, portfile = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        with open(log, "a") as f:
            f.write(json.dumps({"method": "POST", "path": self.path,
                                "content_type": self.headers.get("Content-Type"), "body": body}) + "\n")
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(portfile + ".tmp", "w").write(str(s.server_address[1])); __import__("os").rename(portfile + ".tmp", portfile)
s.serve_forever()
EOF
python3 "$TEST_TMP/hook.py" "$TEST_TMP/hooks.jsonl" "$TEST_TMP/hook.port" &
HOOK_PID=$!
at_exit "kill $HOOK_PID"
for _ in $(seq 100); do [[ -f $TEST_TMP/hook.port ]] && break; sleep 0.1; done
HOOK_PORT=$(cat "$TEST_TMP/hook.port")
touch "$TEST_TMP/hooks.jsonl"

# ---- a workspace with a pipeline, a dataset and a bare remote ------------------------------
new_repo agent
git branch -M main
mkdir -p data conf
printf 'x,y\n1,2\n' >data/train.csv
expect_ok forja add data/train.csv
printf 'model:\n  auc: 0.85\n' >conf/config.yaml
cat >train.sh <<'EOF'
echo start >>"$AGENT_TEST_TMP/starts"
while [ -f "$AGENT_TEST_TMP/hold" ]; do sleep 0.05; done
if [ -f "$AGENT_TEST_TMP/fail" ]; then echo "training blew up" >&2; exit 3; fi
auc=$(grep auc "$FORJA_PARAMS" | awk '{print $2}')
sh "$FORJA_SOURCE/tests/lib/test_package.sh" pkg
printf '{"auc": %s}\n' "$auc" >metrics.json
echo done >>"$AGENT_TEST_TMP/finished"
EOF
cat >>forja.yaml <<EOF

tracking:
  experiment: agent-exp

stages:
  train:
    cmd: sh train.sh
    deps: [train.sh, data/train.csv]
    params: [model]
    outs: [pkg]
    metrics: [{metrics.json: {cache: false}}]

agent:
  poll: 1m
  notify: {webhook: "http://127.0.0.1:$HOOK_PORT/hooks/forja", on: [failure, promotion]}

triggers:
  every:
    interval: 15m
    register: {model: churn, path: pkg}
    promote: {to: staging}
  newdata:
    data: data/train.csv
    retries: 1
    backoff: 1m
  committed:
    data: data/train.csv
    branch: main
  pushed-data:
    data: {remote: store}
  pushed:
    git: {remote: origin, branch: main}
  drift:
    alert: {model: churn, name: ForjaModelDataDrift}
EOF
expect_ok forja remote add store "$TEST_TMP/store"
cp forja.yaml "$TEST_TMP/forja.yaml.good"
git add -A && git commit -qm init
git init -q --bare "$TEST_TMP/origin.git"
git remote add origin "$TEST_TMP/origin.git"
git push -q origin main

starts() { [[ -f $TEST_TMP/starts ]] && wc -l <"$TEST_TMP/starts" | tr -d ' ' || echo 0; }
hooks() { cat "$TEST_TMP/hooks.jsonl"; }

# ---- malformed triggers: one line each, naming forja.yaml:line ----------------------------
bad_yaml() {  # TRIGGERS-TEXT EXPECTED-LINE
  cp "$TEST_TMP/forja.yaml.good" forja.yaml
  sed -i '/^triggers:/,$d' forja.yaml
  printf 'triggers:\n%s\n' "$1" >>forja.yaml
  expect_fail 1 forja agent --once
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "$2"
  expect_fail 1 forja agent status
  expect_contains "$OUT" "$2"
}
N=$(($(grep -n '^triggers:' "$TEST_TMP/forja.yaml.good" | cut -d: -f1) + 1))
bad_yaml '  nightly: {cron: "0 25 * * *"}' \
  "forja: error: forja.yaml:$N: triggers.nightly.cron: cron '0 25 * * *': hour: 25 is out of range 0-23"
bad_yaml '  nightly: {cron: "0 3 * *"}' \
  "forja.yaml:$N: triggers.nightly.cron: cron: '0 3 * *' has 4 fields; expected 5"
bad_yaml '  hook: {webhook: "http://x"}' \
  "forja.yaml:$N: triggers.hook.webhook: unknown trigger kind or field (kinds: cron, interval, data, git, alert;"
bad_yaml '  often: {interval: soon}' \
  "forja.yaml:$N: triggers.often.interval: 'soon' is not a duration (e.g. 90s, 15m, 2h, 1d, 1h30m)"
bad_yaml $'  a: {interval: 1h}\n  b: {interval: 1h}' \
  "forja.yaml:$((N + 1)): triggers.b: overlaps trigger a (forja.yaml:$N): same interval and same pipeline run; remove one"
bad_yaml $'  a: {interval: 1h}\n  a: {interval: 2h}' "forja.yaml:$((N + 1))"
bad_yaml '  n: {cron: "@daily", tz: Mars/Olympus}' \
  "forja.yaml:$N: triggers.n.tz: unknown time zone 'Mars/Olympus'"
cp "$TEST_TMP/forja.yaml.good" forja.yaml
expect_eq "$(hooks)" ""

# ---- first start: every trigger takes its baseline, nothing runs --------------------------
FORJA_AGENT_NOW=$T0 expect_ok forja agent --once
expect_contains "$OUT" "every: first seen; next due times count from now"
expect_contains "$OUT" "newdata: baseline pointer"
expect_contains "$OUT" "pushed: baseline commit"
expect_contains "$OUT" "committed: baseline pointer"
expect_contains "$OUT" "pushed-data: baseline objects (none)"
expect_contains "$OUT" "drift: baseline alert (none)"
expect_eq "$(starts)" 0
FORJA_AGENT_NOW=$T0 expect_ok forja agent status
expect_contains "$OUT" "every: every 15m"
expect_contains "$OUT" "next: 2026-11-30 01:08:20 UTC"
expect_contains "$OUT" "newdata: data data/train.csv"
expect_contains "$OUT" "next: on change (checked every 1m)"

# ---- the interval trigger fires when due: run, register, promote, notify -------------------
FORJA_AGENT_NOW=$((T0 + 14 * 60)) expect_ok forja agent --once
expect_eq "$(starts)" 0
FORJA_AGENT_NOW=$((T0 + 15 * 60 + 20)) expect_ok forja agent --once
expect_contains "$OUT" "started run 20261130T010840-every (trigger every: every 15m)"
expect_contains "$OUT" "run 20261130T010840-every ok: tracked as run "
expect_contains "$OUT" "registered churn/1; promoted to staging"
expect_eq "$(starts)" 1
expect_ok forja models versions churn
expect_contains "$OUT" "Staging"
# Recorded in the tracking store with the trigger that started it.
expect_ok forja runs list --filter "tags.forja.agent.trigger = 'every'" --json
expect_contains "$OUT" '"forja.agent.trigger"'
RUN_EVERY=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["history"][-1]["run_id"])' .forja/agent/state.json)
expect_eq "${#RUN_EVERY}" 32
# The promotion webhook: the exact request.
python3 - "$TEST_TMP/hooks.jsonl" <<'EOF' && pass || fail "promotion webhook"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
assert len(reqs) == 1, reqs
r = reqs[0]
assert r["method"] == "POST" and r["path"] == "/hooks/forja", r
assert r["content_type"] == "application/json", r
body = json.loads(r["body"])
assert list(body) == ["text"], body
assert body["text"] == "forja agent: churn/1 promoted to staging (trigger every, run 20261130T010840-every)", body
EOF
# Not twice for the same due time. The registration pushed the package to the remote
# (forja models register does): the remote's data trigger sees new objects.
FORJA_AGENT_NOW=$((T0 + 16 * 60)) expect_ok forja agent --once
expect_not_contains "$OUT" "-every"
expect_contains "$OUT" "pushed-data: due: data on remote store: objects (none) -> "
expect_contains "$OUT" "-pushed-data ok: pipeline up to date or not tracked"
expect_eq "$(starts)" 1

# ---- a data trigger fires after forja add changes the dataset -----------------------------
printf 'x,y\n1,2\n3,4\n' >data/train.csv
expect_ok forja add data/train.csv
FORJA_AGENT_NOW=$((T0 + 17 * 60)) expect_ok forja agent --once
expect_contains "$OUT" "newdata: due: data data/train.csv: pointer "
expect_not_contains "$OUT" "pushed-data: due"   # added, not pushed yet
expect_contains "$OUT" "-newdata ok: tracked as run "
expect_eq "$(starts)" 2
expect_ok forja runs list --filter "tags.forja.agent.trigger = 'newdata'" --json
expect_contains "$OUT" '"newdata"'
expect_ok forja push
FORJA_AGENT_NOW=$((T0 + 17 * 60 + 30)) expect_ok forja agent --once
expect_contains "$OUT" "pushed-data: due: data on remote store: objects "
expect_eq "$(starts)" 2

# ---- a git trigger fires after a push to the remote ---------------------------------------
git add -A && git commit -qm "new data" && git push -q origin main
FORJA_AGENT_NOW=$((T0 + 18 * 60)) expect_ok forja agent --once
expect_contains "$OUT" "pushed: due: git origin main: commit "
# The pointer changed on main too (it was committed): the branch's data trigger fires.
expect_contains "$OUT" "committed: due: data data/train.csv on main: pointer "
expect_contains "$OUT" "-committed ok: pipeline up to date or not tracked"
expect_contains "$OUT" "-pushed ok: pipeline up to date or not tracked"
expect_eq "$(starts)" 2   # the pipeline was up to date: nothing ran again

# ---- a failing pipeline: the failure webhook, nothing registered --------------------------
touch "$TEST_TMP/fail"
printf 'x,y\n5,6\n' >data/train.csv
expect_ok forja add data/train.csv
: >"$TEST_TMP/hooks.jsonl"
FORJA_AGENT_NOW=$((T0 + 30 * 60 + 10)) expect_fail 1 forja agent --once
expect_contains "$OUT" "-every failed: forja run exited 1"
expect_contains "$OUT" "-newdata failed: forja run exited 1"
expect_ok forja models versions churn
expect_not_contains "$OUT" "churn/2"
expect_eq "$(forja models versions churn --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["model_versions"]))')" 1
python3 - "$TEST_TMP/hooks.jsonl" <<'EOF' && pass || fail "failure webhooks"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
assert len(reqs) == 2, reqs
for r, trig in zip(reqs, ["every", "newdata"]):
    assert r["path"] == "/hooks/forja" and r["content_type"] == "application/json", r
    text = json.loads(r["body"])["text"]
    assert text.startswith("forja agent: run 20261130T") and f"-{trig} (trigger {trig}) failed: forja run exited 1" in text, text
    assert "(log: .forja/agent/runs/" in text, text
EOF
FORJA_AGENT_NOW=$((T0 + 30 * 60 + 10)) expect_ok forja agent status
expect_contains "$OUT" "UTC failed (forja run exited 1"
rm -f "$TEST_TMP/fail"
# newdata has retries: 1, backoff: 1m: tried again a minute later, and it works now.
expect_contains "$(hooks)" "; retry at 2026-11-30 01:24:30 UTC"
FORJA_AGENT_NOW=$((T0 + 30 * 60 + 40)) expect_ok forja agent --once
expect_not_contains "$OUT" "started run"
FORJA_AGENT_NOW=$((T0 + 31 * 60 + 15)) expect_ok forja agent --once
expect_contains "$OUT" "newdata: retry 1 of 1"
expect_contains "$OUT" "-newdata ok: tracked as run"

# ---- killed with -9 mid-run: the next start marks the run interrupted, runs nothing twice --
touch "$TEST_TMP/hold"
printf 'x,y\n7,8\n' >data/train.csv
expect_ok forja add data/train.csv
before=$(starts)
FORJA_AGENT_NOW=$((T0 + 35 * 60)) "$FORJA" agent --once >"$TEST_TMP/agent1.log" 2>&1 &
AGENT_PID=$!
for _ in $(seq 300); do [[ $(starts) -gt $before ]] && break; sleep 0.1; done
expect_eq "$(starts)" $((before + 1))
kill -9 $AGENT_PID
wait $AGENT_PID 2>/dev/null
CHILD=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["running"][0]["pid"])' .forja/agent/state.json)
kill -0 "$CHILD" 2>/dev/null && pass || fail "the run should outlive the killed agent"
FORJA_AGENT_NOW=$((T0 + 35 * 60 + 30)) expect_ok forja agent --once
expect_contains "$OUT" "-newdata of trigger newdata was interrupted: the agent stopped while this run was in flight (pid $CHILD, stopped now); not run again"
rm -f "$TEST_TMP/hold"
expect_eq "$(starts)" $((before + 1))
kill -0 "$CHILD" 2>/dev/null && fail "the interrupted run is still running" || pass
FORJA_AGENT_NOW=$((T0 + 36 * 60)) expect_ok forja agent --once
expect_eq "$(starts)" $((before + 1))
FORJA_AGENT_NOW=$((T0 + 36 * 60)) expect_ok forja agent status --json
python3 -c '
import json, sys
s = json.loads(sys.argv[1])
assert s["running"] == [], s["running"]
last = [h for h in s["history"] if h["trigger"] == "newdata"][-1]
assert last["result"] == "interrupted", last
t = {t["name"]: t for t in s["triggers"]}
assert t["newdata"]["last_result"] == "interrupted", t["newdata"]
assert t["every"]["next"] == '$((T0 + 45 * 60))', t["every"]
' "$OUT" && pass || fail "status --json after the interrupted run: $OUT"

# ---- an alert trigger fires on a drift alert that forja server recorded ---------------------
"$FORJA" server --port 0 --store "sqlite:///$REPO/.forja/forja.db" >"$TEST_TMP/server.log" 2>&1 &
SERVER_PID=$!
at_exit "kill $SERVER_PID 2>/dev/null"
for _ in $(seq 200); do grep -q 'http://' "$TEST_TMP/server.log" && break; sleep 0.05; done
SERVER=$(grep -o 'http://[0-9.]*:[0-9]*' "$TEST_TMP/server.log" | head -1)
alert='{"status": "firing", "fingerprint": "d1", "startsAt": "2026-11-30T01:30:00Z",
        "labels": {"alertname": "ForjaModelDataDrift", "model": "churn", "version": "1"}}'
other='{"status": "firing", "fingerprint": "q1", "startsAt": "2026-11-30T01:30:00Z",
        "labels": {"alertname": "ForjaModelQuality", "model": "churn", "version": "1"}}'
post_alerts() { curl -s -o /dev/null -w '%{http_code}' -X POST -d "{\"version\": \"4\", \"alerts\": [$1]}" \
                  "$SERVER/api/2.0/forja/alerts"; }
expect_eq "$(post_alerts "$other")" 200   # another alert: filtered out
before=$(starts)
# The agent reads the alerts through the server (RestStore), as a remote agent would.
export FORJA_TRACKING_URI=$SERVER
FORJA_AGENT_NOW=$((T0 + 37 * 60)) expect_ok forja agent --once
expect_eq "$(starts)" "$before"
expect_eq "$(post_alerts "$alert")" 200
FORJA_AGENT_NOW=$((T0 + 38 * 60)) expect_ok forja agent --once
expect_contains "$OUT" "drift: due: alert model=churn name=ForjaModelDataDrift: alert (none) -> d1@"
expect_contains "$OUT" "-drift ok: tracked as run"
expect_eq "$(starts)" $((before + 1))
expect_eq "$(post_alerts "$alert")" 200   # the same alert again: not a new one
FORJA_AGENT_NOW=$((T0 + 39 * 60)) expect_ok forja agent --once
expect_eq "$(starts)" $((before + 1))
expect_ok forja runs list --filter "tags.forja.agent.trigger = 'drift'" --json
expect_contains "$OUT" '"drift"'
unset FORJA_TRACKING_URI
kill $SERVER_PID; wait $SERVER_PID 2>/dev/null

# ---- docs/agent.md's examples: its forja.yaml is read as documented, its systemd unit
# verifies, and its ExecStart command is the long-running agent run below ------------------
python3 - "$FORJA_SOURCE/docs/agent.md" "$TEST_TMP/doc" <<'PY' || fail "examples in docs/agent.md"
import re, sys
text = open(sys.argv[1]).read()
for name, body in re.findall(r"<!-- agent-example: (\S+) -->\n```\w*\n(.*?)```", text, re.S):
    open(sys.argv[2] + "." + name, "w").write(body)
PY
DOC_WS="$TEST_TMP/docws"
mkdir -p "$DOC_WS" && (cd "$DOC_WS" && git init -q . && "$FORJA" -q init && cat "$TEST_TMP/doc.forja.yaml" >>forja.yaml)
# 2026-11-30T00:53:20Z is 01:53 in Berlin on a Monday: nightly's next is 02:30 CET, 01:30 UTC.
FORJA_AGENT_NOW=$T0 expect_ok forja -C "$DOC_WS" agent status
expect_contains "$OUT" "nightly: cron 30 2 * * 1-5 (Europe/Berlin)"
expect_contains "$OUT" "next: 2026-11-30 01:30:00 UTC"
expect_contains "$OUT" "hourly: cron @hourly (UTC)"
expect_contains "$OUT" "next: 2026-11-30 01:00:00 UTC"
expect_contains "$OUT" "new-data-on-main: data data/train.csv on main"
expect_contains "$OUT" "drift: alert model=churn name=ForjaModelDataDrift"
expect_eq "$(grep -c '^  next: ' <<<"$OUT")" 8
expect_eq "$(grep '^ExecStart=' "$TEST_TMP/doc.systemd")" "ExecStart=/usr/local/bin/forja agent"
if command -v systemd-analyze >/dev/null; then
  sed -e "s#^ExecStart=/usr/local/bin/forja#ExecStart=$FORJA#" -e "s#^WorkingDirectory=.*#WorkingDirectory=$REPO#" \
    "$TEST_TMP/doc.systemd" >"$TEST_TMP/forja-agent.service"
  expect_ok systemd-analyze verify "$TEST_TMP/forja-agent.service"
fi

# ---- a second agent in the same workspace is refused -------------------------------------
exec 9>.forja/agent/lock
flock 9
expect_fail 1 forja agent --once
expect_contains "$OUT" "forja: error: another forja agent runs in this workspace"
exec 9>&-

# ---- the long-running agent (docs/agent.md's systemd unit runs this): a data change is
# picked up on the next poll, and SIGTERM stops it cleanly ---------------------------------
sed -i 's/^  poll: 1m$/  poll: 1s/' forja.yaml
# This section runs on the real clock: the interval trigger counts from the fixed clock the
# sections above use, so it could come due here (within its grace) and run before newdata.
# Drop it; the triggers that react to changes are what this section checks.
sed -i '/^  every:$/,/^    promote: {to: staging}$/d' forja.yaml
before=$(finished() { [[ -f $TEST_TMP/finished ]] && wc -l <"$TEST_TMP/finished" | tr -d ' ' || echo 0; }; finished)
"$FORJA" agent >"$TEST_TMP/agent2.log" 2>&1 &
AGENT_PID=$!
at_exit "kill $AGENT_PID 2>/dev/null"
for _ in $(seq 100); do grep -q "newdata: baseline\|trigger(s)" "$TEST_TMP/agent2.log" && break; sleep 0.1; done
printf 'x,y\n9,9\n' >data/train.csv
expect_ok forja --wait add data/train.csv
for _ in $(seq 300); do grep -q -- "-newdata ok" "$TEST_TMP/agent2.log" && break; sleep 0.1; done
expect_contains "$(cat "$TEST_TMP/agent2.log")" "-newdata ok: tracked as run"
# It follows forja.yaml: a new trigger takes effect; a broken edit keeps the old triggers.
cp forja.yaml "$TEST_TMP/forja.yaml.before"
printf '  extra:\n    data: data/other.csv\n' >>forja.yaml
for _ in $(seq 100); do grep -q "extra: baseline" "$TEST_TMP/agent2.log" && break; sleep 0.1; done
expect_contains "$(cat "$TEST_TMP/agent2.log")" "forja agent: forja.yaml changed: 6 trigger(s)"
expect_contains "$(cat "$TEST_TMP/agent2.log")" "forja agent: extra: baseline pointer (none)"
L=$(($(wc -l <forja.yaml) + 1))
printf '  broken: {cron: "61 * * * *"}\n' >>forja.yaml
for _ in $(seq 100); do grep -q "cannot be used" "$TEST_TMP/agent2.log" && break; sleep 0.1; done
expect_contains "$(cat "$TEST_TMP/agent2.log")" "forja: warning: forja.yaml changed but cannot be used, keeping the triggers read before: forja.yaml:$L: triggers.broken.cron: cron '61 * * * *': minute: 61 is out of range 0-59"
cp "$TEST_TMP/forja.yaml.before" forja.yaml
kill -TERM $AGENT_PID
wait $AGENT_PID
expect_eq "$?" 0
expect_contains "$(cat "$TEST_TMP/agent2.log")" "forja agent: stopping"

# SIGTERM while a pipeline runs waits for it (on_stop: wait); a second SIGTERM cancels it.
touch "$TEST_TMP/hold"
"$FORJA" agent >"$TEST_TMP/agent3.log" 2>&1 &
AGENT_PID=$!
at_exit "kill $AGENT_PID 2>/dev/null"
for _ in $(seq 100); do grep -q "trigger(s)" "$TEST_TMP/agent3.log" && break; sleep 0.1; done
before=$(starts)
printf 'x,y\n10,10\n' >data/train.csv
expect_ok forja --wait add data/train.csv
for _ in $(seq 300); do [[ $(starts) -gt $before ]] && break; sleep 0.1; done
kill -TERM $AGENT_PID
for _ in $(seq 100); do grep -q "stopping" "$TEST_TMP/agent3.log" && break; sleep 0.1; done
expect_contains "$(cat "$TEST_TMP/agent3.log")" "forja agent: stopping; waiting for the running pipeline (signal again to cancel it)"
kill -0 $AGENT_PID && pass || fail "the agent should wait for its pipeline"
kill -TERM $AGENT_PID
wait $AGENT_PID
expect_eq "$?" 0
expect_contains "$(cat "$TEST_TMP/agent3.log")" "-newdata cancelled: forja run"
rm -f "$TEST_TMP/hold"

finish
