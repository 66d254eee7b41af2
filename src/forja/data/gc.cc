// forja gc: find (and with --force remove) objects nothing references.
#include <sys/stat.h>

#include <mutex>
#include <unordered_set>

#include "forja/cas/manifest.h"
#include "forja/core/git.h"
#include "forja/core/parallel.h"
#include "forja/data/data.h"
#include "forja/data/lockfile.h"

namespace forja {

namespace {

using OidSet = std::unordered_set<Oid, OidHash>;

struct Roots {
  OidSet files;
  OidSet dirs;
};

void AddLockRoots(const Lock& lock, Roots* roots) {
  for (const auto& st : lock.stages)
    for (const auto& o : st.outs) (o.is_dir ? roots->dirs : roots->files).insert(o.oid);
}

bool IsLockPath(std::string_view path) {
  return path == kLockName || (path.size() > kLockName.size() && path.substr(path.size() - kLockName.size()) == kLockName &&
                               path[path.size() - kLockName.size() - 1] == '/');
}

// Pointer files and forja.lock files in every commit of every ref: one
// rev-list, one cat-file batch.
Status AddCommitRoots(Workspace& ws, Roots* roots, std::vector<std::string>* warnings) {
  if (!Exists(ws.root() + "/.git"))
    return Status::User("--all-commits needs a git repository, and " + ws.root() + " has none");
  ASSIGN_OR_RETURN(std::string list, GitOutput(ws.root(), {"rev-list", "--all", "--objects"}));
  std::vector<std::string> oids;
  std::vector<std::string> names;
  size_t pos = 0;
  while (pos < list.size()) {
    size_t nl = list.find('\n', pos);
    if (nl == std::string::npos) nl = list.size();
    std::string_view line(list.data() + pos, nl - pos);
    pos = nl + 1;
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos) continue;
    std::string_view path = line.substr(sp + 1);
    if ((path.size() <= kPointerSuffix.size() ||
         path.substr(path.size() - kPointerSuffix.size()) != kPointerSuffix) &&
        !IsLockPath(path))
      continue;
    oids.emplace_back(line.substr(0, sp));
    names.emplace_back(path);
  }
  ASSIGN_OR_RETURN(CatFileBatch cat, CatFileBatch::Run(ws.root(), oids));
  for (const auto& name : names) {
    ASSIGN_OR_RETURN(CatFileBatch::Object o, cat.Next());
    if (o.type != "blob") continue;
    std::string body(o.content);
    if (IsLockPath(name)) {
      auto lock = ParseLock(body, name + " (in git history)");
      if (!lock.ok()) warnings->push_back(lock.status().message() + "; the outputs it names are not protected from gc");
      else AddLockRoots(*lock, roots);
      continue;
    }
    std::string stem = Basename(name.substr(0, name.size() - kPointerSuffix.size()));
    // A pointer taken over from DVC and not fetched then names no forja object: nothing to keep.
    auto p = ParsePointer(body, name + " (in git history)", stem, /*allow_unfetched=*/true);
    if (!p.ok()) {
      warnings->push_back(p.status().message() + "; its data is not protected from gc");
      continue;
    }
    if (!p->has_oid) continue;
    (p->is_dir ? roots->dirs : roots->files).insert(p->oid);
  }
  return Status::Ok();
}

}  // namespace

Result<GcResult> Gc(Workspace& ws, const GcOptions& opts) {
  GcResult res;
  int jobs = opts.jobs > 0 ? opts.jobs : DefaultJobs() * 2;
  Roots roots;
  ASSIGN_OR_RETURN(auto tracked, ws.FindTracked({}));
  for (const auto& t : tracked) (t.pointer.is_dir ? roots.dirs : roots.files).insert(t.pointer.oid);
  // Uncached pipeline outs (versioned in git) keep their objects for the run cache.
  ASSIGN_OR_RETURN(Lock lock, ReadLock(ws.root()));
  AddLockRoots(lock, &roots);
  if (opts.all_commits) RETURN_IF_ERROR(AddCommitRoots(ws, &roots, &res.warnings));
  // A kept object may be a manifest: its files stay too.
  for (const Oid& o : opts.keep) {
    roots.files.insert(o);
    auto text = ws.cache().Read(o);
    if (text.ok() && text->starts_with("forja-manifest 1\n")) roots.dirs.insert(o);
  }

  std::unique_ptr<Remote> remote;
  if (!opts.remote.empty()) {
    std::string name;
    ASSIGN_OR_RETURN(remote, ws.OpenRemote(opts.remote, &name));
    res.where = "remote '" + name + "'";
  } else {
    res.where = "cache";
  }
  Cache& cache = ws.cache();

  // Everything reachable: files, manifests, and the files manifests list.
  OidSet live = roots.files;
  for (const Oid& dir : roots.dirs) {
    live.insert(dir);
    auto text = cache.Read(dir);
    if (!text.ok()) {
      res.warnings.push_back("the manifest " + ObjectKey(dir) +
                             " is not in the cache, so the files it lists are not known; fetch it "
                             "first (forja fetch) to protect them");
      continue;
    }
    ASSIGN_OR_RETURN(auto entries, ParseManifest(*text, ObjectKey(dir)));
    for (const auto& e : entries) live.insert(e.oid);
  }

  std::vector<Oid> all;
  std::vector<std::string> temps;  // left in the cache by killed commands
  if (remote) {
    ASSIGN_OR_RETURN(all, remote->List());
  } else {
    ASSIGN_OR_RETURN(all, cache.List(&temps));
  }
  for (const Oid& o : all) {
    if (live.count(o)) {
      res.kept++;
      continue;
    }
    uint64_t size = 0;
    struct stat st;
    if (!remote && ::stat(cache.PathOf(o).c_str(), &st) == 0) size = static_cast<uint64_t>(st.st_size);
    res.garbage.emplace_back(o, size);
    res.bytes += size;
  }
  res.stale_temps = temps.size();
  if (opts.force) {
    for (const auto& t : temps) RETURN_IF_ERROR(RemoveFile(t));
    RETURN_IF_ERROR(ParallelFor(res.garbage.size(), jobs, [&](size_t i) {
      return remote ? remote->Remove(res.garbage[i].first) : cache.Remove(res.garbage[i].first);
    }));
    res.removed = true;
  }
  return res;
}

}  // namespace forja
