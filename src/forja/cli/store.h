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
class Cache;
class Workspace;
}  // namespace forja

namespace forja::serve {
class Resolver;
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

// What the registry resolver of forja serve and forja predict holds on to.
struct ModelResolverContext {
  std::unique_ptr<Workspace> ws;
  std::unique_ptr<Cache> own_cache;
};
// Resolves model references (cmd_serve.cc): package folders only, or with
// `registry` NAME/VERSION, NAME@ALIAS, NAME@production through the store, the
// package checked out once per hash into <root>/.forja/packages (outside a
// workspace, from a forja server, into UserCacheDir()/packages), every file verified.
Result<std::unique_ptr<serve::Resolver>> OpenModelResolver(const std::string& store_flag, bool registry,
                                                           const std::string& root, ModelResolverContext* rc);
bool IsPackageFolder(const std::string& ref);

// "sqlite:///abs/path" for a plain path; URIs unchanged.
std::string StoreUriOf(const std::string& text);

}  // namespace forja
