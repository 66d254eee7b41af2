# Shared helpers for the CLI tests. Each test script sources this, then uses
# `forja` (the binary under test) in a fresh temp folder.
#
#   source "$(dirname "$0")/../lib/common.sh"
#   new_repo            # temp git repo with `forja init` done; cd's into it
#   expect_ok CMD...    # runs, fails the test when the exit code is not 0
#   expect_fail N CMD...  # runs, fails unless the exit code is N; output in $OUT
#   expect_contains "$OUT" "text"
#   write_test_package DIR  # a small xgboost model package
#   finish              # prints "N passed, 0 failed" and exits
set -uo pipefail

: "${FORJA:?FORJA must name the forja binary under test}"
FORJA=$(realpath "$FORJA")
export FORJA_SOURCE=${FORJA_SOURCE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}  # stages use tests/lib too
export FORJA_PROGRESS=0  # progress meters would pollute captured output
export GIT_AUTHOR_NAME=forja-test GIT_AUTHOR_EMAIL=test@localhost
export GIT_COMMITTER_NAME=forja-test GIT_COMMITTER_EMAIL=test@localhost

TEST_TMP=$(mktemp -d /tmp/forja-cli-XXXXXX)
_passed=0
_failed=0
_cleanup_hooks=()

forja() { "$FORJA" "$@"; }

at_exit() { _cleanup_hooks+=("$1"); }
_cleanup() {
  local h
  for h in "${_cleanup_hooks[@]+"${_cleanup_hooks[@]}"}"; do eval "$h" || true; done
  cd / && chmod -R u+w "$TEST_TMP" 2>/dev/null; rm -rf "$TEST_TMP"
}
trap _cleanup EXIT

# Marks the current check as failed, with context.
fail() {
  echo "FAIL: $*" >&2
  _failed=$((_failed + 1))
}
pass() { _passed=$((_passed + 1)); }

# A fresh git repository with forja initialized; cd's into it.
new_repo() {
  local name=${1:-repo}
  REPO="$TEST_TMP/$name"
  mkdir -p "$REPO" && cd "$REPO" || exit 1
  git init -q . && forja -q init || { echo "setup failed" >&2; exit 1; }
}

# A model package of an (empty) xgboost forest with 4 FP32 features, in DIR.
write_test_package() { sh "$FORJA_SOURCE/tests/lib/test_package.sh" "$1"; }  # DIR

# Runs a command; OUT holds stdout+stderr, RC the exit code.
run() {
  OUT=$("$@" 2>&1)
  RC=$?
}

expect_ok() {
  run "$@"
  if [[ $RC -eq 0 ]]; then pass; else fail "expected success from: $* (exit $RC)"$'\n'"$OUT"; fi
}

expect_fail() {
  local code=$1
  shift
  run "$@"
  if [[ $RC -eq $code ]]; then pass; else fail "expected exit $code from: $* (got $RC)"$'\n'"$OUT"; fi
}

expect_contains() {
  if [[ $1 == *"$2"* ]]; then pass; else fail "expected output to contain '$2', got:"$'\n'"$1"; fi
}

expect_not_contains() {
  if [[ $1 != *"$2"* ]]; then pass; else fail "expected output not to contain '$2', got:"$'\n'"$1"; fi
}

expect_eq() {
  if [[ $1 == "$2" ]]; then pass; else fail "expected '$2', got '$1'"; fi
}

# Exactly one line of error output.
expect_one_error_line() {
  local n
  n=$(grep -c '^forja: error: ' <<<"$1")
  if [[ $n -eq 1 ]]; then pass; else fail "expected one 'forja: error:' line, got $n:"$'\n'"$1"; fi
}

# Creates N small files of varied content under DIR.
make_files() {
  local dir=$1 n=$2 i
  mkdir -p "$dir"
  for ((i = 0; i < n; i++)); do printf 'file %d\n%s\n' "$i" "$RANDOM$RANDOM" >"$dir/f$i.txt"; done
}

finish() {
  echo "$_passed passed, $_failed failed"
  [[ $_failed -eq 0 ]]
  exit $?
}
