#!/usr/bin/env bash
# forja ci report, as a CI job runs it on a pull request: a git workspace whose
# pipeline writes metrics, a loss curve (plot) and a model package with
# production gates in forja.yaml; version 1 is registered from the base commit's
# run and promoted to production, then the change lowers auc, edits a tracked
# dataset and leaves a stage out of date. The report must show the param and
# metric deltas, the plot SVG written next to the Markdown and linked, the data
# files added/removed/modified, the stage that would run, the gate preview gate
# by gate; --fail-on-gates' exit code, $GITHUB_STEP_SUMMARY appended, --json's
# fields, --post against a local HTTP server standing in for GitHub's and GitLab's
# REST APIs (it checks the exact request), and bad input as one error line. The
# examples of docs/ci.md run here.
source "$(dirname "$0")/../lib/common.sh"
# A CI service running this test sets these; the test sets its own.
unset GITHUB_STEP_SUMMARY GITHUB_TOKEN GITHUB_REPOSITORY GITHUB_REF GITHUB_API_URL GITLAB_TOKEN CI_API_V4_URL \
  CI_PROJECT_ID CI_MERGE_REQUEST_IID

PY=${FORJA_SOURCE}/.venv/bin/python
[[ -x $PY ]] || PY=python3
json_check() {  # json_check PYTHON-EXPR-ON-d "$OUT"
  "$PY" -c "import json,sys; d=json.load(sys.stdin); assert $1, d" <<<"$2" && pass || fail "JSON check '$1' failed on: $2"
}

new_repo ci
cat >>forja.yaml <<'EOF'

tracking:
  experiment: ci-exp

models:
  churn:
    gates:
      production:
        - metrics.auc >= 0.8
        - metrics.auc >= production.metrics.auc
        - params.model.auc != 0.5

stages:
  train:
    cmd: sh train.sh
    deps: [train.sh]
    params: [model]
    outs: [pkg]
    metrics: [{metrics.json: {cache: false}}]
    plots: [{loss.csv: {x: epoch, y: loss, cache: false}}]
  summary:
    cmd: cp metrics.json summary.json
    deps: [metrics.json]
    outs: [summary.json]
EOF
mkdir -p conf
printf 'model:\n  auc: 0.85\n' >conf/config.yaml
cat >train.sh <<'EOF'
auc=$(grep auc "$FORJA_PARAMS" | awk '{print $2}')
sh "$FORJA_SOURCE/tests/lib/test_package.sh" pkg
printf '{"auc": %s}\n' "$auc" >metrics.json
printf 'epoch,loss\n1,0.9\n2,%s\n' "$auc" >loss.csv
EOF
mkdir -p data
echo one >data/a.txt
echo two >data/b.txt
expect_ok forja add data
git add -A && git commit -qm base
expect_ok forja run
RUN1=$(sed -n 's/.*Tracked as run \([0-9a-f]*\).*/\1/p' <<<"$OUT")
expect_eq "${#RUN1}" 32
expect_ok forja models register churn pkg --run "$RUN1"
expect_ok forja models promote churn 1 --to production
git add -A && git commit -qm "base: trained"
BASE=$(git rev-parse HEAD)
git checkout -q -b change && git branch -f main "$BASE"   # the pull request's branch, and its base

# ---- the change: a lower auc, data edited, summary left out of date ----------------
printf 'model:\n  auc: 0.82\n' >conf/config.yaml
expect_ok forja run train
echo ONE >data/a.txt
rm data/b.txt
echo three >data/c.txt
expect_ok forja add data

# ---- the Markdown report (docs/ci.md's first example) -----------------------------
expect_ok forja ci report --base main --md report/report.md
expect_eq "$OUT" "report/report.md"
MD=$(cat report/report.md)
expect_contains "$MD" '| config | model.auc | 0.85 | 0.82 |'  # a group a stage reads, leaf by leaf
expect_contains "$MD" "| metrics.json | auc | 0.85 | 0.82 | -0.03 |"
SVG=$(ls report/*.svg 2>/dev/null | head -1)
[[ -n $SVG && -s $SVG ]] && pass || fail "no plot SVG written next to report/report.md: $(ls report)"
expect_contains "$MD" "]($(basename "$SVG"))"
expect_contains "$(cat "$SVG")" "<svg"
expect_contains "$MD" '`data` modified: 1 added, 1 removed, 1 modified'
expect_contains "$MD" '  - added: `c.txt`'
expect_contains "$MD" '  - removed: `b.txt`'
expect_contains "$MD" '  - modified: `a.txt`'
expect_contains "$MD" '- `summary`'
expect_not_contains "$MD" '- `train`'
expect_contains "$MD" "**churn**: would FAIL against version 1 in production"
expect_contains "$MD" '| `metrics.auc >= 0.8` | pass | 0.82 >= 0.8 |'
expect_contains "$MD" '| `metrics.auc >= production.metrics.auc` | **FAIL** |'

# ---- --fail-on-gates and $GITHUB_STEP_SUMMARY (docs/ci.md's second example) --------
printf 'earlier step\n' >summary.md
GITHUB_STEP_SUMMARY=summary.md expect_fail 1 forja ci report --base main --md report/report.md --fail-on-gates
SUMMARY=$(cat summary.md)
expect_contains "$SUMMARY" "earlier step"
expect_contains "$SUMMARY" "## forja report: workspace vs main"
expect_contains "$SUMMARY" "would FAIL"
# without the flag a failing gate is reported, not an error
expect_ok forja ci report --base "$BASE" --no-plots

# a candidate that passes: auc back above production's
expect_ok forja run train model.auc=0.9
expect_ok forja ci report --base "$BASE" --no-plots --fail-on-gates
expect_contains "$OUT" "**churn**: would pass against version 1 in production"
expect_contains "$OUT" '| `metrics.auc >= production.metrics.auc` | pass | 0.9 >= 0.85 |'
expect_ok forja run train

# ---- --json (docs/ci.md's third example) ------------------------------------------
expect_ok forja ci report --base main --json --plots-dir "$TEST_TMP/plots"
json_check 'd["base_commit"] == "'"$BASE"'"' "$OUT"
json_check '[(m["metric"], m["old"], m["new"]) for m in d["metrics"]] == [("auc", 0.85, 0.82)]' "$OUT"
json_check 'abs(d["metrics"][0]["change"] + 0.03) < 1e-9' "$OUT"
json_check '[(p["param"], p["old"], p["new"]) for p in d["params"]] == [("model.auc", 0.85, 0.82)]' "$OUT"
json_check 'd["data"] == [{"dataset": "data", "status": "modified", "added": ["c.txt"], "removed": ["b.txt"], "modified": ["a.txt"]}]' "$OUT"
json_check '[s["stage"] for s in d["stages"] if s["outcome"] == "would run"] == ["summary"]' "$OUT"
json_check 'd["plots"] and all(p["svg"].startswith("'"$TEST_TMP"'/plots/") for p in d["plots"])' "$OUT"
json_check 'd["gates_pass"] is False and d["gates"][0]["model"] == "churn" and d["gates"][0]["production"] == 1' "$OUT"
json_check '[(g["gate"], g["pass"]) for g in d["gates"][0]["gates"]] == [("metrics.auc >= 0.8", True), ("metrics.auc >= production.metrics.auc", False), ("params.model.auc != 0.5", True)]' "$OUT"

# ---- --post: a local HTTP server stands in for GitHub's and GitLab's REST APIs ---------
# The server (below) checks the exact request --post sends: method, path, the token
# header, the JSON content type and a body {"body": <the Markdown report>}; it answers
# 201 when everything matches and 422 naming what differed otherwise.
cat >"$TEST_TMP/api.py" <<'PYEOF'
import http.server, json, sys
expect = json.load(open(sys.argv[1]))
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        e = json.load(open(sys.argv[1]))
        bad = []
        if self.path != e["path"]: bad.append("path " + self.path)
        for k, v in e["headers"].items():
            if self.headers.get(k) != v: bad.append("header %s=%r" % (k, self.headers.get(k)))
        if self.headers.get("Content-Type") != "application/json": bad.append("content type")
        try:
            got = json.loads(body)
        except ValueError:
            got = None
        if got != {"body": open(e["md"]).read()}: bad.append("body")
        code = e.get("answer", 201) if not bad else 422
        # Logged before the answer: forja exits on the answer, and the test reads the log then.
        with open(e["log"], "a") as f: f.write("%s %s %d\n" % (self.command, self.path, code))
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        out = json.dumps({"id": 1} if code == 201 else {"message": "; ".join(bad) or "Bad credentials"}).encode()
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[2], "w").write(str(s.server_address[1]))
s.serve_forever()
PYEOF
expect_api() {  # expect_api PATH HEADERS-JSON [ANSWER]
  printf '{"path": "%s", "headers": %s, "md": "%s", "log": "%s", "answer": %s}\n' \
    "$1" "$2" "$REPO/report/report.md" "$TEST_TMP/api.log" "${3:-201}" >"$TEST_TMP/expect.json"
}
expect_api /repos/acme/churn/issues/7/comments '{"Authorization": "Bearer gh-secret", "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}'
"$PY" "$TEST_TMP/api.py" "$TEST_TMP/expect.json" "$TEST_TMP/api.port" &
API_PID=$!
at_exit "kill $API_PID"
for _ in $(seq 50); do [[ -s $TEST_TMP/api.port ]] && break; sleep 0.1; done
API="http://127.0.0.1:$(cat "$TEST_TMP/api.port")"
GITHUB_TOKEN=gh-secret GITHUB_REPOSITORY=acme/churn GITHUB_REF=refs/pull/7/merge GITHUB_API_URL=$API \
  expect_ok forja ci report --base main --md report/report.md --post
expect_contains "$OUT" "Commented the report on pull request #7"
expect_eq "$(cat "$TEST_TMP/api.log")" "POST /repos/acme/churn/issues/7/comments 201"
# GitLab: a merge request note with PRIVATE-TOKEN
expect_api /api/v4/projects/42/merge_requests/3/notes '{"PRIVATE-TOKEN": "gl-secret"}'
GITLAB_TOKEN=gl-secret CI_API_V4_URL=$API/api/v4 CI_PROJECT_ID=42 CI_MERGE_REQUEST_IID=3 \
  expect_ok forja ci report --base main --md report/report.md --post
expect_contains "$OUT" "Commented the report on merge request !3"
expect_eq "$(tail -1 "$TEST_TMP/api.log")" "POST /api/v4/projects/42/merge_requests/3/notes 201"
# the API refuses (a bad token): one error line, non-zero
expect_api /repos/acme/churn/issues/8/comments '{"Authorization": "Bearer gh-secret"}' 401
GITHUB_TOKEN=gh-secret GITHUB_REPOSITORY=acme/churn GITHUB_API_URL=$API \
  expect_fail 3 forja ci report --base main --md report/report.md --post --pr 8
expect_one_error_line "$OUT"
expect_contains "$OUT" "answered 401"
# nothing to post to
env -u GITHUB_TOKEN -u GITLAB_TOKEN -u CI_API_V4_URL "$FORJA" ci report --base main --md report/report.md --post >"$TEST_TMP/out" 2>&1
expect_eq "$?" 2
expect_contains "$(cat "$TEST_TMP/out")" "--post on GitHub needs GITHUB_TOKEN"

# ---- no production version: the report says so -------------------------------------
expect_ok forja ci report --base "$BASE" --no-plots --store "sqlite:///$TEST_TMP/empty.db"
expect_contains "$OUT" "'churn' is not registered"

# ---- bad input: one line, non-zero -----------------------------------------------------
expect_fail 1 forja ci report --base no-such-rev
expect_one_error_line "$OUT"
expect_contains "$OUT" "unknown revision 'no-such-rev'"
expect_fail 2 forja ci report --bogus
expect_ok forja ci report --help
expect_contains "$OUT" "--fail-on-gates"
expect_contains "$OUT" "GITHUB_STEP_SUMMARY"

finish
