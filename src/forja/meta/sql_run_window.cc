// The web UI's runs table on SQL: a window of runs/search (the same filter and order_by,
// compiled by CompileRunSearch) with the count of every match, rows carrying only the
// columns shown, the keys an experiment's runs have, and the runs grouped by a param with
// each shown metric's min, mean and max over every matching run, not just a window.
#include <cmath>
#include <limits>
#include <map>

#include "forja/core/limits.h"
#include "forja/meta/sql_store.h"

namespace forja::meta {

namespace {

// The keys are read from the newest runs only: enough to offer every column in practice,
// and a bounded scan (three index range reads per run) however many runs the experiment has.
constexpr int64_t kKeysFromRuns = 2000;

Status CheckWindow(const RunWindowQuery& q) {
  if (q.search.experiment_ids.size() != 1) return Status::User("the runs table searches exactly one experiment");
  if (q.limit < 1 || q.limit > kMaxRunWindow)
    return Status::User("limit must be 1 to " + std::to_string(kMaxRunWindow) + ", not " + std::to_string(q.limit));
  if (q.offset < 0 || q.offset > kMaxRunWindowOffset)
    return Status::User("offset must be 0 to " + std::to_string(kMaxRunWindowOffset) + ", not " +
                        std::to_string(q.offset));
  size_t n = q.params.size() + q.metrics.size() + q.tags.size();
  if (n > kMaxRunWindowColumns)
    return limits::TooMany("columns", n, "keys", kMaxRunWindowColumns);
  for (const auto* keys : {&q.params, &q.metrics, &q.tags})
    for (const std::string& k : *keys)
      if (k.empty() || k.size() > limits::kMaxKeyBytes)
        return Status::User("a column's key must be 1 to " + std::to_string(limits::kMaxKeyBytes) + " bytes");
  return Status::Ok();
}

Result<int64_t> ExperimentOf(const std::string& id) {
  if (id.empty() || id.size() > 18 || id.find_first_not_of("0123456789") != std::string::npos)
    return Status::User("invalid experiment id '" + id.substr(0, 64) + "'");
  return static_cast<int64_t>(std::stoll(id));
}

// `table`'s (run_uuid, key, value) rows of `runs` for `keys`, in one query.
Result<SqlRows> KeyValues(SqlConn& c, const char* table, const char* value_cols, const std::vector<SqlValue>& runs,
                          const std::vector<std::string>& keys) {
  if (keys.empty() || runs.empty()) return SqlRows{};
  std::vector<SqlValue> args = runs;
  for (const std::string& k : keys) args.push_back(k);
  return c.Query(std::string("SELECT run_uuid, key, ") + value_cols + " FROM " + table + " WHERE run_uuid IN (" +
                     Marks(runs.size()) + ") AND key IN (" + Marks(keys.size()) + ")",
                 args);
}

Result<std::vector<std::string>> DistinctKeys(SqlConn& c, const char* table, int64_t exp) {
  ASSIGN_OR_RETURN(SqlRows rows,
                   c.Query(std::string("SELECT DISTINCT k.key FROM ") + table +
                               " k WHERE k.run_uuid IN (SELECT run_uuid FROM runs WHERE experiment_id = ? AND "
                               "lifecycle_stage = 'active' ORDER BY start_time DESC LIMIT ?) ORDER BY k.key",
                           {exp, kKeysFromRuns}));
  std::vector<std::string> out;
  for (const SqlRow& r : rows) out.push_back(r[0].Text());
  return out;
}

}  // namespace

Result<RunWindow> SqlStore::SearchRunWindow(const RunWindowQuery& q) {
  RETURN_IF_ERROR(CheckWindow(q));
  ASSIGN_OR_RETURN(RunSearchSql sorted, CompileRunSearch(q.search));
  RunQuery unsorted = q.search;
  unsorted.order_by.clear();  // the count needs no sort joins
  ASSIGN_OR_RETURN(RunSearchSql counted, CompileRunSearch(unsorted));
  RunWindow out;
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    out = {};
    ASSIGN_OR_RETURN(SqlRows n, c.Query("SELECT COUNT(*)" + counted.from, counted.args));
    out.total = n.empty() ? 0 : n[0][0].Int();
    std::vector<SqlValue> args = sorted.args;
    args.push_back(q.limit);
    args.push_back(q.offset);
    ASSIGN_OR_RETURN(std::string from, RunSearchFrom(c, sorted, q.offset + q.limit));
    ASSIGN_OR_RETURN(SqlRows rows, c.Query("SELECT r.run_uuid, r.name, r.status, r.start_time, r.end_time" + from +
                                               " ORDER BY " + sorted.order + " LIMIT ? OFFSET ?",
                                           args));
    std::map<std::string, Run*> by_id;
    std::vector<SqlValue> ids;
    out.runs.resize(rows.size());
    for (size_t i = 0; i < rows.size(); i++) {
      RunInfo& info = out.runs[i].info;
      info.run_id = rows[i][0].Text(), info.run_name = rows[i][1].Text(), info.status = rows[i][2].Text();
      info.start_time = rows[i][3].Int();
      if (!rows[i][4].null()) info.end_time = rows[i][4].Int();
      info.experiment_id = q.search.experiment_ids[0];
      by_id[info.run_id] = &out.runs[i];
      ids.push_back(info.run_id);
    }
    ASSIGN_OR_RETURN(SqlRows ps, KeyValues(c, "params", "value", ids, q.params));
    for (const SqlRow& r : ps) by_id[r[0].Text()]->params.push_back({r[1].Text(), r[2].Text()});
    ASSIGN_OR_RETURN(SqlRows ts, KeyValues(c, "tags", "value", ids, q.tags));
    for (const SqlRow& r : ts) by_id[r[0].Text()]->tags.push_back({r[1].Text(), r[2].Text()});
    ASSIGN_OR_RETURN(SqlRows ms, KeyValues(c, "latest_metrics", "value, is_nan, timestamp, step", ids, q.metrics));
    for (const SqlRow& r : ms) {
      Metric m;
      m.key = r[1].Text();
      m.value = r[3].Int() ? std::numeric_limits<double>::quiet_NaN() : r[2].Real();
      m.timestamp = r[4].Int(), m.step = r[5].Int();
      by_id[r[0].Text()]->metrics.push_back(std::move(m));
    }
    return Status::Ok();
  }));
  return out;
}

Result<RunKeys> SqlStore::ListRunKeys(const std::string& experiment_id) {
  ASSIGN_OR_RETURN(int64_t exp, ExperimentOf(experiment_id));
  RunKeys out;
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(out.params, DistinctKeys(c, "params", exp));
    ASSIGN_OR_RETURN(out.metrics, DistinctKeys(c, "latest_metrics", exp));
    ASSIGN_OR_RETURN(out.tags, DistinctKeys(c, "tags", exp));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<RunGroup>> SqlStore::GroupRuns(const RunWindowQuery& q, const std::string& param) {
  RETURN_IF_ERROR(CheckWindow(q));
  if (param.empty() || param.size() > limits::kMaxKeyBytes)
    return Status::User("group_by must name a param (1 to " + std::to_string(limits::kMaxKeyBytes) + " bytes)");
  RunQuery unsorted = q.search;
  unsorted.order_by.clear();
  ASSIGN_OR_RETURN(RunSearchSql s, CompileRunSearch(unsorted));
  // The matching runs as a subquery, each with its value of the param (NULL: it has none).
  std::string matched = "(SELECT r.run_uuid" + s.from + ") m LEFT JOIN params g ON g.run_uuid = m.run_uuid AND g.key = ?";
  std::vector<SqlValue> args = s.args;
  args.push_back(param);
  std::vector<RunGroup> out;
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    out.clear();
    std::vector<SqlValue> a = args;
    a.push_back(kMaxRunGroups);
    ASSIGN_OR_RETURN(SqlRows groups, c.Query("SELECT g.value, COUNT(*) FROM " + matched +
                                                 " GROUP BY g.value ORDER BY COUNT(*) DESC, g.value LIMIT ?",
                                             a));
    std::map<std::optional<std::string>, RunGroup*> by_value;
    out.resize(groups.size());
    for (size_t i = 0; i < groups.size(); i++) {
      if (!groups[i][0].null()) out[i].value = groups[i][0].Text();
      out[i].count = groups[i][1].Int();
      by_value[out[i].value] = &out[i];
    }
    if (q.metrics.empty() || out.empty()) return Status::Ok();
    a = args;
    for (const std::string& k : q.metrics) a.push_back(k);
    // NaN values are stored as NULL, which the aggregates skip.
    ASSIGN_OR_RETURN(SqlRows stats,
                     c.Query("SELECT g.value, lm.key, COUNT(lm.value), MIN(lm.value), AVG(lm.value), MAX(lm.value) "
                             "FROM " + matched + " JOIN latest_metrics lm ON lm.run_uuid = m.run_uuid AND lm.key IN (" +
                                 Marks(q.metrics.size()) + ") GROUP BY g.value, lm.key ORDER BY lm.key",
                             a));
    for (const SqlRow& r : stats) {
      std::optional<std::string> v;
      if (!r[0].null()) v = r[0].Text();
      auto it = by_value.find(v);
      if (it == by_value.end() || r[2].Int() == 0) continue;  // a group past the cap; only NaNs
      it->second->metrics.push_back({r[1].Text(), r[2].Int(), r[3].Real(), r[4].Real(), r[5].Real()});
    }
    return Status::Ok();
  }));
  return out;
}

}  // namespace forja::meta
