#!/usr/bin/env bash
# Deterministic crashes (issue 11): every crash point compiled into forja
# (core/crash_point.h, FORJA_CRASH_AT=NAME[:N]) is hit here by the command it
# belongs to, which must die right there (SIGKILL: exit 137, and the line naming
# the point). After each crash: the workspace lock is free, verify is clean,
# status tells the truth, pointer files and forja.lock parse, the registry shows
# the old or the new state and never a part of one; then a rerun completes.
#
# No sleeps and no races: a renamed or unreachable point makes crash_at fail,
# and the last check fails when a point in src/ has no case here.
source "$(dirname "$0")/../lib/common.sh"
source "$FORJA_SOURCE/tests/lib/faults.sh"

TESTED=()

# crash_at POINT CMD...: CMD must be killed at crash point POINT (NAME or NAME:N).
crash_at() {
  local point=$1 name=${1%%:*}
  shift
  TESTED+=("$name")
  OUT=$(export FORJA_CRASH_AT=$point; "$@" 2>&1)
  RC=$?
  if [[ $RC -eq 137 && $OUT == *"crash point $name reached"* ]]; then pass; else
    fail "expected '$*' to die at crash point $point (exit 137), got exit $RC:"$'\n'"$OUT"
  fi
}

expect_lock_free() {
  if flock -n .forja/lock true; then pass; else fail "the workspace lock is still held after the crash"; fi
}

# The files under DIR are exactly those of a tree_sums listing (temp files aside).
expect_tree() {
  local d
  d=$(diff <(tree_sums "$1") "$2" | head -6)
  if [[ -z $d ]]; then pass; else fail "$1 does not hold the expected files:"$'\n'"$d"; fi
}

# status after a crash: exit 0 and "up to date" exactly when data holds SUMS,
# else exit 1 naming data; never an error.
expect_status_truthful() {  # SUMS
  run forja status
  expect_not_contains "$OUT" "forja: error"
  if [[ -d data && $(tree_sums data) == "$(cat "$1")" ]]; then
    expect_eq "$RC" 0
    expect_contains "$OUT" "up to date"
  else
    expect_eq "$RC" 1
    if [[ $OUT =~ data:\ (not\ in\ cache|deleted|modified) ]]; then pass; else
      fail "status does not say what differs:"$'\n'"$OUT"
    fi
  fi
}

expect_up_to_date() {  # SUMS
  expect_ok forja status
  expect_contains "$OUT" "up to date"
  expect_ok forja verify
  expect_tree data "$1"
}

# Version 1: 30 files in 3 folders; version 2: 5 changed, 5 added, 5 removed.
V1=$TEST_TMP/v1 V2=$TEST_TMP/v2
for d in a b c; do make_files "$V1/$d" 10; done
cp -r "$V1" "$V2"
for i in 0 1 2 3 4; do echo "changed $i" >>"$V2/a/f$i.txt"; echo "new $i" >"$V2/b/new$i.txt"; rm "$V2/c/f$i.txt"; done
tree_sums "$V1" >"$TEST_TMP/v1.sums"
tree_sums "$V2" >"$TEST_TMP/v2.sums"
cat "$TEST_TMP/v1.sums" "$TEST_TMP/v2.sums" >"$TEST_TMP/both.sums"

new_repo data
fresh_data() {  # VERSION_DIR: the data, with no cache, snapshot or pointer
  chmod -R u+w data .forja/cache 2>/dev/null
  rm -rf data data.forja .forja/cache/sha256 .forja/state.db*
  cp -r "$1" data
}

# ---- add ---------------------------------------------------------------------------
# A first add that dies before its pointer: nothing is tracked, nothing lost.
for point in add.after_objects add.before_pointer; do
  echo "-- first add, $point"
  fresh_data "$V1"
  crash_at "$point" forja add data
  expect_lock_free
  expect_missing data.forja
  expect_ok forja verify
  expect_ok forja status
  expect_contains "$OUT" "Nothing is tracked"
  expect_tree data "$TEST_TMP/v1.sums"
  expect_ok forja add data
  expect_up_to_date "$TEST_TMP/v1.sums"
done

# Adding version 2 over version 1: the pointer names version 1 or version 2, whole.
for point in add.after_objects add.before_pointer add.after_pointer; do
  echo "-- add of version 2, $point"
  fresh_data "$V1"
  expect_ok forja add data
  v1_hash=$(pointer_hash data.forja)
  rm -rf data && cp -r "$V2" data
  crash_at "$point" forja add data
  expect_lock_free
  expect_ok forja verify
  if [[ $point == add.after_pointer ]]; then
    if [[ $(pointer_hash data.forja) != "$v1_hash" ]]; then pass; else fail "$point: the pointer still names version 1"; fi
    expect_up_to_date "$TEST_TMP/v2.sums"
  else
    expect_eq "$(pointer_hash data.forja)" "$v1_hash"
    expect_status_truthful "$TEST_TMP/v1.sums"
  fi
  expect_tree data "$TEST_TMP/v2.sums"
  expect_ok forja add data
  expect_up_to_date "$TEST_TMP/v2.sums"
  git check-ignore -q data && pass || fail "$point: data is not in .gitignore after the rerun"
done

# ---- push --------------------------------------------------------------------------
# A remote holds whole objects only and never a folder's manifest without all of
# its files: a clone's pull refuses the folder instead of checking out half of it.
REMOTE=$TEST_TMP/remote
mkdir -p "$REMOTE"
fresh_data "$V1"
expect_ok forja add data
expect_ok forja remote add store "$REMOTE"
git add -A && git commit -qm v1
V1_HASH=$(pointer_hash data.forja)
manifest_on_remote() { [[ -e $REMOTE/sha256/${V1_HASH:0:2}/${V1_HASH:2} ]]; }
git clone -q "$REPO" "$TEST_TMP/clone"
for point in push.object:3 push.before_manifests; do
  echo "-- push, $point"
  cd "$REPO" && rm -rf "${REMOTE:?}"/*
  crash_at "$point" forja push
  expect_lock_free
  manifest_on_remote && fail "$point: the folder's manifest reached the remote before its files" || pass
  expect_ok forja verify --remote store
  cd "$TEST_TMP/clone"
  expect_fail 1 forja pull
  expect_contains "$OUT" "is not on remote 'store'"
  expect_missing data
  cd "$REPO"
  expect_ok forja push
  manifest_on_remote && pass || fail "$point: the rerun push did not send the manifest"
  cd "$TEST_TMP/clone"
  expect_ok forja pull
  expect_up_to_date "$TEST_TMP/v1.sums"
  chmod -R u+w data .forja/cache && rm -rf data .forja/cache/sha256 .forja/state.db*
done

# ---- fetch (pull) ------------------------------------------------------------------
# In the clone: a pull that dies while fetching has checked nothing out.
for point in fetch.after_manifests fetch.object:4 fetch.after_objects; do
  echo "-- pull, $point"
  chmod -R u+w data .forja/cache 2>/dev/null
  rm -rf data .forja/cache/sha256 .forja/state.db*
  crash_at "$point" forja pull
  expect_lock_free
  expect_ok forja verify
  expect_missing data
  expect_status_truthful "$TEST_TMP/v1.sums"
  expect_ok forja pull
  expect_up_to_date "$TEST_TMP/v1.sums"
done

# ---- checkout ----------------------------------------------------------------------
# From version 2 back to version 1: every file holds one version's bytes, and
# status says whether the folder is version 1 yet.
cd "$REPO"
cp data.forja "$TEST_TMP/v1.forja"
rm -rf data && cp -r "$V2" data
expect_ok forja add data
cp data.forja "$TEST_TMP/v2.forja"
for point in checkout.after_removals checkout.file:4 checkout.before_snapshot; do
  echo "-- checkout v2 -> v1, $point"
  cp "$TEST_TMP/v2.forja" data.forja && expect_ok forja checkout
  expect_tree data "$TEST_TMP/v2.sums"
  cp "$TEST_TMP/v1.forja" data.forja
  crash_at "$point" forja checkout
  expect_lock_free
  expect_ok forja verify
  expect_files_intact data "$TEST_TMP/both.sums"
  expect_status_truthful "$TEST_TMP/v1.sums"
  expect_ok forja checkout
  expect_up_to_date "$TEST_TMP/v1.sums"
done
# The last point comes after every file is written: status must rescan, not trust state.db.
expect_tree data "$TEST_TMP/v1.sums"

# ---- run ---------------------------------------------------------------------------
new_repo run
cat >>forja.yaml <<'EOF'

stages:
  a:
    cmd: mkdir -p out && cp in.txt out/a.txt
    deps: [in.txt]
    outs: [out/a.txt]
  b:
    cmd: cat out/a.txt out/a.txt >out/b.txt
    deps: [out/a.txt]
    outs: [out/b.txt]
EOF
echo one >in.txt
git add -A && git commit -qm pipeline

pipeline_sound() {  # WHAT: forja.lock parses, the cache is sound
  run forja status --pipeline
  if [[ $RC -le 1 ]]; then pass; else fail "$1: status --pipeline exit $RC"$'\n'"$OUT"; fi
  expect_not_contains "$OUT" "forja: error"
  expect_ok forja verify
  expect_lock_free
}
rerun_pipeline() {  # CONTENT of in.txt
  expect_ok forja run
  expect_ok forja status --pipeline
  expect_eq "$(grep -c 'up to date' <<<"$OUT")" 2
  expect_eq "$(cat out/b.txt)" "$1"$'\n'"$1"
}

echo "-- run, run.stage_done"
crash_at run.stage_done forja run
expect_missing forja.lock  # the first stage's end was not yet recorded
pipeline_sound run.stage_done
rerun_pipeline one

echo "-- run, run.lock_before_rename"
cp forja.lock "$TEST_TMP/old.lock"
echo two >in.txt
crash_at run.lock_before_rename forja run
cmp -s forja.lock "$TEST_TMP/old.lock" && pass || fail "forja.lock changed although its rename never happened"
pipeline_sound run.lock_before_rename
run forja status --pipeline
expect_contains "$OUT" "a: changed: dep in.txt changed"  # the old lock, read truthfully
rerun_pipeline two
# The killed writer's temp file is gone, so `git add -A` cannot commit it.
expect_eq "$(find . -maxdepth 1 -name '.forja.lock.tmp-*' | wc -l)" 0
if cmp -s forja.lock "$TEST_TMP/old.lock"; then fail "the rerun did not record the new run in forja.lock"; else pass; fi

# ---- register and promote (local store) --------------------------------------------
new_repo reg
make_pkg() {  # DIR TEXT
  write_test_package "$1"
  echo "$2" >"$1/info.txt"
}
make_pkg pkg one
# "V:STAGE:ALIASES" per version, newest first; the history's entry count.
registry_state() {  # STORE_ARGS...
  forja models versions churn --json "$@" 2>/dev/null | python3 -c '
import json, sys
vs = json.load(sys.stdin).get("model_versions", [])
print(" ".join(v["version"] + ":" + v["current_stage"] + ":" + ",".join(sorted(v.get("aliases", []))) for v in vs))'
}
history_lines() { forja models history churn --json "$@" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d if isinstance(d, list) else next(iter(d.values()))))'; }

echo "-- register, register.before_commit"
crash_at register.before_commit forja models register churn pkg
expect_eq "$(registry_state)" ""
expect_ok forja models register churn pkg
expect_eq "$(tail -1 <<<"$OUT")" "churn/1"  # the crashed number was given back
echo "-- register, register.after_commit"
crash_at register.after_commit forja models register churn pkg
expect_eq "$(registry_state)" "2:None: 1:None:"
expect_ok forja models history churn --version 2
expect_contains "$OUT" "registered"
echo "-- promote, promote.before_commit"
H=$(history_lines)
crash_at promote.before_commit forja models promote churn 1 --to staging
expect_eq "$(registry_state)" "2:None: 1:None:"
expect_eq "$(history_lines)" "$H"
echo "-- promote, promote.after_commit"
crash_at promote.after_commit forja models promote churn 2 --to @champion
expect_eq "$(registry_state)" "2:None:champion 1:None:"
expect_eq "$(history_lines)" "$((H + 1))"
expect_ok forja models promote churn 1 --to staging
expect_eq "$(registry_state)" "2:None:champion 1:Staging:"
expect_ok forja verify
echo "-- rollout, rollout.begin.before_commit"
H=$(history_lines)
ROLLOUT=(forja rollout churn --to 2 --stage staging --steps 100 --interval 1s --server http://127.0.0.1:9)
crash_at rollout.begin.before_commit "${ROLLOUT[@]}"
expect_fail 1 forja rollout status churn  # no rollout was recorded
expect_contains "$OUT" "never had a rollout"
expect_eq "$(history_lines)" "$H"
echo "-- rollout, rollout.begin.after_commit"
crash_at rollout.begin.after_commit "${ROLLOUT[@]}"
expect_ok forja rollout status churn  # running, with nobody driving it: abort ends it
expect_contains "$OUT" "state:    running, weight 0%"
expect_eq "$(history_lines)" "$((H + 1))"
expect_ok forja rollout abort churn
expect_ok forja rollout status churn
expect_contains "$OUT" "state:    aborted"
expect_eq "$(history_lines)" "$((H + 2))"
expect_eq "$(registry_state)" "2:None:champion 1:Staging:"

# ---- forja server: between receiving a write and answering it ----------------------
new_repo srv
make_pkg pkg server
STORE="sqlite:///$TEST_TMP/server.db"
SERVER_LOG=$TEST_TMP/server.log SERVER_RC=$TEST_TMP/server.rc SERVER_PID=$TEST_TMP/server.pid

# The server runs under a subshell that records its exit status in $SERVER_RC
# (and takes bash's "Killed" notice into the log).
start_server() {  # [CRASH_POINT]
  rm -f "$SERVER_RC" "$SERVER_PID"
  (if [[ -n ${1:-} ]]; then export FORJA_CRASH_AT=$1; fi
   "$FORJA" server --port 0 --store "$STORE" &
   echo $! >"$SERVER_PID"
   wait $!
   echo $? >"$SERVER_RC") >"$SERVER_LOG" 2>&1 &
  URL=
  for _ in $(seq 600); do
    [[ -s $SERVER_PID ]] && URL=$(grep -o 'http://[0-9.:]*' "$SERVER_LOG" | head -1)
    [[ -n $URL ]] && break
    sleep 0.05
  done
  [[ -n $URL ]] || { fail "forja server did not start:"$'\n'"$(cat "$SERVER_LOG")"; finish; }
  SERVER=$(cat "$SERVER_PID")
  at_exit "kill $SERVER 2>/dev/null"
}
# The server started with a crash point must have died there.
expect_server_crashed() {  # POINT
  TESTED+=("$1")
  local i
  # The request that hit the point has returned: the server is dead or dying.
  for ((i = 0; i < 300; i++)); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$SERVER" 2>/dev/null; then
    fail "forja server is still running: it never reached crash point $1"
    kill -9 "$SERVER"
  fi
  for ((i = 0; i < 300; i++)); do [[ -s $SERVER_RC ]] && break; sleep 0.1; done
  expect_eq "$(cat "$SERVER_RC" 2>/dev/null)" 137
  expect_contains "$(cat "$SERVER_LOG")" "crash point $1 reached"
}
stop_server() {
  kill "$SERVER"
  for ((i = 0; i < 100; i++)); do [[ -s $SERVER_RC ]] && break; sleep 0.1; done
}
api() {  # METHOD ROUTE [JSON]: the status code; the body in $BODY
  BODY=$(curl -s -o - -w '\n%{http_code}' -X "$1" -H 'Content-Type: application/json' \
    ${3:+--data "$3"} "$URL/api/2.0/mlflow/$2")
  CODE=${BODY##*$'\n'}
  BODY=${BODY%$'\n'*}
}

echo "-- server, api.before_write"
start_server api.before_write
api POST experiments/create '{"name": "e1"}'
expect_server_crashed api.before_write
start_server
api GET "experiments/get-by-name?experiment_name=e1"
expect_eq "$CODE" 404  # never committed
api POST experiments/create '{"name": "e1"}'
expect_eq "$CODE" 200
stop_server

echo "-- server, api.after_write"
start_server api.after_write
api POST experiments/create '{"name": "e2"}'
if [[ $CODE == 200 ]]; then fail "the crashed server answered 200"; else pass; fi
expect_server_crashed api.after_write
start_server
api GET "experiments/get-by-name?experiment_name=e2"
expect_eq "$CODE" 200  # committed before the crash: whole
expect_contains "$BODY" '"name":"e2"'
stop_server

echo "-- server, register.before_commit"
start_server register.before_commit
run forja models register --store "$URL" churn pkg
if [[ $RC -ne 0 ]]; then pass; else fail "register through a crashing server succeeded:"$'\n'"$OUT"; fi
expect_one_error_line "$OUT"
expect_server_crashed register.before_commit
start_server
expect_eq "$(registry_state --store "$URL")" ""
expect_ok forja models register --store "$URL" churn pkg
expect_eq "$(tail -1 <<<"$OUT")" "churn/1"
stop_server

echo "-- server, api.object_before_store"
printf 'an object sent to the server\n' >"$TEST_TMP/obj"
OBJ=$(sha256sum <"$TEST_TMP/obj" | cut -c1-64)
start_server api.object_before_store
curl -s -o /dev/null -X PUT --data-binary "@$TEST_TMP/obj" "$URL/api/2.0/forja/objects/sha256/$OBJ"
expect_server_crashed api.object_before_store
start_server
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/2.0/forja/objects/sha256/$OBJ")" 404
expect_ok forja verify
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary "@$TEST_TMP/obj" \
  "$URL/api/2.0/forja/objects/sha256/$OBJ")" 200
expect_eq "$(curl -s "$URL/api/2.0/forja/objects/sha256/$OBJ")" "an object sent to the server"
stop_server

# ---- every crash point in the code has a case above, and every case a point ----------
SRC_POINTS=$(grep -rhoE 'CrashPoint\("[a-z_.]+"\)' "$FORJA_SOURCE/src" --include='*.cc' |
  sed -E 's/CrashPoint\("(.*)"\)/\1/' | sort -u)
TESTED_POINTS=$(printf '%s\n' "${TESTED[@]}" | sort -u)
untested=$(comm -23 <(echo "$SRC_POINTS") <(echo "$TESTED_POINTS"))
unknown=$(comm -13 <(echo "$SRC_POINTS") <(echo "$TESTED_POINTS"))
[[ -z $untested ]] && pass || fail "crash points in src/ with no case in this test: $untested"
[[ -z $unknown ]] && pass || fail "this test names crash points that src/ does not have: $unknown"
expect_eq "$(wc -l <<<"$SRC_POINTS")" 22

# A name that matches no point changes nothing.
cd "$REPO"
FORJA_CRASH_AT=no.such.point expect_ok forja verify
finish
