#!/usr/bin/env bash
# forja ci init github|gitlab: the workflow files it writes for a demo-like workspace
# (a forja remote, a tracked dataset, a pipeline that writes a model package, production
# and staging gates, a trigger that registers the model) must
#   - pass actionlint and check-jsonschema's vendored GitHub workflow / GitLab CI schemas
#     (and a deliberately broken copy must fail both, so the check is not vacuous);
#   - be refused over existing files without --force (one line), rewritten with it;
#   - work when EXECUTED as the CI service would: each job's steps (GitHub: `run:` steps,
#     one bash each, with GITHUB_ENV / GITHUB_PATH carried between steps; GitLab:
#     before_script + script in one bash) run in order in a scratch clone of a bare
#     `origin`, with the environment the service sets (GITHUB_*, CI_*), the forja binary of
#     this build on PATH, secrets and variables from the test. Steps that need the real
#     service are replaced by their local equivalent: actions/checkout -> the test's
#     `git clone` of origin (all history, the PR branch checked out); actions/cache -> no-op;
#     actions/setup-python -> a venv the test made, on PATH; actions/upload-artifact -> the
#     path must exist. The rules: of a GitLab job are evaluated (== and && only).
# The comment --post sends goes to a local HTTP server standing in for GitHub's and
# GitLab's REST APIs. The release jobs register and promote to staging through the gates,
# in a SQLite store that stands in for the shared tracking server; then to production:
# GitHub's without FORJA_SERVE_URLS (through the gates alone), GitLab's with it set to a
# real `forja serve` replica under client traffic (a real forja rollout that completes).
# The install step runs three ways: forja on PATH; forja only in the CI cache (put on
# PATH through GITHUB_PATH); neither, with FORJA_SOURCE_URL unset (the step fails saying
# what to set). The build from source itself is not run (a full build). docs/ci.md's
# `forja ci init` examples run here.
source "$(dirname "$0")/../lib/common.sh"
unset GITHUB_STEP_SUMMARY GITHUB_TOKEN GITHUB_REPOSITORY GITHUB_REF GITHUB_API_URL GITHUB_BASE_REF GITHUB_ENV \
  GITHUB_PATH GITLAB_TOKEN CI_API_V4_URL CI_PROJECT_ID CI_MERGE_REQUEST_IID FORJA_TRACKING_URI FORJA_SERVE_URLS

VENV=$FORJA_SOURCE/.venv
PY=$VENV/bin/python
for tool in python actionlint check-jsonschema; do
  [[ -x $VENV/bin/$tool ]] || { echo "FAIL: $VENV/bin/$tool is missing: run scripts/setup" >&2; exit 1; }
done
# actionlint checks the run: scripts with shellcheck when it finds one; the test insists
command -v shellcheck >/dev/null || { echo "FAIL: shellcheck is missing: run scripts/setup" >&2; exit 1; }
"$PY" -c 'import yaml' || { echo "FAIL: PyYAML is missing from $VENV: run scripts/setup" >&2; exit 1; }

STORE_DB=$TEST_TMP/registry.db      # stands in for the shared tracking server (FORJA_TRACKING_URI)
DATA_REMOTE=$TEST_TMP/forja-remote  # the forja remote every clone pulls from and pushes to
ORIGIN=$TEST_TMP/origin.git         # the git service's repository
git init -q --bare "$ORIGIN"
git -C "$ORIGIN" symbolic-ref HEAD refs/heads/main

# ---- a demo-like workspace, pushed to origin ------------------------------------------
new_repo dev
git remote add origin "$ORIGIN"
expect_ok forja remote add store "$DATA_REMOTE"
cat >>forja.yaml <<'EOF'

models:
  churn:
    gates:
      staging:
        - metrics.auc >= 0.7
      production:
        - metrics.auc >= 0.8
        - metrics.auc >= production.metrics.auc

triggers:
  nightly:
    cron: "0 3 * * *"
    register: {model: churn, path: pkg}
    promote: {to: staging}

stages:
  train:
    cmd: sh train.sh
    deps: [train.sh, data/train.csv]
    params: [model]
    outs: [pkg]
    metrics: [{metrics.json: {cache: false}}]
EOF
mkdir -p conf data
printf 'model:\n  auc: 0.85\n' >conf/config.yaml
cat >train.sh <<'EOF'
auc=$(grep auc "$FORJA_PARAMS" | awk '{print $2}')
sh "$FORJA_SOURCE/tests/lib/python_package.sh" pkg 0
printf '{"auc": %s}\n' "$auc" >metrics.json
EOF
printf 'x,y\n1,0\n2,1\n' >data/train.csv
printf '# the project has no Python dependency yet\n' >requirements.txt
expect_ok forja add data/train.csv
expect_ok forja push

# ---- forja ci init github / gitlab (docs/ci.md's examples) -----------------------------
expect_ok forja ci init github
expect_contains "$OUT" $'.github/workflows/forja-pr.yml\n.github/workflows/forja-main.yml'
expect_contains "$OUT" "models released: churn (pkg)"
expect_contains "$OUT" "remote: store"
expect_contains "$OUT" "Python requirements: requirements.txt"
PRY=.github/workflows/forja-pr.yml
MAINY=.github/workflows/forja-main.yml
expect_contains "$(cat $PRY)" 'forja pull -r store'
expect_contains "$(cat $PRY)" 'forja ci report --base "origin/$GITHUB_BASE_REF" --md forja-report/report.md --fail-on-gates --post'
expect_contains "$(cat $MAINY)" 'forja -q models register churn pkg --run "$FORJA_RUN_ID"'
expect_contains "$(cat $MAINY)" 'forja rollout churn --to "$version" --steps "$FORJA_ROLLOUT_STEPS"'
expect_contains "$(cat $MAINY)" 'FORJA_ROLLOUT_STEPS: "5,25,50,100"'

expect_ok forja ci init gitlab --default-branch trunk --model churn=models/churn --rollout-interval 5m
expect_contains "$(cat .gitlab-ci.yml)" "\$CI_COMMIT_BRANCH == \"trunk\""
expect_contains "$(cat .gitlab-ci.yml)" "models register churn models/churn"
expect_contains "$(cat .gitlab-ci.yml)" 'FORJA_ROLLOUT_INTERVAL: "5m"'

# ---- refused without --force; rewritten with it ----------------------------------------
cp .gitlab-ci.yml "$TEST_TMP/gitlab-before.yml"
expect_fail 1 forja ci init gitlab
expect_one_error_line "$OUT"
expect_eq "$OUT" "forja: error: .gitlab-ci.yml exists: pass --force to overwrite it (forja ci init gitlab --force)"
cmp -s .gitlab-ci.yml "$TEST_TMP/gitlab-before.yml" && pass || fail ".gitlab-ci.yml changed although init was refused"
echo "# mine" >>$PRY
expect_fail 1 forja ci init github
expect_contains "$(tail -1 $PRY)" "# mine"
expect_ok forja ci init gitlab --force
expect_contains "$(cat .gitlab-ci.yml)" "\$CI_COMMIT_BRANCH == \"main\""
expect_ok forja ci init github --force
expect_not_contains "$(cat $PRY)" "# mine"
ls .github/workflows/.*tmp* .gitlab-ci.yml.* 2>/dev/null && fail "a temporary file was left behind" || pass

# ---- bad input: one line each --------------------------------------------------------
expect_fail 2 forja ci init bitbucket
expect_fail 2 forja ci init github --force --model 'churn'
expect_contains "$OUT" "--model 'churn': NAME=PATH"
expect_fail 2 forja ci init github --force --default-branch 'main;rm'
expect_one_error_line "$OUT"
expect_fail 1 forja ci init github --force --python-requirements nothere.txt
expect_eq "$OUT" "forja: error: --python-requirements nothere.txt: no such file in the workspace"
expect_fail 1 forja ci init github --force --remote nope
expect_eq "$OUT" "forja: error: --remote nope: forja.yaml has no such remote"
mkdir -p "$TEST_TMP/not-a-workspace" && cd "$TEST_TMP/not-a-workspace"
expect_fail 1 forja ci init github
expect_one_error_line "$OUT"
expect_contains "$OUT" "not inside a forja repository"
cd "$REPO"
expect_ok forja ci init --help
expect_contains "$OUT" "--forja-install CMD"
expect_contains "$OUT" "FORJA_SERVE_URLS"

# ---- the linters pass on what init wrote, and fail on a broken copy ----------------------
lint_ok() { run "$@"; [[ $RC -eq 0 ]] && pass || fail "linter failed: $*"$'\n'"$OUT"; }
lint_fails() { run "$@"; [[ $RC -ne 0 ]] && pass || fail "linter accepted a broken file: $*"$'\n'"$OUT"; }
lint_ok "$VENV/bin/actionlint" -no-color -shellcheck "$(command -v shellcheck)" $PRY $MAINY
lint_ok "$VENV/bin/check-jsonschema" --builtin-schema vendor.github-workflows $PRY $MAINY
lint_ok "$VENV/bin/check-jsonschema" --builtin-schema vendor.gitlab-ci .gitlab-ci.yml
BROKEN=$TEST_TMP/broken
mkdir -p "$BROKEN/.github/workflows"
sed 's/^    runs-on:/    runs-onn:/' $PRY >"$BROKEN/.github/workflows/forja-pr.yml"
lint_fails "$VENV/bin/actionlint" -no-color "$BROKEN/.github/workflows/forja-pr.yml"
expect_contains "$OUT" "runs-onn"
lint_fails "$VENV/bin/check-jsonschema" --builtin-schema vendor.github-workflows "$BROKEN/.github/workflows/forja-pr.yml"
# ... and a run: script that shellcheck objects to (the base unquoted) fails actionlint too
sed 's|--base "origin/$GITHUB_BASE_REF"|--base origin/$GITHUB_BASE_REF|' $PRY >"$BROKEN/.github/workflows/unquoted.yml"
lint_fails "$VENV/bin/actionlint" -no-color -shellcheck "$(command -v shellcheck)" "$BROKEN/.github/workflows/unquoted.yml"
expect_contains "$OUT" "SC2086"
sed 's/^  script:/  scirpt:/' .gitlab-ci.yml >"$BROKEN/gitlab-ci.yml"
lint_fails "$VENV/bin/check-jsonschema" --builtin-schema vendor.gitlab-ci "$BROKEN/gitlab-ci.yml"

git add -A && git commit -qm "churn: the pipeline, and CI from forja ci init" && git push -q origin main

# ---- the executor: runs a job's steps as the CI service would ----------------------------
cat >"$TEST_TMP/ci_exec.py" <<'PYEOF'
# ci_exec.py github|gitlab FILE JOB CONTEXT.json: runs JOB of the workflow FILE in the
# current folder (a clone) with os.environ as the service's environment. CONTEXT.json
# holds {"secrets": {...}, "vars": {...}, "python_bin": DIR}. Exit 0 when the job
# succeeded, 1 when it failed, 3 when the file asks for what this stand-in cannot do.
import json, os, re, subprocess, sys, tempfile, yaml

kind, path, job_name, ctx_path = sys.argv[1:5]
ctx = json.load(open(ctx_path))
doc = yaml.safe_load(open(path))

def die(msg):
    print("ci_exec: " + msg, flush=True)
    sys.exit(3)

def expr(text, env):
    # ${{ secrets.X }}, ${{ vars.X }}, ${{ env.X }}, ${{ runner.os }}: what the files use.
    def sub(m):
        e = m.group(1).strip()
        if re.fullmatch(r"secrets\.\w+", e): return ctx["secrets"].get(e[8:], "")
        if re.fullmatch(r"vars\.\w+", e): return ctx["vars"].get(e[5:], "")
        if re.fullmatch(r"env\.\w+", e): return env.get(e[4:], "")
        if e == "runner.os": return "Linux"
        die("unsupported expression ${{ %s }}" % e)
    return re.sub(r"\$\{\{(.*?)\}\}", sub, str(text))

def run_bash(script, env, argv):
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
        f.write(script)
    print("ci_exec: $ " + script.strip().splitlines()[0] + (" ..." if script.strip().count("\n") else ""), flush=True)
    return subprocess.call(argv + [f.name], env=env)

def github():
    job = doc["jobs"][job_name]
    env = dict(os.environ)
    for scope in (doc.get("env") or {}, job.get("env") or {}):
        for k, v in scope.items(): env[k] = expr(v, env)
    failed = False
    for step in job["steps"]:
        cond = step.get("if")
        if cond not in (None, "always()"): die("unsupported if: " + str(cond))
        if failed and cond != "always()": continue
        if "uses" in step:
            action = step["uses"].split("@")[0]
            with_ = {k: expr(v, env) for k, v in (step.get("with") or {}).items()}
            if action == "actions/checkout":
                print("ci_exec: actions/checkout: the test cloned origin (all history)", flush=True)
            elif action == "actions/cache":
                print("ci_exec: actions/cache: nothing cached here", flush=True)
            elif action == "actions/setup-python":
                env["PATH"] = ctx["python_bin"] + ":" + env["PATH"]
                print("ci_exec: actions/setup-python: the test's venv on PATH", flush=True)
            elif action == "actions/upload-artifact":
                if not os.path.exists(with_["path"]):
                    print("ci_exec: upload-artifact: no " + with_["path"], flush=True); failed = True
                else:
                    print("ci_exec: upload-artifact: " + with_["path"] + " exists", flush=True)
            else:
                die("no local equivalent for " + step["uses"])
            continue
        step_env = dict(env)
        for k, v in (step.get("env") or {}).items(): step_env[k] = expr(v, env)
        d = tempfile.mkdtemp()
        step_env["GITHUB_ENV"], step_env["GITHUB_PATH"] = d + "/env", d + "/path"
        open(d + "/env", "w").close(); open(d + "/path", "w").close()
        script = expr(step["run"], env)  # the files keep expressions out of run:, so this changes nothing
        rc = run_bash(script, step_env, ["bash", "--noprofile", "--norc", "-eo", "pipefail"])
        for line in open(d + "/env").read().splitlines():
            if "=" in line: k, v = line.split("=", 1); env[k] = v
        for line in open(d + "/path").read().splitlines():
            if line: env["PATH"] = line + ":" + env["PATH"]
        if rc != 0:
            print("ci_exec: step %r failed (exit %d)" % (step.get("name"), rc), flush=True)
            failed = True
    return 1 if failed else 0

def gitlab_rule(cond, env):
    for part in cond.split("&&"):
        m = re.fullmatch(r'\s*\$(\w+)\s*==\s*(?:"([^"]*)"|\$(\w+))\s*', part)
        if not m: die("unsupported rule: " + cond)
        want = m.group(2) if m.group(2) is not None else env.get(m.group(3), "")
        if env.get(m.group(1), "") != want: return False
    return True

def gitlab():
    job = dict(doc[job_name])
    if "extends" in job:
        base = dict(doc[job["extends"]]); base.update(job); job = base
    env = dict(os.environ)
    for scope in (doc.get("variables") or {}, job.get("variables") or {}):
        for k, v in scope.items(): env[k] = os.path.expandvars(str(v)) if "$" in str(v) else str(v)
    rules = job.get("rules") or []
    if rules and not any(gitlab_rule(r["if"], env) for r in rules):
        print("ci_exec: job %s is not in this pipeline (rules)" % job_name, flush=True)
        return 0
    script = "\n".join(job.get("before_script", []) + job["script"]) + "\n"
    rc = run_bash(script, env, ["bash", "--noprofile", "--norc", "-eo", "pipefail"])
    for p in (job.get("artifacts") or {}).get("paths", []):
        print("ci_exec: artifact %s %s" % (p, "exists" if os.path.exists(p) else "missing"), flush=True)
    return 1 if rc != 0 else 0

sys.exit(github() if kind == "github" else gitlab())
PYEOF

# The stand-in for GitHub's and GitLab's comment APIs: records each request.
cat >"$TEST_TMP/api.py" <<'PYEOF'
import http.server, json, sys
log = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        auth = self.headers.get("Authorization") or self.headers.get("PRIVATE-TOKEN")
        with open(log, "a") as f:
            f.write(json.dumps({"path": self.path, "auth": auth, "body": json.loads(body)["body"]}) + "\n")
        self.send_response(201); self.send_header("Content-Type", "application/json"); self.end_headers()
        self.wfile.write(b'{"id": 1}')
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[2], "w").write(str(s.server_port))
s.serve_forever()
PYEOF
API_LOG=$TEST_TMP/api.log
"$PY" "$TEST_TMP/api.py" "$API_LOG" "$TEST_TMP/api.port" &
API_PID=$!
at_exit "kill $API_PID 2>/dev/null"
for _ in $(seq 100); do [[ -s $TEST_TMP/api.port ]] && break; sleep 0.1; done
API=http://127.0.0.1:$(cat "$TEST_TMP/api.port")

# The runner's tools: this build's forja on PATH (the install step finds it there),
# and for actions/setup-python a venv of the machine's Python.
mkdir -p "$TEST_TMP/runner-bin"
ln -s "$FORJA" "$TEST_TMP/runner-bin/forja"
# PATH without any forja: a runner that does not have it
BARE_PATH=""
IFS=: read -ra _dirs <<<"$PATH"
for d in "${_dirs[@]}"; do [[ -x $d/forja ]] || BARE_PATH=${BARE_PATH:+$BARE_PATH:}$d; done
RUNNER_PATH=$TEST_TMP/runner-bin:$BARE_PATH
/usr/bin/python3 -m venv "$TEST_TMP/setup-python" || { echo "FAIL: cannot make a venv" >&2; exit 1; }
cat >"$TEST_TMP/ctx.json" <<EOF
{"secrets": {"GITHUB_TOKEN": "ghs_test", "FORJA_TRACKING_TOKEN": ""},
 "vars": {"FORJA_TRACKING_URI": "sqlite:///$STORE_DB", "FORJA_SOURCE_URL": "", "FORJA_SERVE_URLS": ""},
 "python_bin": "$TEST_TMP/setup-python/bin"}
EOF

# clone NAME BRANCH: the checkout a runner makes (origin with every branch fetched)
clone() {
  cd "$TEST_TMP" && rm -rf "${TEST_TMP:?}/$1"
  git clone -q "$ORIGIN" "$TEST_TMP/$1" && git -C "$TEST_TMP/$1" checkout -q "$2"
  cd "$TEST_TMP/$1" || exit 1
}
# gh_job WORKFLOW JOB ENV...: runs a GitHub job in the current clone
gh_job() {
  local wf=$1 job=$2
  shift 2
  mkdir -p "$TEST_TMP/runner-temp"
  run env -i HOME="$HOME" PATH="$RUNNER_PATH" FORJA_SOURCE="$FORJA_SOURCE" CI=true GITHUB_ACTIONS=true \
    GITHUB_REPOSITORY=acme/churn GITHUB_API_URL="$API" GITHUB_SHA="$(git rev-parse HEAD)" RUNNER_OS=Linux \
    RUNNER_TEMP="$TEST_TMP/runner-temp" "$@" "$PY" "$TEST_TMP/ci_exec.py" github "$wf" "$job" "$TEST_TMP/ctx.json"
}
# gl_job JOB ENV...: runs a GitLab job of .gitlab-ci.yml in the current clone, with the
# project's CI/CD variables (FORJA_TRACKING_URI, GITLAB_TOKEN) set
gl_job() {
  local job=$1
  shift
  run env -i HOME="$HOME" PATH="$RUNNER_PATH" FORJA_SOURCE="$FORJA_SOURCE" CI=true GITLAB_CI=true \
    CI_PROJECT_DIR="$PWD" CI_PROJECT_ID=42 CI_API_V4_URL="$API/api/v4" CI_COMMIT_SHA="$(git rev-parse HEAD)" \
    GITLAB_TOKEN=glpat_test FORJA_TRACKING_URI="sqlite:///$STORE_DB" "$@" \
    "$PY" "$TEST_TMP/ci_exec.py" gitlab .gitlab-ci.yml "$job" "$TEST_TMP/ctx.json"
}
# stages_are JSON: each version of churn and its stage in the shared store
stages_are() {
  local got
  got=$("$FORJA" models versions churn --store "sqlite:///$STORE_DB" --json |
    "$PY" -c 'import json,sys; print(json.dumps({v["version"]: v["current_stage"] for v in json.load(sys.stdin)["model_versions"]}, sort_keys=True))')
  expect_eq "$got" "$1"
}

# ---- GitHub: the install step on a runner without forja: fails saying what to set ---------
# (HOME and PATH of a runner that has neither forja nor its cache; FORJA_SOURCE_URL unset)
mkdir -p "$TEST_TMP/home-empty"
clone gh-bare main
HOME=$TEST_TMP/home-empty RUNNER_PATH=$BARE_PATH gh_job $MAINY release GITHUB_EVENT_NAME=push GITHUB_REF=refs/heads/main
expect_eq "$RC" 1
expect_contains "$OUT" "forja is not installed: set the CI variable FORJA_SOURCE_URL to forja's git URL"
expect_contains "$OUT" "step 'Install forja' failed (exit 1)"
expect_not_contains "$OUT" "registered churn"

# ---- GitHub: the release job on main: run, push, register, staging, production ----------
# This runner has forja in the cache actions/cache restores (~/.forja-ci/bin), not on PATH:
# the install step puts it there through GITHUB_PATH for the later steps.
mkdir -p "$TEST_TMP/home-cached/.forja-ci/bin"
ln -s "$FORJA" "$TEST_TMP/home-cached/.forja-ci/bin/forja"
clone gh-main main
HOME=$TEST_TMP/home-cached RUNNER_PATH=$BARE_PATH gh_job $MAINY release GITHUB_EVENT_NAME=push GITHUB_REF=refs/heads/main
expect_contains "$OUT" "forja from the cache: forja "
[[ $RC -eq 0 ]] && pass || fail "the release job failed (exit $RC):"$'\n'"$OUT"
expect_contains "$OUT" "registered churn/1"
expect_contains "$OUT" "FORJA_SERVE_URLS is not set: no servers to roll out to; churn 1 goes to production through the gates"
stages_are '{"1": "Production"}'

# the package the run wrote is on the remote: a new clone pulls it
[[ -n $(ls "$DATA_REMOTE") ]] && pass || fail "forja push sent nothing"
# the same commit again: the pipeline is up to date, nothing new is registered
gh_job $MAINY release GITHUB_EVENT_NAME=push GITHUB_REF=refs/heads/main
[[ $RC -eq 0 ]] && pass || fail "the second release job failed (exit $RC):"$'\n'"$OUT"
expect_contains "$OUT" "the pipeline was up to date: nothing new to register for churn"

# ---- GitHub: a pull request whose candidate is worse fails on the gates ------------------
cd "$TEST_TMP/dev"
git checkout -q -b worse && printf 'model:\n  auc: 0.81\n' >conf/config.yaml
git commit -qam "churn: auc 0.81" && git push -q origin worse
git checkout -q main && git checkout -q -b better && printf 'model:\n  auc: 0.9\n' >conf/config.yaml
git commit -qam "churn: auc 0.9" && git push -q origin better

clone gh-worse worse
printf 'earlier step\n' >"$TEST_TMP/summary-worse.md"
: >"$API_LOG"
gh_job $PRY report GITHUB_EVENT_NAME=pull_request GITHUB_REF=refs/pull/7/merge GITHUB_BASE_REF=main \
  GITHUB_HEAD_REF=worse GITHUB_STEP_SUMMARY="$TEST_TMP/summary-worse.md"
expect_eq "$RC" 1
expect_contains "$OUT" "step 'forja ci report' failed (exit 1)"
expect_contains "$OUT" "upload-artifact: forja-report/ exists"
SUMMARY=$(cat "$TEST_TMP/summary-worse.md")
expect_contains "$SUMMARY" "earlier step"
expect_contains "$SUMMARY" "## forja report: workspace vs origin/main"
expect_contains "$SUMMARY" "**churn**: would FAIL against version 1 in production"
expect_contains "$SUMMARY" '| `metrics.auc >= production.metrics.auc` | **FAIL** | 0.81 >= 0.85 |'
[[ -s forja-report/report.md ]] && pass || fail "forja-report/report.md was not written"
"$PY" -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; assert len(r) == 1 and r[0]["path"] == "/repos/acme/churn/issues/7/comments" and r[0]["auth"] == "Bearer ghs_test" and "would FAIL" in r[0]["body"], r' \
  "$API_LOG" && pass || fail "the comment was not posted as expected: $(cat "$API_LOG")"

# ... and one whose candidate is better passes
clone gh-better better
gh_job $PRY report GITHUB_EVENT_NAME=pull_request GITHUB_REF=refs/pull/8/merge GITHUB_BASE_REF=main \
  GITHUB_HEAD_REF=better GITHUB_STEP_SUMMARY="$TEST_TMP/summary-better.md"
[[ $RC -eq 0 ]] && pass || fail "the better candidate's report job failed (exit $RC):"$'\n'"$OUT"
expect_contains "$(cat "$TEST_TMP/summary-better.md")" "**churn**: would pass against version 1 in production"

# ---- GitLab: the merge request job, and the release after the merge -----------------------
# This file rolls out in two short steps (the release below has a replica to roll out to).
cd "$TEST_TMP/dev" && git checkout -q main
expect_ok forja ci init gitlab --force --rollout-steps 50,100 --rollout-interval 1s
lint_ok "$VENV/bin/check-jsonschema" --builtin-schema vendor.gitlab-ci .gitlab-ci.yml
git commit -qam "ci: shorter rollout steps" && git push -q origin main
git checkout -q worse && git merge -q main -m "merge main" && git push -q origin worse
clone gl-worse worse
: >"$API_LOG"
gl_job forja-report CI_PIPELINE_SOURCE=merge_request_event CI_MERGE_REQUEST_TARGET_BRANCH_NAME=main \
  CI_MERGE_REQUEST_IID=7 CI_COMMIT_BRANCH=
expect_eq "$RC" 1
expect_contains "$OUT" "Commented the report on merge request !7"
expect_contains "$OUT" "artifact forja-report/ exists"
expect_contains "$(cat forja-report/report.md)" '| `metrics.auc >= production.metrics.auc` | **FAIL** | 0.81 >= 0.85 |'
"$PY" -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; assert len(r) == 1 and r[0]["path"] == "/api/v4/projects/42/merge_requests/7/notes" and r[0]["auth"] == "glpat_test", r' \
  "$API_LOG" && pass || fail "the merge request note was not posted as expected: $(cat "$API_LOG")"
git status --porcelain | grep -q forja-ci && fail "the job's .forja-ci/ shows in git status" || pass
gl_job forja-release CI_PIPELINE_SOURCE=merge_request_event CI_MERGE_REQUEST_TARGET_BRANCH_NAME=main
expect_contains "$OUT" "job forja-release is not in this pipeline (rules)"

cd "$TEST_TMP/dev" && git checkout -q main && git merge -q better -m "merge better" && git push -q origin main
clone gl-main main
gl_job forja-report CI_PIPELINE_SOURCE=push CI_COMMIT_BRANCH=main
expect_contains "$OUT" "job forja-report is not in this pipeline (rules)"

# A forja serve replica following churn@production from the shared store, and a client
# sending it requests (bounded: it stops by itself after 3000 requests or 5 minutes), so
# that FORJA_SERVE_URLS makes the release a real forja rollout.
FORJA_PYTHON=$PY "$FORJA" serve churn@production --store "sqlite:///$STORE_DB" --port 0 --poll-interval 0.2 >"$TEST_TMP/serve.log" 2>&1 &
SERVE_PID=$!
at_exit "kill $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null"
SERVE_URL=""
for _ in $(seq 300); do
  SERVE_URL=$(grep -o 'http://[0-9.:]*' "$TEST_TMP/serve.log" | head -1)
  [[ -n $SERVE_URL ]] && curl -sf "$SERVE_URL/v2/health/ready" >/dev/null && break
  SERVE_URL=""
  sleep 0.1
done
[[ -n $SERVE_URL ]] || { echo "FAIL: forja serve did not start:"; cat "$TEST_TMP/serve.log"; exit 1; }
cat >"$TEST_TMP/client.py" <<'PYEOF'
import http.client, json, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
body = json.dumps({"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 2], "data": [1, 2]}]})
end = time.time() + 300
for i in range(3000):
    if time.time() > end: break
    try:
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
        c.request("POST", "/v2/models/churn/infer", body, {"Content-Type": "application/json"})
        c.getresponse().read(); c.close()
    except OSError:
        pass
    time.sleep(0.02)
PYEOF
"$PY" "$TEST_TMP/client.py" "$SERVE_URL" &
CLIENT_PID=$!
at_exit "kill $CLIENT_PID 2>/dev/null"

gl_job forja-release CI_PIPELINE_SOURCE=push CI_COMMIT_BRANCH=main FORJA_SERVE_URLS="$SERVE_URL"
[[ $RC -eq 0 ]] && pass || fail "the GitLab release job failed (exit $RC):"$'\n'"$OUT"
expect_contains "$OUT" "registered churn/2"
expect_not_contains "$OUT" "FORJA_SERVE_URLS is not set"
run "$FORJA" rollout status churn --store "sqlite:///$STORE_DB"
expect_contains "$OUT" "state:    completed"
expect_contains "$OUT" "steps:    50,100"
stages_are '{"1": "Archived", "2": "Production"}'


finish
