// MetaStore over HTTP: a forja server (or, for the tracking calls, any MLflow
// server) at http(s)://host:port. Every CLI command works against it as against
// a local store; promotions are checked by the server's gates and tokens.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "forja/core/sha256.h"
#include "forja/meta/store.h"

namespace forja {
class Cache;
}

namespace forja::api {

class RestStore : public meta::MetaStore {
 public:
  // `token`: sent as a bearer token (empty: none).
  static Result<std::unique_ptr<RestStore>> Open(const std::string& url, const std::string& token);

  // Object transfer for model packages (forja servers only): uploads the objects
  // the server lacks; downloads objects into the cache, verifying each hash.
  virtual Status UploadObjects(Cache& cache, const std::vector<Oid>& objects) = 0;
  virtual Status DownloadObjects(Cache& cache, const std::vector<Oid>& objects) = 0;
};

// The token to send: FORJA_TRACKING_TOKEN, else MLFLOW_TRACKING_TOKEN.
std::string TokenFromEnvironment();

}  // namespace forja::api
