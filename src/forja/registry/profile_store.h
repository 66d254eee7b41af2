// Reference profiles of model versions (docs/monitoring.md). A profile's JSON is an object in
// the same object store as the version's package (the cache; the server's objects when the
// store is a forja server), tied to the version by the version tag forja.monitor.profile,
// whose value is the object's sha256 hex. It is also recorded as the artifact
// forja-profiles/<hex>.json, so that `forja gc` keeps it (the store names it) and MLflow
// clients can download it.
//
// The registry keeps the bytes only: it sits below monitor in the module table, so callers
// check the JSON with monitor::ParseProfile before attaching it and after loading it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "forja/core/sha256.h"
#include "forja/core/status.h"
#include "forja/meta/store.h"
#include "forja/registry/registry.h"

namespace forja::registry {

inline constexpr char kProfileTag[] = "forja.monitor.profile";
// The version tag naming the target column of its profile (forja monitor profile --target).
inline constexpr char kProfileTargetTag[] = "forja.monitor.target";

// forja-profiles/<hex>.json: where the profile `object` appears as an artifact.
std::string ProfileArtifactPath(const Oid& object);

// Fetches objects the cache lacks (from a forja server: RestStore::DownloadObjects; from the
// workspace's remote). Empty: the cache is all there is.
using ObjectDownload = std::function<Status(Cache& cache, const std::vector<Oid>& objects)>;

// Stores `json` in `cache` (and through `upload`, as Register does a package's files), records
// its artifact and sets the version's forja.monitor.profile tag to it, replacing a profile the
// version had. An unknown version is NotFound before anything is stored.
Status AttachProfile(meta::MetaStore& store, Cache& cache, const ObjectUpload& upload, const std::string& name,
                     int64_t version, std::string_view json);

// The bytes of the version's profile, fetched through `download` when the cache lacks them and
// checked against the tag's hash; nullopt when the version has none. A tag that is not a hash,
// or bytes that do not hash to it, are Corrupt; an object nowhere to be found is NotFound.
Result<std::optional<std::string>> LoadProfile(meta::MetaStore& store, Cache& cache, const ObjectDownload& download,
                                               const std::string& name, int64_t version);

// The profile object a version's tags name: nullopt without the tag, Corrupt when the tag is
// not a sha256 hex.
Result<std::optional<Oid>> ProfileObject(const meta::ModelVersion& version);

}  // namespace forja::registry
