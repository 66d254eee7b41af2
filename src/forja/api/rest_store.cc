#include "forja/api/rest_store.h"

#include <chrono>
#include <cstdlib>
#include <set>
#include <nlohmann/json.hpp>
#include <thread>

#include "forja/api/codec.h"
#include "forja/cas/cache.h"
#include "forja/core/fs.h"
#include "forja/core/strings.h"
#include "forja/net/http_client.h"

namespace forja::api {

std::string TokenFromEnvironment() {
  for (const char* var : {"FORJA_TRACKING_TOKEN", "MLFLOW_TRACKING_TOKEN"})
    if (const char* v = std::getenv(var); v && *v) return v;
  return "";
}

namespace {

Status FromError(long http, const std::string& body, const std::string& what) {
  std::string code, message;
  try {
    Json j = Json::parse(body);
    code = j.value("error_code", "");
    message = j.value("message", "");
  } catch (const std::exception&) {
    message = body.substr(0, 200);
  }
  if (message.empty()) message = "HTTP " + std::to_string(http);
  if (code == "RESOURCE_DOES_NOT_EXIST" || code == "ENDPOINT_NOT_FOUND" || http == 404) return Status::NotFound(message);
  if (code == "RESOURCE_ALREADY_EXISTS") return Status::Exists(message);
  if (code == "UNAUTHENTICATED" || http == 401) return Status::Unauthenticated(message);
  if (code == "PERMISSION_DENIED" || http == 403) return Status::Denied(message);
  if (code == "RESOURCE_CONFLICT" || http == 409) return Status::Refused(message);
  if (http >= 400 && http < 500) return Status::User(message);
  if (http == 503) return Status::Unavailable(what + ": " + message);
  if (http == 504) return Status::DeadlineExceeded(what + ": " + message);
  return Status::Remote(what + ": " + message);
}

class Rest : public RestStore {
 public:
  Rest(std::string url, std::string token) : url_(std::move(url)), token_(std::move(token)) {}

  std::string uri() const override { return url_; }
  bool remote() const override { return true; }

  // One call: GET with a query, or a JSON body; retries what the server says is
  // temporary (503) and connection failures, a few times.
  Result<Json> Call(const std::string& method, const std::string& path, const Json& body,
                    const std::vector<std::pair<std::string, std::string>>& query = {}) {
    HttpRequest req;
    req.method = method;
    req.url = url_ + path;
    std::string q;
    for (const auto& [k, v] : query) q += (q.empty() ? "?" : "&") + PercentEncode(k) + "=" + PercentEncode(v);
    req.url += q;
    if (method != "GET") {
      req.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
      req.headers.push_back({"Content-Type", "application/json"});
    }
    ASSIGN_OR_RETURN(HttpResponse resp, Send(req));
    if (resp.body.empty()) return Json::object();
    // The server is outside input too: its answer passes the same depth and UTF-8 check.
    Result<Json> j = ParseJsonText(resp.body, "the answer");
    if (!j.ok())
      return Status::Remote("the server at " + url_ + " answered " + path + " with something forja does not read (" +
                            j.status().message() + ")");
    return j;
  }

  Result<HttpResponse> Send(HttpRequest& req) {
    if (!token_.empty()) req.headers.push_back({"Authorization", "Bearer " + token_});
    HttpResponse resp;
    for (int attempt = 0; attempt < 4; attempt++) {
      if (attempt) std::this_thread::sleep_for(std::chrono::milliseconds(200 << attempt));
      resp = HttpPerform(req);
      if (!resp.transport_ok) {
        if (resp.retryable) continue;
        break;
      }
      if (resp.status == 503 || resp.status == 502 || resp.status == 504) continue;
      break;
    }
    if (!resp.transport_ok)
      return Status::Unavailable("cannot reach the forja server at " + url_ + ": " + resp.error +
                                 "; is `forja server` running there?");
    if (resp.status < 200 || resp.status >= 300) return FromError(resp.status, resp.body, req.method + " " + req.url);
    return resp;
  }

  static Result<Json> Field(const Json& j, const char* name) {
    auto it = j.find(name);
    if (it == j.end()) return Status::Remote(std::string("the server's answer has no '") + name + "'");
    return *it;
  }

  // The list under `field` of an answer (none when absent), each item read by `from`.
  template <typename T>
  static Result<std::vector<T>> ListOf(const Json& j, const char* field, Result<T> (*from)(const Json&)) {
    std::vector<T> out;
    RETURN_IF_ERROR(ListFromJson(j.value(field, Json::array()), from, &out));
    return out;
  }

  // A search's page: the list under `field` and the next page's token.
  template <typename T>
  static Result<meta::Paged<T>> PageOf(const Json& j, const char* field, Result<T> (*from)(const Json&)) {
    meta::Paged<T> out;
    ASSIGN_OR_RETURN(out.items, ListOf(j, field, from));
    out.next_page_token = j.value("next_page_token", "");
    return out;
  }

  // A registry search's query string: MLflow's clients send these searches as GET.
  static std::vector<std::pair<std::string, std::string>> RegistrySearch(const meta::Query& q) {
    std::vector<std::pair<std::string, std::string>> query{{"filter", q.filter},
                                                           {"max_results", std::to_string(q.page.max_results)}};
    for (const auto& o : q.order_by) query.push_back({"order_by", o});
    if (!q.page.token.empty()) query.push_back({"page_token", q.page.token});
    return query;
  }

  // ---- tracking ----
  Result<std::string> CreateExperiment(const std::string& name, const std::string& loc,
                                       const std::vector<meta::Tag>& tags) override {
    Json b{{"name", name}, {"tags", ToJson(tags)}};
    if (!loc.empty()) b["artifact_location"] = loc;
    ASSIGN_OR_RETURN(Json j, Call("POST", "/api/2.0/mlflow/experiments/create", b));
    return j.value("experiment_id", "");
  }
  Result<meta::Experiment> GetExperiment(const std::string& id) override {
    ASSIGN_OR_RETURN(Json j, Call("GET", "/api/2.0/mlflow/experiments/get", {}, {{"experiment_id", id}}));
    ASSIGN_OR_RETURN(Json e, Field(j, "experiment"));
    return ExperimentFromJson(e);
  }
  Result<meta::Experiment> GetExperimentByName(const std::string& name) override {
    ASSIGN_OR_RETURN(Json j, Call("GET", "/api/2.0/mlflow/experiments/get-by-name", {}, {{"experiment_name", name}}));
    ASSIGN_OR_RETURN(Json e, Field(j, "experiment"));
    return ExperimentFromJson(e);
  }
  static const char* View(meta::ViewType v) {
    return v == meta::ViewType::kDeleted ? "DELETED_ONLY" : v == meta::ViewType::kAll ? "ALL" : "ACTIVE_ONLY";
  }
  Result<meta::Paged<meta::Experiment>> SearchExperiments(const meta::Query& q) override {
    Json b{{"filter", q.filter}, {"order_by", q.order_by}, {"view_type", View(q.view)}, {"max_results", q.page.max_results}};
    if (!q.page.token.empty()) b["page_token"] = q.page.token;
    ASSIGN_OR_RETURN(Json j, Call("POST", "/api/2.0/mlflow/experiments/search", b));
    return PageOf(j, "experiments", ExperimentFromJson);
  }
  Status RenameExperiment(const std::string& id, const std::string& new_name) override {
    return Call("POST", "/api/2.0/mlflow/experiments/update", {{"experiment_id", id}, {"new_name", new_name}}).status();
  }
  Status SetExperimentLifecycle(const std::string& id, bool deleted) override {
    return Call("POST", deleted ? "/api/2.0/mlflow/experiments/delete" : "/api/2.0/mlflow/experiments/restore",
                {{"experiment_id", id}})
        .status();
  }
  Status SetExperimentTag(const std::string& id, const meta::Tag& t) override {
    return Call("POST", "/api/2.0/mlflow/experiments/set-experiment-tag",
                {{"experiment_id", id}, {"key", t.key}, {"value", t.value}})
        .status();
  }
  Status DeleteExperimentTag(const std::string& id, const std::string& key) override {
    return Call("POST", "/api/2.0/mlflow/experiments/delete-experiment-tag", {{"experiment_id", id}, {"key", key}})
        .status();
  }
  Result<meta::Run> CreateRun(const std::string& exp, const std::string& user, const std::string& name, int64_t start,
                              const std::vector<meta::Tag>& tags) override {
    Json b{{"experiment_id", exp}, {"user_id", user}, {"start_time", start ? start : meta::NowMs()}, {"tags", ToJson(tags)}};
    if (!name.empty()) b["run_name"] = name;
    ASSIGN_OR_RETURN(Json j, Call("POST", "/api/2.0/mlflow/runs/create", b));
    ASSIGN_OR_RETURN(Json r, Field(j, "run"));
    return RunFromJson(r);
  }
  Result<meta::RunInfo> UpdateRun(const std::string& id, const std::string& status, std::optional<int64_t> end,
                                  const std::string& name) override {
    Json b{{"run_id", id}};
    if (!status.empty()) b["status"] = status;
    if (end) b["end_time"] = *end;
    if (!name.empty()) b["run_name"] = name;
    ASSIGN_OR_RETURN(Json j, Call("POST", "/api/2.0/mlflow/runs/update", b));
    ASSIGN_OR_RETURN(Json i, Field(j, "run_info"));
    return RunInfoFromJson(i);
  }
  Status SetRunLifecycle(const std::string& id, bool deleted) override {
    return Call("POST", deleted ? "/api/2.0/mlflow/runs/delete" : "/api/2.0/mlflow/runs/restore", {{"run_id", id}})
        .status();
  }
  Result<meta::Run> GetRun(const std::string& id) override {
    ASSIGN_OR_RETURN(Json j, Call("GET", "/api/2.0/mlflow/runs/get", {}, {{"run_id", id}}));
    ASSIGN_OR_RETURN(Json r, Field(j, "run"));
    return RunFromJson(r);
  }
  Status LogBatch(const std::string& id, const std::vector<meta::Metric>& metrics,
                  const std::vector<meta::Param>& params, const std::vector<meta::Tag>& tags) override {
    Json ps = Json::array();
    for (const auto& p : params) ps.push_back({{"key", p.key}, {"value", p.value}});
    return Call("POST", "/api/2.0/mlflow/runs/log-batch",
                {{"run_id", id}, {"metrics", ListToJson(metrics)}, {"params", ps}, {"tags", ToJson(tags)}})
        .status();
  }
  Status DeleteRunTag(const std::string& id, const std::string& key) override {
    return Call("POST", "/api/2.0/mlflow/runs/delete-tag", {{"run_id", id}, {"key", key}}).status();
  }
  Status LogInputs(const std::string& id, const std::vector<meta::DatasetInput>& inputs) override {
    Json list = Json::array();
    for (const auto& d : inputs) list.push_back(ToJson(d));
    return Call("POST", "/api/2.0/mlflow/runs/log-inputs", {{"run_id", id}, {"datasets", list}}).status();
  }
  Result<std::vector<meta::DatasetSummary>> SearchDatasets(const std::vector<std::string>& ids) override {
    ASSIGN_OR_RETURN(Json j, Call("POST", "/api/2.0/mlflow/experiments/search-datasets", {{"experiment_ids", ids}}));
    std::vector<meta::DatasetSummary> out;
    for (const Json& d : j.value("dataset_summaries", Json::array()))
      out.push_back({d.value("experiment_id", ""), d.value("name", ""), d.value("digest", ""), d.value("context", "")});
    return out;
  }
  Result<meta::Paged<meta::Metric>> GetMetricHistory(const std::string& id, const std::string& key,
                                                     const meta::Page& page) override {
    std::vector<std::pair<std::string, std::string>> q{{"run_id", id}, {"metric_key", key}};
    if (page.max_results > 0) q.push_back({"max_results", std::to_string(page.max_results)});
    if (!page.token.empty()) q.push_back({"page_token", page.token});
    ASSIGN_OR_RETURN(Json j, Call("GET", "/api/2.0/mlflow/metrics/get-history", {}, q));
    return PageOf(j, "metrics", MetricFromJson);
  }
  Result<meta::Paged<meta::Run>> SearchRuns(const meta::RunQuery& q) override {
    Json b{{"experiment_ids", q.experiment_ids}, {"filter", q.filter}, {"order_by", q.order_by},
           {"run_view_type", View(q.view)}, {"max_results", q.page.max_results}};
    if (!q.page.token.empty()) b["page_token"] = q.page.token;
    ASSIGN_OR_RETURN(Json j, Call("POST", "/api/2.0/mlflow/runs/search", b));
    return PageOf(j, "runs", RunFromJson);
  }
  Status LogLineage(const std::string& id, const std::vector<meta::LineageItem>& items) override {
    return Call("POST", "/api/2.0/forja/lineage/log", {{"run_id", id}, {"items", ListToJson(items)}}).status();
  }
  Result<std::vector<meta::LineageItem>> GetLineage(const std::string& id) override {
    ASSIGN_OR_RETURN(Json j, Call("GET", "/api/2.0/forja/lineage/get", {}, {{"run_id", id}}));
    std::vector<meta::LineageItem> out;
    for (const char* dir : {"inputs", "outputs"})
      RETURN_IF_ERROR(ListFromJson(j.value(dir, Json::array()), LineageFromJson, &out));
    return out;
  }
  Result<std::vector<std::pair<std::string, meta::LineageItem>>> FindLineage(const std::string& hash) override {
    ASSIGN_OR_RETURN(Json j, Call("GET", "/api/2.0/forja/lineage/find", {}, {{"hash", hash}}));
    std::vector<std::pair<std::string, meta::LineageItem>> out;
    for (const Json& l : j.value("items", Json::array())) {
      ASSIGN_OR_RETURN(meta::LineageItem x, LineageFromJson(l));
      out.push_back({l.value("run_id", ""), std::move(x)});
    }
    return out;
  }
  Status PutArtifact(const std::string& path, const std::string& hash, int64_t size) override {
    return Call("POST", "/api/2.0/forja/artifacts/put", {{"path", path}, {"hash", hash}, {"size", size}}).status();
  }
  Result<meta::ArtifactEntry> GetArtifact(const std::string& path) override {
    // The listing of the parent folder says the size; the hash is not part of MLflow's API.
    std::string parent = path.find('/') == std::string::npos ? "" : path.substr(0, path.rfind('/'));
    ASSIGN_OR_RETURN(auto list, ListArtifacts(parent));
    std::string base = path.substr(path.rfind('/') + 1);
    for (const auto& e : list)
      if (e.path == base && !e.is_dir) return meta::ArtifactEntry{path, false, e.size, ""};
    return Status::NotFound("no artifact at '" + path + "'");
  }
  // The fields forja serve reads of a LoggedModel (its name, run and artifact location).
  Result<meta::LoggedModel> GetLoggedModel(const std::string& id, bool allow_deleted) override {
    (void)allow_deleted;
    if (id.empty() || id.size() > 100 || id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != std::string::npos)
      return Status::User("'" + id.substr(0, 100) + "' is not a logged model id");
    ASSIGN_OR_RETURN(Json j, Call("GET", "/api/2.0/mlflow/logged-models/" + id, {}));
    const Json* info = j.is_object() && j.contains("model") && j["model"].is_object() ? &j["model"] : nullptr;
    info = info && info->contains("info") && (*info)["info"].is_object() ? &(*info)["info"] : nullptr;
    if (!info) return Status::Remote("the server's logged model " + id + " has no info");
    auto str = [&](const char* k) { return info->contains(k) && (*info)[k].is_string() ? (*info)[k].get<std::string>() : std::string(); };
    meta::LoggedModel m;
    m.model_id = str("model_id");
    m.experiment_id = str("experiment_id");
    m.name = str("name");
    m.artifact_location = str("artifact_uri");
    m.source_run_id = str("source_run_id");
    return m;
  }
  Result<std::vector<meta::ArtifactEntry>> ListArtifacts(const std::string& folder) override {
    ASSIGN_OR_RETURN(Json j, Call("GET", "/api/2.0/mlflow-artifacts/artifacts", {}, {{"path", folder}}));
    std::vector<meta::ArtifactEntry> out;
    for (const Json& f : j.value("files", Json::array()))
      out.push_back({f.value("path", ""), f.value("is_dir", false), f.value("file_size", int64_t{0}), f.value("hash", "")});
    return out;
  }
  Status DeleteArtifacts(const std::string& path) override {
    HttpRequest req;
    req.method = "DELETE";
    req.url = url_ + "/api/2.0/mlflow-artifacts/artifacts/" + path;
    return Send(req).status();
  }

  Result<std::vector<std::string>> ReferencedObjects() override {
    return Status::User("the objects of a forja server are in its own cache; run gc there");
  }

  // ---- registry ----
  Result<meta::RegisteredModel> Model(const Json& j) {
    ASSIGN_OR_RETURN(Json m, Field(j, "registered_model"));
    return RegisteredModelFromJson(m);
  }
  Result<meta::ModelVersion> Version(const Json& j) {
    ASSIGN_OR_RETURN(Json v, Field(j, "model_version"));
    return ModelVersionFromJson(v);
  }
  Result<meta::RegisteredModel> CreateRegisteredModel(const std::string& name, const std::string& desc,
                                                      const std::vector<meta::Tag>& tags) override {
    ASSIGN_OR_RETURN(Json j, Call("POST", "/api/2.0/mlflow/registered-models/create",
                                  {{"name", name}, {"description", desc}, {"tags", ToJson(tags)}}));
    return Model(j);
  }
  Result<meta::RegisteredModel> GetRegisteredModel(const std::string& name) override {
    ASSIGN_OR_RETURN(Json j, Call("GET", "/api/2.0/mlflow/registered-models/get", {}, {{"name", name}}));
    return Model(j);
  }
  Result<meta::RegisteredModel> UpdateRegisteredModel(const std::string& name, const std::string& desc) override {
    ASSIGN_OR_RETURN(Json j, Call("PATCH", "/api/2.0/mlflow/registered-models/update", {{"name", name}, {"description", desc}}));
    return Model(j);
  }
  Result<meta::RegisteredModel> RenameRegisteredModel(const std::string& name, const std::string& new_name) override {
    ASSIGN_OR_RETURN(Json j, Call("POST", "/api/2.0/mlflow/registered-models/rename", {{"name", name}, {"new_name", new_name}}));
    return Model(j);
  }
  Status DeleteRegisteredModel(const std::string& name, const std::string&) override {
    return Call("DELETE", "/api/2.0/mlflow/registered-models/delete", {{"name", name}}).status();
  }
  Result<meta::Paged<meta::RegisteredModel>> SearchRegisteredModels(const meta::Query& q) override {
    ASSIGN_OR_RETURN(Json j, Call("GET", "/api/2.0/mlflow/registered-models/search", {}, RegistrySearch(q)));
    return PageOf(j, "registered_models", RegisteredModelFromJson);
  }
  Status SetRegisteredModelTag(const std::string& name, const meta::Tag& t) override {
    return Call("POST", "/api/2.0/mlflow/registered-models/set-tag", {{"name", name}, {"key", t.key}, {"value", t.value}})
        .status();
  }
  Status DeleteRegisteredModelTag(const std::string& name, const std::string& key) override {
    return Call("DELETE", "/api/2.0/mlflow/registered-models/delete-tag", {{"name", name}, {"key", key}}).status();
  }
  Result<meta::ModelVersion> CreateModelVersion(const meta::ModelVersion& v) override {
    Json b{{"name", v.name}, {"source", v.source}, {"run_id", v.run_id}, {"tags", ToJson(v.tags)},
           {"description", v.description}};
    if (!v.run_link.empty()) b["run_link"] = v.run_link;
    if (!v.package_hash.empty()) b["forja_package_hash"] = v.package_hash;
    ASSIGN_OR_RETURN(Json j, Call("POST", "/api/2.0/mlflow/model-versions/create", b));
    return Version(j);
  }
  Result<meta::ModelVersion> GetModelVersion(const std::string& name, int64_t version) override {
    ASSIGN_OR_RETURN(Json j, Call("GET", "/api/2.0/mlflow/model-versions/get", {},
                                  {{"name", name}, {"version", std::to_string(version)}}));
    return Version(j);
  }
  Result<meta::ModelVersion> UpdateModelVersion(const std::string& name, int64_t version,
                                                const std::string& desc) override {
    ASSIGN_OR_RETURN(Json j, Call("PATCH", "/api/2.0/mlflow/model-versions/update",
                                  {{"name", name}, {"version", std::to_string(version)}, {"description", desc}}));
    return Version(j);
  }
  Status DeleteModelVersion(const std::string& name, int64_t version, const std::string&) override {
    return Call("DELETE", "/api/2.0/mlflow/model-versions/delete", {{"name", name}, {"version", std::to_string(version)}})
        .status();
  }
  Result<meta::Paged<meta::ModelVersion>> SearchModelVersions(const meta::Query& q) override {
    ASSIGN_OR_RETURN(Json j, Call("GET", "/api/2.0/mlflow/model-versions/search", {}, RegistrySearch(q)));
    return PageOf(j, "model_versions", ModelVersionFromJson);
  }
  Result<std::vector<meta::ModelVersion>> GetLatestVersions(const std::string& name,
                                                            const std::vector<std::string>& stages) override {
    ASSIGN_OR_RETURN(Json j, Call("POST", "/api/2.0/mlflow/registered-models/get-latest-versions",
                                  {{"name", name}, {"stages", stages}}));
    return ListOf(j, "model_versions", ModelVersionFromJson);
  }
  Status SetModelVersionTag(const std::string& name, int64_t version, const meta::Tag& t) override {
    return Call("POST", "/api/2.0/mlflow/model-versions/set-tag",
                {{"name", name}, {"version", std::to_string(version)}, {"key", t.key}, {"value", t.value}})
        .status();
  }
  Status DeleteModelVersionTag(const std::string& name, int64_t version, const std::string& key) override {
    return Call("DELETE", "/api/2.0/mlflow/model-versions/delete-tag",
                {{"name", name}, {"version", std::to_string(version)}, {"key", key}})
        .status();
  }
  Result<meta::ModelVersion> Promote(const meta::Promotion& p, const meta::GateCheck&) override {
    ASSIGN_OR_RETURN(Json j, Call("POST", "/api/2.0/forja/models/promote",
                                  {{"name", p.name},
                                   {"version", std::to_string(p.version)},
                                   {"target", p.target},
                                   {"archive_existing_versions", p.archive_existing},
                                   {"comment", p.comment},
                                   {"force", p.force}}));
    return Version(j);
  }
  Status DeleteAlias(const std::string& name, const std::string& alias, const std::string&) override {
    return Call("DELETE", "/api/2.0/mlflow/registered-models/alias", {{"name", name}, {"alias", alias}}).status();
  }
  Result<meta::ModelVersion> GetVersionByAlias(const std::string& name, const std::string& alias) override {
    ASSIGN_OR_RETURN(Json j, Call("GET", "/api/2.0/mlflow/registered-models/alias", {}, {{"name", name}, {"alias", alias}}));
    return Version(j);
  }
  Result<std::vector<meta::Transition>> History(const std::string& name, int64_t version) override {
    std::vector<std::pair<std::string, std::string>> q{{"name", name}};
    if (version > 0) q.push_back({"version", std::to_string(version)});
    ASSIGN_OR_RETURN(Json j, Call("GET", "/api/2.0/forja/models/history", {}, q));
    return ListOf(j, "transitions", TransitionFromJson);
  }

  // ---- what forja serve reports (serving_routes.cc on the server) ----
  Status PutServingReport(const meta::ServingReport& r) override {
    ASSIGN_OR_RETURN(Json report, ParseJsonText(r.report, "the serving report"));
    return Call("POST", "/api/2.0/forja/serving/report", {{"instance", r.instance}, {"report", std::move(report)}})
        .status();
  }

  // ---- rollouts (rollout_routes.cc on the server) ----
  Result<meta::Rollout> BeginRollout(const meta::Rollout& r) override { return RolloutCall("begin", r); }
  Result<meta::Rollout> UpdateRollout(const meta::Rollout& r) override { return RolloutCall("update", r); }
  Result<meta::Rollout> GetRollout(const std::string& name) override {
    ASSIGN_OR_RETURN(Json j, Call("GET", "/api/2.0/forja/rollouts/get", {}, {{"name", name}}));
    return RolloutOf(j);
  }
  Result<meta::Rollout> RolloutCall(const char* verb, const meta::Rollout& r) {
    ASSIGN_OR_RETURN(Json j, Call("POST", std::string("/api/2.0/forja/rollouts/") + verb, {{"rollout", ToJson(r)}}));
    return RolloutOf(j);
  }
  static Result<meta::Rollout> RolloutOf(const Json& j) {
    auto it = j.find("rollout");
    if (it == j.end()) return Status::Remote("the server's answer has no rollout");
    return RolloutFromJson(*it);
  }

  // ---- alerts: Alertmanager posts them to the server (POST /api/2.0/forja/alerts) ----
  Status RecordAlert(const meta::ModelAlert&) override {
    return Status::User("alerts are recorded by the server from Alertmanager's webhook (POST /api/2.0/forja/alerts)");
  }
  Result<std::vector<meta::ModelAlert>> ListAlerts(const std::string& model, const std::string& version,
                                                   int limit) override {
    std::vector<std::pair<std::string, std::string>> q{{"max_results", std::to_string(limit)}};
    if (!model.empty()) q.push_back({"model", model});
    if (!version.empty()) q.push_back({"version", version});
    ASSIGN_OR_RETURN(Json j, Call("GET", "/api/2.0/forja/alerts", {}, q));
    return ListOf(j, "alerts", AlertFromJson);
  }

  // ---- tokens live with the server's store ----
  static Status NotHere() {
    return Status::User("tokens are managed where the server's store is: forja server token ... --store <its URI>");
  }
  Status CreateToken(const std::string&, const std::string&, const std::string&) override { return NotHere(); }
  Status RevokeToken(const std::string&) override { return NotHere(); }
  Result<std::vector<meta::Token>> ListTokens() override { return NotHere(); }
  Result<meta::Token> FindToken(const std::string&) override { return NotHere(); }

  // ---- objects ----
  Status UploadObjects(Cache& cache, const std::vector<Oid>& objects) override {
    Json hashes = Json::array();
    for (const Oid& o : objects) hashes.push_back("sha256:" + o.Hex());
    ASSIGN_OR_RETURN(Json j, Call("POST", "/api/2.0/forja/objects/missing", {{"hashes", hashes}}));
    std::set<std::string> missing;
    for (const Json& h : j.value("missing", Json::array())) missing.insert(h.get<std::string>());
    for (const Oid& o : objects) {  // in order: the manifest comes last
      if (!missing.count("sha256:" + o.Hex())) continue;
      ASSIGN_OR_RETURN(std::string data, cache.Read(o));
      HttpRequest req;
      req.method = "PUT";
      req.url = url_ + "/api/2.0/forja/objects/sha256/" + o.Hex();
      req.body = std::move(data);
      req.headers.push_back({"Content-Type", "application/octet-stream"});
      RETURN_IF_ERROR(Send(req).status());
    }
    return Status::Ok();
  }

  Status DownloadObjects(Cache& cache, const std::vector<Oid>& objects) override {
    for (const Oid& o : objects) {
      if (cache.Has(o)) continue;
      HttpRequest req;
      req.method = "GET";
      req.url = url_ + "/api/2.0/forja/objects/sha256/" + o.Hex();
      ASSIGN_OR_RETURN(HttpResponse resp, Send(req));
      if (Sha256::Of(resp.body) != o)
        return Status::Corrupt("the server sent bytes that do not hash to " + o.Hex() + "; try again");
      ASSIGN_OR_RETURN(Oid stored, cache.StoreBytes(resp.body));
      (void)stored;
    }
    return cache.Sync();
  }

 private:
  std::string url_, token_;
};

}  // namespace

Result<std::unique_ptr<RestStore>> RestStore::Open(const std::string& url, const std::string& token) {
  std::string u = url;
  while (!u.empty() && u.back() == '/') u.pop_back();
  if (!u.starts_with("http://") && !u.starts_with("https://"))
    return Status::User("'" + url + "' is not an http:// or https:// URL");
  return std::unique_ptr<RestStore>(new Rest(u, token));
}

}  // namespace forja::api
