// Tracking on SQL: experiments, runs, params, metric series, tags, lineage,
// artifacts, and MLflow's run search compiled to one SQL query. One idea: the
// tables a run writes and the queries that read them back, which share the row
// mappers, key checks and bulk inserts below.
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "forja/core/limits.h"
#include "forja/core/utf8.h"
#include "forja/meta/sql_store.h"

namespace forja::meta {

namespace {

constexpr size_t kMaxKey = limits::kMaxKeyBytes;
constexpr size_t kMaxParamValue = limits::kMaxParamValueBytes;
// Runs-first search (RunSearchSql::from_runs_first) when every metric comparison matches at
// least kBroadMatch runs and at most kRunsFirstRows rows are wanted: walking R runs newest first
// to fill a page of P matches out of M costs about P*R/M probes, reading M matches from the value
// index about M; at 100,000 runs and a page of 100 they cross near M = 3,000.
constexpr int64_t kBroadMatch = 10000;
constexpr int64_t kRunsFirstRows = 1000;
constexpr size_t kMaxTagValue = limits::kMaxTagValueBytes;
constexpr int64_t kSearchRunsLimit = 50000;

std::string ViewSql(ViewType v) {
  switch (v) {
    case ViewType::kActive: return "('active')";
    case ViewType::kDeleted: return "('deleted')";
    case ViewType::kAll: return "('active', 'deleted')";
  }
  return "('active')";
}

// INSERT of many rows in chunks of 128, 64, ..., 1 rows, so a connection caches
// at most eight statements per table whatever the batch sizes.
Status InsertRows(SqlConn& c, const std::string& head, size_t cols, const std::string& tail,
                  const std::vector<SqlValue>& flat) {
  size_t rows = flat.size() / cols, done = 0;
  std::string row = "(" + Marks(cols) + ")";
  for (size_t chunk = 128; chunk > 0; chunk /= 2) {
    while (rows - done >= chunk) {
      std::string sql = head;
      for (size_t i = 0; i < chunk; i++) sql += (i ? ", " : " ") + row;
      sql += tail;
      std::vector<SqlValue> args(flat.begin() + static_cast<long>(done * cols),
                                 flat.begin() + static_cast<long>((done + chunk) * cols));
      RETURN_IF_ERROR(c.Run(sql, args));
      done += chunk;
    }
  }
  return Status::Ok();
}

// Python's \w outside ASCII (MLflow's key check is the regex ^[/\w.\- :]*$): letters and digits
// of every script. Without Unicode's tables this refuses what is surely not a letter or digit:
// Latin-1's symbols, combining marks, punctuation, symbol and emoji blocks, private use.
bool IsWordBeyondAscii(char32_t c) {
  if (c < 0xC0) return c == 0xAA || c == 0xB2 || c == 0xB3 || c == 0xB5 || c == 0xB9 || c == 0xBA ||
                       (c >= 0xBC && c <= 0xBE);
  if (c == 0xD7 || c == 0xF7) return false;  // × ÷
  static constexpr std::pair<char32_t, char32_t> kNotWord[] = {
      {0x0300, 0x036F}, {0x2000, 0x206F}, {0x20A0, 0x20FF}, {0x2190, 0x23FF}, {0x2500, 0x27BF},
      {0x2900, 0x2BFF}, {0x3000, 0x3004}, {0x3008, 0x3020}, {0xE000, 0xF8FF}, {0xFE00, 0xFE6F},
      {0xFF00, 0xFF0F}, {0xFF1A, 0xFF20}, {0xFF3B, 0xFF40}, {0xFF5B, 0xFF65}, {0xFFF0, 0xFFFF},
      {0x1F000, 0x1FAFF}, {0xF0000, 0x10FFFF}};
  for (auto [lo, hi] : kNotWord)
    if (c >= lo && c <= hi) return false;
  return true;
}

Status CheckKey(const char* what, const std::string& key) {
  if (key.empty()) return Status::User(std::string(what) + " key must not be empty");
  if (key.size() > kMaxKey)
    return Status::User(std::string(what) + " key '" + ValidUtf8(key, 40) + "' is longer than " +
                        std::to_string(kMaxKey) + " characters");
  for (size_t i = 0; i < key.size();) {
    unsigned char c = static_cast<unsigned char>(key[i]);
    size_t n = c < 0x80 ? 1 : Utf8CharLength(key, i);
    bool ok = n == 1 ? std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == ' ' || c == '/' || c == ':'
                     : n > 1 && IsWordBeyondAscii(Utf8CodePoint(key, i, n));
    if (!ok)
      return Status::User(std::string("invalid ") + what + " key '" + ValidUtf8(key, 80) +
                          "': names may only contain letters, digits, underscores (_), dashes (-), periods (.), "
                          "spaces ( ), colons (:) and slashes (/)");
    i += n == 0 ? 1 : n;
  }
  // MLflow refuses a name that a path normalization would change (it may become a file name).
  bool not_normal = key == "." || key.starts_with("./") || key.ends_with("/.") || key.ends_with("/") ||
                    key.find("//") != std::string::npos || key.find("/./") != std::string::npos;
  if (key.find("..") != std::string::npos || key[0] == '/' || not_normal)
    return Status::User(std::string("invalid ") + what + " key '" + ValidUtf8(key, 80) +
                        "': it must not start with '/', contain '..', '//' or '/./', or end with '/'");
  return Status::Ok();
}

Metric MetricFromRow(const SqlRow& r, size_t at) {
  Metric m;
  m.key = r[at].Text();
  m.value = r[at + 2].Int() ? std::numeric_limits<double>::quiet_NaN() : r[at + 1].Real();
  m.timestamp = r[at + 3].Int();
  m.step = r[at + 4].Int();
  return m;
}

RunInfo InfoFromRow(const SqlRow& r) {
  RunInfo i;
  i.run_id = r[0].Text();
  i.experiment_id = r[1].AsText();
  i.run_name = r[2].Text();
  i.user_id = r[3].Text();
  i.status = r[4].Text();
  i.start_time = r[5].Int();
  if (!r[6].null()) i.end_time = r[6].Int();
  i.artifact_uri = r[7].Text();
  i.lifecycle_stage = r[8].Text();
  return i;
}

const char* const kRunCols =
    "run_uuid, experiment_id, name, user_id, status, start_time, end_time, artifact_uri, lifecycle_stage";

Result<int64_t> ExperimentNumber(const std::string& id) {
  if (id.empty() || id.size() > 18 || id.find_first_not_of("0123456789") != std::string::npos)
    return Status::NotFound("No Experiment with id=" + id.substr(0, 64) + " exists");
  return static_cast<int64_t>(std::stoll(id));
}

Result<Experiment> LoadExperiment(SqlConn& c, const std::string& where, const SqlValue& key,
                                  const std::string& missing) {
  ASSIGN_OR_RETURN(SqlRows rows,
                   c.Query("SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, "
                           "last_update_time FROM experiments WHERE " + where,
                           {key}));
  if (rows.empty()) return Status::NotFound(missing);
  Experiment e;
  const SqlRow& r = rows[0];
  e.id = r[0].AsText(), e.name = r[1].Text(), e.artifact_location = r[2].Text(), e.lifecycle_stage = r[3].Text();
  e.creation_time = r[4].Int(), e.last_update_time = r[5].Int();
  ASSIGN_OR_RETURN(SqlRows tags, c.Query("SELECT key, value FROM experiment_tags WHERE experiment_id = ? ORDER BY key",
                                         {r[0].Int()}));
  for (auto& t : tags) e.tags.push_back({t[0].Text(), t[1].Text()});
  return e;
}

}  // namespace

// ---- experiments ------------------------------------------------------------

Result<std::string> SqlStore::CreateExperiment(const std::string& name, const std::string& artifact_location,
                                               const std::vector<Tag>& tags) {
  RETURN_IF_ERROR(CheckName("experiment name", name, 500));
  for (const Tag& t : tags) RETURN_IF_ERROR(CheckKey("tag", t.key));
  std::string id;
  Status st = Txn(true, [&](SqlConn& c) -> Status {
    int64_t now = NowMs();
    auto rows = c.Query(
        "INSERT INTO experiments(name, artifact_location, lifecycle_stage, creation_time, last_update_time) "
        "VALUES (?, ?, 'active', ?, ?) RETURNING experiment_id",
        {name, artifact_location, now, now});
    if (!rows.ok() && c.last_failure() == SqlFailure::kUnique)
      return Status::Exists("Experiment(name=" + name + ") already exists");
    if (!rows.ok()) return rows.status();
    int64_t n = (*rows)[0][0].Int();
    id = std::to_string(n);
    if (artifact_location.empty())
      RETURN_IF_ERROR(c.Run("UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?",
                            {"mlflow-artifacts:/" + id, n}));
    for (const Tag& t : tags)
      RETURN_IF_ERROR(c.Run("INSERT INTO experiment_tags(experiment_id, key, value) VALUES (?, ?, ?) "
                            "ON CONFLICT(experiment_id, key) DO UPDATE SET value = excluded.value",
                            {n, t.key, t.value}));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return id;
}

Result<Experiment> SqlStore::GetExperiment(const std::string& id) {
  ASSIGN_OR_RETURN(int64_t n, ExperimentNumber(id));
  Result<Experiment> out = Status::Internal("unset");
  RETURN_IF_ERROR(Plain([&](SqlConn& c) {
    out = LoadExperiment(c, "experiment_id = ?", n, "No Experiment with id=" + id + " exists");
    return out.ok() || out.status().code() == Code::kNotFound ? Status::Ok() : out.status();
  }));
  return out;
}

Result<Experiment> SqlStore::GetExperimentByName(const std::string& name) {
  Result<Experiment> out = Status::Internal("unset");
  RETURN_IF_ERROR(Plain([&](SqlConn& c) {
    out = LoadExperiment(c, "name = ?", name, "Could not find experiment with name '" + name + "'");
    return out.ok() || out.status().code() == Code::kNotFound ? Status::Ok() : out.status();
  }));
  return out;
}

Result<Paged<Experiment>> SqlStore::SearchExperiments(const Query& q) {
  RETURN_IF_ERROR(CheckMaxResults(q.page.max_results, kSearchRunsLimit));
  ASSIGN_OR_RETURN(int64_t offset, OffsetFromToken(q.page.token));
  ASSIGN_OR_RETURN(Filter f, ParseFilter(q.filter));
  SearchSql s;
  s.where = "e.lifecycle_stage IN " + ViewSql(q.view);
  for (const Clause& cl : f.clauses) {
    std::string col;
    if (cl.entity == Entity::kTag) {
      col = s.JoinKey("experiment_tags", {{"experiment_id", "e.experiment_id"}}, cl.key) + ".value";
    } else if (cl.entity == Entity::kAttribute && (cl.key == "name" || cl.key == "experiment_id")) {
      col = cl.key == "name" ? "e.name" : "CAST(e.experiment_id AS TEXT)";
    } else if (cl.entity == Entity::kAttribute && (cl.key == "creation_time" || cl.key == "last_update_time")) {
      if (!cl.numeric) return Status::User("invalid filter: " + cl.key + " must be compared to a number");
      ASSIGN_OR_RETURN(int64_t v, IntegerValue(cl));
      s.where += " AND e." + cl.key + " " + cl.op + " ?";
      s.where_args.push_back(v);
      continue;
    } else {
      return Status::User(std::string("invalid filter: experiments can be searched by name, creation_time, "
                                      "last_update_time and tags.<key>, not ") + EntityName(cl.entity) + "." + cl.key);
    }
    if (cl.numeric) return Status::User("invalid filter: " + cl.key + " must be compared to a quoted string");
    if (cl.op == "LIKE" || cl.op == "ILIKE") {
      s.where += " AND " + Like(col, cl.op == "ILIKE");
    } else if (cl.op == "=" || cl.op == "!=") {
      s.where += " AND " + col + " " + cl.op + " ?";
    } else {
      return Status::User("invalid filter: '" + cl.op + "' cannot compare " + cl.key + " (use =, !=, LIKE or ILIKE)");
    }
    s.where_args.push_back(cl.values[0]);
  }
  ASSIGN_OR_RETURN(std::string order,
                   OrderClause(q.order_by,
                               {{"name", "e.name"}, {"experiment_id", "e.experiment_id"},
                                {"creation_time", "e.creation_time"}, {"last_update_time", "e.last_update_time"}},
                               "experiments order by name, experiment_id, creation_time or last_update_time"));
  order += "e.creation_time DESC, e.experiment_id ASC";
  std::string sql = "SELECT e.experiment_id FROM experiments e" + s.joins + " WHERE " + s.where + " ORDER BY " +
                    order + " LIMIT ? OFFSET ?";
  std::vector<SqlValue> args = s.Args();
  Paged<Experiment> out;
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    out.items.clear();
    ASSIGN_OR_RETURN(SqlRows rows, QueryPage(c, sql, args, q.page.max_results, offset, &out.next_page_token));
    for (const SqlRow& r : rows) {
      ASSIGN_OR_RETURN(Experiment e, LoadExperiment(c, "experiment_id = ?", r[0].Int(), "vanished"));
      out.items.push_back(std::move(e));
    }
    return Status::Ok();
  }));
  return out;
}

Status SqlStore::RenameExperiment(const std::string& id, const std::string& new_name) {
  ASSIGN_OR_RETURN(int64_t n, ExperimentNumber(id));
  RETURN_IF_ERROR(CheckName("experiment name", new_name, 500));
  return Txn(true, [&](SqlConn& c) -> Status {
    auto rows = c.Query("UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ? "
                        "RETURNING experiment_id",
                        {new_name, NowMs(), n});
    if (!rows.ok() && c.last_failure() == SqlFailure::kUnique)
      return Status::Exists("Experiment(name=" + new_name + ") already exists");
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return Status::NotFound("No Experiment with id=" + id + " exists");
    return Status::Ok();
  });
}

Status SqlStore::SetExperimentLifecycle(const std::string& id, bool deleted) {
  ASSIGN_OR_RETURN(int64_t n, ExperimentNumber(id));
  if (deleted && n == 0) return Status::User("cannot delete the Default experiment");
  return Txn(true, [&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(SqlRows rows, c.Query("UPDATE experiments SET lifecycle_stage = ?, last_update_time = ? "
                                           "WHERE experiment_id = ? RETURNING experiment_id",
                                           {deleted ? "deleted" : "active", NowMs(), n}));
    if (rows.empty()) return Status::NotFound("No Experiment with id=" + id + " exists");
    return c.Run("UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE experiment_id = ?",
                 {deleted ? "deleted" : "active", deleted ? SqlValue(NowMs()) : SqlValue(), n});
  });
}

Status SqlStore::SetExperimentTag(const std::string& id, const Tag& tag) {
  ASSIGN_OR_RETURN(int64_t n, ExperimentNumber(id));
  RETURN_IF_ERROR(CheckKey("tag", tag.key));
  if (tag.value.size() > kMaxTagValue) return Status::User("tag value is longer than 8000 characters");
  return Txn(true, [&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(SqlRows rows, c.Query("SELECT 1 FROM experiments WHERE experiment_id = ?", {n}));
    if (rows.empty()) return Status::NotFound("No Experiment with id=" + id + " exists");
    return c.Run("INSERT INTO experiment_tags(experiment_id, key, value) VALUES (?, ?, ?) "
                 "ON CONFLICT(experiment_id, key) DO UPDATE SET value = excluded.value",
                 {n, tag.key, tag.value});
  });
}

Status SqlStore::DeleteExperimentTag(const std::string& id, const std::string& key) {
  ASSIGN_OR_RETURN(int64_t n, ExperimentNumber(id));
  return Txn(true, [&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(SqlRows rows, c.Query("SELECT 1 FROM experiments WHERE experiment_id = ?", {n}));
    if (rows.empty()) return Status::NotFound("No Experiment with id=" + id + " exists");
    ASSIGN_OR_RETURN(SqlRows gone, c.Query("DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ? "
                                           "RETURNING key", {n, key}));
    if (gone.empty()) return Status::NotFound("No tag with name: " + key + " in experiment with id " + id);
    return Status::Ok();
  });
}

// ---- runs -------------------------------------------------------------------

Result<RunInfo> LoadRunInfo(SqlConn& c, const std::string& run_id) {
  ASSIGN_OR_RETURN(SqlRows rows, c.Query(std::string("SELECT ") + kRunCols + " FROM runs WHERE run_uuid = ?", {run_id}));
  if (rows.empty()) return Status::NotFound("Run with id=" + run_id + " not found");
  return InfoFromRow(rows[0]);
}

Status LoadRunData(SqlConn& c, std::vector<Run>* runs) {
  // IN lists of a fixed width (padded with an id no run has), so each table's
  // query is one cached statement.
  constexpr size_t kWidth = 64;
  std::map<std::string, Run*> by_id;
  for (Run& r : *runs) by_id[r.info.run_id] = &r;
  for (size_t at = 0; at < runs->size(); at += kWidth) {
    std::vector<SqlValue> ids;
    for (size_t i = at; i < at + kWidth; i++) ids.push_back(i < runs->size() ? (*runs)[i].info.run_id : "");
    std::string in = "(" + Marks(kWidth) + ")";
    ASSIGN_OR_RETURN(SqlRows ms, c.Query("SELECT run_uuid, key, value, is_nan, timestamp, step FROM latest_metrics "
                                         "WHERE run_uuid IN " + in + " ORDER BY run_uuid, key",
                                         ids));
    for (const SqlRow& r : ms) by_id[r[0].Text()]->metrics.push_back(MetricFromRow(r, 1));
    ASSIGN_OR_RETURN(SqlRows ps, c.Query("SELECT run_uuid, key, value FROM params WHERE run_uuid IN " + in +
                                         " ORDER BY run_uuid, key",
                                         ids));
    for (const SqlRow& r : ps) by_id[r[0].Text()]->params.push_back({r[1].Text(), r[2].Text()});
    ASSIGN_OR_RETURN(SqlRows ts, c.Query("SELECT run_uuid, key, value FROM tags WHERE run_uuid IN " + in +
                                         " ORDER BY run_uuid, key",
                                         ids));
    for (const SqlRow& r : ts) by_id[r[0].Text()]->tags.push_back({r[1].Text(), r[2].Text()});
    RETURN_IF_ERROR(LoadRunInputs(c, in, ids, by_id));
    RETURN_IF_ERROR(LoadRunModelIo(c, in, ids, by_id));
  }
  return Status::Ok();
}

Result<Run> SqlStore::CreateRun(const std::string& experiment_id, const std::string& user_id,
                                const std::string& run_name, int64_t start_time, const std::vector<Tag>& tags) {
  ASSIGN_OR_RETURN(int64_t exp, ExperimentNumber(experiment_id.empty() ? "0" : experiment_id));
  std::vector<Tag> all = tags;
  std::string name = run_name;
  for (const Tag& t : tags) {
    RETURN_IF_ERROR(CheckKey("tag", t.key));
    if (t.value.size() > kMaxTagValue) return Status::User("tag '" + t.key + "' is longer than 8000 characters");
    if (t.key == "mlflow.runName" && name.empty()) name = t.value;
  }
  if (name.empty()) name = RandomRunName();
  bool has_name_tag = false;
  for (Tag& t : all)
    if (t.key == "mlflow.runName") t.value = name, has_name_tag = true;
  if (!has_name_tag) all.push_back({"mlflow.runName", name});
  Run run;
  run.info.run_id = NewRunId();
  run.info.experiment_id = std::to_string(exp);
  run.info.run_name = name;
  run.info.user_id = user_id;
  run.info.start_time = start_time ? start_time : NowMs();
  run.info.artifact_uri = "";
  Status st = Txn(true, [&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(SqlRows e, c.Query("SELECT lifecycle_stage, artifact_location FROM experiments "
                                        "WHERE experiment_id = ?",
                                        {exp}));
    if (e.empty()) return Status::NotFound("No Experiment with id=" + experiment_id + " exists");
    if (e[0][0].Text() != "active")
      return Status::User("the experiment " + experiment_id + " is deleted; restore it before creating runs in it");
    std::string loc = e[0][1].Text();
    while (!loc.empty() && loc.back() == '/') loc.pop_back();
    run.info.artifact_uri = loc + "/" + run.info.run_id + "/artifacts";
    RETURN_IF_ERROR(c.Run(std::string("INSERT INTO runs(") + kRunCols + ") VALUES (?, ?, ?, ?, 'RUNNING', ?, NULL, ?, 'active')",
                          {run.info.run_id, exp, name, user_id, run.info.start_time, run.info.artifact_uri}));
    std::vector<SqlValue> flat;
    for (const Tag& t : all) flat.insert(flat.end(), {run.info.run_id, t.key, t.value});
    return InsertRows(c, "INSERT INTO tags(run_uuid, key, value) VALUES", 3,
                      " ON CONFLICT(run_uuid, key) DO UPDATE SET value = excluded.value", flat);
  });
  if (!st.ok()) return st;
  std::sort(all.begin(), all.end(), [](const Tag& a, const Tag& b) { return a.key < b.key; });
  run.tags = std::move(all);
  return run;
}

Result<RunInfo> SqlStore::UpdateRun(const std::string& run_id, const std::string& status,
                                    std::optional<int64_t> end_time, const std::string& run_name) {
  RETURN_IF_ERROR(CheckRunId(run_id));
  static const std::set<std::string> kStatuses = {"RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"};
  if (!status.empty() && !kStatuses.count(status))
    return Status::User("invalid run status '" + status + "' (one of RUNNING, SCHEDULED, FINISHED, FAILED, KILLED)");
  RunInfo info;
  RETURN_IF_ERROR(Txn(true, [&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(info, LoadRunInfo(c, run_id));
    if (!status.empty()) info.status = status;
    if (end_time) info.end_time = end_time;
    if (!run_name.empty()) info.run_name = run_name;
    RETURN_IF_ERROR(c.Run("UPDATE runs SET status = ?, end_time = ?, name = ? WHERE run_uuid = ?",
                          {info.status, info.end_time ? SqlValue(*info.end_time) : SqlValue(), info.run_name, run_id}));
    if (!run_name.empty())
      RETURN_IF_ERROR(c.Run("INSERT INTO tags(run_uuid, key, value) VALUES (?, 'mlflow.runName', ?) "
                            "ON CONFLICT(run_uuid, key) DO UPDATE SET value = excluded.value",
                            {run_id, run_name}));
    return Status::Ok();
  }));
  return info;
}

Status SqlStore::SetRunLifecycle(const std::string& run_id, bool deleted) {
  RETURN_IF_ERROR(CheckRunId(run_id));
  return Txn(true, [&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(SqlRows rows, c.Query("UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE run_uuid = ? "
                                           "RETURNING run_uuid",
                                           {deleted ? "deleted" : "active", deleted ? SqlValue(NowMs()) : SqlValue(),
                                            run_id}));
    if (rows.empty()) return Status::NotFound("Run with id=" + run_id + " not found");
    return Status::Ok();
  });
}

Result<Run> SqlStore::GetRun(const std::string& run_id) {
  RETURN_IF_ERROR(CheckRunId(run_id));
  std::vector<Run> runs(1);
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    runs[0] = Run{};
    ASSIGN_OR_RETURN(runs[0].info, LoadRunInfo(c, run_id));
    return LoadRunData(c, &runs);
  }));
  return std::move(runs[0]);
}

Status SqlStore::LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                          const std::vector<Param>& params, const std::vector<Tag>& tags) {
  RETURN_IF_ERROR(CheckRunId(run_id));
  if (metrics.size() > 1000 || params.size() > 100 || tags.size() > 100 ||
      metrics.size() + params.size() + tags.size() > 1000)
    return Status::User("a batch holds at most 1000 metrics, 100 params and 100 tags, 1000 in all; got " +
                        std::to_string(metrics.size()) + " metrics, " + std::to_string(params.size()) + " params, " +
                        std::to_string(tags.size()) + " tags");
  std::map<std::string, std::string> batch_params;
  for (const Param& p : params) {
    RETURN_IF_ERROR(CheckKey("param", p.key));
    if (p.value.size() > kMaxParamValue)
      return Status::User("param '" + p.key + "' has a value longer than " + std::to_string(kMaxParamValue) +
                          " characters");
    auto [it, fresh] = batch_params.emplace(p.key, p.value);
    if (!fresh && it->second != p.value)
      return Status::User("duplicate param '" + p.key + "' with different values in one batch");
  }
  for (const Tag& t : tags) {
    RETURN_IF_ERROR(CheckKey("tag", t.key));
    if (t.value.size() > kMaxTagValue)
      return Status::User("tag '" + t.key + "' has a value longer than " + std::to_string(kMaxTagValue) + " characters");
  }
  // The newest point of each key in this batch, by (step, timestamp, value) as MLflow orders them.
  std::map<std::string, const Metric*> newest;
  for (const Metric& m : metrics) {
    RETURN_IF_ERROR(CheckKey("metric", m.key));
    const Metric*& n = newest[m.key];
    auto rank = [](const Metric* x) {
      return std::make_tuple(x->step, x->timestamp, std::isnan(x->value) ? -INFINITY : x->value);
    };
    if (!n || rank(&m) >= rank(n)) n = &m;
  }
  return Txn(true, [&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(SqlRows life, c.Query("SELECT lifecycle_stage FROM runs WHERE run_uuid = ?", {run_id}));
    if (life.empty()) return Status::NotFound("Run with id=" + run_id + " not found");
    if (life[0][0].Text() != "active")
      return Status::User("The run " + run_id + " must be in the 'active' state. Current state is " +
                          life[0][0].Text() + ".");
    if (!params.empty()) {
      ASSIGN_OR_RETURN(SqlRows have, c.Query("SELECT key, value FROM params WHERE run_uuid = ?", {run_id}));
      for (const SqlRow& r : have) {
        auto it = batch_params.find(r[0].Text());
        if (it != batch_params.end() && it->second != r[1].Text())
          return Status::User("Changing param values is not allowed. Param with key='" + it->first +
                              "' was already logged with value='" + r[1].Text() + "' for run ID='" + run_id +
                              "'. Attempted logging new value '" + it->second + "'.");
      }
      std::vector<SqlValue> flat;
      for (const auto& [k, v] : batch_params) flat.insert(flat.end(), {run_id, k, v});
      RETURN_IF_ERROR(InsertRows(c, "INSERT INTO params(run_uuid, key, value) VALUES", 3,
                                 " ON CONFLICT(run_uuid, key) DO NOTHING", flat));
    }
    if (!metrics.empty()) {
      std::vector<SqlValue> flat;
      flat.reserve(metrics.size() * 9);
      for (const Metric& m : metrics) {
        bool nan = std::isnan(m.value);
        flat.insert(flat.end(), {run_id, m.key, nan ? SqlValue() : SqlValue(m.value), int64_t{nan}, m.timestamp,
                                 m.step, m.model_id, m.dataset_name, m.dataset_digest});
      }
      RETURN_IF_ERROR(InsertRows(c, "INSERT INTO metrics(run_uuid, key, value, is_nan, timestamp, step, model_id, "
                                 "dataset_name, dataset_digest) VALUES", 9, "", flat));
      RETURN_IF_ERROR(LogModelMetrics(c, run_id, metrics));  // MLflow 3: the points about a LoggedModel
      flat.clear();
      for (const auto& [k, m] : newest) {
        bool nan = std::isnan(m->value);
        flat.insert(flat.end(), {run_id, k, nan ? SqlValue() : SqlValue(m->value), int64_t{nan}, m->timestamp,
                                 m->step});
      }
      RETURN_IF_ERROR(InsertRows(
          c, "INSERT INTO latest_metrics(run_uuid, key, value, is_nan, timestamp, step) VALUES", 6,
          " ON CONFLICT(run_uuid, key) DO UPDATE SET value = excluded.value, is_nan = excluded.is_nan, "
          "timestamp = excluded.timestamp, step = excluded.step WHERE excluded.step > latest_metrics.step OR "
          "(excluded.step = latest_metrics.step AND excluded.timestamp >= latest_metrics.timestamp)",
          flat));
    }
    if (!tags.empty()) {
      std::vector<SqlValue> flat;
      std::map<std::string, std::string> last;  // a key twice in one batch: the last value wins
      for (const Tag& t : tags) last[t.key] = t.value;
      for (const auto& [k, v] : last) flat.insert(flat.end(), {run_id, k, v});
      RETURN_IF_ERROR(InsertRows(c, "INSERT INTO tags(run_uuid, key, value) VALUES", 3,
                                 " ON CONFLICT(run_uuid, key) DO UPDATE SET value = excluded.value", flat));
      auto name = last.find("mlflow.runName");
      if (name != last.end())
        RETURN_IF_ERROR(c.Run("UPDATE runs SET name = ? WHERE run_uuid = ?", {name->second, run_id}));
    }
    return Status::Ok();
  });
}

Status SqlStore::DeleteRunTag(const std::string& run_id, const std::string& key) {
  RETURN_IF_ERROR(CheckRunId(run_id));
  return Txn(true, [&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(RunInfo info, LoadRunInfo(c, run_id));
    if (info.lifecycle_stage != "active")
      return Status::User("The run " + run_id + " must be in the 'active' state. Current state is " +
                          info.lifecycle_stage + ".");
    ASSIGN_OR_RETURN(SqlRows rows,
                     c.Query("DELETE FROM tags WHERE run_uuid = ? AND key = ? RETURNING key", {run_id, key}));
    if (rows.empty()) return Status::NotFound("No tag with name: " + key + " in run with id " + run_id);
    return Status::Ok();
  });
}

Result<Paged<Metric>> SqlStore::GetMetricHistory(const std::string& run_id, const std::string& key,
                                                 const Page& page) {
  RETURN_IF_ERROR(CheckRunId(run_id));
  ASSIGN_OR_RETURN(int64_t offset, OffsetFromToken(page.token));
  int64_t limit = page.max_results > 0 ? page.max_results : std::numeric_limits<int64_t>::max() - 1;
  Paged<Metric> out;
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    out.items.clear();
    ASSIGN_OR_RETURN(RunInfo info, LoadRunInfo(c, run_id));
    (void)info;
    // DISTINCT: a point logged twice (a client's or nginx's retry of a log-batch that had committed
    // on a replica that died before answering) is one point, as in MLflow's store, whose key holds
    // every column; so retrying a log route is safe (docs/scaling.md).
    ASSIGN_OR_RETURN(SqlRows rows,
                     QueryPage(c, "SELECT DISTINCT key, value, is_nan, timestamp, step, model_id, dataset_name, "
                               "dataset_digest FROM metrics WHERE run_uuid = ? AND key = ? "
                               "ORDER BY step, timestamp, value LIMIT ? OFFSET ?",
                               {run_id, key}, limit, offset, &out.next_page_token));
    for (const SqlRow& r : rows) {
      Metric m = MetricFromRow(r, 0);
      m.model_id = r[5].Text(), m.dataset_name = r[6].Text(), m.dataset_digest = r[7].Text();
      out.items.push_back(std::move(m));
    }
    return Status::Ok();
  }));
  return out;
}

// ---- search -----------------------------------------------------------------

namespace {

struct RunAttr {
  const char* name;
  const char* column;
  bool numeric;
};

const RunAttr* FindRunAttr(const std::string& key) {
  static const RunAttr kAttrs[] = {
      {"run_id", "r.run_uuid", false},        {"run_name", "r.name", false},
      {"status", "r.status", false},          {"user_id", "r.user_id", false},
      {"artifact_uri", "r.artifact_uri", false}, {"lifecycle_stage", "r.lifecycle_stage", false},
      {"start_time", "r.start_time", true},   {"end_time", "r.end_time", true},
      {"created", "r.start_time", true},      {"Created", "r.start_time", true},
      {"experiment_id", "r.experiment_id", true},
  };
  for (const RunAttr& a : kAttrs)
    if (key == a.name) return &a;
  return nullptr;
}

const char* TableOf(Entity e) {
  switch (e) {
    case Entity::kMetric: return "latest_metrics";
    case Entity::kParam: return "params";
    case Entity::kTag: return "tags";
    case Entity::kAttribute:
    case Entity::kDataset: break;
  }
  return "";
}

// A clause on the run's datasets (MLflow's datasets.name, .digest, .context) as an EXISTS
// over its inputs: the run matches when one of its datasets does.
Result<std::string> DatasetCondition(const Clause& cl, const std::string& compare) {
  std::string col;
  if (cl.key == "name") col = "d.name";
  else if (cl.key == "digest") col = "d.digest";
  else if (cl.key == "context") col = "t.value";
  else return Status::User("invalid filter: unknown dataset field '" + cl.key + "' (datasets.name, datasets.digest, "
                           "datasets.context)");
  std::string from = "run_inputs i JOIN datasets d ON d.id = i.dataset_id";
  if (cl.key == "context") from += " JOIN input_tags t ON t.input_id = i.id AND t.key = 'mlflow.data.context'";
  std::string cond = compare;
  cond.replace(cond.find("{}"), 2, col);
  return " AND EXISTS (SELECT 1 FROM " + from + " WHERE i.run_uuid = r.run_uuid AND " + cond + ")";
}

}  // namespace

Result<RunSearchSql> SqlStore::CompileRunSearch(const RunQuery& q) const {
  ASSIGN_OR_RETURN(Filter f, ParseFilter(q.filter));
  if (q.experiment_ids.size() > limits::kMaxSearchExperiments)
    return limits::TooMany("experiment_ids", q.experiment_ids.size(), "entries", limits::kMaxSearchExperiments);
  std::vector<int64_t> exps;
  for (const std::string& id : q.experiment_ids) {
    auto n = ExperimentNumber(id);
    if (!n.ok()) return Status::User("invalid experiment id '" + id.substr(0, 64) + "'");
    exps.push_back(*n);
  }
  if (exps.empty()) return Status::User("experiment_ids must name at least one experiment");

  // One inner join per metric, param or tag a clause names (a run without the key
  // cannot match); clauses on the same key share it.
  SearchSql s;
  std::vector<std::string> marked;  // metric comparisons, as written into s.where
  std::vector<std::pair<std::string, std::vector<SqlValue>>> probes;
  std::map<std::pair<Entity, std::string>, std::string> alias;
  auto join = [&](Entity e, const std::string& key, bool inner) {
    auto k = std::make_pair(e, key);
    auto it = alias.find(k);
    if (it != alias.end()) return it->second;
    std::string a = s.JoinKey(TableOf(e), {{"run_uuid", "r.run_uuid"}}, key, inner);
    alias.emplace(k, a);
    return a;
  };
  for (const Clause& cl : f.clauses) {
    if (cl.entity == Entity::kDataset) {
      if (cl.numeric) return Status::User("invalid filter: datasets." + cl.key + " must be compared to a quoted string");
      std::string cmp;
      if (cl.op == "LIKE" || cl.op == "ILIKE") cmp = Like("{}", cl.op == "ILIKE");
      else if (cl.op == "=" || cl.op == "!=") cmp = "{} " + cl.op + " ?";
      else if (cl.op == "IN" || cl.op == "NOT IN") cmp = "{} " + cl.op + " (" + Marks(cl.values.size()) + ")";
      else return Status::User("invalid filter: '" + cl.op + "' cannot compare datasets." + cl.key +
                               " (strings take =, !=, LIKE, ILIKE, IN and NOT IN)");
      ASSIGN_OR_RETURN(std::string cond, DatasetCondition(cl, cmp));
      s.where += cond;
      for (const auto& v : cl.values) s.where_args.push_back(v);
      continue;
    }
    std::string col;
    bool numeric_col = false;
    if (cl.entity == Entity::kAttribute) {
      const RunAttr* a = FindRunAttr(cl.key);
      if (!a)
        return Status::User("invalid filter: unknown attribute '" + cl.key + "' (attributes: run_id, run_name, "
                            "status, user_id, artifact_uri, start_time, end_time)");
      col = a->column;
      numeric_col = a->numeric;
    } else {
      col = join(cl.entity, cl.key, true) + ".value";
      numeric_col = cl.entity == Entity::kMetric;
    }
    std::string name = std::string(EntityName(cl.entity)) + "." + cl.key;
    if (numeric_col) {
      if (!cl.numeric) return Status::User("invalid filter: " + name + " must be compared to a number");
      if (cl.op == "LIKE" || cl.op == "ILIKE" || cl.op == "IN" || cl.op == "NOT IN")
        return Status::User("invalid filter: '" + cl.op + "' cannot compare " + name + " (a number)");
      s.where += " AND " + col + " " + cl.op + " ?";
      if (cl.entity == Entity::kMetric) {
        s.where_args.push_back(cl.number);
        if (cl.op != "!=") {  // != reads no index either way
          marked.push_back(" AND " + col + " " + cl.op + " ?");
          probes.push_back({"SELECT COUNT(*) FROM (SELECT 1 FROM latest_metrics WHERE key = ? AND value " + cl.op +
                                " ? LIMIT ?) p",
                            {cl.key, cl.number, kBroadMatch}});
        }
      } else {
        ASSIGN_OR_RETURN(int64_t v, IntegerValue(cl));
        s.where_args.push_back(v);
      }
      continue;
    }
    if (cl.numeric) return Status::User("invalid filter: " + name + " must be compared to a quoted string");
    if (cl.op == "LIKE" || cl.op == "ILIKE") {
      s.where += " AND " + Like(col, cl.op == "ILIKE");
      s.where_args.push_back(cl.values[0]);
    } else if (cl.op == "=" || cl.op == "!=") {
      s.where += " AND " + col + " " + cl.op + " ?";
      s.where_args.push_back(cl.values[0]);
    } else if (cl.op == "IN" || cl.op == "NOT IN") {
      s.where += " AND " + col + " " + cl.op + " (" + Marks(cl.values.size()) + ")";
      for (const auto& v : cl.values) s.where_args.push_back(v);
    } else {
      return Status::User("invalid filter: '" + cl.op + "' cannot compare " + name +
                          " (strings take =, !=, LIKE, ILIKE, IN and NOT IN)");
    }
  }
  std::string order;
  RETURN_IF_ERROR(CheckOrderByCount(q.order_by.size()));
  for (const std::string& ob : q.order_by) {
    ASSIGN_OR_RETURN(OrderBy o, ParseOrderBy(ob));
    if (o.entity == Entity::kDataset)
      return Status::User("invalid order_by '" + ob + "': runs are ordered by attributes, metrics, params or tags");
    std::string dir = o.ascending ? " ASC" : " DESC";
    if (o.entity == Entity::kAttribute) {
      const RunAttr* a = FindRunAttr(o.key);
      if (!a) return Status::User("invalid order_by '" + ob + "': unknown attribute '" + o.key + "'");
      order += std::string(a->column) + dir + ", ";
      continue;
    }
    // A key a clause filters on is present in every row; others sort missing last.
    bool filtered = alias.count({o.entity, o.key}) > 0;
    std::string a = join(o.entity, o.key, false);
    if (!filtered) order += "(" + a + ".value IS NULL), ";
    order += a + ".value" + dir + ", ";
  }
  order += "r.start_time DESC, r.run_uuid ASC";
  RunSearchSql out;
  out.from = " FROM runs r" + s.joins + " WHERE r.experiment_id IN (" + Marks(exps.size()) +
             ") AND r.lifecycle_stage IN " + ViewSql(q.view) + s.where;
  out.order = std::move(order);
  if (dialect_ == Dialect::kSqlite && q.order_by.empty() && !marked.empty()) {
    out.from_runs_first = out.from;
    for (const std::string& m : marked) {
      std::string likely = " AND likely(" + m.substr(5) + ")";
      for (size_t at = out.from_runs_first.find(m); at != std::string::npos;
           at = out.from_runs_first.find(m, at + likely.size()))
        out.from_runs_first.replace(at, m.size(), likely);
    }
    out.probes = std::move(probes);
  }
  out.args = s.join_args;
  for (int64_t e : exps) out.args.push_back(e);
  out.args.insert(out.args.end(), s.where_args.begin(), s.where_args.end());
  return out;
}

Result<std::string> RunSearchFrom(SqlConn& c, const RunSearchSql& s, int64_t rows) {
  if (s.from_runs_first.empty() || rows > kRunsFirstRows) return s.from;
  for (const auto& [sql, args] : s.probes) {
    ASSIGN_OR_RETURN(SqlRows n, c.Query(sql, args));
    if (n.empty() || n[0][0].Int() < kBroadMatch) return s.from;  // a selective comparison: its index is faster
  }
  return s.from_runs_first;
}

Result<Paged<Run>> SqlStore::SearchRuns(const RunQuery& q) {
  RETURN_IF_ERROR(CheckMaxResults(q.page.max_results, kSearchRunsLimit));
  ASSIGN_OR_RETURN(int64_t offset, OffsetFromToken(q.page.token));
  ASSIGN_OR_RETURN(RunSearchSql compiled, CompileRunSearch(q));
  const std::vector<SqlValue>& args = compiled.args;

  Paged<Run> out;
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    out.items.clear();
    int64_t rows = q.page.max_results > 0 ? offset + q.page.max_results : std::numeric_limits<int64_t>::max();
    ASSIGN_OR_RETURN(std::string from, RunSearchFrom(c, compiled, rows));
    std::string sql = "SELECT r.run_uuid" + from + " ORDER BY " + compiled.order + " LIMIT ? OFFSET ?";
    ASSIGN_OR_RETURN(SqlRows ids, QueryPage(c, sql, args, q.page.max_results, offset, &out.next_page_token));
    if (ids.empty()) return Status::Ok();
    // The runs' info in bulk, then put back in the search's order.
    std::map<std::string, size_t> pos;
    for (size_t i = 0; i < ids.size(); i++) pos[ids[i][0].Text()] = i;
    out.items.resize(ids.size());
    constexpr size_t kWidth = 64;
    for (size_t at = 0; at < ids.size(); at += kWidth) {
      std::vector<SqlValue> in;
      for (size_t i = at; i < at + kWidth; i++) in.push_back(i < ids.size() ? ids[i][0].Text() : "");
      ASSIGN_OR_RETURN(SqlRows rows, c.Query(std::string("SELECT ") + kRunCols + " FROM runs WHERE run_uuid IN (" +
                                                 Marks(kWidth) + ")",
                                             in));
      for (const SqlRow& r : rows) out.items[pos[r[0].Text()]].info = InfoFromRow(r);
    }
    return LoadRunData(c, &out.items);
  }));
  return out;
}

// ---- lineage ----------------------------------------------------------------

Status SqlStore::LogLineage(const std::string& run_id, const std::vector<LineageItem>& items) {
  RETURN_IF_ERROR(CheckRunId(run_id));
  for (const LineageItem& i : items) {
    if (i.direction != "input" && i.direction != "output")
      return Status::User("lineage direction must be 'input' or 'output', not '" + i.direction + "'");
    if (!IsHashRef(i.hash)) return Status::User("lineage hash must be sha256:<64 hex digits>, not '" + i.hash + "'");
    RETURN_IF_ERROR(CheckName("lineage path", i.path, 4096));
  }
  return Txn(true, [&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(RunInfo info, LoadRunInfo(c, run_id));
    (void)info;
    std::vector<SqlValue> flat;
    for (const LineageItem& i : items)
      flat.insert(flat.end(), {run_id, i.direction, i.path, i.hash, i.kind.empty() ? "file" : i.kind, i.size});
    return InsertRows(c, "INSERT INTO lineage(run_uuid, direction, path, hash, kind, size) VALUES", 6,
                      " ON CONFLICT(run_uuid, direction, path) DO UPDATE SET hash = excluded.hash, "
                      "kind = excluded.kind, size = excluded.size",
                      flat);
  });
}

Result<std::vector<LineageItem>> SqlStore::GetLineage(const std::string& run_id) {
  RETURN_IF_ERROR(CheckRunId(run_id));
  std::vector<LineageItem> out;
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    out.clear();
    ASSIGN_OR_RETURN(RunInfo info, LoadRunInfo(c, run_id));
    (void)info;
    ASSIGN_OR_RETURN(SqlRows rows, c.Query("SELECT direction, path, hash, kind, size FROM lineage WHERE run_uuid = ? "
                                           "ORDER BY direction, path",
                                           {run_id}));
    for (const SqlRow& r : rows) out.push_back({r[0].Text(), r[1].Text(), r[2].Text(), r[3].Text(), r[4].Int()});
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<std::pair<std::string, LineageItem>>> SqlStore::FindLineage(const std::string& hash) {
  std::vector<std::pair<std::string, LineageItem>> out;
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    out.clear();
    ASSIGN_OR_RETURN(SqlRows rows, c.Query("SELECT run_uuid, direction, path, hash, kind, size FROM lineage "
                                           "WHERE hash = ? ORDER BY run_uuid, direction, path",
                                           {hash}));
    for (const SqlRow& r : rows)
      out.push_back({r[0].Text(), {r[1].Text(), r[2].Text(), r[3].Text(), r[4].Text(), r[5].Int()}});
    return Status::Ok();
  }));
  return out;
}

// ---- artifacts ----------------------------------------------------------------

Status SqlStore::PutArtifact(const std::string& path, const std::string& hash, int64_t size) {
  RETURN_IF_ERROR(CheckName("artifact path", path, 4096));
  if (!IsHashRef(hash)) return Status::Internal("artifact hash must be sha256:<hex>");
  return Txn(true, [&](SqlConn& c) {
    return c.Run("INSERT INTO artifacts(path, hash, size) VALUES (?, ?, ?) "
                 "ON CONFLICT(path) DO UPDATE SET hash = excluded.hash, size = excluded.size",
                 {path, hash, size});
  });
}

Result<ArtifactEntry> SqlStore::GetArtifact(const std::string& path) {
  ArtifactEntry e;
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(SqlRows rows, c.Query("SELECT hash, size FROM artifacts WHERE path = ?", {path}));
    if (rows.empty()) return Status::NotFound("no artifact at '" + path + "'");
    e.path = path, e.hash = rows[0][0].Text(), e.size = rows[0][1].Int();
    return Status::Ok();
  }));
  return e;
}

Result<std::vector<ArtifactEntry>> SqlStore::ListArtifacts(const std::string& folder) {
  std::string prefix = folder;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  std::string lo = prefix.empty() ? "" : prefix + "/";
  std::string hi = prefix.empty() ? "\x7f\x7f\x7f\x7f" : prefix + "0";  // '0' follows '/'
  std::vector<ArtifactEntry> out;
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    out.clear();
    ASSIGN_OR_RETURN(SqlRows rows, c.Query("SELECT path, hash, size FROM artifacts WHERE path >= ? AND path < ? "
                                           "ORDER BY path",
                                           {lo, hi}));
    std::set<std::string> dirs;
    for (const SqlRow& r : rows) {
      std::string rel = r[0].Text().substr(lo.size());
      size_t slash = rel.find('/');
      if (slash == std::string::npos) {
        out.push_back({rel, false, r[2].Int(), r[1].Text()});
      } else if (dirs.insert(rel.substr(0, slash)).second) {
        out.push_back({rel.substr(0, slash), true, 0, ""});
      }
    }
    std::sort(out.begin(), out.end(), [](const ArtifactEntry& a, const ArtifactEntry& b) { return a.path < b.path; });
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<std::string>> SqlStore::ReferencedObjects() {
  std::vector<std::string> out;
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    out.clear();
    ASSIGN_OR_RETURN(SqlRows rows, c.Query("SELECT DISTINCT hash FROM artifacts UNION SELECT DISTINCT package_hash "
                                           "FROM model_versions WHERE package_hash != ''",
                                           {}));
    for (const SqlRow& r : rows) out.push_back(r[0].Text());
    return Status::Ok();
  }));
  return out;
}

Status SqlStore::DeleteArtifacts(const std::string& path) {
  return Txn(true, [&](SqlConn& c) {
    return c.Run("DELETE FROM artifacts WHERE path = ? OR (path >= ? AND path < ?)", {path, path + "/", path + "0"});
  });
}

}  // namespace forja::meta
