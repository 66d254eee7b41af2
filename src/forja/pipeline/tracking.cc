#include "forja/pipeline/tracking.h"

#include <pwd.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

#include "forja/core/fs.h"
#include "forja/core/git.h"
#include "forja/core/redact.h"
#include "forja/data/lockfile.h"
#include "forja/pipeline/metric_files.h"
#include "forja/pipeline/params.h"
#include "forja/pipeline/project.h"

namespace forja::pipeline {

using config::Node;

Result<TrackingSettings> ReadTrackingSettings(const std::string& root, const Node& forja_yaml) {
  TrackingSettings s;
  s.experiment = Basename(root);
  const Node* t = forja_yaml.is_map() ? forja_yaml.Find("tracking") : nullptr;
  std::string uri;
  if (t && !t->is_null()) {
    if (!t->is_map()) return Status::User(t->origin() + ": tracking: expected a mapping (uri, experiment, enabled)");
    for (const auto& [k, v] : t->entries()) {
      if (k == "enabled") {
        if (v.kind() != Node::Kind::kBool) return Status::User(v.origin() + ": tracking.enabled: expected true or false");
        s.enabled = v.as_bool();
      } else if (k == "uri" || k == "experiment") {
        if (!v.is_string() || v.as_string().empty())
          return Status::User(v.origin() + ": tracking." + k + ": expected a non-empty string");
        // forja.yaml is versioned: a password there would be committed (the value is not echoed).
        if (k == "uri" && HasCredentials(v.as_string()))
          return Status::User(v.origin() + ": tracking.uri: a password does not belong in forja.yaml (it is "
                              "versioned); keep it in PGPASSWORD or ~/.pgpass, or set FORJA_TRACKING_URI");
        (k == "uri" ? uri : s.experiment) = v.as_string();
      } else {
        return Status::User(v.origin() + ": tracking." + k + ": unknown field (known: uri, experiment, enabled)");
      }
    }
  }
  if (const char* env = std::getenv("FORJA_TRACKING_URI"); env && *env) uri = env;
  if (const char* env = std::getenv("FORJA_TRACKING_EXPERIMENT"); env && *env) s.experiment = env;
  if (uri.empty()) {
    s.uri = "sqlite:///" + root + "/.forja/forja.db";
  } else if (uri.starts_with("sqlite:///") && uri.size() > 10 && uri[10] != '/') {
    s.uri = "sqlite:///" + root + "/" + uri.substr(10);  // relative to the workspace
  } else {
    s.uri = uri;
  }
  return s;
}

namespace {

std::string User() {
  if (const char* u = std::getenv("USER"); u && *u) return u;
  if (struct passwd* pw = ::getpwuid(::getuid())) return pw->pw_name;
  return "unknown";
}

std::string GitCommit(const std::string& root) {
  auto r = RunGit(root, {"rev-parse", "--verify", "-q", "HEAD"});
  if (!r.ok() || r->exit_code != 0) return "";
  std::string out = r->out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out.size() == 40 ? out : "";
}

bool MetricValue(const Node& n, double* v) {
  switch (n.kind()) {
    case Node::Kind::kInt: *v = static_cast<double>(n.as_int()); return true;
    case Node::Kind::kFloat: *v = n.as_float(); return true;
    case Node::Kind::kBool: *v = n.as_bool() ? 1 : 0; return true;
    default: return false;
  }
}

const char* StatusOf(const RunSummary& s) {
  if (s.interrupted_by) return "KILLED";
  return s.failed() ? "FAILED" : "FINISHED";
}

}  // namespace

Result<RecordedRun> RecordRun(meta::MetaStore& store, const TrackingSettings& settings, const Project& project,
                              const RunSummary& summary, int64_t start_ms, int64_t end_ms,
                              const std::vector<meta::Tag>& extra_tags) {
  RecordedRun out;
  auto exp = store.GetExperimentByName(settings.experiment);
  if (exp.ok()) {
    out.experiment_id = exp->id;
  } else if (exp.status().code() == Code::kNotFound) {
    auto made = store.CreateExperiment(settings.experiment, "", {});
    if (made.ok()) {
      out.experiment_id = *made;
    } else if (made.status().code() == Code::kExists) {  // made by another process meanwhile
      ASSIGN_OR_RETURN(meta::Experiment e, store.GetExperimentByName(settings.experiment));
      out.experiment_id = e.id;
    } else {
      return made.status();
    }
  } else {
    return exp.status();
  }

  std::string user = User();
  std::vector<meta::Tag> tags = {{"mlflow.user", user},
                                 {"mlflow.source.name", "forja run"},
                                 {"mlflow.source.type", "PROJECT"},
                                 {"forja.run_id", summary.run_id}};
  std::string commit = GitCommit(project.root);
  if (!commit.empty()) tags.push_back({"mlflow.source.git.commit", commit});
  std::string ran, restored;
  for (const StageResult& r : summary.stages) {
    if (r.outcome == Outcome::kRan) ran += (ran.empty() ? "" : ",") + r.name;
    if (r.outcome == Outcome::kRestored) restored += (restored.empty() ? "" : ",") + r.name;
  }
  if (!ran.empty()) tags.push_back({"forja.stages.ran", ran.substr(0, 8000)});
  if (!restored.empty()) tags.push_back({"forja.stages.restored", restored.substr(0, 8000)});
  for (const auto& t : extra_tags) tags.push_back(t);
  if (const char* exp_id = std::getenv("FORJA_EXP_ID"); exp_id && *exp_id) tags.push_back({"forja.exp", exp_id});
  // Set by `forja agent` for the runs it starts: the trigger that started this one.
  if (const char* trig = std::getenv("FORJA_AGENT_TRIGGER"); trig && *trig) tags.push_back({"forja.agent.trigger", trig});
  ASSIGN_OR_RETURN(meta::Run run, store.CreateRun(out.experiment_id, user, summary.run_id, start_ms, tags));
  out.run_id = run.info.run_id;

  // Params: the values this run used (the config composed with its overrides),
  // flattened as exp show flattens them; a failed stage's lock entry would be stale.
  ASSIGN_OR_RETURN(Lock lock, ReadLock(project.root));
  std::vector<meta::Param> params;
  auto current = CurrentParams(project);
  const std::vector<LockParams> sources = current.ok() ? *current : LockParamsOf(lock);
  std::set<std::string> seen_params;
  for (const LockParams& lp : sources)
    for (const LockParam& p : lp.values) {
      std::string key = lp.source == kComposedParams ? p.key : lp.source + ":" + p.key;
      for (const auto& [k, v] : FlattenParam(key, p.value_json))
        if (seen_params.insert(k).second) params.push_back({k, FormatParam(v).substr(0, 6000)});
    }

  // Metrics: the stages' metrics files as they are after the run.
  std::vector<meta::Metric> metrics;
  std::string warning;
  auto outs = WorkspaceMetricOuts(project.root, &warning);
  if (outs.ok()) {
    std::vector<std::string> paths;
    for (const MetricOut& o : *outs) paths.push_back(o.path);
    auto files = ReadWorkspaceMetrics(project.root, paths);
    if (files.ok()) {
      std::set<std::string> seen;
      for (const MetricsFile& f : *files)
        for (const Metric& m : f.metrics) {
          double v;
          std::string key = m.key.empty() ? Basename(f.path) : m.key;
          if (!MetricValue(m.value, &v) || !seen.insert(key).second) continue;
          metrics.push_back({key, v, end_ms, 0});
        }
    }
  }
  for (size_t i = 0; i < std::max(params.size(), metrics.size()); i += 100) {
    std::vector<meta::Param> ps(params.begin() + static_cast<long>(std::min(i, params.size())),
                                params.begin() + static_cast<long>(std::min(i + 100, params.size())));
    std::vector<meta::Metric> ms(metrics.begin() + static_cast<long>(std::min(i, metrics.size())),
                                 metrics.begin() + static_cast<long>(std::min(i + 100, metrics.size())));
    RETURN_IF_ERROR(store.LogBatch(out.run_id, ms, ps, {}));
  }
  out.params = params.size();
  out.metrics = metrics.size();

  // Lineage: what no stage produced is an input; every out is an output.
  std::set<std::string> produced;
  for (const LockStage& st : lock.stages)
    for (const LockFile& o : st.outs) produced.insert(o.path);
  std::map<std::string, meta::LineageItem> items;
  for (const LockStage& st : lock.stages) {
    for (const LockFile& d : st.deps)
      if (!produced.count(d.path))
        items["input:" + d.path] = {"input", d.path, "sha256:" + d.oid.Hex(), d.is_dir ? "dir" : "file",
                                    static_cast<int64_t>(d.size)};
    for (const LockFile& o : st.outs)
      items["output:" + o.path] = {"output", o.path, "sha256:" + o.oid.Hex(), o.is_dir ? "dir" : "file",
                                   static_cast<int64_t>(o.size)};
  }
  std::vector<meta::LineageItem> list;
  for (auto& [k, v] : items) {
    (v.direction == "input" ? out.inputs : out.outputs)++;
    list.push_back(std::move(v));
  }
  for (size_t i = 0; i < list.size(); i += 500) {
    std::vector<meta::LineageItem> chunk(list.begin() + static_cast<long>(i),
                                         list.begin() + static_cast<long>(std::min(i + 500, list.size())));
    RETURN_IF_ERROR(store.LogLineage(out.run_id, chunk));
  }
  RETURN_IF_ERROR(store.UpdateRun(out.run_id, StatusOf(summary), end_ms, "").status());
  return out;
}

}  // namespace forja::pipeline
