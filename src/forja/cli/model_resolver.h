// The model-reference resolver that forja serve and forja predict share: package
// folders, or registry references through the store (cli/store.h) with packages from
// the workspace's cache or a forja server.
#pragma once

#include <memory>
#include <string>

#include "forja/core/status.h"

namespace forja {
class Cache;
class Workspace;
}  // namespace forja

namespace forja::serve {
class Resolver;
}

namespace forja {

// What the registry resolver holds on to; outlives it.
struct ModelResolverContext {
  std::unique_ptr<Workspace> ws;
  std::unique_ptr<Cache> own_cache;
};

// Resolves model references: package folders only, or with `registry` NAME/VERSION,
// NAME@ALIAS, NAME@production through the store, the package checked out once per
// hash into <root>/.forja/packages (outside a workspace, from a forja server, into
// UserCacheDir()/packages), every file verified.
Result<std::unique_ptr<serve::Resolver>> OpenModelResolver(const std::string& store_flag, bool registry,
                                                           const std::string& root, ModelResolverContext* rc);

}  // namespace forja
