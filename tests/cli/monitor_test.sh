#!/usr/bin/env bash
# forja monitor profile / report and the profiles forja models show lists, as a user types them:
# a registered linear model profiled with its predictions, reports against the version (by number
# and alias), a profile file and a reference CSV (no shift: exit 0; a mean shift: exit 1 and the
# drifted columns named in text, --json, --md and --html), a second workspace fetching the profile
# from the default remote, the same through forja server, and every bad input as one error line
# with its exit code.
source "$(dirname "$0")/../lib/common.sh"
source "$FORJA_SOURCE/tests/lib/linear_model.sh"

new_repo mon
make_linear_package pkg   # 0.5 + x + 2 z
# 2000 rows each: x ~ N(0, 1), a category, z ~ N(5, 2), a 0/1 label; shifted.csv moves x and z.
gen() {  # gen FILE SEED SHIFT
  python3 - "$@" <<'EOF'
import random, sys
path, seed, shift = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
r = random.Random(seed)
with open(path, "w") as f:
    f.write("x,color,z,label\n")
    for _ in range(2000):
        f.write("%.6f,%s,%.6f,%d\n" % (r.gauss(0, 1) + shift, r.choice("aabc"), r.gauss(5, 2) + 2 * shift,
                                       r.random() < 0.3))
EOF
}
gen ref.csv 1 0
gen same.csv 2 0
gen shifted.csv 3 1.5
git add -A && git commit -qm init

expect_ok forja models register churn pkg
expect_eq "$(tail -1 <<<"$OUT")" "churn/1"
expect_ok forja models register churn pkg
expect_eq "$(tail -1 <<<"$OUT")" "churn/2"

# ---- profile ------------------------------------------------------------------------------------------
expect_ok forja monitor profile churn/1 --data ref.csv --target label --exclude color
expect_eq "$(tail -1 <<<"$OUT")" "churn/1"
expect_contains "$OUT" "Profiled 2000 rows and 5 columns of ref.csv (with the predictions of churn/1)"
expect_ok forja monitor profile churn/1 --data ref.csv --target label --exclude color --out ref-profile.json --json
expect_eq "$(python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["rows"], j["columns"], j["prediction_columns"], j["target"], j["version"])' <<<"$OUT")" \
  "2000 5 1 label 1"
expect_eq "$(python3 -c 'import json; print([c["name"] for c in json.load(open("ref-profile.json"))["columns"]])')" \
  "['x', 'color', 'z', 'label', '__prediction__']"
# The prediction is the model's: 0.5 + x + 2 z over the reference rows.
expect_eq "$(python3 -c '
import json, csv
p = next(c for c in json.load(open("ref-profile.json"))["columns"] if c["name"] == "__prediction__")
rows = list(csv.DictReader(open("ref.csv")))
want = sum(0.5 + float(r["x"]) + 2 * float(r["z"]) for r in rows) / len(rows)
print(abs(p["mean"] - want) < 1e-3)')" "True"
expect_ok forja models show churn
expect_contains "$OUT" "2000 rows, 5 columns"
expect_contains "$OUT" "Profile"
expect_ok forja models show churn --json
expect_eq "$(python3 -c 'import json,sys; print([(v["version"], v["profile"] and (v["profile"]["rows"], v["profile"]["columns"])) for v in json.load(sys.stdin)["versions"]])' <<<"$OUT")" \
  "[('2', None), ('1', (2000, 5))]"
# gc keeps the profile: the store names it.
expect_ok forja gc --force
expect_ok forja models show churn
expect_contains "$OUT" "2000 rows, 5 columns"
# A package folder: the profile goes to --out only.
expect_ok forja monitor profile pkg --data ref.csv --target label --exclude color --out folder-profile.json
expect_contains "$(cat folder-profile.json)" '"__prediction__"'

# ---- report: no shift, then a mean shift ------------------------------------------------------------
expect_ok forja models promote churn 1 --to @champion
expect_ok forja monitor report --reference churn@champion --current same.csv
expect_contains "$OUT" "No dataset drift: 0 of 4 tested columns drifted"
expect_contains "$OUT" "Not compared (the current data has no such column): __prediction__"
expect_fail 1 forja monitor report --reference churn/1 --current shifted.csv
expect_contains "$OUT" "Dataset drift: 2 of 4 tested columns drifted (50%, threshold 50%)"
expect_contains "$OUT" "wasserstein"
expect_fail 1 forja monitor report --reference churn/1 --current shifted.csv --json
expect_eq "$(python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["drift"], [c["name"] for c in j["columns"] if c["verdict"] == "drift"], j["skipped"])' <<<"$OUT")" \
  "True ['x', 'z'] ['__prediction__']"
expect_fail 1 forja monitor report --reference churn/1 --current shifted.csv --md
expect_contains "$OUT" "### Drift report: drift"
expect_contains "$OUT" "**Dataset drift: 2 of 4 tested columns drifted"
expect_eq "$(grep -c '| DRIFT' <<<"$OUT")" "2"
expect_contains "$(grep '| x ' <<<"$OUT")" "DRIFT"
expect_fail 1 forja monitor report --reference churn/1 --current shifted.csv --html "$TEST_TMP/drift.html"
expect_eq "$(grep -c '<svg' "$TEST_TMP/drift.html")" "4"
expect_contains "$(grep '<tr class="drift">' "$TEST_TMP/drift.html")" "<td>z</td>"
expect_eq "$(grep -ci '<script\|src=\|href=\|@import\|url(' "$TEST_TMP/drift.html")" "0"   # nothing to fetch
# A reference CSV compares exact values; a profile file its bins: the same verdicts here.
expect_ok forja monitor report --reference ref.csv --current same.csv
expect_fail 1 forja monitor report --reference ref.csv --current shifted.csv --json
expect_eq "$(python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["exact"], [c["name"] for c in j["columns"] if c["verdict"] == "drift"])' <<<"$OUT")" \
  "True ['x', 'z']"
expect_fail 1 forja monitor report --reference ref.csv --current shifted.csv --html "$TEST_TMP/exact.html"
expect_eq "$(grep -c '<svg' "$TEST_TMP/exact.html")" "4"
expect_ok forja monitor report --reference ref-profile.json --current same.csv --md
expect_fail 1 forja monitor report --reference ref-profile.json --current shifted.csv

# ---- empty current data: a documented verdict ------------------------------------------------------
: >empty.csv
expect_ok forja monitor report --reference churn/1 --current empty.csv
expect_contains "$OUT" "No dataset drift: no column could be tested (the current data has no rows)"
head -1 ref.csv >header-only.csv
expect_ok forja monitor report --reference ref.csv --current header-only.csv --json
expect_eq "$(python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["drift"], j["tested"], {c["verdict"] for c in j["columns"]})' <<<"$OUT")" \
  "False 0 {'no_current_values'}"

# ---- bad input: one error line each ---------------------------------------------------------------
# same.csv without z, with a column w.
python3 -c 'import csv; f = open("cols.csv", "w"); [f.write(",".join(row[:2] + row[3:] + ["w" if i == 0 else "1"]) + "\n") for i, row in enumerate(csv.reader(open("same.csv")))]'
expect_fail 1 forja monitor report --reference churn/1 --current cols.csv
expect_one_error_line "$OUT"
expect_contains "$OUT" "cols.csv: its columns are not the reference's: no column 'z'; columns the reference does not have: 'w'"
printf '{"format": "forja-profile", "version": 1, "rows": 3, "columns": [{"name": 1}]}' >bad.json
expect_fail 1 forja monitor report --reference bad.json --current same.csv
expect_one_error_line "$OUT"
expect_contains "$OUT" "bad.json: profile: columns[0].name"
printf '{"format": "forja-profile", "version": 1,' >torn.json
expect_fail 1 forja monitor report --reference torn.json --current same.csv
expect_one_error_line "$OUT"
expect_fail 1 forja monitor profile churn/9 --data ref.csv
expect_one_error_line "$OUT"
expect_contains "$OUT" "not found"
expect_fail 1 forja monitor report --reference churn/9 --current same.csv
expect_one_error_line "$OUT"
expect_fail 1 forja monitor report --reference churn/2 --current same.csv
expect_one_error_line "$OUT"
expect_contains "$OUT" "churn/2 has no reference profile; forja monitor profile churn/2 --data FILE"
expect_fail 1 forja monitor report --reference nope.csv --current same.csv
expect_contains "$OUT" "--reference nope.csv: no such file, and not a model reference"
expect_fail 1 forja monitor report --reference churn/1 --current nope.csv
expect_contains "$OUT" "--current nope.csv: no such file"
expect_fail 1 forja monitor profile churn/2 --data ref.csv --target nope
expect_one_error_line "$OUT"
expect_contains "$OUT" "--target nope: ref.csv has no such column"
expect_fail 1 forja monitor profile churn/2 --data ref.csv   # color is not a number: scoring names the row
expect_one_error_line "$OUT"
expect_contains "$OUT" "--exclude COLUMN"
expect_ok forja models show churn --json                      # nothing was attached to version 2
expect_contains "$OUT" '"profile": null'
printf 'x,y\n1,2\n3\n' >ragged.csv
expect_fail 1 forja monitor profile churn/2 --data ragged.csv
expect_one_error_line "$OUT"
expect_contains "$OUT" "ragged.csv: line 3: 1 cells, the header has 2"
expect_fail 2 forja monitor profile churn/2 --data rows.jsonl
expect_contains "$OUT" "forja monitor reads CSV files"
expect_fail 2 forja monitor profile pkg --data ref.csv
expect_contains "$OUT" "--out FILE"
expect_fail 2 forja monitor report --reference churn/1 --current same.csv --md --json
expect_fail 2 forja monitor report --current same.csv
expect_fail 2 forja monitor frobnicate
expect_contains "$OUT" "unknown command 'frobnicate' for forja monitor"

# ---- a second workspace reads the store, and the profile from the default remote --------------------------
forja -q remote add store "$TEST_TMP/remote"
expect_ok forja monitor profile churn/2 --data ref.csv --exclude color --exclude label   # pushed to the remote
REPO1=$REPO
new_repo second
forja -q remote add store "$TEST_TMP/remote"
expect_fail 1 forja monitor report --store "sqlite:///$REPO1/.forja/forja.db" --reference churn/2 --current "$REPO1/shifted.csv"
expect_contains "$OUT" "Dataset drift: 2 of 4 tested columns drifted"
cd "$REPO1" && REPO=$REPO1

# ---- the same through forja server ----------------------------------------------------------------
STORE="sqlite:///$REPO/.forja/forja.db"
# "$FORJA", not the forja() function: $! must be the server itself, or kill leaves it running.
"$FORJA" server --port 0 --store "$STORE" --auth off >"$TEST_TMP/server.log" 2>&1 &
SERVER=$!
at_exit "kill $SERVER 2>/dev/null"
for _ in $(seq 100); do grep -q 'http://' "$TEST_TMP/server.log" && break; sleep 0.05; done
URL=$(grep -o 'http://[0-9.:]*' "$TEST_TMP/server.log" | head -1)
mkdir -p "$TEST_TMP/elsewhere" && cp ref.csv shifted.csv "$TEST_TMP/elsewhere/"
cd "$TEST_TMP/elsewhere"
export XDG_CACHE_HOME=$TEST_TMP/user-cache   # where packages and profiles from a server go
expect_ok forja monitor profile churn/2 --store "$URL" --data ref.csv --exclude color --exclude label
expect_contains "$OUT" "with the predictions of churn/2"
expect_ok forja models show churn --store "$URL" --json
expect_eq "$(python3 -c 'import json,sys; print([v["profile"]["rows"] for v in json.load(sys.stdin)["versions"]])' <<<"$OUT")" \
  "[2000, 2000]"
rm -rf "$XDG_CACHE_HOME"   # the report fetches the profile from the server again
expect_fail 1 forja monitor report --store "$URL" --reference churn/2 --current shifted.csv --json
expect_eq "$(python3 -c 'import json,sys; print([c["name"] for c in json.load(sys.stdin)["columns"] if c["verdict"] == "drift"])' <<<"$OUT")" \
  "['x', 'z']"
kill $SERVER
wait $SERVER 2>/dev/null
cd "$REPO"
expect_ok forja models show churn                              # the server kept it in this workspace's cache
expect_eq "$(grep -c '2000 rows, 5 columns' <<<"$OUT")" "2"

# ---- a version whose model does not load here: profiled without predictions, and said so --------------
write_test_package badpkg   # an empty forest, which the xgboost runtime refuses
expect_ok forja models register churn badpkg
expect_ok forja monitor profile churn/3 --data ref.csv
expect_contains "$OUT" "forja: warning: the profile has no prediction column: loading churn/3"
expect_contains "$OUT" "Profiled 2000 rows and 4 columns of ref.csv; attached to churn/3"

# ---- help is complete -------------------------------------------------------------------------------------
for cmd in "monitor" "monitor profile" "monitor report"; do
  # shellcheck disable=SC2086
  expect_ok forja $cmd --help
  expect_contains "$OUT" "Exit codes"
done
expect_ok forja monitor report --help
expect_contains "$OUT" "1 dataset drift"
finish
