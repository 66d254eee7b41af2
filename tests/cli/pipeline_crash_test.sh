#!/usr/bin/env bash
# kill -9 of `forja run -j 2` in the middle of a pipeline, at several points.
# Each stage records its process group, sleeps, writes its output, and as its
# last act appends its name to a counter file. After every kill (of forja, and
# then of the stage processes it left behind): the workspace lock is free, the
# lock file parses (status --pipeline works), verify passes; and a rerun runs
# only what had not finished — a stage that finished before the kill (and that
# forja had time to see end) never runs again, none runs twice — leaving
# exactly the outputs of an uninterrupted run.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/faults.sh"

INTERRUPTED=0
ATTEMPTS=0

# stage.sh NAME SECONDS DEP...: out/NAME.txt is the deps' outputs and NAME.
write_stage_script() {
  cat >stage.sh <<'EOF'
name=$1 secs=$2
shift 2
echo $$ >"pids/$name"
sleep "$secs"
{
  for d in "$@"; do cat "out/$d.txt"; done
  echo "$name"
} >"out/$name.txt"
echo "$name" >>counter
EOF
  mkdir -p pids out
}

# The fan-out pipeline: s1 -> (s2, s3, s5); (s2, s3) -> s4; (s4, s5) -> s6. s3's
# output is persist (so not run-cached: only forja.lock can say it is done).
ALL="s1 s2 s3 s4 s5 s6"
fanout_pipeline() {
  write_stage_script
  cat >>forja.yaml <<'EOF'

stages:
  s1:
    cmd: sh stage.sh s1 0.6
    deps: [stage.sh]
    outs: [out/s1.txt]
  s2:
    cmd: sh stage.sh s2 0.6 s1
    deps: [stage.sh, out/s1.txt]
    outs: [out/s2.txt]
  s3:
    cmd: sh stage.sh s3 0.7 s1
    deps: [stage.sh, out/s1.txt]
    outs: [{out/s3.txt: {persist: true}}]
  s4:
    cmd: sh stage.sh s4 1.0 s2 s3
    deps: [stage.sh, out/s2.txt, out/s3.txt]
    outs: [out/s4.txt]
  s5:
    cmd: sh stage.sh s5 0.5 s1
    deps: [stage.sh, out/s1.txt]
    outs: [out/s5.txt]
  s6:
    cmd: sh stage.sh s6 1.2 s4 s5
    deps: [stage.sh, out/s4.txt, out/s5.txt]
    outs: [out/s6.txt]
EOF
}

counted() { sort -u counter 2>/dev/null | tr '\n' ' '; }
n_counted() { sort -u counter 2>/dev/null | wc -l; }

# Kills the stage processes a killed forja left running: the process groups
# the stages recorded, when still a stage of this test.
kill_left_stages() {
  local f g deadline
  for f in pids/*; do
    [[ -f $f ]] || continue
    g=$(cat "$f")
    [[ -n $g ]] && grep -qa "stage.sh" "/proc/$g/cmdline" 2>/dev/null && kill -9 -- "-$g" 2>/dev/null
  done
  # Until they are gone (a killed group can take a moment to be reaped).
  deadline=$((SECONDS + 10))
  while ((SECONDS < deadline)); do
    local alive=0
    for f in pids/*; do
      [[ -f $f ]] || continue
      g=$(cat "$f")
      [[ -n $(ps -eo pgid=,stat= | awk -v g="$g" '$1 == g && $2 !~ /^Z/') ]] && alive=1
    done
    ((alive)) || break
    sleep 0.05
  done
}

# One kill: a fresh repository; forja run -j 2 in the background; once COND
# holds, the stages counted so far are "done" (S), forja gets DELAY seconds to
# see them end, then kill -9; then the checks and the rerun.
crash_case() {  # NAME COND DELAY [strict]
  local name=$1 cond=$2 delay=$3 strict=${4:-strict}
  echo "-- [${SECONDS}s] $name"
  new_repo "$name"
  fanout_pipeline
  "$FORJA" run -j 2 >"$TEST_TMP/bg.out" 2>&1 &
  local pid=$! deadline=$((SECONDS + 60))
  _started=$EPOCHREALTIME
  while kill -0 "$pid" 2>/dev/null && ! eval "$cond" && ((SECONDS < deadline)); do sleep 0.01; done
  local done_before
  done_before=$(counted)
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  local rc=$?
  ATTEMPTS=$((ATTEMPTS + 1))
  if [[ $rc -eq 137 ]]; then INTERRUPTED=$((INTERRUPTED + 1)); else
    echo "NOTE: forja ended (exit $rc) before the kill in $name"
    [[ $rc -eq 0 ]] || fail "forja run ended with exit $rc before the kill:"$'\n'"$(cat "$TEST_TMP/bg.out")"
  fi
  # The workspace lock died with forja, even while its stages still run.
  if flock -n .forja/lock true; then pass; else fail "the workspace lock is held after kill -9 of forja (by its stages?)"; fi
  kill_left_stages

  # The lock file is whole: status --pipeline reads it; the cache is sound.
  run forja status --pipeline
  if [[ $RC -le 1 ]]; then pass; else fail "status --pipeline after the kill: exit $RC"$'\n'"$OUT"; fi
  expect_not_contains "$OUT" "forja: error"
  expect_ok forja verify
  expect_no_temp_files . .forja

  # The rerun.
  local before_lines
  before_lines=$(wc -l 2>/dev/null <counter || echo 0)
  expect_ok forja run -j 2
  local rerun
  rerun=$(tail -n +$((before_lines + 1)) counter | tr '\n' ' ')
  echo "   done before the kill: [${done_before}] rerun: [${rerun}]"
  local s
  for s in $ALL; do
    local times
    times=$(grep -cx "$s" <<<"$(tail -n +$((before_lines + 1)) counter)")
    if ((times <= 1)); then pass; else fail "$name: stage $s ran $times times in the rerun"; fi
    if [[ " $done_before " == *" $s "* && $strict == strict ]]; then
      if ((times == 0)); then pass; else fail "$name: stage $s finished before the kill but ran again"; fi
    fi
    grep -qx "$s" counter && pass || fail "$name: stage $s never ran"
  done
  expect_ok forja status --pipeline
  expect_eq "$(grep -c 'up to date' <<<"$OUT")" 6
  expect_tree out "$TEST_TMP/expected.sums"
  expect_ok forja verify
}

expect_tree() {  # DIR SUMS
  local d
  d=$(diff <(tree_sums "$1") "$2" | head -6)
  if [[ -z $d ]]; then pass; else fail "$1 does not hold the expected outputs:"$'\n'"$d"; fi
}

# ---- the reference: an uninterrupted run ---------------------------------------------
new_repo reference
fanout_pipeline
expect_ok forja run -j 2
expect_eq "$(counted)" "s1 s2 s3 s4 s5 s6 "
expect_eq "$(wc -l <counter)" 6
tree_sums out >"$TEST_TMP/expected.sums"
expect_eq "$(cat out/s6.txt | tr '\n' ' ')" "s1 s2 s1 s3 s4 s1 s5 s6 "

# ---- kills at each point -------------------------------------------------------------
# In the first stage, before anything finished.
crash_case crash0 'elapsed 0.3' 0
# Once N stages finished, with time for forja to see them end and to write
# forja.lock (at most 250 ms after a stage ends).
for n in 1 2 3 4 5; do
  crash_case "crash$n" "[[ \$(n_counted) -ge $n ]]" 0.6
done
# The instant a stage finished: forja may not have seen it end, so it may run
# again (once); nothing may run twice and the result must be whole.
crash_case crash_instant2 '[[ $(n_counted) -ge 2 ]]' 0 loose
crash_case crash_instant4 '[[ $(n_counted) -ge 4 ]]' 0 loose

# ---- a finished stage known only to forja.lock ------------------------------------------
# p and q end ~0.1 s apart, then r runs long. q's output is persist, so the run
# cache does not have it: a rerun must find q in forja.lock, written while r
# still ran — not only when the next stage ends.
echo "-- [${SECONDS}s] a persist stage recorded by the lock alone"
new_repo lockonly
write_stage_script
cat >>forja.yaml <<'EOF'

stages:
  p:
    cmd: sh stage.sh p 0.5
    deps: [stage.sh]
    outs: [out/p.txt]
  q:
    cmd: sh stage.sh q 0.6
    deps: [stage.sh]
    outs: [{out/q.txt: {persist: true}}]
  r:
    cmd: sh stage.sh r 5 p q
    deps: [stage.sh, out/p.txt, out/q.txt]
    outs: [out/r.txt]
EOF
kill_after_p_and_q() {
  local pid deadline
  "$FORJA" run -j 2 >"$TEST_TMP/bg.out" 2>&1 &
  pid=$!
  deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && [[ $(n_counted) -lt 2 ]] && ((SECONDS < deadline)); do sleep 0.01; done
  sleep 0.8
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  [[ $? -eq 137 ]] && pass || fail "forja run was not running at the kill:"$'\n'"$(cat "$TEST_TMP/bg.out")"
  kill_left_stages
}
kill_after_p_and_q
expect_contains "$(cat forja.lock 2>/dev/null)" "  q:"
BEFORE=$(wc -l <counter)
expect_ok forja run -j 2
expect_eq "$(tail -n +$((BEFORE + 1)) counter | tr '\n' ' ')" "r "
expect_eq "$(cat out/r.txt | tr '\n' ' ')" "p q r "

echo "$INTERRUPTED of $ATTEMPTS kills interrupted a running forja"
if ((INTERRUPTED == ATTEMPTS)); then pass; else fail "only $INTERRUPTED of $ATTEMPTS kills hit a running forja"; fi
finish
