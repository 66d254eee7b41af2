#!/usr/bin/env bash
# kill -9 in the middle of add, pull and checkout of a large folder. After every
# kill: verify passes (no corrupt object ever enters the cache), the pointer file
# is absent or whole, status tells the truth, every file in the workspace holds
# the bytes of some version; and a rerun completes, leaving exactly the data.
#
# This is the random-timing companion of tests/security/crash_points_test.sh.
# Kill moments are a mix of fixed delays and "as soon as X appears" polls, so
# that a fast or slow machine still interrupts every phase (hashing, storing,
# pointer writing; fetching, checking out). CRASH_FILES sets the folder size.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/faults.sh"

N_FILES=${CRASH_FILES:-20000}
INTERRUPTED=0  # kills that hit a running command
ATTEMPTS=0

# The folder: N small files in 40 subfolders, plus a few MiB-sized ones.
make_dataset() {
  local dir=$1 i
  mkdir -p "$dir"
  for ((i = 0; i < 40; i++)); do mkdir -p "$dir/d$i"; done
  for ((i = 0; i < N_FILES; i++)); do printf 'file %d\n%s\n' "$i" "$RANDOM$RANDOM" >"$dir/d$((i % 40))/f$i.txt"; done
  for i in 1 2 3; do head -c 3M /dev/urandom >"$dir/big$i.bin"; done
}

note_kill() {  # WHAT: counts whether the kill interrupted the command
  ATTEMPTS=$((ATTEMPTS + 1))
  if ((KILLED)); then
    INTERRUPTED=$((INTERRUPTED + 1))
  elif [[ $BG_RC -ne 0 ]]; then
    fail "$1 ended with exit $BG_RC before the kill:"$'\n'"$BG_OUT"
  fi
}

# The lock of a killed forja names it but is not held.
expect_lock_free() {
  if flock -n .forja/lock true; then pass; else fail "the workspace lock is still held after kill -9"; fi
}

# A fresh copy of the data; no cache, state or pointer.
reset_repo() {
  rm -rf data data.forja .forja/cache/sha256 .forja/state.db* .forja/quarantine
  cp -r "$PRISTINE" data
}

# The files under DIR are exactly those of a tree_sums listing; with "all", left
# over temp files count too.
expect_tree() {  # DIR SUMS [all]
  local d
  d=$(diff <(tree_sums "$1" "${3:-}") "$2" | head -6)
  if [[ -z $d ]]; then pass; else fail "$1 does not hold the expected files:"$'\n'"$d"; fi
}

# Crash consistency at the process level does not depend on the file system, and
# tmpfs spares a shared disk 20,000-file copies: use one when root may mount it.
WORK=$TEST_TMP
if mount_tmpfs "$TEST_TMP/fs" 2g; then WORK=$TEST_TMP/fs; else echo "NOTE: no tmpfs; working in $WORK"; fi
REPO=$WORK/crash
mkdir -p "$REPO" && cd "$REPO" && git init -q . && forja -q init || { echo "setup failed" >&2; exit 1; }
PRISTINE=$WORK/pristine
PRISTINE2=$WORK/pristine2
make_dataset "$PRISTINE"
tree_sums "$PRISTINE" >"$TEST_TMP/v1.sums"
# Version 2: a tenth of the files changed, 500 added, 200 removed.
cp -r "$PRISTINE" "$PRISTINE2"
for ((i = 0; i < N_FILES; i += 10)); do echo "changed $i" >>"$PRISTINE2/d$((i % 40))/f$i.txt"; done
for ((i = 0; i < 500; i++)); do echo "new $i" >"$PRISTINE2/d$((i % 40))/new$i.txt"; done
for ((i = 1; i < N_FILES; i += N_FILES / 200)); do rm -f "$PRISTINE2/d$((i % 40))/f$i.txt"; done
tree_sums "$PRISTINE2" >"$TEST_TMP/v2.sums"

# ---- add -----------------------------------------------------------------------

# After a killed first add of data: the cache holds only whole objects, the pointer
# is absent or right, status says so, the data is untouched.
check_after_killed_add() {
  echo "-- [${SECONDS}s] $1"
  expect_lock_free
  expect_ok forja verify
  expect_ok forja status
  if [[ -e data.forja ]]; then
    # Objects are made durable before the pointer: a pointer means all is stored.
    expect_contains "$OUT" "up to date"
  else
    expect_contains "$OUT" "Nothing is tracked"
  fi
  expect_tree data "$TEST_TMP/v1.sums"
}

check_rerun_add() {  # SUMS
  expect_ok forja add data
  expect_ok forja status
  expect_contains "$OUT" "up to date"
  expect_objects_read_only
  expect_tree data "$1" all
}

add_case() {  # LINK_TYPE COND
  set_link_type "$1"
  reset_repo
  kill_when "$2" forja add data
  note_kill "forja add ($1, $2)"
  check_after_killed_add "add ($1), killed at '$2'"
  check_rerun_add "$TEST_TMP/v1.sums"
}
for cond in 'elapsed 0.05' '[[ -n $(cache_objects | head -1) ]]' 'elapsed 0.3' '[[ -e data.forja ]]'; do
  add_case "reflink, hardlink, copy" "$cond"
done
for cond in '[[ -n $(cache_objects | head -1) ]]' 'elapsed 0.4'; do
  add_case copy "$cond"
done

# Adding version 2 over version 1 (its objects cached): unchanged workspace files
# are swapped for links to the cached objects, the riskiest part of add.
set_link_type "reflink, hardlink, copy"
for cond in 'elapsed 0.1' 'elapsed 0.3'; do
  reset_repo
  expect_ok forja add data
  V1_HASH=$(pointer_hash data.forja)
  rm -rf data && cp -r "$PRISTINE2" data
  kill_when "$cond" forja add data
  note_kill "forja add of version 2 ($cond)"
  echo "-- [${SECONDS}s] add of version 2, killed at '$cond'"
  expect_lock_free
  expect_ok forja verify
  if [[ $(pointer_hash data.forja) == "$V1_HASH" ]]; then
    expect_fail 1 forja status
    expect_contains "$OUT" "data: modified"
  else
    expect_ok forja status
  fi
  expect_tree data "$TEST_TMP/v2.sums"
  check_rerun_add "$TEST_TMP/v2.sums"
  if [[ $(pointer_hash data.forja) != "$V1_HASH" ]]; then pass; else fail "rerun add kept version 1's hash"; fi
done

# ---- pull and checkout -----------------------------------------------------------

# After a killed pull or checkout: whole objects only; status matches the
# workspace; every file present has the bytes of a version (SUMS files).
check_after_killed_restore() {  # WHAT TARGET_SUMS [VERSION_SUMS]
  local what=$1 sums=$2 versions=${3:-$2}
  echo "-- [${SECONDS}s] $what"
  expect_lock_free
  expect_ok forja verify
  run forja status
  if [[ -d data && $(tree_sums data) == "$(cat "$sums")" ]]; then
    expect_eq "$RC" 0
  else
    expect_eq "$RC" 1
    if [[ $OUT =~ data:\ (not\ in\ cache|deleted|modified) ]]; then pass; else
      fail "status after an interrupted $what does not say what is missing:"$'\n'"$OUT"
    fi
  fi
  expect_not_contains "$OUT" "forja: error"
  expect_files_intact data "$versions"
}

check_rerun_restore() {  # CMD SUMS
  expect_ok forja "$1"
  expect_ok forja status
  expect_contains "$OUT" "up to date"
  expect_ok forja verify
  expect_objects_read_only
  expect_tree data "$2" all
}

set_link_type "reflink, hardlink, copy"
reset_repo
mkdir -p "$WORK/remote"
expect_ok forja remote add store "$WORK/remote"
expect_ok forja add data
expect_ok forja push

pull_case() {  # LINK_TYPE COND
  set_link_type "$1"
  rm -rf data .forja/cache/sha256 .forja/state.db*
  kill_when "$2" forja pull
  note_kill "forja pull ($1, $2)"
  check_after_killed_restore "pull ($1), killed at '$2'" "$TEST_TMP/v1.sums"
  check_rerun_restore pull "$TEST_TMP/v1.sums"
}
for cond in 'elapsed 0.3' '[[ $(count_objects) -gt 5000 ]]' '[[ -d data ]]'; do
  pull_case "reflink, hardlink, copy" "$cond"
done
pull_case copy '[[ -e data/d20 ]]'

checkout_case() {  # LINK_TYPE COND
  set_link_type "$1"
  rm -rf data
  kill_when "$2" forja checkout
  note_kill "forja checkout ($1, $2)"
  check_after_killed_restore "checkout ($1), killed at '$2'" "$TEST_TMP/v1.sums"
  check_rerun_restore checkout "$TEST_TMP/v1.sums"
}
for cond in 'elapsed 0.1' '[[ -e data/d10 ]]'; do
  checkout_case "reflink, hardlink, copy" "$cond"
done
checkout_case copy '[[ -e data/d20 ]]'

# checkout from version 2 back to version 1 (as after git checkout of the old
# pointer): files are replaced and removed; each one holds either version.
set_link_type "reflink, hardlink, copy"
cp data.forja "$TEST_TMP/v1.forja"
rm -rf data && cp -r "$PRISTINE2" data
expect_ok forja add data
cp data.forja "$TEST_TMP/v2.forja"
cat "$TEST_TMP/v1.sums" "$TEST_TMP/v2.sums" >"$TEST_TMP/both.sums"
for cond in 'elapsed 0.1' 'elapsed 0.25'; do
  cp "$TEST_TMP/v2.forja" data.forja && expect_ok forja checkout
  cp "$TEST_TMP/v1.forja" data.forja
  kill_when "$cond" forja checkout
  note_kill "forja checkout v2 -> v1 ($cond)"
  check_after_killed_restore "checkout v2 -> v1, killed at '$cond'" "$TEST_TMP/v1.sums" "$TEST_TMP/both.sums"
  check_rerun_restore checkout "$TEST_TMP/v1.sums"
done

echo "$INTERRUPTED of $ATTEMPTS kills interrupted a running command"
# How many kills landed mid-command depends on the machine's speed, so it is
# reported, not asserted: every phase is killed deterministically, at a named
# crash point, by tests/security/crash_points_test.sh.
finish
