// The registry's operations on top of a metadata store: registering a model
// package as a new version, resolving references (churn/3, churn@champion,
// churn@production), and promotions with gates (gates.h).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "forja/core/sha256.h"
#include "forja/core/status.h"
#include "forja/meta/store.h"
#include "forja/registry/gates.h"
#include "forja/registry/package.h"

namespace forja {
class Cache;
}

namespace forja::registry {

struct RegisterRequest {
  std::string name;
  std::string dir;     // the package folder
  std::string run_id;  // the run that made it (optional): its lineage gets the package as an output
  std::string lineage_path;  // how the run names the package (default: dir)
  std::string description;
  std::vector<meta::Tag> tags;
  std::string user;
};

// Makes the objects of a package available to the store's readers: nothing for a
// local store (it shares the cache), an upload for a forja server.
using ObjectUpload = std::function<Status(Cache& cache, const std::vector<Oid>& objects)>;

// Checks and stores the package, creates the model if it does not exist, and
// registers a version whose source is mlflow-artifacts:/forja-packages/<hex>
// (so MLflow clients can download it) and whose package hash names the manifest.
Result<meta::ModelVersion> Register(meta::MetaStore& store, Cache& cache, const RegisterRequest& req,
                                    const ObjectUpload& upload);

// Where a package's files appear as artifacts.
std::string PackageArtifactRoot(const Oid& manifest);

// Registered packages are immutable: an artifact path under forja-packages/<hex>/
// may only be written with the bytes (`hash`, "sha256:<hex>", and `size`) that
// the manifest <hex> in `cache` names for it; anything else there is Refused
// (409), as is every deletion (`hash` empty). Other paths are Ok.
Status CheckPackageArtifact(Cache& cache, const std::string& path, const std::string& hash, int64_t size);

struct ModelRef {
  std::string name;
  int64_t version = 0;  // NAME/3
  std::string alias;    // NAME@champion
  std::string stage;    // NAME@production (Staging, Production)
  std::string text;     // as given
};

// "churn/3", "churn@champion", "churn@production", "models:/churn/3", "models:/churn@champion".
Result<ModelRef> ParseModelRef(const std::string& text);
// The version a reference names now.
Result<meta::ModelVersion> ResolveRef(meta::MetaStore& store, const ModelRef& ref);

}  // namespace forja::registry
