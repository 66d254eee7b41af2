#!/usr/bin/env bash
# forja predict: batch scoring against xgboost's own predictions, CSV and JSONL,
# --keep / --exclude, bad rows (fail and skip), shards that add up to the whole,
# a kill -9 mid-run resumed to the same bytes, bounded memory, registry references.
source "$(dirname "$0")/../lib/common.sh"

PY=$FORJA_SOURCE/.venv/bin/python
if ! "$PY" -c 'import xgboost, numpy' 2>/dev/null; then
  echo "SKIP: $PY has no xgboost (run scripts/setup)"
  exit 77
fi

new_repo
# A binary classifier on 8 features, a package, and 20,000 rows with missing values.
"$PY" - <<'EOF' || exit 1
import numpy as np, xgboost as xgb, os
rng = np.random.default_rng(7)
x = rng.normal(size=(3000, 8)).astype(np.float32)
y = (x[:, 0] + 0.5 * x[:, 1] - x[:, 2] * x[:, 3] > 0).astype(int)
x[rng.random(x.shape) < 0.05] = np.nan
b = xgb.train({"objective": "binary:logistic", "max_depth": 4, "eta": 0.3}, xgb.DMatrix(x, y), 30)
os.makedirs("pkg", exist_ok=True)
b.save_model("pkg/model.json")
open("pkg/model.yaml", "w").write("""format: 1
flavor: xgboost
model: model.json
signature:
  inputs: [{name: features, datatype: FP32, shape: [-1, 8]}]
  outputs: [{name: probability, datatype: FP32, shape: [-1]}]
""")
t = rng.normal(size=(20000, 8)).astype(np.float32)
t[rng.random(t.shape) < 0.05] = np.nan
with open("rows.csv", "w") as f:
    f.write("id," + ",".join(f"f{i}" for i in range(8)) + ",label\n")
    for i, r in enumerate(t):
        f.write(f"{i}," + ",".join("" if np.isnan(v) else repr(float(v)) for v in r) + ",0\n")
np.save("expected.npy", b.inplace_predict(t))
import json
with open("rows.jsonl", "w") as f:
    for i, r in enumerate(t[:500]):
        f.write(json.dumps({"id": i, "features": [None if np.isnan(v) else float(v) for v in r]}) + "\n")
EOF

compare() {  # compare FILE COLUMN [ROWS]: predictions equal xgboost's within 1e-6, in input order
  "$PY" - "$@" <<'EOF'
import sys, json, numpy as np
path, col = sys.argv[1], sys.argv[2]
want = np.load("expected.npy")
if path.endswith(".jsonl"):
    rows = [json.loads(l) for l in open(path)]
    ids = np.array([r["id"] for r in rows]); got = np.array([r[col] for r in rows], dtype=np.float64)
else:
    import csv
    rows = list(csv.DictReader(open(path)))
    ids = np.array([int(r["id"]) for r in rows]); got = np.array([float(r[col]) for r in rows])
if len(sys.argv) > 3 and len(ids) != int(sys.argv[3]):
    sys.exit(f"{len(ids)} rows, expected {sys.argv[3]}")
if not (np.diff(ids) > 0).all():
    sys.exit("rows out of order")
d = np.abs(got - want[ids]).max()
if d > 1e-6:
    sys.exit(f"max difference {d}")
EOF
}

# ---- CSV in, CSV out -------------------------------------------------------------------
expect_ok forja predict pkg --input rows.csv --output out.csv --keep id --exclude id --exclude label
expect_contains "$OUT" "Scored 20000 rows with pkg into out.csv"
expect_eq "$(head -1 out.csv)" "id,probability"
expect_eq "$(wc -l <out.csv)" "20001"
run compare out.csv probability 20000
expect_eq "$RC:$OUT" "0:"
expect_ok test ! -e out.csv.partial -a ! -e out.csv.progress

# Small batches and one worker give the same bytes.
expect_ok forja predict pkg -i rows.csv -o out1.csv --keep id --exclude id --exclude label --batch-size 7 -j 1
expect_ok cmp out.csv out1.csv

# JSONL out; JSONL in with an array per row.
expect_ok forja predict pkg -i rows.csv -o out.jsonl --keep id --exclude id --exclude label
expect_eq "$(head -c 9 out.jsonl)" '{"id":0,"'
run compare out.jsonl probability 20000
expect_eq "$RC:$OUT" "0:"
expect_ok forja predict pkg -i rows.jsonl -o from_jsonl.csv --keep id
run compare from_jsonl.csv probability 500
expect_eq "$RC:$OUT" "0:"

# ---- bad input -------------------------------------------------------------------------
expect_fail 1 forja predict pkg -i rows.csv -o bad.csv --exclude label
expect_contains "$OUT" "rows.csv:1: 9 feature columns, but input 'features' takes 8; leave columns out with --exclude COLUMN"
expect_one_error_line "$OUT"
expect_fail 1 forja predict pkg -i rows.csv -o bad.csv --keep nope
expect_contains "$OUT" "--keep nope: no such column"
{ head -100 rows.csv; echo "100,1,2,abc,4,5,6,7,8,0"; echo "101,1,2"; sed -n 102,201p rows.csv; } >broken.csv
expect_fail 1 forja predict pkg -i broken.csv -o bad.csv --exclude id --exclude label
expect_contains "$OUT" "broken.csv:101: column 'f2': 'abc' is not a number; fix the row, or pass --on-error skip"
expect_one_error_line "$OUT"
expect_ok test ! -e bad.csv -a ! -e bad.csv.partial
expect_ok forja predict pkg -i broken.csv -o skipped.csv --keep id --exclude id --exclude label --on-error skip
expect_contains "$OUT" "skipped broken.csv:101: column 'f2': 'abc' is not a number"
expect_contains "$OUT" "skipped broken.csv:102: 3 fields, the header has 10"
expect_contains "$OUT" "Scored 199 rows with pkg into skipped.csv; 2 bad rows skipped"
run compare skipped.csv probability 199
expect_eq "$RC:$OUT" "0:"
expect_fail 2 forja predict pkg -i rows.csv -o x.csv --shard 3/3
expect_contains "$OUT" "--shard takes I/N with 0 <= I < N"
expect_fail 1 forja predict nosuch -i rows.csv -o x.csv
expect_one_error_line "$OUT"

# ---- shards add up to the whole, each row exactly once ----------------------------------
for i in 0 1 2; do
  expect_ok forja predict pkg -i rows.csv -o "shard$i.csv" --keep id --exclude id --exclude label --shard "$i/3"
done
{ head -1 shard0.csv; for i in 0 1 2; do tail -n +2 "shard$i.csv"; done; } >joined.csv
expect_ok cmp joined.csv out.csv

# ---- kill -9 mid-run, then resume: the same bytes as an uninterrupted run ----------------
"$PY" -c "
import shutil
with open('big.csv', 'w') as out:
    with open('rows.csv') as f:
        out.write(f.readline())
        body = f.read()
    for k in range(40):
        out.write(body)
" || exit 1
expect_ok forja predict pkg -i big.csv -o big_ref.csv --exclude id --exclude label -j 1
FORJA_PREDICT_CHECKPOINT_MS=20 "$FORJA" predict pkg -i big.csv -o big.csv.out --exclude id --exclude label -j 1 \
  --batch-size 64 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 400); do [[ -s big.csv.out.progress ]] && break; sleep 0.01; done
sleep 0.05
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
expect_ok test -s big.csv.out.progress
expect_ok test ! -e big.csv.out
expect_ok forja predict pkg -i big.csv -o big.csv.out --exclude id --exclude label -j 1 --batch-size 64
expect_contains "$OUT" "(resumed at line"
expect_ok cmp big.csv.out big_ref.csv
expect_ok test ! -e big.csv.out.progress -a ! -e big.csv.out.partial

# Memory stays bounded: 800,000 rows (about 70 MB) scored in well under the file's size.
/usr/bin/time -o rss.txt -f '%M' "$FORJA" predict pkg -i big.csv -o big2.csv --exclude id --exclude label >/dev/null 2>&1
rss=$(tail -1 rss.txt)
if [[ $rss =~ ^[0-9]+$ ]] && ((rss < 60000)); then pass; else fail "max RSS ${rss} KiB for a 70 MB input"; fi

# ---- a registry reference ----------------------------------------------------------------
expect_ok forja models register scorer pkg --no-push
expect_ok forja models promote scorer 1 --to staging
expect_ok forja predict scorer@staging -i rows.csv -o reg.csv --keep id --exclude id --exclude label
expect_contains "$OUT" "with scorer/1 into reg.csv"
expect_ok cmp reg.csv out.csv

finish
