#include "forja/core/strings.h"
#include "forja/registry/registry.h"

#include "forja/cas/cache.h"
#include "forja/cas/manifest.h"
#include "forja/core/fs.h"

namespace forja::registry {

std::string PackageArtifactRoot(const Oid& manifest) { return "forja-packages/" + manifest.Hex(); }

Status CheckPackageArtifact(Cache& cache, const std::string& path, const std::string& hash, int64_t size) {
  static const std::string kRoot = "forja-packages";
  if (!IsUnder(path, kRoot)) return Status::Ok();
  auto refuse = [&](const std::string& why) {
    return Status::Refused("'" + path.substr(0, 200) + "': registered model packages are immutable (" + why +
                           "); register a new version instead (forja models register)");
  };
  if (hash.empty()) return refuse("they cannot be deleted");
  size_t slash = path.find('/', kRoot.size() + 1);
  std::string hex = path.substr(kRoot.size() + 1, slash == std::string::npos ? std::string::npos : slash - kRoot.size() - 1);
  auto manifest = Oid::FromHex(hex);
  if (slash == std::string::npos || !manifest || !cache.Has(*manifest)) return refuse("no package " + hex.substr(0, 64));
  ASSIGN_OR_RETURN(std::string text, cache.Read(*manifest));
  auto entries = ParseManifest(text, "package " + hex);
  if (!entries.ok()) return refuse("no package " + hex);
  std::string rel = path.substr(slash + 1);
  for (const auto& e : *entries)
    if (e.path == rel) {
      if (hash == "sha256:" + e.oid.Hex() && size == static_cast<int64_t>(e.size)) return Status::Ok();  // the same bytes again
      return refuse("its file " + rel.substr(0, 200) + " has other bytes");
    }
  return refuse("the package has no file " + rel.substr(0, 200));
}

Result<meta::ModelVersion> Register(meta::MetaStore& store, Cache& cache, const RegisterRequest& req,
                                    const ObjectUpload& upload) {
  ASSIGN_OR_RETURN(ModelPackage pkg, LoadPackage(req.dir));
  (void)pkg;
  if (!req.run_id.empty()) RETURN_IF_ERROR(store.GetRun(req.run_id).status());
  ASSIGN_OR_RETURN(Oid manifest, StorePackage(cache, req.dir));
  ASSIGN_OR_RETURN(std::string text, cache.Read(manifest));
  ASSIGN_OR_RETURN(auto entries, ParseManifest(text, "package"));
  std::vector<Oid> objects;
  for (const auto& e : entries) objects.push_back(e.oid);
  objects.push_back(manifest);  // last: whoever sees the manifest finds its files
  if (upload) RETURN_IF_ERROR(upload(cache, objects));
  std::string root = PackageArtifactRoot(manifest);
  for (const auto& e : entries)
    RETURN_IF_ERROR(store.PutArtifact(root + "/" + e.path, "sha256:" + e.oid.Hex(), static_cast<int64_t>(e.size)));
  auto model = store.GetRegisteredModel(req.name);
  if (!model.ok()) {
    if (model.status().code() != Code::kNotFound) return model.status();
    auto made = store.CreateRegisteredModel(req.name, "", {});
    // Another client may have created it meanwhile: that is fine.
    if (!made.ok() && made.status().code() != Code::kExists) return made.status();
  }
  meta::ModelVersion v;
  v.name = req.name;
  v.source = "mlflow-artifacts:/" + root;
  v.run_id = req.run_id;
  v.description = req.description;
  v.tags = req.tags;
  v.user_id = req.user;
  v.package_hash = "sha256:" + manifest.Hex();
  ASSIGN_OR_RETURN(meta::ModelVersion made, store.CreateModelVersion(v));
  if (!req.run_id.empty()) {
    uint64_t size = 0;
    for (const auto& e : entries) size += e.size;
    std::string path = req.lineage_path.empty() ? req.dir : req.lineage_path;
    RETURN_IF_ERROR(store.LogLineage(req.run_id, {{"output", path, v.package_hash, "model", static_cast<int64_t>(size)}}));
  }
  return made;
}

Result<ModelRef> ParseModelRef(const std::string& text) {
  ModelRef r;
  r.text = text;
  std::string s = text;
  if (s.starts_with("models:/")) s = s.substr(8);
  auto bad = [&](const std::string& why) {
    return Status::User("invalid model reference '" + text + "': " + why +
                        " (NAME/VERSION, NAME@ALIAS or NAME@production)");
  };
  size_t at = s.rfind('@'), slash = s.rfind('/');
  if (at != std::string::npos && (slash == std::string::npos || at > slash)) {
    r.name = s.substr(0, at);
    std::string tail = s.substr(at + 1);
    if (tail.empty()) return bad("nothing after '@'");
    std::string stage = meta::CanonicalStage(tail);
    if (stage == "Staging" || stage == "Production") r.stage = stage;
    else r.alias = tail;
  } else if (slash != std::string::npos) {
    r.name = s.substr(0, slash);
    std::string tail = s.substr(slash + 1);
    if (tail.empty() || tail.size() > 18 || tail.find_first_not_of("0123456789") != std::string::npos)
      return bad("'" + tail + "' is not a version number");
    r.version = std::stoll(tail);
    if (r.version < 1) return bad("versions start at 1");
  } else {
    return bad("no version, alias or stage");
  }
  if (r.name.empty()) return bad("no model name");
  return r;
}

Result<meta::ModelVersion> ResolveRef(meta::MetaStore& store, const ModelRef& ref) {
  if (ref.version > 0) return store.GetModelVersion(ref.name, ref.version);
  if (!ref.alias.empty()) return store.GetVersionByAlias(ref.name, ref.alias);
  ASSIGN_OR_RETURN(auto latest, store.GetLatestVersions(ref.name, {ref.stage}));
  if (latest.empty()) return Status::NotFound("no version of '" + ref.name + "' is in " + ref.stage);
  return latest.back();
}

}  // namespace forja::registry
