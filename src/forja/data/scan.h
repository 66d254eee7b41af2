// Reading the workspace state of one tracked path: every file's hash, taken from
// the stat snapshot when the file is untouched and computed otherwise.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "forja/cas/manifest.h"
#include "forja/cas/state_db.h"
#include "forja/core/progress.h"
#include "forja/data/workspace.h"

namespace forja {

struct ScanResult {
  bool exists = false;
  bool is_dir = false;
  std::vector<ManifestEntry> entries;  // sorted; one entry with path "" for a file
  std::vector<StampedFile> stamps;     // parallel to entries
  uint64_t hashed_files = 0;           // how many had to be read
  uint64_t bytes = 0;
  Oid oid;                    // the file's hash, or the hash of the folder's manifest
  std::string manifest_text;  // a folder's manifest
  // forja temp files a killed command left (paths relative to the repository root).
  std::vector<std::string> stale_temps;
};

// Scans `rel`. Files whose stamp `snap` trusts are not read. With `cheap_only`,
// stops early (returning nullopt) as soon as any file would need hashing — status
// uses this to answer "unchanged" from stat alone. Without `find_temps`, a
// file's folder is not searched for the temp files a killed command left
// beside it (the pipeline checks 1,000 outs of one folder).
Result<std::optional<ScanResult>> ScanPath(Workspace& ws, const std::string& rel,
                                           const std::optional<Snapshot>& snap, int jobs,
                                           Progress* progress, bool cheap_only = false,
                                           bool find_temps = true);

// Re-reads the stamps of a scan's files (after add or checkout changed inodes) and
// stores them as the path's snapshot. A file whose size (or, with `same_mtime`,
// mtime) moved since the scan is left out, so the next scan hashes it again.
Status SaveSnapshot(Workspace& ws, const std::string& rel, const ScanResult& scan, int jobs,
                    bool same_mtime);

// Removes the temp files a killed command left (writing commands hold the lock,
// so no live process owns them).
Status RemoveStaleTemps(Workspace& ws, const ScanResult& scan);

// Hashes one file, failing if it changes while being read.
Result<Oid> HashFileStable(const std::string& path, FileStat* stat_out, Progress* progress);

int64_t WallClockNs();

}  // namespace forja
