// forja status: compare each tracked path with its pointer file.
#include <map>

#include "forja/cas/manifest.h"
#include "forja/core/parallel.h"
#include "forja/data/data.h"
#include "forja/data/scan.h"

namespace forja {

const char* PathStateName(PathState s) {
  switch (s) {
    case PathState::kUnchanged: return "unchanged";
    case PathState::kModified: return "modified";
    case PathState::kDeleted: return "deleted";
    case PathState::kNotInCache: return "not in cache";
    case PathState::kNotFetched: return "not fetched";
  }
  return "?";
}

namespace {

// Whether the cache holds every object of `entries`.
bool CacheHasAll(Cache& cache, const std::vector<ManifestEntry>& entries, int jobs) {
  std::atomic<bool> all{true};
  Status ignored = ParallelFor(entries.size(), jobs, [&](size_t i) {
    if (!cache.Has(entries[i].oid)) {
      all = false;
      return Status::Conflict("missing");  // stops the other workers early
    }
    return Status::Ok();
  });
  return all;
}

// Lists which files of a folder differ between `want` (the pointer's) and `have`.
void DiffEntries(const std::vector<ManifestEntry>& want, const std::vector<ManifestEntry>& have,
                 PathStatus* out) {
  size_t i = 0, j = 0;
  while (i < want.size() || j < have.size()) {
    if (j == have.size() || (i < want.size() && want[i].path < have[j].path)) {
      out->deleted.push_back(want[i++].path);
    } else if (i == want.size() || have[j].path < want[i].path) {
      out->added.push_back(have[j++].path);
    } else {
      if (want[i].oid != have[j].oid) out->modified.push_back(want[i].path);
      i++;
      j++;
    }
  }
}

Result<PathStatus> StatusOf(Workspace& ws, const Tracked& t, int jobs) {
  PathStatus st;
  st.rel = t.rel;
  st.is_dir = t.pointer.is_dir;
  Cache& cache = ws.cache();
  ASSIGN_OR_RETURN(StateDb * db, ws.state());
  ASSIGN_OR_RETURN(auto snap, db->Get(t.rel));

  // Fast path: every file's stat matches the snapshot, so nothing is read.
  if (snap && snap->oid == t.pointer.oid) {
    ASSIGN_OR_RETURN(auto cheap, ScanPath(ws, t.rel, snap, jobs, nullptr, /*cheap_only=*/true));
    if (cheap && cheap->exists && cheap->oid == t.pointer.oid) {
      // A file hardlinked into the cache proves its object is there (removing the
      // object would have changed the file's ctime); any other file is checked.
      std::vector<ManifestEntry> unproven;
      for (size_t i = 0; i < cheap->entries.size(); i++)
        if (cheap->stamps[i].stat.nlink < 2) unproven.push_back(cheap->entries[i]);
      if (!cache.Has(t.pointer.oid) || !CacheHasAll(cache, unproven, jobs))
        st.state = PathState::kNotInCache;
      return st;
    }
  }

  std::optional<ScanResult> scanned;
  {
    Progress progress("checking " + t.rel, 0);
    ASSIGN_OR_RETURN(scanned, ScanPath(ws, t.rel, snap, jobs, &progress));
  }
  ScanResult& scan = *scanned;
  if (scan.exists && scan.hashed_files > 0)
    RETURN_IF_ERROR(SaveSnapshot(ws, t.rel, scan, jobs, /*same_mtime=*/true));

  std::optional<std::vector<ManifestEntry>> want;
  if (!t.pointer.is_dir) {
    want = std::vector<ManifestEntry>{{"", t.pointer.oid, t.pointer.size, 0644}};
  } else if (auto text = cache.Read(t.pointer.oid); text.ok()) {
    auto parsed = ParseManifest(*text, ObjectKey(t.pointer.oid));
    if (parsed.ok()) want = std::move(*parsed);
  }
  bool in_cache = want && CacheHasAll(cache, *want, jobs);

  if (!scan.exists) {
    st.state = in_cache ? PathState::kDeleted : PathState::kNotInCache;
  } else if (scan.oid == t.pointer.oid && scan.is_dir == t.pointer.is_dir) {
    st.state = in_cache ? PathState::kUnchanged : PathState::kNotInCache;
  } else {
    st.state = PathState::kModified;
    if (want && scan.is_dir && t.pointer.is_dir) DiffEntries(*want, scan.entries, &st);
  }
  return st;
}

}  // namespace

Result<std::vector<PathStatus>> GetStatus(Workspace& ws, const std::vector<std::string>& rels,
                                          int jobs) {
  ASSIGN_OR_RETURN(auto tracked, ws.FindTracked(rels, /*allow_unfetched=*/true));
  std::vector<PathStatus> out;
  for (const auto& t : tracked) {
    if (!t.pointer.has_oid) {  // nothing to compare with until pull records its hash
      out.push_back(PathStatus{t.rel, t.pointer.is_dir, PathState::kNotFetched, {}, {}, {}});
      continue;
    }
    ASSIGN_OR_RETURN(PathStatus s, StatusOf(ws, t, jobs));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace forja
