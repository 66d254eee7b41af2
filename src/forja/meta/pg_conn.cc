// SqlConn over PostgreSQL (libpq). Statements are prepared once per connection
// and per parameter types, since libpq's text protocol needs the types up front
// for expressions PostgreSQL cannot infer.
#include <libpq-fe.h>

#include <charconv>
#include <cstring>
#include <unordered_map>

#include "forja/core/redact.h"
#include "forja/meta/sql.h"

namespace forja::meta {

namespace {

constexpr ::Oid kInt8 = 20, kInt2 = 21, kInt4 = 23, kOidType = 26, kFloat4 = 700, kFloat8 = 701, kNumeric = 1700,
              kBool = 16, kText = 25;

// '?' -> '$1', '$2', ... outside quoted strings and identifiers.
std::string Numbered(const std::string& sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  char quote = 0;
  for (char c : sql) {
    if (quote) {
      if (c == quote) quote = 0;
      out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?') {
      out += '$' + std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

std::string Trim(const char* s) {
  std::string m = s ? s : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  for (char& c : m)
    if (c == '\n') c = ' ';
  return m;
}

class PgConn : public SqlConn {
 public:
  explicit PgConn(PGconn* c) : c_(c) {}
  ~PgConn() override { PQfinish(c_); }

  Dialect dialect() const override { return Dialect::kPostgres; }

  Status Exec(const std::string& sql) override {
    failure_ = SqlFailure::kNone;
    PGresult* r = PQexec(c_, sql.c_str());
    Status st = Check(r, PGRES_COMMAND_OK);
    PQclear(r);
    return st;
  }

  Result<SqlRows> Query(const std::string& sql, const std::vector<SqlValue>& args) override {
    failure_ = SqlFailure::kNone;
    std::vector<::Oid> types(args.size());
    std::string key = sql;
    key += '\0';
    for (size_t i = 0; i < args.size(); i++) {
      switch (args[i].type()) {
        case SqlValue::Type::kInt: types[i] = kInt8, key += 'i'; break;
        case SqlValue::Type::kReal: types[i] = kFloat8, key += 'r'; break;
        case SqlValue::Type::kText: types[i] = kText, key += 't'; break;
        case SqlValue::Type::kNull: types[i] = 0, key += 'n'; break;
      }
    }
    auto it = names_.find(key);
    if (it == names_.end()) {
      std::string name = "s" + std::to_string(names_.size() + 1);
      PGresult* r = PQprepare(c_, name.c_str(), Numbered(sql).c_str(), static_cast<int>(args.size()),
                              types.data());
      Status st = Check(r, PGRES_COMMAND_OK);
      PQclear(r);
      if (!st.ok()) return st.Wrap("preparing " + sql);
      it = names_.emplace(key, name).first;
    }
    std::vector<std::string> text(args.size());
    std::vector<const char*> values(args.size());
    for (size_t i = 0; i < args.size(); i++) {
      if (args[i].null()) continue;
      text[i] = args[i].type() == SqlValue::Type::kText ? args[i].Text() : args[i].AsText();
      values[i] = text[i].c_str();
    }
    PGresult* r = PQexecPrepared(c_, it->second.c_str(), static_cast<int>(args.size()), values.data(), nullptr,
                                 nullptr, 0);
    ExecStatusType rs = PQresultStatus(r);
    if (rs != PGRES_TUPLES_OK && rs != PGRES_COMMAND_OK) {
      Status st = Check(r, PGRES_TUPLES_OK);
      PQclear(r);
      return st;
    }
    SqlRows rows(static_cast<size_t>(PQntuples(r)));
    int cols = PQnfields(r);
    for (size_t i = 0; i < rows.size(); i++) {
      rows[i].resize(cols);
      for (int c = 0; c < cols; c++) {
        int ri = static_cast<int>(i);
        if (PQgetisnull(r, ri, c)) continue;
        const char* v = PQgetvalue(r, ri, c);
        size_t len = static_cast<size_t>(PQgetlength(r, ri, c));
        rows[i][c] = Value(PQftype(r, c), v, len);
      }
    }
    PQclear(r);
    return rows;
  }

  Status Begin(bool) override { return Exec("BEGIN"); }
  Status Commit() override { return Exec("COMMIT"); }
  void Rollback() override {
    if (PQtransactionStatus(c_) != PQTRANS_IDLE) PQclear(PQexec(c_, "ROLLBACK"));
  }

  Status LockKey(std::string_view key) override {
    uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (unsigned char ch : key) h = (h ^ ch) * 1099511628211ull;
    return Run("SELECT pg_advisory_xact_lock(?)", {static_cast<int64_t>(h)});
  }

 private:
  static SqlValue Value(::Oid type, const char* v, size_t len) {
    switch (type) {
      case kInt8:
      case kInt2:
      case kInt4:
      case kOidType: {
        int64_t x = 0;
        std::from_chars(v, v + len, x);
        return SqlValue(x);
      }
      case kFloat4:
      case kFloat8:
      case kNumeric: return SqlValue(std::strtod(v, nullptr));  // also NaN, Infinity
      case kBool: return SqlValue(static_cast<int64_t>(v[0] == 't'));
      default: return SqlValue(std::string_view(v, len));
    }
  }

  Status Check(PGresult* r, ExecStatusType want) {
    ExecStatusType got = PQresultStatus(r);
    if (got == want || got == PGRES_COMMAND_OK || got == PGRES_TUPLES_OK) return Status::Ok();
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    std::string msg = Trim(r ? PQresultErrorMessage(r) : PQerrorMessage(c_));
    if (msg.empty()) msg = Trim(PQerrorMessage(c_));
    if (PQstatus(c_) != CONNECTION_OK) {
      // The server went away: reconnect for the next statement (prepared ones are gone).
      failure_ = SqlFailure::kRetry;
      PQreset(c_);
      names_.clear();
      return Status::Remote("postgresql: connection lost: " + msg);
    }
    std::string code = state ? state : "";
    if (code == "23505") {
      failure_ = SqlFailure::kUnique;
      return Status::Exists("postgresql: " + msg);
    }
    if (code == "40001" || code == "40P01" || code == "55P03") {
      failure_ = SqlFailure::kRetry;
      return Status::Conflict("postgresql: " + msg);
    }
    failure_ = SqlFailure::kOther;
    return Status::Io("postgresql: " + msg + (code.empty() ? "" : " (SQLSTATE " + code + ")"));
  }

  PGconn* c_;
  std::unordered_map<std::string, std::string> names_;  // sql + types -> prepared statement name
};

}  // namespace

Result<std::unique_ptr<SqlConn>> OpenPostgres(const std::string& conninfo) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (!c) return Status::Remote("postgresql: out of memory");
  if (PQstatus(c) != CONNECTION_OK) {
    // libpq may quote parts of the connection string (a malformed parameter, a host): no secret of it is shown.
    std::string msg = RedactSecretsOf(Trim(PQerrorMessage(c)), conninfo);
    PQfinish(c);
    return Status::Remote("cannot connect to PostgreSQL: " + msg + "; check the URI and that the server runs");
  }
  auto conn = std::make_unique<PgConn>(c);
  // Notices (e.g. "relation exists, skipping") would go to stderr.
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  RETURN_IF_ERROR(conn->Exec("SET client_min_messages = warning; SET TIME ZONE 'UTC'"));
  return std::unique_ptr<SqlConn>(std::move(conn));
}

}  // namespace forja::meta
