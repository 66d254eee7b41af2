// The run cache, .forja/cache/runs.db: every successful stage run, keyed by what
// determines its result (commands, dep hashes, param values, declared outs),
// mapped to the outs it produced. When a stage is about to run with a key seen
// before — on any branch, in any experiment of this workspace — its outs are
// restored from the object cache instead. It lives in the cache folder
// because it belongs with the objects it names: experiments, whose isolated
// workspaces link to the same cache, share it.
//
// SQLite in WAL mode: a row is committed per stage (no fsync; the outs it
// names are made durable with the lock at the end of the run), and concurrent
// experiments share the file safely.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "forja/core/sha256.h"
#include "forja/core/status.h"
#include "forja/data/lockfile.h"

struct sqlite3;
struct sqlite3_stmt;

namespace forja::pipeline {

class RunCache {
 public:
  static Result<std::unique_ptr<RunCache>> Open(const std::string& path);
  ~RunCache();

  // The stage entry recorded under `key`, if any.
  Result<std::optional<LockStage>> Get(const Oid& key);
  Status Put(const Oid& key, const LockStage& entry);

 private:
  explicit RunCache(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  sqlite3_stmt* get_ = nullptr;
  sqlite3_stmt* put_ = nullptr;
};

// The key of a stage run: its commands, each dep's (path, hash), each param's
// (source, key, value) and each declared out's path and flags.
Oid RunCacheKey(const LockStage& now, const std::vector<LockFile>& declared_outs);

}  // namespace forja::pipeline
