// forja checkout: make the workspace match the pointer files.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>

#include "forja/cas/manifest.h"
#include "forja/core/crash_point.h"
#include "forja/core/fs.h"
#include "forja/core/path.h"
#include "forja/core/parallel.h"
#include "forja/core/progress.h"
#include "forja/data/data.h"
#include "forja/data/scan.h"

namespace forja {

namespace {

// The pointer's version of a tracked path, as manifest entries ("" for a file).
Result<std::vector<ManifestEntry>> WantedEntries(Workspace& ws, const Tracked& t) {
  if (!t.pointer.is_dir) return std::vector<ManifestEntry>{{"", t.pointer.oid, t.pointer.size, 0644}};
  auto text = ws.cache().Read(t.pointer.oid);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound)
      return Status::User(t.rel + " is not in the cache; run forja pull " + t.rel);
    return text.status();
  }
  return ParseManifest(*text, ObjectKey(t.pointer.oid));
}

std::string Describe(const std::string& rel, const std::string& inner) {
  return inner.empty() ? rel : rel + "/" + inner;
}

// The scan and every write below must not pass through a symlink: a repository
// may commit `d -> /elsewhere` beside d.forja. A parent that is a symlink is
// refused (OpenDirNoFollow says which); so is a symlink at the tracked path,
// except one to a regular file where a file belongs: rename() replaces the link
// itself, and the scan only reads its target.
Status RefuseSymlinks(Workspace& ws, const Tracked& t) {
  auto parent = OpenDirNoFollow(ws.root(), Dirname(t.rel), /*create=*/false);
  if (!parent.ok()) return parent.status().code() == Code::kNotFound ? Status::Ok() : parent.status();
  std::string base = Basename(t.rel);
  struct stat st, target;
  if (::fstatat(parent->get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(st.st_mode))
    return Status::Ok();
  if (!t.pointer.is_dir && ::fstatat(parent->get(), base.c_str(), &target, 0) == 0 && S_ISREG(target.st_mode))
    return Status::Ok();
  return Status::User(t.rel + " is a symlink; forja never writes through a symlink (remove it, then run the "
                      "command again)");
}

// The folder holding repository path `rel`, opened without following symlinks.
Result<Fd> ParentDir(Workspace& ws, const std::string& rel, bool create) {
  return OpenDirNoFollow(ws.root(), Dirname(rel), create);
}

Status RemoveInWorkspace(Workspace& ws, const std::string& rel, bool tree) {
  auto dir = ParentDir(ws, rel, /*create=*/false);
  if (!dir.ok()) return dir.status().code() == Code::kNotFound ? Status::Ok() : dir.status();
  return tree ? RemoveTreeAt(dir->get(), Basename(rel), rel) : RemoveFileAt(dir->get(), Basename(rel), rel);
}

Result<CheckoutResult> CheckoutOne(Workspace& ws, const Tracked& t, bool force, int jobs) {
  CheckoutResult out;
  out.rel = t.rel;
  Cache& cache = ws.cache();
  // t.rel was checked where it was read (pointer location, forja.lock); checked
  // again here because RestorePath takes any path.
  RETURN_IF_ERROR(CheckUntrustedPath(t.rel));
  ASSIGN_OR_RETURN(auto want, WantedEntries(ws, t));

  // Everything the pointer names must be cached before anything is touched.
  std::atomic<size_t> missing{0};
  std::string example;
  RETURN_IF_ERROR(ParallelFor(want.size(), jobs, [&](size_t i) {
    if (!cache.Has(want[i].oid) && missing.fetch_add(1) == 0) example = want[i].path;
    return Status::Ok();
  }));
  if (missing > 0)
    return Status::User(t.rel + ": " + std::to_string(missing.load()) + " of " +
                        std::to_string(want.size()) + " files are not in the cache (e.g. " +
                        Describe(t.rel, example) + "); run forja pull " + t.rel);

  RETURN_IF_ERROR(RefuseSymlinks(ws, t));
  ASSIGN_OR_RETURN(StateDb * db, ws.state());
  ASSIGN_OR_RETURN(auto snap, db->Get(t.rel));
  std::optional<ScanResult> scanned;
  {
    Progress progress("checking " + t.rel, 0);
    ASSIGN_OR_RETURN(scanned, ScanPath(ws, t.rel, snap, jobs, &progress));
  }
  ScanResult& have = *scanned;
  std::string abs = ws.Abs(t.rel);

  // Plan: what to write, what to remove, and what would be lost.
  std::vector<size_t> write;          // indexes into want
  std::vector<std::string> remove;    // paths relative to the tracked path
  std::vector<std::string> unstored;  // changes forja has no copy of
  bool kind_changes = have.exists && have.is_dir != t.pointer.is_dir;
  if (kind_changes) {
    for (const auto& e : have.entries)
      if (!cache.Has(e.oid)) unstored.push_back(e.path);
  }
  if (!kind_changes) {
    size_t i = 0, j = 0;
    const auto& cur = have.entries;
    while (i < want.size() || j < cur.size()) {
      if (j == cur.size() || (i < want.size() && want[i].path < cur[j].path)) {
        write.push_back(i++);
      } else if (i == want.size() || cur[j].path < want[i].path) {
        if (!cache.Has(cur[j].oid)) unstored.push_back(cur[j].path);
        remove.push_back(cur[j++].path);
      } else {
        if (want[i].oid != cur[j].oid) {
          if (!cache.Has(cur[j].oid)) unstored.push_back(cur[j].path);
          write.push_back(i);
        }
        i++;
        j++;
      }
    }
  } else {
    for (size_t i = 0; i < want.size(); i++) write.push_back(i);
  }
  if (!unstored.empty() && !force)
    return Status::Conflict("checkout would overwrite " + Describe(t.rel, unstored[0]) +
                            (unstored.size() > 1 ? " and " + std::to_string(unstored.size() - 1) + " more" : "") +
                            ", a change forja has not stored; forja add it first, or rerun with --force");

  RETURN_IF_ERROR(cache.ChooseLinkType(Dirname(abs)));
  RETURN_IF_ERROR(RemoveStaleTemps(ws, have));
  // Every file is created, replaced or deleted through its folder opened with
  // OpenDirNoFollow, so a symlink appearing on the way is refused, not followed.
  if (kind_changes) RETURN_IF_ERROR(RemoveInWorkspace(ws, t.rel, /*tree=*/true));
  for (const auto& r : remove) RETURN_IF_ERROR(RemoveInWorkspace(ws, t.rel + "/" + r, /*tree=*/false));
  CrashPoint("checkout.after_removals");  // stale files gone, none written
  auto rel_of = [&](const ManifestEntry& e) { return t.pointer.is_dir ? t.rel + "/" + e.path : t.rel; };
  // Create folders once, serially, then fill them in parallel.
  std::set<std::string> dirs;
  for (size_t i : write) dirs.insert(Dirname(rel_of(want[i])));
  // A few folders (the usual case) stay open for the writes below: two opens per file
  // less, and every write still lands in the folder opened without following symlinks.
  // Many folders are reopened per file instead, to stay far from the fd limit.
  constexpr size_t kMaxOpenDirs = 64;
  std::map<std::string, Fd> open_dirs;
  for (const auto& d : dirs) {
    ASSIGN_OR_RETURN(Fd fd, OpenDirNoFollow(ws.root(), d, /*create=*/true));
    if (dirs.size() <= kMaxOpenDirs) open_dirs.emplace(d, std::move(fd));
  }
  {
    Progress progress("checkout " + t.rel, write.size());
    RETURN_IF_ERROR(ParallelFor(write.size(), jobs, [&](size_t k) {
      const ManifestEntry& e = want[write[k]];
      std::string rel = rel_of(e), name = Basename(rel);
      Fd reopened;
      auto cached = open_dirs.find(Dirname(rel));  // read-only here: safe across threads
      if (cached == open_dirs.end()) {
        ASSIGN_OR_RETURN(reopened, ParentDir(ws, rel, /*create=*/false));
      }
      const Fd& dir = cached != open_dirs.end() ? cached->second : reopened;
      struct stat st;
      // A folder where a file belongs (or the reverse) is replaced whole.
      if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
        RETURN_IF_ERROR(RemoveTreeAt(dir.get(), name, rel));
      Status s = cache.CheckoutAt(e.oid, dir.get(), name, e.mode, rel);
      if (s.ok()) CrashPoint("checkout.file");  // checkout.file:N: mid replacement
      progress.Add(1, e.size);
      return s;
    }));
  }
  // Remove folders that the removals emptied, deepest first.
  if (t.pointer.is_dir && !remove.empty()) {
    std::set<std::string> parents;
    for (const auto& r : remove)
      for (std::string d = Dirname(r); d != "."; d = Dirname(d)) parents.insert(d);
    std::vector<std::string> order(parents.begin(), parents.end());
    std::sort(order.begin(), order.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    for (const auto& d : order) {
      std::string rel = t.rel + "/" + d;
      auto dir = ParentDir(ws, rel, /*create=*/false);
      if (dir.ok()) ::unlinkat(dir->get(), Basename(rel).c_str(), AT_REMOVEDIR);  // fails if not empty: fine
    }
  }
  out.written = write.size();
  out.removed = remove.size() + (kind_changes ? have.entries.size() : 0);

  // Remember the new state so the next status reads nothing.
  ScanResult now;
  now.exists = true;
  now.is_dir = t.pointer.is_dir;
  now.oid = t.pointer.oid;
  for (const auto& e : want) {
    StampedFile f;
    f.path = e.path;
    f.oid = e.oid;
    f.stat.size = e.size;
    now.stamps.push_back(std::move(f));
  }
  CrashPoint("checkout.before_snapshot");  // files written, state.db still old
  RETURN_IF_ERROR(SaveSnapshot(ws, t.rel, now, jobs, /*same_mtime=*/false));
  return out;
}

}  // namespace

Result<std::vector<CheckoutResult>> Checkout(Workspace& ws, const std::vector<std::string>& rels,
                                             bool force, int jobs) {
  ASSIGN_OR_RETURN(auto tracked, ws.FindTracked(rels));
  std::vector<CheckoutResult> out;
  for (const auto& t : tracked) {
    ASSIGN_OR_RETURN(CheckoutResult r, CheckoutOne(ws, t, force, jobs));
    out.push_back(std::move(r));
  }
  return out;
}

Result<CheckoutResult> RestorePath(Workspace& ws, const std::string& rel, const Pointer& version, bool force,
                                   int jobs) {
  Tracked t;
  t.rel = rel;
  t.pointer = version;
  return CheckoutOne(ws, t, force, jobs);
}

}  // namespace forja
