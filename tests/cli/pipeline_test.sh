#!/usr/bin/env bash
# forja run (alias repro) and forja status --pipeline on real pipelines of shell
# and Python stages, driven as a user would: what runs and what does not (each
# stage appends its name to a counter file, so "did not run" is proven, not
# assumed), params and overrides, the run cache, git branches, retries,
# timeouts, parallelism, --keep-going, --dry, foreach/matrix, the stage
# environment, logs, --json, and push/pull of pipeline outputs.
source "$(dirname "$0")/../lib/common.sh"

json_check() {  # json_check PYTHON-EXPR-ON-d "$JSON"
  python3 -c "import json,sys; d=json.load(sys.stdin); assert $1, d" <<<"$2" && pass || fail "JSON check '$1' failed on: $2"
}

# The counter: every stage appends its name when its command runs.
mark() { MARK=$(wc -l 2>/dev/null <counter || echo 0); }
# The stages that ran since the last mark, space-separated, in order.
since() { tail -n +$((MARK + 1)) counter 2>/dev/null | tr '\n' ' ' | sed 's/ $//'; }
expect_ran() {  # expect_ran "stage stage ..." (or "" for none)
  local got
  got=$(since)
  if [[ $got == "$1" ]]; then pass; else fail "expected stages '$1' to run, got '$got'"$'\n'"$OUT"; fi
}

# Runs a command; OUT holds its standard output only (for --json), RC its exit code.
run_json() {
  OUT=$("$@" 2>"$TEST_TMP/stderr")
  RC=$?
}

# The model train.py writes from the prepared values, lr and epochs.
model_of() {  # VALUES LR EPOCHS, e.g. "1 2 3" 0.1 3
  python3 -c 'import sys; v=[float(x) for x in sys.argv[1].split()]; lr=float(sys.argv[2]); e=int(sys.argv[3]); print("lr=%s epochs=%d weight=%s" % (lr, e, sum(v) * lr * e))' "$@"
}

# The run id from the summary line "... (logs in .forja/runs/<id>/)".
run_id_of() { sed -n 's/.*(logs in \.forja\/runs\/\([^/]*\)\/).*/\1/p' <<<"$1" | tail -1; }

# ---- a prepare -> train -> evaluate pipeline ------------------------------------
new_repo main
mkdir -p conf data
cat >conf/config.yaml <<'EOF'
prepare:
  scale: 2
train:
  lr: 0.1
  epochs: 3
EOF
printf 'x\n1\n2\n3\n' >data/raw.csv
cat >prepare.sh <<'EOF'
# Scales the values of data/raw.csv (after its header) into data/prepared/.
echo prepare >>counter
mkdir -p data/prepared
awk -v s="$1" 'NR > 1 { print $1 * s }' data/raw.csv >data/prepared/values.txt
echo "prepared $(wc -l <data/prepared/values.txt) rows"
EOF
cat >train.py <<'EOF'
import sys
open("counter", "a").write("train\n")
lr, epochs = float(sys.argv[2]), int(sys.argv[4])
values = [float(v) for v in open("data/prepared/values.txt")]
with open("models/model.txt", "w") as f:
    f.write("lr=%s epochs=%d weight=%s\n" % (lr, epochs, sum(values) * lr * epochs))
print("trained with lr", lr)
EOF
cat >evaluate.py <<'EOF'
import json
open("counter", "a").write("evaluate\n")
weight = float(open("models/model.txt").read().split("weight=")[1])
json.dump({"score": round(weight, 6)}, open("metrics.json", "w"))
with open("plots/loss.csv", "w") as f:
    f.write("step,loss\n1,%s\n" % (1 / (1 + weight)))
print("evaluated")
EOF
cat >>forja.yaml <<'EOF'

stages:
  prepare:
    cmd: sh prepare.sh ${prepare.scale}
    deps: [data/raw.csv, prepare.sh]
    params: [prepare.scale]
    outs: [data/prepared]
  train:
    cmd: python3 train.py --lr ${train.lr} --epochs ${train.epochs}
    deps: [data/prepared, train.py]
    params: [train.lr, train.epochs]
    outs: [models/model.txt]
  evaluate:
    cmd: python3 evaluate.py
    deps: [models/model.txt, evaluate.py]
    metrics: [{metrics.json: {cache: false}}]
    plots: [plots/loss.csv]
EOF

echo "-- first run"
mark
expect_fail 1 forja status --pipeline
expect_contains "$OUT" "prepare: changed: never ran"
expect_ok forja run
expect_ran "prepare train evaluate"
expect_contains "$OUT" "3 stages ran"
expect_contains "$OUT" "[prepare] prepared 3 rows"
expect_contains "$OUT" "[train] trained with lr 0.1"
expect_contains "$OUT" "[evaluate] evaluated"
expect_eq "$(cat data/prepared/values.txt | tr '\n' ' ')" "2 4 6 "
expect_eq "$(cat models/model.txt)" "$(model_of "2 4 6" 0.1 3)"
json_check 'abs(d["score"] - 3.6) < 1e-9' "$(cat metrics.json)"
[[ -f forja.lock ]] && pass || fail "no forja.lock after a run"
expect_contains "$(cat forja.lock)" '"train.lr": 0.1'
# The log of each stage holds its output.
RUN1=$(run_id_of "$OUT")
[[ -n $RUN1 ]] && pass || fail "no run id in: $OUT"
for s in prepare train evaluate; do
  [[ -f .forja/runs/$RUN1/$s.log ]] && pass || fail "no log .forja/runs/$RUN1/$s.log"
done
expect_contains "$(cat ".forja/runs/$RUN1/train.log")" "trained with lr 0.1"
expect_contains "$(cat ".forja/runs/$RUN1/prepare.log")" "prepared 3 rows"

echo "-- nothing changed"
mark
expect_ok forja run
expect_ran ""
expect_contains "$OUT" "0 stages ran, 3 up to date"
expect_ok forja status --pipeline
expect_eq "$OUT" "$(printf 'prepare: up to date\ntrain: up to date\nevaluate: up to date')"
expect_ok forja repro
expect_contains "$OUT" "0 stages ran, 3 up to date"
expect_ran ""
run_json forja run --json
expect_eq "$RC" 0
json_check '[s["outcome"] for s in d["stages"]] == ["up to date"] * 3' "$OUT"
run_json forja status --pipeline --json
expect_eq "$RC" 0
json_check '[s["stage"] for s in d["stages"]] == ["prepare", "train", "evaluate"]' "$OUT"

echo "-- an edited dep reruns only what it affects"
echo "# evaluate the model" >>evaluate.py
mark
expect_fail 1 forja status --pipeline
expect_contains "$OUT" "evaluate: changed: dep evaluate.py changed"
expect_contains "$OUT" "train: up to date"
expect_ok forja run
expect_ran "evaluate"
expect_contains "$OUT" "1 stage ran, 2 up to date"
# A new header: prepare reruns, writes the same data, so train and evaluate don't.
printf 'value\n1\n2\n3\n' >data/raw.csv
mark
expect_ok forja run
expect_ran "prepare"
# New data: all three.
printf 'x\n1\n2\n3\n4\n' >data/raw.csv
mark
expect_ok forja run
expect_ran "prepare train evaluate"
expect_eq "$(cat models/model.txt)" "$(model_of "2 4 6 8" 0.1 3)"
# A deleted out: its stage is restored from the run cache, not rerun.
rm -rf data/prepared
mark
expect_fail 1 forja status --pipeline
expect_contains "$OUT" "prepare: changed: out data/prepared is missing"
expect_ok forja run
expect_ran ""
expect_contains "$OUT" "Restored stage 'prepare'"
expect_eq "$(cat data/prepared/values.txt | tr '\n' ' ')" "2 4 6 8 "

echo "-- a param override on the command line"
mark
expect_ok forja run train.lr=0.2
expect_ran "train evaluate"
expect_eq "$(cat models/model.txt)" "$(model_of "2 4 6 8" 0.2 3)"
expect_contains "$(cat forja.lock)" '"train.lr": 0.2'
# The lock now records 0.2; the config says 0.1.
expect_fail 1 forja status --pipeline
expect_contains "$OUT" "prepare: up to date"
expect_contains "$OUT" "param train.lr changed (0.2 -> 0.1)"
expect_contains "$OUT" "evaluate: changed"
expect_ok forja status --pipeline train.lr=0.2
expect_not_contains "$OUT" "changed"

echo "-- back to the original param: restored from the run cache"
mark
expect_ok forja run
expect_ran ""
expect_contains "$OUT" "Restored stage 'train' from the run cache"
expect_contains "$OUT" "0 stages ran, 2 restored from the run cache, 1 up to date"
expect_eq "$(cat models/model.txt)" "$(model_of "2 4 6 8" 0.1 3)"
json_check 'abs(d["score"] - 6.0) < 1e-9' "$(cat metrics.json)"
expect_ok forja status --pipeline
# --no-run-cache and --force do run.
mark
expect_ok forja run --no-run-cache train.epochs=4
expect_ran "train evaluate"
mark
expect_ok forja run -f
expect_ran "prepare train evaluate"
expect_contains "$OUT" "3 stages ran"

echo "-- --dry changes nothing"
echo "# v2" >>train.py
snapshot() { find . -path ./.git -prune -o -path ./.forja -prune -o -type f -print0 | sort -z | xargs -0 sha256sum; ls .forja/runs; }
BEFORE=$(snapshot)
mark
expect_ok forja run --dry
expect_contains "$OUT" "prepare: up to date"
expect_contains "$OUT" "train: would run: dep train.py changed"
expect_contains "$OUT" "evaluate: would run: upstream stage 'train' would run"
expect_ran ""
expect_eq "$(snapshot)" "$BEFORE"
sed -i '$d' train.py

echo "-- git branches"
expect_ok forja run
git add .gitignore forja.yaml forja.lock conf data/raw.csv prepare.sh train.py evaluate.py metrics.json &&
  git commit -qm "pipeline, lr 0.1" || fail "git commit failed"
MAIN=$(git rev-parse --abbrev-ref HEAD)
MODEL_MAIN=$(cat models/model.txt)
PLOT_MAIN=$(cat plots/loss.csv)
git checkout -q -b exp
sed -i 's/lr: 0.1/lr: 0.5/' conf/config.yaml
mark
expect_ok forja run
expect_ran "train evaluate"
git add conf forja.lock metrics.json && git commit -qm "lr 0.5" || fail "git commit failed"
MODEL_EXP=$(cat models/model.txt)
expect_contains "$MODEL_EXP" "lr=0.5"
git checkout -q "$MAIN" || fail "git checkout $MAIN failed"
# The lock of main names outs the workspace does not hold.
expect_fail 1 forja status
expect_contains "$OUT" "models/model.txt: modified"
expect_fail 1 forja status --pipeline
expect_contains "$OUT" "train: changed: out models/model.txt was modified"
mark
expect_ok forja checkout
expect_eq "$(cat models/model.txt)" "$MODEL_MAIN"
expect_eq "$(cat plots/loss.csv)" "$PLOT_MAIN"
expect_ok forja status --pipeline
expect_ok forja run
expect_contains "$OUT" "0 stages ran, 3 up to date"
expect_ran ""
# Back on exp, run alone brings the outs back: from the run cache.
git checkout -q exp || fail "git checkout exp failed"
mark
expect_ok forja run
expect_ran ""
expect_contains "$OUT" "Restored stage 'train'"
expect_eq "$(cat models/model.txt)" "$MODEL_EXP"
expect_ok forja status --pipeline
expect_ok forja status
git checkout -q "$MAIN" && expect_ok forja checkout

echo "-- push and pull of pipeline outputs"
mkdir -p "$TEST_TMP/remote"
expect_ok forja remote add store "$TEST_TMP/remote"
expect_ok forja push
SUMS=$(sha256sum data/prepared/values.txt models/model.txt plots/loss.csv)
rm -rf .forja/cache/sha256 data/prepared models plots
expect_fail 1 forja status
expect_contains "$OUT" "models/model.txt: not in cache"
expect_ok forja pull
expect_eq "$(sha256sum data/prepared/values.txt models/model.txt plots/loss.csv)" "$SUMS"
mark
expect_ok forja status --pipeline
expect_ok forja run
expect_ran ""

# ---- retries and timeouts ---------------------------------------------------------
echo "-- retries"
new_repo retries
cat >>forja.yaml <<'EOF'

stages:
  flaky:
    # Fails twice, then succeeds.
    cmd: echo attempt >>tries; n=$(wc -l <tries); echo "attempt $n"; test "$n" -ge 3 && echo ok >flaky.txt
    outs: [flaky.txt]
    retries: {count: 4, delay: 0.05, backoff: 2, max_delay: 1}
  hopeless:
    cmd: echo attempt >>hopeless-tries; exit 2
    outs: [hopeless.txt]
    retries: {count: 2, delay: 0.01}
EOF
run forja run flaky
expect_eq "$RC" 0
expect_eq "$(wc -l <tries)" 3
expect_eq "$(grep -c "retrying" <<<"$OUT")" 2
expect_contains "$OUT" "attempt 2 of 5"
expect_eq "$(cat flaky.txt)" ok
run forja run hopeless
expect_eq "$RC" 1
expect_eq "$(wc -l <hopeless-tries)" 3
expect_contains "$OUT" "stage 'hopeless' failed (exit 2) after 3 attempts"

echo "-- a timeout"
new_repo timeout
cat >>forja.yaml <<'EOF'

stages:
  slow:
    # A child that ignores SIGTERM too: the whole group must still go.
    cmd: echo $$ >slow.pgid; (trap '' TERM; sleep 60) & sleep 60; echo done >slow.txt
    outs: [slow.txt]
    timeout: 0.5
EOF
T0=$SECONDS
expect_fail 1 forja run
expect_contains "$OUT" "stage 'slow' timed out after 0.5 s"
((SECONDS - T0 < 10)) && pass || fail "the timed-out stage took $((SECONDS - T0)) s"
PG=$(cat slow.pgid)
sleep 0.2
LEFT=$(ps -eo pgid=,pid=,stat=,args= | awk -v g="$PG" '$1 == g && $3 !~ /^Z/')
[[ -n $PG && -z $LEFT ]] && pass || fail "processes of the timed-out stage's group $PG are left:"$'\n'"$LEFT"
[[ ! -e slow.txt ]] && pass || fail "the timed-out stage wrote its output"
expect_not_contains "$(cat forja.lock 2>/dev/null)" "slow"

# ---- parallelism ------------------------------------------------------------------
echo "-- parallel stages"
new_repo parallel
cat >>forja.yaml <<'EOF'

stages:
  left:
    cmd: date +%s.%N >left.start; sleep 0.7; date +%s.%N >left.end; cat left.start left.end >left.txt
    outs: [left.txt]
  right:
    cmd: date +%s.%N >right.start; sleep 0.7; date +%s.%N >right.end; cat right.start right.end >right.txt
    outs: [right.txt]
  join:
    cmd: date +%s.%N >join.start; cat left.txt right.txt >join.txt
    deps: [left.txt, right.txt]
    outs: [join.txt]
EOF
overlap() {  # true when the left and right intervals overlap
  awk -v ls="$(cat left.start)" -v le="$(cat left.end)" -v rs="$(cat right.start)" -v re="$(cat right.end)" \
    'BEGIN { exit !(ls < re && rs < le) }'
}
expect_ok forja run -j 2
expect_contains "$OUT" "3 stages ran"
overlap && pass || fail "with -j 2 the stages did not overlap: left $(tr '\n' ' ' <left.txt), right $(tr '\n' ' ' <right.txt)"
# join ran after both.
awk -v j="$(cat join.start)" -v le="$(cat left.end)" -v re="$(cat right.end)" 'BEGIN { exit !(j >= le && j >= re) }' &&
  pass || fail "join ran before left and right ended"
expect_ok forja run -j 1 --force
overlap && fail "with -j 1 the stages overlapped: left $(tr '\n' ' ' <left.txt), right $(tr '\n' ' ' <right.txt)" || pass

# ---- --keep-going -----------------------------------------------------------------
echo "-- --keep-going"
new_repo keepgoing
cat >>forja.yaml <<'EOF'

stages:
  broken:
    cmd: echo broken >>counter; echo "something went wrong"; exit 1
    outs: [broken.txt]
  after_broken:
    cmd: echo after_broken >>counter; cp broken.txt after.txt
    deps: [broken.txt]
    outs: [after.txt]
  fine:
    cmd: echo fine >>counter; echo fine >fine.txt
    outs: [fine.txt]
  after_fine:
    cmd: echo after_fine >>counter; cp fine.txt after_fine.txt
    deps: [fine.txt]
    outs: [after_fine.txt]
EOF
mark
expect_fail 1 forja run
expect_ran "broken"
expect_contains "$OUT" "stage 'broken' failed (exit 1)"
expect_contains "$OUT" "  | something went wrong"
expect_contains "$OUT" "skipped fine: not started after a failure (use --keep-going)"
mark
expect_fail 1 forja run --keep-going
expect_ran "broken fine after_fine"
expect_contains "$OUT" "2 stages ran, 1 failed, 1 skipped"
expect_contains "$OUT" "skipped after_broken: upstream stage 'broken' failed"
[[ -f after_fine.txt && ! -e after.txt ]] && pass || fail "--keep-going did not run the independent branch only"
# What ran is recorded even though the run failed.
mark
expect_fail 1 forja run -k
expect_ran "broken"

# ---- foreach, matrix, interpolation and the stage environment ---------------------
echo "-- foreach, matrix, env"
new_repo stagevars
mkdir -p conf
cat >conf/config.yaml <<'EOF'
name: demo
models: [small, large]
train:
  lr: 0.1
  batch: 32
EOF
cat >>forja.yaml <<'EOF'

stages:
  each:
    foreach: ${models}
    do:
      cmd: echo ${item} >>counter; echo "model ${item} of ${name}" >"out-${item}.txt"
      outs: ["out-${item}.txt"]
  grid:
    matrix: {opt: [sgd, adam], lr: [1, 2]}
    cmd: echo grid >>counter; echo "${item.opt} ${item.lr}" >"grid-${item.opt}-${item.lr}.txt"
    outs: ["grid-${item.opt}-${item.lr}.txt"]
  vars:
    cmd: >-
      python3 -c "import os, shutil;
      shutil.copy(os.environ['FORJA_PARAMS'], 'params-seen.yaml');
      open('vars.txt', 'w').write('%s %s %s %s %s' % (os.environ['FORJA_STAGE'], os.environ['FORJA_RUN_ID'],
      os.environ['FORJA_PARAMS'], os.environ['MY_VAR'], '${name}-${train.lr}'))"
    params: [train.lr]
    env: {MY_VAR: hello}
    outs: [vars.txt, params-seen.yaml]
EOF
run forja run train.lr=0.7 +train.extra=yes
expect_eq "$RC" 0
expect_contains "$OUT" "7 stages ran"
for n in small large; do expect_eq "$(cat out-$n.txt)" "model $n of demo"; done
for o in sgd adam; do for l in 1 2; do expect_eq "$(cat grid-$o-$l.txt)" "$o $l"; done; done
expect_eq "$(sort counter | tr '\n' ' ')" "grid grid grid grid large small "
RUN=$(run_id_of "$OUT")
read -r V_STAGE V_RUN V_PARAMS V_MY V_INTERP <vars.txt
expect_eq "$V_STAGE" vars
expect_eq "$V_RUN" "$RUN"
expect_eq "$V_PARAMS" "$REPO/.forja/runs/$RUN/config.yaml"
expect_eq "$V_MY" hello
expect_eq "$V_INTERP" "demo-0.7"
# The FORJA_PARAMS file: the composed config with the overrides applied.
expect_contains "$(cat params-seen.yaml)" "lr: 0.7"
expect_contains "$(cat params-seen.yaml)" "extra: 'yes'"
expect_contains "$(cat params-seen.yaml)" "batch: 32"
expect_contains "$(cat params-seen.yaml)" "name: demo"
expect_contains "$(cat forja.lock)" "  each@small:"
expect_contains "$(cat forja.lock)" "  grid@adam-2:"
# A stage that prints nothing leaves no log file (one inode fewer per stage).
[[ ! -e .forja/runs/$RUN/each@large.log ]] && pass || fail "a log for the silent stage each@large"
# A single foreach item, by name.
mark
expect_ok forja run -f each@large
expect_ran "large"
expect_fail 1 forja status --pipeline
expect_contains "$OUT" "vars: changed: command changed; param train.lr changed (0.7 -> 0.1)"
# The --json of a run that ran something parses and names the run and the log.
run_json forja run --json
expect_eq "$RC" 0
json_check 'd["run_id"] and [s["stage"] for s in d["stages"] if s["outcome"] == "ran"] == ["vars"] and d["stages"][-1]["log"].endswith("/vars.log")' "$OUT"
expect_eq "$(cut -d' ' -f5 vars.txt)" "demo-0.1"

finish
