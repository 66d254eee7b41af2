// A remote: somewhere objects are pushed to and pulled from. Objects live under
// the remote's prefix with the cache's own layout, sha256/<2 hex>/<62 hex>, so a
// local remote is a plain copy of a cache and `sha256sum` verifies any object.
//
// Implementations must be safe to call from several threads at once: the
// transfer engine runs Put/Get in parallel.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "forja/cas/cache.h"  // ObjectKey
#include "forja/core/sha256.h"
#include "forja/core/status.h"

namespace forja {

struct RemoteConfig {
  std::string name;
  std::string url;                            // /path, file:///path, or s3://bucket/prefix
  std::map<std::string, std::string> options;  // endpoint, region, profile, retries, ... (versioned)
  // From .forja/config.local (unversioned): settings that override `options` on this
  // clone, and the only place credentials (access_key_id, secret_access_key, ...) may be.
  std::map<std::string, std::string> local_options;
};

// The unversioned, per-clone settings: .forja/config.local (relative to the workspace
// root), the remotes schema of forja.yaml plus the credentials forja.yaml refuses,
// as DVC's config.local.
inline constexpr char kLocalConfigName[] = ".forja/config.local";

// Option names that hold secrets: accepted only among local_options.
bool IsCredentialOption(const std::string& key);

// Refuses credentials in the versioned part of `rc` (url and options): userinfo
// (user:pass@, KEY:SECRET@) or a secret parameter in the url or an option, or a
// credential option. The error starts with `where` (e.g. "forja.yaml:3: "), names
// the field without echoing the secret, and says where credentials go.
Status RefuseVersionedCredentials(const RemoteConfig& rc, const std::string& where);

// `rc.options` with `rc.local_options` laid over them.
std::map<std::string, std::string> EffectiveOptions(const RemoteConfig& rc);

class Remote {
 public:
  virtual ~Remote() = default;

  // Human-readable location, e.g. "s3://bucket/prefix (http://127.0.0.1:4568)".
  virtual std::string Describe() const = 0;

  // For each oid, whether the remote holds it. May list instead of probing one by one.
  virtual Result<std::vector<bool>> Has(const std::vector<Oid>& oids, int jobs) = 0;

  // Stores the bytes of local file `path` (`size` bytes, hashing to `oid`) as the
  // object. Atomic on the remote: a reader never sees a partial object.
  virtual Status Put(const Oid& oid, const std::string& path, uint64_t size) = 0;

  // Writes the object's bytes into `fd` from offset 0 (truncating what a failed
  // try wrote). NotFound when the remote lacks it. The caller verifies the hash.
  virtual Status Get(const Oid& oid, int fd) = 0;

  // The same for any key under the remote's root or prefix that is not a forja object:
  // DVC's objects (files/md5/ab/cdef...) when a DVC remote is taken over. `key` is
  // relative, '/'-separated and built by the caller from validated parts.
  virtual Status GetKey(const std::string& key, int fd) = 0;

  // Every object on the remote (names that are not object keys are skipped).
  virtual Result<std::vector<Oid>> List() = 0;

  virtual Status Remove(const Oid& oid) = 0;

  // Makes everything Put so far durable. Local remotes skip the per-object fsync
  // and make one syncfs here; object stores are durable on each PUT.
  virtual Status Flush() { return Status::Ok(); }

  // Moves a corrupted object aside (to quarantine/ under the prefix) so a later
  // push can replace it; the bytes are kept for inspection.
  virtual Status Quarantine(const Oid& oid) = 0;
};

// Opens the remote `cfg` describes; user error for an unknown scheme or a bad option.
Result<std::unique_ptr<Remote>> OpenRemote(const RemoteConfig& cfg);

// Checks the url and options without opening anything or needing credentials
// (`forja remote add` on a machine that will only get credentials in CI).
Status ValidateRemoteConfig(const RemoteConfig& cfg);

}  // namespace forja
