# Helpers shared by the fault and crash tests (faults_test.sh, crash_test.sh).
# Source it after common.sh:
#
#   source "$(dirname "$0")/../lib/common.sh"
#   source "$(dirname "$0")/../lib/faults.sh"

# Sets cache.link in the current repository's forja.yaml, e.g. set_link_type copy.
set_link_type() {
  sed -i "s/^  link: .*/  link: [$1]/" forja.yaml
  grep -q "^  link: \[$1\]" forja.yaml || { echo "cannot set cache.link in forja.yaml" >&2; exit 1; }
}

# The temp files forja writes before renaming into place (".<name>.tmp-<pid>-<n>").
temp_files() { find "$@" -name '.*.tmp-*' 2>/dev/null; }

expect_no_temp_files() {
  local t
  t=$(temp_files "$@")
  if [[ -z $t ]]; then pass; else fail "temp files left behind in $*:"$'\n'"$t"; fi
}

expect_exists() { if [[ -e $1 ]]; then pass; else fail "expected $1 to exist"; fi; }
expect_missing() { if [[ ! -e $1 && ! -L $1 ]]; then pass; else fail "expected no $1, but it exists"; fi; }

# Objects in the cache of the current repository (regular files under .forja/cache/sha256).
cache_objects() { find .forja/cache/sha256 -type f ! -name '.*' 2>/dev/null; }
count_objects() { cache_objects | wc -l; }

# Cached objects that can be written to: with hardlinks the workspace file is the
# object, so a writable one lets an edit corrupt the cache.
expect_objects_read_only() {
  local w
  w=$(find .forja/cache/sha256 -type f ! -name '.*' -perm /222 2>/dev/null | head -5)
  if [[ -z $w ]]; then pass; else fail "writable objects in the cache (first 5):"$'\n'"$w"; fi
}

# "<sha256>  ./path" for every file under DIR, sorted by path. Temp files are left
# out unless the second argument is "all".
tree_sums() {
  local skip=(! -name '.*.tmp-*')
  [[ ${2:-} == all ]] && skip=()
  (cd "$1" && find . -type f "${skip[@]}" -print0 | sort -z | xargs -0 -r sha256sum)
}

# Every file under DIR has the content of a file of the same path in one of the
# listings SUMS... (made with tree_sums); missing files are fine.
expect_files_intact() {
  local dir=$1 bad
  shift
  [[ -d $dir ]] || { pass; return; }
  bad=$(comm -23 <(tree_sums "$dir" | sort) <(sort -u "$@"))
  if [[ -z $bad ]]; then pass; else
    fail "files under $dir with content that no version has (first 5):"$'\n'"$(head -5 <<<"$bad")"
  fi
}

# Two folders hold the same files with the same content, and nothing else.
expect_same_tree() {
  local d
  d=$(diff -r "$1" "$2" 2>&1 | head -10)
  if [[ -z $d ]]; then pass; else fail "$2 differs from $1:"$'\n'"$d"; fi
}

# The hash recorded in a pointer file ("" when it has none).
pointer_hash() { sed -n 's/^hash: sha256://p' "$1" 2>/dev/null; }

# Runs a command as an unprivileged user: root bypasses file permissions.
as_nobody() {
  if [[ $(id -u) -ne 0 ]]; then "$@"; return; fi
  setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$TEST_TMP/nobody-home" "$@"
}

# Mounts a tmpfs of SIZE (e.g. 4m) at DIR; unmounted at exit. Fails when mounting
# is not allowed (not root, or in a container without CAP_SYS_ADMIN).
mount_tmpfs() {
  local dir=$1 size=$2
  mkdir -p "$dir" || return 1
  mount -t tmpfs -o "size=$size" tmpfs "$dir" 2>/dev/null || return 1
  at_exit "cd / && (umount '$dir' 2>/dev/null || umount -l '$dir')"
}

# Starts CMD in the background and kills it with SIGKILL once the bash condition
# COND holds (polled every 5 ms; e.g. 'elapsed 0.2' or '[[ -e data.forja ]]').
# Sets BG_RC to the exit status (137 when the kill interrupted it) and BG_OUT to
# its output, and KILLED to 1 when it was interrupted, 0 when it ended first.
kill_when() {
  local cond=$1 pid deadline
  shift
  # The binary itself, not the forja() function: $! must be forja's own pid.
  [[ $1 == forja ]] && set -- "$FORJA" "${@:2}"
  "$@" >"$TEST_TMP/bg.out" 2>&1 &
  pid=$!
  BG_PID=$pid
  _started=$EPOCHREALTIME
  deadline=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null && ! eval "$cond" && ((SECONDS < deadline)); do sleep 0.005; done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  BG_RC=$?
  BG_OUT=$(<"$TEST_TMP/bg.out")
  KILLED=$((BG_RC == 137 ? 1 : 0))
}

# Microseconds in a decimal number of seconds ("0.25" -> 250000).
_usec() {
  local s=${1%%.*} f=""
  [[ $1 == *.* ]] && f=${1#*.}
  f=${f}000000
  echo $((10#${s:-0} * 1000000 + 10#${f:0:6}))
}

# For kill_when: true once SECS seconds passed since the command started.
elapsed() { (($(_usec "$EPOCHREALTIME") - $(_usec "$_started") >= $(_usec "$1"))); }
