// Which metadata store a command talks to, for the tracking, registry and
// server commands and for recording pipeline runs.
#pragma once

#include <memory>
#include <string>

#include "forja/core/status.h"
#include "forja/meta/store.h"

namespace CLI {
class App;
}

namespace forja {

// Adds --store URI to a command.
void AddStoreOption(CLI::App* c, std::string* uri);

struct StoreContext {
  std::string root;        // the workspace around the current folder, or ""
  std::string experiment;  // forja.yaml's tracking.experiment (or the folder's name)
  std::string uri;         // the store chosen
};

// --store, else FORJA_TRACKING_URI, else forja.yaml's tracking.uri, else the
// workspace's .forja/forja.db. Outside a workspace a URI must be given.
Result<std::unique_ptr<meta::MetaStore>> OpenStore(const std::string& flag, StoreContext* ctx = nullptr);

// Any URI: sqlite / postgresql (SQL store) or http(s) (a forja server; the token
// comes from FORJA_TRACKING_TOKEN or MLFLOW_TRACKING_TOKEN).
Result<std::unique_ptr<meta::MetaStore>> OpenStoreUri(const std::string& uri);

// "sqlite:///abs/path" for a plain path; URIs unchanged.
std::string StoreUriOf(const std::string& text);

}  // namespace forja
