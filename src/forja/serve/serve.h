// forja serve: the model server. Speaks the Open Inference Protocol v2 REST API
// (with the binary tensor data extension) and MLflow's scoring protocol, batches
// concurrent requests per model version (batcher.h), follows registry references
// and switches versions without failing a request, splits traffic between
// versions, copies it to a shadow model, logs a sample of predictions
// (prediction_log.h), and exports Prometheus metrics.
//
// A served model is a name (what clients put in /v2/models/{name}); it has one or
// more routes (a reference each, with a weight) and at most one shadow. Each route
// holds the version loaded now behind a shared_ptr that the poller swaps.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "forja/core/status.h"
#include "forja/runtime/model.h"
#include "forja/serve/batcher.h"
#include "forja/serve/monitoring_config.h"
#include "forja/serve/prediction_log.h"

namespace forja {
struct ForjaYaml;
}  // namespace forja

namespace forja::registry {
struct ModelPackage;
struct StalenessFacts;
}

namespace forja::serve {

// What a runtime needs of a checked package (forja predict uses it too).
runtime::ModelSpec SpecFor(const registry::ModelPackage& pkg, const std::string& dir);

// What a reference names now.
struct Resolved {
  std::string name;     // the served model's name
  std::string version;  // "3" (a folder: "1")
  std::string dir;      // the package folder, checked out and verified
  std::string key;      // changes when the reference points elsewhere (the package hash)
  bool moving = false;  // an alias or a stage: worth polling
  // The reference profile the registry holds for the version (JSON; null: none): live
  // drift is computed against it (monitoring.h).
  std::shared_ptr<const std::string> profile;
  std::string profile_target;  // the profile's target column (the forja.monitor.target tag), if any
};

// A progressive rollout (forja rollout) that a followed reference takes part in: the
// model's running rollout whose target is the stage or alias the reference names.
struct RolloutStep {
  int64_t id = 0;        // the rollout's id; 0: none is running toward the reference
  std::string version;   // the candidate, "4"
  std::string ref;       // the candidate as a reference Resolve takes ("churn/4")
  int weight = 0;        // percent of the reference's requests the candidate answers now
};

class Resolver {
 public:
  virtual ~Resolver() = default;
  virtual Result<Resolved> Resolve(const std::string& ref) = 0;
  // The running rollout toward what `ref` names (NAME@production, NAME@champion); id 0 when
  // none is, or `ref` is not followed through a registry (a package folder, NAME/3).
  virtual Result<RolloutStep> Rollout(const std::string& ref) {
    (void)ref;
    return RolloutStep{};
  }
  // What the registry knows of the age of the version `r` that `ref` resolved to
  // (registry/staleness_facts.h; serve/staleness.h shows it); null: nothing (a package folder).
  virtual std::shared_ptr<const registry::StalenessFacts> Staleness(const std::string& ref, const Resolved& r) {
    (void)ref;
    (void)r;
    return nullptr;
  }
};

using Loader = std::function<Result<std::unique_ptr<runtime::Model>>(const runtime::ModelSpec&)>;

struct Target {
  std::string ref;
  int weight = 100;
  bool shadow = false;
};

struct ServeConfig {
  std::string host = "127.0.0.1";
  int port = 8080;
  int grpc_port = -1;  // the Open Inference Protocol over gRPC (grpc.cc); -1: off, 0: a free port
  int io_threads = 0;  // 0: one per core
  std::vector<Target> targets;
  BatchOptions batching;                        // every model's, unless...
  std::map<std::string, BatchOptions> models;   // ...set per model name
  int64_t max_rows = 65536;                     // rows per request; beyond: 413
  size_t max_body_bytes = 64u << 20;            // 413
  size_t max_header_bytes = 16u << 10;          // 431
  int header_timeout_ms = 10000;                // slow clients: 408
  int body_timeout_ms = 30000;
  int idle_timeout_ms = 60000;
  double poll_interval_s = 10;                  // registry polling; 0: never
  PredictionLogOptions log;
  bool access_log = false;
  int drain_ms = 10000;                         // graceful shutdown
  MonitoringConfig monitoring;                  // live drift (monitoring.h)
  // Reports for the web UI's serving page (report.cc): every report_interval_s a compact
  // JSON report of what is served (versions, routes, traffic, latency, errors, drift, quality,
  // staleness) is built and handed to `report` with the instance id on a thread of its own
  // (forja serve stores it in the registry it follows). Null: no reports.
  std::function<Status(const std::string& instance, const std::string& json)> report;
  double report_interval_s = 15;
  std::string instance;                         // the instance id; "": HOSTNAME:PORT
};

// The `serving:` and `monitoring:` sections of forja.yaml (read by the one reader,
// data/workspace.h) into cfg (absent: nothing changes). Errors name
// "forja.yaml:<line>: serving.<field>: <what>" (or monitoring.<field>).
Status ServingConfigOf(const ForjaYaml& doc, ServeConfig* cfg);
// The same from the file at `path` (a missing file: defaults).
Status LoadServingConfig(const std::string& path, ServeConfig* cfg);

class ModelServer {
 public:
  // Resolves and loads every target (a failure is an error: nothing is served
  // half), then listens.
  static Result<std::unique_ptr<ModelServer>> Start(ServeConfig cfg, std::unique_ptr<Resolver> resolver, Loader loader);
  ~ModelServer();
  int port() const;
  int grpc_port() const;  // -1: gRPC is off
  // One line per loaded version: "churn/3 (churn@production, xgboost ...)".
  std::vector<std::string> Loaded() const;
  // Resolves moving references now and switches where they moved (the poller's work).
  void PollOnce();
  // Stops accepting, answers what is in flight, stops the batchers.
  void Shutdown();

  struct Impl;

 private:
  explicit ModelServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace forja::serve
