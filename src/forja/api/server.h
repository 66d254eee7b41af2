// forja server: MLflow's REST API for tracking and the model registry
// (/api/2.0/mlflow/...), MLflow's artifact proxy (/api/2.0/mlflow-artifacts/...)
// backed by forja's object store, forja's own endpoints (/api/2.0/forja/...:
// lineage, promotions through gates, history, objects by hash), /health,
// /version and /metrics. Bearer tokens with roles read < write < admin.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "forja/core/status.h"
#include "forja/meta/store.h"
#include "forja/registry/gates.h"

namespace forja::api {

enum class AuthMode {
  kAuto,  // required as soon as the store holds a token
  kOn,    // always required
  kOff,   // never (a trusted network)
};

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 5000;
  int io_threads = 0;        // 0: one per core
  int handler_threads = 16;  // requests block on the database
  std::string artifacts_dir;  // the object cache artifacts and packages live in
  AuthMode auth = AuthMode::kAuto;
  registry::Policies policies;
  size_t max_json_bytes = 16u << 20;      // API requests
  size_t max_upload_bytes = 1024u << 20;  // artifact uploads
  bool access_log = false;                // one line per request on stderr
  // Inside a workspace: its root, and what `forja status --pipeline --json` says of it (the DAG,
  // each stage's state and reasons), computed by the cli layer; unset outside one (the
  // pipeline page's route then answers 404).
  std::string workspace_root;
  std::function<Result<std::string>()> pipeline_status;
};

class TrackingServer {
 public:
  static Result<std::unique_ptr<TrackingServer>> Start(const ServerConfig& config,
                                                        std::unique_ptr<meta::MetaStore> store);
  ~TrackingServer();
  int port() const;
  // Stops accepting, finishes requests in flight, joins the threads.
  void Shutdown();

  struct Impl;

 private:
  explicit TrackingServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The hash stored for a token ("sha256:<hex>" of its text): tokens are never stored.
std::string TokenHash(const std::string& token);
// A new random token: "forja_" + 40 characters of [A-Za-z0-9].
std::string NewToken();

}  // namespace forja::api
