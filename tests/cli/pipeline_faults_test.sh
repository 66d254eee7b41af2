#!/usr/bin/env bash
# forja run / status --pipeline on bad input: every mistake in forja.yaml, the
# config, the command line or forja.lock, and every way a stage can fail, gives
# ONE clear "forja: error:" line (where it is: forja.yaml:LINE and the field)
# and a non-zero exit, and records nothing false in forja.lock. A failed
# stage's error line is followed by its log tail ("  | " lines), on purpose.
source "$(dirname "$0")/../lib/common.sh"

new_repo
mkdir -p conf
printf 'train:\n  lr: 0.1\n  layers: [8, 4]\n' >conf/config.yaml
cp forja.yaml "$TEST_TMP/base.yaml"

# A fresh pipeline: forja.yaml is the base plus stdin; no lock, no outs.
pipeline() {
  cp "$TEST_TMP/base.yaml" forja.yaml
  cat >>forja.yaml
  rm -rf forja.lock ./*.txt d
}
# The number of the first line of forja.yaml that holds TEXT.
line_of() { grep -nF -m1 -- "$1" forja.yaml | cut -d: -f1; }
# A user error: exit 1, one error line, which holds each TEXT.
expect_error() {  # expect_error "TEXT..." -- CMD...
  local want=()
  while [[ $1 != -- ]]; do want+=("$1"); shift; done
  shift
  expect_fail 1 "$@"
  expect_one_error_line "$OUT"
  local w
  for w in "${want[@]}"; do expect_contains "$(grep '^forja: error: ' <<<"$OUT")" "$w"; done
}
# The same error from forja run and from forja status --pipeline.
expect_static_error() {  # expect_static_error TEXT...
  expect_error "$@" -- forja run
  expect_error "$@" -- forja status --pipeline
}
expect_not_in_lock() {  # STAGE
  if ! grep -q "^  $1:" forja.lock 2>/dev/null; then pass; else fail "forja.lock records the stage '$1', which failed"; fi
}

echo "-- malformed stages"
pipeline <<'EOF'

stages:
  a:
    cmd: echo hi >a.txt

    outz: [a.txt]
EOF
expect_static_error "forja.yaml:$(line_of outz): stages.a.outz: unknown key"

pipeline <<'EOF'

stages:
  a:
    cmd: echo hi >a.txt
    deps: {a.txt: 1}
EOF
expect_static_error "forja.yaml:$(line_of deps:): stages.a.deps: expected a path (a string), got a mapping"

pipeline <<'EOF'

stages:
  a:
    cmd: echo hi >a.txt
    outs: [a.txt]
    timeout: [10]
EOF
expect_static_error "forja.yaml:$(line_of timeout): stages.a.timeout: expected a duration, got a list"

pipeline <<'EOF'

stages:
  a:
    cmd: echo hi >a.txt
    outs: [a.txt]
    timeout: 10x
EOF
expect_static_error "forja.yaml:$(line_of timeout): stages.a.timeout: '10x' is not a duration"

pipeline <<'EOF'

stages:
  a:
    cmd: echo hi >a.txt
    outs: [a.txt]
    retries: three
EOF
expect_static_error "forja.yaml:$(line_of retries): stages.a.retries: expected a count or a mapping, got a string"

pipeline <<'EOF'

stages:
  a:
    outs: [a.txt]
EOF
expect_static_error "stages.a.cmd: missing"

pipeline <<'EOF'

stages: [a, b]
EOF
expect_static_error "forja.yaml:$(line_of 'stages:'): stages: expected a mapping"

pipeline <<'EOF'

stages:
  a:
    foreach: 3
    do: {cmd: echo hi}
EOF
expect_static_error "forja.yaml:$(line_of foreach): stages.a.foreach: expected a list or a mapping, got an int"

pipeline <<'EOF'

stages:
  a:
    cmd: echo ${train.nope} >a.txt
    outs: [a.txt]
EOF
expect_static_error "forja.yaml:$(line_of 'cmd:'): stages.a.cmd:" "train.nope"

pipeline <<'EOF'

stages:
  a:
    cmd: echo hi >a.txt
   outs: [a.txt]
EOF
expect_static_error "forja.yaml:$(line_of '   outs'):" "malformed YAML"

echo "-- bad graphs"
pipeline <<'EOF'

stages:
  a:
    cmd: cp b.txt a.txt
    deps: [b.txt]
    outs: [a.txt]
  b:
    cmd: cp a.txt b.txt
    deps: [a.txt]
    outs: [b.txt]
EOF
expect_static_error "cycle"
if [[ $OUT == *"a -> b -> a"* || $OUT == *"b -> a -> b"* ]]; then pass; else fail "the cycle is not named: $OUT"; fi

pipeline <<'EOF'

stages:
  a:
    cmd: echo a >x.txt
    outs: [x.txt]
  b:
    cmd: echo b >x.txt
    outs: [x.txt]
EOF
LB=$(grep -n 'outs: \[x.txt\]' forja.yaml | tail -1 | cut -d: -f1)
expect_static_error "forja.yaml:$LB: stages.b.outs: 'x.txt' is also an output of stage 'a' (forja.yaml:$(line_of 'outs: [x.txt]'))"

pipeline <<'EOF'

stages:
  a:
    cmd: mkdir -p d && echo a >d/x.txt
    outs: [d]
  b:
    cmd: echo b >d/y.txt
    outs: [d/y.txt]
EOF
expect_static_error "forja.yaml:$(line_of 'outs: [d/y.txt]'): stages.b.outs: 'd/y.txt' is inside 'd', an output of stage 'a'"

pipeline <<'EOF'

stages:
  a:
    cmd: echo hi >a.txt
    deps: [a.txt]
    outs: [a.txt]
EOF
expect_static_error "stages.a.deps: 'a.txt' is also an output of this stage"

pipeline <<'EOF'

stages:
  a:
    cmd: cat nothere.txt >a.txt
    deps: [nothere.txt]
    outs: [a.txt]
EOF
expect_static_error "forja.yaml:$(line_of 'deps:'): stages.a.deps: 'nothere.txt' does not exist and no stage writes it"
[[ ! -e .forja/runs ]] && pass || fail "a pipeline with a missing dep started a run"

pipeline <<'EOF'

stages:
  a:
    cmd: echo hi >../a.txt
    outs: [../a.txt]
EOF
expect_static_error "stages.a.outs: '../a.txt' is outside the repository"

pipeline <<'EOF'

stages:
  a:
    cmd: echo hi >.git/a.txt
    outs: [.git/a.txt]
EOF
expect_static_error "stages.a.outs: '.git/a.txt' is inside .git"

echo "-- params and overrides"
pipeline <<'EOF'

stages:
  a:
    cmd: echo hi >a.txt
    params: [train.momentum]
    outs: [a.txt]
EOF
expect_static_error "forja.yaml:$(line_of params): stages.a.params: 'train.momentum' is not a key of the composed configuration"

pipeline <<'EOF'

stages:
  a:
    cmd: echo hi >a.txt
    params: ["params.yaml:lr"]
    outs: [a.txt]
EOF
expect_static_error "forja.yaml:$(line_of params): stages.a.params: cannot read params file 'params.yaml'"
printf 'lr: 0.1\n' >params.yaml
sed -i 's/params.yaml:lr/params.yaml:opt/' forja.yaml
expect_static_error "forja.yaml:$(line_of params): stages.a.params:" "opt"
rm -f params.yaml

pipeline <<'EOF'

stages:
  a:
    cmd: echo ${train.lr} >a.txt
    params: [train.lr]
    outs: [a.txt]
EOF
expect_error "override 'train.nope=3'" "not in the config" -- forja run train.nope=3
expect_error "override 'train.nope=3'" -- forja status --pipeline train.nope=3
expect_error "override 'train.lr=[1'" -- forja run 'train.lr=[1'
expect_error "unknown stage 'nosuch'" -- forja run nosuch
[[ ! -e a.txt && ! -e forja.lock ]] && pass || fail "a run with a bad override or target ran something"
# The same pipeline is fine with a good override.
expect_ok forja run train.lr=0.3
expect_eq "$(cat a.txt)" "0.3"

echo "-- stages that fail"
pipeline <<'EOF'

stages:
  a:
    cmd: no-such-command-xyz --flag
    outs: [a.txt]
EOF
expect_error "stage 'a'" "not found" -- forja run
expect_not_in_lock a

pipeline <<'EOF'

stages:
  a:
    cmd: no-such-command-xyz --flag >a.txt
    outs: [a.txt]
EOF
expect_error "stage 'a' failed: command not found (exit 127)" -- forja run
expect_contains "$OUT" "  | "
expect_contains "$OUT" "no-such-command-xyz"
expect_not_in_lock a

pipeline <<'EOF'

stages:
  a:
    cmd: for i in 1 2 3 4 5; do echo "line $i"; done; echo "bad input" >&2; exit 3
    outs: [a.txt]
EOF
expect_error "stage 'a' failed (exit 3); see .forja/runs/" "a.log; its last lines:" -- forja run
# The tail follows the error line, in order.
expect_eq "$(grep -A6 '^forja: error: ' <<<"$OUT" | tail -6)" "$(printf '  | line 1\n  | line 2\n  | line 3\n  | line 4\n  | line 5\n  | bad input')"
LOG=$(grep -o '\.forja/runs/[^ ;]*/a\.log' <<<"$OUT" | head -1)
expect_contains "$(cat "$LOG" 2>/dev/null)" "bad input"
expect_not_in_lock a

pipeline <<'EOF'

stages:
  a:
    cmd: echo "forgot to write it"
    outs: [a.txt]
EOF
expect_error "stage 'a' did not write its output 'a.txt'" -- forja run
expect_not_in_lock a

pipeline <<'EOF'

stages:
  a:
    cmd: echo a >a.txt && echo b >b.txt && rm b.txt
    outs: [a.txt, b.txt]
EOF
expect_error "stage 'a' did not write its output 'b.txt'" -- forja run
expect_not_in_lock a
# Nor is a failed stage in the run cache: fixed, it runs.
sed -i 's/ && rm b.txt//' forja.yaml
expect_ok forja run
expect_contains "$OUT" "1 stage ran"

# A dependent of a failed stage is skipped, and says why, without a second error line.
pipeline <<'EOF'

stages:
  a:
    cmd: exit 4
    outs: [a.txt]
  b:
    cmd: cp a.txt b.txt
    deps: [a.txt]
    outs: [b.txt]
EOF
expect_error "stage 'a' failed (exit 4)" -- forja run
expect_contains "$OUT" "skipped b: upstream stage 'a' failed"

echo "-- a corrupt forja.lock"
pipeline <<'EOF'

stages:
  a:
    cmd: echo hi >a.txt
    outs: [a.txt]
  b:
    cmd: cp a.txt b.txt
    deps: [a.txt]
    outs: [b.txt]
EOF
expect_ok forja run
cp forja.lock "$TEST_TMP/good.lock"
HASH_LINE=$(grep -n -m1 'hash: sha256:' forja.lock | cut -d: -f1)
sed -i "${HASH_LINE}s/hash: sha256:[0-9a-f]*/hash: sha256:zz/" forja.lock
expect_static_error "forja.lock:$HASH_LINE: hash must be sha256: and 64 hex digits"
# A merge conflict left in it.
cp "$TEST_TMP/good.lock" forja.lock
sed -i '5i<<<<<<< HEAD' forja.lock
expect_static_error "forja.lock:5:"
# Cut in the middle of a line.
head -c "$(($(grep -b -m1 'hash: sha256:' "$TEST_TMP/good.lock" | cut -d: -f1) + 30))" "$TEST_TMP/good.lock" >forja.lock
expect_static_error "forja.lock:$HASH_LINE:"
# Binary garbage appended.
cp "$TEST_TMP/good.lock" forja.lock
printf '\x00\x01garbage' >>forja.lock
expect_static_error "forja.lock:$(($(wc -l <"$TEST_TMP/good.lock") + 1)):"
cp "$TEST_TMP/good.lock" forja.lock
sed -i 's/^schema: 1/schema: 9/' forja.lock
expect_static_error "forja.lock:$(grep -n -m1 '^schema' forja.lock | cut -d: -f1): schema 9 is not supported"
# The data commands that read the lock say the same.
expect_error "forja.lock:" -- forja status
# A good lock again: all is well.
cp "$TEST_TMP/good.lock" forja.lock
expect_ok forja status --pipeline

finish
