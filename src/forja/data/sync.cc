// forja push / fetch: move the objects tracked paths need between cache and remote.
#include <unistd.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <unordered_map>

#include "forja/cas/manifest.h"
#include "forja/core/crash_point.h"
#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/core/parallel.h"
#include "forja/core/progress.h"
#include "forja/data/data.h"
#include "forja/data/dvc_sync.h"
#include "forja/data/lockfile.h"

namespace forja {

namespace {

struct Wanted {
  Oid oid;
  uint64_t size = 0;
  std::string label;  // a path that needs it, for messages
};

// Downloads one object into the cache, rejecting bytes that do not hash to its name.
Status Download(Remote& remote, const std::string& remote_name, Cache& cache, const Oid& oid,
                Progress* progress) {
  ASSIGN_OR_RETURN(TempFile tmp, TempFile::CreateBeside(cache.PathOf(oid), 0444));
  RETURN_IF_ERROR(remote.Get(oid, tmp.fd()));
  if (::lseek(tmp.fd(), 0, SEEK_SET) != 0) return Status::FromErrno("seek", errno);
  uint64_t bytes = 0;
  ASSIGN_OR_RETURN(Oid got, HashFd(tmp.fd(), tmp.path(), [&](size_t n) { bytes += n; }));
  if (got != oid)
    return Status::Corrupt("remote '" + remote_name + "' returned bytes for " + ObjectKey(oid) +
                           " that hash to " + got.Hex().substr(0, 12) +
                           "…; the remote copy is corrupt: run forja verify --remote " + remote_name);
  if (progress) progress->Add(1, bytes);
  return cache.Adopt(std::move(tmp), oid);
}

// Collects the objects of `tracked`. A folder's manifest comes last so that a
// remote holding a manifest always holds its files: an interrupted push resumes
// by skipping what arrived. With `fetch_manifests`, missing manifests are fetched.
Result<std::vector<Wanted>> CollectObjects(Workspace& ws, const std::vector<Tracked>& tracked,
                                           Remote* remote, const std::string& remote_name,
                                           std::vector<Wanted>* manifests,
                                           uint64_t* fetched_manifests = nullptr) {
  std::vector<Wanted> files;
  Cache& cache = ws.cache();
  for (const auto& t : tracked) {
    if (!t.pointer.is_dir) {
      files.push_back({t.pointer.oid, t.pointer.size, t.rel});
      continue;
    }
    if (!cache.Has(t.pointer.oid)) {
      if (!remote) return Status::User(t.rel + " is not in the cache, so it cannot be pushed; forja add it again");
      RETURN_IF_ERROR(cache.Prepare());
      Status st = Download(*remote, remote_name, cache, t.pointer.oid, nullptr);
      if (st.code() == Code::kNotFound)
        return Status::User(t.rel + " is not on remote '" + remote_name +
                            "'; push it from a repository that has it");
      RETURN_IF_ERROR(st);
      if (fetched_manifests) ++*fetched_manifests;
    }
    ASSIGN_OR_RETURN(std::string text, cache.Read(t.pointer.oid));
    ASSIGN_OR_RETURN(auto entries, ParseManifest(text, ObjectKey(t.pointer.oid)));
    for (auto& e : entries) files.push_back({e.oid, e.size, t.rel + "/" + e.path});
    manifests->push_back({t.pointer.oid, text.size(), t.rel});
  }
  // The same bytes under several names move once.
  std::sort(files.begin(), files.end(), [](const Wanted& a, const Wanted& b) { return a.oid < b.oid; });
  files.erase(std::unique(files.begin(), files.end(),
                          [](const Wanted& a, const Wanted& b) { return a.oid == b.oid; }),
              files.end());
  return files;
}

}  // namespace

int DefaultTransferJobs(const std::string& url) {
  // Transfers wait on the network or the disk, not the CPU.
  return url.starts_with("s3://") ? 16 : std::max(4, DefaultJobs() * 2);
}

namespace {

// Tracked paths by the remote they go to: a DVC out's own remote (pointer or forja.lock
// `remote:`) unless the user named one (-r); "" is the default. A remote forja.yaml does
// not have is one line, naming the file that asks for it, and the default is used.
std::map<std::string, std::vector<Tracked>> ByRemote(const Workspace& ws, std::vector<Tracked> tracked,
                                                     const std::string& chosen) {
  std::map<std::string, std::vector<Tracked>> out;
  for (auto& t : tracked) {
    std::string r = chosen.empty() ? t.pointer.remote : chosen;
    if (!r.empty() && r != chosen && !ws.config().FindRemote(r)) {
      std::string file = t.pointer_path.ends_with(kLockName) ? std::string(kLockName)
                                                             : t.rel + std::string(kPointerSuffix);
      LogWarn(file + ": " + t.rel + ": remote '" + r + "' is not in forja.yaml (forja remote add " + r +
              " URL); the default remote is used");
      r.clear();
    }
    out[r].push_back(std::move(t));
  }
  return out;
}

void AddTransfer(const TransferResult& r, TransferResult* sum) {
  if (sum->remote.empty()) sum->remote = r.remote;
  else if (sum->remote.find(r.remote) == std::string::npos) sum->remote += "', '" + r.remote;
  sum->transferred += r.transferred;
  sum->bytes += r.bytes;
  sum->present += r.present;
}

Result<TransferResult> FetchFrom(Workspace& ws, const std::vector<std::string>& rels, const std::string& remote_name,
                                 int jobs);

}  // namespace

Result<TransferResult> Push(Workspace& ws, const std::vector<std::string>& rels,
                            const std::string& remote_name, int jobs) {
  ASSIGN_OR_RETURN(auto all, ws.FindTracked(rels));
  // An out DVC declared with push: false (kept in forja.lock or its pointer, as cache:
  // false is) stays where it is: the team did not want it on the remote.
  std::vector<Tracked> tracked;
  for (auto& t : all) {
    if (t.pointer.push) tracked.push_back(std::move(t));
    else LogInfo(t.rel + ": push: false; not pushed");
  }
  auto groups = ByRemote(ws, std::move(tracked), remote_name);
  if (groups.size() <= 1) {
    std::string r = groups.empty() ? remote_name : groups.begin()->first;
    return PushTracked(ws, groups.empty() ? std::vector<Tracked>{} : groups.begin()->second, r, jobs);
  }
  TransferResult sum;
  for (const auto& [r, list] : groups) {
    ASSIGN_OR_RETURN(TransferResult one, PushTracked(ws, list, r, jobs));
    AddTransfer(one, &sum);
  }
  return sum;
}

Result<TransferResult> PushTracked(Workspace& ws, const std::vector<Tracked>& tracked,
                                   const std::string& remote_name, int jobs) {
  TransferResult res;
  ASSIGN_OR_RETURN(auto remote, ws.OpenRemote(remote_name, &res.remote));
  if (jobs <= 0) jobs = DefaultTransferJobs(ws.config().FindRemote(res.remote)->url);
  std::vector<Wanted> manifests;
  ASSIGN_OR_RETURN(auto files, CollectObjects(ws, tracked, nullptr, res.remote, &manifests));
  Cache& cache = ws.cache();

  for (auto* batch : {&files, &manifests}) {
    if (batch == &manifests) CrashPoint("push.before_manifests");  // files flushed, no manifest yet
    std::vector<Oid> oids;
    for (const auto& w : *batch) oids.push_back(w.oid);
    ASSIGN_OR_RETURN(auto has, remote->Has(oids, jobs));
    std::vector<const Wanted*> todo;
    uint64_t total_bytes = 0;
    for (size_t i = 0; i < batch->size(); i++) {
      if (has[i]) {
        res.present++;
      } else {
        todo.push_back(&(*batch)[i]);
        total_bytes += (*batch)[i].size;
      }
    }
    Progress progress("pushing to " + res.remote, todo.size(), total_bytes);
    RETURN_IF_ERROR(ParallelFor(todo.size(), jobs, [&](size_t i) {
      const Wanted& w = *todo[i];
      if (!cache.Has(w.oid))
        return Status::User(w.label + " is not in the cache (" + ObjectKey(w.oid) +
                            "), so it cannot be pushed; forja add it again");
      RETURN_IF_ERROR(remote->Put(w.oid, cache.PathOf(w.oid), w.size));
      CrashPoint("push.object");  // FORJA_CRASH_AT=push.object:N: mid-transfer
      progress.Add(1, w.size);
      return Status::Ok();
    }));
    // Files are durable on the remote before any manifest naming them is written.
    RETURN_IF_ERROR(remote->Flush());
    res.transferred += todo.size();
    res.bytes += total_bytes;
  }
  return res;
}

Result<TransferResult> Fetch(Workspace& ws, const std::vector<std::string>& rels,
                             const std::string& remote_name, int jobs) {
  ASSIGN_OR_RETURN(auto all, ws.FindTracked(rels, /*allow_unfetched=*/true));
  auto groups = ByRemote(ws, std::move(all), remote_name);
  if (groups.size() <= 1) return FetchFrom(ws, rels, groups.empty() ? remote_name : groups.begin()->first, jobs);
  TransferResult sum;
  for (const auto& [r, list] : groups) {
    std::vector<std::string> these;
    for (const auto& t : list) these.push_back(t.rel);
    ASSIGN_OR_RETURN(TransferResult one, FetchFrom(ws, these, r, jobs));
    AddTransfer(one, &sum);
  }
  return sum;
}

namespace {

Result<TransferResult> FetchFrom(Workspace& ws, const std::vector<std::string>& rels, const std::string& remote_name,
                                 int jobs) {
  // Data taken over from DVC that the remote has only in DVC's layout (by md5) first.
  ASSIGN_OR_RETURN(DvcFetched dvc, FetchFromDvcLayout(ws, rels, remote_name, jobs));
  ASSIGN_OR_RETURN(auto tracked, ws.FindTracked(rels));
  ASSIGN_OR_RETURN(TransferResult res, FetchTracked(ws, tracked, remote_name, jobs));
  // What came from the DVC layout was cached by the time FetchTracked looked.
  res.transferred += dvc.objects;
  res.bytes += dvc.bytes;
  res.present -= std::min(res.present, dvc.objects);
  return res;
}

}  // namespace

Result<TransferResult> FetchTracked(Workspace& ws, const std::vector<Tracked>& tracked,
                                    const std::string& remote_name, int jobs) {
  TransferResult res;
  ASSIGN_OR_RETURN(auto remote, ws.OpenRemote(remote_name, &res.remote));
  if (jobs <= 0) jobs = DefaultTransferJobs(ws.config().FindRemote(res.remote)->url);
  Cache& cache = ws.cache();
  RETURN_IF_ERROR(cache.Prepare());
  std::vector<Wanted> manifests;
  uint64_t fetched_manifests = 0;
  ASSIGN_OR_RETURN(auto files, CollectObjects(ws, tracked, remote.get(), res.remote, &manifests,
                                              &fetched_manifests));
  CrashPoint("fetch.after_manifests");  // manifests cached, none of their files

  // Only what the cache lacks: an interrupted pull resumes where it stopped.
  std::vector<char> have(files.size());
  RETURN_IF_ERROR(ParallelFor(files.size(), DefaultJobs() * 2, [&](size_t i) {
    have[i] = cache.Has(files[i].oid);
    return Status::Ok();
  }));
  std::vector<const Wanted*> todo;
  uint64_t total_bytes = 0;
  for (size_t i = 0; i < files.size(); i++) {
    if (have[i]) {
      res.present++;
    } else {
      todo.push_back(&files[i]);
      total_bytes += files[i].size;
    }
  }
  std::mutex mu;
  std::vector<const Wanted*> absent;
  {
    Progress progress("fetching from " + res.remote, todo.size(), total_bytes);
    RETURN_IF_ERROR(ParallelFor(todo.size(), jobs, [&](size_t i) {
      Status st = Download(*remote, res.remote, cache, todo[i]->oid, &progress);
      if (st.ok()) CrashPoint("fetch.object");  // fetch.object:N: mid-transfer
      if (st.code() == Code::kNotFound) {
        std::lock_guard<std::mutex> lock(mu);
        absent.push_back(todo[i]);
        return Status::Ok();
      }
      return st;
    }));
  }
  RETURN_IF_ERROR(cache.Sync());
  CrashPoint("fetch.after_objects");  // all cached; pull has not checked out
  res.transferred = todo.size() - absent.size() + fetched_manifests;
  res.present += manifests.size() - fetched_manifests;
  res.bytes = total_bytes;
  for (const auto& m : manifests) res.bytes += m.size;
  if (!absent.empty())
    return Status::User(std::to_string(absent.size()) + " object" + (absent.size() > 1 ? "s are" : " is") +
                        " missing on remote '" + res.remote + "' (e.g. " + absent[0]->label +
                        "); push from a repository that has them");
  return res;
}

}  // namespace forja
