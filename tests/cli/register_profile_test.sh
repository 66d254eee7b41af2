#!/usr/bin/env bash
# forja models register --run profiles the version's training data at once, found through the
# run's lineage (the CSV file of the data folder the pipeline produced, read from the cache by
# hash) or named in forja.yaml (monitoring.models.NAME.reference), with its target; and the
# README's monitoring commands (alerts, grafana) as a user types them. Hostile inputs: a cache
# object that does not match its hash, a reference path that leaves the workspace, a missing file.
source "$(dirname "$0")/../lib/common.sh"

new_repo reg
# prepare writes data/prepared/{train,test}.csv (x, z, label); train writes a linear model
# (tests/lib/linear_model.sh: 0.5 + x + 2 z) as a package.
cat >prepare.py <<'EOF'
import os, random
os.makedirs("data/prepared", exist_ok=True)
for name, seed, n in (("train", 1, 1500), ("test", 2, 500)):
    r = random.Random(seed)
    with open(f"data/prepared/{name}.csv", "w") as f:
        f.write("x,z,label\n")
        for _ in range(n):
            f.write("%.6f,%.6f,%d\n" % (r.gauss(0, 1), r.gauss(5, 2), r.random() < 0.3))
EOF
cat >train.sh <<EOF
. "$FORJA_SOURCE/tests/lib/linear_model.sh"
make_linear_package pkg
EOF
cat >>forja.yaml <<'EOF'
stages:
  prepare: {cmd: python3 prepare.py, deps: [prepare.py], outs: [data/prepared]}
  train: {cmd: sh train.sh, deps: [train.sh, data/prepared], outs: [pkg]}
monitoring:
  models:
    lin: {target: label}
EOF
expect_ok forja run
run_id=$(forja runs list --max 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"][0]["info"]["run_id"])')

# ---- through lineage: data/prepared/train.csv (the file with "train" in its name) ---------------------
expect_ok forja models register lin pkg --run "$run_id"
expect_eq "$(tail -1 <<<"$OUT")" "lin/1"
expect_contains "$OUT" "Profiled 1500 rows and 4 columns of data/prepared/train.csv (from the lineage of run $run_id) (with the predictions of lin/1); attached to lin/1"
expect_ok forja models show lin --json
expect_eq "$(python3 -c 'import json,sys; print([(v["version"], v["profile"]["rows"], v["profile"]["columns"]) for v in json.load(sys.stdin)["versions"]])' <<<"$OUT")" \
  "[('1', 1500, 4)]"
# The target is marked (not a feature, may be missing from current data): test.csv does not drift.
expect_ok forja monitor report --reference lin/1 --current data/prepared/test.csv --json
expect_eq "$(python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["drift"], j["reference_rows"], j["current_rows"])' <<<"$OUT")" \
  "False 1500 500"
# The profile is the lineage's bytes even after the workspace moved on.
# (A new file, as editors write one: the tracked file is a read-only link into the cache.)
python3 -c '
import os; t = open("data/prepared/train.csv").read() + "100,100,1\n"
open("train.new", "w").write(t); os.replace("train.new", "data/prepared/train.csv")'
expect_ok forja models register lin pkg --run "$run_id" --json
expect_contains "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["profile"])' <<<"$OUT")" "Profiled 1500 rows"
expect_ok forja models register lin pkg --run "$run_id" --no-profile
expect_not_contains "$OUT" "Profiled"
expect_ok forja models show lin --json
expect_eq "$(python3 -c 'import json,sys; print([(v["version"], bool(v["profile"])) for v in json.load(sys.stdin)["versions"]])' <<<"$OUT")" \
  "[('3', False), ('2', True), ('1', True)]"
# Without --run and without forja.yaml's reference nothing is profiled, and nothing is said.
expect_ok forja models register lin pkg
expect_not_contains "$OUT" "profile"

# ---- a planted cache object: rehashed, refused, removed; the version stands ------------------------
obj=$(python3 - "$run_id" <<'EOF'
import hashlib, os
# The cached object of the committed train.csv: the file as the run saw it (without the extra row).
data = b"".join(open("data/prepared/train.csv", "rb").readlines()[:-1])
h = hashlib.sha256(data).hexdigest()
print(f".forja/cache/sha256/{h[:2]}/{h[2:]}")
EOF
)
[[ -f $obj ]] || fail "the cache has no object for train.csv at $obj"
chmod u+w "$obj"
printf 'x,z,label\n1,2,0\n' >"$obj"
expect_ok forja models register lin pkg --run "$run_id"
expect_contains "$OUT" "lin/5 has no reference profile: the cached copy of data/prepared/train.csv does not match its hash"
expect_contains "$OUT" "monitoring.models.lin.reference"
[[ ! -e $obj ]] && pass || fail "the planted object stays in the cache"

# ---- named in forja.yaml ------------------------------------------------------------------------------
cp data/prepared/test.csv ref.csv
python3 - <<'EOF'
t = open("forja.yaml").read().replace("lin: {target: label}", "lin: {target: label, reference: ref.csv}")
open("forja.yaml", "w").write(t)
EOF
expect_ok forja models register lin pkg --run "$run_id"
expect_contains "$OUT" "Profiled 500 rows and 4 columns of ref.csv (with the predictions of lin/6)"
python3 -c 't = open("forja.yaml").read().replace("reference: ref.csv", "reference: nope.csv"); open("forja.yaml", "w").write(t)'
expect_fail 1 forja models register lin pkg
expect_one_error_line "$OUT"
expect_contains "$OUT" "forja.yaml: monitoring.models.lin.reference: nope.csv: no such file"
python3 -c 't = open("forja.yaml").read().replace("reference: nope.csv", "reference: ../outside.csv"); open("forja.yaml", "w").write(t)'
expect_fail 1 forja models register lin pkg
expect_one_error_line "$OUT"
expect_contains "$OUT" "monitoring.models.lin.reference"
python3 -c 't = open("forja.yaml").read().replace("reference: ../outside.csv", "reference: [a]"); open("forja.yaml", "w").write(t)'
expect_fail 1 forja models register lin pkg
expect_contains "$OUT" "monitoring.models.lin.reference: must be the path of a CSV file"
python3 -c 't = open("forja.yaml").read().replace("reference: [a]", "exclude: x"); open("forja.yaml", "w").write(t)'
expect_fail 1 forja models register lin pkg
expect_contains "$OUT" "monitoring.models.lin.exclude: must be a list of column names"

# ---- the README's alerts and grafana commands --------------------------------------------------------
python3 -c 't = open("forja.yaml").read().replace(", exclude: x", ""); open("forja.yaml", "w").write(t)'
expect_ok forja monitor alerts --out forja-alerts.yml
if command -v promtool >/dev/null; then
  run promtool check rules forja-alerts.yml
  if [[ $RC -eq 0 ]]; then pass; else fail "promtool check rules: $OUT"; fi
fi
expect_ok forja monitor grafana --out grafana --prometheus-url http://prometheus:9090
expect_contains "$(cat grafana/datasources/forja-prometheus.yaml)" "http://prometheus:9090"
expect_eq "$(ls grafana/dashboards | tr '\n' ' ')" "forja-model-health.json forja-serving.json forja-tracking.json provider.yaml "

finish
