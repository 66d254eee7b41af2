#!/usr/bin/env bash
# forja dag, driven as a user would: the pipeline of forja.yaml interpolated
# against conf/, every output format, targets and overrides, and one clear
# error line (exit 1) for each kind of bad pipeline.
source "$(dirname "$0")/../lib/common.sh"

json_check() {  # json_check PYTHON-EXPR-ON-d "$OUT"
  python3 -c "import json,sys; d=json.load(sys.stdin); assert $1, d" <<<"$2" && pass || fail "JSON check '$1' failed on: $2"
}

new_repo
mkdir -p conf/model data/raw src
printf 'defaults:\n  - model: small\n  - _self_\ntrain:\n  lr: 0.1\n  seeds: [1, 2]\n' >conf/config.yaml
printf 'name: small\n' >conf/model/small.yaml
printf 'name: large\n' >conf/model/large.yaml
touch data/raw/a.csv src/prepare.py src/train.py
cat >>forja.yaml <<'EOF'

stages:
  prepare:
    cmd: python prepare.py
    wdir: src
    deps: [../data/raw, prepare.py]
    outs: [../data/prepared]
  train:
    foreach: ${train.seeds}
    do:
      cmd: python src/train.py --model ${model.name} --lr ${train.lr} --seed ${item}
      deps: [data/prepared/train.csv, src/train.py]
      params: [train.lr]
      outs: ['models/${model.name}-${item}.bin']
  evaluate:
    cmd: python evaluate.py models
    deps: [models]
    metrics: [{eval/metrics.json: {cache: false}}]
  lint:
    cmd: ruff check src
EOF

# --- text: one line per stage, in the order they would run -------------------------
expect_ok forja dag
expect_eq "$OUT" "$(printf 'prepare\ntrain@1 <- prepare\ntrain@2 <- prepare\nevaluate <- train@1, train@2\nlint')"

# Targets: a stage and what it needs; a foreach name selects all its stages.
expect_ok forja dag train@2
expect_eq "$OUT" "$(printf 'prepare\ntrain@2 <- prepare')"
expect_ok forja dag train lint
expect_eq "$OUT" "$(printf 'prepare\ntrain@1 <- prepare\ntrain@2 <- prepare\nlint')"

# From a subfolder, and with -C.
cd src && expect_ok forja dag lint && cd ..
expect_eq "$OUT" "lint"
expect_ok forja -C data dag prepare
expect_eq "$OUT" "prepare"

# --- overrides change the interpolated pipeline -------------------------------------
run forja dag --json model=large train.seeds=[7]
expect_eq "$RC" "0"
json_check '[s["name"] for s in d["stages"]] == ["prepare", "train@7", "evaluate", "lint"]' "$OUT"
json_check 'd["stages"][1]["cmd"] == ["python src/train.py --model large --lr 0.1 --seed 7"]' "$OUT"
json_check 'd["stages"][1]["outs"] == ["models/large-7.bin"] and d["stages"][0]["deps"] == ["data/raw", "src/prepare.py"]' "$OUT"
json_check 'd["stages"][2]["upstream"] == ["train@7"] and d["stages"][2]["outs"] == ["eval/metrics.json"]' "$OUT"
json_check 'd["edges"] == [["prepare", "train@7"], ["train@7", "evaluate"]]' "$OUT"
expect_ok forja dag train.lr=0.5 train@1 --json
json_check 'd["stages"][1]["cmd"] == ["python src/train.py --model small --lr 0.5 --seed 1"]' "$OUT"

# --- Mermaid and Graphviz --------------------------------------------------------------
expect_ok forja dag --mermaid evaluate
expect_eq "$OUT" "$(printf 'flowchart TD\n  s0["prepare"]\n  s1["train@1"]\n  s2["train@2"]\n  s3["evaluate"]\n  s0 --> s1\n  s0 --> s2\n  s1 --> s3\n  s2 --> s3')"
expect_ok forja dag --dot train@1
expect_eq "$OUT" "$(printf 'digraph pipeline {\n  "prepare";\n  "train@1";\n  "prepare" -> "train@1";\n}')"
if command -v dot >/dev/null; then
  forja dag --dot | dot -Tsvg >/dev/null && pass || fail "dot could not read forja dag --dot"
fi

# --- help and usage ---------------------------------------------------------------------
expect_ok forja dag --help
expect_contains "$OUT" "--mermaid"
expect_contains "$OUT" "--dot"
expect_contains "$OUT" "--json"
expect_contains "$OUT" "Exit codes:"
expect_contains "$OUT" "overrides in Hydra's grammar"
expect_fail 2 forja dag --dot --json
expect_one_error_line "$OUT"
expect_fail 2 forja dag --bogus
expect_one_error_line "$OUT"

# --- bad input: one error line, exit 1 --------------------------------------------------
bad() {  # bad "expected text" forja args...
  local want=$1
  shift
  expect_fail 1 forja "$@"
  expect_contains "$OUT" "$want"
  expect_one_error_line "$OUT"
  [[ $(wc -l <<<"$OUT") -eq 1 ]] && pass || fail "expected exactly one line of output from: $*"$'\n'"$OUT"
}
bad "unknown stage 'trian' (stages: prepare, train, evaluate, lint); forja dag lists the pipeline" dag trian
bad "override 'train.lrr=1': Could not override 'train.lrr'" dag train.lrr=1
bad "Could not find 'model/huge'" dag model=huge

cp forja.yaml forja.yaml.good
with_stages() {  # replaces the stages section
  { sed '/^stages:/,$d' forja.yaml.good; printf 'stages:\n'; cat; } >forja.yaml
}
line_of() { grep -n "$1" forja.yaml | head -1 | cut -d: -f1; }

printf '  a:\n    cmd: x ${train.lrr}\n' | with_stages
bad "forja.yaml:$(line_of 'cmd: x'): stages.a.cmd: \${train.lrr}: key 'train.lrr' not found in the configuration" dag

printf '  a:\n    cmd: x\n    retries: [1]\n' | with_stages
bad "forja.yaml:$(line_of retries): stages.a.retries: expected a count or a mapping, got a list; write retries: 3" dag

printf '  a:\n    cmd: x\n    deps: [data/nope]\n' | with_stages
bad "forja.yaml:$(line_of nope): stages.a.deps: 'data/nope' does not exist and no stage writes it" dag

printf '  a:\n    cmd: x\n    outs: [data/x]\n  b:\n    cmd: y\n    outs: [data/x/y]\n' | with_stages
bad "forja.yaml:$(line_of data/x/y): stages.b.outs: 'data/x/y' is inside 'data/x', an output of stage 'a' (forja.yaml:$(line_of 'data/x]'))" dag

printf '  a:\n    cmd: x\n    deps: [b.out]\n    outs: [a.out]\n  b:\n    cmd: y\n    deps: [a.out]\n    outs: [b.out]\n' | with_stages
bad "pipeline has a cycle: a -> b -> a" dag

printf '  a:\n    cmd: x\n    outs: [/tmp/model]\n' | with_stages
bad "stages.a.outs: '/tmp/model' is an absolute path; write it relative to the repository root" dag

printf '  a:\n    cmd: x\n    colour: blue\n' | with_stages
bad "stages.a.colour: unknown key; a stage has cmd, wdir, deps" dag

printf '  a:\n    cmd: x\n   bad indent: [\n' | with_stages
bad "forja.yaml:" dag

# Overrides without a configuration.
mv conf conf.away
printf '  a:\n    cmd: x\n' | with_stages
expect_ok forja dag
expect_eq "$OUT" "a"
bad "no configuration to override: create conf/config.yaml or set config.root in forja.yaml" dag a.b=1
mv conf.away conf

# No stages: nothing on stdout, a hint on stderr; JSON is still JSON.
sed '/^stages:/,$d' forja.yaml.good >forja.yaml
expect_ok forja dag
expect_contains "$OUT" "No stages"
run forja dag --json
json_check 'd == {"stages": [], "edges": []}' "$OUT"
bad "unknown stage 'x': forja.yaml has no stages; add a stages: section" dag x

# Outside any workspace.
cd "$TEST_TMP" || exit 1
mkdir -p nowhere && cd nowhere || exit 1
bad "not inside a forja repository" dag

finish
