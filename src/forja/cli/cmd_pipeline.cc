// forja run (alias repro) and forja status --pipeline.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <optional>

#include "forja/cli/cli.h"
#include "forja/cli/store.h"
#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/core/redact.h"
#include "forja/data/workspace.h"
#include "forja/pipeline/dag.h"
#include "forja/pipeline/project.h"
#include "forja/pipeline/runner.h"
#include "forja/pipeline/tracking.h"

namespace forja {

namespace {

using json = nlohmann::json;
using pipeline::Outcome;
using pipeline::RunOptions;
using pipeline::RunSummary;

json SummaryJson(const RunSummary& s) {
  json stages = json::array();
  for (const auto& r : s.stages) {
    json j{{"stage", r.name}, {"outcome", pipeline::OutcomeName(r.outcome)}, {"reasons", r.reasons}};
    if (r.attempts) j["attempts"] = r.attempts;
    if (r.seconds > 0) j["seconds"] = r.seconds;
    if (!r.error.empty()) j["error"] = r.error;
    if (!r.log.empty()) j["log"] = r.log;
    stages.push_back(std::move(j));
  }
  json out{{"stages", stages}};
  if (!s.run_id.empty()) out["run_id"] = s.run_id;
  if (s.interrupted_by) out["interrupted_by"] = s.interrupted_by;
  return out;
}

std::string Plural(size_t n, const std::string& word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

struct RunArgs {
  std::vector<std::string> args;
  RunOptions opts;
  bool as_json = false;
  bool no_run_cache = false;
  bool no_track = false;
};

// Records the run in the tracking store; a store that fails is a warning, not a
// failed run (the pipeline's results are in the workspace and forja.lock).
std::string Track(const pipeline::Project& project, const RunSummary& s, int64_t start_ms) {
  auto settings = pipeline::ReadTrackingSettings(project.root, project.forja_yaml);
  if (!settings.ok()) {
    LogWarn("the run was not recorded: " + settings.status().message());
    return "";
  }
  if (!settings->enabled) return "";
  auto store = OpenStoreUri(settings->uri);
  Result<pipeline::RecordedRun> rec = store.ok() ? pipeline::RecordRun(**store, *settings, project, s, start_ms,
                                                                        meta::NowMs(), {})
                                                 : Result<pipeline::RecordedRun>(store.status());
  if (!rec.ok()) {
    LogWarn("the run was not recorded in " + RedactUri(settings->uri) + ": " + rec.status().message());
    return "";
  }
  return rec->run_id;
}

int DoRun(GlobalOptions& g, RunArgs a) {
  int code = 0;
  auto ws = OpenWorkspaceOrReport(&code);
  if (!ws) return code;
  std::vector<std::string> overrides;
  SplitOverrides(a.args, &a.opts.targets, &overrides);
  a.opts.use_run_cache = !a.no_run_cache;
  a.opts.quiet = g.quiet || a.as_json;
  std::optional<Result<FileLock>> lock;  // a dry run changes nothing and takes no lock
  if (!a.opts.dry) {
    lock.emplace(ws->Lock("forja run", g.wait));
    if (!lock->ok()) return Fail(lock->status());
  }
  auto project = pipeline::LoadProject(ws->root(), overrides);
  if (!project.ok()) return Fail(project.status());
  for (const auto& n : project->notices) LogInfo(n);
  if (project->dag.stages.empty()) {
    LogInfo("No stages in forja.yaml; add a stages: section (see forja run --help)");
    if (a.as_json) OutJson(SummaryJson(RunSummary{}));
    return 0;
  }
  int64_t start_ms = meta::NowMs();
  auto summary = pipeline::RunPipeline(*ws, *project, a.opts);
  if (!summary.ok()) return Fail(summary.status());
  std::string tracked;
  bool changed = summary->Count(Outcome::kRan) + summary->Count(Outcome::kRestored) + summary->Count(Outcome::kFailed) > 0;
  if (!a.opts.dry && !a.no_track && changed) tracked = Track(*project, *summary, start_ms);
  if (!a.opts.dry && !summary->run_id.empty()) {
    // The durations and outcomes stay beside the logs: forja server's pipeline page shows them.
    Status saved = WriteFileAtomic(ws->ForjaDir() + "/runs/" + summary->run_id + "/summary.json",
                                   SummaryJson(*summary).dump(2) + "\n");
    if (!saved.ok()) LogWarn("the run's summary was not saved: " + saved.message());
  }
  if (a.as_json) {
    json j = SummaryJson(*summary);
    if (!tracked.empty()) j["tracked_run"] = tracked;
    OutJson(j);
  }
  if (a.opts.dry && !a.as_json) {
    for (const auto& r : summary->stages) {
      std::string why;
      for (const auto& x : r.reasons) why += (why.empty() ? "" : "; ") + x;
      Out(r.name + ": " + pipeline::OutcomeName(r.outcome) + (why.empty() ? "" : ": " + why));
    }
    return 0;
  }
  const RunSummary& s = *summary;
  std::string line = Plural(s.Count(Outcome::kRan), "stage") + " ran";
  if (size_t n = s.Count(Outcome::kRestored)) line += ", " + std::to_string(n) + " restored from the run cache";
  if (size_t n = s.Count(Outcome::kUpToDate)) line += ", " + std::to_string(n) + " up to date";
  if (size_t n = s.Count(Outcome::kFailed)) line += ", " + std::to_string(n) + " failed";
  if (size_t n = s.Count(Outcome::kSkipped)) line += ", " + std::to_string(n) + " skipped";
  if (size_t n = s.Count(Outcome::kInterrupted)) line += ", " + std::to_string(n) + " interrupted";
  if (!s.run_id.empty()) line += " (logs in .forja/runs/" + s.run_id + "/)";
  LogInfo(line);
  if (!tracked.empty()) LogInfo("Tracked as run " + tracked + " (forja runs show " + tracked + ")");
  for (const auto& r : s.stages)
    if (r.outcome == Outcome::kSkipped) LogInfo("  skipped " + r.name + ": " + r.reasons[0]);
  if (s.interrupted_by) return 128 + s.interrupted_by;
  return s.failed() ? 1 : 0;
}

}  // namespace

void SplitOverrides(const std::vector<std::string>& args, std::vector<std::string>* rest,
                    std::vector<std::string>* overrides) {
  for (const auto& a : args) {
    bool is_override = a.find('=') != std::string::npos || (!a.empty() && a[0] == '~');
    (is_override ? overrides : rest)->push_back(a);
  }
}

int DoPipelineStatus(GlobalOptions& g, const std::vector<std::string>& args, bool as_json) {
  int code = 0;
  auto ws = OpenWorkspaceOrReport(&code);
  if (!ws) return code;
  RunOptions opts;
  std::vector<std::string> overrides;
  SplitOverrides(args, &opts.targets, &overrides);
  opts.dry = true;
  opts.quiet = true;
  auto project = pipeline::LoadProject(ws->root(), overrides);
  if (!project.ok()) return Fail(project.status());
  for (const auto& n : project->notices) LogInfo(n);
  auto summary = pipeline::RunPipeline(*ws, *project, opts);
  if (!summary.ok()) return Fail(summary.status());
  (void)g;
  bool changed = summary->Count(Outcome::kWouldRun) > 0;
  if (as_json) {
    OutJson(SummaryJson(*summary));
    return changed ? 1 : 0;
  }
  for (const auto& r : summary->stages) {
    if (r.outcome == Outcome::kUpToDate) {
      Out(r.name + ": up to date" + (r.reasons.empty() ? "" : " (" + r.reasons[0] + ")"));  // (frozen)
      continue;
    }
    std::string why;
    for (const auto& x : r.reasons) why += (why.empty() ? "" : "; ") + x;
    Out(r.name + ": changed: " + why);
  }
  if (summary->stages.empty()) LogInfo("No stages in forja.yaml");
  return changed ? 1 : 0;
}

Result<std::string> PipelineStatusJson(const std::string& root) {
  ASSIGN_OR_RETURN(auto ws, Workspace::Open(root));
  ASSIGN_OR_RETURN(auto project, pipeline::LoadProject(ws->root(), {}));
  RunOptions opts;
  opts.dry = true;
  opts.quiet = true;
  ASSIGN_OR_RETURN(auto summary, pipeline::RunPipeline(*ws, project, opts));
  json out = json::parse(pipeline::DagJson(project.dag, project.dag.order));
  json states = SummaryJson(summary)["stages"];
  for (auto& stage : out["stages"]) {
    for (const auto& st : states)
      if (st["stage"] == stage["name"]) {
        stage["outcome"] = st["outcome"];
        stage["reasons"] = st["reasons"];
      }
  }
  return out.dump();
}

void RegisterPipelineCommands(CLI::App& app, GlobalOptions& g, Action* action) {
  auto* c = app.add_subcommand("run", "Run the pipeline's stages that are not up to date (alias: repro)");
  c->alias("repro");
  auto a = std::make_shared<RunArgs>();
  c->add_option("args", a->args,
                "Stages to bring up to date (default: all), and config overrides (key=value, +key=value,\n"
                "~key; Hydra's grammar) applied to the composed configuration for this run")
      ->type_name("STAGE|OVERRIDE");
  c->add_option("-j,--jobs", a->opts.jobs, "Run up to N independent stages at once (default: 1)")->type_name("N");
  c->add_flag("-f,--force", a->opts.force, "Run the stages even when up to date, ignoring the run cache");
  c->add_flag("-k,--keep-going", a->opts.keep_going,
              "After a stage fails, go on with the stages that do not depend on it");
  c->add_flag("--dry", a->opts.dry, "Only say which stages would run and why; change nothing");
  c->add_flag("-s,--single", a->opts.single, "Only the named stages, not the stages they depend on");
  c->add_flag("--no-run-cache", a->no_run_cache, "Run changed stages even when the run cache has their outputs");
  c->add_flag("--json", a->as_json, "Print the outcome of every stage as JSON (stage output is then only logged)");
  c->add_flag("--no-track", a->no_track, "Do not record this run in the tracking store");
  c->add_option("--executor", a->opts.executor,
                "Where stages run: local (this machine) or slurm (batch jobs; docs/scaling.md).\n"
                "Default: forja.yaml's executor: {kind: ...}, else local")
      ->check(CLI::IsMember({"local", "slurm"}))
      ->type_name("local|slurm");
  c->footer(std::string(
      "Stages are declared under stages: in forja.yaml (cmd, wdir, deps, params, outs, metrics,\n"
      "plots, env, retries, timeout, resources, foreach/matrix; see the README); without them, a DVC repository's\n"
      "dvc.yaml is read with DVC's rules (docs/dvc-compat.md). A stage runs when its command,\n"
      "a dep's content, a param's value or an out differs from forja.lock, or when it never ran;\n"
      "when the same command, deps and params ran before (on any branch), its outputs are restored\n"
      "from the run cache instead. Outputs are stored in the cache (forja push/pull move them) and\n"
      "forja.lock is updated as stages finish. Each stage gets FORJA_PARAMS (the composed config as\n"
      "YAML), FORJA_STAGE and FORJA_RUN_ID; its output is shown with a [stage] prefix and saved in\n"
      ".forja/runs/<run-id>/<stage>.log (if it printed anything). Ctrl-C stops every running stage\n"
      "and keeps the lock consistent. Exits 1 when a stage fails, 128+N when stopped by signal N.\n"
      "With executor: {kind: slurm, ...} in forja.yaml or --executor slurm, each stage is a Slurm batch\n"
      "job (sbatch; resources: {cpus, mem, gpus, time, constraint}); Ctrl-C scancels them (docs/scaling.md).\n"
      "Locally a stage with resources: {cpus: N} takes N of -j's slots.\n"
      "A run that ran or restored a stage is recorded in the tracking store (forja.yaml tracking:\n"
      "{uri, experiment, enabled}; default .forja/forja.db, experiment = the folder's name) with its\n"
      "params, metrics, git commit and lineage (every dep and out by hash): forja runs list/show.\n\n") +
      kExitCodesHelp);
  c->callback([a, &g, action] { *action = [a, &g] { return DoRun(g, *a); }; });
}

}  // namespace forja
