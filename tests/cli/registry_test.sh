#!/usr/bin/env bash
# forja models / runs / exp list / server token, as a user types them: a pipeline
# whose runs are tracked, a package registered from a run, gates in forja.yaml,
# promotion, history, download (also from a second workspace through a folder
# remote and through forja server), gc keeping registered packages, and every
# bad input as one error line.
source "$(dirname "$0")/../lib/common.sh"

new_repo reg
cat >>forja.yaml <<'EOF'

tracking:
  experiment: churn-exp

models:
  churn:
    gates:
      production:
        - metrics.auc >= 0.8
        - metrics.auc >= production.metrics.auc
    protected: ['@champion']

stages:
  train:
    cmd: sh train.sh
    deps: [train.sh]
    params: [model]
    outs: [pkg]
    metrics: [{metrics.json: {cache: false}}]
EOF
mkdir -p conf
printf 'model:\n  auc: 0.85\n' >conf/config.yaml
cat >train.sh <<'EOF'
auc=$(grep auc "$FORJA_PARAMS" | awk '{print $2}')
sh "$FORJA_SOURCE/tests/lib/test_package.sh" pkg
echo "auc $auc" >pkg/info.txt
printf '{"auc": %s}\n' "$auc" >metrics.json
EOF
git add -A && git commit -qm init

# ---- runs are tracked --------------------------------------------------------------
expect_ok forja run
expect_contains "$OUT" "Tracked as run "
RUN1=$(sed -n 's/.*Tracked as run \([0-9a-f]*\).*/\1/p' <<<"$OUT")
expect_eq "${#RUN1}" 32
expect_ok forja run model.auc=0.75
RUN2=$(sed -n 's/.*Tracked as run \([0-9a-f]*\).*/\1/p' <<<"$OUT")
expect_ok forja run model.auc=0.75
expect_not_contains "$OUT" "Tracked as run"   # nothing changed: nothing recorded
expect_ok forja run --no-track model.auc=0.95
expect_not_contains "$OUT" "Tracked as run"
expect_ok forja run                            # back to 0.85: restored from the run cache, and recorded
expect_contains "$OUT" "Restored stage 'train'"
RUNR=$(sed -n 's/.*Tracked as run \([0-9a-f]*\).*/\1/p' <<<"$OUT")
expect_ok forja run model.auc=0.95
RUN3=$(sed -n 's/.*Tracked as run \([0-9a-f]*\).*/\1/p' <<<"$OUT")
expect_eq "${#RUN3}" 32
expect_ok forja exp list
expect_contains "$OUT" "churn-exp"
expect_ok forja runs list
expect_contains "$OUT" "$RUN1"
expect_contains "$OUT" "auc"
expect_ok forja runs list --filter "metrics.auc > 0.8" --order-by "metrics.auc DESC" --json
expect_eq "$(python3 -c 'import json,sys; print(",".join(r["info"]["run_id"] for r in json.load(sys.stdin)["runs"]))' <<<"$OUT")" "$RUN3,$RUNR,$RUN1"
expect_ok forja runs show "$RUN2"
expect_contains "$OUT" "model.auc  0.75"
expect_contains "$OUT" "output     pkg"
expect_contains "$OUT" "input      train.sh"
expect_ok forja runs show "$RUN2" --json
expect_contains "$OUT" '"outputs"'
expect_ok forja runs compare "$RUN1" "$RUN2"
expect_contains "$OUT" "params.model.auc"
expect_contains "$OUT" "0.75"
expect_fail 1 forja runs show 0123456789abcdef0123456789abcdef
expect_one_error_line "$OUT"
expect_contains "$OUT" "not found"
expect_fail 1 forja runs list --filter "metrics.auc >"
expect_contains "$OUT" "at character 14"
expect_fail 1 forja runs list -e nope
expect_contains "$OUT" "no experiment named or numbered 'nope'"

# ---- register from runs --------------------------------------------------------------
forja run -q model.auc=0.85
expect_ok forja models register churn pkg --run "$RUN1"
expect_eq "$(tail -1 <<<"$OUT")" "churn/1"
forja run -q model.auc=0.75
expect_ok forja models register churn --path pkg --run "$RUN2" --description weak --tag team=ml
expect_eq "$(tail -1 <<<"$OUT")" "churn/2"
forja run -q model.auc=0.95
expect_ok forja models register churn pkg --run "$RUN3"
expect_ok forja runs show "$RUN1"
expect_contains "$OUT" "model"   # the package is now an output of the run
expect_ok forja models list
expect_contains "$OUT" "churn"
expect_contains "$OUT" "v3"
expect_ok forja models versions churn --json
expect_eq "$(python3 -c 'import json,sys; print([v["version"] for v in json.load(sys.stdin)["model_versions"]])' <<<"$OUT")" "['3', '2', '1']"

# ---- promotion through the gates ---------------------------------------------------------
expect_ok forja models promote churn 1 --to production --comment first
expect_contains "$OUT" "churn version 1 is now in Production"
expect_fail 1 forja models promote churn 2 --to production
expect_one_error_line "$OUT"
expect_contains "$OUT" "gate failed: metrics.auc >= 0.8 (0.75 >= 0.8); metrics.auc >= production.metrics.auc (0.75 >= 0.85)"
expect_ok forja models promote churn 3 --to production --archive-existing
expect_ok forja models show churn
expect_contains "$OUT" "production v3"
expect_ok forja models promote churn 2 --to production --force --comment "incident rollback test"
expect_contains "$OUT" "(gates overridden with --force)"
expect_ok forja models promote churn 3 --to @champion
expect_ok forja models promote churn 3 --to staging
expect_fail 1 forja models promote churn 3 --to prod
expect_contains "$OUT" "'prod' is not a stage"
expect_fail 1 forja models promote churn 9 --to staging
expect_contains "$OUT" "not found"
expect_ok forja models history churn
expect_contains "$OUT" "None -> Production"
expect_contains "$OUT" "@champion set"
expect_contains "$OUT" "2 of 2 failed, forced"
expect_contains "$OUT" "incident rollback test"
expect_ok forja models history churn --version 2 --json
expect_contains "$OUT" '"forced": true'

# ---- download -----------------------------------------------------------------------------------
expect_ok forja models download churn@champion "$TEST_TMP/dl"
expect_eq "$(cat "$TEST_TMP/dl/info.txt")" "auc 0.95"
expect_ok forja models download churn/2 "$TEST_TMP/dl2"
expect_eq "$(cat "$TEST_TMP/dl2/info.txt")" "auc 0.75"
expect_fail 1 forja models download churn@champion "$TEST_TMP/dl"
expect_contains "$OUT" "is not empty"
expect_fail 1 forja models download churn "$TEST_TMP/x"
expect_contains "$OUT" "invalid model reference"

# ---- bad packages: one line, file:line and field ------------------------------------------
mkdir -p bad && printf '{}' >bad/model.json
printf 'format: 1\nflavor: xgboost\nmodel: model.json\nsignature:\n  inputs:\n    - {name: x, datatype: complex, shape: [-1]}\n' >bad/model.yaml
expect_fail 1 forja models register churn bad
expect_one_error_line "$OUT"
expect_contains "$OUT" "bad/model.yaml:6: signature.inputs[0].datatype: 'complex' is not a datatype"
rm bad/model.yaml
expect_fail 1 forja models register churn bad
expect_contains "$OUT" "has no model.yaml"
expect_fail 2 forja models register churn
expect_contains "$OUT" "name the package folder"
expect_fail 1 forja models register churn pkg --run ffffffffffffffffffffffffffffffff
expect_contains "$OUT" "not found"
printf 'models:\n  churn:\n    gates:\n      production: [metrics.auc >>= 1]\n' >>forja.yaml
expect_fail 1 forja models promote churn 1 --to staging
expect_one_error_line "$OUT"
expect_contains "$OUT" "forja.yaml"
git checkout -q forja.yaml

# ---- gc keeps registered packages ------------------------------------------------------------------
rm -rf pkg && git rm -q --cached -r pkg 2>/dev/null
expect_ok forja gc --force
expect_ok forja models download churn/1 "$TEST_TMP/after-gc"
expect_eq "$(cat "$TEST_TMP/after-gc/info.txt")" "auc 0.85"

# ---- a second workspace reads the store and fetches packages from the remote ----------------------------
forja -q remote add store "$TEST_TMP/remote"
forja run -q model.auc=0.99
expect_ok forja models register churn pkg
expect_contains "$OUT" "package pushed to remote 'store'"
STORE="sqlite:///$REPO/.forja/forja.db"
REPO1=$REPO
new_repo other
forja -q remote add store "$TEST_TMP/remote"
expect_ok forja models download --store "$STORE" churn/4 "$TEST_TMP/other-dl"
expect_eq "$(cat "$TEST_TMP/other-dl/info.txt")" "auc 0.99"

# ---- tokens -----------------------------------------------------------------------------------------------
expect_ok forja server token create --store "$STORE" --name ci --role read
TOKEN=$(tail -1 <<<"$OUT")
expect_eq "${TOKEN:0:6}" "forja_"
expect_ok forja server token list --store "$STORE"
expect_contains "$OUT" "ci    read"
expect_fail 1 forja server token create --store "$STORE" --name ci
expect_contains "$OUT" "exists already"
expect_fail 2 forja server token create --store "$STORE" --name x --role god
expect_ok forja server token revoke --store "$STORE" ci
expect_ok forja server token list --store "$STORE" --json
expect_contains "$OUT" '"revoked": true'

# ---- the same commands against forja server --------------------------------------------------------------
cd "$REPO1"
# The store has had a token, so --auth auto would require one even though it is revoked: open it explicitly.
# "$FORJA", not the forja() function: $! must be the server itself, or kill leaves it running.
"$FORJA" server --port 0 --store "$STORE" --auth off >"$TEST_TMP/server.log" 2>&1 &
SERVER=$!
at_exit "kill $SERVER 2>/dev/null"
for _ in $(seq 100); do grep -q 'http://' "$TEST_TMP/server.log" && break; sleep 0.05; done
URL=$(grep -o 'http://[0-9.:]*' "$TEST_TMP/server.log" | head -1)
cd "$TEST_TMP/other"
expect_ok forja models list --store "$URL"
expect_contains "$OUT" "churn"
expect_ok forja runs list --store "$URL" -e churn-exp
expect_contains "$OUT" "$RUN1"
mkdir -p "$TEST_TMP/pkg2" && cp "$TEST_TMP/other-dl/"* "$TEST_TMP/pkg2/" && echo "via server" >"$TEST_TMP/pkg2/info.txt"
expect_ok forja models register --store "$URL" churn "$TEST_TMP/pkg2"
expect_eq "$(tail -1 <<<"$OUT")" "churn/5"
expect_fail 1 forja models promote --store "$URL" churn 5 --to production
expect_contains "$OUT" "gate failed"   # the server's workspace policy applies
expect_ok forja models promote --store "$URL" churn 5 --to @latest-ok
HOME=$TEST_TMP/home expect_ok forja models download --store "$URL" churn/5 "$TEST_TMP/via-server"
expect_eq "$(cat "$TEST_TMP/via-server/info.txt")" "via server"
expect_fail 3 forja models list --store http://127.0.0.1:1
expect_contains "$OUT" "cannot reach the forja server"
kill $SERVER
wait $SERVER 2>/dev/null

# ---- help is complete ---------------------------------------------------------------------------------------
for cmd in "models" "models register" "models promote" "models download" "runs list" "runs show" "runs compare" \
           "exp list" "server" "server token create"; do
  # shellcheck disable=SC2086
  expect_ok forja $cmd --help
  expect_contains "$OUT" "Exit codes"
done
finish
