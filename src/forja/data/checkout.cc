// forja checkout: make the workspace match the pointer files.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "forja/cas/manifest.h"
#include "forja/core/fs.h"
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

Result<CheckoutResult> CheckoutOne(Workspace& ws, const Tracked& t, bool force, int jobs) {
  CheckoutResult out;
  out.rel = t.rel;
  Cache& cache = ws.cache();
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
  if (kind_changes) RETURN_IF_ERROR(RemoveTree(abs));
  for (const auto& r : remove) RETURN_IF_ERROR(RemoveFile(abs + "/" + r));
  // Create folders once, serially, then fill them in parallel.
  std::set<std::string> dirs;
  for (size_t i : write)
    dirs.insert(Dirname(t.pointer.is_dir ? abs + "/" + want[i].path : abs));
  for (const auto& d : dirs) RETURN_IF_ERROR(MakeDirs(d));
  {
    Progress progress("checkout " + t.rel, write.size());
    RETURN_IF_ERROR(ParallelFor(write.size(), jobs, [&](size_t k) {
      const ManifestEntry& e = want[write[k]];
      std::string path = t.pointer.is_dir ? abs + "/" + e.path : abs;
      struct stat st;
      // A folder where a file belongs (or the reverse) is replaced whole.
      if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) RETURN_IF_ERROR(RemoveTree(path));
      Status s = cache.Checkout(e.oid, path, e.mode);
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
    for (const auto& d : order) ::rmdir((abs + "/" + d).c_str());  // fails if not empty: fine
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
