// MLflow models by reference, for the registry resolver (source.h): where a reference's files
// are under the tracking store's artifact root, and a verified checkout of them. The files are
// objects of forja's cache named by their SHA-256 (the artifact store keeps path -> hash), so a
// model logged with MLflow's client is fetched and verified exactly as a forja package is.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "forja/core/sha256.h"
#include "forja/core/status.h"

namespace forja {
class Cache;
}
namespace forja::meta {
class MetaStore;
}

namespace forja::serve {

// True for the MLflow URIs forja resolves itself: runs:/RUN/PATH, models:/m-<id> and
// mlflow-artifacts:/PATH (models:/NAME/VERSION and models:/NAME@ALIAS are registry references).
bool IsMlflowUri(const std::string& ref);

// The folder under the artifact root that `uri` names: runs:/RUN/PATH (the run's artifacts;
// else, as MLflow 3 does, the run's LoggedModel named PATH), models:/m-<id> (the LoggedModel's
// artifacts), mlflow-artifacts:/PATH. Other schemes (s3:, file:, dbfs:) are refused: forja reads
// the artifacts its own server stores.
Result<std::string> MlflowArtifactFolder(meta::MetaStore& store, const std::string& uri);

struct ArtifactFetch {
  meta::MetaStore* store = nullptr;  // lists the folder: each file's path, size and hash
  Cache* cache = nullptr;            // holds the files' objects
  // Fetches objects into the cache (from a forja server); null: the cache must hold them.
  std::function<Status(Cache&, const std::vector<Oid>&)> download;
  // True when the cache holds the object and it hashes to its name (source.cc's rehash).
  std::function<bool(const Oid&)> intact;
  std::string checkout_root;  // the model is checked out at <root>/mlflow-<tree hash>
  // Folders this process wrote or verified already (not rehashed at every poll); may be null.
  std::set<std::string>* checked = nullptr;
};

struct MlflowCheckout {
  std::string dir;   // the verified folder, with its MLmodel file
  std::string tree;  // the hash of its file list (paths, sizes, hashes): changes with the files
};

// Lists `folder` (at most 10,000 files, 16 levels; every path checked by the one validator),
// fetches the objects, writes them into a temp folder, checks each file's size and hash (opened
// without following links), and renames it into place; a folder already there is reused only when
// every file verifies. `text` names the reference in errors.
Result<MlflowCheckout> CheckoutMlflowFolder(const ArtifactFetch& f, const std::string& folder, const std::string& text);

}  // namespace forja::serve
