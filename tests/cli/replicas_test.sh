#!/usr/bin/env bash
# forja deploy nginx with the real programs: the configuration it writes passes `nginx -t`,
# and its start.sh runs the replicas and nginx on loopback (private prefix, pid and logs).
#   - two forja server replicas on one PostgreSQL (a private cluster, tests/lib/postgres.sh)
#     behind nginx: 64 clients log with log-batch and log-metric through nginx, one replica is
#     killed with kill -9 under that load; every write a client got 200 for is in the store
#     afterwards, and clients saw nothing but retryable errors (502/503/504, connection errors,
#     resent as docs/scaling.md recommends);
#   - two forja serve replicas following lin@production behind nginx, one killed under load:
#     zero failed requests after the recommended retries, every answer the right prediction;
#     the killed replica started again from start.sh's line comes back from the registry alone,
#     a promotion reaches both replicas, and forja rollout moves both while traffic goes
#     through nginx.
# Bad input is one clear line. No timing assertions: every wait polls for the state it needs.
source "$(dirname "$0")/../lib/common.sh"
source "$FORJA_SOURCE/tests/lib/linear_model.sh"

PY=$FORJA_SOURCE/.venv/bin/python
[[ -x $PY ]] || PY=python3
command -v nginx >/dev/null || { echo "SKIP: nginx is not installed (scripts/setup installs it)"; exit 77; }
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || { echo "SKIP: PostgreSQL is not installed (scripts/setup installs it)"; exit 77; }
# As root, nginx's workers would run as nobody, who cannot enter this test's private folders.
NGINX_ARGS=()
[[ $(id -u) -eq 0 ]] && NGINX_ARGS=(-g 'user root;')

# Two free loopback ports in a row (replicas take --base-port and the next), then one more.
free_ports() {
  "$PY" - <<'EOF'
import socket
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); return True
    except OSError:
        return False
    finally:
        s.close()
s = socket.socket(); s.bind(("127.0.0.1", 0)); listen = s.getsockname()[1]; s.close()
for _ in range(200):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    if p < 65535 and p + 1 != listen and p != listen and free(p + 1):
        print(listen, p); break
EOF
}

wait_http() {  # URL: polls until it answers 200
  for _ in $(seq 600); do
    curl -sf -o /dev/null "$1" && return 0
    sleep 0.1
  done
  return 1
}

# ---- usage errors -----------------------------------------------------------------------------------------
cd "$TEST_TMP" || exit 1
expect_fail 2 forja deploy nginx
expect_contains "$OUT" "--replicas"
expect_one_error_line "$OUT"
expect_fail 2 forja deploy nginx --replicas 2 --store sqlite:///tmp/x.db -o "$TEST_TMP/bad"
expect_contains "$OUT" "postgresql://"
expect_one_error_line "$OUT"
expect_fail 2 forja deploy nginx --kind serve --replicas 2 -o "$TEST_TMP/bad"
expect_contains "$OUT" "--ref"
expect_fail 2 forja deploy nginx --kind serve --replicas 2 --ref 'x@y;rm -rf /' -o "$TEST_TMP/bad"
expect_contains "$OUT" "does not write into scripts"
expect_one_error_line "$OUT"
expect_fail 2 forja deploy nginx --replicas 2 --store postgresql://h/db --listen 127.0.0.1:99999
expect_contains "$OUT" "1..65535"
expect_fail 2 forja deploy nginx --replicas 2 --store postgresql://h/db --listen :8080
expect_contains "$OUT" "has no address"
expect_one_error_line "$OUT"
expect_fail 2 forja deploy nginx --replicas 2 --store "postgresql://u:it's@h/db" -o "$TEST_TMP/bad"
expect_contains "$OUT" "percent-encode"
expect_one_error_line "$OUT"
# forja.env means the same to sh (start.sh) and systemd: the URI is taken as written.
odd='postgresql://u:p$HOME&x y;`id`@127.0.0.1/db'
expect_ok forja deploy nginx --replicas 1 --store "$odd" -o "$TEST_TMP/env"
expect_eq "$(sh -c ". '$TEST_TMP/env/forja.env'; printf %s \"\$FORJA_TRACKING_URI\"")" "$odd"
run forja deploy nginx --help
for word in --replicas --kind --listen --store --ref --out --base-port --replica --artifacts --max-upload-mb \
  --max-body-mb --poll-interval max_fails log-batch "nginx -t"; do
  expect_contains "$OUT" "$word"
done

# ---- forja server: two replicas on one PostgreSQL -----------------------------------------------------------
PG_URI=$("$FORJA_SOURCE/tests/lib/postgres.sh" start "$TEST_TMP/pg") || { echo "PostgreSQL did not start"; exit 1; }
at_exit "'$FORJA_SOURCE/tests/lib/postgres.sh' stop '$TEST_TMP/pg' >/dev/null 2>&1"
read -r LISTEN BASE <<<"$(free_ports)"
D=$TEST_TMP/deploy-server
expect_ok forja deploy nginx --replicas 2 --store "$PG_URI" --listen "127.0.0.1:$LISTEN" --base-port "$BASE" \
  --artifacts "$TEST_TMP/artifacts" -o "$D" -- --threads 24
expect_contains "$OUT" "nginx -t"
expect_ok nginx -t -p "$D" -c "$D/nginx.conf" -e "$D/logs/error.log"
expect_eq "$(stat -c %a "$D/forja.env")" "600"
run grep -l -F "$PG_URI" "$D/start.sh" "$D/nginx.conf" "$D/forja-site.conf" "$D/systemd/forja-server-1.service"
expect_eq "$OUT" ""  # the URI is only in forja.env
at_exit "'$D/stop.sh'; for f in '$D'/run/replica-*.pid; do kill -9 \$(cat \$f) 2>/dev/null; done"
expect_ok "$D/start.sh" "${NGINX_ARGS[@]}"
wait_http "http://127.0.0.1:$BASE/health" && wait_http "http://127.0.0.1:$((BASE + 1))/health" &&
  wait_http "http://127.0.0.1:$LISTEN/health" || { echo "replicas or nginx did not start:"; cat "$D"/logs/*; exit 1; }
pass

cat >"$TEST_TMP/log_load.py" <<'PY'
# 64 clients, each logging to its own run through nginx; one replica is killed with SIGKILL
# once a third of the writes are acknowledged. A client resends a request on a connection
# error or a 502/503/504 (docs/scaling.md), up to 5 times; any other answer is a failure.
import http.client, json, os, signal, sys, threading, time
host, port, victim = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
CLIENTS, WRITES = 64, 60
RETRYABLE = {502, 503, 504}
lock = threading.Lock()
acked = 0
killed = False
report = {"acked": 0, "retryable_seen": 0, "errors": [], "lost": [], "after_kill": 0}

def call(conn, method, path, body=None):
    data = json.dumps(body) if body is not None else None
    for attempt in range(6):
        try:
            if conn[0] is None:
                conn[0] = http.client.HTTPConnection(host, port, timeout=60)
            conn[0].request(method, path, data, {"Content-Type": "application/json"})
            r = conn[0].getresponse()
            text = r.read()
            if r.status in RETRYABLE:
                with lock: report["retryable_seen"] += 1
                time.sleep(0.05 * (attempt + 1))
                continue
            return r.status, text
        except (OSError, http.client.HTTPException):
            with lock: report["retryable_seen"] += 1
            conn[0] = None
            time.sleep(0.05 * (attempt + 1))
    return -1, b"still failing after 5 retries"

def client(i, run_id):
    global acked, killed
    conn = [None]
    for step in range(WRITES):
        if step % 2 == 0:
            body = {"run_id": run_id, "metrics": [{"key": "m", "value": step, "timestamp": 1000 + step, "step": step},
                                                  {"key": "n", "value": -step, "timestamp": 1000 + step, "step": step}]}
            st, text = call(conn, "POST", "/api/2.0/mlflow/runs/log-batch", body)
        else:
            body = {"run_id": run_id, "key": "m", "value": step, "timestamp": 1000 + step, "step": step}
            st, text = call(conn, "POST", "/api/2.0/mlflow/runs/log-metric", body)
        with lock:
            if st == 200:
                acked_steps[i].append(step)
                acked += 1
                if killed: report["after_kill"] += 1
                if not killed and acked >= CLIENTS * WRITES // 3:
                    os.kill(victim, signal.SIGKILL)
                    killed = True
            else:
                report["errors"].append([st, text.decode(errors="replace")[:200]])

conn = [None]
st, text = call(conn, "POST", "/api/2.0/mlflow/experiments/create", {"name": "replicas"})
assert st == 200, text
exp = json.loads(text)["experiment_id"]
runs = []
for i in range(CLIENTS):
    st, text = call(conn, "POST", "/api/2.0/mlflow/runs/create", {"experiment_id": exp, "start_time": 1})
    assert st == 200, text
    runs.append(json.loads(text)["run"]["info"]["run_id"])
acked_steps = [[] for _ in range(CLIENTS)]
threads = [threading.Thread(target=client, args=(i, runs[i])) for i in range(CLIENTS)]
for t in threads: t.start()
for t in threads: t.join()
report["killed"] = killed
# Every acknowledged write, read back through nginx (the surviving replica).
for i, run_id in enumerate(runs):
    st, text = call(conn, "GET", "/api/2.0/mlflow/metrics/get-history?run_id=%s&metric_key=m" % run_id)
    assert st == 200, text
    stored = sorted(int(m["step"]) for m in json.loads(text).get("metrics", []))
    if len(stored) != len(set(stored)):
        report["lost"].append([run_id, "a step twice in the history", stored])
    for s in acked_steps[i]:
        if s not in stored:
            report["lost"].append([run_id, s])
    report["acked"] += len(acked_steps[i])
print(json.dumps(report))
PY
VICTIM=$(cat "$D/run/replica-1.pid")
run "$PY" "$TEST_TMP/log_load.py" 127.0.0.1 "$LISTEN" "$VICTIM"
echo "server load: $OUT"
REPORT=$(tail -1 <<<"$OUT")
check() { "$PY" -c "import json,sys; r=json.loads(sys.argv[1]); sys.exit(0 if ($1) else 1)" "$REPORT"; }
check 'r["killed"]' && pass || fail "the replica was not killed under load: $OUT"
check 'r["acked"] == 64 * 60' && pass || fail "every write should be acknowledged after retries: $OUT"
check 'not r["errors"]' && pass || fail "clients saw errors that are not retryable: $OUT"
check 'not r["lost"]' && pass || fail "acknowledged writes are missing from the store: $OUT"
check 'r["after_kill"] > 0' && pass || fail "no write was acknowledged after the kill: $OUT"
state=$(ps -o stat= -p "$VICTIM")  # gone, or a zombie nobody reaped yet
[[ -z $state || $state == Z* ]] && pass || fail "replica 1 still runs ($state)"
# nginx's body limits are the replicas': a 20 MB artifact passes (uploads up to --max-upload-mb),
# a 20 MB API request is refused by nginx with 413 as a replica would refuse it.
head -c $((20 << 20)) /dev/urandom >"$TEST_TMP/big.bin"
code=$(curl -s -o "$TEST_TMP/put.out" -w '%{http_code}' -X PUT --data-binary @"$TEST_TMP/big.bin" \
  "http://127.0.0.1:$LISTEN/api/2.0/mlflow-artifacts/artifacts/0/big/artifacts/big.bin")
expect_eq "$code" "200"
code=$(curl -s -o "$TEST_TMP/got.bin" -w "%{http_code}" "http://127.0.0.1:$LISTEN/api/2.0/mlflow-artifacts/artifacts/0/big/artifacts/big.bin")
cmp -s "$TEST_TMP/big.bin" "$TEST_TMP/got.bin" && pass || fail "the artifact read back through nginx differs ($code)"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$TEST_TMP/big.bin" \
  "http://127.0.0.1:$LISTEN/api/2.0/mlflow/runs/log-batch")
expect_eq "$code" "413"
"$D/stop.sh"

# ---- forja serve: two replicas following lin@production -------------------------------------------------------
new_repo serve
make_linear_package "$TEST_TMP/v1"
make_linear_package "$TEST_TMP/v2"
sed -i 's/"weights":\[1.0,2.0,0.0\]/"weights":[1.0,2.0,100.0]/' "$TEST_TMP/v2/model.json"
expect_ok forja models register lin "$TEST_TMP/v1" --no-push --no-profile
expect_ok forja models register lin "$TEST_TMP/v2" --no-push --no-profile
expect_ok forja models promote lin 1 --to production
read -r LISTEN2 BASE2 <<<"$(free_ports)"
S=$TEST_TMP/deploy-serve
expect_ok forja deploy nginx --kind serve --ref lin@production --replicas 2 --listen "127.0.0.1:$LISTEN2" \
  --base-port "$BASE2" --poll-interval 0.2 -o "$S"
expect_ok nginx -t -p "$S" -c "$S/nginx.conf" -e "$S/logs/error.log"
at_exit "'$S/stop.sh'; for f in '$S'/run/replica-*.pid; do kill -9 \$(cat \$f) 2>/dev/null; done"
expect_ok "$S/start.sh" "${NGINX_ARGS[@]}"
for url in "http://127.0.0.1:$BASE2" "http://127.0.0.1:$((BASE2 + 1))" "http://127.0.0.1:$LISTEN2"; do
  wait_http "$url/v2/health/ready" || { echo "$url did not start:"; cat "$S"/logs/*; exit 1; }
done
pass

cat >"$TEST_TMP/infer_load.py" <<'PY'
# 32 clients infer through nginx; one replica is killed with SIGKILL once a third are answered.
# A client resends on a connection error or 502/503/504 (up to 3 times, docs/scaling.md).
import http.client, json, os, signal, sys, threading, time
host, port, victim = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
CLIENTS, REQUESTS = 32, 150
lock = threading.Lock()
report = {"ok": 0, "client_retries": 0, "failed": [], "wrong": [], "killed": False}

def client(i):
    conn = None
    for k in range(REQUESTS):
        x, z = float(i), float(k % 7)
        body = json.dumps({"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 2], "data": [x, z]}]})
        status, text = -1, b""
        for attempt in range(4):
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, port, timeout=60)
                conn.request("POST", "/v2/models/lin/infer", body, {"Content-Type": "application/json"})
                r = conn.getresponse()
                status, text = r.status, r.read()
                if status not in (502, 503, 504): break
            except (OSError, http.client.HTTPException) as e:
                conn, status, text = None, -1, str(e).encode()
            with lock: report["client_retries"] += 1
            time.sleep(0.05 * (attempt + 1))
        with lock:
            if status != 200:
                report["failed"].append([status, text.decode(errors="replace")[:200]])
                continue
            got = json.loads(text)["outputs"][0]["data"][0]
            if abs(got - (0.5 + x + 2 * z)) > 1e-3: report["wrong"].append([x, z, got])
            report["ok"] += 1
            if not report["killed"] and report["ok"] >= CLIENTS * REQUESTS // 3:
                os.kill(victim, signal.SIGKILL)
                report["killed"] = True

threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({k: (v[:5] if isinstance(v, list) else v) for k, v in report.items()} | {"nfailed": len(report["failed"])}))
PY
VICTIM=$(cat "$S/run/replica-1.pid")
run "$PY" "$TEST_TMP/infer_load.py" 127.0.0.1 "$LISTEN2" "$VICTIM"
echo "serve load: $OUT"
REPORT=$(tail -1 <<<"$OUT")
check 'r["killed"]' && pass || fail "the serve replica was not killed under load: $OUT"
check 'r["nfailed"] == 0 and r["ok"] == 32 * 150' && pass || fail "requests failed after retries: $OUT"
check 'not r["wrong"]' && pass || fail "wrong predictions: $OUT"

# The killed replica, started again with start.sh's own line, loads lin@production from the registry.
line=$(grep 'replica-1.log' "$S/start.sh")
eval "$line"
echo $! >"$S/run/replica-1.pid"
wait_http "http://127.0.0.1:$BASE2/v2/health/ready" && pass || fail "replica 1 did not come back: $(cat "$S/logs/replica-1.log")"

# A promotion reaches both replicas (each polls the registry), and nginx's answers follow.
version_of() {  # URL: the forja-model-version header of one inference
  curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
    -d '{"inputs":[{"name":"features","datatype":"FP32","shape":[1,2],"data":[1,1]}]}' "$1/v2/models/lin/infer" |
    tr -d '\r' | sed -n 's/^forja-model-version: //Ip'
}
expect_ok forja models promote lin 2 --to production
for port in "$BASE2" "$((BASE2 + 1))"; do
  v=""
  for _ in $(seq 600); do
    v=$(version_of "http://127.0.0.1:$port")
    [[ $v == lin/2 ]] && break
    sleep 0.1
  done
  expect_eq "$v" "lin/2"
done
expect_eq "$(version_of "http://127.0.0.1:$LISTEN2")" "lin/2"

# Feedback reaches the replica that keeps the prediction: nginx picks the replica by X-Request-Id,
# so a label sent with its prediction's id in that header joins. First, predictions through
# nginx spread over both replicas (nginx takes the restarted one back once its fail_timeout is
# over): each is kept by exactly one, which a label sent to each replica directly shows.
infer() {  # URL ID
  curl -sf -o /dev/null -H "X-Request-Id: $2" -H 'Content-Type: application/json' \
    -d '{"inputs":[{"name":"features","datatype":"FP32","shape":[1,2],"data":[1,1]}]}' "$1/v2/models/lin/infer"
}
feedback() {  # URL ID: the answer's "joined" count
  curl -s -H "X-Request-Id: $2" -H 'Content-Type: application/json' \
    -d "{\"request_id\": \"$2\", \"label\": 103.5}" "$1/v2/models/lin/feedback" | grep -o '"joined":[0-9]*' | cut -d: -f2
}
on1=0 on2=0 both=0
for round in $(seq 100); do
  for i in $(seq 10); do
    id=spread-$round-$i-$RANDOM
    infer "http://127.0.0.1:$LISTEN2" "$id"
    j1=$(feedback "http://127.0.0.1:$BASE2" "$id") j2=$(feedback "http://127.0.0.1:$((BASE2 + 1))" "$id")
    [[ $j1 == 1 ]] && on1=$((on1 + 1))
    [[ $j2 == 1 ]] && on2=$((on2 + 1))
    [[ $j1 == "$j2" ]] && both=$((both + 1))
  done
  [[ $on1 -gt 0 && $on2 -gt 0 ]] && break
  sleep 0.2
done
[[ $on1 -gt 0 && $on2 -gt 0 && $both -eq 0 ]] && pass ||
  fail "predictions through nginx should land on both replicas, each kept by one: $on1 on 1, $on2 on 2, $both on both or none"
joined=0
for i in $(seq 20); do
  id=fb-$i-$RANDOM$RANDOM
  infer "http://127.0.0.1:$LISTEN2" "$id"
  [[ $(feedback "http://127.0.0.1:$LISTEN2" "$id") == 1 ]] && joined=$((joined + 1))
done
expect_eq "$joined" "20"

# forja rollout moves every replica behind nginx (it watches each replica's /metrics; the
# registry tells them the step), with traffic through nginx all along.
make_linear_package "$TEST_TMP/v3"
sed -i 's/"weights":\[1.0,2.0,0.0\]/"weights":[1.0,2.0,200.0]/' "$TEST_TMP/v3/model.json"
expect_ok forja models register lin "$TEST_TMP/v3" --no-push --no-profile
( while [[ ! -f $TEST_TMP/stop-traffic ]]; do infer "http://127.0.0.1:$LISTEN2" "t-$RANDOM$RANDOM"; done ) &
TRAFFIC=$!
at_exit "touch '$TEST_TMP/stop-traffic'; wait $TRAFFIC 2>/dev/null"
run forja rollout lin --to 3 --steps 50,100 --interval 1s --max-error-rate 1% \
  --server "http://127.0.0.1:$BASE2" --server "http://127.0.0.1:$((BASE2 + 1))"
[[ $RC -eq 0 ]] && pass || fail "forja rollout over the replicas behind nginx (exit $RC): $OUT"
expect_contains "$OUT" "completed"
touch "$TEST_TMP/stop-traffic"
wait "$TRAFFIC"
for port in "$BASE2" "$((BASE2 + 1))" "$LISTEN2"; do
  v=""
  for _ in $(seq 600); do
    v=$(version_of "http://127.0.0.1:$port")
    [[ $v == lin/3 ]] && break
    sleep 0.1
  done
  expect_eq "$v" "lin/3"
done

finish
