#!/usr/bin/env bash
# forja run --executor slurm against a real one-node Slurm cluster started here
# (tests/lib/slurm.sh: munged, slurmctld, slurmd on loopback, a private slurm.conf):
# a pipeline runs through sbatch with the same forja.lock, run cache and tracking as
# locally; a failing job is retried, then the stage fails with its log tail; a timeout
# scancels the job; a job scancelled from outside counts as a failure and is retried;
# Ctrl-C (and SIGTERM) scancels what forja submitted; forja killed with -9 mid-run does
# not make the next run redo what the cluster finished or still runs; slurmctld
# restarted mid-run is waited out; foreach copies ready together go as one job array
# (a failed task retried alone); forja exp run -m is one job array of experiments (Ctrl-C
# scancels it); jobs squeue forgot are read from their exit files or resubmitted. Locally, resources.cpus takes that many of -j's slots.
# Every example of docs/scaling.md is here.
source "$(dirname "$0")/../lib/common.sh"
source "$FORJA_SOURCE/tests/lib/slurm.sh"

if ! why=$(slurm_can_run); then
  echo "SKIP: $why"
  exit 77
fi
slurm_start 2 || { echo "FAIL: the test cluster did not start (see above)" >&2; exit 1; }
at_exit slurm_stop

# Waits until squeue lists a job named forja:$1 in state $2 (default RUNNING); 1 after 60 s.
wait_job() {
  local i
  for ((i = 0; i < 600; i++)); do
    [[ -n $(squeue -h -n "forja:$1" -t "${2:-RUNNING}" -o %i 2>/dev/null) ]] && return 0
    sleep 0.1
  done
  return 1
}

wait_file() {
  local i
  for ((i = 0; i < 600; i++)); do
    [[ -e $1 ]] && return 0
    sleep 0.1
  done
  return 1
}

write_pipeline() {
  cat >>forja.yaml <<'YAML'
stages:
  prepare:
    cmd: mkdir -p data && seq 1 100 > data/numbers.txt
    outs: [data/numbers.txt]
  sum:
    cmd: awk '{s += $1} END {print s}' data/numbers.txt > sum.txt && echo summed
    deps: [data/numbers.txt]
    outs: [sum.txt]
    resources: {cpus: 1, mem: 100M, time: 5m}
  count:
    cmd: wc -l < data/numbers.txt > count.txt
    deps: [data/numbers.txt]
    outs: [count.txt]
  report:
    cmd: echo "sum=$(cat sum.txt) count=$(cat count.txt)" > report.txt
    deps: [sum.txt, count.txt]
    outs: [report.txt]
YAML
}

# ---- a pipeline through Slurm: the same outputs and forja.lock as locally ---------------
new_repo local
write_pipeline
expect_ok forja run -j 2 --executor local
LOCAL=$REPO

new_repo cluster
cat >>forja.yaml <<YAML
executor: {kind: slurm, partition: $SLURM_PARTITION}
YAML
write_pipeline
expect_ok forja run -j 2
expect_contains "$OUT" "Submitted stage 'prepare' as Slurm job"
expect_contains "$OUT" "Submitted stage 'report' as Slurm job"
expect_contains "$OUT" "[sum] summed"
expect_contains "$OUT" "4 stages ran"
[[ $(cat report.txt) == "sum=5050 count=100" ]] && pass || fail "report.txt: $(cat report.txt)"
diff forja.lock "$LOCAL/forja.lock" >/dev/null && pass || fail "forja.lock differs from the local run's: $(diff forja.lock "$LOCAL/forja.lock")"
run_dir=$(ls -d .forja/runs/*/ | head -1)
[[ $(cat "$run_dir/sum.log") == summed ]] && pass || fail "sum's log: $(cat "$run_dir/sum.log")"
expect_ok forja runs list
expect_contains "$OUT" "FINISHED"
# Nothing left to do: nothing submitted.
expect_ok forja run
expect_contains "$OUT" "0 stages ran, 4 up to date"
[[ $OUT != *Submitted* ]] && pass || fail "an up-to-date pipeline submitted a job: $OUT"
# A missing output comes back from the run cache, not from the cluster.
rm count.txt
expect_ok forja run
expect_contains "$OUT" "1 restored from the run cache"
[[ $OUT != *Submitted* ]] && pass || fail "a run-cache hit submitted a job: $OUT"
# --executor local overrides forja.yaml.
expect_ok forja run -f count --single --executor local
[[ $OUT != *Submitted* ]] && pass || fail "--executor local submitted a job: $OUT"
# The journal of submitted jobs is gone after a run that ended normally.
[[ ! -e .forja/slurm-jobs.tsv ]] && pass || fail "the job journal is left after a normal run"

# ---- foreach copies that are ready together: one job array; a failed task retried alone ----
new_repo array
cat >>forja.yaml <<'YAML'
executor: {kind: slurm}
stages:
  fit:
    foreach: [a, b, c]
    do:
      cmd: if [ ${item} = b ] && [ ! -e tried-b ]; then touch tried-b; exit 4; fi; echo "fit ${item}" > fit-${item}.txt
      outs: ['fit-${item}.txt']
      retries: 1
YAML
expect_ok forja run -j 3
expect_contains "$OUT" "Submitted stages 'fit@a', 'fit@b', 'fit@c' as Slurm job array"
expect_contains "$OUT" "stage 'fit@b' failed (exit 4); retrying"
expect_contains "$OUT" "Submitted stage 'fit@b' as Slurm job"
expect_contains "$OUT" "3 stages ran"
[[ $(cat fit-a.txt fit-b.txt fit-c.txt) == $'fit a\nfit b\nfit c' ]] && pass || fail "outputs: $(cat fit-*.txt)"
expect_ok forja run
expect_contains "$OUT" "0 stages ran, 3 up to date"

# docs/scaling.md's array example as it is written there.
new_repo array_doc
cat >>forja.yaml <<'YAML'
executor: {kind: slurm}
stages:
  fit:
    foreach: [a, b, c]
    do:
      cmd: echo "fit ${item}" > fit-${item}.txt
      outs: ['fit-${item}.txt']
YAML
expect_ok forja run -j 3
expect_contains "$OUT" "Submitted stages 'fit@a', 'fit@b', 'fit@c' as Slurm job array"
expect_contains "$OUT" "(tasks 0-2)"
[[ $(cat fit-c.txt) == "fit c" ]] && pass || fail "fit-c.txt: $(cat fit-c.txt)"

# ---- a failing job: retried, then the stage fails with its log tail ----------------------
new_repo failing
cat >>forja.yaml <<'YAML'
executor: {kind: slurm}
stages:
  flaky:
    cmd: 'echo attempt >> attempts.txt; echo "boom: no GPU here"; exit 3'
    outs: [never.txt]
    retries: 1
YAML
expect_fail 1 forja run
expect_contains "$OUT" "stage 'flaky' failed (exit 3); retrying"
expect_contains "$OUT" "stage 'flaky' failed (exit 3) after 2 attempts; see .forja/runs/"
expect_contains "$OUT" "  | boom: no GPU here"
[[ $(wc -l <attempts.txt) == 2 ]] && pass || fail "attempts: $(cat attempts.txt)"

# ---- a timeout: forja cancels the job when it has run that long, as for a local stage ------
new_repo timeout
cat >>forja.yaml <<'YAML'
executor: {kind: slurm}
stages:
  slowpoke:
    cmd: echo started; sleep 120
    outs: [never.txt]
    timeout: 2s
YAML
expect_fail 1 forja run
expect_contains "$OUT" "stage 'slowpoke' timed out after 2 s; see .forja/runs/"
expect_contains "$OUT" "  | started"
slurm_wait_empty 30 && pass || fail "the timed-out job is still queued: $(squeue -h)"

# ---- a job scancelled from outside: a failure, retried when configured --------------------
new_repo cancelled
cat >>forja.yaml <<'YAML'
executor: {kind: slurm}
stages:
  victim:
    cmd: if [ -e tried ]; then echo second > out.txt; else touch tried; sleep 120; fi
    outs: [out.txt]
    retries: 1
YAML
"$FORJA" run >"$TEST_TMP/cancel.out" 2>&1 &
FORJA_PID=$!
# RUNNING in squeue comes before the batch script's first line: cancel only once the first
# attempt has marked itself, or the retry would be the one that sleeps.
if wait_job victim && wait_file tried; then
  scancel -n forja:victim
  wait "$FORJA_PID"
  RC=$?
  OUT=$(cat "$TEST_TMP/cancel.out")
  [[ $RC == 0 ]] && pass || fail "forja run exited $RC after the retry: $OUT"
  expect_contains "$OUT" "stage 'victim' was cancelled on the cluster (CANCELLED"
  expect_contains "$OUT" "retrying"
  [[ $(cat out.txt) == second ]] && pass || fail "out.txt: $(cat out.txt)"
else
  fail "the victim job never ran: $(cat "$TEST_TMP/cancel.out")"
  kill "$FORJA_PID"
fi
# Without retries the cancelled stage fails.
sed -i 's/retries: 1/retries: 0/' forja.yaml
rm -f tried out.txt
"$FORJA" run -f >"$TEST_TMP/cancel2.out" 2>&1 &
FORJA_PID=$!
if wait_job victim; then
  scancel -n forja:victim
  wait "$FORJA_PID"
  RC=$?
  OUT=$(cat "$TEST_TMP/cancel2.out")
  [[ $RC == 1 ]] && pass || fail "forja run exited $RC, not 1: $OUT"
  expect_contains "$OUT" "stage 'victim' was cancelled on the cluster (CANCELLED"
else
  fail "the victim job never ran: $(cat "$TEST_TMP/cancel2.out")"
  kill "$FORJA_PID"
fi

# ---- Ctrl-C: forja scancels everything it submitted ---------------------------------------
new_repo interrupted
cat >>forja.yaml <<'YAML'
executor: {kind: slurm}
stages:
  long1: {cmd: sleep 120 && touch l1, outs: [l1]}
  long2: {cmd: sleep 120 && touch l2, outs: [l2]}
YAML
"$FORJA" run -j 2 >"$TEST_TMP/int.out" 2>&1 &
FORJA_PID=$!
if wait_job long1 && wait_job long2; then
  kill -INT "$FORJA_PID"
  wait "$FORJA_PID"
  RC=$?
  OUT=$(cat "$TEST_TMP/int.out")
  [[ $RC == 130 ]] && pass || fail "forja run exited $RC after SIGINT, not 130: $OUT"
  expect_contains "$OUT" "cancelling 2 Slurm jobs this run submitted"
  LEFT=$(squeue -h -o '%i %j %T')
  [[ -z $LEFT ]] && pass || fail "jobs left in the queue after Ctrl-C: $LEFT"
else
  fail "the jobs never ran: $(cat "$TEST_TMP/int.out")"
  kill "$FORJA_PID"
fi
slurm_wait_empty 30 || fail "the queue did not empty"

# SIGTERM does the same.
"$FORJA" run -j 2 >"$TEST_TMP/term.out" 2>&1 &
FORJA_PID=$!
if wait_job long1 && wait_job long2; then
  kill -TERM "$FORJA_PID"
  wait "$FORJA_PID"
  RC=$?
  OUT=$(cat "$TEST_TMP/term.out")
  [[ $RC == 143 ]] && pass || fail "forja run exited $RC after SIGTERM, not 143: $OUT"
  LEFT=$(squeue -h -o '%i %j %T')
  [[ -z $LEFT ]] && pass || fail "jobs left in the queue after SIGTERM: $LEFT"
else
  fail "the jobs never ran: $(cat "$TEST_TMP/term.out")"
  kill "$FORJA_PID"
fi
slurm_wait_empty 30 || fail "the queue did not empty"

# ---- forja killed with -9: the next run takes what the cluster finished or still runs -----
new_repo killed
cat >>forja.yaml <<'YAML'
executor: {kind: slurm}
stages:
  quick:
    cmd: echo ran >> quick-runs.txt; sleep 2; echo q > q.txt
    outs: [q.txt]
  slow:
    cmd: echo ran >> slow-runs.txt; sleep 8; echo s > s.txt
    outs: [s.txt]
YAML
"$FORJA" run -j 2 >"$TEST_TMP/kill.out" 2>&1 &
FORJA_PID=$!
# forja is stopped (SIGSTOP) before 'quick' ends, so it cannot record it before the kill -9
# (on a loaded machine it otherwise sometimes did, and the next run found it in the run cache).
if wait_job slow && wait_job quick && kill -STOP "$FORJA_PID" && wait_job quick COMPLETED; then
  kill -9 "$FORJA_PID"
  wait "$FORJA_PID" 2>/dev/null
  expect_ok forja run -j 2
  expect_contains "$OUT" "Stage 'quick' finished as Slurm job"
  expect_contains "$OUT" "Stage 'slow' is still running as Slurm job"
  expect_contains "$OUT" "2 stages ran"
  [[ $(wc -l <quick-runs.txt) == 1 && $(wc -l <slow-runs.txt) == 1 ]] && pass ||
    fail "a stage ran twice: quick $(wc -l <quick-runs.txt), slow $(wc -l <slow-runs.txt)"
  [[ $(cat s.txt) == s ]] && pass || fail "s.txt: $(cat s.txt)"
  expect_ok forja run
  expect_contains "$OUT" "0 stages ran, 2 up to date"
else
  fail "the jobs never ran: $(cat "$TEST_TMP/kill.out")"
  kill -CONT "$FORJA_PID"
  kill "$FORJA_PID"
fi

# ---- slurmctld restarted mid-run: forja keeps watching -------------------------------------
new_repo restarted
cat >>forja.yaml <<'YAML'
executor: {kind: slurm}
stages:
  steady:
    cmd: sleep 6; echo done > steady.txt
    outs: [steady.txt]
YAML
"$FORJA" run >"$TEST_TMP/restart.out" 2>&1 &
FORJA_PID=$!
if wait_job steady; then
  slurm_restart_ctld
  wait "$FORJA_PID"
  RC=$?
  OUT=$(cat "$TEST_TMP/restart.out")
  [[ $RC == 0 ]] && pass || fail "forja run exited $RC across a slurmctld restart: $OUT"
  [[ $(cat steady.txt 2>/dev/null) == done ]] && pass || fail "steady.txt missing: $OUT"
else
  fail "the job never ran: $(cat "$TEST_TMP/restart.out")"
  kill "$FORJA_PID"
fi

# ---- jobs squeue no longer knows (a controller restarted without its state) ----------------
# The job that finished meanwhile is read from the exit status its script wrote; the one that
# was still pending left no trace anywhere (this cluster keeps no accounting: sacct says so
# once and is not asked again), so after three polls it counts as lost and is submitted again.
new_repo forgotten
cat >>forja.yaml <<'YAML'
executor: {kind: slurm}
stages:
  first:
    cmd: echo ran >> first-runs.txt; sleep 3; echo one > one.txt
    outs: [one.txt]
    resources: {cpus: 2}
  second:
    cmd: echo ran >> second-runs.txt; echo two > two.txt
    outs: [two.txt]
    resources: {cpus: 2}
YAML
"$FORJA" run -j 2 >"$TEST_TMP/forgotten.out" 2>&1 &
FORJA_PID=$!
if wait_job first && wait_job second PENDING; then
  slurm_stop_ctld
  for ((i = 0; i < 200; i++)); do [[ -s one.txt ]] && break; sleep 0.1; done
  sleep 1
  slurm_start_ctld_clean
  wait "$FORJA_PID"
  RC=$?
  OUT=$(cat "$TEST_TMP/forgotten.out")
  [[ $RC == 0 ]] && pass || fail "forja run exited $RC after the controller forgot its jobs: $OUT"
  expect_contains "$OUT" "stage 'second' vanished from the cluster's queue; submitting it again"
  expect_contains "$OUT" "2 stages ran"
  [[ $(wc -l <first-runs.txt) == 1 ]] && pass || fail "'first' ran again: $(cat first-runs.txt)"
  [[ $(cat one.txt two.txt) == $'one\ntwo' ]] && pass || fail "outputs: $(cat one.txt two.txt)"
else
  fail "the jobs never ran as planned: $(cat "$TEST_TMP/forgotten.out")"
  kill "$FORJA_PID"
fi
slurm_wait_empty 30 || fail "the queue did not empty"

# ---- forja exp run -m on Slurm: the 3x2 sweep is ONE job array, -j its %N -----------------
new_repo sweep
mkdir conf && printf 'lr: 0.1\nseed: 1\n' >conf/config.yaml
cat >>forja.yaml <<'YAML'
executor: {kind: slurm}
stages:
  train:
    cmd: 'echo "score: $(echo "${lr} * 10 + ${seed}" | bc)" > metrics.yaml && echo "trained lr=${lr} seed=${seed}"'
    params: [lr, seed]
    metrics: [metrics.yaml]
    resources: {mem: 100M, time: 2m}
YAML
git add -A && git commit -qm sweep
expect_ok forja exp run -m lr=0.1,0.2,0.3 seed=1,2 -j 2
expect_contains "$OUT" "Submitted experiments 'exp-"
expect_contains "$OUT" "as Slurm job array"
expect_contains "$OUT" "(tasks 0-5, at most 2 at once)"
expect_contains "$OUT" "] trained lr=0.3 seed=2"
expect_contains "$OUT" "6 of 6 experiments succeeded"
[[ $OUT != *"Submitted stage "* ]] && pass || fail "an experiment's forja run submitted its stages again: $OUT"
# One array, its six tasks: squeue still lists them (MinJobAge), all under one array job id.
arrays=$(squeue -h -r --states=all -n forja:exp -o '%F' | sort -u)
tasks=$(squeue -h -r --states=all -n forja:exp -o '%K' | sort -n | tr '\n' ' ')
[[ $(wc -w <<<"$arrays") == 1 ]] && pass || fail "the sweep was not one array job: '$arrays'"
expect_eq "$tasks" "0 1 2 3 4 5 "
[[ $(squeue -h -r --states=all -n forja:exp -o '%T' | sort -u) == COMPLETED ]] && pass ||
  fail "tasks: $(squeue -h -r --states=all -n forja:exp -o '%i %T')"
# forja.lock, metrics and the tracking store: six runs with their own params and metrics.
expect_ok forja exp show --sort-by score
expect_contains "$OUT" "3.0"
[[ $(grep -c ' done ' <<<"$OUT") == 6 ]] && pass || fail "exp show: $OUT"
expect_ok forja runs list --json
python3 - "$OUT" <<'PY' && pass || fail "tracked runs: $OUT"
import json, sys
runs = json.loads(sys.argv[1])
runs = runs.get("runs", runs) if isinstance(runs, dict) else runs
seen = set()
for r in runs:
    p = {x["key"]: x["value"] for x in r["data"].get("params", [])}
    m = {x["key"]: x["value"] for x in r["data"].get("metrics", [])}
    lr, seed = float(p["lr"]), int(p["seed"])
    assert abs(m["score"] - (lr * 10 + seed)) < 1e-9, (p, m)
    seen.add((lr, seed))
assert seen == {(a, b) for a in (0.1, 0.2, 0.3) for b in (1, 2)} and len(runs) == 6, seen
PY
# docs/scaling.md's sweep line: --executor local overrides forja.yaml (no job submitted).
expect_ok forja exp run -m lr=0.5,0.6 --executor local -j 2
[[ $OUT != *Submitted* ]] && pass || fail "--executor local submitted a job: $OUT"
expect_contains "$OUT" "2 of 2 experiments succeeded"

# Ctrl-C during a sweep on Slurm: the array is scancelled, the experiments recorded as interrupted.
new_repo sweep_stop
mkdir conf && echo "lr: 0.1" >conf/config.yaml
cat >>forja.yaml <<'YAML'
executor: {kind: slurm}
stages:
  train:
    cmd: sleep 60; echo "lr=${lr}" > model.txt
    params: [lr]
    outs: [model.txt]
YAML
git add -A && git commit -qm sweep
"$FORJA" exp run -m lr=1,2,3 -j 2 >"$TEST_TMP/sweep-stop.out" 2>&1 &
FORJA_PID=$!
if wait_job exp; then
  kill -INT "$FORJA_PID"
  wait "$FORJA_PID"
  RC=$?
  OUT=$(cat "$TEST_TMP/sweep-stop.out")
  [[ $RC != 0 ]] && pass || fail "an interrupted sweep exited 0: $OUT"
  expect_contains "$OUT" "Slurm jobs this run submitted"
  array=$(squeue -h -r --states=all -n forja:exp -o '%F' | sort -n | tail -1)
  states=$(squeue -h -r --states=all -j "$array" -o '%T' | sort -u | tr '\n' ' ')
  [[ $states == "CANCELLED " ]] && pass || fail "the sweep's tasks after Ctrl-C: $states"
  expect_ok forja exp show
  [[ $(grep -cw failed <<<"$OUT") == 3 ]] && pass || fail "exp show after Ctrl-C: $OUT"
else
  fail "the sweep's tasks never ran: $(cat "$TEST_TMP/sweep-stop.out")"
  kill "$FORJA_PID"
fi
slurm_wait_empty 30 || fail "the queue did not empty"

# ---- locally, resources.cpus counts against -j: two 2-cpu stages never overlap at -j 2 -----
new_repo slots
cat >>forja.yaml <<'YAML'
stages:
  w1:
    cmd: mkdir busy && sleep 1 && rmdir busy && touch w1
    outs: [w1]
    resources: {cpus: 2}
  w2:
    cmd: mkdir busy && sleep 1 && rmdir busy && touch w2
    outs: [w2]
    resources: {cpus: 2}
  big:
    cmd: touch big
    outs: [big]
    resources: {cpus: 64}
YAML
expect_ok forja run -j 2
expect_contains "$OUT" "3 stages ran"

# ---- README's "Scaling out" example, as the README shows it -----------------------------------
new_repo readme
python3 - "$FORJA_SOURCE/README.md" >>forja.yaml <<'PY' || fail "README has no Slurm example"
import re, sys
m = re.search(r"```yaml\n# forja.yaml\n(executor: \{kind: slurm.*?)```", open(sys.argv[1]).read(), re.S)
sys.stdout.write(m.group(1))
PY
expect_ok forja run -j 2
expect_contains "$OUT" "as Slurm job"
expect_eq "$(cat sum.txt)" "5050"

# ---- configuration errors: one line with file:line and field -------------------------------
new_repo config
cat >>forja.yaml <<'YAML'
executor: {kind: pbs}
stages:
  a: {cmd: "true"}
YAML
expect_fail 1 forja run
expect_contains "$OUT" "forja.yaml:"
expect_contains "$OUT" "executor.kind: 'pbs' is not an executor; write kind: local or kind: slurm"

finish
