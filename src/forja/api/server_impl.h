// Internal to forja server's files (and tests/api/ingest_test.cc): what the server core
// (server.cc) and its route files share. server.cc holds the pool, authentication, the
// route table, reading a request's parameters and the error answers; tracking_routes.cc,
// registry_routes.cc and artifact_routes.cc hold the handlers, ingest.cc the bodies of
// the hot ingest routes. Every handler answers JSON, and every failure is a Status that
// the core turns into MLflow's {"error_code", "message"}.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "forja/api/codec.h"
#include "forja/api/server.h"
#include "forja/cas/cache.h"
#include "forja/core/prometheus.h"
#include "forja/net/http_server.h"
#include "forja/registry/roles.h"

namespace forja::api {

// An MLflow error: the HTTP status and the body.
struct ApiError {
  int status;
  std::string code;
  std::string message;
};

ApiError FromStatus(const Status& st);
net::Response ErrorResponse(const ApiError& e);
net::Response JsonResponse(int status, const Json& j);

struct Caller {
  registry::Role role = registry::Role::kNone;
  std::string user;
};

// The parameters of one request: the JSON body (POST, PATCH, DELETE) or the
// query string (GET), read through one interface with MLflow's messages.
class Params {
 public:
  // `body` is the request's parsed body (an empty object without one); both outlive the Params.
  Params(const net::Request& req, const Json& body, const std::map<std::string, std::string>* path = nullptr)
      : req_(req), body_(body), path_(path), get_(req.method == "GET") {}

  // A parameter of the route's path (logged-models/{model_id}): "" when absent.
  std::string Path(const std::string& name) const {
    if (!path_) return "";
    auto it = path_->find(name);
    return it == path_->end() ? "" : it->second;
  }

  Result<std::string> Str(const char* name, bool required = false) const;
  Result<int64_t> Int(const char* name, int64_t def, bool required = false) const;
  Result<bool> Bool(const char* name, bool def) const;
  Result<std::vector<std::string>> List(const char* name) const;
  Result<meta::ViewType> View(const char* name) const;
  // A run id under either of MLflow's names.
  Result<std::string> RunId() const;
  Result<int64_t> Version() const;
  // A search's filter, order_by, view (read from `view_param` unless null), max_results and
  // page_token, in that order (the first bad one is the error).
  Status Search(const char* view_param, int64_t default_max, meta::Query* q) const;
  // runs/search: experiment_ids first.
  Status Search(const char* view_param, int64_t default_max, meta::RunQuery* q) const;

  const Json& body() const { return body_; }

  // Fields a failing handler adds to its error answer beside error_code and message (the
  // promote route's `gates`): data for clients that should not parse the message.
  void AddErrorField(const std::string& key, Json value) const { error_fields_[key] = std::move(value); }
  const Json& error_fields() const { return error_fields_; }

 private:
  const net::Request& req_;
  const Json& body_;
  const std::map<std::string, std::string>* path_;
  bool get_;
  mutable Json error_fields_ = Json::object();
};

// MLflow's answer to a search: the list under `field` (left out when empty) and the next
// page's token (when there is one).
Json SearchAnswer(const char* field, Json list, const std::string& next_page_token);

// ---- artifacts (artifact_routes.cc) ----------------------------------------------------

// mlflow-artifacts:/<path> -> <path>
std::string ArtifactPathOf(const std::string& uri);
// Artifact paths come from requests and end up as files in the caller's folders (MLflow
// clients download them), so they pass the one check for untrusted paths; a folder may end in '/'.
Status CheckArtifactPath(const std::string& path);
// MLflow's FileInfo for one entry of a listing, shown at `path`.
Json FileInfoJson(const std::string& path, const meta::ArtifactEntry& e);

// ---- the ingest bodies (ingest.cc) -------------------------------------------------------

// What runs/log-batch and runs/log-metric (a batch of one metric) write.
struct LogBatchBody {
  std::string run_id;
  std::vector<meta::Metric> metrics;
  std::vector<meta::Param> params;
  std::vector<meta::Tag> tags;
};

// The definition: each body read from its tree, with every check and MLflow's messages.
Result<LogBatchBody> ReadLogBatch(const Params& p);
Result<LogBatchBody> ReadLogMetric(const Params& p);

// The same bodies read from their text without building a tree. True when read, exactly as
// the tree readers would read it; false for any body they are not sure of (malformed, a
// field of another type, ...), which then goes the tree readers' way.
using PlainReader = bool (*)(std::string_view body, LogBatchBody* out);
bool ReadPlainLogBatch(std::string_view body, LogBatchBody* out);
bool ReadPlainLogMetric(std::string_view body, LogBatchBody* out);

// ---- the server ----------------------------------------------------------------------------

struct TrackingServer::Impl {
  using Fn = Result<Json> (Impl::*)(const Params&, const Caller&);
  // A handler that writes its own answer (a large one, or not JSON).
  using RawFn = Result<net::Response> (Impl::*)(const Params&, const Caller&);
  struct Route {
    const char* method;
    registry::Role role;
    Fn fn;
    PlainReader plain;  // the hot ingest routes: their usual bodies read without a tree
    RawFn raw = nullptr;  // instead of fn
  };

  ServerConfig config;
  std::unique_ptr<meta::MetaStore> store;
  std::unique_ptr<Cache> cache;
  std::unique_ptr<net::Server> http;
  std::unordered_map<std::string, std::vector<Route>> routes;  // "experiments/create" -> methods
  PromRegistry metrics;
  std::atomic<int64_t> tokens_checked_ms{0};
  std::atomic<bool> tokens_exist{false};
  std::mutex token_mu;

  // ---- the core (server.cc) ----
  void Init();
  Result<Caller> Authenticate(const net::Request& req);
  bool TokensExist();
  void Handle(net::Request& req, net::Responder res);
  net::Response Dispatch(net::Request& req, std::string* route);
  net::Response AuthError(const Status& st);
  net::HeadDecision CheckHead(const net::Request& req);

  // ---- artifacts and objects (artifact_routes.cc) ----
  Result<Oid> StoreObject(const std::string& data);
  net::Response FileResponse(const Oid& oid, const std::string& content_type);
  net::Response Artifacts(net::Request& req, const std::string& rel, const Caller& caller);
  net::Response Objects(net::Request& req, const std::string& hex, const Caller& caller);
  Result<Json> PutArtifactRef(const Params& p, const Caller&);
  Result<Json> MissingObjects(const Params& p, const Caller&);

  // ---- tracking (tracking_routes.cc) ----
  Result<Json> CreateExperiment(const Params& p, const Caller&);
  Result<Json> GetExperiment(const Params& p, const Caller&);
  Result<Json> GetExperimentByName(const Params& p, const Caller&);
  Result<Json> SearchExperiments(const Params& p, const Caller&);
  Result<Json> UpdateExperiment(const Params& p, const Caller&);
  Result<Json> DeleteExperiment(const Params& p, const Caller&);
  Result<Json> RestoreExperiment(const Params& p, const Caller&);
  Result<Json> SetExperimentTag(const Params& p, const Caller&);
  Result<Json> DeleteExperimentTag(const Params& p, const Caller&);
  Result<Json> SearchDatasets(const Params& p, const Caller&);
  Result<Json> CreateRun(const Params& p, const Caller& c);
  Result<Json> UpdateRun(const Params& p, const Caller&);
  Result<Json> DeleteRun(const Params& p, const Caller&);
  Result<Json> RestoreRun(const Params& p, const Caller&);
  Result<Json> GetRun(const Params& p, const Caller&);
  Result<Json> LogMetric(const Params& p, const Caller&);
  Result<Json> LogParam(const Params& p, const Caller&);
  Result<Json> SetTag(const Params& p, const Caller&);
  Result<Json> DeleteTag(const Params& p, const Caller&);
  Result<Json> LogBatch(const Params& p, const Caller&);
  // Writes a read log-batch or log-metric body.
  Result<Json> Ingest(const LogBatchBody& b);
  Result<Json> LogModel(const Params& p, const Caller&);
  Result<Json> LogInputs(const Params& p, const Caller&);  // dataset_routes.cc
  Result<Json> SearchRuns(const Params& p, const Caller&);
  // MLflow 3's LoggedModels (logged_model_routes.cc).
  Result<Json> CreateLoggedModel(const Params& p, const Caller&);
  Result<Json> SearchLoggedModels(const Params& p, const Caller&);
  Result<Json> GetLoggedModel(const Params& p, const Caller&);
  Result<Json> FinalizeLoggedModel(const Params& p, const Caller&);
  Result<Json> DeleteLoggedModel(const Params& p, const Caller&);
  Result<Json> SetLoggedModelTags(const Params& p, const Caller&);
  Result<Json> DeleteLoggedModelTag(const Params& p, const Caller&);
  Result<Json> LogLoggedModelParams(const Params& p, const Caller&);
  Result<Json> ListLoggedModelArtifacts(const Params& p, const Caller&);
  Result<Json> LogOutputs(const Params& p, const Caller&);
  Result<Json> GetMetricHistory(const Params& p, const Caller&);
  Result<Json> ListRunArtifacts(const Params& p, const Caller&);
  Result<Json> LogLineage(const Params& p, const Caller&);
  Result<Json> GetLineage(const Params& p, const Caller&);
  Result<Json> FindLineage(const Params& p, const Caller&);

  // ---- Alertmanager's webhook (alert_routes.cc) ----
  Result<Json> RecordAlerts(const Params& p, const Caller&);
  Result<Json> ListAlerts(const Params& p, const Caller&);

  // ---- registry (registry_routes.cc) ----
  Result<Json> CreateRegisteredModel(const Params& p, const Caller&);
  Result<Json> GetRegisteredModel(const Params& p, const Caller&);
  Result<Json> UpdateRegisteredModel(const Params& p, const Caller&);
  Result<Json> RenameRegisteredModel(const Params& p, const Caller& c);
  Result<Json> DeleteRegisteredModel(const Params& p, const Caller& c);
  Result<Json> SearchRegisteredModels(const Params& p, const Caller&);
  Result<Json> GetLatestVersions(const Params& p, const Caller&);
  Result<Json> SetRegisteredModelTag(const Params& p, const Caller&);
  Result<Json> DeleteRegisteredModelTag(const Params& p, const Caller&);
  // Every stage change, alias move and promotion: through the gates, counted by outcome.
  // `p`: the request, whose 409 then carries the gates' outcomes (`gates`).
  Result<meta::ModelVersion> Move(const meta::Promotion& pr, const Caller& c, const Params* p = nullptr);
  Result<Json> SetAlias(const Params& p, const Caller& c);
  Result<Json> DeleteAlias(const Params& p, const Caller& c);
  Result<Json> GetByAlias(const Params& p, const Caller&);
  Result<Json> CreateModelVersion(const Params& p, const Caller& c);
  Result<Json> GetModelVersion(const Params& p, const Caller&);
  Result<Json> UpdateModelVersion(const Params& p, const Caller&);
  Result<Json> DeleteModelVersion(const Params& p, const Caller& c);
  Result<Json> SearchModelVersions(const Params& p, const Caller&);
  Result<Json> TransitionStage(const Params& p, const Caller& c);
  Result<Json> GetDownloadUri(const Params& p, const Caller&);
  Result<Json> SetModelVersionTag(const Params& p, const Caller&);
  Result<Json> DeleteModelVersionTag(const Params& p, const Caller&);
  Result<Json> Promote(const Params& p, const Caller& c);
  Result<Json> History(const Params& p, const Caller&);

  // ---- forja rollout's records (rollout_routes.cc) ----
  Result<Json> BeginRollout(const Params& p, const Caller& c);
  Result<Json> UpdateRollout(const Params& p, const Caller& c);
  Result<Json> GetRollout(const Params& p, const Caller&);

  // ---- who the caller is, for the web UI (whoami_routes.cc) ----
  Result<Json> WhoAmI(const Params& p, const Caller& c);

  // ---- the web UI's runs table (runs_window_routes.cc) ----
  Result<meta::RunWindowQuery> WindowQuery(const Params& p, Json* keys_read);
  Result<Json> RunsWindow(const Params& p, const Caller&);
  Result<Json> RunsCount(const Params& p, const Caller&);
  // Written straight into its body, JSON or binary (metric_histories_routes.cc).
  Result<net::Response> MetricHistories(const Params& p, const Caller&);
  Result<Json> GetRuns(const Params& p, const Caller&);  // metric_histories_routes.cc
  Result<Json> RunsKeys(const Params& p, const Caller&);
  Result<Json> RunsGroups(const Params& p, const Caller&);

  // ---- the workspace's pipeline, for the web UI (pipeline_routes.cc) ----
  Result<Json> PipelineStatus(const Params& p, const Caller&);
  // A tracking run's stage logs, when forja run made it in this workspace.
  Result<Json> RunLogs(const Params& p, const Caller&);

  // ---- what forja serve instances report, for the web UI (serving_routes.cc) ----
  Result<Json> RecordServingReport(const Params& p, const Caller&);
  Result<Json> ListServingInstances(const Params& p, const Caller&);
};

}  // namespace forja::api
