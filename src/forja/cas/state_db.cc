#include "forja/cas/state_db.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>

namespace forja {

namespace {

Status SqlError(sqlite3* db, const std::string& what) {
  std::string msg = sqlite3_errmsg(db);
  // "disk I/O error" alone does not tell a full disk from a broken one.
  if (int err = sqlite3_system_errno(db)) msg += " (" + std::string(std::strerror(err)) + ")";
  return Status::Io("state.db: " + what + ": " + msg);
}

// RAII for a prepared statement.
struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

void PutU64(std::string* out, uint64_t v) { out->append(reinterpret_cast<const char*>(&v), 8); }

bool GetU64(const char*& p, const char* end, uint64_t* v) {
  if (end - p < 8) return false;
  std::memcpy(v, p, 8);
  p += 8;
  return true;
}

std::string Encode(const Snapshot& snap) {
  std::string out;
  out.reserve(40 + snap.files.size() * 80);
  out.append(reinterpret_cast<const char*>(snap.oid.bytes.data()), 32);
  PutU64(&out, static_cast<uint64_t>(snap.taken_ns));
  PutU64(&out, snap.files.size());
  for (const auto& f : snap.files) {
    PutU64(&out, f.path.size());
    out += f.path;
    PutU64(&out, f.stat.ino);
    PutU64(&out, f.stat.size);
    PutU64(&out, static_cast<uint64_t>(f.stat.mtime_ns));
    PutU64(&out, static_cast<uint64_t>(f.stat.ctime_ns));
    out.append(reinterpret_cast<const char*>(f.oid.bytes.data()), 32);
  }
  return out;
}

// A snapshot that does not decode is treated as absent: it is only a cache.
std::optional<Snapshot> Decode(const char* p, size_t n) {
  const char* end = p + n;
  Snapshot snap;
  uint64_t count, taken;
  if (n < 48) return std::nullopt;
  std::memcpy(snap.oid.bytes.data(), p, 32);
  p += 32;
  if (!GetU64(p, end, &taken) || !GetU64(p, end, &count) || count > n) return std::nullopt;
  snap.taken_ns = static_cast<int64_t>(taken);
  snap.files.resize(count);
  for (auto& f : snap.files) {
    uint64_t len, mt, ct;
    if (!GetU64(p, end, &len) || static_cast<uint64_t>(end - p) < len) return std::nullopt;
    f.path.assign(p, len);
    p += len;
    if (!GetU64(p, end, &f.stat.ino) || !GetU64(p, end, &f.stat.size) || !GetU64(p, end, &mt) ||
        !GetU64(p, end, &ct) || end - p < 32)
      return std::nullopt;
    f.stat.mtime_ns = static_cast<int64_t>(mt);
    f.stat.ctime_ns = static_cast<int64_t>(ct);
    std::memcpy(f.oid.bytes.data(), p, 32);
    p += 32;
  }
  return snap;
}

}  // namespace

const StampedFile* Snapshot::Find(const std::string& path) const {
  auto it = std::lower_bound(files.begin(), files.end(), path,
                             [](const StampedFile& f, const std::string& p) { return f.path < p; });
  if (it == files.end() || it->path != path) return nullptr;
  return &*it;
}

Result<std::unique_ptr<StateDb>> StateDb::Open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    Status st = Status::Io("cannot open " + path + ": " + (db ? sqlite3_errmsg(db) : "?"));
    sqlite3_close(db);
    return st;
  }
  std::unique_ptr<StateDb> out(new StateDb(db));
  sqlite3_busy_timeout(db, 10000);
  const char* schema =
      "PRAGMA journal_mode=WAL;"
      "PRAGMA synchronous=NORMAL;"
      "CREATE TABLE IF NOT EXISTS snapshots(path TEXT PRIMARY KEY, data BLOB NOT NULL);";
  char* err = nullptr;
  if (sqlite3_exec(db, schema, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "?";
    sqlite3_free(err);
    if (int e = sqlite3_system_errno(db)) msg += " (" + std::string(std::strerror(e)) + ")";
    return Status::Io("cannot initialize " + path + ": " + msg);
  }
  return out;
}

StateDb::~StateDb() {
  if (in_batch_) (void)CommitBatch();
  sqlite3_finalize(get_);
  sqlite3_finalize(put_);
  sqlite3_close(db_);
}

Status StateDb::Prepared(sqlite3_stmt** st, const char* sql) {
  if (*st) {
    sqlite3_reset(*st);
    sqlite3_clear_bindings(*st);
    return Status::Ok();
  }
  if (sqlite3_prepare_v2(db_, sql, -1, st, nullptr) != SQLITE_OK) return SqlError(db_, "prepare");
  return Status::Ok();
}

Result<std::optional<Snapshot>> StateDb::Get(const std::string& tracked) {
  RETURN_IF_ERROR(Prepared(&get_, "SELECT data FROM snapshots WHERE path = ?"));
  sqlite3_bind_text(get_, 1, tracked.data(), static_cast<int>(tracked.size()), SQLITE_STATIC);
  int rc = sqlite3_step(get_);
  std::optional<Snapshot> out;
  if (rc == SQLITE_ROW) {
    const char* p = static_cast<const char*>(sqlite3_column_blob(get_, 0));
    out = Decode(p, static_cast<size_t>(sqlite3_column_bytes(get_, 0)));
  } else if (rc != SQLITE_DONE) {
    return SqlError(db_, "read");
  }
  sqlite3_reset(get_);  // ends the read so a writer is not held up
  return out;
}

Status StateDb::Put(const std::string& tracked, const Snapshot& snap) {
  std::string blob = Encode(snap);
  RETURN_IF_ERROR(Prepared(&put_, "INSERT OR REPLACE INTO snapshots(path, data) VALUES(?, ?)"));
  sqlite3_bind_text(put_, 1, tracked.data(), static_cast<int>(tracked.size()), SQLITE_STATIC);
  sqlite3_bind_blob(put_, 2, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
  int rc = sqlite3_step(put_);
  sqlite3_reset(put_);
  if (rc != SQLITE_DONE) return SqlError(db_, "write");
  return Status::Ok();
}

Status StateDb::BeginBatch() {
  if (in_batch_) return Status::Ok();
  if (sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) return SqlError(db_, "begin");
  in_batch_ = true;
  return Status::Ok();
}

Status StateDb::CommitBatch() {
  if (!in_batch_) return Status::Ok();
  in_batch_ = false;
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    Status st = SqlError(db_, "commit");
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return st;
  }
  return Status::Ok();
}

Status StateDb::Remove(const std::string& tracked) {
  Stmt st;
  if (sqlite3_prepare_v2(db_, "DELETE FROM snapshots WHERE path = ?", -1, &st.s, nullptr) !=
      SQLITE_OK)
    return SqlError(db_, "prepare");
  sqlite3_bind_text(st.s, 1, tracked.data(), static_cast<int>(tracked.size()), SQLITE_STATIC);
  if (sqlite3_step(st.s) != SQLITE_DONE) return SqlError(db_, "delete");
  return Status::Ok();
}

}  // namespace forja
