#!/usr/bin/env bash
# forja rollout against two real `forja serve` replicas that follow churn@production from
# the workspace's store, with traffic from a small client loop: a good candidate completes
# (the stage moves, both replicas serve it, the history shows each step); a python version
# that fails a quarter of its requests is rolled back (the stage stays, both replicas drop
# it, the message names the check and its numbers); a production gate that fails at the end
# rolls back instead of promoting; a second rollout while one runs is refused; forja rollout
# abort from another shell ends a running one (through forja server's REST routes too); a
# replica that disappears mid-rollout aborts it and the other drops the candidate. Bad input
# is one clear line. The same through Prometheus (--prometheus) instead of /metrics. No timing assertions: every wait polls for the state it needs.
source "$(dirname "$0")/../lib/common.sh"
source "$FORJA_SOURCE/tests/lib/prometheus.sh"

PY=$FORJA_SOURCE/.venv/bin/python
if [[ ! -x $PY ]] || ! "$PY" -c 'import numpy' 2>/dev/null; then
  echo "SKIP: no $PY with numpy (run scripts/setup)"
  exit 77
fi
export FORJA_PYTHON=$PY

new_repo
# Python packages (tests/lib/python_package.sh): the sum of the two features plus a constant that
# tells versions apart; version 3 fails 25% of the requests whose first feature counts 1, 2, 3, ...
write_pkg() { sh "$FORJA_SOURCE/tests/lib/python_package.sh" "$@"; }  # DIR CONSTANT [FAIL_PERCENT]
write_pkg "$TEST_TMP/v1" 0 0
write_pkg "$TEST_TMP/v2" 100 0
write_pkg "$TEST_TMP/v3" 200 25
write_pkg "$TEST_TMP/v4" 300 0
for v in 1 2 3 4; do expect_ok forja models register churn "$TEST_TMP/v$v" --no-push --no-profile; done
expect_ok forja models promote churn 1 --to production

# ---- two replicas following churn@production, and a client loop ------------------------------------------
# "$FORJA", not the forja() function: $! must be the server itself.
start_replica() {  # N
  "$FORJA" serve churn@production --port 0 --poll-interval 0.2 >"$TEST_TMP/serve$1.log" 2>&1 &
  eval "PID$1=$!"
  at_exit "kill \$PID$1 2>/dev/null; wait \$PID$1 2>/dev/null"
  local url=""
  for _ in $(seq 300); do
    url=$(grep -o 'http://[0-9.:]*' "$TEST_TMP/serve$1.log" | head -1)
    [[ -n $url ]] && curl -sf "$url/v2/health/ready" >/dev/null && break
    url=""
    sleep 0.1
  done
  [[ -n $url ]] || { echo "replica $1 did not start:"; cat "$TEST_TMP/serve$1.log"; exit 1; }
  eval "URL$1=$url"
}
start_replica 1
start_replica 2

cat >"$TEST_TMP/client.py" <<'PY'
# Sends requests round-robin to the replicas, the first feature counting 1, 2, 3, ..., until killed.
import http.client, json, sys, time, urllib.parse
urls = [urllib.parse.urlparse(u) for u in sys.argv[1:]]
i = 0
while True:
    u = urls[i % len(urls)]
    body = json.dumps({"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 2], "data": [i + 1, 1]}]})
    try:
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
        c.request("POST", "/v2/models/churn/infer", body, {"Content-Type": "application/json"})
        c.getresponse().read()
        c.close()
    except OSError:
        time.sleep(0.05)  # a replica that is gone
    i += 1
PY
"$PY" "$TEST_TMP/client.py" "$URL1" "$URL2" &
CLIENT=$!
at_exit "kill $CLIENT 2>/dev/null; wait $CLIENT 2>/dev/null"

# The version a replica answers with now (forja-model-version: churn/N).
served_by() { curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
  -d '{"inputs":[{"name":"features","datatype":"FP32","shape":[1,2],"data":[0,1]}]}' \
  "$1/v2/models/churn/infer" | tr -d '\r' | sed -n 's/^forja-model-version: //Ip'; }
# Waits until every replica given answers with churn/N (polling; no time is asserted).
await_served() {  # N URL...
  local want=churn/$1 u ok
  shift
  for _ in $(seq 200); do
    ok=1
    for u in "$@"; do [[ $(served_by "$u") == "$want" ]] || ok=0; done
    [[ $ok == 1 ]] && return 0
    sleep 0.1
  done
  return 1
}
# Whether a replica's /metrics shows version N of churn loaded or as a rollout's candidate.
shows_version() { curl -s "$1/metrics" | grep -E "^forja_serve_(model_info|rollout_weight)\{model=\"churn\",version=\"$2\"" >/dev/null; }
await_shown() {  # URL N
  for _ in $(seq 200); do shows_version "$1" "$2" && return 0; sleep 0.1; done
  return 1
}
await_dropped() {  # N URL...
  local v=$1 u ok
  shift
  for _ in $(seq 200); do
    ok=1
    for u in "$@"; do shows_version "$u" "$v" && ok=0; done
    [[ $ok == 1 ]] && return 0
    sleep 0.1
  done
  return 1
}
stage_holder() { forja models show churn --json | "$PY" -c '
import json, sys
print(",".join(str(v["version"]) for v in json.load(sys.stdin)["latest_versions"] if v["current_stage"] == "Production"))'; }
await_served 1 "$URL1" "$URL2" && pass || fail "both replicas serve version 1 before any rollout"

# ---- help ------------------------------------------------------------------------------------------------------
expect_ok forja rollout --help
for o in "Usage: forja rollout" --to --stage --alias --steps --interval --max-error-rate --max-p99-ms --min-quality \
         --max-drift --server --prometheus --apply-timeout --min-requests status abort "Exit codes"; do
  expect_contains "$OUT" "$o"
done
for sub in status abort; do
  expect_ok forja rollout $sub --help
  expect_contains "$OUT" "Usage: forja rollout $sub"
  expect_contains "$OUT" "--json"
done

# ---- bad input: one line, non-zero ------------------------------------------------------------------------
for bad in "--steps 5,3" "--steps 0" "--steps 5,101" "--interval soon" "--apply-timeout 0s" "--max-error-rate 150%" \
           "--min-quality accuracy>0.9" "--max-p99-ms fast" "--stage archived" "--stage production --alias champion" \
           "--min-requests 0" "--server 127.0.0.1:1"; do
  # shellcheck disable=SC2086
  expect_fail 2 forja rollout churn --to 2 $bad --server "$URL1"
  expect_one_error_line "$OUT"
done
expect_fail 2 forja rollout churn --to 2 --steps 5,3 --server "$URL1"
expect_contains "$OUT" "forja: error: --steps '5,3': 3 does not increase on 5; write increasing percents, e.g. --steps 5,25,50,100"
expect_fail 2 forja rollout churn --to 2
expect_contains "$OUT" "give the servers to watch: --server URL (once per forja serve replica) or --prometheus URL"
expect_fail 1 forja rollout churn --to 9 --server "$URL1"
expect_contains "$OUT" "forja: error: model 'churn' has no version 9; see forja models versions churn"
expect_fail 1 forja rollout churn --to 1 --server "$URL1"
expect_contains "$OUT" "forja: error: version 1 of 'churn' is already in Production; nothing to roll out"
expect_fail 1 forja rollout status churn
expect_contains "$OUT" "never had a rollout"
expect_fail 1 forja rollout abort churn
expect_contains "$OUT" "forja: error: model 'churn' has no running rollout"

# ---- a good candidate completes -----------------------------------------------------------------------------
expect_ok forja rollout churn --to 2 --steps 20,50,100 --interval 1s --max-error-rate 5% --max-p99-ms 5000 \
  --server "$URL1" --server "$URL2"
expect_contains "$OUT" "rollout 1 of churn completed: version 2 is now in Production; step 100% passed: "
expect_not_contains "$OUT" "step 20%: waiting"  # progress goes to a terminal only
expect_eq "$(stage_holder)" "2"
await_served 2 "$URL1" "$URL2" && pass || fail "both replicas serve version 2 after the rollout"
expect_ok forja rollout status churn
expect_contains "$OUT" "rollout 1 of churn: version 1 -> 2 in Production"
expect_contains "$OUT" "state:    completed"
expect_contains "$OUT" "steps:    20,50,100"
for step in "begin -> 0%" "0% -> 20%" "20% -> 50%" "50% -> 100%" "100% -> completed"; do expect_contains "$OUT" "$step"; done
expect_contains "$OUT" "step 50% (step 20% passed: "
expect_ok forja rollout status churn --json
"$PY" -c '
import json, sys
j = json.loads(sys.argv[1])
assert j["rollout"]["state"] == "completed" and j["rollout"]["weight"] == 100, j["rollout"]
assert [t["to"] for t in j["history"]] == ["0%", "20%", "50%", "100%", "completed"], j["history"]
' "$OUT" && pass || fail "status --json: $OUT"
expect_ok forja models history churn
expect_contains "$OUT" "rollout 50% -> 100%"

# ---- a candidate that fails a quarter of its requests is rolled back -----------------------------------------
expect_fail 1 forja rollout churn --to 3 --steps 25,50,100 --interval 1s --max-error-rate 5% --server "$URL1" --server "$URL2"
expect_one_error_line "$OUT"
expect_contains "$OUT" "forja: error: rollout 2 of churn rolled back: step 25% failed max-error-rate: error rate "
expect_contains "$OUT" "requests answered 5xx) > max 5.00%; route restored"
expect_eq "$(stage_holder)" "2"
await_dropped 3 "$URL1" "$URL2" && pass || fail "both replicas dropped version 3 from /metrics"
await_served 2 "$URL1" "$URL2" && pass || fail "version 2 serves after the rollback"
expect_ok forja rollout status churn
expect_contains "$OUT" "state:    rolled_back"
expect_contains "$OUT" "25% -> rolled_back"

# ---- a production gate that fails at the end: rolled back, not promoted ---------------------------------------
cp forja.yaml "$TEST_TMP/forja.yaml.orig"
printf 'models:\n  churn:\n    gates:\n      production: [metrics.auc >= 0.9]\n' >>forja.yaml
expect_fail 1 forja rollout churn --to 4 --steps 50,100 --interval 1s --server "$URL1" --server "$URL2"
expect_one_error_line "$OUT"
expect_contains "$OUT" "rolled back: the promotion to Production failed, version 4 was not promoted: "
expect_contains "$OUT" "gate failed: metrics.auc >= 0.9"
expect_eq "$(stage_holder)" "2"
await_dropped 4 "$URL1" "$URL2" && pass || fail "both replicas dropped version 4 after the failed gate"
cp "$TEST_TMP/forja.yaml.orig" forja.yaml

# ---- two rollouts at once; abort from another shell, through forja server ------------------------------------
"$FORJA" server --port 0 --auth off >"$TEST_TMP/server.log" 2>&1 &
SERVER=$!
at_exit "kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null"
for _ in $(seq 100); do grep -q 'http://' "$TEST_TMP/server.log" && break; sleep 0.05; done
API=$(grep -o 'http://[0-9.:]*' "$TEST_TMP/server.log" | head -1)
# The routes refuse malformed records with a 400 naming the field, and store nothing.
post() { curl -s -o "$TEST_TMP/post.out" -w '%{http_code}' -H 'Content-Type: application/json' -d "$2" "$API/api/2.0/forja/rollouts/$1"; }
expect_eq "$(post begin '{"rollout": {"name": 5, "to_version": "4", "target": "production"}}')" 400
expect_contains "$(cat "$TEST_TMP/post.out")" "rollout.name: must be a string, not 5"
expect_eq "$(post begin '{"rollout": {"name": "churn", "to_version": "x4", "target": "production"}}')" 400
expect_contains "$(cat "$TEST_TMP/post.out")" 'rollout.to_version: must be a whole number, not \"x4\"'
expect_eq "$(post begin '{}')" 400
expect_contains "$(cat "$TEST_TMP/post.out")" "rollout: missing"
expect_eq "$(post update '{"rollout": {"id": "3", "weight": 150, "state": "running"}}')" 400
expect_contains "$(cat "$TEST_TMP/post.out")" "rollout.weight: must be 0..100, not 150"
expect_eq "$(post update '{"rollout": {"id": "3", "weight": 0, "state": "paused"}}')" 400
expect_contains "$(cat "$TEST_TMP/post.out")" "rollout.state: 'paused' is not running, completed, rolled_back or aborted"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$API/api/2.0/forja/rollouts/get?name=nosuch")" 404
expect_eq "$(forja rollout status churn --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["rollout"]["id"])')" 3
# Waits until the model's rollout is running at `weight`% (read through the server).
await_weight() {
  for _ in $(seq 300); do
    forja rollout status churn --json --store "$API" 2>/dev/null |
      "$PY" -c 'import json,sys; r=json.load(sys.stdin)["rollout"]; sys.exit(not (r["state"] == "running" and r["weight"] == int(sys.argv[1])))' "$1" &&
      return 0
    sleep 0.1
  done
  return 1
}
"$FORJA" rollout churn --to 4 --steps 10,100 --interval 60s --server "$URL1" --server "$URL2" --store "$API" \
  >"$TEST_TMP/first.out" 2>&1 &
FIRST=$!
await_weight 10 && pass || fail "the first rollout runs at 10%: $(cat "$TEST_TMP/first.out")"
expect_fail 1 forja rollout churn --to 4 --steps 50,100 --interval 1s --server "$URL1"
expect_one_error_line "$OUT"
expect_contains "$OUT" "model churn has a running rollout already (id 4: version 4 to Production at 10%); wait for it or abort it with forja rollout abort churn"
await_shown "$URL1" 4 && pass || fail "the first rollout's candidate is on replica 1"
expect_ok forja rollout abort churn --store "$API"
expect_contains "$OUT" "rollout 4 of churn aborted at 10%"
wait $FIRST
expect_eq "$?" "1"
expect_contains "$(cat "$TEST_TMP/first.out")" "forja: error: rollout 4 of churn aborted: aborted by "
expect_contains "$(cat "$TEST_TMP/first.out")" "(forja rollout abort) at 10%; route restored"
await_dropped 4 "$URL1" "$URL2" && pass || fail "both replicas dropped version 4 after the abort"
expect_eq "$(stage_holder)" "2"

# ---- a replica disappears mid-rollout: aborted, the survivor drops the candidate -------------------------------
"$FORJA" rollout churn --to 4 --steps 10,100 --interval 60s --server "$URL1" --server "$URL2" \
  >"$TEST_TMP/killed.out" 2>&1 &
KILLED=$!
await_weight 10 && pass || fail "the rollout runs at 10%: $(cat "$TEST_TMP/killed.out")"
kill "$PID2"
wait "$PID2" 2>/dev/null
wait $KILLED
expect_eq "$?" "1"
expect_contains "$(cat "$TEST_TMP/killed.out")" "forja: error: rollout 5 of churn aborted: server $URL2 did not answer"
expect_contains "$(cat "$TEST_TMP/killed.out")" "; route restored"
await_dropped 4 "$URL1" && pass || fail "the surviving replica dropped version 4"
expect_ok forja rollout status churn
expect_contains "$OUT" "state:    aborted"
expect_contains "$OUT" "10% -> aborted"
expect_eq "$(stage_holder)" "2"

# ---- SIGTERM aborts --------------------------------------------------------------------------------------------
"$FORJA" rollout churn --to 4 --steps 10,100 --interval 60s --server "$URL1" >"$TEST_TMP/term.out" 2>&1 &
TERM_PID=$!
await_weight 10 && pass || fail "the rollout runs at 10%: $(cat "$TEST_TMP/term.out")"
kill -TERM $TERM_PID
wait $TERM_PID
expect_eq "$?" "1"
expect_contains "$(cat "$TEST_TMP/term.out")" "forja: error: rollout 6 of churn aborted: interrupted (SIGTERM); route restored"
await_dropped 4 "$URL1" && pass || fail "the replica dropped version 4 after SIGTERM"

# ---- metrics through Prometheus (--prometheus): it scrapes the replica, the rollout asks it ---------------------
prometheus_start "${URL1#http://}" || exit 1
at_exit prometheus_stop
prometheus_wait_for 'forja_serve_model_info{model="churn"}' 30 && pass || fail "Prometheus scrapes the replica"
expect_fail 2 forja rollout churn --to 4 --server "$URL1" --prometheus "$PROM_URL"
expect_contains "$OUT" "give the servers to watch: --server URL (once per forja serve replica) or --prometheus URL"
expect_ok forja rollout churn --to 4 --steps 50,100 --interval 3s --max-error-rate 5% --prometheus "$PROM_URL"
expect_contains "$OUT" "rollout 7 of churn completed: version 4 is now in Production; step 100% passed: "
expect_eq "$(stage_holder)" "4"
await_served 4 "$URL1" && pass || fail "the replica serves version 4 after the rollout through Prometheus"

# ---- quality and drift thresholds need their gauges: without them a step is not a pass -------------------------
expect_fail 1 forja rollout churn --to 2 --steps 100 --interval 1s --min-quality 'mae>=0' --server "$URL1"
expect_contains "$OUT" "rolled back: step 100% failed min-quality: no server reports the candidate's mae"
expect_fail 1 forja rollout churn --to 2 --steps 100 --interval 1s --max-drift 30% --server "$URL1"
expect_contains "$OUT" "rolled back: step 100% failed max-drift: no server reports the candidate's drift"
expect_eq "$(stage_holder)" "4"

# ---- roles through forja server: a read token reads a rollout but cannot start one; a write token not into Production
expect_ok forja server token create --name viewer --role read
READ_TOKEN=$(tail -1 <<<"$OUT")
"$FORJA" server --port 0 --auth on >"$TEST_TMP/server2.log" 2>&1 &
SERVER2=$!
at_exit "kill $SERVER2 2>/dev/null; wait $SERVER2 2>/dev/null"
for _ in $(seq 100); do grep -q 'http://' "$TEST_TMP/server2.log" && break; sleep 0.05; done
API2=$(grep -o 'http://[0-9.:]*' "$TEST_TMP/server2.log" | head -1)
FORJA_TRACKING_TOKEN=$READ_TOKEN expect_ok forja rollout status churn --store "$API2"
expect_contains "$OUT" "state:    rolled_back"
FORJA_TRACKING_TOKEN=$READ_TOKEN expect_fail 1 forja rollout churn --to 2 --steps 100 --interval 1s --server "$URL1" --store "$API2"
expect_one_error_line "$OUT"
expect_contains "$OUT" "POST forja/rollouts/begin needs a write token (this one is read)"
# A write token may not roll out into Production (protected: promoting into it is an admin's).
expect_ok forja server token create --name ci --role write
WRITE_TOKEN=$(tail -1 <<<"$OUT")
FORJA_TRACKING_TOKEN=$WRITE_TOKEN expect_fail 1 forja rollout churn --to 2 --steps 100 --interval 1s --server "$URL1" --store "$API2"
expect_one_error_line "$OUT"
expect_contains "$OUT" "only an admin may roll out versions of 'churn' to Production"
expect_ok forja rollout status churn
expect_contains "$OUT" "state:    rolled_back"  # nothing was started


# ---- an alias: a replica following churn@champion, the candidate takes the alias at the end ---------------------
expect_ok forja models promote churn 1 --to @champion
"$FORJA" serve churn@champion --port 0 --poll-interval 0.2 >"$TEST_TMP/serve3.log" 2>&1 &
PID3=$!
at_exit "kill $PID3 2>/dev/null; wait $PID3 2>/dev/null"
for _ in $(seq 300); do
  URL3=$(grep -o 'http://[0-9.:]*' "$TEST_TMP/serve3.log" | head -1)
  [[ -n $URL3 ]] && curl -sf "$URL3/v2/health/ready" >/dev/null && break
  sleep 0.1
done
"$PY" "$TEST_TMP/client.py" "$URL3" &
CLIENT3=$!
at_exit "kill $CLIENT3 2>/dev/null; wait $CLIENT3 2>/dev/null"
expect_fail 1 forja rollout churn --to 1 --alias champion --server "$URL3"
expect_contains "$OUT" "forja: error: version 1 of 'churn' is already @champion; nothing to roll out"
expect_ok forja rollout churn --to 2 --alias @champion --steps 50,100 --interval 1s --max-error-rate 5% --server "$URL3"
expect_contains "$OUT" "completed: version 2 is now @champion; step 100% passed: "
expect_eq "$(forja models show churn --json | "$PY" -c '
import json, sys
print(json.load(sys.stdin).get("aliases", []))')" "[{'alias': 'champion', 'version': '2'}]"
await_served 2 "$URL3" && pass || fail "the replica following @champion serves version 2"
expect_eq "$(stage_holder)" "4"  # the stage did not move


# ---- progress on a terminal (script(1) gives the rollout one); a pipe stays quiet (checked above) -------------------
script -qec "$FORJA rollout churn --to 1 --alias champion --steps 50,100 --interval 1s --server $URL3" /dev/null \
  >"$TEST_TMP/tty.out" 2>&1
expect_eq "$?" "0"
TTY=$(tr -d '\r' <"$TEST_TMP/tty.out")
expect_contains "$TTY" "rollout 11 of churn: version 1 (now v2) -> @champion in steps of 50%, 100%, 1s each"
expect_contains "$TTY" "rollout 11 of churn: step 50%: waiting for every server to apply it"
expect_contains "$TTY" "rollout 11 of churn: step 50%: applied on 1 server(s); watching for 1s"
expect_contains "$TTY" "rollout 11 of churn: step 50% passed: "
expect_contains "$TTY" "rollout 11 of churn completed: version 1 is now @champion"

finish
