#include "forja/cli/model_resolver.h"

#include "forja/api/rest_store.h"
#include "forja/cas/cache.h"
#include "forja/cli/store.h"
#include "forja/core/fs.h"
#include "forja/core/user_dirs.h"
#include "forja/data/workspace.h"
#include "forja/serve/source.h"

namespace forja {

Result<std::unique_ptr<serve::Resolver>> OpenModelResolver(const std::string& store_flag, bool registry,
                                                           const std::string& root, ModelResolverContext* rc) {
  if (!registry) return serve::FolderResolver();
  StoreContext ctx;
  ASSIGN_OR_RETURN(auto store, OpenStore(store_flag, &ctx));
  serve::RegistrySource src;
  auto* rest = dynamic_cast<api::RestStore*>(store.get());
  std::string base;
  if (!root.empty()) {
    ASSIGN_OR_RETURN(rc->ws, Workspace::Open(root));
    src.cache = &rc->ws->cache();
    src.workspace = rc->ws.get();
    base = root + "/.forja";
  } else if (rest) {
    // A private folder (checked: this user's, closed to others); every object read
    // from it is rehashed before use (serve/source.cc).
    ASSIGN_OR_RETURN(base, UserCacheDir());
    rc->own_cache = std::make_unique<Cache>(base + "/cache", std::vector<LinkType>{LinkType::kReflink, LinkType::kHardlink, LinkType::kCopy});
    RETURN_IF_ERROR(MakeDirs(base + "/cache"));
    src.cache = rc->own_cache.get();
  } else {
    return Status::User("model packages are kept in a workspace's cache: run inside a forja workspace, or use a forja "
                        "server store (--store http://host:port)");
  }
  RETURN_IF_ERROR(src.cache->Prepare());
  if (rest) src.download = [rest](Cache& c, const std::vector<Oid>& objects) { return rest->DownloadObjects(c, objects); };
  src.checkout_root = base + "/packages";
  src.store = std::move(store);
  return serve::RegistryResolver(std::move(src));
}

}  // namespace forja
