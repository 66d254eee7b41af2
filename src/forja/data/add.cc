// forja add: hash, store, write the pointer file, ignore in git.
#include <sys/stat.h>

#include "forja/core/crash_point.h"
#include "forja/core/fs.h"
#include "forja/core/git.h"
#include "forja/core/log.h"
#include "forja/core/parallel.h"
#include "forja/core/progress.h"
#include "forja/data/data.h"
#include "forja/data/scan.h"

namespace forja {

namespace {

// Refuses paths forja cannot track sensibly, before touching anything.
Status CheckAddable(Workspace& ws, const std::string& rel) {
  if (rel.empty()) return Status::User("cannot add the repository root; add a file or folder in it");
  if (rel.ends_with(kPointerSuffix))
    return Status::User(rel + " is a forja pointer file; add the data it describes instead");
  struct stat st;
  if (::lstat(ws.Abs(rel).c_str(), &st) != 0)
    return Status::User(rel + " does not exist");
  for (std::string dir = Dirname(rel); dir != "."; dir = Dirname(dir)) {
    if (Exists(ws.Abs(dir) + std::string(kPointerSuffix)))
      return Status::User(rel + " is inside " + dir + ", which forja already tracks; add " + dir +
                          " again instead");
  }
  if (S_ISDIR(st.st_mode)) {
    auto inner = ws.FindTracked({rel + "/"});
    if (inner.ok() && !inner->empty())
      return Status::User(rel + " contains tracked data (" + (*inner)[0].rel +
                          "); forja cannot track a folder and a part of it");
  }
  return Status::Ok();
}

// DVC's rule too: data that git already tracks would be versioned twice.
Status CheckNotInGit(Workspace& ws, const std::vector<std::string>& rels) {
  if (!Exists(ws.root() + "/.git")) return Status::Ok();
  std::vector<std::string> args = {"ls-files", "-z", "--"};
  args.insert(args.end(), rels.begin(), rels.end());
  auto r = RunGit(ws.root(), args);
  if (!r.ok() || r->exit_code != 0) return Status::Ok();  // no usable git: nothing to check
  if (r->out.empty()) return Status::Ok();
  std::string first = r->out.substr(0, r->out.find('\0'));
  return Status::User(first + " is tracked by git; run `git rm -r --cached " + first +
                      "` first, then forja add it");
}

// What a pointer to the scanned path would say.
Pointer VersionOf(const std::string& rel, const ScanResult& scan) {
  Pointer p;
  p.path = Basename(rel);
  p.is_dir = scan.is_dir;
  p.oid = scan.oid;
  p.size = scan.bytes;
  p.files = scan.entries.size();
  return p;
}

// Scans, stores every file and a folder's manifest; returns the version.
Result<Pointer> StoreScanned(Workspace& ws, const std::string& rel, int jobs, uint64_t* hashed_files,
                             bool find_temps = true) {
  ASSIGN_OR_RETURN(StateDb * db, ws.state());
  ASSIGN_OR_RETURN(auto snap, db->Get(rel));
  std::optional<ScanResult> scanned;
  {
    Progress progress("hashing " + rel, 0);
    ASSIGN_OR_RETURN(scanned, ScanPath(ws, rel, snap, jobs, &progress, false, find_temps));
  }
  ScanResult& scan = *scanned;
  if (!scan.exists) return Status::User(rel + " does not exist");
  if (hashed_files) *hashed_files = scan.hashed_files;

  Cache& cache = ws.cache();
  RETURN_IF_ERROR(RemoveStaleTemps(ws, scan));
  if (find_temps) RETURN_IF_ERROR(cache.Prepare());  // add: all 256 folders up front; the pipeline: on use
  RETURN_IF_ERROR(cache.ChooseLinkType(Dirname(ws.Abs(rel))));
  std::string abs = ws.Abs(rel);
  {
    Progress progress("storing " + rel, scan.entries.size());
    RETURN_IF_ERROR(ParallelFor(scan.entries.size(), jobs, [&](size_t i) {
      const ManifestEntry& e = scan.entries[i];
      std::string path = scan.is_dir ? abs + "/" + e.path : abs;
      Status st = cache.Store(path, e.oid, scan.stamps[i].stat);
      progress.Add(1);
      return st;
    }));
  }
  if (scan.is_dir) {
    if (scan.manifest_text.empty()) scan.manifest_text = SerializeManifest(scan.entries);
    ASSIGN_OR_RETURN(Oid manifest, cache.StoreBytes(scan.manifest_text));
    if (manifest != scan.oid) return Status::Internal("manifest hash mismatch for " + rel);
  }
  RETURN_IF_ERROR(SaveSnapshot(ws, rel, scan, jobs, /*same_mtime=*/true));
  LogVerbose(rel + ": stored with " + LinkTypeName(cache.effective_link_type()) + ", hashed " +
             std::to_string(scan.hashed_files) + " of " + std::to_string(scan.entries.size()) + " files");
  return VersionOf(rel, scan);
}

Result<AddResult> AddOne(Workspace& ws, const std::string& rel, int jobs) {
  AddResult out;
  out.rel = rel;
  ASSIGN_OR_RETURN(out.pointer, StoreScanned(ws, rel, jobs, &out.hashed_files));
  // Objects first, durably; only then the pointer that names them.
  CrashPoint("add.after_objects");  // stored, not yet durable; no pointer
  RETURN_IF_ERROR(ws.cache().Sync());
  std::string pointer_path = ws.Abs(rel) + std::string(kPointerSuffix);
  std::string text = out.pointer.Serialize();
  auto old = ReadFile(pointer_path);
  out.changed = !old.ok() || *old != text;
  CrashPoint("add.before_pointer");
  if (out.changed) RETURN_IF_ERROR(WriteFileAtomic(pointer_path, text));
  CrashPoint("add.after_pointer");  // before .gitignore
  RETURN_IF_ERROR(ws.IgnoreInGit(rel));
  return out;
}

}  // namespace

Result<std::vector<AddResult>> Add(Workspace& ws, const std::vector<std::string>& rels, int jobs) {
  for (const auto& rel : rels) RETURN_IF_ERROR(CheckAddable(ws, rel));
  RETURN_IF_ERROR(CheckNotInGit(ws, rels));
  std::vector<AddResult> out;
  for (const auto& rel : rels) {
    ASSIGN_OR_RETURN(AddResult r, AddOne(ws, rel, jobs));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace forja

namespace forja {

Result<Pointer> StorePath(Workspace& ws, const std::string& rel, int jobs) {
  return StoreScanned(ws, rel, jobs, nullptr, /*find_temps=*/false);
}

Result<std::optional<Pointer>> HashPath(Workspace& ws, const std::string& rel, int jobs) {
  ASSIGN_OR_RETURN(StateDb * db, ws.state());
  ASSIGN_OR_RETURN(auto snap, db->Get(rel));
  std::optional<ScanResult> scanned;
  ASSIGN_OR_RETURN(scanned, ScanPath(ws, rel, snap, jobs, nullptr, false, /*find_temps=*/false));
  if (!scanned || !scanned->exists) return std::optional<Pointer>();
  ScanResult& scan = *scanned;
  if (scan.hashed_files > 0 || !snap) RETURN_IF_ERROR(SaveSnapshot(ws, rel, scan, jobs, /*same_mtime=*/true));
  return std::optional<Pointer>(VersionOf(rel, scan));
}

}  // namespace forja
