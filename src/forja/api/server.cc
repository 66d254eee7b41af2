// The tracking and registry server. Requests run on a pool of handler threads
// (they block on the database); every answer is JSON, and every failure an
// MLflow error ({"error_code", "message"}) with the status MLflow's clients
// expect: a bad request is always a 4xx, because those clients retry 5xx
// answers for about a minute.
#include "forja/api/server.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "forja/api/codec.h"
#include "forja/cas/cache.h"
#include "forja/core/crash_point.h"
#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/core/prometheus.h"
#include "forja/core/path.h"
#include "forja/core/sha256.h"
#include "forja/core/utf8.h"
#include "forja/net/http_server.h"
#include "forja/net/status_http.h"
#include "forja/registry/registry.h"
#include "forja/registry/roles.h"

#ifndef FORJA_VERSION
#define FORJA_VERSION "dev"
#endif

namespace forja::api {

using meta::MetaStore;

std::string TokenHash(const std::string& token) { return "sha256:" + Sha256::Of(token).Hex(); }

std::string NewToken() {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char b[40];
  if (RAND_bytes(b, sizeof b) != 1) return "";
  std::string t = "forja_";
  for (unsigned char c : b) t += kAlphabet[c % 62];
  return t;
}

namespace {

using registry::Role;

// An MLflow error: the HTTP status and the body.
struct ApiError {
  int status;
  std::string code;
  std::string message;
};

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

ApiError FromStatus(const Status& st) {
  return {net::HttpStatusFor(st), MlflowErrorCode(st.code()), st.message()};
}

std::string ErrorJson(const std::string& code, const std::string& message) {
  return Json{{"error_code", code}, {"message", message}}.dump(-1, ' ', false, Json::error_handler_t::replace);
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

// The parameters of one request: the JSON body (POST, PATCH, DELETE) or the
// query string (GET), read through one interface with MLflow's messages.
class Params {
 public:
  Params(const net::Request& req, Json body) : req_(req), body_(std::move(body)), get_(req.method == "GET") {}

  Result<std::string> Str(const char* name, bool required = false) const {
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

  Result<int64_t> Int(const char* name, int64_t def, bool required = false) const {
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

  Result<bool> Bool(const char* name, bool def) const {
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

  Result<std::vector<std::string>> List(const char* name) const {
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

  Result<meta::ViewType> View(const char* name) const {
    ASSIGN_OR_RETURN(std::string v, Str(name));
    if (v.empty() || v == "ACTIVE_ONLY" || v == "1") return meta::ViewType::kActive;
    if (v == "DELETED_ONLY" || v == "2") return meta::ViewType::kDeleted;
    if (v == "ALL" || v == "3") return meta::ViewType::kAll;
    return Status::User(std::string("invalid value '") + v + "' for parameter '" + name +
                        "' (ACTIVE_ONLY, DELETED_ONLY or ALL)");
  }

  // A run id under either of MLflow's names.
  Result<std::string> RunId() const {
    ASSIGN_OR_RETURN(std::string id, Str("run_id"));
    if (id.empty()) {
      ASSIGN_OR_RETURN(id, Str("run_uuid"));
    }
    if (id.empty()) return Status::User("missing value for required parameter 'run_id'");
    return id;
  }

  Result<int64_t> Version() const {
    ASSIGN_OR_RETURN(int64_t v, Int("version", 0, true));
    if (v < 1) return Status::User("invalid value for parameter 'version': versions start at 1");
    return v;
  }

  const Json& body() const { return body_; }

 private:
  template <typename T>
  static Result<T> Missing(const char* name, bool required, T def) {
    if (required)
      return Status::User(std::string("Missing value for required parameter '") + name +
                          "'. See the API docs for more information about request parameters.");
    return def;
  }
  static Status Invalid(const char* name, const Json& v) {
    return Status::User("Invalid value " + JsonExcerpt(v, 80) +
                        " for parameter '" + name + "' supplied.");
  }

  const net::Request& req_;
  Json body_;
  bool get_;
};

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

struct Caller {
  Role role = Role::kNone;
  std::string user;
};

// mlflow-artifacts:/<path> -> <path>
std::string ArtifactPathOf(const std::string& uri) {
  const std::string prefix = "mlflow-artifacts:";
  std::string p = uri.starts_with(prefix) ? uri.substr(prefix.size()) : uri;
  while (!p.empty() && p[0] == '/') p.erase(0, 1);
  return p;
}

// Artifact paths come from requests and end up as files in the caller's folders
// (MLflow clients download them), so they pass the one check for untrusted paths;
// a folder may end in '/'.
Status CheckArtifactPath(const std::string& path) {
  std::string_view rel = path;
  if (rel.size() > 1 && rel.back() == '/') rel.remove_suffix(1);
  Status st = CheckUntrustedPath(rel, PathBase::kFolder);
  if (!st.ok()) return Status::User("invalid artifact path: " + st.message());
  return Status::Ok();
}

}  // namespace

struct TrackingServer::Impl {
  using Fn = Result<Json> (Impl::*)(const Params&, const Caller&);
  struct Route {
    const char* method;
    Role role;
    Fn fn;
  };

  ServerConfig config;
  std::unique_ptr<MetaStore> store;
  std::unique_ptr<Cache> cache;
  std::unique_ptr<net::Server> http;
  std::unordered_map<std::string, std::vector<Route>> routes;  // "experiments/create" -> methods
  PromRegistry metrics;
  std::atomic<int64_t> tokens_checked_ms{0};
  std::atomic<bool> tokens_exist{false};
  std::mutex token_mu;

  // ---- plumbing -------------------------------------------------------------

  void Init() {
    // Each route's role comes from the one table (registry/roles.h); the handlers add its escalations.
    auto add = [&](const std::string& path, const char* method, Fn fn) {
      routes[path].push_back({method, registry::RequiredRole(std::string(method) + " " + path), fn});
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
    add("runs/create", "POST", &Impl::CreateRun);
    add("runs/update", "POST", &Impl::UpdateRun);
    add("runs/delete", "POST", &Impl::DeleteRun);
    add("runs/restore", "POST", &Impl::RestoreRun);
    add("runs/get", "GET", &Impl::GetRun);
    add("runs/log-metric", "POST", &Impl::LogMetric);
    add("runs/log-parameter", "POST", &Impl::LogParam);
    add("runs/set-tag", "POST", &Impl::SetTag);
    add("runs/delete-tag", "POST", &Impl::DeleteTag);
    add("runs/log-batch", "POST", &Impl::LogBatch);
    add("runs/log-inputs", "POST", &Impl::Accept);
    add("runs/log-model", "POST", &Impl::LogModel);
    add("runs/search", "POST", &Impl::SearchRuns);
    add("metrics/get-history", "GET", &Impl::GetMetricHistory);
    add("artifacts/list", "GET", &Impl::ListRunArtifacts);
    add("logged-models/search", "POST", &Impl::Empty);
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
    add("forja/models/promote", "POST", &Impl::Promote);
    add("forja/models/history", "GET", &Impl::History);
    add("forja/artifacts/put", "POST", &Impl::PutArtifactRef);
    add("forja/objects/missing", "POST", &Impl::MissingObjects);

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

  // Whether the request must carry a token, and who it is.
  Result<Caller> Authenticate(const net::Request& req) {
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

  bool TokensExist() {
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

  static std::string Unbase64(const std::string& in) {
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

  void Handle(net::Request& req, net::Responder res) {
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

  net::Response Dispatch(net::Request& req, std::string* route) {
    const std::string& path = req.path;
    if (Status st = CheckRequestUtf8(req); !st.ok()) {
      *route = "invalid";
      return ErrorResponse({400, "INVALID_PARAMETER_VALUE", st.message()});
    }
    if (path == "/health" || path == "/ping") {
      *route = "health";
      net::Response r;
      r.content_type = "text/plain";
      r.body = "OK";
      return r;
    }
    if (path == "/version") {
      *route = "version";
      net::Response r;
      r.content_type = "text/plain";
      r.body = FORJA_VERSION;
      return r;
    }
    if (path == "/metrics") {
      *route = "metrics";
      net::Response r;
      r.content_type = "text/plain; version=0.0.4";
      r.body = metrics.Render();
      return r;
    }
    if (path == "/api/3.0/mlflow/server-info" || path == "/api/2.0/mlflow/server-info") {
      *route = "server-info";
      return JsonResponse(200, {{"store_type", "SqlStore"},
                                {"workspaces_enabled", false},
                                {"multipart_uploads_enabled", false},
                                {"multipart_downloads_enabled", false},
                                {"forja_version", FORJA_VERSION}});
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
    auto it = routes.find(key);
    if (key.empty() || it == routes.end()) {
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
    Json body = Json::object();
    if (req.method != "GET" && req.method != "HEAD" && !req.body.empty()) {
      if (req.body.size() > config.max_json_bytes)
        return ErrorResponse({413, "BAD_REQUEST", "the request body is " + std::to_string(req.body.size()) +
                                                      " bytes; the limit is " + std::to_string(config.max_json_bytes)});
      Result<Json> parsed = ParseJsonText(req.body, "the request body");  // UTF-8 and depth first
      if (!parsed.ok()) return ErrorResponse({400, "BAD_REQUEST", parsed.status().message()});
      body = std::move(*parsed);
      if (!body.is_object()) return ErrorResponse({400, "BAD_REQUEST", "the request body must be a JSON object"});
    }
    if (r->role == Role::kWrite) CrashPoint("api.before_write");  // received and authorized, nothing committed
    Params params(req, std::move(body));
    Result<Json> out = Status::Internal("unset");
    try {
      out = (this->*(r->fn))(params, *caller);
    } catch (const std::exception& e) {
      // A JSON type the handler did not expect is the client's mistake, not ours.
      out = Status::User(std::string("invalid request: ") + e.what());
    }
    if (r->role == Role::kWrite && out.ok()) CrashPoint("api.after_write");  // committed, no answer sent
    if (!out.ok()) return ErrorResponse(FromStatus(out.status()));
    return JsonResponse(200, *out);
  }

  net::Response AuthError(const Status& st) {
    net::Response r = ErrorResponse(FromStatus(st));
    if (st.code() == Code::kUnauthenticated) r.headers.push_back({"WWW-Authenticate", "Bearer realm=\"forja\""});
    return r;
  }

  // Decides on a request from its head, before its body is read (net's on_head, on the
  // handler pool): a caller without a valid token gets its 401 without sending a byte of
  // body, and only a writer's upload may be larger than an API request. Dispatch still
  // authenticates every request (the check is skipped for bodies that came with the head).
  net::HeadDecision CheckHead(const net::Request& req) {
    net::HeadDecision d;
    d.max_body_bytes = config.max_json_bytes;
    const std::string& path = req.path;
    if (path == "/health" || path == "/ping" || path == "/version" || path == "/metrics" ||
        path.find("/mlflow/server-info") != std::string::npos)
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

  // ---- artifacts and objects ---------------------------------------------------

  // Stores bytes as an object, durably (fsync): an acknowledged upload survives a crash.
  Result<Oid> StoreObject(const std::string& data) {
    Oid oid = Sha256::Of(data);
    std::string obj = cache->PathOf(oid);
    if (Exists(obj)) return oid;
    RETURN_IF_ERROR(MakeDirs(Dirname(obj)));
    ASSIGN_OR_RETURN(TempFile tmp, TempFile::CreateBeside(obj, 0444));
    RETURN_IF_ERROR(tmp.Write(data));
    RETURN_IF_ERROR(tmp.Publish(/*durable=*/true));
    return oid;
  }

  net::Response FileResponse(const Oid& oid, const std::string& content_type) {
    int fd = ::open(cache->PathOf(oid).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return ErrorResponse({500, "INTERNAL_ERROR", "object " + oid.Hex() + " is missing from the artifact store"});
    struct stat st;
    ::fstat(fd, &st);
    net::Response r;
    r.content_type = content_type;
    r.file_fd = fd;
    r.file_size = static_cast<uint64_t>(st.st_size);
    return r;
  }

  net::Response Artifacts(net::Request& req, const std::string& rel, const Caller& caller) {
    if (req.method == "GET" && rel.empty()) {  // a listing: ?path=
      std::string folder = req.Param("path");
      if (!folder.empty()) {
        Status st = CheckArtifactPath(folder);
        if (!st.ok()) return ErrorResponse(FromStatus(st));
      }
      auto list = store->ListArtifacts(folder);
      if (!list.ok()) return ErrorResponse(FromStatus(list.status()));
      Json j = Json::object();
      if (!list->empty()) {
        Json files = Json::array();
        for (const auto& e : *list) {
          Json f{{"path", e.path}, {"is_dir", e.is_dir}};
          if (!e.is_dir) f["file_size"] = e.size;
          files.push_back(std::move(f));
        }
        j["files"] = std::move(files);
      }
      return JsonResponse(200, j);
    }
    Status st = CheckArtifactPath(rel);
    if (!st.ok()) return ErrorResponse(FromStatus(st));
    if (req.method == "GET" || req.method == "HEAD") {
      if (Status auth = registry::Authorize("GET mlflow-artifacts", caller.role); !auth.ok())
        return ErrorResponse(FromStatus(auth));
      auto a = store->GetArtifact(rel);
      if (!a.ok()) return ErrorResponse(FromStatus(a.status()));
      auto oid = Oid::FromHex(a->hash.substr(7));
      return FileResponse(*oid, "application/octet-stream");
    }
    if (req.method != "PUT" && req.method != "DELETE")
      return ErrorResponse({405, "BAD_REQUEST", "artifacts accept GET, PUT and DELETE"});
    if (Status auth = registry::Authorize(req.method + " mlflow-artifacts", caller.role); !auth.ok())
      return ErrorResponse(FromStatus(auth));
    if (req.method == "PUT") {
      if (req.body.size() > config.max_upload_bytes)
        return ErrorResponse({413, "BAD_REQUEST", "the artifact is larger than the server's limit"});
      st = registry::CheckPackageArtifact(*cache, rel, "sha256:" + Sha256::Of(req.body).Hex(),
                                          static_cast<int64_t>(req.body.size()));
      if (!st.ok()) return ErrorResponse(FromStatus(st));
      auto oid = StoreObject(req.body);
      if (!oid.ok()) return ErrorResponse(FromStatus(oid.status()));
      st = store->PutArtifact(rel, "sha256:" + oid->Hex(), static_cast<int64_t>(req.body.size()));
      if (!st.ok()) return ErrorResponse(FromStatus(st));
      return JsonResponse(200, Json::object());
    }
    if (req.method == "DELETE") {
      st = registry::CheckPackageArtifact(*cache, rel, "", 0);
      if (!st.ok()) return ErrorResponse(FromStatus(st));
      st = store->DeleteArtifacts(rel);
      if (!st.ok()) return ErrorResponse(FromStatus(st));
      return JsonResponse(200, Json::object());
    }
    return ErrorResponse({405, "BAD_REQUEST", "artifacts accept GET, PUT and DELETE"});
  }

  net::Response Objects(net::Request& req, const std::string& hex, const Caller& caller) {
    auto oid = Oid::FromHex(hex);
    if (!oid) return ErrorResponse({400, "INVALID_PARAMETER_VALUE", "'" + hex.substr(0, 80) + "' is not a sha256 hash"});
    if (req.method == "GET" || req.method == "HEAD") {
      if (Status auth = registry::Authorize("GET forja/objects", caller.role); !auth.ok())
        return ErrorResponse(FromStatus(auth));
      if (!cache->Has(*oid)) return ErrorResponse({404, "RESOURCE_DOES_NOT_EXIST", "no object " + hex});
      return FileResponse(*oid, "application/octet-stream");
    }
    if (req.method != "PUT") return ErrorResponse({405, "BAD_REQUEST", "objects accept GET and PUT"});
    if (Status auth = registry::Authorize("PUT forja/objects", caller.role); !auth.ok())
      return ErrorResponse(FromStatus(auth));
    if (Sha256::Of(req.body) != *oid)
      return ErrorResponse({400, "INVALID_PARAMETER_VALUE", "the body does not hash to " + hex});
    CrashPoint("api.object_before_store");  // body received and hashed, not stored
    auto stored = StoreObject(req.body);
    if (!stored.ok()) return ErrorResponse(FromStatus(stored.status()));
    return JsonResponse(200, Json::object());
  }

  // ---- tracking ---------------------------------------------------------------

  Result<Json> CreateExperiment(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
    ASSIGN_OR_RETURN(std::string loc, p.Str("artifact_location"));
    ASSIGN_OR_RETURN(auto tags, TagsFromJson(p.body(), "tags"));
    ASSIGN_OR_RETURN(std::string id, store->CreateExperiment(name, loc, tags));
    return Json{{"experiment_id", id}};
  }
  Result<Json> GetExperiment(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string id, p.Str("experiment_id", true));
    ASSIGN_OR_RETURN(meta::Experiment e, store->GetExperiment(id));
    return Json{{"experiment", ToJson(e)}};
  }
  Result<Json> GetExperimentByName(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string name, p.Str("experiment_name", true));
    ASSIGN_OR_RETURN(meta::Experiment e, store->GetExperimentByName(name));
    return Json{{"experiment", ToJson(e)}};
  }
  Result<Json> SearchExperiments(const Params& p, const Caller&) {
    meta::Query q;
    ASSIGN_OR_RETURN(q.filter, p.Str("filter"));
    ASSIGN_OR_RETURN(q.order_by, p.List("order_by"));
    ASSIGN_OR_RETURN(q.view, p.View("view_type"));
    ASSIGN_OR_RETURN(q.page.max_results, p.Int("max_results", 1000));
    ASSIGN_OR_RETURN(q.page.token, p.Str("page_token"));
    ASSIGN_OR_RETURN(auto page, store->SearchExperiments(q));
    Json out = Json::object();
    Json list = Json::array();
    for (const auto& e : page.items) list.push_back(ToJson(e));
    if (!list.empty()) out["experiments"] = std::move(list);
    if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
    return out;
  }
  Result<Json> UpdateExperiment(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string id, p.Str("experiment_id", true));
    ASSIGN_OR_RETURN(std::string name, p.Str("new_name", true));
    RETURN_IF_ERROR(store->RenameExperiment(id, name));
    return Json::object();
  }
  Result<Json> DeleteExperiment(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string id, p.Str("experiment_id", true));
    RETURN_IF_ERROR(store->SetExperimentLifecycle(id, true));
    return Json::object();
  }
  Result<Json> RestoreExperiment(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string id, p.Str("experiment_id", true));
    RETURN_IF_ERROR(store->SetExperimentLifecycle(id, false));
    return Json::object();
  }
  Result<Json> SetExperimentTag(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string id, p.Str("experiment_id", true));
    ASSIGN_OR_RETURN(std::string key, p.Str("key", true));
    ASSIGN_OR_RETURN(std::string value, p.Str("value"));
    RETURN_IF_ERROR(store->SetExperimentTag(id, {key, value}));
    return Json::object();
  }
  Result<Json> CreateRun(const Params& p, const Caller& c) {
    ASSIGN_OR_RETURN(std::string exp, p.Str("experiment_id"));
    ASSIGN_OR_RETURN(std::string user, p.Str("user_id"));
    ASSIGN_OR_RETURN(std::string name, p.Str("run_name"));
    ASSIGN_OR_RETURN(int64_t start, p.Int("start_time", 0));
    ASSIGN_OR_RETURN(auto tags, TagsFromJson(p.body(), "tags"));
    if (user.empty()) user = c.user;
    ASSIGN_OR_RETURN(meta::Run run, store->CreateRun(exp, user, name, start, tags));
    return Json{{"run", ToJson(run)}};
  }
  Result<Json> UpdateRun(const Params& p, const Caller&) {
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
  Result<Json> DeleteRun(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string id, p.RunId());
    RETURN_IF_ERROR(store->SetRunLifecycle(id, true));
    return Json::object();
  }
  Result<Json> RestoreRun(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string id, p.RunId());
    RETURN_IF_ERROR(store->SetRunLifecycle(id, false));
    return Json::object();
  }
  Result<Json> GetRun(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string id, p.RunId());
    ASSIGN_OR_RETURN(meta::Run run, store->GetRun(id));
    return Json{{"run", ToJson(run)}};
  }
  Result<Json> LogMetric(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string id, p.RunId());
    ASSIGN_OR_RETURN(meta::Metric m, MetricFromJson(p.body()));
    RETURN_IF_ERROR(store->LogBatch(id, {m}, {}, {}));
    metrics.Add("forja_tracking_metric_points_total", "", 1);
    return Json::object();
  }
  Result<Json> LogParam(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string id, p.RunId());
    ASSIGN_OR_RETURN(std::string key, p.Str("key", true));
    ASSIGN_OR_RETURN(std::string value, p.Str("value"));
    RETURN_IF_ERROR(store->LogBatch(id, {}, {{key, value}}, {}));
    return Json::object();
  }
  Result<Json> SetTag(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string id, p.RunId());
    ASSIGN_OR_RETURN(std::string key, p.Str("key", true));
    ASSIGN_OR_RETURN(std::string value, p.Str("value"));
    RETURN_IF_ERROR(store->LogBatch(id, {}, {}, {{key, value}}));
    return Json::object();
  }
  Result<Json> DeleteTag(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string id, p.RunId());
    ASSIGN_OR_RETURN(std::string key, p.Str("key", true));
    RETURN_IF_ERROR(store->DeleteRunTag(id, key));
    return Json::object();
  }
  Result<Json> LogBatch(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string id, p.RunId());
    std::vector<meta::Metric> ms;
    std::vector<meta::Param> ps;
    const Json& b = p.body();
    if (b.contains("metrics")) {
      if (!b["metrics"].is_array()) return Status::User("'metrics' must be a list");
      ms.reserve(b["metrics"].size());
      for (const Json& m : b["metrics"]) {
        ASSIGN_OR_RETURN(meta::Metric x, MetricFromJson(m));
        ms.push_back(std::move(x));
      }
    }
    if (b.contains("params")) {
      if (!b["params"].is_array()) return Status::User("'params' must be a list");
      for (const Json& x : b["params"]) {
        if (!x.is_object() || !x.contains("key") || !x["key"].is_string())
          return Status::User("'params' must be a list of {key, value}");
        ps.push_back({x["key"].get<std::string>(), x.contains("value") && x["value"].is_string()
                                                       ? x["value"].get<std::string>()
                                                       : (x.contains("value") ? x["value"].dump() : "")});
      }
    }
    ASSIGN_OR_RETURN(auto tags, TagsFromJson(b, "tags"));
    RETURN_IF_ERROR(store->LogBatch(id, ms, ps, tags));
    metrics.Add("forja_tracking_metric_points_total", "", static_cast<double>(ms.size()));
    return Json::object();
  }
  Result<Json> LogModel(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string id, p.RunId());
    ASSIGN_OR_RETURN(std::string model, p.Str("model_json"));
    RETURN_IF_ERROR(store->LogBatch(id, {}, {}, {{"mlflow.log-model.history", "[" + model + "]"}}));
    return Json::object();
  }
  Result<Json> Accept(const Params&, const Caller&) { return Json::object(); }
  Result<Json> Empty(const Params&, const Caller&) { return Json::object(); }

  Result<Json> SearchRuns(const Params& p, const Caller&) {
    meta::RunQuery q;
    ASSIGN_OR_RETURN(q.experiment_ids, p.List("experiment_ids"));
    ASSIGN_OR_RETURN(q.filter, p.Str("filter"));
    ASSIGN_OR_RETURN(q.order_by, p.List("order_by"));
    ASSIGN_OR_RETURN(q.view, p.View("run_view_type"));
    ASSIGN_OR_RETURN(q.page.max_results, p.Int("max_results", 1000));
    ASSIGN_OR_RETURN(q.page.token, p.Str("page_token"));
    ASSIGN_OR_RETURN(auto page, store->SearchRuns(q));
    Json out = Json::object();
    if (!page.items.empty()) {
      Json runs = Json::array();
      for (const auto& r : page.items) runs.push_back(ToJson(r));
      out["runs"] = std::move(runs);
    }
    if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
    return out;
  }
  Result<Json> GetMetricHistory(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string id, p.RunId());
    ASSIGN_OR_RETURN(std::string key, p.Str("metric_key", true));
    meta::Page page;
    ASSIGN_OR_RETURN(page.max_results, p.Int("max_results", 0));
    ASSIGN_OR_RETURN(page.token, p.Str("page_token"));
    ASSIGN_OR_RETURN(auto h, store->GetMetricHistory(id, key, page));
    Json out = Json::object();
    Json ms = Json::array();
    for (const auto& m : h.items) ms.push_back(ToJson(m));
    out["metrics"] = std::move(ms);
    if (!h.next_page_token.empty()) out["next_page_token"] = h.next_page_token;
    return out;
  }
  Result<Json> ListRunArtifacts(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string id, p.RunId());
    ASSIGN_OR_RETURN(std::string sub, p.Str("path"));
    ASSIGN_OR_RETURN(meta::Run run, store->GetRun(id));
    std::string root = ArtifactPathOf(run.info.artifact_uri);
    std::string folder = sub.empty() ? root : root + "/" + sub;
    RETURN_IF_ERROR(CheckArtifactPath(folder));
    ASSIGN_OR_RETURN(auto list, store->ListArtifacts(folder));
    Json files = Json::array();
    for (const auto& e : list) {
      Json f{{"path", sub.empty() ? e.path : sub + "/" + e.path}, {"is_dir", e.is_dir}};
      if (!e.is_dir) f["file_size"] = e.size;
      files.push_back(std::move(f));
    }
    Json out{{"root_uri", run.info.artifact_uri}};
    if (!files.empty()) out["files"] = std::move(files);
    return out;
  }

  // ---- registry -----------------------------------------------------------------

  Result<Json> CreateRegisteredModel(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
    ASSIGN_OR_RETURN(std::string desc, p.Str("description"));
    ASSIGN_OR_RETURN(auto tags, TagsFromJson(p.body(), "tags"));
    ASSIGN_OR_RETURN(meta::RegisteredModel m, store->CreateRegisteredModel(name, desc, tags));
    return Json{{"registered_model", ToJson(m)}};
  }
  Result<Json> GetRegisteredModel(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
    ASSIGN_OR_RETURN(meta::RegisteredModel m, store->GetRegisteredModel(name));
    return Json{{"registered_model", ToJson(m)}};
  }
  Result<Json> UpdateRegisteredModel(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
    ASSIGN_OR_RETURN(std::string desc, p.Str("description"));
    ASSIGN_OR_RETURN(meta::RegisteredModel m, store->UpdateRegisteredModel(name, desc));
    return Json{{"registered_model", ToJson(m)}};
  }
  Result<Json> RenameRegisteredModel(const Params& p, const Caller& c) {
    ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
    ASSIGN_OR_RETURN(std::string new_name, p.Str("new_name", true));
    auto check = [&](const meta::ModelHoldings& held) {
      return registry::CheckRename(config.policies, name, new_name, held, c.role);
    };
    ASSIGN_OR_RETURN(meta::RegisteredModel m, store->RenameRegisteredModelIf(name, new_name, check));
    return Json{{"registered_model", ToJson(m)}};
  }
  Result<Json> DeleteRegisteredModel(const Params& p, const Caller& c) {
    ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
    auto check = [&](const meta::ModelHoldings& held) {
      return registry::CheckDeleteModel(config.policies, name, held, c.role);
    };
    RETURN_IF_ERROR(store->DeleteRegisteredModelIf(name, c.user, check));
    return Json::object();
  }
  Result<Json> SearchRegisteredModels(const Params& p, const Caller&) {
    meta::Query q;
    ASSIGN_OR_RETURN(q.filter, p.Str("filter"));
    ASSIGN_OR_RETURN(q.order_by, p.List("order_by"));
    ASSIGN_OR_RETURN(q.page.max_results, p.Int("max_results", 100));
    ASSIGN_OR_RETURN(q.page.token, p.Str("page_token"));
    ASSIGN_OR_RETURN(auto page, store->SearchRegisteredModels(q));
    Json out = Json::object();
    if (!page.items.empty()) {
      Json list = Json::array();
      for (const auto& m : page.items) list.push_back(ToJson(m));
      out["registered_models"] = std::move(list);
    }
    if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
    return out;
  }
  Result<Json> GetLatestVersions(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
    ASSIGN_OR_RETURN(auto stages, p.List("stages"));
    ASSIGN_OR_RETURN(auto versions, store->GetLatestVersions(name, stages));
    Json list = Json::array();
    for (const auto& v : versions) list.push_back(ToJson(v));
    Json out = Json::object();
    if (!list.empty()) out["model_versions"] = std::move(list);
    return out;
  }
  Result<Json> SetRegisteredModelTag(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
    ASSIGN_OR_RETURN(std::string key, p.Str("key", true));
    ASSIGN_OR_RETURN(std::string value, p.Str("value"));
    RETURN_IF_ERROR(store->SetRegisteredModelTag(name, {key, value}));
    return Json::object();
  }
  Result<Json> DeleteRegisteredModelTag(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
    ASSIGN_OR_RETURN(std::string key, p.Str("key", true));
    RETURN_IF_ERROR(store->DeleteRegisteredModelTag(name, key));
    return Json::object();
  }
  Result<meta::ModelVersion> Move(const meta::Promotion& pr, const Caller& c) {
    auto v = registry::Promote(*store, config.policies, pr, c.role);
    std::string outcome = v.ok() ? "moved" : v.status().code() == Code::kRefused ? "refused"
                                          : v.status().code() == Code::kDenied  ? "denied"
                                                                                : "error";
    if (v.ok() && pr.force) outcome = "forced";
    metrics.Add("forja_registry_promotions_total", PromRegistry::Label("model", pr.name) + "," +
                                                       PromRegistry::Label("target", registry::NormalizeTarget(pr.target)) +
                                                       "," + PromRegistry::Label("outcome", outcome));
    return v;
  }
  Result<Json> SetAlias(const Params& p, const Caller& c) {
    meta::Promotion pr;
    ASSIGN_OR_RETURN(pr.name, p.Str("name", true));
    ASSIGN_OR_RETURN(std::string alias, p.Str("alias", true));
    ASSIGN_OR_RETURN(pr.version, p.Version());
    pr.target = "@" + alias;
    pr.user = c.user;
    ASSIGN_OR_RETURN(meta::ModelVersion v, Move(pr, c));
    (void)v;
    return Json::object();
  }
  Result<Json> DeleteAlias(const Params& p, const Caller& c) {
    ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
    ASSIGN_OR_RETURN(std::string alias, p.Str("alias", true));
    RETURN_IF_ERROR(registry::CheckDeleteAlias(config.policies, name, alias, c.role));
    RETURN_IF_ERROR(store->DeleteAlias(name, alias, c.user));
    return Json::object();
  }
  Result<Json> GetByAlias(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
    ASSIGN_OR_RETURN(std::string alias, p.Str("alias", true));
    ASSIGN_OR_RETURN(meta::ModelVersion v, store->GetVersionByAlias(name, alias));
    return Json{{"model_version", ToJson(v)}};
  }
  Result<Json> CreateModelVersion(const Params& p, const Caller& c) {
    meta::ModelVersion v;
    ASSIGN_OR_RETURN(v.name, p.Str("name", true));
    ASSIGN_OR_RETURN(v.source, p.Str("source", true));
    ASSIGN_OR_RETURN(v.run_id, p.Str("run_id"));
    ASSIGN_OR_RETURN(v.run_link, p.Str("run_link"));
    ASSIGN_OR_RETURN(v.description, p.Str("description"));
    ASSIGN_OR_RETURN(v.package_hash, p.Str("forja_package_hash"));
    ASSIGN_OR_RETURN(v.tags, TagsFromJson(p.body(), "tags"));
    v.user_id = c.user == "anonymous" ? "" : c.user;
    ASSIGN_OR_RETURN(meta::ModelVersion made, store->CreateModelVersion(v));
    return Json{{"model_version", ToJson(made)}};
  }
  Result<Json> GetModelVersion(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
    ASSIGN_OR_RETURN(int64_t version, p.Version());
    ASSIGN_OR_RETURN(meta::ModelVersion v, store->GetModelVersion(name, version));
    return Json{{"model_version", ToJson(v)}};
  }
  Result<Json> UpdateModelVersion(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
    ASSIGN_OR_RETURN(int64_t version, p.Version());
    ASSIGN_OR_RETURN(std::string desc, p.Str("description"));
    ASSIGN_OR_RETURN(meta::ModelVersion v, store->UpdateModelVersion(name, version, desc));
    return Json{{"model_version", ToJson(v)}};
  }
  Result<Json> DeleteModelVersion(const Params& p, const Caller& c) {
    ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
    ASSIGN_OR_RETURN(int64_t version, p.Version());
    auto check = [&](const meta::ModelHoldings& held) {
      return registry::CheckDeleteVersion(config.policies, name, version, held, c.role);
    };
    RETURN_IF_ERROR(store->DeleteModelVersionIf(name, version, c.user, check));
    return Json::object();
  }
  Result<Json> SearchModelVersions(const Params& p, const Caller&) {
    meta::Query q;
    ASSIGN_OR_RETURN(q.filter, p.Str("filter"));
    ASSIGN_OR_RETURN(q.order_by, p.List("order_by"));
    ASSIGN_OR_RETURN(q.page.max_results, p.Int("max_results", 10000));
    ASSIGN_OR_RETURN(q.page.token, p.Str("page_token"));
    ASSIGN_OR_RETURN(auto page, store->SearchModelVersions(q));
    Json out = Json::object();
    if (!page.items.empty()) {
      Json list = Json::array();
      for (const auto& v : page.items) list.push_back(ToJson(v));
      out["model_versions"] = std::move(list);
    }
    if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
    return out;
  }
  Result<Json> TransitionStage(const Params& p, const Caller& c) {
    meta::Promotion pr;
    ASSIGN_OR_RETURN(pr.name, p.Str("name", true));
    ASSIGN_OR_RETURN(pr.version, p.Version());
    ASSIGN_OR_RETURN(pr.target, p.Str("stage", true));
    if (meta::CanonicalStage(pr.target).empty())
      return Status::User("invalid stage '" + pr.target + "' (None, Staging, Production or Archived)");
    ASSIGN_OR_RETURN(pr.archive_existing, p.Bool("archive_existing_versions", false));
    ASSIGN_OR_RETURN(pr.comment, p.Str("comment"));
    pr.user = c.user;
    ASSIGN_OR_RETURN(meta::ModelVersion v, Move(pr, c));
    return Json{{"model_version", ToJson(v)}};
  }
  Result<Json> GetDownloadUri(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
    ASSIGN_OR_RETURN(int64_t version, p.Version());
    ASSIGN_OR_RETURN(meta::ModelVersion v, store->GetModelVersion(name, version));
    return Json{{"artifact_uri", v.source}};
  }
  Result<Json> SetModelVersionTag(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
    ASSIGN_OR_RETURN(int64_t version, p.Version());
    ASSIGN_OR_RETURN(std::string key, p.Str("key", true));
    ASSIGN_OR_RETURN(std::string value, p.Str("value"));
    RETURN_IF_ERROR(store->SetModelVersionTag(name, version, {key, value}));
    return Json::object();
  }
  Result<Json> DeleteModelVersionTag(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
    ASSIGN_OR_RETURN(int64_t version, p.Version());
    ASSIGN_OR_RETURN(std::string key, p.Str("key", true));
    RETURN_IF_ERROR(store->DeleteModelVersionTag(name, version, key));
    return Json::object();
  }

  // ---- forja's own ------------------------------------------------------------------

  Result<Json> LogLineage(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string id, p.RunId());
    std::vector<meta::LineageItem> items;
    if (p.body().contains("items")) {
      if (!p.body()["items"].is_array()) return Status::User("'items' must be a list");
      for (const Json& j : p.body()["items"]) {
        ASSIGN_OR_RETURN(meta::LineageItem l, LineageFromJson(j));
        items.push_back(std::move(l));
      }
    }
    RETURN_IF_ERROR(store->LogLineage(id, items));
    return Json::object();
  }
  Result<Json> GetLineage(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string id, p.RunId());
    ASSIGN_OR_RETURN(auto items, store->GetLineage(id));
    Json inputs = Json::array(), outputs = Json::array();
    for (const auto& l : items) (l.direction == "input" ? inputs : outputs).push_back(ToJson(l));
    return Json{{"run_id", id}, {"inputs", inputs}, {"outputs", outputs}};
  }
  Result<Json> FindLineage(const Params& p, const Caller&) {
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
  Result<Json> Promote(const Params& p, const Caller& c) {
    meta::Promotion pr;
    ASSIGN_OR_RETURN(pr.name, p.Str("name", true));
    ASSIGN_OR_RETURN(pr.version, p.Version());
    ASSIGN_OR_RETURN(pr.target, p.Str("target", true));
    ASSIGN_OR_RETURN(pr.archive_existing, p.Bool("archive_existing_versions", false));
    ASSIGN_OR_RETURN(pr.comment, p.Str("comment"));
    ASSIGN_OR_RETURN(pr.force, p.Bool("force", false));
    pr.user = c.user;
    ASSIGN_OR_RETURN(meta::ModelVersion v, Move(pr, c));
    return Json{{"model_version", ToJson(v)}};
  }
  Result<Json> History(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
    ASSIGN_OR_RETURN(int64_t version, p.Int("version", 0));
    ASSIGN_OR_RETURN(auto list, store->History(name, version));
    Json out = Json::array();
    for (const auto& t : list) out.push_back(ToJson(t));
    return Json{{"transitions", out}};
  }
  Result<Json> PutArtifactRef(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(std::string path, p.Str("path", true));
    ASSIGN_OR_RETURN(std::string hash, p.Str("hash", true));
    ASSIGN_OR_RETURN(int64_t size, p.Int("size", 0));
    RETURN_IF_ERROR(CheckArtifactPath(path));
    auto oid = hash.starts_with("sha256:") ? Oid::FromHex(hash.substr(7)) : std::nullopt;
    if (!oid) return Status::User("hash must be sha256:<64 hex digits>");
    if (!cache->Has(*oid)) return Status::User("the server has no object " + hash + "; upload it first");
    RETURN_IF_ERROR(registry::CheckPackageArtifact(*cache, path, hash, size));
    RETURN_IF_ERROR(store->PutArtifact(path, hash, size));
    return Json::object();
  }
  Result<Json> MissingObjects(const Params& p, const Caller&) {
    ASSIGN_OR_RETURN(auto hashes, p.List("hashes"));
    Json missing = Json::array();
    for (const std::string& h : hashes) {
      auto oid = Oid::FromHex(h.starts_with("sha256:") ? h.substr(7) : h);
      if (!oid) return Status::User("'" + h.substr(0, 80) + "' is not a sha256 hash");
      if (!cache->Has(*oid)) missing.push_back(h);
    }
    return Json{{"missing", missing}};
  }
};

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
