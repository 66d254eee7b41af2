// The little SQL the metadata store needs, over SQLite and PostgreSQL alike.
// Statements are written once with '?' placeholders in the SQL both databases
// accept (ON CONFLICT upserts, RETURNING); each connection caches its prepared
// statements by text, so the hot paths (log-batch, search) parse SQL once per
// connection. Neither sqlite3.h nor libpq-fe.h is seen outside meta/.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "forja/core/status.h"

namespace forja::meta {

// A value bound to a statement or read from a row.
class SqlValue {
 public:
  enum class Type { kNull, kInt, kReal, kText };

  SqlValue() = default;
  SqlValue(int v) : type_(Type::kInt), i_(v) {}
  SqlValue(int64_t v) : type_(Type::kInt), i_(v) {}
  SqlValue(double v) : type_(Type::kReal), d_(v) {}
  SqlValue(std::string v) : type_(Type::kText), s_(std::move(v)) {}
  SqlValue(std::string_view v) : type_(Type::kText), s_(v) {}
  SqlValue(const char* v) : type_(Type::kText), s_(v) {}

  Type type() const { return type_; }
  bool null() const { return type_ == Type::kNull; }
  // Conversions are lenient, as rows come back typed differently by the two
  // databases (PostgreSQL's text protocol, SQLite's affinities).
  int64_t Int() const;
  double Real() const;
  const std::string& Text() const { return s_; }
  std::string AsText() const;

 private:
  Type type_ = Type::kNull;
  int64_t i_ = 0;
  double d_ = 0;
  std::string s_;
};

using SqlRow = std::vector<SqlValue>;
using SqlRows = std::vector<SqlRow>;

// One row of QueryEach, its cells read where they are (converted as SqlValue converts).
class SqlCells {
 public:
  virtual ~SqlCells() = default;
  virtual int64_t Int(int col) const = 0;
  virtual double Real(int col) const = 0;
};

enum class Dialect { kSqlite, kPostgres };

// Why the last statement failed, for the store to translate (a duplicate name
// is the user's mistake; a deadlock or a busy database is worth another try).
enum class SqlFailure { kNone, kUnique, kRetry, kOther };

class SqlConn {
 public:
  virtual ~SqlConn() = default;
  virtual Dialect dialect() const = 0;

  // Runs statements without parameters or results (the schema).
  virtual Status Exec(const std::string& sql) = 0;
  // Runs one statement; '?' are the parameters, in order.
  virtual Result<SqlRows> Query(const std::string& sql, const std::vector<SqlValue>& args) = 0;
  // Runs one statement and hands each row to `row` as it is read, with no SqlRow made of it
  // (a vector and a SqlValue per cell): for reads of many rows of numbers, such as the
  // 100,000 points of a comparison's histories. The default reads them through Query.
  virtual Status QueryEach(const std::string& sql, const std::vector<SqlValue>& args,
                           const std::function<void(const SqlCells&)>& row);
  Status Run(const std::string& sql, const std::vector<SqlValue>& args) {
    auto r = Query(sql, args);
    return r.ok() ? Status::Ok() : r.status();
  }

  // A write transaction takes the write lock up front (SQLite: BEGIN IMMEDIATE),
  // so that two writers never deadlock upgrading a read lock.
  virtual Status Begin(bool write) = 0;
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;
  // Serializes the transactions that name the same key until they end
  // (PostgreSQL: an advisory transaction lock; SQLite's writers are serial anyway).
  virtual Status LockKey(std::string_view key) = 0;

  SqlFailure last_failure() const { return failure_; }

 protected:
  SqlFailure failure_ = SqlFailure::kNone;
};

struct SqliteOptions {
  // FULL: a commit is on disk when acknowledged (WAL + fsync); NORMAL trades the
  // last commits on power loss (never on a crash of the process) for speed.
  std::string synchronous = "FULL";
  int busy_timeout_ms = 30000;
};

Result<std::unique_ptr<SqlConn>> OpenSqlite(const std::string& path, const SqliteOptions& opts);
// `conninfo` is a libpq connection string or postgresql:// URI.
Result<std::unique_ptr<SqlConn>> OpenPostgres(const std::string& conninfo);

// A transaction that rolls back unless committed.
class SqlTxn {
 public:
  explicit SqlTxn(SqlConn& c) : c_(c) {}
  ~SqlTxn() {
    if (open_) c_.Rollback();
  }
  Status Begin(bool write) {
    RETURN_IF_ERROR(c_.Begin(write));
    open_ = true;
    return Status::Ok();
  }
  Status Commit() {
    open_ = false;
    return c_.Commit();
  }

 private:
  SqlConn& c_;
  bool open_ = false;
};

}  // namespace forja::meta
