#!/usr/bin/env bash
# forja.yaml is read by one reader with one list of sections (issue 11, finding 19):
# every forja.yaml example the README shows loads through every command that reads
# its section, and forja serve / forja predict report a broken forja.yaml instead of
# behaving as if they ran outside a workspace.
source "$(dirname "$0")/../lib/common.sh"

readme=$FORJA_SOURCE/README.md

# A workspace whose forja.yaml is init's template plus $1, with what the README's
# stage example refers to (a config with data.seed and train.lr, params.yaml, other.json,
# its scripts and its raw data).
workspace_with() {
  local dir=$TEST_TMP/ws$((++_ws))
  mkdir -p "$dir/conf" && cd "$dir" || exit 1
  forja -q init --no-scm || exit 1
  printf '%s\n' "$1" >>forja.yaml
  printf 'data: {seed: 1}\ntrain: {lr: 0.1}\n' >conf/config.yaml
  printf 'lr: 0.1\n' >params.yaml
  printf '{"a": {"b": 1}}\n' >other.json
  mkdir -p src data/raw && touch src/prepare.py src/train.py data/raw/x
}
_ws=0

# The ```yaml blocks of the README that are forja.yaml examples (a model.yaml shows flavor:).
blocks=()
block=""
inside=0
while IFS= read -r line; do
  if [[ $inside -eq 0 && $line == '```yaml' ]]; then
    inside=1
    block=""
  elif [[ $inside -eq 1 && $line == '```' ]]; then
    inside=0
    grep -q '^flavor:' <<<"$block" || blocks+=("$block")
  elif [[ $inside -eq 1 ]]; then
    block+="$line"$'\n'
  fi
done <"$readme"
if [[ ${#blocks[@]} -lt 3 ]]; then
  fail "expected the README's stages, models and serving examples, found ${#blocks[@]} forja.yaml blocks"
fi

# --- every README example loads through each reader ---
for b in "${blocks[@]}"; do
  sections=$(grep -o '^[a-z_]*:' <<<"$b" | tr '\n' ' ')
  workspace_with "$b"
  # The workspace reader (every data command opens it this way).
  run forja status
  if [[ $RC -eq 0 ]]; then pass; else fail "README example [$sections] breaks forja status:"$'\n'"$OUT"; fi
  # The pipeline's reader (stages, params, config).
  run forja dag
  if [[ $RC -eq 0 ]]; then pass; else fail "README example [$sections] breaks forja dag:"$'\n'"$OUT"; fi
  # The model server's reader (serving): the error is about the missing model, not forja.yaml.
  run forja serve nosuch/1 --store "sqlite:///$TEST_TMP/none-$_ws.db"
  expect_not_contains "$OUT" "forja.yaml"
  # The registry's reader (models: gates and protected targets).
  run forja models promote cancer 1 --to Production
  expect_not_contains "$OUT" "forja.yaml"
  expect_contains "$OUT" "not found"
done

# --- serving: is the section; serve: is not, and says so ---
workspace_with $'serving:\n  max_batch_size: 8\n  prediction_log: {sample: 0.5}'
expect_ok forja status
workspace_with $'serve:\n  max_batch_size: 8'
expect_fail 1 forja status
expect_contains "$OUT" "forja.yaml:"
expect_contains "$OUT" "serve: unknown section"
expect_contains "$OUT" "serving"
expect_one_error_line "$OUT"

# --- forja serve and forja predict report a broken forja.yaml ---
# Before: they swallowed the error and ran as if outside a workspace.
workspace_with $'serving:\n  max_batch: 8'
expect_fail 1 forja serve nosuch/1
expect_contains "$OUT" "forja.yaml:"
expect_contains "$OUT" "serving.max_batch: unknown setting"
expect_one_error_line "$OUT"
workspace_with $'monitorng:\n  x: 1'
expect_fail 1 forja predict nosuch/1 -i in.csv -o out.csv
expect_contains "$OUT" "monitorng: unknown section"
expect_fail 1 forja serve nosuch/1
expect_contains "$OUT" "monitorng: unknown section"
# monitoring: is a section forja serve reads; a setting it does not know is named with its line.
workspace_with $'monitoring:\n  x: 1'
expect_fail 1 forja serve nosuch/1
expect_contains "$OUT" "forja.yaml:"
expect_contains "$OUT" "monitoring.x: unknown setting"
expect_one_error_line "$OUT"
# Outside any workspace both still work as before (no forja.yaml error).
mkdir -p "$TEST_TMP/outside" && cd "$TEST_TMP/outside" || exit 1
run forja predict nosuch/1 -i in.csv -o out.csv
expect_not_contains "$OUT" "forja.yaml:"

# --- the same sections everywhere: a section known to one reader is known to all ---
workspace_with $'tracking:\n  experiment: e1\nmodels: {}\nserving: {}\nparams: {}\nconfig: {root: conf}'
expect_ok forja status
expect_ok forja dag
run forja serve nosuch/1 --store "sqlite:///$TEST_TMP/none.db"
expect_not_contains "$OUT" "forja.yaml"
expect_ok forja config show

finish
