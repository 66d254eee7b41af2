#include "forja/registry/profile_store.h"

#include "forja/cas/cache.h"

namespace forja::registry {

namespace {

std::string VersionName(const std::string& name, int64_t version) { return name + "/" + std::to_string(version); }

}  // namespace

std::string ProfileArtifactPath(const Oid& object) { return "forja-profiles/" + object.Hex() + ".json"; }

Result<std::optional<Oid>> ProfileObject(const meta::ModelVersion& version) {
  for (const meta::Tag& t : version.tags) {
    if (t.key != kProfileTag) continue;
    auto oid = Oid::FromHex(t.value);
    if (!oid || t.value.size() != 64)
      return Status::Corrupt(VersionName(version.name, version.version) + ": its tag " + kProfileTag + " is '" +
                             t.value.substr(0, 80) + "', not a sha256 hex (forja monitor profile attaches a new one)");
    return std::optional<Oid>(*oid);
  }
  return std::optional<Oid>();
}

Status AttachProfile(meta::MetaStore& store, Cache& cache, const ObjectUpload& upload, const std::string& name,
                     int64_t version, std::string_view json) {
  RETURN_IF_ERROR(store.GetModelVersion(name, version).status());
  ASSIGN_OR_RETURN(Oid object, cache.StoreBytes(json));
  RETURN_IF_ERROR(cache.Sync());  // durable before anything names it
  if (upload) RETURN_IF_ERROR(upload(cache, {object}));
  RETURN_IF_ERROR(store.PutArtifact(ProfileArtifactPath(object), "sha256:" + object.Hex(), static_cast<int64_t>(json.size())));
  return store.SetModelVersionTag(name, version, {kProfileTag, object.Hex()});
}

Result<std::optional<std::string>> LoadProfile(meta::MetaStore& store, Cache& cache, const ObjectDownload& download,
                                               const std::string& name, int64_t version) {
  ASSIGN_OR_RETURN(meta::ModelVersion v, store.GetModelVersion(name, version));
  ASSIGN_OR_RETURN(std::optional<Oid> object, ProfileObject(v));
  if (!object) return std::optional<std::string>();
  const std::string what = "the profile of " + VersionName(name, version) + " (sha256:" + object->Hex().substr(0, 12) + "…)";
  if (!cache.Has(*object)) {
    if (!download) return Status::NotFound(what + " is not in this cache, and there is nowhere to fetch it from");
    Status st = download(cache, {*object});
    if (!st.ok()) return st.Wrap("fetching " + what);
  }
  ASSIGN_OR_RETURN(std::string bytes, cache.Read(*object));
  // The cache may hold what another process put there: the bytes must be the ones the tag names.
  if (Sha256::Of(bytes) != *object) {
    (void)cache.Remove(*object);
    return Status::Corrupt(what + " was corrupt in the cache and is removed; run the command again to fetch it anew");
  }
  return std::optional<std::string>(std::move(bytes));
}

}  // namespace forja::registry
