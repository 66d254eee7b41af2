// forja exp list, forja runs list / show / compare: the tracking store.
#include <CLI/CLI.hpp>
#include <cmath>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "forja/api/codec.h"
#include "forja/cli/cli.h"
#include "forja/cli/store.h"
#include "forja/cli/table.h"
#include "forja/core/log.h"

namespace forja {

std::string FormatTime(int64_t ms) {
  if (ms <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string FormatNumber(double v) {
  if (std::isnan(v)) return "nan";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

namespace {

using api::Json;

std::string Duration(const meta::RunInfo& i) {
  if (!i.end_time || *i.end_time < i.start_time) return "-";
  double s = static_cast<double>(*i.end_time - i.start_time) / 1000.0;
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.1fs", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%.1fm", s / 60);
  else std::snprintf(buf, sizeof buf, "%.1fh", s / 3600);
  return buf;
}

struct ExpListArgs {
  std::string store;
  bool all = false;
  bool as_json = false;
};

int DoExpList(const ExpListArgs& a) {
  auto store = OpenStore(a.store);
  if (!store.ok()) return Fail(store.status());
  meta::Query q;
  q.view = a.all ? meta::ViewType::kAll : meta::ViewType::kActive;
  q.page.max_results = 1000;
  std::vector<meta::Experiment> all;
  for (;;) {
    auto page = (*store)->SearchExperiments(q);
    if (!page.ok()) return Fail(page.status());
    all.insert(all.end(), page->items.begin(), page->items.end());
    if (page->next_page_token.empty()) break;
    q.page.token = page->next_page_token;
  }
  if (a.as_json) {
    Json list = Json::array();
    for (const auto& e : all) list.push_back(api::ToJson(e));
    OutJson(Json{{"experiments", list}});
    return 0;
  }
  if (all.empty()) {
    Out("No experiments");
    return 0;
  }
  Table t;
  t.header = {"ID", "Name", "Created", "Updated", "State", "Artifacts"};
  for (const auto& e : all)
    t.rows.push_back({e.id, e.name, FormatTime(e.creation_time), FormatTime(e.last_update_time), e.lifecycle_stage,
                      e.artifact_location});
  PrintText(t);
  return 0;
}

struct RunsListArgs {
  std::string store;
  std::vector<std::string> experiments;
  std::string filter;
  std::vector<std::string> order_by;
  int64_t max = 50;
  bool all = false;
  bool as_json = false;
};

// Experiment names or ids to ids; none given: the workspace's experiment.
Result<std::vector<std::string>> ExperimentIds(meta::MetaStore& store, const std::vector<std::string>& given,
                                               const StoreContext& ctx) {
  std::vector<std::string> names = given;
  if (names.empty()) {
    if (ctx.experiment.empty()) return Status::User("name an experiment with --experiment (see forja exp list)");
    names.push_back(ctx.experiment);
  }
  std::vector<std::string> ids;
  for (const std::string& n : names) {
    auto e = store.GetExperimentByName(n);
    if (e.ok()) {
      ids.push_back(e->id);
      continue;
    }
    if (e.status().code() != Code::kNotFound) return e.status();
    auto byid = store.GetExperiment(n);
    if (!byid.ok())
      return Status::NotFound("no experiment named or numbered '" + n + "' in " + store.uri() + " (see forja exp list)");
    ids.push_back(byid->id);
  }
  return ids;
}

int DoRunsList(const RunsListArgs& a) {
  StoreContext ctx;
  auto store = OpenStore(a.store, &ctx);
  if (!store.ok()) return Fail(store.status());
  auto ids = ExperimentIds(**store, a.experiments, ctx);
  if (!ids.ok()) return Fail(ids.status());
  meta::RunQuery q;
  q.experiment_ids = *ids;
  q.filter = a.filter;
  q.order_by = a.order_by;
  q.view = a.all ? meta::ViewType::kAll : meta::ViewType::kActive;
  q.page.max_results = a.max;
  auto page = (*store)->SearchRuns(q);
  if (!page.ok()) return Fail(page.status());
  if (a.as_json) {
    Json list = Json::array();
    for (const auto& r : page->items) list.push_back(api::ToJson(r));
    Json out{{"runs", list}};
    if (!page->next_page_token.empty()) out["next_page_token"] = page->next_page_token;
    OutJson(out);
    return 0;
  }
  if (page->items.empty()) {
    Out("No runs");
    return 0;
  }
  // The metric columns: every key any listed run has, in first-seen order (at most 8).
  std::vector<std::string> keys;
  std::set<std::string> seen;
  for (const auto& r : page->items)
    for (const auto& m : r.metrics)
      if (keys.size() < 8 && seen.insert(m.key).second) keys.push_back(m.key);
  Table t;
  t.header = {"Run", "Name", "Status", "Started", "Duration"};
  for (const auto& k : keys) t.header.push_back(k);
  for (const auto& r : page->items) {
    std::vector<std::string> row = {r.info.run_id, r.info.run_name, r.info.status, FormatTime(r.info.start_time),
                                    Duration(r.info)};
    for (const auto& k : keys) {
      std::string cell = "-";
      for (const auto& m : r.metrics)
        if (m.key == k) cell = FormatNumber(m.value);
      row.push_back(cell);
    }
    t.rows.push_back(std::move(row));
  }
  PrintText(t);
  if (!page->next_page_token.empty()) LogInfo("(more runs: raise --max, or narrow with --filter)");
  return 0;
}

struct RunsShowArgs {
  std::string store;
  std::string run_id;
  bool as_json = false;
};

int DoRunsShow(const RunsShowArgs& a) {
  auto store = OpenStore(a.store);
  if (!store.ok()) return Fail(store.status());
  auto run = (*store)->GetRun(a.run_id);
  if (!run.ok()) return Fail(run.status());
  auto lineage = (*store)->GetLineage(a.run_id);
  if (!lineage.ok()) return Fail(lineage.status());
  std::string root = run->info.artifact_uri.starts_with("mlflow-artifacts:/") ? run->info.artifact_uri.substr(18)
                                                                                : run->info.artifact_uri;
  auto artifacts = (*store)->ListArtifacts(root);
  if (a.as_json) {
    Json j = api::ToJson(*run);
    Json in = Json::array(), out = Json::array();
    for (const auto& l : *lineage) (l.direction == "input" ? in : out).push_back(api::ToJson(l));
    j["lineage"] = {{"inputs", in}, {"outputs", out}};
    Json files = Json::array();
    if (artifacts.ok())
      for (const auto& e : *artifacts) files.push_back({{"path", e.path}, {"is_dir", e.is_dir}, {"file_size", e.size}});
    j["artifacts"] = files;
    OutJson(j);
    return 0;
  }
  const meta::RunInfo& i = run->info;
  Out("Run " + i.run_id + " (" + i.run_name + ")");
  Out("  experiment " + i.experiment_id + ", " + i.status + ", started " + FormatTime(i.start_time) +
      (i.end_time ? ", ended " + FormatTime(*i.end_time) + " (" + Duration(i) + ")" : "") + ", by " + i.user_id);
  Out("  artifacts  " + i.artifact_uri);
  auto section = [](const std::string& title, const Table& t) {
    Out("");
    Out(title);
    if (t.rows.empty()) {
      Out("  (none)");
      return;
    }
    std::string text = RenderText(t);
    std::string indented;
    for (size_t s = 0; s < text.size();) {
      size_t e = text.find('\n', s);
      if (e == std::string::npos) e = text.size();
      indented += "  " + text.substr(s, e - s) + "\n";
      s = e + 1;
    }
    while (!indented.empty() && indented.back() == '\n') indented.pop_back();
    Out(indented);
  };
  Table params{{"Param", "Value"}, {}}, metrics{{"Metric", "Value", "Step"}, {}}, tags{{"Tag", "Value"}, {}};
  for (const auto& p : run->params) params.rows.push_back({p.key, p.value});
  for (const auto& m : run->metrics) metrics.rows.push_back({m.key, FormatNumber(m.value), std::to_string(m.step)});
  for (const auto& t : run->tags) tags.rows.push_back({t.key, t.value});
  Table lin{{"Direction", "Path", "Hash", "Size"}, {}};
  for (const auto& l : *lineage) lin.rows.push_back({l.direction, l.path, l.hash.substr(0, 19), std::to_string(l.size)});
  section("Params", params);
  section("Metrics", metrics);
  section("Tags", tags);
  section("Lineage", lin);
  if (artifacts.ok() && !artifacts->empty()) {
    Table files{{"Artifact", "Size"}, {}};
    for (const auto& e : *artifacts) files.rows.push_back({e.path + (e.is_dir ? "/" : ""), e.is_dir ? "-" : std::to_string(e.size)});
    section("Artifacts", files);
  }
  return 0;
}

struct RunsCompareArgs {
  std::string store;
  std::vector<std::string> run_ids;
  bool all = false;
  bool as_json = false;
};

int DoRunsCompare(const RunsCompareArgs& a) {
  if (a.run_ids.size() < 2) return Fail(Status::Usage("compare needs at least two run ids"));
  auto store = OpenStore(a.store);
  if (!store.ok()) return Fail(store.status());
  std::vector<meta::Run> runs;
  for (const auto& id : a.run_ids) {
    auto r = (*store)->GetRun(id);
    if (!r.ok()) return Fail(r.status());
    runs.push_back(std::move(*r));
  }
  // Rows: params., then metrics.; columns: the runs.
  std::vector<std::string> keys;
  std::set<std::string> seen;
  std::vector<std::map<std::string, std::string>> values(runs.size());
  for (size_t i = 0; i < runs.size(); i++) {
    for (const auto& p : runs[i].params) values[i]["params." + p.key] = p.value;
    for (const auto& m : runs[i].metrics) values[i]["metrics." + m.key] = FormatNumber(m.value);
  }
  for (const char* prefix : {"params.", "metrics."})
    for (const auto& v : values)
      for (const auto& [k, x] : v)
        if (k.starts_with(prefix) && seen.insert(k).second) keys.push_back(k);
  if (a.as_json) {
    Json out = Json::array();
    for (const auto& k : keys) {
      Json row{{"key", k}};
      Json cells = Json::object();
      for (size_t i = 0; i < runs.size(); i++) {
        auto it = values[i].find(k);
        cells[runs[i].info.run_id] = it == values[i].end() ? Json(nullptr) : Json(it->second);
      }
      row["values"] = cells;
      out.push_back(row);
    }
    OutJson(Json{{"runs", a.run_ids}, {"rows", out}});
    return 0;
  }
  Table t;
  t.header = {"Key"};
  for (const auto& r : runs) t.header.push_back(r.info.run_name.empty() ? r.info.run_id.substr(0, 8) : r.info.run_name);
  for (const auto& k : keys) {
    std::vector<std::string> row = {k};
    std::set<std::string> distinct;
    for (size_t i = 0; i < runs.size(); i++) {
      auto it = values[i].find(k);
      row.push_back(it == values[i].end() ? "-" : it->second);
      distinct.insert(row.back());
    }
    if (a.all || distinct.size() > 1) t.rows.push_back(std::move(row));
  }
  if (t.rows.empty()) {
    Out("The runs have the same params and metrics (--all lists them)");
    return 0;
  }
  PrintText(t);
  return 0;
}

}  // namespace

void RegisterTrackingCommands(CLI::App& app, GlobalOptions& g, Action* action) {
  (void)g;
  const std::string footer = std::string(
      "\nRuns are recorded by forja run (one per run that ran or restored a stage) and by MLflow\n"
      "clients logging to forja server. The store is --store, else FORJA_TRACKING_URI, else\n"
      "forja.yaml's tracking.uri, else the workspace's .forja/forja.db.\n\n") + kExitCodesHelp;
  CLI::App* exp = app.get_subcommand("exp");
  {
    auto* c = exp->add_subcommand("list", "List the tracking store's experiments");
    auto a = std::make_shared<ExpListArgs>();
    AddStoreOption(c, &a->store);
    c->add_flag("--all", a->all, "Also deleted experiments");
    c->add_flag("--json", a->as_json, "Print JSON (MLflow's experiment objects)");
    c->footer(footer);
    c->callback([a, action] { *action = [a] { return DoExpList(*a); }; });
  }
  auto* runs = app.add_subcommand("runs", "List, show and compare tracked runs");
  runs->require_subcommand(1);
  runs->footer(footer);
  {
    auto* c = runs->add_subcommand("list", "Runs of experiments, newest first (or as --order-by says)");
    auto a = std::make_shared<RunsListArgs>();
    AddStoreOption(c, &a->store);
    c->add_option("-e,--experiment", a->experiments,
                  "Experiment name or id (repeatable; default: the workspace's, forja.yaml tracking.experiment)")
        ->type_name("NAME");
    c->add_option("--filter", a->filter,
                  "MLflow's filter grammar: metrics.auc > 0.8 and params.model = 'xgb' and tags.team LIKE 'ml%'\n"
                  "(=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN; attributes: status, run_name, start_time, ...)")
        ->type_name("FILTER");
    c->add_option("--order-by", a->order_by, "e.g. 'metrics.auc DESC' (repeatable; default: start_time DESC)")
        ->type_name("KEY [ASC|DESC]");
    c->add_option("--max", a->max, "At most N runs (default 50)")->type_name("N")->check(CLI::Range(1, 50000));
    c->add_flag("--all", a->all, "Also deleted runs");
    c->add_flag("--json", a->as_json, "Print JSON (MLflow's run objects)");
    c->footer(footer);
    c->callback([a, action] { *action = [a] { return DoRunsList(*a); }; });
  }
  {
    auto* c = runs->add_subcommand("show", "A run's params, metrics, tags, lineage (data and models by hash) and artifacts");
    auto a = std::make_shared<RunsShowArgs>();
    AddStoreOption(c, &a->store);
    c->add_option("run_id", a->run_id, "The run")->required()->type_name("RUN_ID");
    c->add_flag("--json", a->as_json, "Print JSON");
    c->footer(footer);
    c->callback([a, action] { *action = [a] { return DoRunsShow(*a); }; });
  }
  {
    auto* c = runs->add_subcommand("compare", "Params and metrics of runs side by side (only the differences)");
    auto a = std::make_shared<RunsCompareArgs>();
    AddStoreOption(c, &a->store);
    c->add_option("run_ids", a->run_ids, "Two or more runs")->required()->type_name("RUN_ID...");
    c->add_flag("--all", a->all, "Also the params and metrics that are the same");
    c->add_flag("--json", a->as_json, "Print JSON");
    c->footer(footer);
    c->callback([a, action] { *action = [a] { return DoRunsCompare(*a); }; });
  }
}

}  // namespace forja
