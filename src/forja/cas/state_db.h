// .forja/state.db: what forja knows of the workspace's files so that unchanged
// files are never hashed twice. For each tracked path it keeps one snapshot: every
// file's (inode, size, mtime_ns, ctime_ns) as they were when its hash was known.
// A file whose stamp still matches has that hash; any difference means rehash.
// One row per tracked path (a packed blob) so a status of 100,000 files reads one row.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "forja/core/fs.h"
#include "forja/core/sha256.h"
#include "forja/core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace forja {

struct StampedFile {
  std::string path;  // relative to the tracked path; "" when the tracked path is a file
  FileStat stat;     // ino, size, mtime_ns, ctime_ns (mode unused)
  Oid oid;
};

struct Snapshot {
  Oid oid;                         // the tracked path's oid (file, or dir manifest) when taken
  int64_t taken_ns = 0;            // wall clock when the stamps were read
  std::vector<StampedFile> files;  // sorted by path

  // The entry for `path`, or null.
  const StampedFile* Find(const std::string& path) const;

  // Whether `now` (a fresh lstat) proves the file still has `f.oid`. A file modified
  // within the clock tick before the snapshot was taken ("racy", as git calls it)
  // could change again without its mtime moving, so it is never trusted.
  bool Trusts(const StampedFile& f, const FileStat& now) const {
    constexpr int64_t kRacyWindowNs = 100'000'000;
    return f.stat.SameContentStamp(now) && taken_ns - now.mtime_ns > kRacyWindowNs;
  }
};

class StateDb {
 public:
  static Result<std::unique_ptr<StateDb>> Open(const std::string& path);
  ~StateDb();

  Result<std::optional<Snapshot>> Get(const std::string& tracked_path);
  Status Put(const std::string& tracked_path, const Snapshot& snap);
  Status Remove(const std::string& tracked_path);

  // Groups the writes that follow into one transaction until CommitBatch (a pipeline
  // stores an out per stage: one commit each would cost more than the stage). A
  // snapshot lost with an uncommitted batch only means one more hash.
  Status BeginBatch();
  Status CommitBatch();

 private:
  explicit StateDb(sqlite3* db) : db_(db) {}
  Status Prepared(sqlite3_stmt** st, const char* sql);

  sqlite3* db_;
  sqlite3_stmt* get_ = nullptr;
  sqlite3_stmt* put_ = nullptr;
  bool in_batch_ = false;
};

}  // namespace forja
