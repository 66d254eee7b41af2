// The tracking routes: experiments, runs, their metrics, params and tags, searches,
// metric history, a run's artifact listing, and forja's lineage of runs. The bodies of
// runs/log-batch and runs/log-metric are read in ingest.cc, runs/log-inputs in dataset_routes.cc.
#include <nlohmann/json.hpp>

#include "forja/api/server_impl.h"

namespace forja::api {

using Impl = TrackingServer::Impl;

// ---- experiments ---------------------------------------------------------------------------

Result<Json> Impl::CreateExperiment(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
  ASSIGN_OR_RETURN(std::string loc, p.Str("artifact_location"));
  ASSIGN_OR_RETURN(auto tags, TagsFromJson(p.body(), "tags"));
  ASSIGN_OR_RETURN(std::string id, store->CreateExperiment(name, loc, tags));
  return Json{{"experiment_id", id}};
}

Result<Json> Impl::GetExperiment(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, p.Str("experiment_id", true));
  ASSIGN_OR_RETURN(meta::Experiment e, store->GetExperiment(id));
  return Json{{"experiment", ToJson(e)}};
}

Result<Json> Impl::GetExperimentByName(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string name, p.Str("experiment_name", true));
  ASSIGN_OR_RETURN(meta::Experiment e, store->GetExperimentByName(name));
  return Json{{"experiment", ToJson(e)}};
}

Result<Json> Impl::SearchExperiments(const Params& p, const Caller&) {
  meta::Query q;
  RETURN_IF_ERROR(p.Search("view_type", 1000, &q));
  ASSIGN_OR_RETURN(auto page, store->SearchExperiments(q));
  return SearchAnswer("experiments", ListToJson(page.items), page.next_page_token);
}

Result<Json> Impl::UpdateExperiment(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, p.Str("experiment_id", true));
  ASSIGN_OR_RETURN(std::string name, p.Str("new_name", true));
  RETURN_IF_ERROR(store->RenameExperiment(id, name));
  return Json::object();
}

Result<Json> Impl::DeleteExperiment(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, p.Str("experiment_id", true));
  RETURN_IF_ERROR(store->SetExperimentLifecycle(id, true));
  return Json::object();
}

Result<Json> Impl::RestoreExperiment(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, p.Str("experiment_id", true));
  RETURN_IF_ERROR(store->SetExperimentLifecycle(id, false));
  return Json::object();
}

Result<Json> Impl::SetExperimentTag(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, p.Str("experiment_id", true));
  ASSIGN_OR_RETURN(std::string key, p.Str("key", true));
  ASSIGN_OR_RETURN(std::string value, p.Str("value"));
  RETURN_IF_ERROR(store->SetExperimentTag(id, {key, value}));
  return Json::object();
}

Result<Json> Impl::DeleteExperimentTag(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, p.Str("experiment_id", true));
  ASSIGN_OR_RETURN(std::string key, p.Str("key", true));
  RETURN_IF_ERROR(store->DeleteExperimentTag(id, key));
  return Json::object();
}

// ---- runs ------------------------------------------------------------------------------------

Result<Json> Impl::CreateRun(const Params& p, const Caller& c) {
  ASSIGN_OR_RETURN(std::string exp, p.Str("experiment_id"));
  ASSIGN_OR_RETURN(std::string user, p.Str("user_id"));
  ASSIGN_OR_RETURN(std::string name, p.Str("run_name"));
  ASSIGN_OR_RETURN(int64_t start, p.Int("start_time", 0));
  ASSIGN_OR_RETURN(auto tags, TagsFromJson(p.body(), "tags"));
  if (user.empty()) user = c.user;
  ASSIGN_OR_RETURN(meta::Run run, store->CreateRun(exp, user, name, start, tags));
  return Json{{"run", ToJson(run)}};
}

Result<Json> Impl::UpdateRun(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, p.RunId());
  ASSIGN_OR_RETURN(std::string status, p.Str("status"));
  ASSIGN_OR_RETURN(std::string name, p.Str("run_name"));
  std::optional<int64_t> end;
  if (p.body().contains("end_time") && !p.body()["end_time"].is_null()) {
    ASSIGN_OR_RETURN(int64_t e, p.Int("end_time", 0));
    end = e;
  }
  ASSIGN_OR_RETURN(meta::RunInfo info, store->UpdateRun(id, status, end, name));
  return Json{{"run_info", ToJson(info)}};
}

Result<Json> Impl::DeleteRun(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, p.RunId());
  RETURN_IF_ERROR(store->SetRunLifecycle(id, true));
  return Json::object();
}

Result<Json> Impl::RestoreRun(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, p.RunId());
  RETURN_IF_ERROR(store->SetRunLifecycle(id, false));
  return Json::object();
}

Result<Json> Impl::GetRun(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, p.RunId());
  ASSIGN_OR_RETURN(meta::Run run, store->GetRun(id));
  return Json{{"run", ToJson(run)}};
}

// ---- what runs log ------------------------------------------------------------------------------

Result<Json> Impl::LogMetric(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(LogBatchBody b, ReadLogMetric(p));
  return Ingest(b);
}

Result<Json> Impl::LogBatch(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(LogBatchBody b, ReadLogBatch(p));
  return Ingest(b);
}

Result<Json> Impl::Ingest(const LogBatchBody& b) {
  RETURN_IF_ERROR(store->LogBatch(b.run_id, b.metrics, b.params, b.tags));
  metrics.Add("forja_tracking_metric_points_total", "", static_cast<double>(b.metrics.size()));
  return Json::object();
}

Result<Json> Impl::LogParam(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, p.RunId());
  ASSIGN_OR_RETURN(std::string key, p.Str("key", true));
  ASSIGN_OR_RETURN(std::string value, p.Str("value"));
  RETURN_IF_ERROR(store->LogBatch(id, {}, {{key, value}}, {}));
  return Json::object();
}

Result<Json> Impl::SetTag(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, p.RunId());
  ASSIGN_OR_RETURN(std::string key, p.Str("key", true));
  ASSIGN_OR_RETURN(std::string value, p.Str("value"));
  RETURN_IF_ERROR(store->LogBatch(id, {}, {}, {{key, value}}));
  return Json::object();
}

Result<Json> Impl::DeleteTag(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, p.RunId());
  ASSIGN_OR_RETURN(std::string key, p.Str("key", true));
  RETURN_IF_ERROR(store->DeleteRunTag(id, key));
  return Json::object();
}

// MLflow 2's record_logged_model: the MLmodel appended to the run's list of logged models
// (the tag mlflow.log-model.history), as MLflow's server checks and keeps it; a second
// model of the run adds to the list rather than replacing it.
Result<Json> Impl::LogModel(const Params& p, const Caller&) {
  constexpr const char* kHistory = "mlflow.log-model.history";
  ASSIGN_OR_RETURN(std::string id, p.RunId());
  ASSIGN_OR_RETURN(std::string text, p.Str("model_json", true));
  Result<Json> model = ParseJsonText(text, "model_json");
  if (!model.ok()) return Status::User("invalid value for 'model_json': " + model.status().message());
  if (!model->is_object()) return Status::User("invalid value for 'model_json': expected a JSON object (an MLmodel)");
  std::string missing;
  for (const char* f : {"artifact_path", "flavors", "utc_time_created", "run_id"})
    if (!model->contains(f)) missing += (missing.empty() ? "" : ", ") + std::string(f);
  if (!missing.empty()) return Status::User("invalid value for 'model_json': missing mandatory fields " + missing);
  ASSIGN_OR_RETURN(meta::Run run, store->GetRun(id));
  Json history = Json::array();
  for (const meta::Tag& t : run.tags) {
    if (t.key != kHistory) continue;
    Result<Json> h = ParseJsonText(t.value, kHistory);
    if (!h.ok() || !h->is_array())
      return Status::Conflict("the run's tag " + std::string(kHistory) + " is not a JSON list; fix or delete it first");
    history = std::move(*h);
  }
  history.push_back(std::move(*model));
  RETURN_IF_ERROR(store->LogBatch(id, {}, {}, {{kHistory, history.dump()}}));
  return Json::object();
}

// ---- reading runs back ----------------------------------------------------------------------------

Result<Json> Impl::SearchRuns(const Params& p, const Caller&) {
  meta::RunQuery q;
  RETURN_IF_ERROR(p.Search("run_view_type", 1000, &q));
  ASSIGN_OR_RETURN(auto page, store->SearchRuns(q));
  return SearchAnswer("runs", ListToJson(page.items), page.next_page_token);
}

Result<Json> Impl::GetMetricHistory(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, p.RunId());
  ASSIGN_OR_RETURN(std::string key, p.Str("metric_key", true));
  meta::Page page;
  ASSIGN_OR_RETURN(page.max_results, p.Int("max_results", 0));
  ASSIGN_OR_RETURN(page.token, p.Str("page_token"));
  ASSIGN_OR_RETURN(auto h, store->GetMetricHistory(id, key, page));
  Json out{{"metrics", ListToJson(h.items)}};  // unlike a search's list, there when empty
  if (!h.next_page_token.empty()) out["next_page_token"] = h.next_page_token;
  return out;
}

Result<Json> Impl::ListRunArtifacts(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, p.RunId());
  ASSIGN_OR_RETURN(std::string sub, p.Str("path"));
  ASSIGN_OR_RETURN(meta::Run run, store->GetRun(id));
  std::string root = ArtifactPathOf(run.info.artifact_uri);
  std::string folder = sub.empty() ? root : root + "/" + sub;
  RETURN_IF_ERROR(CheckArtifactPath(folder));
  ASSIGN_OR_RETURN(auto list, store->ListArtifacts(folder));
  Json files = Json::array();
  for (const auto& e : list) files.push_back(FileInfoJson(sub.empty() ? e.path : sub + "/" + e.path, e));
  Json out{{"root_uri", run.info.artifact_uri}};
  if (!files.empty()) out["files"] = std::move(files);
  return out;
}

// ---- lineage (forja's own) ------------------------------------------------------------------------

Result<Json> Impl::LogLineage(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, p.RunId());
  std::vector<meta::LineageItem> items;
  if (p.body().contains("items")) {
    if (!p.body()["items"].is_array()) return Status::User("'items' must be a list");
    RETURN_IF_ERROR(ListFromJson(p.body()["items"], LineageFromJson, &items));
  }
  RETURN_IF_ERROR(store->LogLineage(id, items));
  return Json::object();
}

Result<Json> Impl::GetLineage(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, p.RunId());
  ASSIGN_OR_RETURN(auto items, store->GetLineage(id));
  Json inputs = Json::array(), outputs = Json::array();
  for (const auto& l : items) (l.direction == "input" ? inputs : outputs).push_back(ToJson(l));
  return Json{{"run_id", id}, {"inputs", inputs}, {"outputs", outputs}};
}

Result<Json> Impl::FindLineage(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string hash, p.Str("hash", true));
  ASSIGN_OR_RETURN(auto found, store->FindLineage(hash));
  Json list = Json::array();
  for (const auto& [run, l] : found) {
    Json j = ToJson(l);
    j["run_id"] = run;
    list.push_back(std::move(j));
  }
  return Json{{"items", list}};
}

}  // namespace forja::api
