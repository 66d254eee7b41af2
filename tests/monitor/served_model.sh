# A real `forja serve` with a monitored model, and a real `forja server`, for the tests that
# point Prometheus at them (grafana_test.sh, alert_flow_test.sh). Source after
# tests/lib/common.sh, then:
#
#   serve_monitored_model 'MONITORING YAML'   # in a new workspace (cd's into it)
#   ... $SERVE is http://127.0.0.1:PORT; send_rows SHIFT N sends N requests of 50 rows ...
#   start_forja_server                        # $SERVER: forja server, a SQLite store, no auth
#
# The model: an xgboost package of 8 features (tests/serve/harness.py trains it with the venv's
# xgboost), registered in the workspace as churn/1 and served as churn@champion; its reference
# profile is made by `forja monitor profile` from 2000 rows of N(0, 1) features (columns f0..f7)
# and a label, and named in forja.yaml's monitoring.models.churn.profile. The version comes from
# a training run (ended 10 days ago) whose lineage reads data/train.csv, which a preparation run
# made 40 days ago, so every staleness gauge has a value (not stale under the default
# thresholds). MONITORING YAML is added under `monitoring:`. The servers stop with the test (at_exit).

PY=$FORJA_SOURCE/.venv/bin/python

serve_monitored_model() {
  new_repo ws
  "$PY" - "$FORJA_SOURCE/tests/serve" "$TEST_TMP/churn" ref.csv <<'PY' || { echo "FAIL: could not make the test model" >&2; exit 1; }
import csv, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import harness
harness.make_package(sys.argv[2])
x = np.random.default_rng(1).normal(size=(2000, harness.FEATURES))
with open(sys.argv[3], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow([f"f{j}" for j in range(harness.FEATURES)] + ["label"])
    w.writerows([list(r) + [int(r[0] > 0)] for r in x])
PY
  expect_ok forja monitor profile "$TEST_TMP/churn" --data ref.csv --target label --out churn-profile.json
  printf 'monitoring:\n%s\n  models: {churn: {profile: churn-profile.json}}\n' "$1" >>forja.yaml
  register_with_lineage
  # "$FORJA", not the forja() function: $! must be the server itself.
  "$FORJA" serve --port 0 churn@champion >serve.log 2>&1 &
  SERVE_PID=$!
  at_exit 'kill $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null'
  for _ in $(seq 200); do grep -q 'forja serve on http://' serve.log && break; sleep 0.05; done
  SERVE=$(grep -o 'http://[0-9.]*:[0-9]*' serve.log | head -1)
  [[ -n $SERVE ]] || { cat serve.log; echo "FAIL: forja serve did not start" >&2; exit 1; }
}

# churn/1 from a training run with lineage, at times 40 and 10 days ago, through a forja server
# on the workspace's own store (the runs' REST API takes explicit times); promoted to @champion.
register_with_lineage() {
  local log="$TEST_TMP/lineage-server.log" url pid train
  "$FORJA" server --port 0 --store "sqlite:///$PWD/.forja/forja.db" --auth off >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 200); do grep -q 'http://' "$log" && break; sleep 0.05; done
  url=$(grep -o 'http://[0-9.]*:[0-9]*' "$log" | head -1)
  train=$("$PY" - "$url" <<'PY'
import json, sys, time, urllib.request
def api(route, body):
    req = urllib.request.Request(sys.argv[1] + "/api/2.0/" + route, json.dumps(body).encode(), {"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(req, timeout=10).read() or b"{}")
day, now = 86400000, int(time.time() * 1000)
exp = api("mlflow/experiments/create", {"name": "churn-training"})["experiment_id"]
def run(start, end, items):
    rid = api("mlflow/runs/create", {"experiment_id": exp, "start_time": start})["run"]["info"]["run_id"]
    api("mlflow/runs/update", {"run_id": rid, "status": "FINISHED", "end_time": end})
    api("forja/lineage/log", {"run_id": rid, "items": [{"direction": d, "path": "data/train.csv", "hash": "sha256:" + "a" * 64,
                                                        "kind": "file", "size": 1} for d in items]})
    return rid
run(now - 41 * day, now - 40 * day, ["output"])
print(run(now - 11 * day, now - 10 * day, ["input"]))
PY
)
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  [[ -n $train ]] || { cat "$log"; echo "FAIL: could not log the training runs" >&2; exit 1; }
  expect_ok forja models register churn "$TEST_TMP/churn" --run "$train" --no-push
  expect_ok forja models promote churn 1 --to @champion
}

# send_rows SHIFT N: N OIP requests of 50 rows of N(SHIFT, 1) features, 0.1 s apart, each followed
# by feedback with the rows' labels (quality from feedback). In the
# background, run "$PY" "$SEND_ROWS" "$SERVE" SHIFT N itself, so that $! is the sender.
SEND_ROWS=$TEST_TMP/send_rows.py
cat >"$SEND_ROWS" <<'PY'
import json, sys, time, urllib.request
import numpy as np
url, shift, n = sys.argv[1] + "/v2/models/churn/", float(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(7)
def post(route, body):
    req = urllib.request.Request(url + route, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.headers.get("X-Request-Id")
for _ in range(n):
    x = rng.normal(loc=shift, size=(50, 8)).astype(np.float32)
    body = {"inputs": [{"name": "features", "datatype": "FP32", "shape": [50, 8], "data": x.ravel().tolist()}]}
    rid = post("infer", body)
    # The ground truth of the 50 rows, for the quality from feedback (labels as the training's).
    post("feedback", {"request_id": rid, "label": (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int).tolist()})
    time.sleep(0.1)
PY
send_rows() { "$PY" "$SEND_ROWS" "$SERVE" "$@"; }

start_forja_server() {
  "$FORJA" server --port 0 --store "sqlite:///$TEST_TMP/server.db" --auth off >"$TEST_TMP/server.log" 2>&1 &
  SERVER_PID=$!
  at_exit 'kill $SERVER_PID 2>/dev/null; wait $SERVER_PID 2>/dev/null'
  for _ in $(seq 200); do grep -q 'http://' "$TEST_TMP/server.log" && break; sleep 0.05; done
  SERVER=$(grep -o 'http://[0-9.]*:[0-9]*' "$TEST_TMP/server.log" | head -1)
  [[ -n $SERVER ]] || { cat "$TEST_TMP/server.log"; echo "FAIL: forja server did not start" >&2; exit 1; }
}
