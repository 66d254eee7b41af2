#include "forja/cli/package_cache.h"

#include "forja/api/rest_store.h"
#include "forja/cas/cache.h"
#include "forja/cli/store.h"
#include "forja/core/fs.h"
#include "forja/core/user_dirs.h"
#include "forja/data/data.h"
#include "forja/data/workspace.h"

namespace forja {

PackageCache::PackageCache() = default;
PackageCache::PackageCache(PackageCache&&) noexcept = default;
PackageCache::~PackageCache() = default;

Result<PackageCache> OpenPackageCache(const StoreContext& ctx, bool remote_store) {
  PackageCache pc;
  if (!ctx.root.empty()) {
    ASSIGN_OR_RETURN(pc.ws, Workspace::Open(ctx.root));
    pc.cache = &pc.ws->cache();
    RETURN_IF_ERROR(pc.cache->Prepare());
    return pc;
  }
  if (!remote_store)
    return Status::User("model packages are kept in a workspace's cache: run inside a forja workspace (forja init), "
                        "or use a forja server store (--store http://host:port)");
  // A private folder (this user's, closed to others: UserCacheDir checks it).
  ASSIGN_OR_RETURN(std::string base, UserCacheDir());
  std::string dir = base + "/cache";
  RETURN_IF_ERROR(MakeDirs(dir));
  pc.own = std::make_unique<Cache>(dir, std::vector<LinkType>{LinkType::kReflink, LinkType::kHardlink, LinkType::kCopy});
  pc.cache = pc.own.get();
  RETURN_IF_ERROR(pc.cache->Prepare());
  return pc;
}

ObjectTransfers TransfersFor(meta::MetaStore& store, PackageCache& pc) {
  ObjectTransfers t;
  if (auto* rest = dynamic_cast<api::RestStore*>(&store)) {
    t.upload = [rest](Cache& c, const std::vector<Oid>& objects) { return rest->UploadObjects(c, objects); };
    t.download = [rest](Cache& c, const std::vector<Oid>& objects) { return rest->DownloadObjects(c, objects); };
    return t;
  }
  if (!pc.ws || pc.ws->config().remotes.empty()) return t;
  // Objects without a pointer file, named in messages as "profile <hex>".
  auto tracked = [](const std::vector<Oid>& objects) {
    std::vector<Tracked> out;
    for (const Oid& o : objects) {
      Tracked one;
      one.rel = "profile " + o.Hex().substr(0, 12);
      one.pointer.oid = o;
      out.push_back(one);
    }
    return out;
  };
  Workspace* ws = pc.ws.get();
  t.upload = [ws, tracked](Cache&, const std::vector<Oid>& objects) {
    return PushTracked(*ws, tracked(objects), "", 0).status();
  };
  t.download = [ws, tracked](Cache&, const std::vector<Oid>& objects) {
    return FetchTracked(*ws, tracked(objects), "", 0).status();
  };
  return t;
}

}  // namespace forja
