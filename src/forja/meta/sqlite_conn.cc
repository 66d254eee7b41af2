// SqlConn over SQLite: WAL, prepared statements cached by their text.
#include <sqlite3.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <unordered_map>

#include "forja/meta/sql.h"

namespace forja::meta {

namespace {

class SqliteConn : public SqlConn {
 public:
  explicit SqliteConn(sqlite3* db) : db_(db) {}
  ~SqliteConn() override {
    for (auto& [sql, st] : cache_) sqlite3_finalize(st);
    sqlite3_close(db_);
  }

  Dialect dialect() const override { return Dialect::kSqlite; }

  Status Exec(const std::string& sql) override {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) == SQLITE_OK) return Status::Ok();
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return Failed(msg);
  }

  Result<SqlRows> Query(const std::string& sql, const std::vector<SqlValue>& args) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * st, Prepare(sql, args));
    SqlRows rows;
    int rc;
    int cols = sqlite3_column_count(st);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      SqlRow row(cols);
      for (int c = 0; c < cols; c++) row[c] = Column(st, c);
      rows.push_back(std::move(row));
    }
    Status failed;
    if (rc != SQLITE_DONE) failed = Failed(sqlite3_errmsg(db_));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (!failed.ok()) return failed;
    return rows;
  }

  Status QueryEach(const std::string& sql, const std::vector<SqlValue>& args,
                   const std::function<void(const SqlCells&)>& row) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * st, Prepare(sql, args));
    StmtCells cells(st);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) row(cells);
    Status failed;
    if (rc != SQLITE_DONE) failed = Failed(sqlite3_errmsg(db_));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return failed;
  }

  Status Begin(bool write) override { return Exec(write ? "BEGIN IMMEDIATE" : "BEGIN"); }
  Status Commit() override { return Exec("COMMIT"); }
  void Rollback() override {
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Status LockKey(std::string_view) override { return Status::Ok(); }

 private:
  static void Bind(sqlite3_stmt* st, int i, const SqlValue& v) {
    switch (v.type()) {
      case SqlValue::Type::kNull: sqlite3_bind_null(st, i); break;
      case SqlValue::Type::kInt: sqlite3_bind_int64(st, i, v.Int()); break;
      case SqlValue::Type::kReal: sqlite3_bind_double(st, i, v.Real()); break;
      case SqlValue::Type::kText:
        sqlite3_bind_text(st, i, v.Text().data(), static_cast<int>(v.Text().size()), SQLITE_STATIC);
        break;
    }
  }

  // The cached statement for `sql` (prepared on first use), bound to `args`.
  Result<sqlite3_stmt*> Prepare(const std::string& sql, const std::vector<SqlValue>& args) {
    failure_ = SqlFailure::kNone;
    sqlite3_stmt* st = nullptr;
    auto it = cache_.find(sql);
    if (it != cache_.end()) {
      st = it->second;
    } else {
      if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &st,
                             nullptr) != SQLITE_OK)
        return Failed(std::string(sqlite3_errmsg(db_)) + " in: " + sql);
      cache_.emplace(sql, st);
    }
    for (size_t i = 0; i < args.size(); i++) Bind(st, static_cast<int>(i + 1), args[i]);
    return st;
  }

  // SQLite's own conversions, as SqlValue's: NULL is 0, text is read as a number.
  class StmtCells : public SqlCells {
   public:
    explicit StmtCells(sqlite3_stmt* st) : st_(st) {}
    int64_t Int(int col) const override { return sqlite3_column_int64(st_, col); }
    double Real(int col) const override { return sqlite3_column_double(st_, col); }

   private:
    sqlite3_stmt* st_;
  };

  static SqlValue Column(sqlite3_stmt* st, int c) {
    switch (sqlite3_column_type(st, c)) {
      case SQLITE_INTEGER: return SqlValue(static_cast<int64_t>(sqlite3_column_int64(st, c)));
      case SQLITE_FLOAT: return SqlValue(sqlite3_column_double(st, c));
      case SQLITE_NULL: return SqlValue();
      default: {
        const char* p = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
        return SqlValue(std::string_view(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(st, c))));
      }
    }
  }

  Status Failed(const std::string& msg) {
    int code = sqlite3_extended_errcode(db_);
    if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY) {
      failure_ = SqlFailure::kUnique;
      return Status::Exists("sqlite: " + msg);
    }
    if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED) {
      failure_ = SqlFailure::kRetry;
      return Status::Conflict("sqlite: the database is busy (" + msg + ")");
    }
    failure_ = SqlFailure::kOther;
    std::string m = "sqlite: " + msg;
    if (int e = sqlite3_system_errno(db_)) m += " (" + std::string(std::strerror(e)) + ")";
    return Status::Io(m);
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace

Result<std::unique_ptr<SqlConn>> OpenSqlite(const std::string& path, const SqliteOptions& opts) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::Io("cannot open the store " + path + ": " + msg);
  }
  auto conn = std::make_unique<SqliteConn>(db);
  sqlite3_busy_timeout(db, opts.busy_timeout_ms);
  // MLflow's LIKE is case-sensitive (ILIKE is not); SQLite's is not by default.
  std::string pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=" + opts.synchronous +
                        "; PRAGMA case_sensitive_like=ON; PRAGMA foreign_keys=OFF;";
  // Switching a new database to WAL takes an exclusive lock for which SQLite does not
  // call the busy handler, so processes opening a new store at once get SQLITE_BUSY:
  // retry, within the busy timeout.
  Status st = conn->Exec(pragmas);
  for (int waited_ms = 0; st.code() == Code::kConflict && waited_ms < opts.busy_timeout_ms; waited_ms += 5) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    st = conn->Exec(pragmas);
  }
  if (!st.ok()) return Status::Io("cannot open the store " + path + ": " + st.message());
  return std::unique_ptr<SqlConn>(std::move(conn));
}

}  // namespace forja::meta
