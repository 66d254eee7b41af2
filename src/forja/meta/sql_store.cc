// Opening a SQL store, its schema and migrations, and the shared helpers.
#include "forja/meta/sql_store.h"

#include <openssl/rand.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <thread>

#include "forja/core/fs.h"
#include "forja/core/redact.h"
#include "forja/core/sha256.h"

namespace forja::meta {

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string CanonicalStage(const std::string& stage) {
  std::string s;
  for (char c : stage) s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "none") return "None";
  if (s == "staging") return "Staging";
  if (s == "production") return "Production";
  if (s == "archived") return "Archived";
  return "";
}

// ---- the connection pool --------------------------------------------------

Result<ConnPool::Lease> ConnPool::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(c));
    }
    if (open_count_ < max_) {
      open_count_++;
      lock.unlock();
      auto c = open_();
      if (!c.ok()) {
        std::lock_guard<std::mutex> relock(mu_);
        open_count_--;
        cv_.notify_one();
        return c.status();
      }
      return Lease(this, std::move(*c));
    }
    cv_.wait(lock);
  }
}

void ConnPool::Return(std::unique_ptr<SqlConn> c) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(std::move(c));
  cv_.notify_one();
}

// ---- transactions -----------------------------------------------------------

Status SqlStore::Txn(bool write, const std::function<Status(SqlConn&)>& fn) {
  Status last;
  for (int attempt = 0; attempt < 6; attempt++) {
    if (attempt) std::this_thread::sleep_for(std::chrono::milliseconds(5 << attempt));
    ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
    SqlTxn txn(*conn);
    last = txn.Begin(write);
    if (last.ok()) last = fn(*conn);
    if (last.ok()) last = txn.Commit();
    if (last.ok()) return last;
    if (conn->last_failure() != SqlFailure::kRetry) return last;
  }
  return last;
}

Status SqlStore::Plain(const std::function<Status(SqlConn&)>& fn) {
  Status last;
  for (int attempt = 0; attempt < 3; attempt++) {
    ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
    last = fn(*conn);
    if (last.ok() || conn->last_failure() != SqlFailure::kRetry) return last;
  }
  return last;
}

std::string SqlStore::Like(const std::string& column, bool insensitive) const {
  if (!insensitive) return column + " LIKE ?";
  if (dialect_ == Dialect::kPostgres) return column + " ILIKE ?";
  return "lower(" + column + ") LIKE lower(?)";
}

// ---- schema -----------------------------------------------------------------

namespace {

// Migrations, in order; the store's version is how many have been applied.
// Never edit one that has shipped: add the next.
const char* const kMigrations[] = {
    // 1: tracking, registry, tokens.
    R"(
CREATE TABLE experiments(
  experiment_id {serial},
  name TEXT NOT NULL UNIQUE,
  artifact_location TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL,
  creation_time BIGINT NOT NULL,
  last_update_time BIGINT NOT NULL);
CREATE TABLE experiment_tags(
  experiment_id BIGINT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY(experiment_id, key));
CREATE TABLE runs(
  run_uuid TEXT PRIMARY KEY,
  experiment_id BIGINT NOT NULL,
  name TEXT NOT NULL,
  user_id TEXT NOT NULL,
  status TEXT NOT NULL,
  start_time BIGINT NOT NULL,
  end_time BIGINT,
  artifact_uri TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL,
  deleted_time BIGINT);
CREATE INDEX runs_by_experiment ON runs(experiment_id, start_time);
CREATE TABLE params(
  run_uuid TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY(run_uuid, key));
CREATE INDEX params_by_key ON params(key, value);
CREATE TABLE tags(
  run_uuid TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY(run_uuid, key));
CREATE INDEX tags_by_key ON tags(key, value);
CREATE TABLE metrics(
  run_uuid TEXT NOT NULL, key TEXT NOT NULL, value DOUBLE PRECISION, is_nan INTEGER NOT NULL,
  timestamp BIGINT NOT NULL, step BIGINT NOT NULL);
CREATE INDEX metrics_series ON metrics(run_uuid, key, step);
CREATE TABLE latest_metrics(
  run_uuid TEXT NOT NULL, key TEXT NOT NULL, value DOUBLE PRECISION, is_nan INTEGER NOT NULL,
  timestamp BIGINT NOT NULL, step BIGINT NOT NULL,
  PRIMARY KEY(run_uuid, key));
CREATE INDEX latest_metrics_by_value ON latest_metrics(key, value);
CREATE TABLE lineage(
  run_uuid TEXT NOT NULL, direction TEXT NOT NULL, path TEXT NOT NULL, hash TEXT NOT NULL,
  kind TEXT NOT NULL, size BIGINT NOT NULL,
  PRIMARY KEY(run_uuid, direction, path));
CREATE INDEX lineage_by_hash ON lineage(hash);
CREATE TABLE artifacts(path TEXT PRIMARY KEY, hash TEXT NOT NULL, size BIGINT NOT NULL);
CREATE TABLE registered_models(
  name TEXT PRIMARY KEY,
  creation_time BIGINT NOT NULL,
  last_updated_time BIGINT NOT NULL,
  description TEXT NOT NULL,
  last_version BIGINT NOT NULL);
CREATE TABLE registered_model_tags(
  name TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY(name, key));
CREATE TABLE model_versions(
  name TEXT NOT NULL,
  version BIGINT NOT NULL,
  creation_time BIGINT NOT NULL,
  last_updated_time BIGINT NOT NULL,
  user_id TEXT NOT NULL,
  current_stage TEXT NOT NULL,
  description TEXT NOT NULL,
  source TEXT NOT NULL,
  run_id TEXT NOT NULL,
  run_link TEXT NOT NULL,
  status TEXT NOT NULL,
  package_hash TEXT NOT NULL,
  PRIMARY KEY(name, version));
CREATE INDEX model_versions_by_run ON model_versions(run_id);
CREATE TABLE model_version_tags(
  name TEXT NOT NULL, version BIGINT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY(name, version, key));
CREATE TABLE aliases(
  name TEXT NOT NULL, alias TEXT NOT NULL, version BIGINT NOT NULL,
  PRIMARY KEY(name, alias));
CREATE TABLE transitions(
  id {serial},
  name TEXT NOT NULL,
  version BIGINT NOT NULL,
  kind TEXT NOT NULL,
  from_value TEXT NOT NULL,
  to_value TEXT NOT NULL,
  user_id TEXT NOT NULL,
  time BIGINT NOT NULL,
  comment TEXT NOT NULL,
  forced INTEGER NOT NULL,
  gates TEXT NOT NULL);
CREATE INDEX transitions_by_model ON transitions(name, id);
CREATE TABLE tokens(
  id {serial},
  name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created BIGINT NOT NULL,
  revoked INTEGER NOT NULL,
  last_used BIGINT NOT NULL);
)",
    // 2: alerts from Alertmanager (forja server's webhook), against model versions.
    R"(
CREATE TABLE model_alerts(
  fingerprint TEXT NOT NULL,
  starts_at BIGINT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  model TEXT NOT NULL,
  version TEXT NOT NULL,
  severity TEXT NOT NULL,
  ends_at BIGINT NOT NULL,
  labels TEXT NOT NULL,
  annotations TEXT NOT NULL,
  received BIGINT NOT NULL,
  PRIMARY KEY(fingerprint, starts_at));
CREATE INDEX model_alerts_by_model ON model_alerts(model, version, received);
)",
    // 3: datasets runs used (MLflow's runs/log-inputs): one row per experiment, name and
    // digest; a run's inputs of them, each with its tags.
    R"(
CREATE TABLE datasets(
  id {serial},
  experiment_id BIGINT NOT NULL,
  name TEXT NOT NULL,
  digest TEXT NOT NULL,
  source_type TEXT NOT NULL,
  source TEXT NOT NULL,
  dataset_schema TEXT,
  dataset_profile TEXT,
  UNIQUE(experiment_id, name, digest));
CREATE TABLE run_inputs(
  id {serial},
  run_uuid TEXT NOT NULL,
  dataset_id BIGINT NOT NULL,
  UNIQUE(run_uuid, dataset_id));
CREATE TABLE input_tags(
  input_id BIGINT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY(input_id, key));
)",
    // 4: MLflow 3's LoggedModels (sql_logged_models.cc): the models, their tags, params and
    // metric points; the models runs used and produced; metrics' model and dataset; the
    // LoggedModel a model version registers and where its files are.
    R"(
CREATE TABLE logged_models(
  model_id TEXT PRIMARY KEY,
  experiment_id BIGINT NOT NULL,
  name TEXT NOT NULL,
  artifact_location TEXT NOT NULL,
  creation_time BIGINT NOT NULL,
  last_updated_time BIGINT NOT NULL,
  status TEXT NOT NULL,
  status_message TEXT NOT NULL,
  model_type TEXT NOT NULL,
  source_run_id TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL);
CREATE INDEX logged_models_by_experiment ON logged_models(experiment_id, creation_time);
CREATE TABLE logged_model_tags(
  model_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY(model_id, key));
CREATE TABLE logged_model_params(
  model_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY(model_id, key));
CREATE TABLE logged_model_metrics(
  id {serial},
  model_id TEXT NOT NULL, key TEXT NOT NULL, value DOUBLE PRECISION, is_nan INTEGER NOT NULL,
  timestamp BIGINT NOT NULL, step BIGINT NOT NULL, run_uuid TEXT NOT NULL,
  dataset_name TEXT NOT NULL, dataset_digest TEXT NOT NULL);
CREATE INDEX logged_model_metrics_by_model ON logged_model_metrics(model_id, key);
CREATE TABLE run_model_io(
  run_uuid TEXT NOT NULL, direction TEXT NOT NULL, model_id TEXT NOT NULL, step BIGINT NOT NULL,
  PRIMARY KEY(run_uuid, direction, model_id));
ALTER TABLE metrics ADD COLUMN model_id TEXT NOT NULL DEFAULT '';
ALTER TABLE metrics ADD COLUMN dataset_name TEXT NOT NULL DEFAULT '';
ALTER TABLE metrics ADD COLUMN dataset_digest TEXT NOT NULL DEFAULT '';
ALTER TABLE model_versions ADD COLUMN model_id TEXT NOT NULL DEFAULT '';
ALTER TABLE model_versions ADD COLUMN storage_location TEXT NOT NULL DEFAULT '';
)",
    // 5: progressive rollouts (sql_rollouts.cc): a model's candidate taking a share of the
    // traffic step by step. The partial unique index is the last word on "one running
    // rollout per model" should a writer ever skip the model's lock.
    R"(
CREATE TABLE rollouts(
  id {serial},
  name TEXT NOT NULL,
  target TEXT NOT NULL,
  from_version BIGINT NOT NULL,
  to_version BIGINT NOT NULL,
  weight INTEGER NOT NULL,
  state TEXT NOT NULL,
  steps TEXT NOT NULL,
  user_id TEXT NOT NULL,
  started BIGINT NOT NULL,
  updated BIGINT NOT NULL,
  message TEXT NOT NULL);
CREATE INDEX rollouts_by_model ON rollouts(name, id);
CREATE UNIQUE INDEX rollouts_one_running ON rollouts(name) WHERE state = 'running';
)",
    // 6: what each forja serve instance reported last (sql_serving.cc), one row per instance,
    // replaced by its next report; rows older than kServingReportExpireMs are deleted.
    R"(
CREATE TABLE serving_reports(
  instance TEXT PRIMARY KEY,
  received BIGINT NOT NULL,
  report TEXT NOT NULL);
CREATE INDEX serving_reports_by_time ON serving_reports(received);
)",
    // 7: an experiment's live runs newest first, from the index alone: the web UI's runs table
    // counts them (100,000 runs: 90 ms reading every row of runs, 4 ms here) and windows them
    // at any offset (ORDER BY start_time DESC, run_uuid, as every search ends).
    R"(
CREATE INDEX IF NOT EXISTS runs_by_experiment_stage ON runs(experiment_id, lifecycle_stage, start_time DESC, run_uuid);
)",
    // 8: a metric's points in step order from the index alone, replacing metrics_series (the
    // same first columns): the web UI's comparison reads 100,000 of them in one call
    // (GetMetricHistories), 28 ms of server time through metrics_series and a lookup of each
    // row in the table, 23 ms here.
    R"(
CREATE INDEX IF NOT EXISTS metrics_points ON metrics(run_uuid, key, step, timestamp, value, is_nan);
DROP INDEX IF EXISTS metrics_series;
)",
};

std::string ForDialect(std::string sql, Dialect d) {
  const std::string serial = d == Dialect::kSqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY";
  for (size_t at; (at = sql.find("{serial}")) != std::string::npos;) sql.replace(at, 8, serial);
  return sql;
}

}  // namespace

Status SqlStore::Migrate() {
  // Two processes opening a new store at once: the write transaction (SQLite) or
  // the advisory lock (PostgreSQL) makes the second wait and then see version N.
  const int64_t want = static_cast<int64_t>(std::size(kMigrations));
  Status st = Txn(true, [&](SqlConn& c) -> Status {
    RETURN_IF_ERROR(c.LockKey("forja-schema"));
    RETURN_IF_ERROR(c.Exec("CREATE TABLE IF NOT EXISTS forja_schema(version BIGINT NOT NULL)"));
    ASSIGN_OR_RETURN(SqlRows rows, c.Query("SELECT version FROM forja_schema", {}));
    int64_t have = rows.empty() ? 0 : rows[0][0].Int();
    if (have > want)
      return Status::User("the store " + uri_ + " has schema version " + std::to_string(have) +
                          ", newer than this forja knows (" + std::to_string(want) + "); upgrade forja");
    if (have == want) return Status::Ok();
    for (int64_t v = have; v < want; v++) RETURN_IF_ERROR(c.Exec(ForDialect(kMigrations[v], c.dialect())));
    if (have == 0) {
      int64_t now = NowMs();
      RETURN_IF_ERROR(c.Run(
          "INSERT INTO experiments(experiment_id, name, artifact_location, lifecycle_stage, creation_time, "
          "last_update_time) VALUES (0, 'Default', 'mlflow-artifacts:/0', 'active', ?, ?)",
          {now, now}));
      return c.Run("INSERT INTO forja_schema(version) VALUES (?)", {want});
    }
    return c.Run("UPDATE forja_schema SET version = ?", {want});
  });
  return st.ok() ? st : st.Wrap("opening the store " + uri_);
}

// SQLite plans from sqlite_stat1, which only ANALYZE writes: without it, a filter such as
// `params.p = '3' and metrics.m < 0.5` over 100,000 runs starts from the metric-value index
// and takes a second instead of a tenth. analysis_limit samples each index (milliseconds on
// any store), and PostgreSQL's autovacuum analyzes on its own. A store with few runs is
// left alone: statistics of a nearly empty store would mislead the planner once it grows,
// where SQLite's defaults do not.
Status SqlStore::RefreshPlannerStats() {
  if (dialect_ != Dialect::kSqlite) return Status::Ok();
  ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
  ASSIGN_OR_RETURN(SqlRows rows, conn->Query("SELECT count(*) FROM (SELECT 1 FROM runs LIMIT 1000)", {}));
  if (rows.empty() || rows[0][0].Int() < 1000) return Status::Ok();
  return conn->Exec("PRAGMA analysis_limit=1000; ANALYZE;");
}

Result<std::unique_ptr<MetaStore>> OpenSqlStore(const std::string& uri) {
  std::string path;
  if (uri.starts_with("postgresql://") || uri.starts_with("postgres://")) {
    auto pool = std::make_unique<ConnPool>([uri] { return OpenPostgres(uri); }, 16);
    // The store's uri() is printed and quoted in errors: it never shows the password.
    auto store = std::make_unique<SqlStore>(RedactUri(uri), Dialect::kPostgres, std::move(pool));
    RETURN_IF_ERROR(store->Migrate());
    return std::unique_ptr<MetaStore>(std::move(store));
  }
  SqliteOptions opts;
  std::string rest = uri;
  // SQLAlchemy's spelling, which MLflow users know: sqlite:///relative.db, sqlite:////abs.db.
  if (rest.starts_with("sqlite:")) {
    rest = rest.substr(7);
    if (!rest.starts_with("///"))
      return Status::User("invalid store URI '" + RedactUri(uri) + "': use sqlite:////absolute/path.db or sqlite:///relative.db");
    rest = rest.substr(3);
  }
  size_t q = rest.find('?');
  if (q != std::string::npos) {
    std::string query = rest.substr(q + 1);
    rest = rest.substr(0, q);
    for (size_t i = 0; i < query.size();) {
      size_t amp = query.find('&', i);
      std::string kv = query.substr(i, amp == std::string::npos ? std::string::npos : amp - i);
      i = amp == std::string::npos ? query.size() : amp + 1;
      if (kv == "synchronous=normal" || kv == "synchronous=NORMAL") opts.synchronous = "NORMAL";
      else if (kv == "synchronous=full" || kv == "synchronous=FULL") opts.synchronous = "FULL";
      else return Status::User("unknown option '" + kv + "' in the store URI " + RedactUri(uri) + " (known: synchronous=full|normal)");
    }
  }
  path = rest;
  if (path.empty()) return Status::User("the store URI " + RedactUri(uri) + " names no file; use sqlite:///path/to/forja.db");
  std::string dir = Dirname(path);
  if (!dir.empty() && dir != "." && !Exists(dir))
    return Status::User("the folder of the store " + path + " does not exist");
  auto pool = std::make_unique<ConnPool>([path, opts] { return OpenSqlite(path, opts); }, 8);
  auto store = std::make_unique<SqlStore>("sqlite:///" + path, Dialect::kSqlite, std::move(pool));
  RETURN_IF_ERROR(store->Migrate());
  return std::unique_ptr<MetaStore>(std::move(store));
}

// ---- helpers ----------------------------------------------------------------

namespace {

const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64(const std::string& in) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int k = 3; k >= 0; k--) out += kB64[(v >> (6 * k)) & 63];
  }
  if (size_t rest = in.size() - i) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (rest == 2) v |= uint8_t(in[i + 1]) << 8;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += rest == 2 ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool Unbase64(const std::string& in, std::string* out) {
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const char* p = std::strchr(kB64, c);
    if (!p || !c) return false;
    acc = (acc << 6) | static_cast<uint32_t>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return true;
}

}  // namespace

std::string OffsetToken(int64_t offset) { return Base64("{\"offset\": " + std::to_string(offset) + "}"); }

Result<int64_t> OffsetFromToken(const std::string& token) {
  if (token.empty()) return int64_t{0};
  std::string text;
  Status bad = Status::User("invalid page_token '" + token.substr(0, 64) + "': pass the next_page_token of a previous page");
  if (!Unbase64(token, &text)) return bad;
  size_t colon = text.find(':');
  if (!text.starts_with("{\"offset\"") || colon == std::string::npos) return bad;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str() + colon + 1, &end, 10);
  while (end && *end == ' ') end++;
  if (!end || *end != '}' || v < 0) return bad;
  return static_cast<int64_t>(v);
}

Status CheckMaxResults(int64_t max_results, int64_t limit) {
  if (max_results < 1 || max_results > limit)
    return Status::User("invalid value " + std::to_string(max_results) + " for max_results: it must be between 1 and " +
                        std::to_string(limit));
  return Status::Ok();
}

std::string Marks(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; i++) s += i ? ", ?" : "?";
  return s;
}

std::string SearchSql::JoinKey(const std::string& table,
                               std::initializer_list<std::pair<const char*, const char*>> match,
                               const std::string& key, bool inner) {
  std::string a = "j" + std::to_string(aliases_++);
  joins += (inner ? " JOIN " : " LEFT JOIN ") + table + " " + a + " ON ";
  for (const auto& [column, owner] : match) joins += a + "." + column + " = " + owner + " AND ";
  joins += a + ".key = ?";
  join_args.push_back(key);
  return a;
}

std::vector<SqlValue> SearchSql::Args() const {
  std::vector<SqlValue> args = join_args;
  args.insert(args.end(), where_args.begin(), where_args.end());
  return args;
}

Result<std::string> OrderClause(const std::vector<std::string>& order_by,
                                const std::map<std::string, std::string>& columns, const std::string& known) {
  std::string order;
  RETURN_IF_ERROR(CheckOrderByCount(order_by.size()));
  for (const std::string& ob : order_by) {
    ASSIGN_OR_RETURN(OrderBy o, ParseOrderBy(ob));
    auto col = columns.find(o.key);
    if (o.entity != Entity::kAttribute || col == columns.end())
      return Status::User("invalid order_by '" + ob + "': " + known);
    order += col->second + (o.ascending ? " ASC, " : " DESC, ");
  }
  return order;
}

Result<SqlRows> QueryPage(SqlConn& c, const std::string& sql, std::vector<SqlValue> args, int64_t limit,
                          int64_t offset, std::string* next_token) {
  args.push_back(limit + 1);
  args.push_back(offset);
  ASSIGN_OR_RETURN(SqlRows rows, c.Query(sql, args));
  next_token->clear();
  if (static_cast<int64_t>(rows.size()) > limit) {
    rows.resize(static_cast<size_t>(limit));
    *next_token = OffsetToken(offset + limit);
  }
  return rows;
}

Status CheckRunId(const std::string& run_id) {
  if (run_id.empty()) return Status::User("run_id is missing");
  if (run_id.size() > 64) return Status::User("invalid run_id '" + run_id.substr(0, 64) + "...': too long");
  for (char c : run_id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
      return Status::NotFound("Run with id=" + run_id.substr(0, 64) + " not found");
  return Status::Ok();
}

Status CheckName(const std::string& what, const std::string& name, size_t max) {
  if (name.empty()) return Status::User(what + " must not be empty");
  if (name.size() > max)
    return Status::User(what + " '" + name.substr(0, 40) + "...' is longer than " + std::to_string(max) + " characters");
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) return Status::User(what + " must not contain control characters");
  return Status::Ok();
}

bool IsHashRef(const std::string& s) {
  return s.size() == 71 && s.starts_with("sha256:") && Oid::FromHex(std::string_view(s).substr(7)).has_value();
}

std::string NewRunId() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) {
    // Not expected; fall back to something unique enough for one machine.
    uint64_t t = static_cast<uint64_t>(NowMs()) ^ (static_cast<uint64_t>(::getpid()) << 40);
    std::memcpy(b, &t, 8);
    std::memcpy(b + 8, &t, 8);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) out += kHex[c >> 4], out += kHex[c & 15];
  return out;
}

std::string RandomRunName() {
  static const char* const kAdj[] = {"brave", "calm", "clever", "eager", "gentle", "bold", "bright", "quiet",
                                     "swift", "keen", "merry", "proud", "silent", "sunny", "tidy", "wise"};
  static const char* const kNoun[] = {"otter", "falcon", "lynx", "heron", "badger", "panda", "wren", "ibis",
                                      "koala", "moose", "orca", "puffin", "quokka", "raven", "seal", "tapir"};
  unsigned char b[3];
  if (RAND_bytes(b, sizeof b) != 1) b[0] = b[1] = b[2] = 0;
  return std::string(kAdj[b[0] % 16]) + "-" + kNoun[b[1] % 16] + "-" + std::to_string(b[2] % 1000);
}

}  // namespace forja::meta
