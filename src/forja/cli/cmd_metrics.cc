// forja metrics show / diff and forja params diff.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "forja/cas/cache.h"
#include "forja/cli/cli.h"
#include "forja/cli/table.h"
#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/core/path.h"
#include "forja/pipeline/metric_files.h"
#include "forja/pipeline/project.h"

namespace forja {

namespace {

using json = nlohmann::ordered_json;
using pipeline::GitRevision;
using pipeline::MetricsFile;

enum class Format { kText, kMarkdown, kJson };

struct Common {
  bool as_json = false;
  bool markdown = false;
  int precision = 5;
  Format format() const { return as_json ? Format::kJson : markdown ? Format::kMarkdown : Format::kText; }
};

void Print(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

void PrintTable(const Table& t, Format f) {
  Print(f == Format::kMarkdown ? RenderMarkdown(t) : RenderText(t));
}

json NodeJson(const config::Node& n) { return json::parse(config::ToJson(n, 0)); }
json OptNodeJson(const std::optional<config::Node>& n) { return n ? NodeJson(*n) : json(nullptr); }
json ParamJson(const std::optional<std::string>& value_json) {
  if (!value_json) return nullptr;
  json j = json::parse(*value_json, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? json(*value_json) : j;
}

// The cache of the workspace, for metrics files a revision stored there; null
// when the workspace has no local state yet (a fresh clone).
std::unique_ptr<Cache> OpenCache(const std::string& root) {
  std::string dir = root + "/.forja/cache";
  if (!Exists(dir)) return nullptr;
  return std::make_unique<Cache>(dir, std::vector<LinkType>{LinkType::kCopy});
}

const char kNoMetrics[] =
    "No metrics: declare a stage's metrics files in forja.yaml (metrics: [{eval/metrics.json: {cache: false}}]), "
    "or name files: forja metrics show FILE";

struct ShowArgs : Common {
  std::vector<std::string> targets;
};

int DoMetricsShow(const ShowArgs& a) {
  auto root = pipeline::FindWorkspaceRoot(CurrentDir());
  if (!root.ok()) return Fail(root.status());
  std::vector<std::string> paths;
  if (!a.targets.empty()) {
    for (const auto& t : a.targets) {
      auto rel = ResolveInRepo(*root, CurrentDir(), t);
      if (!rel.ok()) return Fail(rel.status());
      if (!Exists(*root + "/" + *rel))
        return Fail(Status::NotFound("'" + t +
                                     "' does not exist; name a metrics file (JSON or YAML) or a folder of them"));
      paths.push_back(*rel);
    }
  } else {
    std::string warning;
    auto outs = pipeline::WorkspaceMetricOuts(*root, &warning);
    if (!outs.ok()) return Fail(outs.status());
    if (!warning.empty()) LogWarn(warning);
    for (const auto& o : *outs) paths.push_back(o.path);
  }
  auto files = pipeline::ReadWorkspaceMetrics(*root, paths);
  if (!files.ok()) return Fail(files.status());
  for (const MetricsFile& f : *files)
    if (f.missing) LogWarn("metrics file '" + f.path + "' does not exist yet; forja run writes it");
  Table t = MetricsShowTable(*files, a.precision);
  if (a.format() == Format::kJson) {
    json j = json::array();
    for (const MetricsFile& f : *files)
      for (const auto& m : f.metrics)
        j.push_back(json{{"path", f.path}, {"metric", m.key}, {"value", NodeJson(m.value)}});
    OutJson(j);
  } else if (!t.rows.empty()) {
    PrintTable(t, a.format());
  }
  if (paths.empty()) LogInfo(kNoMetrics);
  else if (t.rows.empty() && a.format() != Format::kJson) LogInfo("The metrics files hold no values.");
  return 0;
}

struct DiffArgs : Common {
  std::string rev = "HEAD";
  bool all = false;
};

int DoMetricsDiff(const DiffArgs& a) {
  auto root = pipeline::FindWorkspaceRoot(CurrentDir());
  if (!root.ok()) return Fail(root.status());
  auto rev = GitRevision::Open(*root, a.rev);
  if (!rev.ok()) return Fail(rev.status());
  auto lock = rev->ReadLock();
  if (!lock.ok()) return Fail(lock.status());
  std::string warning;
  auto ws_outs = pipeline::WorkspaceMetricOuts(*root, &warning);
  if (!ws_outs.ok()) return Fail(ws_outs.status());
  if (!warning.empty()) LogWarn(warning);
  std::vector<std::string> ws_paths;
  for (const auto& o : *ws_outs) ws_paths.push_back(o.path);
  auto new_files = pipeline::ReadWorkspaceMetrics(*root, ws_paths);
  if (!new_files.ok()) return Fail(new_files.status());
  for (const MetricsFile& f : *new_files)
    if (f.missing) LogWarn("metrics file '" + f.path + "' does not exist in the workspace; forja run writes it");
  auto rev_outs = pipeline::LockMetricOuts(*lock);
  auto cache = OpenCache(*root);
  auto old_files = pipeline::ReadRevisionMetrics(*rev, rev_outs, cache.get());
  if (!old_files.ok()) return Fail(old_files.status());
  auto dvc_files = pipeline::ReadRevisionDvcMetrics(*rev, *root, rev_outs);  // dvc.yaml's top-level metrics:
  if (!dvc_files.ok()) return Fail(dvc_files.status());
  for (auto& f : *dvc_files) old_files->push_back(std::move(f));

  auto diffs = pipeline::DiffMetrics(*old_files, *new_files, a.all);
  if (a.format() == Format::kJson) {
    json j = json::array();
    for (const auto& d : diffs)
      j.push_back(json{{"path", d.path},
                       {"metric", d.key},
                       {"old", OptNodeJson(d.old_value)},
                       {"new", OptNodeJson(d.new_value)},
                       {"change", OptNodeJson(d.change)}});
    OutJson(j);
    return 0;
  }
  if (!diffs.empty()) {
    PrintTable(MetricsDiffTable(diffs, a.rev, a.precision), a.format());
  } else if (ws_outs->empty() && rev_outs.empty()) {
    LogInfo(kNoMetrics);
  } else {
    LogInfo("No metric changed between " + a.rev + " and the workspace" + (a.all ? "" : " (--all lists them all)"));
  }
  return 0;
}

struct ParamsArgs : Common {
  std::vector<std::string> args;
  bool all = false;
};

int DoParamsDiff(const ParamsArgs& a) {
  std::string rev_name;
  std::vector<std::string> revs, overrides;
  SplitOverrides(a.args, &revs, &overrides);
  if (revs.size() > 1)
    return Fail(Status::Usage("params diff compares with one revision, got '" + revs[0] + "' and '" + revs[1] +
                              "' (overrides are key=value); see forja params diff --help"));
  if (!revs.empty()) rev_name = revs[0];
  if (rev_name.empty()) rev_name = "HEAD";
  auto root = pipeline::FindWorkspaceRoot(CurrentDir());
  if (!root.ok()) return Fail(root.status());
  auto rev = GitRevision::Open(*root, rev_name);
  if (!rev.ok()) return Fail(rev.status());
  auto lock = rev->ReadLock();
  if (!lock.ok()) return Fail(lock.status());
  auto project = pipeline::LoadProject(*root, overrides);
  if (!project.ok()) return Fail(project.status());
  auto current = pipeline::CurrentParams(*project);
  if (!current.ok()) return Fail(current.status());
  auto old_params = pipeline::LockParamsOf(*lock);
  auto dvc_params = pipeline::ReadRevisionDvcParams(*rev, *project);  // dvc.yaml's top-level params:
  if (!dvc_params.ok()) return Fail(dvc_params.status());
  old_params = pipeline::MergeParams({old_params, *dvc_params});

  auto diffs = pipeline::DiffParams(old_params, *current, a.all);
  if (a.format() == Format::kJson) {
    json j = json::array();
    for (const auto& d : diffs)
      j.push_back(json{
          {"path", d.source}, {"param", d.key}, {"old", ParamJson(d.old_json)}, {"new", ParamJson(d.new_json)}});
    OutJson(j);
    return 0;
  }
  if (!diffs.empty()) {
    PrintTable(ParamsDiffTable(diffs, rev_name), a.format());
  } else if (current->empty() && old_params.empty()) {
    LogInfo("No params: list a stage's params in forja.yaml (params: [train.lr, {params.yaml: [seed]}])");
  } else {
    LogInfo("No param changed between " + rev_name + " and the workspace" + (a.all ? "" : " (--all lists them all)"));
  }
  return 0;
}

void AddFormatFlags(CLI::App* c, Common* common, const char* json_help) {
  auto* j = c->add_flag("--json", common->as_json, json_help);
  auto* m = c->add_flag("--md", common->markdown, "Print a GitHub Markdown table (e.g. for a pull request comment)");
  j->excludes(m);
}

void AddPrecision(CLI::App* c, Common* common) {
  c->add_option("--precision", common->precision,
                "Round floats to N digits after the point in tables (default 5; JSON keeps full precision)")
      ->type_name("N")
      ->check(CLI::Range(0, 17));
}

}  // namespace

void RegisterMetricsCommands(CLI::App& app, GlobalOptions& g, Action* action) {
  (void)g;
  const char* metrics_files =
      "Metrics files are the metrics: outs of forja.yaml's stages (when forja.yaml cannot be\n"
      "loaded, the metric outs forja.lock lists), JSON or YAML; a folder means the .json, .yaml\n"
      "and .yml files inside it. Nested mappings flatten to dotted keys (train.loss) and lists to\n"
      "indexes (acc.0); numbers, bools and strings are values.\n";
  auto* metrics = app.add_subcommand("metrics", "Show the pipeline's metrics, or compare them with a git revision");
  metrics->require_subcommand(1);
  metrics->footer(std::string(metrics_files) + "\n" + kExitCodesHelp);
  {
    auto* c = metrics->add_subcommand("show", "Print the workspace's metrics: path, metric, value");
    auto a = std::make_shared<ShowArgs>();
    c->add_option("targets", a->targets,
                  "Metrics files or folders to show (default: every metrics file of the pipeline); any JSON\n"
                  "or YAML file works, declared or not")
        ->type_name("PATH");
    AddFormatFlags(c, a.get(), "Print a JSON array of {path, metric, value}");
    AddPrecision(c, a.get());
    c->footer(std::string(metrics_files) +
              "A metrics file that does not exist yet (its stage has not run) is a warning. A malformed\n"
              "file is an error naming file, line and column.\n"
              "  forja metrics show\n"
              "  forja metrics show eval/metrics.json --json\n\n" +
              kExitCodesHelp);
    c->callback([a, action] { *action = [a] { return DoMetricsShow(*a); }; });
  }
  {
    auto* c = metrics->add_subcommand("diff", "Compare the workspace's metrics with a git revision's");
    auto a = std::make_shared<DiffArgs>();
    c->add_option("rev", a->rev, "The commit, branch or tag to compare with (default: HEAD)")->type_name("REV");
    c->add_flag("-a,--all", a->all, "List unchanged metrics too");
    AddFormatFlags(c, a.get(), "Print a JSON array of {path, metric, old, new, change} (null when absent)");
    AddPrecision(c, a.get());
    c->footer(std::string(metrics_files) +
              "The revision's metrics files are the metric outs of its forja.lock: read from git when\n"
              "they are versioned there (cache: false), else from the forja cache by the hash forja.lock\n"
              "records (forja pull fetches what is missing). Columns: Path, Metric, the revision's value,\n"
              "the workspace's, and Change (workspace minus revision, for numbers); '-' marks a value\n"
              "that one side does not have. Only changed metrics are listed unless --all.\n"
              "Exits 0 whether or not metrics changed.\n"
              "  forja metrics diff              # HEAD vs the workspace\n"
              "  forja metrics diff main --md    # for a pull request comment\n\n" +
              kExitCodesHelp);
    c->callback([a, action] { *action = [a] { return DoMetricsDiff(*a); }; });
  }

  auto* params = app.add_subcommand("params", "Compare the pipeline's params with a git revision's");
  params->require_subcommand(1);
  params->footer(std::string(kExitCodesHelp));
  {
    auto* c = params->add_subcommand("diff", "Compare the params the stages read now with those of a git revision");
    auto a = std::make_shared<ParamsArgs>();
    c->add_option("args", a->args,
                  "The commit, branch or tag to compare with (default: HEAD), and config overrides\n"
                  "(key=value, +key=value, ~key; Hydra's grammar) applied to the workspace's configuration")
        ->type_name("REV|OVERRIDE");
    c->add_flag("-a,--all", a->all, "List unchanged params too");
    AddFormatFlags(c, a.get(), "Print a JSON array of {path, param, old, new} (null when absent)");
    c->footer(std::string(
                  "The workspace's side is what each stage's params: (forja.yaml) read now: keys of the\n"
                  "configuration composed with the overrides (Path 'config'), or keys of params files\n"
                  "(Path is the file). The revision's side is what its forja.lock recorded when the stages\n"
                  "last ran. A param several stages read is listed once. Only changed params are listed\n"
                  "unless --all; '-' marks a param that one side does not have. Exits 0 whether or not\n"
                  "params changed.\n"
                  "  forja params diff\n"
                  "  forja params diff v1 train.lr=0.1 --md\n\n") +
              kExitCodesHelp);
    c->callback([a, action] { *action = [a] { return DoParamsDiff(*a); }; });
  }
}

}  // namespace forja
