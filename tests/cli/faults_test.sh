#!/usr/bin/env bash
# What a user sees when something goes wrong: bad paths, files that change or
# cannot be read, broken pointer files, corrupt cache objects, a full disk, a
# held lock, and wrong usage. Every failure must exit with the documented code,
# print ONE "forja: error: ..." line naming the path and what to do, and leave
# nothing half-written (no pointer file, no temp files, a truthful status).
#
# The unreadable-file test runs forja as user nobody (root ignores permissions);
# the full-disk tests mount small tmpfs filesystems (root only). When mounting is
# not possible those tests are skipped and the script exits 77.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/faults.sh"

no_pointer_files() {
  local p
  p=$(find . \( -path ./.forja -o -path ./.git \) -prune -o -name '*.forja' -print)
  if [[ -z $p ]]; then pass; else fail "pointer files were written:"$'\n'"$p"; fi
}

# ---- paths forja refuses --------------------------------------------------------

test_missing_path() {
  new_repo missing
  expect_fail 1 forja add nope
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "nope does not exist"
  mkdir sub && cd sub || return
  expect_fail 1 forja add nope.csv
  expect_contains "$OUT" "nope.csv does not exist"
  cd .. || return
  # One missing path among good ones: nothing at all is added.
  echo good >good.csv
  expect_fail 1 forja add good.csv nope
  expect_contains "$OUT" "nope does not exist"
  no_pointer_files
  expect_eq "$(count_objects)" 0
}

test_outside_repository() {
  new_repo outside
  echo x >"$TEST_TMP/x"
  mkdir sub
  expect_fail 1 forja add ../x
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "../x"
  expect_contains "$OUT" "outside the repository"
  expect_fail 1 forja add /etc/hostname
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "/etc/hostname"
  expect_contains "$OUT" "outside the repository"
  cd sub || return
  expect_fail 1 forja add ../../x
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "outside the repository"
  cd .. || return
  expect_fail 1 forja status ../x
  expect_contains "$OUT" "outside the repository"
  expect_missing "$TEST_TMP/x.forja"
  expect_missing /etc/hostname.forja
  no_pointer_files
}

test_reserved_paths() {
  new_repo reserved
  local p
  for p in .git .git/config .forja .forja/cache .forja/state.db ./sub/../.forja/lock; do
    expect_fail 1 forja add "$p"
    expect_one_error_line "$OUT"
    expect_contains "$OUT" "$p"
    if [[ $p == *.git* ]]; then expect_contains "$OUT" "inside .git"; else expect_contains "$OUT" "inside .forja"; fi
  done
  expect_fail 1 forja add .
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "repository root"
  no_pointer_files
  expect_eq "$(count_objects)" 0
}

test_symlinks_leading_outside() {
  new_repo symlinks
  mkdir data
  echo a >data/a.csv
  ln -s /etc data/link
  expect_fail 1 forja add data/link
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "data/link"
  expect_contains "$OUT" "outside the repository"

  # A tracked folder holding a symlink to a file outside, to a folder outside,
  # and a relative one climbing out.
  mkdir -p d1 d2 d3/deep
  echo a >d1/a.csv && ln -s /etc/hostname d1/escape
  echo b >d2/b.csv && ln -s /usr/share d2/share
  echo c >d3/c.csv && ln -s ../../.. d3/deep/up
  for d in d1/escape d2/share d3/deep/up; do
    expect_fail 1 forja add "${d%%/*}"
    expect_one_error_line "$OUT"
    expect_contains "$OUT" "$d"
    expect_contains "$OUT" "outside the repository"
  done
  # A symlink into .forja is refused too: it would track the cache itself.
  mkdir d4 && ln -s ../.forja/cache d4/cache
  expect_fail 1 forja add d4
  expect_contains "$OUT" "d4/cache"
  no_pointer_files
  expect_eq "$(count_objects)" 0

  # The refusal is about where the link leads: one staying inside is accepted.
  mkdir inside && echo i >inside/i.csv && ln -s ../data/a.csv inside/alias.csv
  expect_ok forja add inside
  expect_exists inside.forja
}

# ---- files that change or cannot be read -------------------------------------

test_file_changing_while_hashed() {
  new_repo changing
  truncate -s 300M big.bin
  # Appends without pause until killed, so the file changes during the whole add.
  (while :; do printf x >>big.bin; done) &
  local writer=$!
  at_exit "kill $writer 2>/dev/null"
  until (($(stat -c %s big.bin) > 300 * 1024 * 1024 + 1000)); do sleep 0.01; done
  expect_fail 1 forja add big.bin
  kill "$writer" 2>/dev/null
  wait "$writer" 2>/dev/null
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "big.bin changed while it was being hashed"
  expect_missing big.bin.forja
  expect_eq "$(count_objects)" 0
  expect_no_temp_files . 
  expect_not_contains "$(cat .gitignore 2>/dev/null)" "big.bin"
  expect_ok forja status
  expect_contains "$OUT" "Nothing is tracked"

  # The same inside a tracked folder.
  mkdir data && echo a >data/a.csv && truncate -s 200M data/grows.bin
  (while :; do printf x >>data/grows.bin; done) &
  writer=$!
  at_exit "kill $writer 2>/dev/null"
  until (($(stat -c %s data/grows.bin) > 200 * 1024 * 1024 + 1000)); do sleep 0.01; done
  expect_fail 1 forja add data
  kill "$writer" 2>/dev/null
  wait "$writer" 2>/dev/null
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "data/grows.bin changed while it was being hashed"
  expect_missing data.forja
  expect_no_temp_files .

  # Once nothing writes to it, the add goes through.
  expect_ok forja add big.bin data
  expect_ok forja status
}

test_unreadable_file() {
  if [[ $(id -u) -eq 0 ]] && ! setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
    echo "SKIP: cannot run as nobody (setpriv failed); unreadable-file checks skipped"
    return
  fi
  new_repo unreadable
  mkdir -p data/sub "$TEST_TMP/nobody-home"
  echo a >data/a.csv && echo s >data/secret.csv && echo q >data/sub/q.csv && echo t >top.csv
  chmod o+x "$TEST_TMP"
  [[ $(id -u) -eq 0 ]] && chown -R 65534:65534 "$REPO" "$TEST_TMP/nobody-home"
  chmod 000 data/secret.csv top.csv

  run as_nobody "$FORJA" add top.csv
  expect_eq "$RC" 1
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "top.csv"
  expect_contains "${OUT,,}" "permission denied"
  expect_missing top.csv.forja

  run as_nobody "$FORJA" add data
  expect_eq "$RC" 1
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "data/secret.csv"
  expect_contains "${OUT,,}" "permission denied"
  expect_missing data.forja
  expect_eq "$(count_objects)" 0
  expect_no_temp_files .

  # An unreadable folder is the same kind of problem as an unreadable file.
  chmod 644 data/secret.csv
  chmod 000 data/sub
  run as_nobody "$FORJA" add data
  expect_eq "$RC" 1
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "data/sub"
  expect_contains "${OUT,,}" "permission denied"
  expect_missing data.forja

  # A tracked file that became unreadable: status names it instead of guessing.
  chmod 755 data/sub
  run as_nobody "$FORJA" add data
  expect_eq "$RC" 0
  rm -f data/a.csv && echo changed >data/a.csv && chown 65534:65534 data/a.csv && chmod 000 data/a.csv
  run as_nobody "$FORJA" status
  expect_eq "$RC" 1
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "data/a.csv"
  expect_contains "${OUT,,}" "permission denied"
  chmod 644 data/a.csv
}

# ---- broken pointer files and cache objects -----------------------------------

test_malformed_pointer() {
  new_repo pointer
  printf 'id,v\n1,2\n' >data.csv
  expect_ok forja add data.csv
  cp data.csv.forja "$TEST_TMP/good.forja"
  local good="$TEST_TMP/good.forja"

  check_broken() {  # LINE_PREFIX TEXT: status and checkout report the pointer file and line
    local want=$1 text=$2
    cp data.csv.forja "$TEST_TMP/before.forja"
    expect_fail 1 forja status
    expect_one_error_line "$OUT"
    expect_contains "$OUT" "$want"
    expect_contains "$OUT" "$text"
    expect_fail 1 forja checkout data.csv
    expect_one_error_line "$OUT"
    expect_contains "$OUT" "$want"
    # Reporting the problem changes nothing.
    if cmp -s data.csv.forja "$TEST_TMP/before.forja"; then pass; else fail "the broken pointer file was rewritten"; fi
    expect_eq "$(cat data.csv)" $'id,v\n1,2'
  }

  sed 's/^hash: sha256:\(.\{8\}\)/hash: sha256:zz/' "$good" >data.csv.forja
  check_broken "data.csv.forja:4:" "hash"
  sed 's/^hash: sha256:\(.*\)/hash: sha256:\1\1/' "$good" >data.csv.forja
  check_broken "data.csv.forja:4:" "hash"
  sed 's/^hash: sha256:/hash: md5:/' "$good" >data.csv.forja
  check_broken "data.csv.forja:4:" "hash"
  { cat "$good"; echo "color: red"; } >data.csv.forja
  check_broken "data.csv.forja:7:" "unknown field 'color'"
  sed 's/^size: .*/size: lots/' "$good" >data.csv.forja
  check_broken "data.csv.forja:5:" "size"
  sed 's/^kind: .*/kind: blob/' "$good" >data.csv.forja
  check_broken "data.csv.forja:3:" "kind"
  sed 's/^path: .*/path: other.csv/' "$good" >data.csv.forja
  check_broken "data.csv.forja:2:" "path"
  sed '/^hash:/d' "$good" >data.csv.forja
  check_broken "data.csv.forja" "missing field 'hash'"
  sed '/^size:/d' "$good" >data.csv.forja
  check_broken "data.csv.forja" "missing field 'size'"
  { cat "$good"; echo "garbage without a colon"; } >data.csv.forja
  check_broken "data.csv.forja:7:" "garbage without a colon"

  # A well-formed pointer naming an object nobody has: status says so.
  sed "s/^hash: sha256:.*/hash: sha256:$(printf 'ab%.0s' {1..32})/" "$good" >data.csv.forja
  expect_fail 1 forja status
  expect_contains "$OUT" "data.csv: modified"

  # forja add writes a good pointer again.
  expect_ok forja add data.csv
  if cmp -s data.csv.forja "$good"; then pass; else fail "add did not restore the pointer file"; fi
  expect_ok forja status
}

test_corrupt_cache_object() {
  new_repo corrupt
  set_link_type copy
  mkdir "$TEST_TMP/corrupt-remote"
  expect_ok forja remote add store "$TEST_TMP/corrupt-remote"
  make_files data 20
  echo solo >model.bin
  # Older than the state database's racy window, so status trusts their stat stamps.
  touch -d '1 minute ago' data/* model.bin
  expect_ok forja add data model.bin
  expect_ok forja push
  local hex obj
  hex=$(sha256sum data/f7.txt | cut -d' ' -f1)
  obj=.forja/cache/sha256/${hex:0:2}/${hex:2}
  expect_exists "$obj"
  chmod u+w "$obj" && echo "bit rot" >"$obj"

  expect_fail 1 forja verify
  expect_contains "$OUT" "corrupt: sha256/${hex:0:2}/${hex:2}"
  expect_contains "$OUT" "1 corrupt object"
  expect_contains "$OUT" ".forja/quarantine"
  expect_missing "$obj"
  expect_exists ".forja/quarantine/$hex"
  # The workspace copy is fine; status tells that the cache lacks the object.
  expect_fail 1 forja status
  expect_contains "$OUT" "data: not in cache"
  # Verifying again finds nothing more.
  expect_ok forja verify

  expect_ok forja pull
  expect_ok forja verify
  expect_contains "$OUT" "all intact"
  expect_exists "$obj"
  if cmp -s "$obj" data/f7.txt; then pass; else fail "pull restored wrong bytes into $obj"; fi
  expect_ok forja status

  # With hardlinks the workspace file IS the object: corrupting one corrupts both.
  # verify quarantines it, status reports the change, pull refuses to overwrite it
  # silently, and pull --force restores the pushed version.
  new_repo corrupt-hardlink
  mkdir "$TEST_TMP/corrupt-remote2"
  expect_ok forja remote add store "$TEST_TMP/corrupt-remote2"
  printf 'a,b\n1,2\n' >data.csv
  expect_ok forja add data.csv
  expect_ok forja push
  hex=$(sha256sum data.csv | cut -d' ' -f1)
  obj=.forja/cache/sha256/${hex:0:2}/${hex:2}
  chmod u+w "$obj" && printf 'a,b\n1,3\n' >"$obj"
  expect_fail 1 forja verify
  expect_contains "$OUT" "corrupt: sha256/${hex:0:2}/${hex:2}"
  expect_exists ".forja/quarantine/$hex"
  expect_fail 1 forja status
  expect_contains "$OUT" "data.csv: modified"
  expect_fail 1 forja pull
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "data.csv"
  expect_contains "$OUT" "--force"
  expect_ok forja pull --force
  expect_eq "$(cat data.csv)" $'a,b\n1,2'
  expect_ok forja verify
  expect_ok forja status
}

# ---- the workspace lock ---------------------------------------------------------

test_lock() {
  new_repo lock
  echo a >a.csv
  # A holder in the shape forja writes: flock(1) holds .forja/lock until release exists.
  flock .forja/lock bash -c 'echo "pid $$ (forja add)" >.forja/lock; until [[ -e release ]]; do sleep 0.02; done' &
  local holder=$!
  at_exit "touch '$REPO/release'; kill $holder 2>/dev/null"
  until grep -q "pid" .forja/lock 2>/dev/null; do sleep 0.02; done
  local held_by
  held_by=$(cat .forja/lock)
  local cmd
  for cmd in "add a.csv" "checkout" "gc" "verify" "pull" "push" "fetch" "remote add r $TEST_TMP/r"; do
    # shellcheck disable=SC2086
    expect_fail 1 forja $cmd
    expect_one_error_line "$OUT"
    expect_contains "$OUT" "locked by $held_by"
    expect_contains "$OUT" "--wait"
  done
  expect_missing a.csv.forja
  # Reading does not need the lock.
  expect_ok forja status
  expect_ok forja remote list

  # --wait blocks until the holder lets go, then does the work.
  forja --wait add a.csv >"$TEST_TMP/wait.out" 2>&1 &
  local waiter=$!
  sleep 0.5
  if kill -0 "$waiter" 2>/dev/null; then pass; else fail "forja --wait add did not wait for the lock"; fi
  expect_missing a.csv.forja
  touch release
  wait "$holder"
  wait "$waiter"
  expect_eq "$?" 0
  expect_exists a.csv.forja
  expect_ok forja status

  # A real forja holding the lock (stopped mid-add): the message names its pid.
  truncate -s 4G big.bin
  "$FORJA" add big.bin >/dev/null 2>&1 &
  local adder=$!
  at_exit "kill -CONT $adder 2>/dev/null; kill $adder 2>/dev/null"
  until grep -q "pid $adder " .forja/lock 2>/dev/null || ! kill -0 "$adder" 2>/dev/null; do sleep 0.005; done
  if kill -STOP "$adder" 2>/dev/null && grep -q "pid $adder (forja add)" .forja/lock; then
    expect_fail 1 forja checkout
    expect_one_error_line "$OUT"
    expect_contains "$OUT" "locked by pid $adder (forja add)"
    forja --wait checkout >"$TEST_TMP/wait.out" 2>&1 &
    waiter=$!
    sleep 0.3
    if kill -0 "$waiter" 2>/dev/null; then pass; else fail "forja --wait checkout did not wait for forja add"; fi
    kill -CONT "$adder"
    wait "$adder"
    expect_eq "$?" 0
    wait "$waiter"
    expect_eq "$?" 0
  else
    echo "NOTE: forja add of a 4 GiB sparse file finished before it could be stopped; skipped"
    wait "$adder"
  fi
  # A lock left by a killed process is not held: the next command just runs.
  "$FORJA" add big.bin >/dev/null 2>&1 &
  adder=$!
  until grep -q "pid $adder " .forja/lock 2>/dev/null || ! kill -0 "$adder" 2>/dev/null; do sleep 0.005; done
  kill -9 "$adder" 2>/dev/null
  wait "$adder" 2>/dev/null
  expect_ok forja verify
  expect_ok forja add big.bin
}

# ---- wrong usage -----------------------------------------------------------------

test_usage() {
  new_repo usage
  expect_fail 2 forja frob
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "frob"
  expect_fail 2 forja remote frob
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "frob"
  expect_fail 2 forja add --frob x
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "--frob"
  expect_contains "$OUT" "forja add --help"
  expect_fail 2 forja status --frob
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "--frob"
  expect_fail 2 forja add
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "forja add --help"
  expect_fail 2 forja status -j many
  expect_one_error_line "$OUT"
  expect_fail 2 forja remote add onlyname
  expect_one_error_line "$OUT"
  expect_fail 2 forja
  expect_one_error_line "$OUT"

  expect_ok forja --help
  expect_contains "$OUT" "--wait"
  expect_contains "$OUT" "Exit codes"
  local -A opts=(
    [init]="--no-scm"
    [add]="--jobs --json"
    [status]="--jobs --json"
    [checkout]="--jobs --force"
    [push]="--remote --jobs --json"
    [pull]="--remote --jobs --json --force"
    [fetch]="--remote --jobs --json"
    [gc]="--all-commits --force --remote --json"
    [verify]="--remote --jobs --json"
    [remote]="add remove list default"
    ["remote add"]="--option --default --force"
    ["remote remove"]="name"
    ["remote list"]="--json"
    ["remote default"]="name"
  )
  local cmd o
  for cmd in init add status checkout push pull fetch gc verify remote "remote add" "remote remove" \
    "remote list" "remote default"; do
    # shellcheck disable=SC2086
    expect_ok forja $cmd --help
    expect_contains "$OUT" "Usage: forja $cmd"
    expect_contains "$OUT" "--help"
    for o in ${opts[$cmd]}; do expect_contains "$OUT" "$o"; done
    expect_not_contains "$OUT" "forja: error"
  done
}

# ---- a full disk (tmpfs) -----------------------------------------------------------

test_full_disk() {
  local fs=$TEST_TMP/small
  if ! mount_tmpfs "$fs" 8m; then
    echo "SKIP: cannot mount tmpfs"
    return 1
  fi
  # add, copying into the cache: the file fits once, not twice.
  REPO=$fs/repo
  mkdir -p "$REPO" && cd "$REPO" && git init -q . && forja -q init || { fail "setup on tmpfs"; return 0; }
  set_link_type copy
  head -c 5M /dev/urandom >big.bin
  expect_fail 3 forja add big.bin
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "No space left on device"
  expect_contains "$OUT" "big.bin"
  expect_missing big.bin.forja
  expect_no_temp_files .forja/cache
  expect_no_temp_files .
  expect_eq "$(count_objects)" 0
  expect_ok forja status
  expect_contains "$OUT" "Nothing is tracked"
  expect_ok forja verify

  # A folder of which some files fit: whatever was stored is whole, nothing names it.
  rm big.bin
  mkdir data
  for i in 1 2 3 4 5 6; do head -c 900K /dev/urandom >data/part$i.bin; done
  expect_fail 3 forja add data
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "No space left on device"
  expect_missing data.forja
  expect_no_temp_files .forja/cache
  expect_no_temp_files data
  expect_ok forja verify
  expect_ok forja status
  expect_contains "$OUT" "Nothing is tracked"

  # Completely full: even the pointer and the state database cannot be written.
  rm -rf data .forja/cache/sha256 && set_link_type hardlink
  echo "a,b" >data.csv
  dd if=/dev/zero of="$fs/filler" bs=64k >/dev/null 2>&1
  expect_fail 3 forja add data.csv
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "No space left on device"
  expect_missing data.csv.forja
  expect_no_temp_files .
  rm -f "$fs/filler"
  expect_ok forja add data.csv
  expect_ok forja status

  # pull into a full disk: nothing partial in the cache or the workspace.
  cd / && rm -rf "$REPO"
  local remote=$TEST_TMP/full-remote
  mkdir -p "$remote"
  mkdir -p "$REPO" && cd "$REPO" && git init -q . && forja -q init || { fail "setup on tmpfs"; return 0; }
  set_link_type copy
  expect_ok forja remote add store "$remote"
  mkdir data
  for i in 1 2 3; do head -c 1M /dev/urandom >data/part$i.bin; done
  expect_ok forja add data
  expect_ok forja push
  cp -r data "$TEST_TMP/pristine-full"
  tree_sums data >"$TEST_TMP/pristine-full.sums"
  rm -rf data .forja/cache/sha256 .forja/state.db*
  head -c "$(( $(df -k --output=avail "$fs" | tail -1) * 1024 - 1500 * 1024 ))" /dev/zero >"$fs/filler"
  expect_fail 3 forja pull
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "No space left on device"
  expect_no_temp_files .forja/cache
  expect_no_temp_files .
  expect_ok forja verify
  expect_fail 1 forja status
  expect_contains "$OUT" "data: not in cache"
  expect_files_intact data "$TEST_TMP/pristine-full.sums"
  rm -f "$fs/filler"
  expect_ok forja pull
  expect_ok forja status
  expect_same_tree "$TEST_TMP/pristine-full" data

  # push to a remote on a full disk: nothing partial lands there.
  local rfs=$TEST_TMP/remote-fs
  if ! mount_tmpfs "$rfs" 2m; then
    echo "SKIP: cannot mount tmpfs"
    return 1
  fi
  new_repo push-full
  mkdir data
  for i in 1 2 3; do head -c 1M /dev/urandom >data/part$i.bin; done
  expect_ok forja add data
  expect_ok forja remote add small "$rfs/store"
  expect_fail 3 forja push -r small
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "No space left on device"
  expect_no_temp_files "$rfs"
  expect_ok forja verify -r small
  # Nothing names what is missing: the manifest is pushed last.
  local manifest
  manifest=$(pointer_hash data.forja)
  expect_missing "$rfs/store/sha256/${manifest:0:2}/${manifest:2}"
  mount -o remount,size=8m "$rfs"
  expect_ok forja push -r small
  expect_ok forja verify -r small
  expect_exists "$rfs/store/sha256/${manifest:0:2}/${manifest:2}"
  return 0
}

test_missing_path
test_outside_repository
test_reserved_paths
test_symlinks_leading_outside
test_file_changing_while_hashed
test_unreadable_file
test_malformed_pointer
test_corrupt_cache_object
test_lock
test_usage
if ! test_full_disk && ((_failed == 0)); then
  echo "$_passed passed, $_failed failed (full-disk tests skipped)"
  exit 77
fi
finish
