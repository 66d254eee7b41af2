// forja ci init github|gitlab: writes the CI service's workflow files for the
// workspace. Pull/merge requests get the report job (environment, pull, run, forja ci
// report with the gate check); the default branch gets the release job (run, push,
// register, staging through the gates, production through forja rollout when servers
// are configured, else through the gates alone). What it can, it derives from
// forja.yaml: the default remote and the models the triggers' `register:` steps produce.
// Every value that reaches a shell is single-quoted, every value that reaches YAML
// outside a block scalar is validated, so a strange name cannot change the scripts.
#include <CLI/CLI.hpp>
#include <cctype>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "forja/agent/triggers.h"
#include "forja/cli/cli.h"
#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/data/workspace.h"

#ifndef FORJA_VERSION
#define FORJA_VERSION "0.0.0"
#endif

namespace forja {

namespace {

struct InitArgs {
  std::string kind;  // github | gitlab
  bool force = false;
  std::string default_branch = "main";
  std::string requirements;  // "" = requirements.txt when the workspace has one
  bool no_python = false;
  std::string python_version = "3.12";
  std::string remote;               // "" = forja.yaml's default remote
  std::vector<std::string> models;  // NAME=PATH; none = the triggers' register steps
  std::string forja_repo;           // "" = the CI variable FORJA_SOURCE_URL
  std::string forja_ref = std::string("v") + FORJA_VERSION;
  std::string forja_install;  // replaces the install step's script
  std::string rollout_steps = "5,25,50,100";
  std::string rollout_interval = "60s";
  std::string rollout_args = "--max-error-rate 1%";  // forja rollout's checks
  std::string runs_on = "ubuntu-24.04";
  std::string image = "debian:12";
};

struct ModelStep {
  std::string name, path;
};

// What the templates are made from, after the arguments and forja.yaml are read.
struct Plan {
  InitArgs a;
  std::string requirements;  // "" = no Python step
  std::string remote;        // "" = no pull/push
  bool s3 = false;
  std::vector<ModelStep> models;
  std::vector<std::string> notes;
};

bool AllOf(const std::string& s, const char* extra) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!std::isalnum(c) && !std::strchr(extra, c)) return false;
  return true;
}

std::string ShellQuote(const std::string& s) {
  if (AllOf(s, "._/-=:@,+")) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string YamlQuote(const std::string& s) { return nlohmann::json(s).dump(); }

// Indents every line of `text` by `n` spaces (for a YAML block scalar).
std::string Indent(const std::string& text, int n) {
  std::string pad(static_cast<size_t>(n), ' '), out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out += (line.empty() ? "" : pad + line) + "\n";
  return out;
}

bool HasControl(const std::string& s, bool newline_ok) {
  for (unsigned char c : s)
    if ((c < 0x20 && !(newline_ok && c == '\n')) || c == 0x7f) return true;
  return false;
}

Status CheckArgs(const InitArgs& a) {
  auto bad = [](const std::string& opt, const std::string& v, const std::string& want) {
    return Status::Usage(opt + " '" + v + "': " + want);
  };
  if (!AllOf(a.default_branch, "._/-") || a.default_branch[0] == '-')
    return bad("--default-branch", a.default_branch, "a branch name (letters, digits, . _ / -)");
  if (!AllOf(a.forja_ref, "._/-") || a.forja_ref[0] == '-')
    return bad("--forja-ref", a.forja_ref, "a tag, branch or commit of forja's repository");
  if (!a.forja_repo.empty() && (HasControl(a.forja_repo, false) || a.forja_repo.find(' ') != std::string::npos))
    return bad("--forja-repo", a.forja_repo, "a git URL without spaces");
  if (HasControl(a.forja_install, true)) return Status::Usage("--forja-install: control characters are not allowed");
  if (!AllOf(a.rollout_steps, ","))
    return bad("--rollout-steps", a.rollout_steps, "percentages separated by commas, e.g. 5,25,50,100");
  if (!AllOf(a.rollout_interval, "")) return bad("--rollout-interval", a.rollout_interval, "a duration, e.g. 60s or 5m");
  // Word-split by the shell (unquoted), so only characters that cannot start a command.
  if (!a.rollout_args.empty() && !AllOf(a.rollout_args, " .%=<>_-"))
    return bad("--rollout-args", a.rollout_args, "forja rollout options, e.g. '--max-error-rate 1% --max-p99-ms 200'");
  if (!AllOf(a.runs_on, "._-")) return bad("--runs-on", a.runs_on, "a runner label, e.g. ubuntu-24.04");
  if (!AllOf(a.image, "._/-:@")) return bad("--image", a.image, "an image name, e.g. debian:12");
  if (!AllOf(a.python_version, ".")) return bad("--python-version", a.python_version, "a version, e.g. 3.12");
  return Status::Ok();
}

Result<ModelStep> ParseModelOption(const std::string& v) {
  size_t eq = v.find('=');
  ModelStep m;
  if (eq != std::string::npos) m = {v.substr(0, eq), v.substr(eq + 1)};
  if (eq == std::string::npos || !AllOf(m.name, "._-") || m.path.empty() || HasControl(m.path, false) ||
      m.path[0] == '/')
    return Status::Usage("--model '" + v + "': NAME=PATH, the model's name and the package folder the pipeline "
                         "writes (relative to the workspace)");
  return m;
}

Result<Plan> MakePlan(const InitArgs& a, const std::string& root) {
  RETURN_IF_ERROR(CheckArgs(a));
  Plan p{a, "", "", false, {}, {}};
  ASSIGN_OR_RETURN(ForjaYaml doc, ReadForjaYaml(root));
  ASSIGN_OR_RETURN(ProjectConfig cfg, ProjectConfigOf(doc));
  // The remote: named, else forja.yaml's default, else the only one.
  p.remote = a.remote.empty() ? cfg.default_remote : a.remote;
  if (p.remote.empty() && cfg.remotes.size() == 1) p.remote = cfg.remotes[0].name;
  const RemoteConfig* rc = p.remote.empty() ? nullptr : cfg.FindRemote(p.remote);
  if (!a.remote.empty() && !rc) return Status::User("--remote " + a.remote + ": forja.yaml has no such remote");
  if (rc) {
    p.s3 = rc->url.starts_with("s3://");
    if (!p.s3)
      p.notes.push_back("remote '" + p.remote + "' is a folder (" + rc->url +
                        "): the runner must see it (a self-hosted runner or a mount)");
  } else {
    p.remote.clear();
    p.notes.push_back("forja.yaml has no remote: the jobs neither pull nor push (forja remote add, then --force)");
  }
  // The models: named, else what the triggers' register steps produce.
  if (!a.models.empty()) {
    for (const auto& v : a.models) {
      ASSIGN_OR_RETURN(ModelStep m, ParseModelOption(v));
      p.models.push_back(m);
    }
  } else {
    ASSIGN_OR_RETURN(agent::AgentSettings s,
                     agent::ParseAgentSettings(doc.Section("triggers"), doc.Section("agent"), doc.file));
    std::set<std::string> seen;
    for (const auto& t : s.triggers) {
      const auto& act = t.action;
      if (act.register_model.empty() || !seen.insert(act.register_model).second) continue;
      if (act.pipeline != ".") {
        p.notes.push_back("trigger " + t.name + " registers " + act.register_model + " from pipeline '" +
                          act.pipeline + "': not in the generated jobs (add it with --model NAME=PATH)");
        continue;
      }
      // These reach shell scripts and messages: only names and paths that need no care.
      if (!AllOf(act.register_model, "._-") || act.register_path.empty() || HasControl(act.register_path, false) ||
          act.register_path[0] == '/')
        return Status::User(t.origin + ": triggers." + t.name + ".register: model '" + act.register_model +
                            "' or path '" + act.register_path +
                            "' cannot go into a workflow (letters, digits, . _ - and a relative path); pass "
                            "--model NAME=PATH");
      p.models.push_back({act.register_model, act.register_path});
    }
    if (p.models.empty())
      p.notes.push_back("no model to register: forja.yaml's triggers have no register: step (or pass --model NAME=PATH)");
  }
  // Python requirements: named (must exist), else requirements.txt when present.
  if (!a.no_python) {
    if (!a.requirements.empty()) {
      if (a.requirements[0] == '/' || HasControl(a.requirements, false))
        return Status::Usage("--python-requirements '" + a.requirements + "': a file relative to the workspace");
      if (!IsFile(root + "/" + a.requirements))
        return Status::User("--python-requirements " + a.requirements + ": no such file in the workspace");
      p.requirements = a.requirements;
    } else if (IsFile(root + "/requirements.txt")) {
      p.requirements = "requirements.txt";
    }
  }
  return p;
}

// ---- the shell scripts both services run ---------------------------------------

// Installs the build's packages and builds forja from its source at FORJA_REF into
// $bin: what a runner without forja does once per ref (the CI cache keeps $bin).
std::string BuildForjaScript() {
  return "if [ -x \"$bin/forja\" ] && \"$bin/forja\" --version >/dev/null 2>&1; then\n"
         "  echo \"forja from the cache: $(\"$bin/forja\" --version)\"\n"
         "else\n"
         "  if [ -z \"${FORJA_SOURCE_URL:-}\" ]; then\n"
         "    echo \"forja is not installed: set the CI variable FORJA_SOURCE_URL to forja's git URL, or regenerate "
         "with forja ci init --forja-install CMD\" >&2\n"
         "    exit 1\n"
         "  fi\n"
         "  sudo=\"\"; [ \"$(id -u)\" = 0 ] || sudo=sudo\n"
         "  $sudo apt-get update -qq\n"
         "  $sudo apt-get install -y -qq --no-install-recommends build-essential cmake ninja-build pkg-config git \\\n"
         "    ca-certificates libssl-dev libsqlite3-dev libcurl4-openssl-dev libyaml-cpp-dev nlohmann-json3-dev \\\n"
         "    libcli11-dev libpq-dev libgtest-dev libgmock-dev\n"
         "  if [ ! -x \"$bin/forja\" ]; then\n"
         "    src=\"${TMPDIR:-/tmp}/forja-src\"\n"
         "    rm -rf \"$src\"\n"
         "    git clone --quiet --depth 1 --branch \"$FORJA_REF\" \"$FORJA_SOURCE_URL\" \"$src\"\n"
         "    cmake -S \"$src\" -B \"$src/build\" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null\n"
         "    ninja -C \"$src/build\" forja\n"
         "    mkdir -p \"$bin\"\n"
         "    cp \"$src/build/src/forja/cli/forja\" \"$bin/forja\"\n"
         "  fi\n"
         "fi\n";
}

// The install step: forja already on PATH (a self-hosted runner, an image with it),
// else from the cache or built from source; `add_path` makes $bin visible to later steps.
std::string InstallForjaScript(const Plan& p, const std::string& bin, const std::string& add_path) {
  if (!p.a.forja_install.empty()) return p.a.forja_install + (p.a.forja_install.ends_with("\n") ? "" : "\n");
  return "# forja: on PATH already (a self-hosted runner, an image with it), else from the\n"
         "# cache, else built from forja's source at FORJA_REF (once per ref).\n"
         "if command -v forja >/dev/null 2>&1; then\n"
         "  echo \"forja on PATH: $(command -v forja) ($(forja --version))\"\n"
         "else\n"
         "  bin=" + bin + "\n" +
         Indent(BuildForjaScript(), 2) + "  " + add_path + "\n" + "fi\n";
}

std::string PullScript(const Plan& p) {
  std::string s = "forja -q init  # .forja/, the local state a fresh clone lacks\n";
  if (!p.remote.empty()) s += "forja pull -r " + ShellQuote(p.remote) + "\n";
  return s;
}

// The release script for one model: register the package the run wrote, promote it to
// staging through the gates, then to production: a rollout over FORJA_SERVE_URLS, or
// (no servers) a promotion through the production gates.
std::string ReleaseScript(const ModelStep& m, const std::string& commit_var) {
  std::string n = ShellQuote(m.name), path = ShellQuote(m.path);
  std::string comment = "\"forja ci: commit $" + commit_var + "\"";
  return "if [ -z \"${FORJA_RUN_ID:-}\" ]; then\n"
         "  echo \"the pipeline was up to date: nothing new to register for " + m.name + "\"\n"
         "  exit 0\n"
         "fi\n"
         "ref=$(forja -q models register " + n + " " + path + " --run \"$FORJA_RUN_ID\" --tag \"forja.ci.commit=$" +
         commit_var + "\" | tail -n 1)\n"
         "version=${ref##*/}\n"
         "echo \"registered $ref\"\n"
         "forja models promote " + n + " \"$version\" --to staging --comment " + comment + "\n"
         "if [ -n \"${FORJA_SERVE_URLS:-}\" ]; then\n"
         "  set --\n"
         "  for url in $FORJA_SERVE_URLS; do set -- \"$@\" --server \"$url\"; done\n"
         "  # shellcheck disable=SC2086  # FORJA_ROLLOUT_ARGS holds several options: split on purpose\n"
         "  forja rollout " + n + " --to \"$version\" --steps \"$FORJA_ROLLOUT_STEPS\" --interval \"$FORJA_ROLLOUT_INTERVAL\" \\\n"
         "    $FORJA_ROLLOUT_ARGS \"$@\"\n"
         "else\n"
         "  echo \"FORJA_SERVE_URLS is not set: no servers to roll out to; " + m.name +
         " $version goes to production through the gates\"\n"
         "  forja models promote " + n + " \"$version\" --to production --archive-existing --comment " + comment + "\n"
         "fi\n";
}

// `forja run --json`, with the tracked run's id kept for the register steps.
std::string RunScript(const std::string& json_file, const std::string& export_line) {
  return "forja run --json | tee " + json_file + "\n"
         "FORJA_RUN_ID=$(sed -n 's/.*\"tracked_run\": *\"\\([0-9a-f]*\\)\".*/\\1/p' " + json_file + ")\n" +
         export_line + "\n";
}

std::string Header(const Plan& p, const std::string& what) {
  return "# Generated by `forja ci init " + p.a.kind + "` (forja " FORJA_VERSION "); edit freely, or regenerate\n"
         "# with --force. " + what + "\n"
         "# CI variables it reads: FORJA_SOURCE_URL (forja's git URL, to build it), FORJA_TRACKING_URI\n"
         "# and FORJA_TRACKING_TOKEN (the shared tracking store: a forja server), FORJA_SERVE_URLS (the\n"
         "# forja serve replicas a release rolls out to" +
         (p.s3 ? "), AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (the remote)" : ")") + ". docs/ci.md.\n";
}

// ---- GitHub Actions ---------------------------------------------------------------

std::string GithubEnv(const Plan& p, bool release) {
  std::string s = "env:\n  FORJA_REF: " + YamlQuote(p.a.forja_ref) + "\n";
  s += "  FORJA_SOURCE_URL: " +
       (p.a.forja_repo.empty() ? std::string("${{ vars.FORJA_SOURCE_URL }}") : YamlQuote(p.a.forja_repo)) + "\n";
  s += "  FORJA_TRACKING_URI: ${{ vars.FORJA_TRACKING_URI }}\n"
       "  FORJA_TRACKING_TOKEN: ${{ secrets.FORJA_TRACKING_TOKEN }}\n";
  if (p.s3)
    s += "  AWS_ACCESS_KEY_ID: ${{ secrets.AWS_ACCESS_KEY_ID }}\n"
         "  AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}\n";
  if (release)
    s += "  FORJA_SERVE_URLS: ${{ vars.FORJA_SERVE_URLS }}\n"
         "  FORJA_ROLLOUT_STEPS: " + YamlQuote(p.a.rollout_steps) + "\n"
         "  FORJA_ROLLOUT_INTERVAL: " + YamlQuote(p.a.rollout_interval) + "\n"
         "  FORJA_ROLLOUT_ARGS: " + YamlQuote(p.a.rollout_args) + "\n";
  return s;
}

std::string GithubStep(const std::string& name, const std::string& script, const std::string& extra = "") {
  return "      - name: " + YamlQuote(name) + "\n" + extra + "        run: |\n" + Indent(script, 10);
}

std::string GithubSetupSteps(const Plan& p, bool full_history) {
  std::string s = "      - uses: actions/checkout@v4\n";
  if (full_history) s += "        with:\n          fetch-depth: 0  # the report compares with origin/<base>\n";
  if (p.a.forja_install.empty())
    s += "      - name: Cache the forja binary\n"
         "        uses: actions/cache@v4\n"
         "        with:\n"
         "          path: ~/.forja-ci/bin\n"
         "          key: forja-${{ runner.os }}-${{ env.FORJA_REF }}\n";
  s += GithubStep("Install forja", InstallForjaScript(p, "\"$HOME/.forja-ci/bin\"", "echo \"$bin\" >> \"$GITHUB_PATH\""));
  if (!p.requirements.empty()) {
    s += "      - uses: actions/setup-python@v5\n"
         "        with:\n"
         "          python-version: " + YamlQuote(p.a.python_version) + "\n";
    s += GithubStep("Install the Python requirements", "python -m pip install -r " + ShellQuote(p.requirements) + "\n");
  }
  s += GithubStep(p.remote.empty() ? "forja init" : "forja pull", PullScript(p));
  return s;
}

std::string GithubPr(const Plan& p) {
  std::string s = Header(p, "On every pull request to " + p.a.default_branch +
                                ": pull the data,\n# run the pipeline, and report (forja ci report) on "
                                "the run's summary page and as a comment; the job\n# fails when a "
                                "production gate would fail.");
  s += "name: forja pull request\n\n"
       "on:\n  pull_request:\n    branches: [" + YamlQuote(p.a.default_branch) + "]\n\n"
       "permissions:\n  contents: read\n  pull-requests: write  # forja ci report --post comments\n\n"
       "concurrency:\n  group: forja-pr-${{ github.event.pull_request.number }}\n  cancel-in-progress: true\n\n";
  s += GithubEnv(p, false) + "\n";
  s += "jobs:\n  report:\n    runs-on: " + p.a.runs_on + "\n    steps:\n";
  s += GithubSetupSteps(p, true);
  s += GithubStep("forja run", "forja run\n");
  s += GithubStep("forja ci report",
                  "mkdir -p forja-report\n"
                  "forja ci report --base \"origin/$GITHUB_BASE_REF\" --md forja-report/report.md --fail-on-gates --post\n",
                  "        env:\n          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n");
  s += "      - name: Upload the report\n"
       "        if: always()\n"
       "        uses: actions/upload-artifact@v4\n"
       "        with:\n"
       "          name: forja-report\n"
       "          path: forja-report/\n"
       "          if-no-files-found: ignore\n";
  return s;
}

std::string GithubMain(const Plan& p) {
  std::string s = Header(p, "On every push to " + p.a.default_branch +
                                ": run the pipeline, push its outputs,\n# register each model, promote it to "
                                "staging through the gates, then to production\n# (a forja rollout over "
                                "FORJA_SERVE_URLS when set, else through the gates alone).");
  s += "name: forja release\n\n"
       "on:\n  push:\n    branches: [" + YamlQuote(p.a.default_branch) + "]\n  workflow_dispatch:\n\n"
       "permissions:\n  contents: read\n\n"
       "concurrency:\n  group: forja-release\n  cancel-in-progress: false  # never two releases at once\n\n";
  s += GithubEnv(p, true) + "\n";
  s += "jobs:\n  release:\n    runs-on: " + p.a.runs_on + "\n    steps:\n";
  s += GithubSetupSteps(p, false);
  s += GithubStep("forja run", RunScript("\"$RUNNER_TEMP/forja-run.json\"",
                                         "echo \"FORJA_RUN_ID=$FORJA_RUN_ID\" >> \"$GITHUB_ENV\""));
  if (!p.remote.empty()) s += GithubStep("forja push", "forja push -r " + ShellQuote(p.remote) + "\n");
  for (const auto& m : p.models) s += GithubStep("Release " + m.name, ReleaseScript(m, "GITHUB_SHA"));
  return s;
}

// ---- GitLab CI ------------------------------------------------------------------

std::string GitlabScriptItems(const std::vector<std::string>& scripts) {
  std::string s;
  for (const auto& sc : scripts) s += "    - |\n" + Indent(sc, 6);
  return s;
}

std::string Gitlab(const Plan& p) {
  std::string s = Header(p, "Merge requests to " + p.a.default_branch +
                                ": pull, run, and report (forja ci\n# report, commented on the merge request "
                                "when GITLAB_TOKEN is set); fails when a production\n# gate would fail. "
                                "Pushes to " + p.a.default_branch +
                                ": run, push, register, staging through the gates,\n# then production (a forja "
                                "rollout over FORJA_SERVE_URLS when set, else the gates alone).");
  s += "variables:\n  FORJA_REF: " + YamlQuote(p.a.forja_ref) + "\n";
  if (!p.a.forja_repo.empty()) s += "  FORJA_SOURCE_URL: " + YamlQuote(p.a.forja_repo) + "\n";
  s += "  FORJA_ROLLOUT_STEPS: " + YamlQuote(p.a.rollout_steps) + "\n"
       "  FORJA_ROLLOUT_INTERVAL: " + YamlQuote(p.a.rollout_interval) + "\n"
       "  FORJA_ROLLOUT_ARGS: " + YamlQuote(p.a.rollout_args) + "\n"
       "  GIT_DEPTH: \"0\"  # the report compares with the target branch\n\n"
       "stages: [report, release]\n\n";
  std::string tools =
      "# git and Python for the jobs; forja itself below\n"
      "need=\"\"\n"
      "command -v git >/dev/null 2>&1 || need=\"$need git ca-certificates\"\n" +
      std::string(p.requirements.empty() ? "" : "python3 -c 'import venv, ensurepip' 2>/dev/null || need=\"$need python3 python3-venv\"\n") +
      "if [ -n \"$need\" ]; then apt-get update -qq && apt-get install -y -qq --no-install-recommends $need; fi\n"
      "echo .forja-ci/ >> .git/info/exclude  # the cached binary and venv are not the project's files\n";
  std::vector<std::string> setup = {tools,
                                    InstallForjaScript(p, "\"$CI_PROJECT_DIR/.forja-ci/bin\"", "export PATH=\"$bin:$PATH\"")};
  if (!p.requirements.empty())
    setup.push_back("python3 -m venv \"$CI_PROJECT_DIR/.forja-ci/venv\"\n"
                    "export PATH=\"$CI_PROJECT_DIR/.forja-ci/venv/bin:$PATH\"\n"
                    "python -m pip install -r " + ShellQuote(p.requirements) + "\n");
  setup.push_back(PullScript(p));
  s += ".forja-setup:\n  image: " + p.a.image + "\n";
  if (p.a.forja_install.empty())
    s += "  cache:\n    key: forja-$FORJA_REF\n    paths: [.forja-ci/bin/]\n";
  s += "  before_script:\n" + GitlabScriptItems(setup) + "\n";
  s += "forja-report:\n  extends: .forja-setup\n  stage: report\n  rules:\n"
       "    - if: '$CI_PIPELINE_SOURCE == \"merge_request_event\" && $CI_MERGE_REQUEST_TARGET_BRANCH_NAME == " +
       YamlQuote(p.a.default_branch) + "'\n";
  s += "  script:\n" +
       GitlabScriptItems({"forja run\n",
                          "target=\"$CI_MERGE_REQUEST_TARGET_BRANCH_NAME\"\n"
                          "git fetch --quiet origin \"+refs/heads/$target:refs/remotes/origin/$target\"\n"
                          "post=\"\"\n"
                          "if [ -n \"${GITLAB_TOKEN:-}\" ]; then post=--post; else echo \"GITLAB_TOKEN is not set: "
                          "the report is not commented on the merge request\"; fi\n"
                          "mkdir -p forja-report\n"
                          "forja ci report --base \"origin/$target\" --md forja-report/report.md --fail-on-gates $post\n"});
  s += "  artifacts:\n    when: always\n    expose_as: forja report\n    paths: [forja-report/]\n\n";
  s += "forja-release:\n  extends: .forja-setup\n  stage: release\n  resource_group: forja-release  # never two at once\n"
       "  rules:\n    - if: '$CI_PIPELINE_SOURCE == \"push\" && $CI_COMMIT_BRANCH == " +
       YamlQuote(p.a.default_branch) + "'\n";
  std::vector<std::string> release = {"mkdir -p \"$CI_PROJECT_DIR/.forja-ci\"\n" +
                                      RunScript("\"$CI_PROJECT_DIR/.forja-ci/run.json\"", "export FORJA_RUN_ID")};
  if (!p.remote.empty()) release.push_back("forja push -r " + ShellQuote(p.remote) + "\n");
  // Each model in a subshell, so one model's `exit 0` (nothing to register) ends only its part.
  for (const auto& m : p.models) release.push_back("(\n" + Indent(ReleaseScript(m, "CI_COMMIT_SHA"), 2) + ")\n");
  s += "  script:\n" + GitlabScriptItems(release);
  return s;
}

int DoInit(const InitArgs& a) {
  int code = 0;
  auto ws = OpenWorkspaceOrReport(&code);
  if (!ws) return code;
  auto plan = MakePlan(a, ws->root());
  if (!plan.ok()) return Fail(plan.status());
  std::vector<std::pair<std::string, std::string>> files;  // relative path, text
  if (a.kind == "github") {
    files = {{".github/workflows/forja-pr.yml", GithubPr(*plan)}, {".github/workflows/forja-main.yml", GithubMain(*plan)}};
  } else {
    files = {{".gitlab-ci.yml", Gitlab(*plan)}};
  }
  if (!a.force)
    for (const auto& [rel, text] : files)
      if (Exists(ws->Abs(rel)))
        return Fail(Status::Exists(rel + " exists: pass --force to overwrite it (forja ci init " + a.kind + " --force)"));
  for (const auto& [rel, text] : files) {
    std::string path = ws->Abs(rel);
    if (Status st = MakeDirs(Dirname(path)); !st.ok()) return Fail(st);
    if (Status st = WriteFileAtomic(path, text); !st.ok()) return Fail(st);
    Out(rel);
  }
  std::string models;
  for (const auto& m : plan->models) models += (models.empty() ? "" : ", ") + m.name + " (" + m.path + ")";
  LogInfo("remote: " + (plan->remote.empty() ? std::string("none") : plan->remote) +
          "; models released: " + (models.empty() ? std::string("none") : models) +
          "; Python requirements: " + (plan->requirements.empty() ? std::string("none") : plan->requirements));
  for (const auto& n : plan->notes) LogInfo("note: " + n);
  LogInfo(a.kind == "github"
              ? "Set in the repository's settings: variables FORJA_SOURCE_URL, FORJA_TRACKING_URI, FORJA_SERVE_URLS; "
                "secrets FORJA_TRACKING_TOKEN" + std::string(plan->s3 ? ", AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY" : "")
              : "Set as CI/CD variables: FORJA_SOURCE_URL, FORJA_TRACKING_URI, FORJA_TRACKING_TOKEN (masked), "
                "FORJA_SERVE_URLS, GITLAB_TOKEN (masked, api scope)" +
                    std::string(plan->s3 ? ", AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY" : ""));
  return 0;
}

}  // namespace

void RegisterCiInitCommand(CLI::App* ci, Action* action) {
  auto* c = ci->add_subcommand("init", "Write the CI service's workflow files: the pull-request report and the "
                                       "default branch's release");
  auto a = std::make_shared<InitArgs>();
  c->add_option("service", a->kind, "github (.github/workflows/forja-pr.yml and forja-main.yml) or gitlab (.gitlab-ci.yml)")
      ->required()
      ->check(CLI::IsMember({"github", "gitlab"}))
      ->type_name("github|gitlab");
  c->add_flag("--force", a->force, "Overwrite the files when they exist");
  c->add_option("--default-branch", a->default_branch, "The branch releases come from and requests target (default: main)")
      ->type_name("BRANCH");
  c->add_option("--python-requirements", a->requirements,
                "The pip requirements file the jobs install (default: requirements.txt when the workspace has one)")
      ->type_name("FILE");
  c->add_flag("--no-python", a->no_python, "Install no Python requirements");
  c->add_option("--python-version", a->python_version, "GitHub: the Python actions/setup-python installs (default: 3.12)")
      ->type_name("VERSION");
  c->add_option("--remote", a->remote, "The forja remote the jobs pull from and push to (default: forja.yaml's default)")
      ->type_name("NAME");
  c->add_option("--model", a->models,
                "A model the release registers from the package folder PATH (repeatable; default: the models\n"
                "forja.yaml's triggers register, their register: {model, path})")
      ->type_name("NAME=PATH");
  c->add_option("--forja-repo", a->forja_repo,
                "forja's git URL, built when the runner has no forja (default: the CI variable FORJA_SOURCE_URL)")
      ->type_name("URL");
  c->add_option("--forja-ref", a->forja_ref, "The tag or commit of forja to build (default: v" FORJA_VERSION ", this forja's)")
      ->type_name("REF");
  c->add_option("--forja-install", a->forja_install,
                "A shell command that installs forja instead of building it (it must leave forja on PATH:\n"
                "GitHub: echo DIR >> \"$GITHUB_PATH\"; GitLab: export PATH=DIR:$PATH)")
      ->type_name("CMD");
  c->add_option("--rollout-steps", a->rollout_steps, "forja rollout's --steps (default: 5,25,50,100)")->type_name("PCTS");
  c->add_option("--rollout-interval", a->rollout_interval, "forja rollout's --interval (default: 60s)")->type_name("DURATION");
  c->add_option("--rollout-args", a->rollout_args,
                "More forja rollout options: its checks (default: --max-error-rate 1%)")
      ->type_name("ARGS");
  c->add_option("--runs-on", a->runs_on, "GitHub: the runner label (default: ubuntu-24.04)")->type_name("LABEL");
  c->add_option("--image", a->image, "GitLab: the jobs' image (default: debian:12)")->type_name("IMAGE");
  c->footer(std::string(
                "Pull/merge requests: check out with history, install forja (on PATH already, cached, or\n"
                "built from FORJA_SOURCE_URL at --forja-ref; or --forja-install), pip install the\n"
                "requirements, forja init, forja pull, forja run, then forja ci report --base\n"
                "origin/<target> --md forja-report/report.md --fail-on-gates --post (GitHub: the step\n"
                "summary and a comment with GITHUB_TOKEN; GitLab: a comment when GITLAB_TOKEN is set),\n"
                "and keep forja-report/ as an artifact.\n"
                "The default branch: the same setup, forja run, forja push, and for each model: forja\n"
                "models register NAME PATH --run RUN, promote --to staging (the gates), then forja\n"
                "rollout NAME --to V --steps --interval [--rollout-args] --server URL... over the CI variable\n"
                "FORJA_SERVE_URLS (space-separated), or without it promote --to production (the gates).\n"
                "A pipeline that was up to date registers nothing. The tracking store is the CI variable\n"
                "FORJA_TRACKING_URI (a forja server; token FORJA_TRACKING_TOKEN), else forja.yaml's.\n"
                "Existing files are kept unless --force; each file is written whole or not at all.\n"
                "  forja ci init github\n"
                "  forja ci init gitlab --default-branch trunk --model churn=models/churn --force\n"
                "Details: docs/ci.md.\n\n") +
            kExitCodesHelp);
  c->callback([a, action] { *action = [a] { return DoInit(*a); }; });
}

}  // namespace forja
