// The cache model packages and reference profiles go through on the command line, and how
// their objects move between it and the store's readers: `forja models` and `forja monitor`.
#pragma once

#include <memory>

#include "forja/core/status.h"
#include "forja/meta/store.h"
#include "forja/registry/profile_store.h"

namespace forja {

class Cache;
class Workspace;
struct StoreContext;

// The workspace's cache, else (for a forja server store) a private per-user one.
struct PackageCache {
  std::unique_ptr<Workspace> ws;
  std::unique_ptr<Cache> own;
  Cache* cache = nullptr;

  PackageCache();
  PackageCache(PackageCache&&) noexcept;
  ~PackageCache();
};

Result<PackageCache> OpenPackageCache(const StoreContext& ctx, bool remote_store);

// How a profile's object reaches the store's other readers and comes back: uploaded to and
// downloaded from a forja server, pushed to and fetched from the workspace's default remote
// (for a shared SQL store), or neither.
struct ObjectTransfers {
  registry::ObjectUpload upload;
  registry::ObjectDownload download;
};
ObjectTransfers TransfersFor(meta::MetaStore& store, PackageCache& pc);

}  // namespace forja
