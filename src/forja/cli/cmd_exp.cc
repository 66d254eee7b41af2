// forja exp run / show / apply / remove.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "forja/cli/cli.h"
#include "forja/cli/table.h"
#include "forja/config/node.h"
#include "forja/config/yaml_fast.h"
#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/core/strings.h"
#include "forja/data/workspace.h"
#include "forja/pipeline/exp.h"
#include "forja/pipeline/metric_files.h"
#include "forja/pipeline/params.h"
#include "forja/pipeline/tracking.h"

namespace forja {

namespace {

using json = nlohmann::json;
using pipeline::Experiment;

struct ExpRunArgs {
  std::vector<std::string> args;
  pipeline::ExpOptions opts;
  bool as_json = false;
};

// One row of `exp show`: params and metrics flattened to "key" -> text.
struct Row {
  std::string name, created, status, overrides;
  std::map<std::string, std::string> params;                // "train.lr" or "params.yaml:seed"
  std::map<std::string, config::Node> metrics;              // "acc" or "eval.json:acc"
};

std::string ParamName(const LockParams& src, const LockParam& p) {
  return src.source == kComposedParams ? p.key : src.source + ":" + p.key;
}

// Metric columns are named by key alone when only one metrics file has it.
std::string MetricName(const std::string& path, const std::string& key, const std::map<std::string, int>& key_files) {
  auto it = key_files.find(key);
  return it != key_files.end() && it->second > 1 ? path + ":" + key : key;
}

Row MakeRow(const std::string& name, const std::string& created, const std::string& status,
            const std::vector<std::string>& overrides, const Lock& lock, const std::vector<pipeline::MetricsFile>& metrics,
            const std::map<std::string, int>& key_files) {
  Row r{name, created, status, Join(overrides, " "), {}, {}};
  for (const auto& src : pipeline::LockParamsOf(lock))
    for (const auto& p : src.values)
      for (const auto& [k, v] : pipeline::FlattenParam(ParamName(src, p), p.value_json))
        r.params[k] = pipeline::FormatParam(v);
  for (const auto& f : metrics)
    for (const auto& m : f.metrics) r.metrics[MetricName(f.path, m.key, key_files)] = m.value;
  return r;
}

void CountKeys(const std::vector<pipeline::MetricsFile>& metrics, std::map<std::string, std::set<std::string>>* files) {
  for (const auto& f : metrics)
    for (const auto& m : f.metrics) (*files)[m.key].insert(f.path);
}

json ExpJson(const Experiment& e) {
  json params = json::object();
  for (const auto& src : pipeline::LockParamsOf(e.lock))
    for (const auto& p : src.values)
      for (const auto& [k, v] : pipeline::FlattenParam(ParamName(src, p), p.value_json))
        params[k] = json::parse(v, nullptr, false);
  json metrics = json::object();
  for (const auto& f : e.metrics)
    for (const auto& m : f.metrics) metrics[f.path][m.key] = json::parse(config::ToJson(m.value, 0), nullptr, false);
  json deps = json::object(), outs = json::object();
  for (const auto& st : e.lock.stages) {
    for (const auto& d : st.deps) deps[d.path] = "sha256:" + d.oid.Hex();
    for (const auto& o : st.outs) outs[o.path] = "sha256:" + o.oid.Hex();
  }
  return json{{"id", e.id},         {"created", e.created}, {"commit", e.commit}, {"overrides", e.overrides},
              {"ok", e.ok},         {"seconds", e.seconds}, {"error", e.error},   {"params", params},
              {"metrics", metrics}, {"deps", deps},         {"outs", outs}};
}

int DoExpRun(GlobalOptions& g, ExpRunArgs a) {
  int code = 0;
  auto ws = OpenWorkspaceOrReport(&code);
  if (!ws) return code;
  SplitOverrides(a.args, &a.opts.targets, &a.opts.overrides);
  a.opts.quiet = g.quiet || a.as_json;
  // The experiments' runs go to the workspace's store and experiment, not their worktrees'.
  if (auto doc = ReadForjaYaml(ws->root()); doc.ok()) {
    if (auto t = pipeline::ReadTrackingSettings(ws->root(), doc->root); t.ok() && t->enabled) {
      a.opts.tracking_uri = t->uri;
      a.opts.tracking_experiment = t->experiment;
    }
  }
  auto exps = pipeline::RunExperiments(*ws, a.opts);
  if (!exps.ok()) return Fail(exps.status());
  int failed = 0;
  json j = json::array();
  for (const auto& e : *exps) {
    failed += !e.ok;
    j.push_back(ExpJson(e));
  }
  if (a.as_json) OutJson(j);
  LogInfo(std::to_string(exps->size() - failed) + " of " + std::to_string(exps->size()) +
          " experiments succeeded; compare them with forja exp show, bring one in with forja exp apply ID");
  return failed ? 1 : 0;
}

int DoExpShow(const std::string& sort_by, bool asc, bool as_json, bool md, int precision) {
  int code = 0;
  auto ws = OpenWorkspaceOrReport(&code);
  if (!ws) return code;
  auto exps = pipeline::ListExperiments(ws->root());
  if (!exps.ok()) return Fail(exps.status());
  if (as_json) {
    json j = json::array();
    for (const auto& e : *exps) j.push_back(ExpJson(e));
    OutJson(j);
    return 0;
  }
  // The workspace's row first, as DVC shows it: its forja.lock and metric files.
  auto lock = ReadLock(ws->root());
  if (!lock.ok()) return Fail(lock.status());
  std::vector<std::string> metric_paths;
  for (const auto& m : pipeline::LockMetricOuts(*lock)) metric_paths.push_back(m.path);
  auto ws_metrics = pipeline::ReadWorkspaceMetrics(ws->root(), metric_paths);
  if (!ws_metrics.ok()) return Fail(ws_metrics.status());

  std::map<std::string, std::set<std::string>> key_paths;
  CountKeys(*ws_metrics, &key_paths);
  for (const auto& e : *exps) CountKeys(e.metrics, &key_paths);
  std::map<std::string, int> key_files;
  for (const auto& [k, paths] : key_paths) key_files[k] = static_cast<int>(paths.size());

  std::vector<Row> rows;
  rows.push_back(MakeRow("workspace", "", "", {}, *lock, *ws_metrics, key_files));
  for (const auto& e : *exps)
    rows.push_back(MakeRow(e.id, e.created, e.ok ? "done" : "failed", e.overrides, e.lock, e.metrics, key_files));

  if (!sort_by.empty()) {
    bool known = false;
    for (const auto& r : rows) known |= r.metrics.count(sort_by) > 0 || r.params.count(sort_by) > 0;
    if (!known) return Fail(Status::User("no metric or param '" + sort_by + "' to sort by; see forja exp show"));
    auto number = [&](const Row& r, double* v) {
      auto it = r.metrics.find(sort_by);
      if (it != r.metrics.end()) {
        const config::Node& n = it->second;
        if (n.kind() == config::Node::Kind::kInt) return *v = static_cast<double>(n.as_int()), true;
        if (n.kind() == config::Node::Kind::kFloat) return *v = n.as_float(), true;
        return false;
      }
      auto p = r.params.find(sort_by);
      if (p == r.params.end()) return false;
      char* end = nullptr;
      *v = strtod(p->second.c_str(), &end);
      return end && *end == '\0' && end != p->second.c_str();
    };
    // The workspace stays on top; experiments without the value go last.
    std::stable_sort(rows.begin() + 1, rows.end(), [&](const Row& x, const Row& y) {
      double a = 0, b = 0;
      bool ha = number(x, &a), hb = number(y, &b);
      if (ha != hb) return ha;
      return asc ? a < b : a > b;
    });
  }
  std::vector<std::string> param_cols, metric_cols;
  std::set<std::string> seen_p, seen_m;
  for (const auto& r : rows) {
    for (const auto& [k, v] : r.params)
      if (seen_p.insert(k).second) param_cols.push_back(k);
    for (const auto& [k, v] : r.metrics)
      if (seen_m.insert(k).second) metric_cols.push_back(k);
  }
  Table t;
  t.header = {"Experiment", "Created", "Status"};
  for (const auto& m : metric_cols) t.header.push_back(m);
  for (const auto& p : param_cols) t.header.push_back(p);
  for (const auto& r : rows) {
    std::vector<std::string> cells = {r.name, r.created.empty() ? "-" : r.created, r.status.empty() ? "-" : r.status};
    for (const auto& m : metric_cols) {
      auto it = r.metrics.find(m);
      cells.push_back(it == r.metrics.end() ? "-" : pipeline::FormatValue(it->second, precision));
    }
    for (const auto& p : param_cols) {
      auto it = r.params.find(p);
      cells.push_back(it == r.params.end() ? "-" : it->second);
    }
    t.rows.push_back(std::move(cells));
  }
  std::string text = md ? RenderMarkdown(t) : RenderText(t);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  Out(text);
  return 0;
}

int DoExpApply(GlobalOptions& g, const std::string& id, bool force) {
  int code = 0;
  auto ws = OpenWorkspaceOrReport(&code);
  if (!ws) return code;
  auto lock = ws->Lock("forja exp apply", g.wait);
  if (!lock.ok()) return Fail(lock.status());
  auto exp = pipeline::FindExperiment(ws->root(), id);
  if (!exp.ok()) return Fail(exp.status());
  Status st = pipeline::ApplyExperiment(*ws, *exp, force);
  if (!st.ok()) return Fail(st);
  size_t outs = 0;
  for (const auto& s : exp->lock.stages) outs += s.outs.size();
  LogInfo("Applied " + exp->id + ": " + std::to_string(outs) + " outputs and forja.lock are now the experiment's");
  if (!exp->overrides.empty())
    LogInfo("It ran with " + Join(exp->overrides, " ") +
            "; put those values in your config to keep them (forja status --pipeline shows the difference)");
  return 0;
}

int DoExpRemove(const std::vector<std::string>& ids, bool all) {
  int code = 0;
  auto ws = OpenWorkspaceOrReport(&code);
  if (!ws) return code;
  std::vector<Experiment> targets;
  if (all) {
    auto exps = pipeline::ListExperiments(ws->root());
    if (!exps.ok()) return Fail(exps.status());
    targets = std::move(*exps);
  } else {
    if (ids.empty()) return Fail(Status::Usage("name the experiments to remove, or pass --all"));
    for (const auto& id : ids) {
      auto e = pipeline::FindExperiment(ws->root(), id);
      if (!e.ok()) return Fail(e.status());
      targets.push_back(std::move(*e));
    }
  }
  for (const auto& e : targets) {
    Status st = pipeline::RemoveExperiment(ws->root(), e);
    if (!st.ok()) return Fail(st);
    LogInfo("Removed " + e.id);
  }
  return 0;
}

}  // namespace

void RegisterExpCommands(CLI::App& app, GlobalOptions& g, Action* action) {
  auto* exp = app.add_subcommand("exp", "Run, compare and apply experiments (the pipeline with other params)");
  exp->require_subcommand(1);
  exp->footer(kExitCodesHelp);
  {
    auto* c = exp->add_subcommand("run", "Run the pipeline in isolated copies of the workspace, one per combination");
    auto a = std::make_shared<ExpRunArgs>();
    c->add_option("args", a->args,
                  "Config overrides (key=value; with -m, sweeps like lr=0.1,0.01 or range(1,4)) and\n"
                  "stage names (default: all stages)")
        ->type_name("OVERRIDE|STAGE");
    c->add_flag("-m,--multirun", a->opts.multirun, "Expand sweeps into one experiment per combination (Hydra's -m)");
    c->add_option("-j,--jobs", a->opts.jobs, "Run up to N experiments at once (default: 1; on Slurm the array's %N)")
        ->type_name("N");
    c->add_option("--executor", a->opts.executor,
                  "local: each experiment a process here; slurm: the experiments are the tasks of one\n"
                  "Slurm job array. Default: forja.yaml's executor: {kind: ...}, else local")
        ->type_name("local|slurm")
        ->check(CLI::IsMember({"local", "slurm"}));
    c->add_option("--stage-jobs", a->opts.stage_jobs, "Parallel stages inside each experiment (default: 1)")
        ->type_name("N");
    c->add_flag("--json", a->as_json, "Print the experiments as JSON (their output is then only logged)");
    c->footer(std::string(
        "Each experiment starts from the git commit HEAD plus your uncommitted changes, in a git\n"
        "worktree under .forja/exps/<id>/ linked to the shared cache: your files are never touched.\n"
        "Stages any earlier run already ran with the same deps and params are restored from the run\n"
        "cache. Its forja.lock, params, metrics, logs and commit are kept in .forja/exps/<id>/.\n"
        "Exits 1 when an experiment failed.\n\n") + kExitCodesHelp);
    c->callback([a, &g, action] { *action = [a, &g] { return DoExpRun(g, *a); }; });
  }
  {
    auto* c = exp->add_subcommand("show", "A table of the experiments with their metrics and params");
    auto sort_by = std::make_shared<std::string>();
    auto asc = std::make_shared<bool>(false);
    auto as_json = std::make_shared<bool>(false);
    auto md = std::make_shared<bool>(false);
    auto precision = std::make_shared<int>(5);
    c->add_option("--sort-by", *sort_by, "Sort by this metric or param (highest first)")->type_name("NAME");
    c->add_flag("--asc", *asc, "With --sort-by: lowest first");
    c->add_flag("--json", *as_json, "Print every experiment as JSON: params, metrics, dep and out hashes");
    c->add_flag("--md", *md, "Print a Markdown table");
    c->add_option("--precision", *precision, "Digits after the point for floats (default: 5)")->type_name("N");
    c->footer(std::string(
        "The first row is the workspace (its forja.lock and metric files). A metric is named by its\n"
        "key, or path:key when several metric files have that key; a param by its config key, or\n"
        "file:key for a params file.\n\n") + kExitCodesHelp);
    c->callback([=, &g, &action = *action] {
      (void)g;
      action = [=] { return DoExpShow(*sort_by, *asc, *as_json, *md, *precision); };
    });
  }
  {
    auto* c = exp->add_subcommand("apply", "Bring an experiment's outputs and forja.lock into the workspace");
    auto id = std::make_shared<std::string>();
    auto force = std::make_shared<bool>(false);
    c->add_option("id", *id, "The experiment (its id, or a unique prefix)")->required()->type_name("ID");
    c->add_flag("-f,--force", *force, "Overwrite outputs with changes forja has not stored");
    c->footer(std::string(
        "Restores the experiment's outputs from the cache and writes its forja.lock. The overrides it\n"
        "ran with are printed: put them in your config to keep them.\n\n") + kExitCodesHelp);
    c->callback([id, force, &g, action] { *action = [id, force, &g] { return DoExpApply(g, *id, *force); }; });
  }
  {
    auto* c = exp->add_subcommand("remove", "Delete experiments' records (their outputs stay in the cache until gc)");
    auto ids = std::make_shared<std::vector<std::string>>();
    auto all = std::make_shared<bool>(false);
    c->add_option("ids", *ids, "Experiments to remove")->type_name("ID");
    c->add_flag("--all", *all, "Remove every experiment");
    c->footer(kExitCodesHelp);
    c->callback([ids, all, action] { *action = [ids, all] { return DoExpRemove(*ids, *all); }; });
  }
}

}  // namespace forja
