#!/usr/bin/env bash
# forja monitor report over the other current data a user has: the profile `forja predict
# --profile` writes of a batch it scored, and forja serve's prediction log (--current
# predictions [--since]). Each must find drift where the CSV file finds it and none where it
# finds none; hostile log lines and mismatched profiles are one error line.
source "$(dirname "$0")/../lib/common.sh"
source "$FORJA_SOURCE/tests/lib/linear_model.sh"

new_repo src
make_linear_package pkg   # 0.5 + x + 2 z
gen() {  # gen FILE SEED SHIFT
  python3 - "$@" <<'EOF'
import random, sys
path, seed, shift = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
r = random.Random(seed)
with open(path, "w") as f:
    f.write("x,z,label\n")
    for _ in range(2000):
        f.write("%.6f,%.6f,%d\n" % (r.gauss(0, 1) + shift, r.gauss(5, 2) + 2 * shift, r.random() < 0.3))
EOF
}
gen ref.csv 1 0
gen same.csv 2 0
gen shifted.csv 3 1.5
expect_ok forja models register lin pkg
expect_ok forja monitor profile lin/1 --data ref.csv --target label
# The JSON document of a report's output (after the lines said on stderr): drift, drifted columns.
drifted() {
  python3 -c '
import json, sys
s = sys.stdin.read(); s = s[s.index("{"):] if s.startswith("{") else s[s.index("\n{") + 1:]
j = json.loads(s); print(j["drift"], sorted(c["name"] for c in j["columns"] if c["verdict"] == "drift"))'
}

# ---- forja predict --profile ------------------------------------------------------------------------
expect_ok forja predict lin/1 --input same.csv --output same-pred.csv --exclude label --profile same.json
expect_contains "$OUT" "Scored 2000 rows with lin/1 into same-pred.csv; profiled into same.json"
expect_eq "$(python3 -c 'import json; print([c["name"] for c in json.load(open("same.json"))["columns"]])')" \
  "['x', 'z', 'label', '__prediction__']"
expect_ok forja monitor report --reference lin/1 --current same.json --json
expect_eq "$(drifted <<<"$OUT")" "False []"
expect_ok forja predict lin/1 --input shifted.csv --output shifted-pred.csv --exclude label --keep label --profile shifted.json
expect_eq "$(python3 -c 'import json; print([c["name"] for c in json.load(open("shifted.json"))["columns"]])')" \
  "['x', 'z', 'label', '__prediction__']"
expect_fail 1 forja monitor report --reference lin/1 --current shifted.json --json
expect_eq "$(drifted <<<"$OUT")" "True ['__prediction__', 'x', 'z']"
# The same verdicts as the CSV file's (with the predictions as a column).
python3 - <<'EOF'
import csv
rows = list(csv.DictReader(open("shifted.csv")))
preds = [r["score"] for r in csv.DictReader(open("shifted-pred.csv"))]
with open("shifted-with-pred.csv", "w") as f:
    f.write("x,z,label,__prediction__\n")
    for r, p in zip(rows, preds):
        f.write(f'{r["x"]},{r["z"]},{r["label"]},{p}\n')
EOF
expect_fail 1 forja monitor report --reference lin/1 --current shifted-with-pred.csv --json
expect_eq "$(drifted <<<"$OUT")" "True ['__prediction__', 'x', 'z']"
expect_fail 1 forja monitor report --reference lin/1 --current shifted.json --html "$TEST_TMP/p.html"
expect_eq "$(grep -c '<svg' "$TEST_TMP/p.html")" "4"
# A CSV reference against a current profile: on the reference's bins.
expect_fail 1 forja monitor report --reference ref.csv --current shifted.json
expect_contains "$OUT" "Dataset drift"
# Bad input.
expect_fail 2 forja predict lin/1 --input same.csv --output same-pred.jsonl --exclude label --profile p.json
expect_contains "$OUT" "--profile reads the input and the predictions as CSV"
expect_fail 2 forja predict lin/1 --input same.csv --output s.csv --exclude label --profile p.json --shard 0/2
expect_contains "$OUT" "--profile describes the whole input"
python3 -c '
import json; p = json.load(open("same.json"))
p["columns"] = [c for c in p["columns"] if c["name"] != "z"]; json.dump(p, open("no-z.json", "w"))'
expect_fail 1 forja monitor report --reference lin/1 --current no-z.json
expect_one_error_line "$OUT"
expect_contains "$OUT" "no-z.json: the current profile has no column 'z'"
expect_ok forja monitor profile pkg --data same.csv --target label --out other-kinds.json
python3 -c '
import json; p = json.load(open("other-kinds.json"))
p["columns"][0] = {"name": "x", "kind": "categorical", "rows": 2000, "missing": 0, "infinite": 0, "distinct": 1, "categories": ["a"], "counts": [2000], "other": 0}
json.dump(p, open("other-kinds.json", "w"))'
expect_fail 1 forja monitor report --reference lin/1 --current other-kinds.json
expect_contains "$OUT" "column 'x' is numeric in the reference and categorical in the current profile"
echo '{"format": "forja-profile"' >broken.json
expect_fail 1 forja monitor report --reference lin/1 --current broken.json
expect_one_error_line "$OUT"

# ---- --current predictions: a log written by hand, with times ----------------------------------------
mkdir -p .forja/predictions
python3 - <<'EOF'
import csv, json, time
now = time.time()
def lines(path, t, model="lin", version="1"):
    rows = [(float(r["x"]), float(r["z"])) for r in csv.DictReader(open(path))]
    for i in range(0, len(rows), 50):
        chunk = rows[i:i + 50]
        yield json.dumps({"time": t, "request_id": f"r{i}", "model": model, "version": version, "ref": "lin/1",
                          "latency_us": 10.0, "inputs": {"features": [list(r) for r in chunk]},
                          "outputs": {"score": [0.5 + x + 2 * z for x, z in chunk]}})
with open(".forja/predictions/predictions-20261206T000000Z-1-0.jsonl", "w") as f:
    for l in lines("shifted.csv", now - 7200): f.write(l + "\n")          # two hours ago: drifted
    for l in lines("shifted.csv", now, model="other"): f.write(l + "\n")   # another model
with open(".forja/predictions/predictions-20261206T010000Z-1-0.jsonl", "w") as f:
    for l in lines("same.csv", now - 60): f.write(l + "\n")               # a minute ago: like the reference
with open(".forja/predictions/feedback-20261206T010000Z-1-0.jsonl", "w") as f:
    f.write("not even json\n")                                               # not a predictions file
EOF
expect_ok forja monitor report --reference lin/1 --current predictions --since 1h --json
expect_eq "$(drifted <<<"$OUT")" "False []"
expect_contains "$OUT" "Read 40 logged requests (2000 rows) of lin/1"
expect_eq "$(python3 -c 'import json,sys; s=sys.stdin.read(); j=json.loads(s[s.index("\n{") + 1:]); print(j["current"], j["current_rows"])' <<<"$OUT")" \
  "the prediction log of lin/1 (last 1h) 2000"
expect_fail 1 forja monitor report --reference lin@champion --current predictions
expect_ok forja models promote lin 1 --to @champion
expect_fail 1 forja monitor report --reference lin@champion --current predictions --md
expect_contains "$OUT" "Read 80 logged requests (4000 rows) of lin/1"
expect_contains "$OUT" "the prediction log of lin/1"
expect_fail 2 forja monitor report --reference lin/1 --current predictions --since yesterday
expect_contains "$OUT" "--since takes a duration such as 90s, 30m, 24h or 7d, not 'yesterday'"
expect_fail 2 forja monitor report --reference lin/1 --current same.csv --since 1h
expect_contains "$OUT" "--since and --log-dir read the prediction log: --current predictions"
expect_fail 2 forja monitor report --reference ref.csv --current predictions
expect_contains "$OUT" "--current predictions compares a served version's logged traffic with its profile"
# A hostile line: one error naming the file and line; a tensor too wide for the profile.
mkdir -p "$TEST_TMP/badlog"
printf '{"time": 1, "model": "lin", "version": "1", "inputs": {"features": [[1, 2, 3]]}, "outputs": {"score": [1]}}\n' \
  >"$TEST_TMP/badlog/predictions-1.jsonl"
expect_fail 1 forja monitor report --reference lin/1 --current predictions --log-dir "$TEST_TMP/badlog"
expect_one_error_line "$OUT"
expect_contains "$OUT" "predictions-1.jsonl:1: input 'features' has more values than the profile has features"
printf '{"time": 1, "model": "lin", "version": "1", "inputs": [[[[' >"$TEST_TMP/badlog/predictions-1.jsonl"
expect_fail 1 forja monitor report --reference lin/1 --current predictions --log-dir "$TEST_TMP/badlog"
expect_contains "$OUT" "predictions-1.jsonl:1: not a JSON object"
python3 -c 'print("[" * 200000)' >"$TEST_TMP/badlog/predictions-1.jsonl"
expect_fail 1 forja monitor report --reference lin/1 --current predictions --log-dir "$TEST_TMP/badlog"
expect_contains "$OUT" "predictions-1.jsonl:1 nests JSON more than"

# ---- --current predictions: the log a real forja serve wrote ---------------------------------------
rm -rf .forja/predictions
"$FORJA" serve lin/1 --port 0 --log-sample 1 >serve.log 2>&1 &
SERVE_PID=$!
at_exit 'kill $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null'
for _ in $(seq 200); do grep -q 'forja serve on http://' serve.log && break; sleep 0.05; done
SERVE=$(grep -o 'http://[0-9.]*:[0-9]*' serve.log | head -1)
[[ -n $SERVE ]] || fail "forja serve did not start: $(cat serve.log)"
send() {  # send FILE: every row, 100 per request
  python3 - "$SERVE" "$1" <<'EOF'
import csv, json, sys, urllib.request
rows = [[float(r["x"]), float(r["z"])] for r in csv.DictReader(open(sys.argv[2]))]
for i in range(0, len(rows), 100):
    chunk = rows[i:i + 100]
    body = {"inputs": [{"name": "features", "datatype": "FP32", "shape": [len(chunk), 2], "data": sum(chunk, [])}]}
    req = urllib.request.Request(sys.argv[1] + "/v2/models/lin/infer", json.dumps(body).encode(), {"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()
EOF
}
send same.csv
logged() { cat .forja/predictions/predictions-*.jsonl 2>/dev/null | wc -l; }
for _ in $(seq 100); do [[ $(logged) -ge 20 ]] && break; sleep 0.1; done
expect_ok forja monitor report --reference lin/1 --current predictions --json
expect_eq "$(drifted <<<"$OUT")" "False []"
expect_contains "$OUT" "Read 20 logged requests (2000 rows) of lin/1"
send shifted.csv
for _ in $(seq 100); do [[ $(logged) -ge 40 ]] && break; sleep 0.1; done
expect_fail 1 forja monitor report --reference lin/1 --current predictions --json
expect_eq "$(drifted <<<"$OUT")" "True ['__prediction__', 'x', 'z']"

finish
