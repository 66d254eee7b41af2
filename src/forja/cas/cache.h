// The local object cache: .forja/cache/sha256/<2 hex>/<62 hex>. Objects are
// immutable and read-only (0444); each is named by the SHA-256 of its bytes.
#pragma once

#include <array>
#include <atomic>
#include <string>
#include <string_view>
#include <vector>

#include "forja/core/fs.h"
#include "forja/core/sha256.h"
#include "forja/core/status.h"

namespace forja {

// "sha256/ab/cdef..." — where an object lives relative to a store's root, in the
// cache and on every remote alike.
std::string ObjectKey(const Oid& oid);

// Every object stored under `root` by ObjectKey (a cache, or a folder remote);
// the paths of temp files a killed writer left go to `temps` if given. No
// `root`/sha256 folder is no object.
Result<std::vector<Oid>> ListObjects(const std::string& root, std::vector<std::string>* temps = nullptr);

// How a workspace file shares bytes with its cache object, in order of preference.
enum class LinkType { kReflink, kHardlink, kCopy };

const char* LinkTypeName(LinkType t);
// Parses "reflink,hardlink,copy" (or a YAML list joined with commas).
Result<std::vector<LinkType>> ParseLinkTypes(std::string_view list);

class Cache {
 public:
  Cache(std::string root, std::vector<LinkType> link_types);

  const std::string& root() const { return root_; }
  std::string PathOf(const Oid& oid) const;
  bool Has(const Oid& oid) const;

  // Creates sha256/00..ff once, so storing never has to mkdir. With `cancel`, stops
  // early once it is set (the folders left are made on first use, as always).
  Status Prepare(const std::atomic<bool>* cancel = nullptr);

  // Picks the first configured link type that works between the cache and
  // `workspace_dir` (a reflink or hardlink attempt on a scratch file), so every file
  // of one command is linked the same way.
  Status ChooseLinkType(const std::string& workspace_dir);

  // Puts the workspace file `ws_path` (hashed to `oid`, with stat `hashed` taken
  // while hashing) into the cache, and leaves the workspace file as a link of the
  // first link type that works. A hardlinked workspace file becomes read-only.
  // A symlink's target is only read (its bytes copied): it may lie outside what
  // the user named, and add never changes anything outside that.
  // Not durable until Sync().
  Status Store(const std::string& ws_path, const Oid& oid, const FileStat& hashed);

  // Stores `data` (e.g. a manifest) as an object; returns its oid. Not durable until Sync().
  Result<Oid> StoreBytes(std::string_view data);

  // Stores a copy of the file at `path` (the original stays the user's: never
  // linked, never made read-only) and returns its oid. A file that changes while
  // it is copied is an error. Not durable until Sync().
  Result<Oid> StoreCopy(const std::string& path);

  // Adopts a downloaded temp file (already verified to hash to `oid`).
  Status Adopt(TempFile tmp, const Oid& oid);
  // The same for a closed temp file at `tmp_path` on the cache's file system, created
  // 0444 and already verified to hash to `oid`: renamed into place (removed when the
  // object is there already, and on any error). Not durable until Sync().
  Status AdoptPath(const std::string& tmp_path, const Oid& oid);

  // Replaces `ws_path` by the object's bytes (atomically: temp + rename).
  // `mode` gives the executable bit for copies.
  Status Checkout(const Oid& oid, const std::string& ws_path, uint32_t mode);
  // The same for the entry `name` of the open folder `dirfd` (see OpenDirNoFollow):
  // nothing is resolved through a path, so no symlink is followed; a symlink at
  // `name` is replaced, never written through. `shown` names it in errors.
  Status CheckoutAt(const Oid& oid, int dirfd, const std::string& name, uint32_t mode,
                    const std::string& shown);

  Result<std::string> Read(const Oid& oid) const;

  // Every object in the cache; the paths of temp files a killed command left go
  // to `temps` if given.
  Result<std::vector<Oid>> List(std::vector<std::string>* temps = nullptr) const;
  Status Remove(const Oid& oid);
  // Moves a corrupt object to .forja/quarantine/<hex> so the next pull can refetch it.
  Status Quarantine(const Oid& oid, const std::string& quarantine_dir);

  // One syncfs for every object written since the last Sync.
  Status Sync();

  // The link type used for the last Store/Checkout (for messages and tests).
  LinkType effective_link_type() const { return link_types_[type_index_.load()]; }

 private:
  // Advances to the next link type after `failed` reported it cannot work here.
  bool FallBack(size_t failed);

  std::string root_;
  std::vector<LinkType> link_types_;
  std::atomic<size_t> type_index_{0};
  std::array<std::atomic<bool>, 256> made_{};  // object folders known to exist
  int64_t probed_dev_ = -1;  // the file system ChooseLinkType last probed
  size_t probed_index_ = 0;
  std::atomic<bool> dirty_{false};
};

}  // namespace forja
