#!/usr/bin/env bash
# Experiments: a sweep of 4 run 2 at a time in isolated worktrees, compared in
# a table, applied to the workspace, removed; the user's files never touched.
source "$(dirname "$0")/../lib/common.sh"

new_repo
export COUNTER=$TEST_TMP/counter.txt  # stages run in worktrees elsewhere; they all count here
mkdir -p conf data
printf 'train:\n  lr: 0.1\n  depth: 2\n' >conf/config.yaml
printf '1\n2\n3\n' >data/raw.txt
expect_ok forja add data/raw.txt
cat >>forja.yaml <<'YAML'
stages:
  prepare:
    cmd: sh -c 'sort -r data/raw.txt > prepared.txt; echo prepare >> "$COUNTER"'
    deps: [data/raw.txt]
    outs: [prepared.txt]
  train:
    cmd: python3 -c "import json; json.dump({'score':${train.lr}*${train.depth}}, open('metrics.json','w')); open('model.txt','w').write('lr=${train.lr} depth=${train.depth}')"
    deps: [prepared.txt]
    params: [train]
    outs: [model.txt]
    metrics: [{metrics.json: {cache: false}}]
YAML
# Experiments start from a commit.
expect_fail 1 forja exp run
expect_contains "$OUT" "commit"
expect_one_error_line "$OUT"
expect_ok forja run
git add -A . && git commit -qm base
before=$(cat model.txt)
rm -f "$COUNTER"

# An uncommitted change to the code is part of every experiment.
sed -i 's/sort -r/sort -n/' forja.yaml
expect_ok forja exp run -m train.lr=0.1,0.2 train.depth=3,4 -j 2
expect_contains "$OUT" "4 of 4 experiments succeeded"
expect_contains "$OUT" "[exp-"
# prepare ran (its command changed), then came from the shared run cache: at most
# the two experiments started together both run it (nothing claims a stage across
# experiments yet); the two started after them restore it.
prepared=$(grep -c prepare "$COUNTER")
if ((prepared >= 1 && prepared <= 2)); then pass; else fail "prepare ran $prepared times in 4 experiments, -j 2"; fi
# The workspace is untouched.
expect_eq "$(cat model.txt)" "$before"
expect_eq "$(git status --porcelain | grep -v forja.yaml)" ""
expect_eq "$(git worktree list | wc -l)" "1"

run forja exp show --json
expect_eq "$RC" "0"
ids=$(python3 -c '
import json, sys
exps = json.loads(sys.argv[1])
assert len(exps) == 4, exps
for e in exps:
    assert e["ok"] and e["commit"] and e["outs"]["model.txt"].startswith("sha256:"), e
    assert e["deps"]["data/raw.txt"].startswith("sha256:"), e
    m = e["metrics"]["metrics.json"]["score"]
    assert abs(m - e["params"]["train.lr"] * e["params"]["train.depth"]) < 1e-9, e
best = max(exps, key=lambda e: e["metrics"]["metrics.json"]["score"])
print(best["id"], best["params"]["train.lr"], best["params"]["train.depth"])
' "$OUT")
expect_eq "$?" "0"
read -r best best_lr best_depth <<<"$ids"
expect_eq "$best_lr $best_depth" "0.2 4"

run forja exp show --sort-by score
expect_eq "$RC" "0"
expect_eq "$(sed -n 3p <<<"$OUT" | awk '{print $1}')" "$best"
expect_contains "$(head -1 <<<"$OUT")" "train.depth"
run forja exp show --sort-by score --asc --md
expect_contains "$OUT" "| Experiment"
expect_fail 1 forja exp show --sort-by nope
expect_one_error_line "$OUT"

# Apply the best: its outputs and lock come into the workspace.
expect_ok forja exp apply "${best#exp-}"
expect_eq "$(cat model.txt)" "lr=0.2 depth=4"
expect_contains "$(cat metrics.json)" "0.8"
run forja status --pipeline
expect_contains "$OUT" "train.lr changed (0.2 -> 0.1)"
expect_ok forja run train.lr=0.2 train.depth=4
expect_not_contains "$OUT" "Running stage 'train'"

expect_fail 1 forja exp apply exp-nothere
expect_contains "$OUT" "no experiment"
expect_one_error_line "$OUT"
expect_ok forja exp remove "$best"
run forja exp show --json
expect_eq "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <<<"$OUT")" "3"
expect_ok forja exp remove --all
expect_eq "$(ls .forja/exps | wc -l)" "0"

# A failing experiment is recorded as failed, and exp run exits 1.
expect_fail 1 forja exp run train.lr=oops
expect_contains "$OUT" "failed"
run forja exp show --json
expect_contains "$OUT" '"ok": false'
finish
