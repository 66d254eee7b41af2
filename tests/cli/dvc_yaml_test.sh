#!/usr/bin/env bash
# A DVC repository's dvc.yaml run by forja as it is (docs/dvc-compat.md, "dvc.yaml"):
# a prepare -> featurize (foreach) -> train (matrix) -> evaluate (wdir) pipeline
# with params.yaml, vars, a frozen stage and top-level metrics and params. Checks
# what runs and why (each stage appends its name to a counter file, so "did not
# run" is proven), that a param change reruns exactly the stages that read it,
# that forja metrics show / params diff see dvc.yaml's top-level sections, the
# one-line errors for what forja refuses, and that `dvc repro` (when DVC is
# installed) makes byte-identical outputs from the same dvc.yaml.
source "$(dirname "$0")/../lib/common.sh"

python3 -c 'import yaml' 2>/dev/null || { echo "SKIP: python3 has no yaml module"; exit 77; }

mark() { MARK=$(wc -l 2>/dev/null <counter || echo 0); }
since() { tail -n +$((MARK + 1)) counter 2>/dev/null | tr '\n' ' ' | sed 's/ $//'; }
expect_ran() {  # expect_ran "stage stage ..." (or "" for none)
  local got
  got=$(since)
  if [[ $got == "$1" ]]; then pass; else fail "expected stages '$1' to run, got '$got'"$'\n'"$OUT"; fi
}
expect_line() {  # expect_line "$OUT" "a whole line"
  if grep -qxF -- "$2" <<<"$1"; then pass; else fail "expected the line '$2' in:"$'\n'"$1"; fi
}

# ---- the project: written once, copied for forja and for dvc ---------------------
write_project() {  # DIR
  mkdir -p "$1" && cd "$1" || exit 1
  mkdir -p src data config eval
  printf 'text,label\n' >data/raw.csv
  for i in $(seq 1 40); do printf 'doc %d %s,%d\n' "$i" "$(printf 'w%.0s ' $(seq 1 $((i % 7 + 1))))" $((i % 2)); done >>data/raw.csv
  cat >params.yaml <<'EOF'
prepare:
  split: 0.25
  seed: 7
featurize:
  max_features: 3
train:
  n_est: 10
  use_bias: true
EOF
  cat >config/paths.yaml <<'EOF'
paths:
  prepared: data/prepared
  features: data/features
EOF
  cat >eval/params.yaml <<'EOF'
evaluate:
  threshold: 0.5
EOF
  printf '{"weights": [0.5, 0.25]}\n' >hp.json
  cat >src/prepare.py <<'EOF'
import os, random, sys
open("counter", "a").write("prepare\n")
split, seed = float(sys.argv[1]), int(sys.argv[2])
rows = open("data/raw.csv").read().splitlines()[1:]
random.Random(seed).shuffle(rows)
n_test = int(len(rows) * split)
os.makedirs("data/prepared", exist_ok=True)
open("data/prepared/test.csv", "w").write("\n".join(rows[:n_test]) + "\n")
open("data/prepared/train.csv", "w").write("\n".join(rows[n_test:]) + "\n")
EOF
  cat >src/featurize.py <<'EOF'
import os, sys
part, max_features = sys.argv[1], int(sys.argv[2])
open("counter", "a").write("featurize@" + part + "\n")
os.makedirs("data/features", exist_ok=True)
with open("data/features/%s.csv" % part, "w") as out:
    for line in open("data/prepared/%s.csv" % part):
        text, label = line.rstrip("\n").rsplit(",", 1)
        words = text.split()
        feats = [len(words), len(text), sum(w == "w" for w in words)][:max_features]
        out.write(",".join(str(f) for f in feats + [int(label)]) + "\n")
EOF
  # train reads params.yaml itself, as DVC users' scripts do.
  cat >src/train.py <<'EOF'
import os, sys, yaml
model, n = sys.argv[1], int(sys.argv[2])
open("counter", "a").write("train@%s-%d\n" % (model, n))
p = yaml.safe_load(open("params.yaml"))["train"]
rows = [[float(x) for x in l.split(",")] for l in open("data/features/train.csv")]
mean = sum(r[-1] for r in rows) / len(rows)
w = mean * n * p["n_est"] / 10 if model == "linear" else mean
os.makedirs("models", exist_ok=True)
open("models/%s-%d.txt" % (model, n), "w").write("%s %d %.6f %s\n" % (model, n, w, p["use_bias"]))
EOF
  cat >src/evaluate.py <<'EOF'
import glob, json, sys
open("../counter", "a").write("evaluate\n")
threshold = float(sys.argv[1])
rows = [[float(x) for x in l.split(",")] for l in open("../data/features/test.csv")]
scores = {}
for path in sorted(glob.glob("../models/*.txt")):
    model, n, w, bias = open(path).read().split()
    pred = [1 if float(w) * (1 + r[0] % 3) / 2 > threshold else 0 for r in rows]
    scores[model + "-" + n] = sum(p == r[-1] for p, r in zip(pred, rows)) / len(rows)
json.dump({"accuracy": scores}, open("metrics.json", "w"), indent=1, sort_keys=True)
json.dump({"models": len(scores), "best": max(scores.values())}, open("summary.json", "w"), sort_keys=True)
with open("roc.csv", "w") as f:
    f.write("fpr,tpr\n0,0\n0.5,%s\n1,1\n" % max(scores.values()))
EOF
  cat >src/legacy.py <<'EOF'
open("counter", "a").write("legacy\n")
open("legacy.txt", "w").write("rebuilt\n")
EOF
  printf 'kept as it is\n' >legacy.txt
  cat >dvc.yaml <<'EOF'
vars:
  - config/paths.yaml
  - report: {name: summary}

stages:
  prepare:
    desc: split the raw data
    cmd: python3 src/prepare.py ${prepare.split} ${prepare.seed}
    deps: [src/prepare.py, data/raw.csv]
    params: [prepare.split, prepare.seed]
    outs: ['${paths.prepared}']

  featurize:
    foreach: [train, test]
    do:
      cmd: python3 src/featurize.py ${item} ${featurize.max_features}
      deps: [src/featurize.py, '${paths.prepared}']
      params: [featurize.max_features]
      outs: ['${paths.features}/${item}.csv']

  train:
    matrix:
      model: [linear, const]
      n: [1, 2]
    cmd: python3 src/train.py ${item.model} ${item.n}
    deps: [src/train.py, '${paths.features}/train.csv']
    params: [train]
    outs:
      - models/${key}.txt:
          push: false

  evaluate:
    wdir: eval
    vars: [params.yaml]  # eval/params.yaml: a stage's vars are relative to its wdir
    cmd: python3 ../src/evaluate.py ${evaluate.threshold}
    deps: [../src/evaluate.py, ../models, ../data/features/test.csv]
    params: [evaluate.threshold]
    metrics:
      - metrics.json:
          cache: false
    plots:
      - roc.csv:
          x: fpr
          y: tpr
          cache: false
    meta: {owner: ml-team}

  legacy:
    frozen: true
    cmd: python3 src/legacy.py
    outs: [legacy.txt]

metrics:
  - eval/${report.name}.json
params:
  - hp.json
plots:
  - eval/roc.csv:
      x: fpr
      y: tpr
EOF
}

OUTPUTS=(data/prepared data/features models eval/metrics.json eval/summary.json eval/roc.csv legacy.txt)

# ---- forja runs it ----------------------------------------------------------------
write_project "$TEST_TMP/forja"
git init -q . && forja -q init || { echo "setup failed" >&2; exit 1; }
expect_ok test -f forja.yaml  # forja init beside dvc.yaml: the usual forja.yaml, no stages of its own
git add -A && git commit -qm project

mark
expect_ok forja run
expect_ran "prepare featurize@train featurize@test train@linear-1 train@linear-2 train@const-1 train@const-2 evaluate"
expect_contains "$OUT" "8 stages ran, 1 up to date"
expect_not_contains "$OUT" "push: false"  # honoured: forja.lock keeps it, forja push leaves the out
expect_ok test "$(cat legacy.txt)" = "kept as it is"  # frozen: never run
expect_ok test -f eval/metrics.json  # wdir: the command ran in eval/

expect_ok forja status --pipeline
expect_line "$OUT" "legacy: up to date (frozen)"
expect_line "$OUT" "evaluate: up to date"
mark
expect_ok forja run
expect_ran ""
expect_contains "$OUT" "0 stages ran, 9 up to date"
expect_ok forja run --force legacy
expect_ran ""  # frozen even when forced

# A param of params.yaml: exactly the stages that read it, with the key as the reason.
sed -i 's/n_est: 10/n_est: 20/' params.yaml
expect_fail 1 forja status --pipeline
expect_line "$OUT" "train@linear-1: changed: param train.n_est changed (10 -> 20)"
expect_line "$OUT" "train@const-2: changed: param train.n_est changed (10 -> 20)"
expect_line "$OUT" "prepare: up to date"
expect_line "$OUT" "featurize@test: up to date"
expect_line "$OUT" "evaluate: changed: upstream stage 'train@linear-1' would run"
mark
expect_ok forja run
expect_ran "train@linear-1 train@linear-2 train@const-1 train@const-2 evaluate"

# A key no stage reads changes nothing.
printf 'unused: 1\n' >>params.yaml
mark
expect_ok forja run
expect_ran ""

sed -i 's/max_features: 3/max_features: 2/' params.yaml
mark
expect_ok forja run
expect_ran "featurize@train featurize@test train@linear-1 train@linear-2 train@const-1 train@const-2 evaluate"

# evaluate's bare param is a key of eval/params.yaml: its wdir's params.yaml.
sed -i 's/threshold: 0.5/threshold: 0.75/' eval/params.yaml
expect_fail 1 forja status --pipeline
expect_line "$OUT" "evaluate: changed: command changed; param evaluate.threshold changed (0.5 -> 0.75)"
mark
expect_ok forja run
expect_ran "evaluate"

# Top-level metrics: and params: of dvc.yaml.
expect_ok forja metrics show
expect_contains "$OUT" "eval/metrics.json"
expect_contains "$OUT" "eval/summary.json"
expect_contains "$OUT" "models"
git add -A && git commit -qm run
sed -i 's/0.25]/0.5]/' hp.json
expect_ok forja params diff  # the revision's hp.json read from git: a change, not an addition
expect_line "$OUT" "hp.json  weights  [0.5,0.25]  [0.5,0.5]"
sed -i 's/threshold: 0.75/threshold: 0.25/' eval/params.yaml
expect_ok forja run
expect_ok forja metrics diff  # the top-level metrics file too, both sides
expect_line "$OUT" "eval/summary.json  best              0.5   0.4        -0.1"

# ---- refused, one line each (file:line, field, what to do) -------------------------
errors() {  # DVC_YAML EXPECTED-LINE
  printf '%s' "$1" >dvc.yaml
  expect_fail 1 forja status --pipeline
  expect_line "$OUT" "$2"
  expect_one_error_line "$OUT"
}
errors $'stages:\n  t:\n    cmd: x\n    params: [{p.toml: [a]}]\n' \
  "forja: error: dvc.yaml:4: stages.t.params: 'p.toml' is a TOML params file; forja reads YAML and JSON ones: convert it to YAML"
errors $'stages:\n  t:\n    cmd: x\n    params: [other.yaml:lr]\n' \
  "forja: error: dvc.yaml:4: stages.t.params: 'other.yaml:lr': in dvc.yaml a string is a key of params.yaml; for a key of another file write - other.yaml: [lr]"
errors $'stages:\n  t:\n    cmd: echo ${train.nope}\n' \
  "forja: error: dvc.yaml:3: stages.t.cmd: \${train.nope}: 'train.nope' is not defined; the names come from params.yaml, vars: and item / key in foreach and matrix stages"
errors $'stages:\n  t:\n    cmd: x\n    retries: 2\n' \
  "forja: error: dvc.yaml:4: stages.t.retries: is a field of forja.yaml's stages, not of dvc.yaml (dvc repro would refuse it); declare the stage in forja.yaml to use it"
errors $'schema: \'2.0\'\nstages: {}\n' \
  "forja: error: dvc.yaml:1: schema: unknown key; dvc.yaml has stages, vars, params, metrics, plots, artifacts, datasets"
errors $'vars: [params.toml]\n' \
  "forja: error: dvc.yaml:1: vars[0]: 'params.toml' is a TOML vars file; forja reads YAML and JSON ones: convert it to params.yaml"
printf 'stages:\n  t:\n    cmd: echo ok\nartifacts:\n  model:\n    path: m.pkl\n' >dvc.yaml
expect_fail 1 forja status --pipeline  # t never ran
expect_line "$OUT" "dvc.yaml:5: artifacts: ignored; forja's model registry does not read them (forja models register)"
git checkout -q dvc.yaml

# A dvc.yaml in a subfolder (DVC reads every one): refused rather than half a pipeline run.
mkdir -p sub && printf 'stages:\n  s:\n    cmd: echo sub\n' >sub/dvc.yaml && git add sub/dvc.yaml
expect_fail 1 forja status --pipeline
expect_line "$OUT" "forja: error: sub/dvc.yaml: forja reads only the dvc.yaml at the workspace root (DVC reads every one); move its stages into dvc.yaml with wdir: sub (and paths relative to it)"
git rm -q --cached sub/dvc.yaml && rm -r sub

# forja.yaml's own stages: win, and say that dvc.yaml is not read.
printf 'stages:\n  mine:\n    cmd: echo mine\n' >>forja.yaml
expect_fail 1 forja status --pipeline  # mine never ran
expect_line "$OUT" "dvc.yaml is not read: forja.yaml has a stages: section of its own"
git checkout -q forja.yaml

# ---- dvc repro makes the same outputs ----------------------------------------------
DVC=${DVC:-$FORJA_SOURCE/.venv/bin/dvc}
if [[ -x $DVC ]]; then
  # Both start from the project as written, parameters included.
  write_project "$TEST_TMP/fresh-forja"
  git init -q . && forja -q init && forja -q run >/dev/null 2>&1 || fail "forja run of the fresh copy failed"
  write_project "$TEST_TMP/dvc"
  git init -q . && "$DVC" init -q >/dev/null 2>&1 || fail "dvc init failed"
  run "$DVC" repro
  if [[ $RC -eq 0 ]]; then pass; else fail "dvc repro failed:"$'\n'"$OUT"; fi
  for p in "${OUTPUTS[@]}"; do
    # (.gitignore aside: DVC appends entries as stages end, forja sorts them)
    if diff -r -x .gitignore "$TEST_TMP/fresh-forja/$p" "$TEST_TMP/dvc/$p"; then pass; else fail "$p differs between forja run and dvc repro"; fi
  done
  # The same stages ran, in an order both respect (legacy is frozen for both).
  if [[ $(sort "$TEST_TMP/fresh-forja/counter") == $(sort "$TEST_TMP/dvc/counter") ]]; then pass; else
    fail "forja and dvc ran different stages: $(sort "$TEST_TMP/fresh-forja/counter" | tr '\n' ' ') vs $(sort "$TEST_TMP/dvc/counter" | tr '\n' ' ')"
  fi

  # The whole project (foreach, matrix, wdir, frozen) as dvc repro left it, taken over:
  # dvc.lock's wdir-relative paths join forja's reading of dvc.yaml, nothing to run.
  cd "$TEST_TMP/dvc" && git add -A && git commit -qm "dvc repro" && expect_ok forja import dvc
  expect_contains "$OUT" "stage evaluate (dvc.lock) into forja.lock"
  expect_ok forja status --pipeline
  expect_line "$OUT" "evaluate: up to date"
  expect_line "$OUT" "train@linear-1: up to date"
  expect_line "$OUT" "featurize@test: up to date"
  expect_not_contains "$OUT" "changed"

  # dvc repro's dvc.lock, taken over by forja import dvc, matches forja's reading of
  # dvc.yaml: nothing to run, until a param changes.
  mkdir -p "$TEST_TMP/taken" && cd "$TEST_TMP/taken" || exit 1
  git init -q . && "$DVC" init -q >/dev/null 2>&1 || fail "dvc init failed"
  printf 'train:\n  n: 3\n  opts: {a: 1}\nother: 2\n' >params.yaml
  printf 'x: 1\n' >hp.yaml
  printf 'import json; json.dump({"acc": 1}, open("m.json", "w"))\n' >m.py
  cat >dvc.yaml <<'YAML'
stages:
  prep:
    foreach: [a, b]
    do:
      cmd: echo ${item} ${train.n} > out-${item}.txt
      params: [train.n]
      outs: ['out-${item}.txt']
  train:
    cmd:
      - cat out-a.txt out-b.txt > model.txt
      - python3 m.py
    deps: [out-a.txt, out-b.txt, m.py]
    params: [train, {hp.yaml: }]
    outs: [model.txt]
    metrics: [{m.json: {cache: false}}]
YAML
  run "$DVC" repro
  if [[ $RC -eq 0 ]]; then pass; else fail "dvc repro failed:"$'\n'"$OUT"; fi
  git add -A && git commit -qm "dvc repro"
  expect_ok forja import dvc
  expect_ok forja status --pipeline
  expect_line "$OUT" "train: up to date"
  expect_line "$OUT" "prep@b: up to date"
  sed -i 's/x: 1/x: 2/' hp.yaml
  expect_fail 1 forja status --pipeline
  expect_line "$OUT" "prep@a: up to date"
  expect_line "$OUT" "train: changed: param x changed (1 -> 2)"
else
  echo "note: $DVC not found; the comparison with dvc repro is skipped"
fi

finish
