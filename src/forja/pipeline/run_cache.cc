#include "forja/pipeline/run_cache.h"

#include <sqlite3.h>

#include <chrono>
#include <ctime>
#include <thread>

namespace forja::pipeline {

namespace {

Status SqlError(sqlite3* db, const std::string& what) {
  return Status::Io("run cache: " + what + ": " + sqlite3_errmsg(db));
}

}  // namespace

Result<std::unique_ptr<RunCache>> RunCache::Open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    Status st = Status::Io("cannot open " + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_close(db);
    return st;
  }
  std::unique_ptr<RunCache> rc(new RunCache(db));
  const int kBusyMs = 30000;
  sqlite3_busy_timeout(db, kBusyMs);
  // Switching a new database to WAL takes an exclusive lock for which SQLite does not call
  // the busy handler: two forja runs sharing a cache (a sweep's experiments, on one node or
  // several) that open it at once get SQLITE_BUSY. Retry within the busy timeout.
  int setup = SQLITE_BUSY;
  std::string msg;
  for (int waited_ms = 0; setup == SQLITE_BUSY && waited_ms <= kBusyMs; waited_ms += 5) {
    if (waited_ms) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    char* err = nullptr;
    setup = sqlite3_exec(db,
                      "PRAGMA journal_mode=WAL;"
                      "PRAGMA synchronous=NORMAL;"
                      "CREATE TABLE IF NOT EXISTS runs(key BLOB PRIMARY KEY, stage TEXT NOT NULL,"
                      " entry TEXT NOT NULL, created INTEGER NOT NULL) WITHOUT ROWID;",
                      nullptr, nullptr, &err);
    msg = err ? err : "unknown error";
    sqlite3_free(err);
  }
  if (setup != SQLITE_OK) return Status::Io("cannot set up " + path + ": " + msg);
  if (sqlite3_prepare_v2(db, "SELECT entry FROM runs WHERE key = ?", -1, &rc->get_, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO runs(key, stage, entry, created) VALUES (?, ?, ?, ?)", -1,
                         &rc->put_, nullptr) != SQLITE_OK)
    return SqlError(db, "prepare");
  return rc;
}

RunCache::~RunCache() {
  sqlite3_finalize(get_);
  sqlite3_finalize(put_);
  sqlite3_close(db_);
}

Result<std::optional<LockStage>> RunCache::Get(const Oid& key) {
  sqlite3_reset(get_);
  sqlite3_bind_blob(get_, 1, key.bytes.data(), static_cast<int>(key.bytes.size()), SQLITE_STATIC);
  int rc = sqlite3_step(get_);
  if (rc == SQLITE_DONE) return std::optional<LockStage>();
  if (rc != SQLITE_ROW) return SqlError(db_, "lookup");
  std::string text(reinterpret_cast<const char*>(sqlite3_column_text(get_, 0)), sqlite3_column_bytes(get_, 0));
  sqlite3_reset(get_);
  auto lock = ParseLock(text, "run cache entry");
  // A damaged entry is a miss, not an error: the stage simply runs.
  if (!lock.ok() || lock->stages.size() != 1) return std::optional<LockStage>();
  return std::optional<LockStage>(std::move(lock->stages[0]));
}

Status RunCache::Put(const Oid& key, const LockStage& entry) {
  Lock one;
  one.stages.push_back(entry);
  std::string text = SerializeLock(one);
  sqlite3_reset(put_);
  sqlite3_bind_blob(put_, 1, key.bytes.data(), static_cast<int>(key.bytes.size()), SQLITE_STATIC);
  sqlite3_bind_text(put_, 2, entry.name.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(put_, 3, text.c_str(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(put_, 4, static_cast<int64_t>(::time(nullptr)));
  int rc = sqlite3_step(put_);
  sqlite3_reset(put_);
  if (rc != SQLITE_DONE) return SqlError(db_, "record");
  return Status::Ok();
}

Oid RunCacheKey(const LockStage& now, const std::vector<LockFile>& declared_outs) {
  // A length-prefixed record of every input, so no two inputs share a text.
  std::string text = "forja-run-cache-1\n";
  auto field = [&](std::string_view s) {
    text += std::to_string(s.size());
    text += ':';
    text += s;
    text += '\n';
  };
  for (const auto& c : now.cmd) field(c);
  for (const auto& d : now.deps) {
    field("dep");
    field(d.path);
    field(d.oid.Hex());
  }
  for (const auto& p : now.params)
    for (const auto& v : p.values) {
      field("param");
      field(p.source);
      field(v.key);
      field(v.value_json);
    }
  for (const auto& o : declared_outs) {
    field("out");
    field(o.path);
    field(o.cache ? "cache" : "no-cache");
  }
  return Sha256::Of(text);
}

}  // namespace forja::pipeline
