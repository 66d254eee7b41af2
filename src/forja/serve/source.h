// Model references for forja serve: a package folder, or NAME/VERSION, NAME@ALIAS,
// NAME@production resolved through the registry. A registry version's package is
// taken from the object cache (fetched from the workspace's default remote, or
// through `download`, when objects are missing), checked out into its own folder
// named by the package hash, and every file verified against its hash.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "forja/core/sha256.h"
#include "forja/meta/store.h"
#include "forja/serve/serve.h"

namespace forja {
class Cache;
class Workspace;
}  // namespace forja

namespace forja::serve {

// True when `ref` is a package folder (it holds a model.yaml). Checked with lstat: the
// answer follows no symlink (a hostile repository's link must not be followed).
bool IsPackageFolder(const std::string& ref);

// Package folders only (no registry): the folder's name is the model's, its version "1".
std::unique_ptr<Resolver> FolderResolver();

struct RegistrySource {
  std::unique_ptr<meta::MetaStore> store;
  Cache* cache = nullptr;        // where packages are
  Workspace* workspace = nullptr;  // optional: its default remote fills the cache
  // Optional: fetches objects into the cache another way (from a forja server).
  std::function<Status(Cache&, const std::vector<Oid>&)> download;
  std::string checkout_root;     // packages are checked out under it, one folder per hash
};

std::unique_ptr<Resolver> RegistryResolver(RegistrySource source);

// True when the cache holds `o` and its bytes hash to it. A cache may hold what
// another process put there, so what this process did not write is rehashed before
// use; a mismatch is removed from the cache (so it is fetched again) and gives false.
bool RehashCached(Cache& cache, const Oid& o);

}  // namespace forja::serve
