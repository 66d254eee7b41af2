// The insides of ModelServer (serve.h), shared by the files that implement it:
//   server.cc   the wiring: loading and warming versions, building the served models,
//               picking a version by weight, starting and shutting down
//   routes.cc   the HTTP routes: OIP v2 metadata, readiness and infer, MLflow's
//               /invocations, health, version, /metrics, feedback
//   infer.cc    one inference request: parsed, checked, queued on its version's
//               batcher, answered, sampled into the prediction log
//   metrics.cc  GET /metrics: the Prometheus text of the atomic counts (metrics.h)
//   reload.cc   hot reload: the poller that follows moving references and swaps versions
//   monitoring.cc  (not Impl's) live drift per version; server.cc runs its collector thread
// Included only by those files.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "forja/net/http_server.h"
#include "forja/serve/metrics.h"
#include "forja/serve/monitoring.h"
#include "forja/serve/protocol.h"
#include "forja/serve/quality.h"
#include "forja/serve/serve.h"

namespace forja::serve {

using Clock = std::chrono::steady_clock;

inline double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// ---- the model graph ----

// One loaded version of a model, with its batcher and counts.
struct Version {
  std::string name, version, label, ref, platform, describe, key;
  std::vector<TensorSpec> inputs, outputs;
  std::unique_ptr<runtime::Model> model;
  std::unique_ptr<Batcher> batcher;
  Stats stats;
  bool shadow = false;
  std::unique_ptr<VersionMonitor> monitor;  // null: the version has no profile to compare with
  std::unique_ptr<QualityTracker> quality;  // null: quality from feedback is not tracked (quality.h)
  // The registry's facts (staleness.h), taken at load and refreshed by the collector; null: none.
  std::atomic<std::shared_ptr<const registry::StalenessFacts>> staleness;
  std::atomic<bool> canary{false};  // answering a rollout's share of its route now (the poller's)

  ~Version() {
    if (batcher) batcher->Stop();  // before the model it calls goes away
  }
};

// A rollout's candidate on a route (reload.cc): it answers `weight`% of the route's
// requests. With no version it records a candidate that failed to load (refused).
struct Canary {
  int64_t rollout = 0;
  int weight = 0;
  std::string to;                    // the candidate's version, "4"
  std::shared_ptr<Version> version;  // null: refused
};

// A reference (a route or the shadow) and the version it names now; the poller swaps it.
struct Slot {
  Target target;
  bool moving = false;
  std::string failed_key;  // the poller's: a version refused once is not retried until the ref moves
  mutable std::mutex mu;
  std::shared_ptr<Version> current;
  std::shared_ptr<const Canary> canary;   // under mu: the rollout applied now, if any
  std::shared_ptr<const Canary> refused;  // under mu: the last rollout whose candidate failed to load
  std::atomic<uint64_t> canary_turn{0};

  std::shared_ptr<Version> Get() const {
    std::lock_guard<std::mutex> lock(mu);
    return current;
  }
  std::shared_ptr<const Canary> GetCanary() const {
    std::lock_guard<std::mutex> lock(mu);
    return canary;
  }
  // The version that answers this request of the route: the canary for its weight% of the
  // route's turns (spread evenly, as Pick spreads routes), else the route's version.
  std::shared_ptr<Version> Route();
};

// A served model: what clients name in /v2/models/{name}.
struct Served {
  std::string name;
  std::vector<std::unique_ptr<Slot>> routes;
  std::unique_ptr<Slot> shadow;
  uint64_t total_weight = 0;
  std::atomic<uint64_t> turn{0};
  std::atomic<uint64_t> feedback_unknown{0};  // feedback items no version knows the request id of
};

// A ModelInfer call of the gRPC front end (grpc.cc): a Call that has one answers through it.
struct GrpcCall;

// One inference request on its way through a batcher (infer.cc).
struct Call : Job {
  ModelServer::Impl* server = nullptr;
  std::shared_ptr<Version> version;  // released on the worker thread only after Finish: see Finish
  Served* served = nullptr;
  net::Responder res;
  std::string request_id;
  Clock::time_point start;
  bool mlflow = false, shadow = false, sampled = false;
  InferRequest req;
  GrpcCall* grpc = nullptr;  // not null: a gRPC call, answered by GrpcAnswer / GrpcFail, not `res`
  ~Call() override;           // a gRPC call dropped unanswered is answered UNAVAILABLE: its client waits
  void Finish(const Status& st, std::vector<Tensor>* outputs) override;
};

// ---- gRPC (grpc.cc; grpc_off.cc when built without gRPC) ----

// The Open Inference Protocol's GRPCInferenceService on cfg.grpc_port, beside HTTP.
class GrpcFrontend {
 public:
  virtual ~GrpcFrontend() = default;
  virtual int port() const = 0;
  // Stops taking calls and finishes those in flight, waiting at most drain_ms.
  virtual void Shutdown(int drain_ms) = 0;
};
Result<std::unique_ptr<GrpcFrontend>> StartGrpc(ModelServer::Impl* server);
// A call's answer: its outputs, or its error as the gRPC status for the HTTP status REST answers.
void GrpcAnswer(Call& c, const std::vector<Tensor>& outputs);
void GrpcFail(Call& c, int http_status, const std::string& message);
// The gRPC status codes counted (forja_serve_grpc_responses_total), 0 (OK) to 16.
constexpr int kGrpcCodes = 17;
const char* GrpcCodeName(int code);

// ---- answers (routes.cc) ----

// {"error": message}, UTF-8-safe: messages quote requests.
std::string ErrorJson(std::string_view message);
// MLflow's scoring server answers errors as {"error_code": ..., "message": ...}.
std::string MlflowErrorJson(int status, std::string_view message);
net::Response Json(int status, std::string body);

struct ModelServer::Impl {
  ServeConfig cfg;
  std::unique_ptr<Resolver> resolver;
  Loader loader;
  std::map<std::string, std::unique_ptr<Served>> served;
  std::vector<std::string> names;  // in the order given
  PredictionLog log;
  std::unique_ptr<net::Server> http;
  std::atomic<bool> ready{false};
  Stats unrouted;  // requests for no known model
  std::atomic<uint64_t> http_codes[kNumCodes] = {};
  std::unique_ptr<GrpcFrontend> grpc;                // null: no --grpc-port
  std::atomic<uint64_t> grpc_codes[kGrpcCodes] = {};  // every gRPC answer, by status code
  std::mutex reload_mu;
  std::map<std::string, uint64_t> reloads;  // "model|outcome"
  // The poller.
  std::mutex poll_mu;
  std::condition_variable poll_cv;
  bool stop_poll = false;
  std::thread poller;
  std::atomic<bool> rollout_running{false};  // some followed route has a running rollout: poll every second
  // The monitoring collector (server.cc), under poll_mu / poll_cv as the poller.
  std::thread collector;
  // The reporter (report.cc), under poll_mu / poll_cv as well; per "model/version/role" its
  // requests at the last report (for the rate) and the last rates reported (the traffic chart).
  std::thread reporter;
  struct Reported {
    uint64_t requests = 0;
    Clock::time_point at;
    std::deque<std::pair<int64_t, double>> traffic;  // (ms since the epoch, req/s), at most kTrafficPoints
  };
  static constexpr size_t kTrafficPoints = 60;
  std::map<std::string, Reported> reported;
  Clock::time_point report_started = Clock::now();
  bool shut = false;

  // server.cc
  BatchOptions OptionsFor(const std::string& name) const;
  Result<std::shared_ptr<Version>> Load(const Target& t, const Resolved& r);
  Status AttachMonitor(Version& v, const Resolved& r);
  void AttachQuality(Version& v, const Resolved& r);
  std::vector<std::shared_ptr<Version>> Current();  // every slot's version now, canaries too, once each
  static std::vector<std::shared_ptr<Version>> VersionsOf(const Served& s);  // s's versions, canaries too
  void Collect();
  void RefreshStaleness();
  Status Init();
  std::shared_ptr<Version> Pick(Served& s, const std::string& version);
  void Shutdown();

  // routes.cc
  void Handle(net::Request& req, net::Responder res);
  net::HeadDecision CheckHead(const net::Request& req);
  Served* Find(const std::string& name);
  void ModelRoute(net::Request& req, net::Responder res, std::string_view rest);
  net::Response Feedback(Served& s, const net::Request& req);

  // infer.cc
  void Infer(net::Request& req, net::Responder res, Served& s, const std::string& version, bool mlflow);
  // A parsed call (REST's or gRPC's) from the signature check on: limits, shadow, its batcher.
  void Admit(std::unique_ptr<Call> c, Served& s, const std::string& version);
  void Submit(std::unique_ptr<Call> c, const std::string& version);
  void Finish(Call& c, const Status& st, std::vector<Tensor>* outputs);
  void Reply(Call& c, int status, std::string body, const std::string& content_type = "application/json");
  void Fail(Call& c, int status, const std::string& message);
  void Fail(Call& c, const Status& st);
  void LogPrediction(const Call& c, const std::vector<Tensor>& outputs);

  // report.cc
  std::string BuildReport();
  void Report();

  // metrics.cc
  std::string RenderMetrics();
  void RenderRollouts(std::string* o);

  // reload.cc
  void CountReload(const std::string& model, const char* outcome);
  void PollSlot(Slot& slot);
  void Switch(Slot& slot, const Resolved& r, const std::shared_ptr<Version>& old);
  void FollowRollout(Slot& slot);
  void SetCanary(Slot& slot, std::shared_ptr<const Canary> next, const char* why);
  void PollOnce();
  void Poll();
};

}  // namespace forja::serve
