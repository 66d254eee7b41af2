#!/usr/bin/env bash
# forja metrics show / diff and forja params diff on a small pipeline: a stage
# that reads params from the composed config and a params file and writes two
# metrics files (one versioned in git, one in the cache); run, commit, change
# params, rerun, and compare — tables, Markdown, JSON — plus every error.
source "$(dirname "$0")/../lib/common.sh"

json_check() {  # json_check PYTHON-EXPR-ON-d "$OUT"
  python3 -c "import json,sys; d=json.load(sys.stdin); assert $1, d" <<<"$2" && pass || fail "JSON check '$1' failed on: $2"
}
# Like run, but OUT holds stdout only (ERR stderr): tables must not mix with messages.
run_split() {
  OUT=$("$@" 2>"$TEST_TMP/stderr")
  RC=$?
  ERR=$(cat "$TEST_TMP/stderr")
}

new_repo
mkdir -p conf
printf 'train:\n  lr: 0.1\n  epochs: 3\nmodel: small\n' >conf/config.yaml
printf 'seed: 42\nbatch: 32\n' >params.yaml
cat >train.py <<'EOF'
import json, sys
lr, epochs, model = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
seed = int(dict(l.split(": ") for l in open("params.yaml").read().splitlines())["seed"])
loss = round(1 - lr * 2, 6)
json.dump({"train": {"loss": loss, "acc": [round(lr + 0.5, 6), 0.5]}, "epochs": epochs, "model": model},
          open("metrics.json", "w"), indent=2)
with open("eval.yaml", "w") as f:
    f.write("auc: %s\nseed: %d\n" % (round(0.7 + lr, 6), seed))
EOF
cat >>forja.yaml <<'EOF'
stages:
  train:
    cmd: python3 train.py ${train.lr} ${train.epochs} ${model}
    deps: [train.py, params.yaml]
    params: [train.lr, train.epochs, model, {params.yaml: [seed]}]
    metrics: [{metrics.json: {cache: false}}, eval.yaml]
  report:
    cmd: python3 -c "open('report.txt','w').write('ok')"
    deps: [metrics.json]
    params: [train.lr]
    outs: [report.txt]
EOF

# --- before anything ran ---------------------------------------------------------
run_split forja metrics show
expect_eq "$RC" 0
expect_eq "$OUT" ""
expect_contains "$ERR" "warning: metrics file 'metrics.json' does not exist yet; forja run writes it"

expect_ok forja run
expect_ok test -f metrics.json

# --- metrics show ----------------------------------------------------------------
run_split forja metrics show
expect_eq "$RC" 0
expect_eq "$OUT" "$(cat <<'EOF'
Path          Metric       Value
metrics.json  train.loss   0.8
metrics.json  train.acc.0  0.6
metrics.json  train.acc.1  0.5
metrics.json  epochs       3
metrics.json  model        small
eval.yaml     auc          0.8
eval.yaml     seed         42
EOF
)"
expect_eq "$ERR" ""

run_split forja metrics show eval.yaml --md
expect_eq "$OUT" "$(cat <<'EOF'
| Path      | Metric | Value |
|-----------|--------|-------|
| eval.yaml | auc    | 0.8   |
| eval.yaml | seed   | 42    |
EOF
)"
run_split forja metrics show --json
expect_eq "$RC" 0
json_check 'd[0] == {"path": "metrics.json", "metric": "train.loss", "value": 0.8} and len(d) == 7 and d[4]["value"] == "small"' "$OUT"
run_split forja metrics show metrics.json --precision 0
expect_contains "$OUT" "metrics.json  train.acc.0  1.0"
# From a subfolder, targets are relative to it.
mkdir -p sub && cd sub || exit 1
run_split forja metrics show ../eval.yaml
expect_contains "$OUT" "eval.yaml  auc     0.8"
cd .. || exit 1

# --- nothing to compare with yet -----------------------------------------------------
run forja metrics diff
expect_eq "$RC" 1
expect_one_error_line "$OUT"
expect_contains "$OUT" "the git repository has no commits yet"

git add -A && git commit -qm v1 && git tag v1

run_split forja metrics diff
expect_eq "$RC" 0
expect_eq "$OUT" ""
expect_contains "$ERR" "No metric changed between HEAD and the workspace (--all lists them all)"
run_split forja params diff
expect_eq "$RC" 0
expect_eq "$OUT" ""
expect_contains "$ERR" "No param changed between HEAD and the workspace"
run_split forja params diff --all
expect_eq "$OUT" "$(cat <<'EOF'
Path         Param         HEAD   workspace
config       train.lr      0.1    0.1
config       train.epochs  3      3
config       model         small  small
params.yaml  seed          42     42
EOF
)"

# --- change params: in the config, in the params file, on the command line -----------
sed -i 's/lr: 0.1/lr: 0.2/; s/model: small/model: large/' conf/config.yaml
printf 'seed: 7\nbatch: 32\n' >params.yaml
run_split forja params diff
expect_eq "$RC" 0
expect_eq "$OUT" "$(cat <<'EOF'
Path         Param     HEAD   workspace
config       train.lr  0.1    0.2
config       model     small  large
params.yaml  seed      42     7
EOF
)"
run_split forja params diff HEAD train.epochs=5 --md
expect_eq "$OUT" "$(cat <<'EOF'
| Path        | Param        | HEAD  | workspace |
|-------------|--------------|-------|-----------|
| config      | train.lr     | 0.1   | 0.2       |
| config      | train.epochs | 3     | 5         |
| config      | model        | small | large     |
| params.yaml | seed         | 42    | 7         |
EOF
)"
run_split forja params diff --json
json_check 'd == [{"path": "config", "param": "train.lr", "old": 0.1, "new": 0.2}, {"path": "config", "param": "model", "old": "small", "new": "large"}, {"path": "params.yaml", "param": "seed", "old": 42, "new": 7}]' "$OUT"

# --- rerun, then metrics diff ---------------------------------------------------------
expect_ok forja run
run_split forja metrics diff
expect_eq "$RC" 0
expect_eq "$OUT" "$(cat <<'EOF'
Path          Metric       HEAD   workspace  Change
metrics.json  train.loss   0.8    0.6        -0.2
metrics.json  train.acc.0  0.6    0.7        +0.1
metrics.json  model        small  large      -
eval.yaml     auc          0.8    0.9        +0.1
eval.yaml     seed         42     7          -35
EOF
)"
run_split forja metrics diff v1 --md --all
expect_eq "$OUT" "$(cat <<'EOF'
| Path         | Metric      | v1    | workspace | Change |
|--------------|-------------|-------|-----------|--------|
| metrics.json | train.loss  | 0.8   | 0.6       | -0.2   |
| metrics.json | train.acc.0 | 0.6   | 0.7       | +0.1   |
| metrics.json | train.acc.1 | 0.5   | 0.5       | 0      |
| metrics.json | epochs      | 3     | 3         | 0      |
| metrics.json | model       | small | large     | -      |
| eval.yaml    | auc         | 0.8   | 0.9       | +0.1   |
| eval.yaml    | seed        | 42    | 7         | -35    |
EOF
)"
run_split forja metrics diff --json
json_check 'd[0] == {"path": "metrics.json", "metric": "train.loss", "old": 0.8, "new": 0.6, "change": -0.2} and d[2]["change"] is None and len(d) == 5' "$OUT"
run_split forja metrics diff --precision 0
expect_contains "$OUT" "metrics.json  train.loss   1.0    1.0        -0.2"

# A new metric, and one that went away.
git add -A && git commit -qm v2
python3 - <<'EOF'
import json
d = json.load(open("metrics.json"))
del d["epochs"]
d["train"]["f1"] = 0.5
json.dump(d, open("metrics.json", "w"))
EOF
run_split forja metrics diff
expect_eq "$OUT" "$(cat <<'EOF'
Path          Metric    HEAD  workspace  Change
metrics.json  train.f1  -     0.5        -
metrics.json  epochs    3     -          -
EOF
)"
run_split forja metrics diff HEAD~1
expect_contains "$OUT" "Path          Metric       HEAD~1  workspace  Change"
git checkout -q metrics.json

# --- errors: one line each ----------------------------------------------------------------
run forja metrics diff nope
expect_eq "$RC" 1
expect_one_error_line "$OUT"
expect_contains "$OUT" "forja: error: unknown revision 'nope'; use a commit, branch or tag"
run forja params diff nope
expect_eq "$RC" 1
expect_contains "$OUT" "unknown revision 'nope'"
run forja params diff v1 v2
expect_eq "$RC" 2
expect_one_error_line "$OUT"
run forja params diff train.nope=1
expect_eq "$RC" 1
expect_one_error_line "$OUT"
run forja metrics show missing.json
expect_eq "$RC" 1
expect_contains "$OUT" "forja: error: 'missing.json' does not exist"
run forja metrics diff --json --md
expect_eq "$RC" 2

cp metrics.json metrics.json.bak
printf '{\n  "loss": 0.5,\n  "acc": [1, 2\n}\n' >metrics.json
run forja metrics show
expect_eq "$RC" 1
expect_one_error_line "$OUT"
expect_contains "$OUT" "forja: error: metrics.json:4:1: malformed JSON"
run forja metrics diff
expect_eq "$RC" 1
expect_contains "$OUT" "metrics.json:4:1: malformed JSON"
mv metrics.json.bak metrics.json

# A cached metrics file of a revision that the cache lost.
hash=$(python3 -c "
import re
t = open('forja.lock').read()
print(re.search(r'path: \"eval.yaml\"\n\s*hash: sha256:([0-9a-f]+)', t).group(1))")
obj=.forja/cache/sha256/${hash:0:2}/${hash:2}
expect_ok test -f "$obj"
mv "$obj" "$TEST_TMP/saved-object"
run forja metrics diff
expect_eq "$RC" 1
expect_one_error_line "$OUT"
expect_contains "$OUT" "forja: error: metrics file 'eval.yaml' of HEAD (sha256:${hash:0:12}) is not in the cache; run forja pull"
mv "$TEST_TMP/saved-object" "$obj"
expect_ok forja metrics diff

# A configuration that does not compose: metrics show falls back to forja.lock.
cp conf/config.yaml "$TEST_TMP/config.yaml"
printf 'defaults:\n  - db: nope\n' >conf/config.yaml
run_split forja metrics show
expect_eq "$RC" 0
expect_contains "$ERR" "showing the metrics files forja.lock lists"
expect_contains "$OUT" "eval.yaml     auc          0.9"
run forja params diff
expect_eq "$RC" 1
expect_one_error_line "$OUT"
cp "$TEST_TMP/config.yaml" conf/config.yaml

# Outside git.
mkdir -p "$TEST_TMP/nogit" && cd "$TEST_TMP/nogit" || exit 1
forja -q init --no-scm
run forja metrics diff
expect_eq "$RC" 1
expect_one_error_line "$OUT"
expect_contains "$OUT" "is not in a git repository"
run_split forja metrics show
expect_eq "$RC" 0
expect_contains "$ERR" "No metrics: declare"
run_split forja metrics show --json
expect_eq "$OUT" "[]"

# --- help ------------------------------------------------------------------------------
for cmd in "metrics show" "metrics diff" "params diff"; do
  # shellcheck disable=SC2086
  run forja $cmd --help
  expect_eq "$RC" 0
  expect_contains "$OUT" "Exit codes: 0 success"
  expect_contains "$OUT" "--json"
  expect_contains "$OUT" "--md"
done
run forja metrics diff --help
expect_contains "$OUT" "--all"
expect_contains "$OUT" "--precision"

finish
