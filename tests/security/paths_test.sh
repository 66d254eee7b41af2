#!/usr/bin/env bash
# Paths from files forja did not write (issue 11, findings 1, 2, 3 and 14).
#
# Each case builds a hostile repository by hand — objects placed straight into a
# folder remote, pointer files, manifests and forja.lock written as text — commits
# it, clones it as a victim would, and runs `forja pull` / `forja checkout`. It
# asserts the one clear error, a non-zero exit, and that nothing outside the
# workspace (nor anything under .git) was created, changed or deleted.
source "$(dirname "$0")/../lib/common.sh"

OUTSIDE=$TEST_TMP/outside
REMOTE=$TEST_TMP/remote

# Everything under a folder: path, type, mode, size and content hash.
fingerprint() {
  (cd "$1" && find . -printf '%p %y %m %s %l\n' | sort && find . -type f -exec sha256sum {} + | sort)
}

# The victim's own files outside the workspace: a folder an attack would reach.
reset_outside() {
  chmod -R u+w "$OUTSIDE" 2>/dev/null
  rm -rf "$OUTSIDE" && mkdir -p "$OUTSIDE/sub" && echo keep >"$OUTSIDE/keep.txt" && echo sub >"$OUTSIDE/sub/s.txt"
  OUTSIDE_BEFORE=$(fingerprint "$OUTSIDE")
}

# Puts bytes into the remote as an object (what a pushed file looks like); prints its hex.
publish() {
  local hex
  hex=$(printf '%s' "$1" | sha256sum | cut -d' ' -f1)
  mkdir -p "$REMOTE/sha256/${hex:0:2}"
  printf '%s' "$1" >"$REMOTE/sha256/${hex:0:2}/${hex:2}"
  echo "$hex"
}

# Publishes a manifest of "path<TAB>content" lines (and each content); prints its hex.
manifest() {
  local text=$'forja-manifest 1\n' path content hex
  while IFS=$'\t' read -r path content; do
    hex=$(publish "$content")
    text+="$hex ${#content} 644 $path"$'\n'
  done < <(LC_ALL=C sort)
  publish "$text"
}

pointer() {  # NAME KIND HEX SIZE FILES
  printf 'path: %s\nkind: %s\nhash: sha256:%s\nsize: %s\nfiles: %s\n' "$@"
}

# The attacker's repository: forja.yaml naming the folder remote; files added by the case.
hostile_repo() {
  ATTACKER=$TEST_TMP/attacker-$1
  mkdir -p "$ATTACKER" "$REMOTE" && cd "$ATTACKER" || exit 1
  git init -q . && forja -q init && forja -q remote add store "$REMOTE" || exit 1
}

# Commits the attacker's repository and clones it as the victim; cd's into the clone.
victim_clone() {
  git add -A . >/dev/null && git commit -qm hostile || exit 1
  CLONES=$((${CLONES:-0} + 1))
  VICTIM=$TEST_TMP/victim-$CLONES
  git clone -q "$ATTACKER" "$VICTIM" && cd "$VICTIM" || exit 1
  GIT_BEFORE=$(fingerprint .git)
}

# Nothing outside the workspace and nothing under .git changed.
expect_untouched() {
  local what=$1
  if [[ $(fingerprint "$OUTSIDE") == "$OUTSIDE_BEFORE" ]]; then pass; else
    fail "$what changed files outside the workspace:"$'\n'"$(diff <(echo "$OUTSIDE_BEFORE") <(fingerprint "$OUTSIDE"))"
  fi
  if [[ $(fingerprint .git) == "$GIT_BEFORE" ]]; then pass; else
    fail "$what changed .git:"$'\n'"$(diff <(echo "$GIT_BEFORE") <(fingerprint .git))"
  fi
  local stray
  stray=$(find "$TEST_TMP" -maxdepth 1 -name 'evil*')
  if [[ -z $stray ]]; then pass; else fail "$what created $stray"; fi
}

# Runs a command that must be refused: exit $CODE (1 unless set), one error line
# containing $1.
expect_refused() {
  local needle=$1
  shift
  expect_fail "${CODE:-1}" "$@"
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "$needle"
  expect_untouched "$*"
}

lock_with_out() {  # PATH HEX SIZE [KIND]
  cat <<EOF
schema: 1
stages:
  build:
    cmd: "true"
    outs:
      - path: "$1"
${4:+        kind: $4
}        hash: sha256:$2
        size: $3
EOF
}

# ---- finding 1: output paths in forja.lock -----------------------------------

test_lock_out_climbing_out() {
  reset_outside
  hostile_repo lock-climb
  local hex
  hex=$(publish '#!/bin/sh
echo pwned')
  # From the victim clone at $TEST_TMP/victim-*, ../evil.sh is $TEST_TMP/evil.sh.
  lock_with_out "../evil.sh" "$hex" 22 >forja.lock
  victim_clone
  expect_refused "forja.lock:6: outs: '../evil.sh' has a '..' component" forja pull
  expect_refused "forja.lock:6" forja checkout --force
  expect_refused "forja.lock:6" forja status
}

test_lock_out_absolute_and_forja() {
  reset_outside
  hostile_repo lock-abs
  local hex
  hex=$(publish 'x')
  lock_with_out "$OUTSIDE/keep.txt" "$hex" 1 >forja.lock
  victim_clone
  expect_refused "is an absolute path" forja pull --force
  cd "$ATTACKER" && lock_with_out ".forja/cache/x" "$hex" 1 >forja.lock && victim_clone
  expect_refused "is inside .forja" forja pull --force
}

test_lock_out_git() {
  reset_outside
  hostile_repo lock-git
  local hex m
  hex=$(publish '#!/bin/sh
touch /tmp/pwned')
  # A hook is code execution at the next git command; .git itself, with --force,
  # would be deleted file by file; .GIT and .git. are .git on other file systems.
  for p in .git/hooks/post-checkout .git .GIT/hooks/pre-commit '.git./config' 'sub/git~1/config'; do
    cd "$ATTACKER" && lock_with_out "$p" "$hex" 22 >forja.lock && victim_clone
    expect_refused "forja.lock:6: outs: '$p'" forja pull --force
  done
  # A folder output whose manifest is .git's layout.
  cd "$ATTACKER" || exit 1
  m=$(printf 'config\tevil\n' | manifest)
  lock_with_out ".git" "$m" 4 dir >forja.lock
  victim_clone
  expect_refused "forja.lock:6: outs: '.git' is inside .git" forja checkout --force
}

# ---- finding 2: a tracked path committed as a symlink ------------------------

test_tracked_folder_is_a_symlink() {
  reset_outside
  hostile_repo symlink-dir
  local m
  m=$(printf 'evil.sh\tpwned\n' | manifest)
  pointer d dir "$m" 5 1 >d.forja
  ln -s "$OUTSIDE" d
  victim_clone
  expect_refused "d is a symlink; forja never writes through a symlink" forja pull
  # --force would delete keep.txt and sub/ there, which the manifest does not name.
  expect_refused "d is a symlink" forja checkout --force
  expect_refused "leads outside the repository" forja pull --force d
}

test_parent_is_a_symlink() {
  reset_outside
  hostile_repo symlink-parent
  local hex m
  hex=$(publish 'pwned')
  # A pipeline output under a symlinked folder.
  lock_with_out "q/sub/evil.sh" "$hex" 5 >forja.lock
  ln -s "$OUTSIDE" q
  victim_clone
  expect_refused "q is a symlink; forja never writes through a symlink" forja pull --force
  # A folder output whose manifest writes through an inner symlink it does not own.
  cd "$ATTACKER" && rm q forja.lock || exit 1
  m=$(printf 'link/evil.sh\tpwned\n' | manifest)
  pointer data dir "$m" 5 1 >data.forja
  mkdir data && ln -s "$OUTSIDE" data/link
  victim_clone
  expect_refused "data/link: symlink" forja pull --force data
}

# ---- finding 3: .git in manifests and pointer names --------------------------

test_manifest_with_git() {
  reset_outside
  local entry
  for entry in '.git/config' '.GIT/config' 'x/.git/hooks/pre-commit' '.git /config' 'git~1/config' \
               $'.\xe2\x80\x8cgit/config'; do
    hostile_repo "manifest-$RANDOM"
    local m
    m=$(printf '%s\tfsmonitor\n' "$entry" | manifest)
    pointer data dir "$m" 40 1 >data.forja
    victim_clone
    # A manifest is an object: one that names .git is corrupt (exit 3).
    CODE=3 expect_refused "bad path '$entry': git refuses this name in a tree" forja pull
    if [[ ! -e data ]]; then pass; else fail "pull created data/ for a manifest with $entry"; fi
  done
}

test_pointer_named_git() {
  reset_outside
  local name m
  for name in .git .GIT '.git.' 'git~1'; do
    hostile_repo "pointer-$RANDOM"
    m=$(printf 'config\tevil\n' | manifest)
    # git itself refuses to commit such a pointer under .git; at the root it commits it.
    pointer "$name" dir "$m" 4 1 >"$name.forja"
    victim_clone
    expect_refused "$name.forja: '$name'" forja checkout --force
    expect_refused "$name.forja" forja pull --force
  done
}

test_add_refuses_git_inside() {
  new_repo add-git
  mkdir -p data/.git sub/.Git
  echo a >data/a.csv
  printf '[core]\n\tfsmonitor = touch /tmp/pwned\n' >data/.git/config
  echo b >sub/.Git/HEAD
  expect_fail 1 forja add data
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "data/.git/config: '.git/config' is inside .git"
  expect_fail 1 forja add sub
  expect_contains "$OUT" "sub/.Git/HEAD"
  expect_contains "$OUT" "git refuses"
  expect_fail 1 forja add .GIT
  expect_contains "$OUT" "forja does not track it"
  if [[ ! -e data.forja && ! -e sub.forja ]]; then pass; else fail "add wrote a pointer for a folder holding .git"; fi
}

# ---- finding 14: add never changes what a symlink in the folder points to -----

test_add_leaves_symlink_targets_alone() {
  new_repo add-symlink
  # hardlink is the link type that makes stored files read-only and links them.
  sed -i 's/^  link: .*/  link: [hardlink, copy]/' forja.yaml
  mkdir other inside
  echo shared >other/a.csv
  echo own >inside/own.csv
  ln -s ../other/a.csv inside/alias.csv
  local before
  before=$(stat -c '%a %h %i' other/a.csv)
  expect_ok forja add inside
  expect_eq "$(stat -c '%a %h %i' other/a.csv)" "$before"
  if [[ -L inside/alias.csv ]]; then pass; else fail "add replaced the symlink inside/alias.csv"; fi
  # The folder's own file is linked as before, and the link's bytes are stored.
  expect_eq "$(stat -c '%a %h' inside/own.csv)" "444 2"
  local hex
  hex=$(sha256sum other/a.csv | cut -d' ' -f1)
  if [[ -f .forja/cache/sha256/${hex:0:2}/${hex:2} ]]; then pass; else fail "the symlink's bytes were not stored"; fi
  expect_ok forja status
  # A pull in a clone writes the bytes as a file.
  echo "/inside" >>.gitignore
  git add -A . >/dev/null && git commit -qm data
  mkdir -p "$REMOTE" && expect_ok forja remote add store "$REMOTE" && expect_ok forja push
  git commit -qam remote
  git clone -q . "$TEST_TMP/add-symlink-clone" && cd "$TEST_TMP/add-symlink-clone" || exit 1
  expect_ok forja pull
  expect_eq "$(cat inside/alias.csv)" "shared"
}

test_lock_out_climbing_out
test_lock_out_absolute_and_forja
test_lock_out_git
test_tracked_folder_is_a_symlink
test_parent_is_a_symlink
test_manifest_with_git
test_pointer_named_git
test_add_refuses_git_inside
test_add_leaves_symlink_targets_alone
finish
