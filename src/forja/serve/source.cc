#include "forja/serve/source.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "forja/cas/cache.h"
#include "forja/cas/manifest.h"
#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/core/path.h"
#include "forja/data/data.h"
#include "forja/data/workspace.h"
#include "forja/registry/mlmodel.h"
#include "forja/registry/package.h"
#include "forja/registry/profile_store.h"
#include "forja/registry/registry.h"
#include "forja/serve/mlflow_source.h"
#include "forja/serve/staleness.h"

namespace forja::serve {

bool IsPackageFolder(const std::string& ref) {
  return Exists(JoinPath(ref, "model.yaml")) || Exists(JoinPath(ref, registry::kMLmodelFile));
}

namespace {

class Folders : public Resolver {
 public:
  Result<Resolved> Resolve(const std::string& ref) override {
    ASSIGN_OR_RETURN(registry::ModelPackage pkg, registry::LoadPackage(ref));
    (void)pkg;
    Resolved r;
    std::string dir = ref;
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    size_t slash = dir.rfind('/');
    r.name = slash == std::string::npos ? dir : dir.substr(slash + 1);
    r.version = "1";
    r.dir = dir;
    r.key = dir;
    return r;
  }
};

// Each checked-out file against its manifest entry: a package is served only as registered.
Status VerifyCheckout(const std::vector<ManifestEntry>& entries, const std::string& dir) {
  for (const auto& e : entries) {
    std::string path = JoinPath(dir, e.path);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return Status::FromErrno("verifying " + path, errno);
    auto oid = HashFd(fd, path);
    ::close(fd);
    if (!oid.ok()) return oid.status();
    if (!(*oid == e.oid)) return Status::Corrupt(path + " does not match its hash sha256:" + e.oid.Hex() + " in the package");
  }
  return Status::Ok();
}

class Registry : public Resolver {
 public:
  explicit Registry(RegistrySource s) : s_(std::move(s)), folders_(FolderResolver()) {}

  Result<Resolved> Resolve(const std::string& text) override {
    if (IsPackageFolder(text) || (text.find('/') == std::string::npos && text.find('@') == std::string::npos))
      return folders_->Resolve(text);
    std::lock_guard<std::mutex> lock(mu_);  // the store's connection is not shared between threads
    if (IsMlflowUri(text)) return ResolveMlflow(text, text, nullptr);
    ASSIGN_OR_RETURN(registry::ModelRef ref, registry::ParseModelRef(text));
    ASSIGN_OR_RETURN(meta::ModelVersion v, registry::ResolveRef(*s_.store, ref));
    if (v.package_hash.empty()) {  // registered with MLflow's client: its source is an MLflow model
      ASSIGN_OR_RETURN(Resolved r, ResolveMlflow(v.storage_location.empty() ? v.source : v.storage_location, text, &v));
      r.moving = ref.version == 0;
      FindProfile(v, text, &r);
      return r;
    }
    if (v.package_hash.size() < 8 || !v.package_hash.starts_with("sha256:"))
      return Status::Corrupt(text + " (version " + std::to_string(v.version) + "): bad package hash " + v.package_hash);
    auto manifest = Oid::FromHex(v.package_hash.substr(7));
    if (!manifest) return Status::Corrupt(text + ": bad package hash " + v.package_hash);
    Resolved r;
    r.name = v.name;
    r.version = std::to_string(v.version);
    r.key = v.package_hash + "#" + r.version;
    r.moving = ref.version == 0;
    r.dir = s_.checkout_root + "/" + manifest->Hex();
    if (!checked_.count(r.dir)) {
      RETURN_IF_ERROR(Ensure(*manifest, text, r.dir));
      checked_.insert(r.dir);
    }
    FindProfile(v, text, &r);
    return r;
  }

  // The model's newest rollout, when it is running toward the stage or alias `text` names.
  Result<RolloutStep> Rollout(const std::string& text) override {
    if (IsPackageFolder(text) || text.find('@') == std::string::npos) return RolloutStep{};
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(registry::ModelRef ref, registry::ParseModelRef(text));
    if (ref.version != 0) return RolloutStep{};
    std::string target = ref.alias.empty() ? ref.stage : "@" + ref.alias;
    auto r = s_.store->GetRollout(ref.name);
    if (!r.ok()) return r.status().code() == Code::kNotFound ? Result<RolloutStep>(RolloutStep{}) : r.status();
    if (r->state != "running" || r->target != target) return RolloutStep{};
    int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
    if (meta::RolloutStale(*r, now)) {  // its controller is gone: no traffic for a rollout nobody watches
      if (stale_said_.insert(r->id).second)
        LogWarn("serve: rollout " + std::to_string(r->id) + " of " + ref.name + " has not been updated for " +
                std::to_string((now - r->updated) / 60000) + " min (its forja rollout is gone); not sending it "
                "traffic; end it with forja rollout abort " + ref.name);
      return RolloutStep{};
    }
    RolloutStep step;
    step.id = r->id;
    step.version = std::to_string(r->to_version);
    step.ref = ref.name + "/" + step.version;
    step.weight = std::clamp(r->weight, 0, 100);  // the store checks it; a REST store's answer is outside input
    return step;
  }

  std::shared_ptr<const registry::StalenessFacts> Staleness(const std::string& text, const Resolved& r) override {
    if (IsMlflowUri(text) || IsPackageFolder(text) || (text.find('/') == std::string::npos && text.find('@') == std::string::npos)) return nullptr;
    std::lock_guard<std::mutex> lock(mu_);
    return LoadStalenessFacts(*s_.store, text, r.name, std::stoll(r.version), &said_);
  }

 private:
  // An MLflow model (mlflow_source.h): `uri` is where its files are (runs:/, models:/m-,
  // mlflow-artifacts:/), `v` the registry version that names it, if any. The key is the hash of
  // its file list, so a version whose files differ reloads.
  Result<Resolved> ResolveMlflow(const std::string& uri, const std::string& text, const meta::ModelVersion* v) {
    if (uri.empty()) return Status::User(text + " has no source: register it with a model URI (runs:/..., models:/m-...)");
    ASSIGN_OR_RETURN(std::string folder, MlflowArtifactFolder(*s_.store, uri));
    ArtifactFetch f;
    f.store = s_.store.get();
    f.cache = s_.cache;
    f.download = s_.download;
    f.intact = [this](const Oid& o) { return Intact(o); };
    f.checkout_root = s_.checkout_root;
    f.checked = &checked_;
    ASSIGN_OR_RETURN(MlflowCheckout c, CheckoutMlflowFolder(f, folder, text));
    Resolved r;
    if (v) {
      r.name = v->name;
      r.version = std::to_string(v->version);
    } else {  // runs:/RUN/PATH and models:/m-<id>: named after the model's folder
      std::string base = folder;
      if (base.ends_with("/artifacts")) base.resize(base.size() - 10);
      r.name = Basename(base);
      r.version = "1";
    }
    r.dir = c.dir;
    r.key = "mlflow:" + c.tree + "#" + r.version;
    return r;
  }

  // An object of the cache, rehashed once per process before it is used: a cache
  // can hold what another process put there (a planted or truncated object under a
  // name that is not its hash). A bad one is removed, so it is fetched again.
  bool Intact(const Oid& o) {
    if (verified_.count(o)) return true;
    if (!RehashCached(*s_.cache, o)) return false;
    verified_.insert(o);
    return true;
  }

  // The package's manifest and files in the cache, each rehashed (or fetched, which hashes).
  Status Fill(const Oid& manifest, const std::string& text) {
    Cache& cache = *s_.cache;
    auto missing = [&]() -> bool {
      if (!Intact(manifest)) return true;
      auto objects = registry::PackageObjects(cache, manifest);
      if (!objects.ok()) return true;
      bool any = false;
      for (const auto& [o, size] : *objects) any |= !Intact(o);  // removes every bad one
      return any;
    };
    if (!missing()) return Status::Ok();
    if (s_.download) {
      RETURN_IF_ERROR(s_.download(cache, {manifest}));
      if (!Intact(manifest)) return Status::Corrupt("the package sha256:" + manifest.Hex() + " of " + text + " does not match its hash");
      ASSIGN_OR_RETURN(auto objects, registry::PackageObjects(cache, manifest));
      std::vector<Oid> oids;
      for (const auto& [o, size] : objects) oids.push_back(o);
      RETURN_IF_ERROR(s_.download(cache, oids));
      for (const auto& o : oids)
        if (!Intact(o)) return Status::Corrupt("the object " + ObjectKey(o) + " of " + text + " does not match its hash");
      return Status::Ok();
    }
    if (s_.workspace && !s_.workspace->config().remotes.empty()) {
      Tracked t;
      t.rel = "model " + text;
      t.pointer.is_dir = true;
      t.pointer.oid = manifest;
      auto r = FetchTracked(*s_.workspace, {t}, "", 0);
      if (!r.ok()) return r.status();
      return missing() ? Status::Corrupt("the package of " + text + " is incomplete or corrupt in the cache after "
                                         "fetching it; run forja verify")
                       : Status::Ok();
    }
    return Status::NotFound("the package of " + text + " (sha256:" + manifest.Hex().substr(0, 12) +
                            "…) is not in the cache and no remote is configured");
  }

  // The package checked out at `dir`. A folder already there (another process's, or
  // planted) is used only when every file matches the rehashed manifest; otherwise
  // it is replaced.
  Status Ensure(const Oid& manifest, const std::string& text, const std::string& dir) {
    if (IsPackageFolder(dir) && Intact(manifest)) {
      ASSIGN_OR_RETURN(std::string body, s_.cache->Read(manifest));
      ASSIGN_OR_RETURN(auto entries, ParseManifest(body, "package " + manifest.Hex().substr(0, 12)));
      if (VerifyCheckout(entries, dir).ok()) return Status::Ok();
    }
    if (Exists(dir)) {
      std::string stale = dir + ".stale-" + std::to_string(::getpid());
      (void)RemoveTree(stale);
      if (::rename(dir.c_str(), stale.c_str()) != 0) return Status::FromErrno("moving aside " + dir, errno);
      (void)RemoveTree(stale);
    }
    return Checkout(manifest, text, dir);
  }

  // Into a temp folder, verified, then renamed into place: a folder under its hash is whole.
  Status Checkout(const Oid& manifest, const std::string& text, const std::string& dir) {
    RETURN_IF_ERROR(Fill(manifest, text));
    RETURN_IF_ERROR(MakeDirs(s_.checkout_root));
    std::string tmp = dir + ".tmp-" + std::to_string(::getpid());
    (void)RemoveTree(tmp);
    RETURN_IF_ERROR(registry::CheckoutPackage(*s_.cache, manifest, tmp));
    ASSIGN_OR_RETURN(std::string text_manifest, s_.cache->Read(manifest));
    ASSIGN_OR_RETURN(auto entries, ParseManifest(text_manifest, "package " + manifest.Hex().substr(0, 12)));
    Status st = VerifyCheckout(entries, tmp);
    if (!st.ok()) {
      (void)RemoveTree(tmp);
      return st;
    }
    if (::rename(tmp.c_str(), dir.c_str()) != 0 && !IsPackageFolder(dir)) return Status::FromErrno("renaming " + tmp, errno);
    (void)RemoveTree(tmp);
    return Status::Ok();
  }

  // The version's reference profile (registry/profile_store.h), read once per object. Its hash
  // joins the key, so attaching a profile to a followed version reloads it, monitored. A profile
  // that cannot be read is said once; the version is served unmonitored.
  void FindProfile(const meta::ModelVersion& v, const std::string& text, Resolved* r) {
    auto object = registry::ProfileObject(v);
    if (object.ok() && !*object) return;
    for (const meta::Tag& t : v.tags)
      if (t.key == registry::kProfileTargetTag) r->profile_target = t.value;
    std::string hex = object.ok() ? (*object)->Hex() : "";
    if (object.ok()) {
      r->key += "#profile:" + hex;
      if (auto it = profiles_.find(hex); it != profiles_.end()) {
        r->profile = it->second;
        return;
      }
    }
    Result<std::optional<std::string>> json =
        object.ok() ? registry::LoadProfile(*s_.store, *s_.cache, s_.download, v.name, v.version) : object.status();
    if (json.ok() && *json) {
      r->profile = profiles_[hex] = std::make_shared<const std::string>(std::move(**json));
    } else if (warned_.insert(r->key).second) {
      LogWarn("serve: the reference profile of " + text + " (version " + r->version + ") cannot be read, so it is not monitored: " +
              (json.ok() ? std::string("it is gone") : json.status().message()));
    }
  }

  RegistrySource s_;
  std::unique_ptr<Resolver> folders_;
  std::mutex mu_;
  std::set<Oid> verified_;           // objects rehashed by this process
  std::set<std::string> checked_;    // package folders verified or written by this process
  std::map<std::string, std::shared_ptr<const std::string>> profiles_;  // by object hex
  std::set<std::string> warned_;     // keys whose profile could not be read
  std::set<std::string> said_;       // staleness notes logged (LoadStalenessFacts)
  std::set<int64_t> stale_said_;     // rollouts whose lost controller was logged
};

}  // namespace

bool RehashCached(Cache& cache, const Oid& o) {
  if (!cache.Has(o)) return false;
  std::string path = cache.PathOf(o);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  auto oid = HashFd(fd, path);
  ::close(fd);
  if (oid.ok() && *oid == o) return true;
  (void)cache.Remove(o);
  return false;
}

std::unique_ptr<Resolver> FolderResolver() { return std::make_unique<Folders>(); }

std::unique_ptr<Resolver> RegistryResolver(RegistrySource source) { return std::make_unique<Registry>(std::move(source)); }

}  // namespace forja::serve
