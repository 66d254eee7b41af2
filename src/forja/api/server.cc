// The tracking and registry server's core: tokens, the route table, authentication,
// reading a request's parameters, and the answers. Requests run on a pool of handler
// threads (they block on the database); every answer is JSON, and every failure an
// MLflow error ({"error_code", "message"}) with the status MLflow's clients expect: a
// bad request is always a 4xx, because those clients retry 5xx answers for about a
// minute. The handlers are in tracking_routes.cc, registry_routes.cc and
// artifact_routes.cc (server_impl.h says what they share).
#include "forja/api/server.h"

#include <openssl/rand.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "forja/api/server_impl.h"
#include "forja/api/ui_routes.h"
#include "forja/api/unimplemented_routes.h"
#include "forja/core/crash_point.h"
#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/core/sha256.h"
#include "forja/core/utf8.h"
#include "forja/net/status_http.h"

#ifndef FORJA_VERSION
#define FORJA_VERSION "dev"
#endif

namespace forja::api {

using meta::MetaStore;
using registry::Role;

std::string TokenHash(const std::string& token) { return "sha256:" + Sha256::Of(token).Hex(); }

std::string NewToken() {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char b[40];
  if (RAND_bytes(b, sizeof b) != 1) return "";
  std::string t = "forja_";
  for (unsigned char c : b) t += kAlphabet[c % 62];
  return t;
}

// ---- answers ---------------------------------------------------------------------------

namespace {

// MLflow's name for each kind of failure (its ErrorCode enum); the HTTP status
// comes from net's one table.
const char* MlflowErrorCode(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kNotFound: return "RESOURCE_DOES_NOT_EXIST";
    case Code::kExists: return "RESOURCE_ALREADY_EXISTS";
    case Code::kUser:
    case Code::kUsage: return "INVALID_PARAMETER_VALUE";
    case Code::kUnauthenticated: return "UNAUTHENTICATED";
    case Code::kDenied: return "PERMISSION_DENIED";
    case Code::kRefused: return "RESOURCE_CONFLICT";
    case Code::kConflict:
    case Code::kRemote:
    case Code::kUnavailable: return "TEMPORARILY_UNAVAILABLE";
    case Code::kDeadlineExceeded: return "DEADLINE_EXCEEDED";
    case Code::kCorrupt:
    case Code::kIo:
    case Code::kInternal: return "INTERNAL_ERROR";
  }
  return "INTERNAL_ERROR";
}

std::string ErrorJson(const std::string& code, const std::string& message) {
  return Json{{"error_code", code}, {"message", message}}.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

ApiError FromStatus(const Status& st) {
  return {net::HttpStatusFor(st), MlflowErrorCode(st.code()), st.message()};
}

net::Response JsonResponse(int status, const Json& j) {
  net::Response r;
  r.status = status;
  r.body = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

net::Response ErrorResponse(const ApiError& e) {
  net::Response r;
  r.status = e.status;
  r.body = ErrorJson(e.code, e.message);
  return r;
}

Json SearchAnswer(const char* field, Json list, const std::string& next_page_token) {
  Json out = Json::object();
  if (!list.empty()) out[field] = std::move(list);
  if (!next_page_token.empty()) out["next_page_token"] = next_page_token;
  return out;
}

// ---- request parameters ----------------------------------------------------------------------

namespace {

template <typename T>
Result<T> Missing(const char* name, bool required, T def) {
  if (required)
    return Status::User(std::string("Missing value for required parameter '") + name +
                        "'. See the API docs for more information about request parameters.");
  return def;
}

Status Invalid(const char* name, const Json& v) {
  return Status::User("Invalid value " + JsonExcerpt(v, 80) + " for parameter '" + name + "' supplied.");
}

}  // namespace

Result<std::string> Params::Str(const char* name, bool required) const {
  if (get_) {
    if (!req_.HasParam(name)) return Missing(name, required, std::string());
    return req_.Param(name);
  }
  auto it = body_.find(name);
  if (it == body_.end() || it->is_null()) return Missing(name, required, std::string());
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  return Invalid(name, *it);
}

Result<int64_t> Params::Int(const char* name, int64_t def, bool required) const {
  std::string text;
  if (get_) {
    if (!req_.HasParam(name)) return Missing(name, required, def);
    text = req_.Param(name);
  } else {
    auto it = body_.find(name);
    if (it == body_.end() || it->is_null()) return Missing(name, required, def);
    if (it->is_number_integer()) return it->get<int64_t>();
    if (!it->is_string()) return Invalid(name, *it);
    text = it->get<std::string>();
  }
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || !end || *end) return Invalid(name, Json(text));
  return static_cast<int64_t>(v);
}

Result<bool> Params::Bool(const char* name, bool def) const {
  if (get_) {
    if (!req_.HasParam(name)) return def;
    std::string v = req_.Param(name);
    if (v == "true" || v == "True" || v == "1") return true;
    if (v == "false" || v == "False" || v == "0") return false;
    return Invalid(name, Json(v));
  }
  auto it = body_.find(name);
  if (it == body_.end() || it->is_null()) return def;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string() && (*it == "true" || *it == "false")) return *it == "true";
  return Invalid(name, *it);
}

Result<std::vector<std::string>> Params::List(const char* name) const {
  if (get_) return req_.Params(name);
  std::vector<std::string> out;
  auto it = body_.find(name);
  if (it == body_.end() || it->is_null()) return out;
  if (it->is_string()) return std::vector<std::string>{it->get<std::string>()};
  if (!it->is_array()) return Invalid(name, *it);
  for (const Json& x : *it) {
    if (x.is_string()) out.push_back(x.get<std::string>());
    else if (x.is_number_integer()) out.push_back(std::to_string(x.get<int64_t>()));
    else return Invalid(name, x);
  }
  return out;
}

Result<meta::ViewType> Params::View(const char* name) const {
  ASSIGN_OR_RETURN(std::string v, Str(name));
  if (v.empty() || v == "ACTIVE_ONLY" || v == "1") return meta::ViewType::kActive;
  if (v == "DELETED_ONLY" || v == "2") return meta::ViewType::kDeleted;
  if (v == "ALL" || v == "3") return meta::ViewType::kAll;
  return Status::User(std::string("invalid value '") + v + "' for parameter '" + name +
                      "' (ACTIVE_ONLY, DELETED_ONLY or ALL)");
}

Result<std::string> Params::RunId() const {
  ASSIGN_OR_RETURN(std::string id, Str("run_id"));
  if (id.empty()) {
    ASSIGN_OR_RETURN(id, Str("run_uuid"));
  }
  if (id.empty()) return Status::User("missing value for required parameter 'run_id'");
  return id;
}

Result<int64_t> Params::Version() const {
  ASSIGN_OR_RETURN(int64_t v, Int("version", 0, true));
  if (v < 1) return Status::User("invalid value for parameter 'version': versions start at 1");
  return v;
}

Status Params::Search(const char* view_param, int64_t default_max, meta::Query* q) const {
  ASSIGN_OR_RETURN(q->filter, Str("filter"));
  ASSIGN_OR_RETURN(q->order_by, List("order_by"));
  if (view_param) {
    ASSIGN_OR_RETURN(q->view, View(view_param));
  }
  ASSIGN_OR_RETURN(q->page.max_results, Int("max_results", default_max));
  ASSIGN_OR_RETURN(q->page.token, Str("page_token"));
  return Status::Ok();
}

Status Params::Search(const char* view_param, int64_t default_max, meta::RunQuery* q) const {
  ASSIGN_OR_RETURN(q->experiment_ids, List("experiment_ids"));
  meta::Query rest;
  RETURN_IF_ERROR(Search(view_param, default_max, &rest));
  q->filter = std::move(rest.filter);
  q->order_by = std::move(rest.order_by);
  q->view = rest.view;
  q->page = std::move(rest.page);
  return Status::Ok();
}

// ---- the route table -------------------------------------------------------------------------

namespace {

// MLflow's routes with parameters in the path (logged-models/{model_id}/tags/{tag_key}): the
// route table's key for `key`, the parameters onto `path_params`. Other keys are themselves.
std::string RouteKey(const std::string& key, std::map<std::string, std::string>* path_params) {
  static const std::string kModels = "logged-models/";
  if (!key.starts_with(kModels) || key == "logged-models/search") return key;
  std::string rest = key.substr(kModels.size());
  size_t slash = rest.find('/');
  (*path_params)["model_id"] = rest.substr(0, slash);
  if (slash == std::string::npos) return "logged-models/{model_id}";
  std::string tail = rest.substr(slash + 1);
  if (tail.starts_with("tags/") && tail.size() > 5) {
    (*path_params)["tag_key"] = tail.substr(5);
    return "logged-models/{model_id}/tags/{tag_key}";
  }
  return "logged-models/{model_id}/" + tail;  // tags, params, artifacts/directories; else no route
}
}  // namespace


void TrackingServer::Impl::Init() {
  // Each route's role comes from the one table (registry/roles.h); the handlers add its escalations.
  auto add = [&](const std::string& path, const char* method, Fn fn, PlainReader plain = nullptr) {
    routes[path].push_back({method, registry::RequiredRole(std::string(method) + " " + path), fn, plain});
  };
  auto add_raw = [&](const std::string& path, const char* method, RawFn raw) {
    routes[path].push_back({method, registry::RequiredRole(std::string(method) + " " + path), nullptr, nullptr, raw});
  };
  add("experiments/create", "POST", &Impl::CreateExperiment);
  add("experiments/get", "GET", &Impl::GetExperiment);
  add("experiments/get-by-name", "GET", &Impl::GetExperimentByName);
  add("experiments/search", "POST", &Impl::SearchExperiments);
  add("experiments/search", "GET", &Impl::SearchExperiments);
  add("experiments/update", "POST", &Impl::UpdateExperiment);
  add("experiments/delete", "POST", &Impl::DeleteExperiment);
  add("experiments/restore", "POST", &Impl::RestoreExperiment);
  add("experiments/set-experiment-tag", "POST", &Impl::SetExperimentTag);
  add("experiments/delete-experiment-tag", "POST", &Impl::DeleteExperimentTag);
  add("experiments/search-datasets", "POST", &Impl::SearchDatasets);
  add("runs/create", "POST", &Impl::CreateRun);
  add("runs/update", "POST", &Impl::UpdateRun);
  add("runs/delete", "POST", &Impl::DeleteRun);
  add("runs/restore", "POST", &Impl::RestoreRun);
  add("runs/get", "GET", &Impl::GetRun);
  add("runs/log-metric", "POST", &Impl::LogMetric, &ReadPlainLogMetric);
  add("runs/log-parameter", "POST", &Impl::LogParam);
  add("runs/set-tag", "POST", &Impl::SetTag);
  add("runs/delete-tag", "POST", &Impl::DeleteTag);
  add("runs/log-batch", "POST", &Impl::LogBatch, &ReadPlainLogBatch);
  add("runs/log-inputs", "POST", &Impl::LogInputs);
  add("runs/log-model", "POST", &Impl::LogModel);
  add("runs/search", "POST", &Impl::SearchRuns);
  add("logged-models", "POST", &Impl::CreateLoggedModel);  // logged_model_routes.cc
  add("logged-models/search", "POST", &Impl::SearchLoggedModels);
  add("logged-models/{model_id}", "GET", &Impl::GetLoggedModel);
  add("logged-models/{model_id}", "PATCH", &Impl::FinalizeLoggedModel);
  add("logged-models/{model_id}", "DELETE", &Impl::DeleteLoggedModel);
  add("logged-models/{model_id}/tags", "PATCH", &Impl::SetLoggedModelTags);
  add("logged-models/{model_id}/tags/{tag_key}", "DELETE", &Impl::DeleteLoggedModelTag);
  add("logged-models/{model_id}/params", "POST", &Impl::LogLoggedModelParams);
  add("logged-models/{model_id}/artifacts/directories", "GET", &Impl::ListLoggedModelArtifacts);
  add("runs/outputs", "POST", &Impl::LogOutputs);
  add("metrics/get-history", "GET", &Impl::GetMetricHistory);
  add("artifacts/list", "GET", &Impl::ListRunArtifacts);
  add("registered-models/create", "POST", &Impl::CreateRegisteredModel);
  add("registered-models/get", "GET", &Impl::GetRegisteredModel);
  add("registered-models/update", "PATCH", &Impl::UpdateRegisteredModel);
  add("registered-models/rename", "POST", &Impl::RenameRegisteredModel);
  add("registered-models/delete", "DELETE", &Impl::DeleteRegisteredModel);
  add("registered-models/search", "GET", &Impl::SearchRegisteredModels);
  add("registered-models/search", "POST", &Impl::SearchRegisteredModels);
  add("registered-models/get-latest-versions", "POST", &Impl::GetLatestVersions);
  add("registered-models/get-latest-versions", "GET", &Impl::GetLatestVersions);
  add("registered-models/set-tag", "POST", &Impl::SetRegisteredModelTag);
  add("registered-models/delete-tag", "DELETE", &Impl::DeleteRegisteredModelTag);
  add("registered-models/alias", "POST", &Impl::SetAlias);
  add("registered-models/alias", "DELETE", &Impl::DeleteAlias);
  add("registered-models/alias", "GET", &Impl::GetByAlias);
  add("model-versions/create", "POST", &Impl::CreateModelVersion);
  add("model-versions/get", "GET", &Impl::GetModelVersion);
  add("model-versions/update", "PATCH", &Impl::UpdateModelVersion);
  add("model-versions/delete", "DELETE", &Impl::DeleteModelVersion);
  add("model-versions/search", "GET", &Impl::SearchModelVersions);
  add("model-versions/search", "POST", &Impl::SearchModelVersions);
  add("model-versions/transition-stage", "POST", &Impl::TransitionStage);
  add("model-versions/get-download-uri", "GET", &Impl::GetDownloadUri);
  add("model-versions/set-tag", "POST", &Impl::SetModelVersionTag);
  add("model-versions/delete-tag", "DELETE", &Impl::DeleteModelVersionTag);
  // forja's own.
  add("forja/lineage/log", "POST", &Impl::LogLineage);
  add("forja/lineage/get", "GET", &Impl::GetLineage);
  add("forja/lineage/find", "GET", &Impl::FindLineage);
  add("forja/alerts", "POST", &Impl::RecordAlerts);
  add("forja/alerts", "GET", &Impl::ListAlerts);
  add("forja/models/promote", "POST", &Impl::Promote);
  add("forja/models/history", "GET", &Impl::History);
  add("forja/rollouts/begin", "POST", &Impl::BeginRollout);  // rollout_routes.cc
  add("forja/rollouts/update", "POST", &Impl::UpdateRollout);
  add("forja/rollouts/get", "GET", &Impl::GetRollout);
  add("forja/artifacts/put", "POST", &Impl::PutArtifactRef);
  add("forja/objects/missing", "POST", &Impl::MissingObjects);
  add("forja/whoami", "GET", &Impl::WhoAmI);  // whoami_routes.cc
  add("forja/pipeline/status", "GET", &Impl::PipelineStatus);  // pipeline_routes.cc
  add("forja/runs/window", "GET", &Impl::RunsWindow);  // runs_window_routes.cc
  add("forja/runs/count", "GET", &Impl::RunsCount);
  add_raw("forja/metrics/histories", "GET", &Impl::MetricHistories);  // metric_histories_routes.cc
  add("forja/runs/get-many", "GET", &Impl::GetRuns);
  add("forja/runs/keys", "GET", &Impl::RunsKeys);
  add("forja/runs/groups", "GET", &Impl::RunsGroups);
  add("forja/serving/report", "POST", &Impl::RecordServingReport);  // serving_routes.cc
  add("forja/serving/instances", "GET", &Impl::ListServingInstances);
  add("forja/runs/logs", "GET", &Impl::RunLogs);  // pipeline_routes.cc

  using T = PromRegistry::Type;
  metrics.Describe("forja_tracking_requests_total", T::kCounter, "Requests answered, by route and status code.");
  metrics.Describe("forja_tracking_request_duration_seconds", T::kHistogram, "Time to answer a request, by route.",
                   {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5});
  metrics.Describe("forja_tracking_metric_points_total", T::kCounter, "Metric points logged.");
  metrics.Describe("forja_registry_promotions_total", T::kCounter,
                   "Promotions, by model, target and outcome (moved, refused, denied, forced).");
  metrics.Describe("forja_tracking_up", T::kGauge, "1 while the server runs.");
  metrics.Set("forja_tracking_up", "", 1);
}

// ---- authentication ----------------------------------------------------------------------------

namespace {

std::string Unbase64(const std::string& in) {
  static const std::string k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : in) {
    size_t v = k.find(ch);
    if (v == std::string::npos) break;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

}  // namespace

// Whether the request must carry a token, and who it is.
Result<Caller> TrackingServer::Impl::Authenticate(const net::Request& req) {
  Caller c;
  std::string_view h = req.Header("authorization");
  std::string token;
  if (h.starts_with("Bearer ")) {
    token = std::string(h.substr(7));
  } else if (h.starts_with("Basic ")) {
    // MLFLOW_TRACKING_USERNAME / _PASSWORD: the password is the token.
    std::string decoded = Unbase64(std::string(h.substr(6)));
    size_t colon = decoded.find(':');
    if (colon != std::string::npos) token = decoded.substr(colon + 1);
  }
  bool required = config.auth == AuthMode::kOn || (config.auth == AuthMode::kAuto && TokensExist());
  if (token.empty()) {
    if (required)
      return Status::Unauthenticated("this server needs a token: send 'Authorization: Bearer <token>' "
                                     "(MLFLOW_TRACKING_TOKEN for MLflow clients; forja server token create makes one)");
    c.role = Role::kAdmin;
    c.user = "anonymous";
    return c;
  }
  if (config.auth == AuthMode::kOff) {
    c.role = Role::kAdmin;
    c.user = "anonymous";
    return c;
  }
  auto t = store->FindToken(TokenHash(token));
  if (!t.ok()) {
    if (t.status().code() == Code::kNotFound) return Status::Unauthenticated("unknown or revoked token");
    return t.status();
  }
  c.role = registry::RoleFrom(t->role);
  c.user = t->name;
  return c;
}

bool TrackingServer::Impl::TokensExist() {
  if (tokens_exist) return true;  // sticky: token rows are never deleted
  int64_t now = meta::NowMs();
  if (now - tokens_checked_ms.load() > 2000) {
    std::lock_guard<std::mutex> lock(token_mu);
    if (now - tokens_checked_ms.load() > 2000) {
      // Revoked tokens count: once a store has had a token, revoking the last must not
      // make every anonymous caller an admin; only --auth off opens it again.
      auto list = store->ListTokens();
      tokens_exist = !list.ok() || !list->empty();  // unknown: be safe
      tokens_checked_ms = now;
    }
  }
  return tokens_exist;
}

net::Response TrackingServer::Impl::AuthError(const Status& st) {
  net::Response r = ErrorResponse(FromStatus(st));
  if (st.code() == Code::kUnauthenticated) r.headers.push_back({"WWW-Authenticate", "Bearer realm=\"forja\""});
  return r;
}

// Decides on a request from its head, before its body is read (net's on_head, on the
// handler pool): a caller without a valid token gets its 401 without sending a byte of
// body, and only a writer's upload may be larger than an API request. Dispatch still
// authenticates every request (the check is skipped for bodies that came with the head).
net::HeadDecision TrackingServer::Impl::CheckHead(const net::Request& req) {
  net::HeadDecision d;
  d.max_body_bytes = config.max_json_bytes;
  const std::string& path = req.path;
  if (path == "/health" || path == "/ping" || path == "/version" || path == "/metrics" ||
      path.find("/mlflow/server-info") != std::string::npos || IsUiRequest(req))
    return d;  // public, and none reads a body
  auto caller = Authenticate(req);
  if (!caller.ok()) {
    d.refuse = AuthError(caller.status());
    return d;
  }
  bool objects = path.starts_with("/api/2.0/forja/objects/sha256/");
  bool upload = req.method == "PUT" && (path.starts_with("/api/2.0/mlflow-artifacts/artifacts/") || objects);
  if (upload)  // the role from the one table, as Artifacts and Objects check it again
    if (Status st = registry::Authorize(objects ? "PUT forja/objects" : "PUT mlflow-artifacts", caller->role); !st.ok())
      d.refuse = ErrorResponse(FromStatus(st));
  if (upload) d.max_body_bytes = config.max_upload_bytes;
  return d;
}

// ---- dispatch --------------------------------------------------------------------------------

namespace {

// A path or query parameter that is not UTF-8 is refused before anything is
// stored under it (an artifact path could never be fetched back) or quoted.
Status CheckRequestUtf8(const net::Request& req) {
  if (size_t bad = FindInvalidUtf8(req.path); bad != std::string::npos)
    return Status::User("the request path is not valid UTF-8 (byte " + std::to_string(bad + 1) +
                        " after percent-decoding)");
  std::string query;
  if (!net::PercentDecode(req.query, true, &query)) query = req.query;
  if (size_t bad = FindInvalidUtf8(query); bad != std::string::npos)
    return Status::User("the query string is not valid UTF-8 (byte " + std::to_string(bad + 1) +
                        " after percent-decoding)");
  return Status::Ok();
}

net::Response TextResponse(const std::string& content_type, std::string body) {
  net::Response r;
  r.content_type = content_type;
  r.body = std::move(body);
  return r;
}

}  // namespace

void TrackingServer::Impl::Handle(net::Request& req, net::Responder res) {
  auto start = std::chrono::steady_clock::now();
  std::string route;
  net::Response r = Dispatch(req, &route);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics.Add("forja_tracking_requests_total",
              PromRegistry::Label("route", route) + "," + PromRegistry::Label("code", std::to_string(r.status)));
  metrics.Observe("forja_tracking_request_duration_seconds", PromRegistry::Label("route", route), secs);
  if (config.access_log)
    LogInfo(req.method + " " + req.target.substr(0, 200) + " " + std::to_string(r.status) + " " +
            std::to_string(static_cast<int>(secs * 1e6)) + "us id=" + req.request_id);
  res.Send(std::move(r));
}

namespace {

// Why a known MLflow route (the client calls it under /api/2.0, 3.0 or 4.0) is not served, or "".
std::string UnimplementedRoute(const std::string& path, const std::string& key) {
  if (!key.empty()) return UnimplementedMlflowRoute(key);
  for (std::string_view prefix : {"/api/3.0/mlflow/", "/api/4.0/mlflow/"})
    if (path.starts_with(prefix)) return UnimplementedMlflowRoute(std::string_view(path).substr(prefix.size()));
  if (path.starts_with("/api/2.0/mlflow-artifacts/"))
    return UnimplementedArtifactRoute(std::string_view(path).substr(std::strlen("/api/2.0/mlflow-artifacts/")));
  return "";
}

}  // namespace

net::Response TrackingServer::Impl::Dispatch(net::Request& req, std::string* route) {
  const std::string& path = req.path;
  if (Status st = CheckRequestUtf8(req); !st.ok()) {
    *route = "invalid";
    return ErrorResponse({400, "INVALID_PARAMETER_VALUE", st.message()});
  }
  if (path == "/health" || path == "/ping") {
    *route = "health";
    return TextResponse("text/plain", "OK");
  }
  if (path == "/version") {
    *route = "version";
    return TextResponse("text/plain", FORJA_VERSION);
  }
  if (path == "/metrics") {
    *route = "metrics";
    return TextResponse("text/plain; version=0.0.4", metrics.Render());
  }
  if (path == "/api/3.0/mlflow/server-info" || path == "/api/2.0/mlflow/server-info") {
    *route = "server-info";
    return JsonResponse(200, {{"store_type", "SqlStore"},
                              {"workspaces_enabled", false},
                              {"multipart_uploads_enabled", false},
                              {"multipart_downloads_enabled", false},
                              {"forja_version", FORJA_VERSION}});
  }
  if (IsUiRequest(req)) {  // the web UI's files (ui_routes.cc): public, the page asks for a token
    *route = "ui";
    return UiResponse(req);
  }
  static const std::string kArtifacts = "/api/2.0/mlflow-artifacts/artifacts";
  if (path == kArtifacts || path.starts_with(kArtifacts + "/")) {
    *route = "mlflow-artifacts";
    auto caller = Authenticate(req);
    if (!caller.ok()) return AuthError(caller.status());
    std::string rel = path.size() > kArtifacts.size() ? path.substr(kArtifacts.size() + 1) : "";
    return Artifacts(req, rel, *caller);
  }
  static const std::string kObjects = "/api/2.0/forja/objects/sha256/";
  if (path.starts_with(kObjects)) {
    *route = "forja/objects";
    auto caller = Authenticate(req);
    if (!caller.ok()) return AuthError(caller.status());
    return Objects(req, path.substr(kObjects.size()), *caller);
  }
  std::string key;
  for (const char* prefix : {"/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/", "/api/2.0/preview/mlflow/",
                             "/ajax-api/2.0/preview/mlflow/"}) {
    if (path.starts_with(prefix)) {
      key = path.substr(std::strlen(prefix));
      break;
    }
  }
  if (key.empty() && path.starts_with("/api/2.0/forja/")) key = path.substr(9);
  // The caller first, as the head check does, so that an unauthenticated request gets
  // the same 401 whether or not its body came with the head (and learns no routes).
  auto caller = Authenticate(req);
  if (!caller.ok()) return AuthError(caller.status());
  std::map<std::string, std::string> path_params;
  key = RouteKey(key, &path_params);
  auto it = routes.find(key);
  if (key.empty() || it == routes.end()) {
    if (std::string why = UnimplementedRoute(path, key); !why.empty()) {
      *route = "not-implemented";
      return ErrorResponse({501, "NOT_IMPLEMENTED", req.method + " " + path + " is not implemented by forja server: " +
                                                        why + "; nothing was stored"});
    }
    *route = "unknown";
    return ErrorResponse({404, "ENDPOINT_NOT_FOUND", "no endpoint " + req.method + " " + path});
  }
  *route = key;
  const Route* r = nullptr;
  std::string methods;
  for (const Route& x : it->second) {
    methods += (methods.empty() ? "" : ", ") + std::string(x.method);
    if (req.method == x.method || (req.method == "HEAD" && std::string(x.method) == "GET")) r = &x;
  }
  if (!r) {
    net::Response resp = ErrorResponse({405, "BAD_REQUEST", path + " accepts " + methods + ", not " + req.method});
    resp.headers.push_back({"Allow", methods});
    return resp;
  }
  if (Status st = registry::Authorize(std::string(r->method) + " " + key, caller->role); !st.ok())
    return ErrorResponse({403, "PERMISSION_DENIED", "the token '" + caller->user + "': " + st.message()});
  bool has_body = req.method != "GET" && req.method != "HEAD" && !req.body.empty();
  if (has_body && req.body.size() > config.max_json_bytes)
    return ErrorResponse({413, "BAD_REQUEST", "the request body is " + std::to_string(req.body.size()) +
                                                  " bytes; the limit is " + std::to_string(config.max_json_bytes)});
  // The hot ingest routes read their usual bodies without building a tree; a body their
  // reader declines goes the general way below, so it gets the answer it always got.
  LogBatchBody batch;
  bool plain = has_body && r->plain && r->plain(req.body, &batch);
  Json body = Json::object();
  if (has_body && !plain) {
    Result<Json> parsed = ParseJsonText(req.body, "the request body");  // UTF-8 and depth first
    if (!parsed.ok()) return ErrorResponse({400, "BAD_REQUEST", parsed.status().message()});
    body = std::move(*parsed);
    if (!body.is_object()) return ErrorResponse({400, "BAD_REQUEST", "the request body must be a JSON object"});
  }
  if (r->role == Role::kWrite) CrashPoint("api.before_write");  // received and authorized, nothing committed
  Params params(req, body, &path_params);
  if (r->raw) {
    Result<net::Response> answer = (this->*(r->raw))(params, *caller);
    return answer.ok() ? std::move(*answer) : ErrorResponse(FromStatus(answer.status()));
  }
  Result<Json> out = Status::Internal("unset");
  try {
    out = plain ? Ingest(batch) : (this->*(r->fn))(params, *caller);
  } catch (const std::exception& e) {
    // A JSON type the handler did not expect is the client's mistake, not ours.
    out = Status::User(std::string("invalid request: ") + e.what());
  }
  if (r->role == Role::kWrite && out.ok()) CrashPoint("api.after_write");  // committed, no answer sent
  if (!out.ok()) {
    ApiError e = FromStatus(out.status());
    if (params.error_fields().empty()) return ErrorResponse(e);
    Json j = params.error_fields();
    j["error_code"] = e.code;
    j["message"] = e.message;
    return JsonResponse(e.status, j);
  }
  return JsonResponse(200, *out);
}

// ---- starting and stopping ----------------------------------------------------------------------

TrackingServer::TrackingServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TrackingServer::~TrackingServer() { Shutdown(); }

int TrackingServer::port() const { return impl_->http ? impl_->http->port() : 0; }

void TrackingServer::Shutdown() {
  if (impl_->http) impl_->http->Shutdown();
}

Result<std::unique_ptr<TrackingServer>> TrackingServer::Start(const ServerConfig& config,
                                                              std::unique_ptr<MetaStore> store) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->store = std::move(store);
  if (config.artifacts_dir.empty()) return Status::User("the server needs an artifact folder (--artifacts DIR)");
  impl->cache = std::make_unique<Cache>(config.artifacts_dir, std::vector<LinkType>{LinkType::kCopy});
  RETURN_IF_ERROR(MakeDirs(config.artifacts_dir));
  RETURN_IF_ERROR(impl->cache->Prepare());
  impl->Init();
  net::ServerOptions opts;
  opts.host = config.host;
  opts.port = config.port;
  opts.io_threads = config.io_threads;
  opts.handler_threads = config.handler_threads;
  opts.max_body_bytes = std::max(config.max_json_bytes, config.max_upload_bytes);
  // Room for one largest upload and a few API bodies at once; beyond, 503 before the body.
  opts.max_body_bytes_in_flight = config.max_upload_bytes + 8 * config.max_json_bytes;
  opts.error_body = [](int status, std::string_view message) {
    const char* code = status == 413 ? "BAD_REQUEST" : status >= 500 ? "INTERNAL_ERROR" : "BAD_REQUEST";
    if (status == 503) code = "TEMPORARILY_UNAVAILABLE";
    return ErrorJson(code, std::string(message));
  };
  Impl* raw = impl.get();
  opts.on_head = [raw](const net::Request& req) { return raw->CheckHead(req); };
  ASSIGN_OR_RETURN(impl->http, net::Server::Start(opts, [raw](net::Request& req, net::Responder res) {
                     raw->Handle(req, std::move(res));
                   }));
  return std::unique_ptr<TrackingServer>(new TrackingServer(std::move(impl)));
}

}  // namespace forja::api
