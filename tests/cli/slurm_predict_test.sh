#!/usr/bin/env bash
# forja predict --executor slurm --shards N against a real one-node Slurm cluster
# (tests/lib/slurm.sh): the shards go as one job array and the joined output is the same
# bytes as a local forja predict (CSV and JSONL); a shard that fails is resubmitted alone;
# Ctrl-C scancels the shards in flight and the rerun reuses the finished parts (only
# the missing shard is submitted); after kill -9 the rerun watches the shards still queued
# instead of submitting them again; bad option combinations give one clear line.
# The examples of docs/scaling.md's "Batch scoring on Slurm" are here.
source "$(dirname "$0")/../lib/common.sh"
source "$FORJA_SOURCE/tests/lib/slurm.sh"

if ! why=$(slurm_can_run); then
  echo "SKIP: $why"
  exit 77
fi
slurm_start 2 || { echo "FAIL: the test cluster did not start (see above)" >&2; exit 1; }
at_exit slurm_stop

PY=$FORJA_SOURCE/.venv/bin/python
if ! "$PY" -c 'import xgboost, numpy' 2>/dev/null; then
  echo "SKIP: $PY has no xgboost (run scripts/setup)"
  exit 77
fi

new_repo scoring
# A binary classifier on 4 features, as a package, and 3,000 rows to score (some cells missing).
"$PY" - <<'EOF' || exit 1
import numpy as np, xgboost as xgb, os
rng = np.random.default_rng(3)
x = rng.normal(size=(500, 4)).astype(np.float32)
y = (x[:, 0] - x[:, 1] * x[:, 2] > 0).astype(int)
b = xgb.train({"objective": "binary:logistic", "max_depth": 3}, xgb.DMatrix(x, y), 10)
os.makedirs("model", exist_ok=True)
b.save_model("model/model.json")
open("model/model.yaml", "w").write("""format: 1
flavor: xgboost
model: model.json
signature:
  inputs: [{name: features, datatype: FP32, shape: [-1, 4]}]
  outputs: [{name: probability, datatype: FP32, shape: [-1]}]
""")
t = rng.normal(size=(3000, 4)).astype(np.float32)
t[rng.random(t.shape) < 0.05] = np.nan
with open("rows.csv", "w") as f:
    f.write("id,f0,f1,f2,f3\n")
    for i, r in enumerate(t):
        f.write(f"{i}," + ",".join("" if np.isnan(v) else repr(float(v)) for v in r) + "\n")
EOF

# ---- the docs example: four shards, the same bytes as a local run -------------------------
expect_ok forja predict model -i rows.csv -o local.csv --keep id --exclude id
expect_ok forja predict model -i rows.csv -o scores.csv --keep id --exclude id --executor slurm --shards 4
expect_contains "$OUT" "as Slurm job array"
expect_contains "$OUT" "Scored rows.csv with model into scores.csv as 4 Slurm shards"
cmp -s local.csv scores.csv && pass || fail "scores.csv differs from local.csv: $(cmp local.csv scores.csv)"
[[ ! -e scores.csv.parts ]] && pass || fail "scores.csv.parts/ left behind: $(ls scores.csv.parts)"

# JSONL out, and more shards than a small file has rows (empty parts).
head -4 rows.csv >few.csv
expect_ok forja predict model -i few.csv -o few-local.jsonl --keep id --exclude id
expect_ok forja predict model -i few.csv -o few.jsonl --keep id --exclude id --executor slurm --shards 5
cmp -s few-local.jsonl few.jsonl && pass || fail "few.jsonl differs: $(diff few-local.jsonl few.jsonl)"

# ---- a shard that fails once is resubmitted alone --------------------------------------------
FORJA_PREDICT_FAIL_SHARD_ONCE=2:$PWD/failed-once expect_ok forja predict model -i rows.csv -o retried.csv \
  --keep id --exclude id --executor slurm --shards 4
expect_contains "$OUT" "shard 2/4 exited with 1; submitting it again"
expect_contains "$OUT" "Submitted stage 'predict@2' as Slurm job"  # alone, not as an array
[[ -e failed-once ]] && pass || fail "the injected failure did not happen"
cmp -s local.csv retried.csv && pass || fail "retried.csv differs from local.csv"

# With --retries 0 the command fails, naming the shard and its log.
rm -f failed-once
FORJA_PREDICT_FAIL_SHARD_ONCE=1:$PWD/failed-once expect_fail 1 forja predict model -i rows.csv -o nope.csv \
  --keep id --exclude id --executor slurm --shards 3 --retries 0
expect_one_error_line "$OUT"
expect_contains "$OUT" "shard 1/3 exited with 1 after 1 attempt (log: nope.csv.parts/part-00001.log)"
[[ ! -e nope.csv ]] && pass || fail "nope.csv written although a shard failed"

# ---- Ctrl-C, then the rerun reuses the finished parts -----------------------------------------
# The shards are submitted held (forja.yaml's executor extra_args); the test releases all but shard 3.
cp forja.yaml forja.yaml.orig
echo "executor: {kind: slurm, extra_args: [--hold]}" >>forja.yaml
"$FORJA" predict model -i rows.csv -o resumed.csv --keep id --exclude id --executor slurm --shards 4 \
  >"$TEST_TMP/int.out" 2>&1 &
FORJA_PID=$!
ARRAY=
for ((i = 0; i < 600; i++)); do
  ARRAY=$(squeue -h -n forja:predict -o %F 2>/dev/null | head -1)
  [[ -n $ARRAY ]] && break
  sleep 0.1
done
if [[ -n $ARRAY ]]; then
  for t in 0 1 2; do scontrol release "${ARRAY}_$t" >/dev/null 2>&1 || fail "scontrol release ${ARRAY}_$t"; done
  for ((i = 0; i < 600; i++)); do
    [[ -f resumed.csv.parts/part-00000.csv && -f resumed.csv.parts/part-00001.csv &&
      -f resumed.csv.parts/part-00002.csv ]] && break
    sleep 0.1
  done
  kill -INT "$FORJA_PID"
  wait "$FORJA_PID"
  RC=$?
  OUT=$(cat "$TEST_TMP/int.out")
  cp forja.yaml.orig forja.yaml
  [[ $RC == 130 ]] && pass || fail "forja predict exited $RC after SIGINT, not 130: $OUT"
  expect_contains "$OUT" "this run submitted"  # at least held shard 3 (0-2 may not be polled as ended yet)
  slurm_wait_empty 30 || fail "the queue did not empty after Ctrl-C: $(squeue -h -o '%i %j %T')"
  [[ ! -e resumed.csv && ! -e resumed.csv.parts/part-00003.csv ]] && pass || fail "shard 3 ran although held"
  expect_ok forja predict model -i rows.csv -o resumed.csv --keep id --exclude id --executor slurm --shards 4
  expect_contains "$OUT" "Reusing 3 finished parts in resumed.csv.parts"
  expect_contains "$OUT" "Submitted stage 'predict@3' as Slurm job"
  expect_not_contains "$OUT" "predict@0"
  cmp -s local.csv resumed.csv && pass || fail "resumed.csv differs from local.csv"
else
  fail "the shards never reached the queue: $(cat "$TEST_TMP/int.out")"
  kill "$FORJA_PID"
fi
slurm_wait_empty 30 || fail "the queue did not empty"

# kill -9: the shards go on; the rerun watches those still queued instead of submitting them again.
cp forja.yaml forja.yaml.orig
echo "executor: {kind: slurm, extra_args: [--hold]}" >>forja.yaml
"$FORJA" predict model -i rows.csv -o killed.csv --keep id --exclude id --executor slurm --shards 4 \
  >"$TEST_TMP/kill.out" 2>&1 &
FORJA_PID=$!
ARRAY=
for ((i = 0; i < 600; i++)); do
  ARRAY=$(squeue -h -n forja:predict -o %F 2>/dev/null | head -1)
  [[ -n $ARRAY ]] && break
  sleep 0.1
done
if [[ -n $ARRAY ]]; then
  scontrol release "${ARRAY}_0" >/dev/null 2>&1 || fail "scontrol release ${ARRAY}_0"
  for ((i = 0; i < 600; i++)); do
    [[ -f killed.csv.parts/part-00000.csv ]] && break
    sleep 0.1
  done
  kill -9 "$FORJA_PID"
  wait "$FORJA_PID" 2>/dev/null
  cp forja.yaml.orig forja.yaml
  "$FORJA" predict model -i rows.csv -o killed.csv --keep id --exclude id --executor slurm --shards 4 \
    >"$TEST_TMP/rerun.out" 2>&1 &
  FORJA_PID=$!
  for ((i = 0; i < 600; i++)); do
    [[ $(grep -c "is still running as Slurm job" "$TEST_TMP/rerun.out") == 3 ]] && break
    sleep 0.1
  done
  for t in 1 2 3; do scontrol release "${ARRAY}_$t" >/dev/null 2>&1 || fail "scontrol release ${ARRAY}_$t"; done
  wait "$FORJA_PID"
  RC=$?
  OUT=$(cat "$TEST_TMP/rerun.out")
  [[ $RC == 0 ]] && pass || fail "the rerun after kill -9 exited $RC: $OUT"
  expect_contains "$OUT" "Reusing 1 finished part in killed.csv.parts"
  expect_contains "$OUT" "Stage 'predict@3' is still running as Slurm job ${ARRAY}_3 from an earlier forja run"
  expect_not_contains "$OUT" "Submitted"
  cmp -s local.csv killed.csv && pass || fail "killed.csv differs from local.csv"
else
  fail "the shards never reached the queue: $(cat "$TEST_TMP/kill.out")"
  kill "$FORJA_PID"
fi
slurm_wait_empty 30 || fail "the queue did not empty: $(squeue -h -o '%i %j %T')"

# Parts of another command are not reused: a changed input starts afresh.
mkdir -p stale.csv.parts && echo "other" >stale.csv.parts/manifest && echo junk >stale.csv.parts/part-00000.csv
expect_ok forja predict model -i rows.csv -o stale.csv --keep id --exclude id --executor slurm --shards 2
expect_contains "$OUT" "Starting the shards afresh"
cmp -s local.csv stale.csv && pass || fail "stale.csv differs from local.csv"

# ---- bad option combinations: one clear line ---------------------------------------------------
expect_fail 2 forja predict model -i rows.csv -o x.csv --executor slurm --shards 0
expect_one_error_line "$OUT"
expect_contains "$OUT" "--executor slurm needs --shards N (N >= 1)"
expect_fail 2 forja predict model -i rows.csv -o x.csv --shards 4
expect_one_error_line "$OUT"
expect_contains "$OUT" "--shards N splits the input across Slurm jobs: add --executor slurm"
expect_fail 2 forja predict model -i rows.csv -o x.csv --executor slurm --shards 2 --shard 0/2
expect_contains "$OUT" "--shard I/N scores one shard here"
expect_fail 2 forja predict model -i rows.csv -o x.csv --executor pbs --shards 2
expect_contains "$OUT" "--executor takes local or slurm, not 'pbs'"
[[ ! -e x.csv && ! -e x.csv.parts ]] && pass || fail "a refused command left files"

finish
