// MLflow 3's LoggedModels on SQL: a model of an experiment with its own artifact folder,
// tags, params and the metric points logged about it (by runs, with model_id), what runs
// used and produced (runs/log-inputs' models, runs/outputs), the search over them
// (MLflow's filter grammar, meta/filter.h) and the link a model version keeps to one.
// Semantics follow MLflow's SQL store (mlflow/store/tracking/sqlalchemy_store.py): ids
// "m-" + 32 hex digits, artifacts under <experiment location>/models/<id>/artifacts,
// deletion is a soft delete, a metric filter matches any point of the metric.
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "forja/core/limits.h"
#include "forja/meta/sql_store.h"

namespace forja::meta {

namespace {

constexpr int64_t kSearchLimit = 10000;
constexpr size_t kMaxKey = 250;  // MLflow's MAX_ENTITY_KEY_LENGTH
constexpr size_t kMaxParams = 100;
constexpr size_t kMaxTags = 100;
constexpr size_t kMaxModelIo = 100;

const char* const kModelCols =
    "model_id, experiment_id, name, artifact_location, creation_time, last_updated_time, status, status_message, "
    "model_type, source_run_id, lifecycle_stage";

std::string Missing(const std::string& id) { return "Logged model with ID '" + id + "' not found."; }

// "m-" and 32 hex digits as MLflow makes them; anything else names no model (and is
// never put in a query's text, only bound).
bool IsModelId(const std::string& id) {
  if (id.size() != 34 || !id.starts_with("m-")) return false;
  for (size_t i = 2; i < id.size(); i++)
    if (!std::isxdigit(static_cast<unsigned char>(id[i]))) return false;
  return true;
}

Status CheckModelId(const std::string& id, const std::string& field = "model_id") {
  if (id.empty()) return Status::User("missing value for required parameter '" + field + "'");
  if (!IsModelId(id)) return Status::NotFound(Missing(id.substr(0, 64)));
  return Status::Ok();
}

// MLflow's _validate_logged_model_name.
Status CheckModelName(const std::string& name) {
  RETURN_IF_ERROR(CheckName("invalid value for 'name': the model name", name, 500));
  for (char c : std::string("/:.%\"'"))
    if (name.find(c) != std::string::npos)
      return Status::User("invalid value for 'name': '" + name.substr(0, 80) +
                          "' contains one of / : . % \" ' (MLflow's LoggedModel names cannot)");
  return Status::Ok();
}

Status CheckKeyValues(const char* field, const std::vector<std::pair<std::string, std::string>>& kv, size_t max_value) {
  for (size_t i = 0; i < kv.size(); i++) {
    std::string at = std::string(field) + "[" + std::to_string(i) + "]";
    RETURN_IF_ERROR(CheckName("invalid value for '" + at + ".key': the key", kv[i].first, kMaxKey));
    if (kv[i].second.size() > max_value)
      return Status::User("invalid value for '" + at + ".value': longer than " + std::to_string(max_value) +
                          " bytes");
  }
  return Status::Ok();
}

template <typename T>
std::vector<std::pair<std::string, std::string>> Pairs(const std::vector<T>& items) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const T& x : items) out.push_back({x.key, x.value});
  return out;
}

Status CheckTags(const std::vector<Tag>& tags) {
  if (tags.size() > kMaxTags)
    return Status::User("invalid value for 'tags': at most " + std::to_string(kMaxTags) + " at once; got " +
                        std::to_string(tags.size()));
  return CheckKeyValues("tags", Pairs(tags), limits::kMaxTagValueBytes);
}

Status CheckParams(const std::vector<Param>& params) {
  if (params.size() > kMaxParams)
    return Status::User("invalid value for 'params': at most " + std::to_string(kMaxParams) + " at once; got " +
                        std::to_string(params.size()));
  return CheckKeyValues("params", Pairs(params), limits::kMaxParamValueBytes);
}

LoggedModel ModelFromRow(const SqlRow& r) {
  LoggedModel m;
  m.model_id = r[0].Text();
  m.experiment_id = r[1].AsText();
  m.name = r[2].Text();
  m.artifact_location = r[3].Text();
  m.creation_timestamp = r[4].Int();
  m.last_updated_timestamp = r[5].Int();
  m.status = r[6].Text();
  m.status_message = r[7].Text();
  m.model_type = r[8].Text();
  m.source_run_id = r[9].Text();
  m.lifecycle_stage = r[10].Text();
  return m;
}

// Tags, params and metric points of `models` (in bulk, by IN lists of a fixed width).
Status LoadModelData(SqlConn& c, std::vector<LoggedModel>* models) {
  constexpr size_t kWidth = 32;
  std::map<std::string, LoggedModel*> by_id;
  for (LoggedModel& m : *models) by_id[m.model_id] = &m;
  for (size_t at = 0; at < models->size(); at += kWidth) {
    std::vector<SqlValue> ids;
    for (size_t i = at; i < at + kWidth; i++) ids.push_back(i < models->size() ? (*models)[i].model_id : "");
    std::string in = "(" + Marks(kWidth) + ")";
    ASSIGN_OR_RETURN(SqlRows ts, c.Query("SELECT model_id, key, value FROM logged_model_tags WHERE model_id IN " + in +
                                         " ORDER BY model_id, key",
                                         ids));
    for (const SqlRow& r : ts) by_id[r[0].Text()]->tags.push_back({r[1].Text(), r[2].Text()});
    ASSIGN_OR_RETURN(SqlRows ps, c.Query("SELECT model_id, key, value FROM logged_model_params WHERE model_id IN " +
                                         in + " ORDER BY model_id, key",
                                         ids));
    for (const SqlRow& r : ps) by_id[r[0].Text()]->params.push_back({r[1].Text(), r[2].Text()});
    ASSIGN_OR_RETURN(SqlRows ms, c.Query("SELECT model_id, key, value, is_nan, timestamp, step, run_uuid, dataset_name, "
                                         "dataset_digest FROM logged_model_metrics WHERE model_id IN " + in +
                                         " ORDER BY model_id, key, step, timestamp, id",
                                         ids));
    for (const SqlRow& r : ms) {
      Metric m;
      m.key = r[1].Text();
      m.value = r[3].Int() ? std::numeric_limits<double>::quiet_NaN() : r[2].Real();
      m.timestamp = r[4].Int(), m.step = r[5].Int();
      m.run_id = r[6].Text(), m.dataset_name = r[7].Text(), m.dataset_digest = r[8].Text();
      m.model_id = r[0].Text();
      by_id[m.model_id]->metrics.push_back(std::move(m));
    }
  }
  return Status::Ok();
}

// The model's row (deleted ones only when `allow_deleted`), NotFound otherwise.
Result<LoggedModel> LoadModel(SqlConn& c, const std::string& id, bool allow_deleted) {
  ASSIGN_OR_RETURN(SqlRows rows,
                   c.Query(std::string("SELECT ") + kModelCols + " FROM logged_models WHERE model_id = ?", {id}));
  if (rows.empty()) return Status::NotFound(Missing(id));
  LoggedModel m = ModelFromRow(rows[0]);
  if (!allow_deleted && m.lifecycle_stage != "active") return Status::NotFound(Missing(id));
  return m;
}

Status Touch(SqlConn& c, const std::string& id) {
  return c.Run("UPDATE logged_models SET last_updated_time = ? WHERE model_id = ?", {NowMs(), id});
}

}  // namespace

// ---- the models -------------------------------------------------------------------

Result<LoggedModel> SqlStore::CreateLoggedModel(const LoggedModel& in) {
  LoggedModel m = in;
  if (m.experiment_id.empty()) return Status::User("missing value for required parameter 'experiment_id'");
  if (m.experiment_id.size() > 18 || m.experiment_id.find_first_not_of("0123456789") != std::string::npos)
    return Status::NotFound("No Experiment with id=" + m.experiment_id.substr(0, 64) + " exists");
  if (m.name.empty()) m.name = RandomRunName();
  RETURN_IF_ERROR(CheckModelName(m.name));
  if (m.model_type.size() > 500) return Status::User("invalid value for 'model_type': longer than 500 characters");
  if (!m.source_run_id.empty()) RETURN_IF_ERROR(CheckRunId(m.source_run_id));
  RETURN_IF_ERROR(CheckTags(m.tags));
  RETURN_IF_ERROR(CheckParams(m.params));
  m.model_id = "m-" + NewRunId();
  m.status = "PENDING";
  m.status_message.clear();
  m.lifecycle_stage = "active";
  m.metrics.clear();
  RETURN_IF_ERROR(Txn(true, [&](SqlConn& c) -> Status {
    int64_t exp = std::stoll(m.experiment_id);
    ASSIGN_OR_RETURN(SqlRows e, c.Query("SELECT artifact_location, lifecycle_stage FROM experiments "
                                        "WHERE experiment_id = ?",
                                        {exp}));
    if (e.empty()) return Status::NotFound("No Experiment with id=" + m.experiment_id + " exists");
    if (e[0][1].Text() != "active")
      return Status::User("The experiment " + m.experiment_id + " must be in the 'active' state.");
    if (!m.source_run_id.empty()) {
      ASSIGN_OR_RETURN(SqlRows run, c.Query("SELECT 1 FROM runs WHERE run_uuid = ?", {m.source_run_id}));
      if (run.empty()) return Status::NotFound("Run with id=" + m.source_run_id + " not found");
    }
    std::string root = e[0][0].Text();
    while (root.size() > 1 && root.back() == '/') root.pop_back();
    m.artifact_location = root + "/models/" + m.model_id + "/artifacts";
    m.creation_timestamp = m.last_updated_timestamp = NowMs();
    RETURN_IF_ERROR(c.Run(std::string("INSERT INTO logged_models(") + kModelCols +
                              ") VALUES (?, ?, ?, ?, ?, ?, 'PENDING', '', ?, ?, 'active')",
                          {m.model_id, exp, m.name, m.artifact_location, m.creation_timestamp,
                           m.last_updated_timestamp, m.model_type, m.source_run_id}));
    std::map<std::string, std::string> tags, params;  // a key twice: the last value wins
    for (const Tag& t : m.tags) tags[t.key] = t.value;
    for (const Param& p : m.params) params[p.key] = p.value;
    for (const auto& [k, v] : tags)
      RETURN_IF_ERROR(c.Run("INSERT INTO logged_model_tags(model_id, key, value) VALUES (?, ?, ?)", {m.model_id, k, v}));
    for (const auto& [k, v] : params)
      RETURN_IF_ERROR(
          c.Run("INSERT INTO logged_model_params(model_id, key, value) VALUES (?, ?, ?)", {m.model_id, k, v}));
    m.tags.clear(), m.params.clear();
    for (const auto& [k, v] : tags) m.tags.push_back({k, v});
    for (const auto& [k, v] : params) m.params.push_back({k, v});
    return Status::Ok();
  }));
  return m;
}

Result<LoggedModel> SqlStore::GetLoggedModel(const std::string& id, bool allow_deleted) {
  RETURN_IF_ERROR(CheckModelId(id));
  std::vector<LoggedModel> out(1);
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(out[0], LoadModel(c, id, allow_deleted));
    return LoadModelData(c, &out);
  }));
  return std::move(out[0]);
}

Result<LoggedModel> SqlStore::FinalizeLoggedModel(const std::string& id, const std::string& status) {
  RETURN_IF_ERROR(CheckModelId(id));
  if (status != "READY" && status != "FAILED")
    return Status::User("invalid value for 'status': '" + status.substr(0, 40) +
                        "' (a model is finalized LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED)");
  RETURN_IF_ERROR(Txn(true, [&](SqlConn& c) -> Status {
    RETURN_IF_ERROR(LoadModel(c, id, false).status());
    return c.Run("UPDATE logged_models SET status = ?, last_updated_time = ? WHERE model_id = ?",
                 {status, NowMs(), id});
  }));
  return GetLoggedModel(id, false);
}

Status SqlStore::DeleteLoggedModel(const std::string& id) {
  RETURN_IF_ERROR(CheckModelId(id));
  return Txn(true, [&](SqlConn& c) -> Status {
    RETURN_IF_ERROR(LoadModel(c, id, false).status());
    return c.Run("UPDATE logged_models SET lifecycle_stage = 'deleted', last_updated_time = ? WHERE model_id = ?",
                 {NowMs(), id});
  });
}

Status SqlStore::SetLoggedModelTags(const std::string& id, const std::vector<Tag>& tags) {
  RETURN_IF_ERROR(CheckModelId(id));
  RETURN_IF_ERROR(CheckTags(tags));
  return Txn(true, [&](SqlConn& c) -> Status {
    RETURN_IF_ERROR(LoadModel(c, id, false).status());
    for (const Tag& t : tags)
      RETURN_IF_ERROR(c.Run("INSERT INTO logged_model_tags(model_id, key, value) VALUES (?, ?, ?) "
                            "ON CONFLICT(model_id, key) DO UPDATE SET value = excluded.value",
                            {id, t.key, t.value}));
    return Touch(c, id);
  });
}

Status SqlStore::DeleteLoggedModelTag(const std::string& id, const std::string& key) {
  RETURN_IF_ERROR(CheckModelId(id));
  return Txn(true, [&](SqlConn& c) -> Status {
    RETURN_IF_ERROR(LoadModel(c, id, false).status());
    ASSIGN_OR_RETURN(SqlRows rows, c.Query("DELETE FROM logged_model_tags WHERE model_id = ? AND key = ? RETURNING key",
                                           {id, key}));
    if (rows.empty()) return Status::NotFound("No tag with key '" + key.substr(0, 250) + "' on logged model " + id);
    return Touch(c, id);
  });
}

Status SqlStore::LogLoggedModelParams(const std::string& id, const std::vector<Param>& params) {
  RETURN_IF_ERROR(CheckModelId(id));
  RETURN_IF_ERROR(CheckParams(params));
  return Txn(true, [&](SqlConn& c) -> Status {
    RETURN_IF_ERROR(LoadModel(c, id, false).status());
    for (const Param& p : params) {
      ASSIGN_OR_RETURN(SqlRows have, c.Query("SELECT value FROM logged_model_params WHERE model_id = ? AND key = ?",
                                             {id, p.key}));
      if (!have.empty() && have[0][0].Text() != p.value)
        return Status::User("Changing param values is not allowed. Param with key='" + p.key +
                            "' was already logged with value='" + have[0][0].Text() + "' for logged model " + id);
      if (have.empty())
        RETURN_IF_ERROR(c.Run("INSERT INTO logged_model_params(model_id, key, value) VALUES (?, ?, ?)",
                              {id, p.key, p.value}));
    }
    return Touch(c, id);
  });
}

// ---- search -----------------------------------------------------------------------

namespace {

struct ModelAttr {
  const char* name;
  const char* column;
  bool numeric;
};

// MLflow's SqlLoggedModel columns and their ALIASES.
const ModelAttr* FindModelAttr(const std::string& key) {
  static const ModelAttr kAttrs[] = {
      {"model_id", "m.model_id", false},
      {"name", "m.name", false},
      {"model_type", "m.model_type", false},
      {"status", "m.status", false},
      {"source_run_id", "m.source_run_id", false},
      {"artifact_location", "m.artifact_location", false},
      {"status_message", "m.status_message", false},
      {"experiment_id", "m.experiment_id", true},
      {"creation_timestamp", "m.creation_time", true},
      {"creation_timestamp_ms", "m.creation_time", true},
      {"creation_time", "m.creation_time", true},
      {"last_updated_timestamp", "m.last_updated_time", true},
      {"last_updated_timestamp_ms", "m.last_updated_time", true},
  };
  for (const ModelAttr& a : kAttrs)
    if (key == a.name) return &a;
  return nullptr;
}

const char* const kKnownAttrs =
    "name, model_id, model_type, status, source_run_id, artifact_location, creation_timestamp, "
    "last_updated_timestamp";

// status = 'READY' and status = 'LOGGED_MODEL_READY' both: the store keeps the short name.
std::string StatusValue(const std::string& v) {
  if (v == "LOGGED_MODEL_READY") return "READY";
  if (v == "LOGGED_MODEL_PENDING") return "PENDING";
  if (v == "LOGGED_MODEL_UPLOAD_FAILED") return "FAILED";
  return v;
}

// "{} op ?" (or the IN list) for a string clause, its values onto `args`.
Result<std::string> StringCompare(const Clause& cl, const std::string& name, const std::string& like,
                                  bool status, std::vector<SqlValue>* args) {
  if (cl.numeric) return Status::User("invalid filter: " + name + " must be compared to a quoted string");
  std::string cmp;
  if (cl.op == "LIKE" || cl.op == "ILIKE") cmp = like;
  else if (cl.op == "=" || cl.op == "!=") cmp = "{} " + cl.op + " ?";
  else if (cl.op == "IN" || cl.op == "NOT IN") cmp = "{} " + cl.op + " (" + Marks(cl.values.size()) + ")";
  else
    return Status::User("invalid filter: '" + cl.op + "' cannot compare " + name +
                        " (strings take =, !=, LIKE, ILIKE, IN and NOT IN)");
  for (const auto& v : cl.values) args->push_back(status ? StatusValue(v) : v);
  return cmp;
}

std::string Fill(std::string pattern, const std::string& col) {
  pattern.replace(pattern.find("{}"), 2, col);
  return pattern;
}

}  // namespace

Result<Paged<LoggedModel>> SqlStore::SearchLoggedModels(const LoggedModelQuery& q) {
  int64_t max_results = q.page.max_results > 0 ? q.page.max_results : 100;
  RETURN_IF_ERROR(CheckMaxResults(max_results, kSearchLimit));
  ASSIGN_OR_RETURN(int64_t offset, OffsetFromToken(q.page.token));
  ASSIGN_OR_RETURN(Filter f, ParseFilter(q.filter));
  if (q.experiment_ids.size() > limits::kMaxSearchExperiments)
    return limits::TooMany("experiment_ids", q.experiment_ids.size(), "entries", limits::kMaxSearchExperiments);
  if (q.experiment_ids.empty()) return Status::User("experiment_ids must name at least one experiment");
  std::vector<SqlValue> exps;
  for (const std::string& id : q.experiment_ids) {
    if (id.empty() || id.size() > 18 || id.find_first_not_of("0123456789") != std::string::npos)
      return Status::User("invalid value for 'experiment_ids': '" + id.substr(0, 64) + "' is not an experiment id");
    exps.push_back(static_cast<int64_t>(std::stoll(id)));
  }
  if (q.datasets.size() > limits::kMaxFilterClauses)
    return limits::TooMany("datasets", q.datasets.size(), "entries", limits::kMaxFilterClauses);
  // The datasets clause: a metric point counts when it is about one of them.
  std::string ds_cond;
  std::vector<SqlValue> ds_args;
  for (size_t i = 0; i < q.datasets.size(); i++) {
    const auto& d = q.datasets[i];
    if (d.name.empty())
      return Status::User("invalid value for 'datasets[" + std::to_string(i) + "].dataset_name': it is required");
    ds_cond += std::string(i ? " OR " : "") + "(x.dataset_name = ?" + (d.digest.empty() ? "" : " AND x.dataset_digest = ?") + ")";
    ds_args.push_back(d.name);
    if (!d.digest.empty()) ds_args.push_back(d.digest);
  }
  if (!ds_cond.empty()) ds_cond = " AND (" + ds_cond + ")";

  std::string where;
  std::vector<SqlValue> where_args;
  bool metric_clause = false;
  for (const Clause& cl : f.clauses) {
    std::string name = std::string(EntityName(cl.entity)) + "." + cl.key;
    switch (cl.entity) {
      case Entity::kDataset:
        return Status::User("invalid filter: LoggedModels are filtered by attributes, metrics, params or tags, not " +
                            name + " (name the datasets in the search's 'datasets')");
      case Entity::kAttribute: {
        const ModelAttr* a = FindModelAttr(cl.key);
        if (!a) return Status::User("invalid filter: unknown attribute '" + cl.key + "' (attributes: " + kKnownAttrs + ")");
        if (a->numeric) {
          if (!cl.numeric) return Status::User("invalid filter: " + name + " must be compared to a number");
          if (cl.op == "LIKE" || cl.op == "ILIKE" || cl.op == "IN" || cl.op == "NOT IN")
            return Status::User("invalid filter: '" + cl.op + "' cannot compare " + name + " (a number)");
          ASSIGN_OR_RETURN(int64_t v, IntegerValue(cl));
          where += " AND " + std::string(a->column) + " " + cl.op + " ?";
          where_args.push_back(v);
        } else {
          ASSIGN_OR_RETURN(std::string cmp, StringCompare(cl, name, Like("{}", cl.op == "ILIKE"),
                                                          cl.key == "status", &where_args));
          where += " AND " + Fill(cmp, a->column);
        }
        break;
      }
      case Entity::kMetric: {
        if (!cl.numeric) return Status::User("invalid filter: " + name + " must be compared to a number");
        if (cl.op == "LIKE" || cl.op == "ILIKE" || cl.op == "IN" || cl.op == "NOT IN")
          return Status::User("invalid filter: '" + cl.op + "' cannot compare " + name + " (a number)");
        metric_clause = true;
        where += " AND EXISTS (SELECT 1 FROM logged_model_metrics x WHERE x.model_id = m.model_id AND x.key = ? "
                 "AND x.is_nan = 0 AND x.value " + cl.op + " ?" + ds_cond + ")";
        where_args.push_back(cl.key);
        where_args.push_back(cl.number);
        where_args.insert(where_args.end(), ds_args.begin(), ds_args.end());
        break;
      }
      case Entity::kParam:
      case Entity::kTag: {
        std::string table = cl.entity == Entity::kParam ? "logged_model_params" : "logged_model_tags";
        std::vector<SqlValue> args{cl.key};
        ASSIGN_OR_RETURN(std::string cmp, StringCompare(cl, name, Like("{}", cl.op == "ILIKE"), false, &args));
        where += " AND EXISTS (SELECT 1 FROM " + table + " x WHERE x.model_id = m.model_id AND x.key = ? AND " +
                 Fill(cmp, "x.value") + ")";
        where_args.insert(where_args.end(), args.begin(), args.end());
        break;
      }
    }
  }
  if (!ds_cond.empty() && !metric_clause) {  // no metric clause: any point on the datasets
    where += " AND EXISTS (SELECT 1 FROM logged_model_metrics x WHERE x.model_id = m.model_id" + ds_cond + ")";
    where_args.insert(where_args.end(), ds_args.begin(), ds_args.end());
  }

  // Order: the clauses, then the newest first and the id (a stable page order), as MLflow.
  RETURN_IF_ERROR(CheckOrderByCount(q.order_by.size()));
  std::string order;
  std::vector<SqlValue> order_args;
  bool by_created = false, by_id = false;
  for (size_t i = 0; i < q.order_by.size(); i++) {
    const auto& o = q.order_by[i];
    std::string field = "order_by[" + std::to_string(i) + "].field_name";
    std::string dir = o.ascending ? " ASC" : " DESC";
    if (o.field.starts_with("metrics.")) {
      std::string key = o.field.substr(8);
      if (key.empty()) return Status::User("invalid value for '" + field + "': 'metrics.' names no metric");
      std::string sub = "(SELECT x.value FROM logged_model_metrics x WHERE x.model_id = m.model_id AND x.key = ?";
      std::vector<SqlValue> args{key};
      if (!o.dataset_name.empty()) sub += " AND x.dataset_name = ?", args.push_back(o.dataset_name);
      if (!o.dataset_digest.empty()) sub += " AND x.dataset_digest = ?", args.push_back(o.dataset_digest);
      sub += " ORDER BY x.timestamp DESC, x.step DESC, x.run_uuid ASC LIMIT 1)";
      order += "(" + sub + " IS NULL), " + sub + dir + ", ";  // models without the metric last
      for (int twice = 0; twice < 2; twice++) order_args.insert(order_args.end(), args.begin(), args.end());
      continue;
    }
    if (o.field.find('.') != std::string::npos)
      return Status::User("invalid value for '" + field + "': '" + o.field.substr(0, 80) +
                          "' (LoggedModels are ordered by an attribute or metrics.<key>)");
    if (!o.dataset_name.empty() || !o.dataset_digest.empty())
      return Status::User("invalid value for '" + field + "': a dataset applies to metrics.<key> only");
    const ModelAttr* a = FindModelAttr(o.field);
    if (!a)
      return Status::User("invalid value for '" + field + "': unknown attribute '" + o.field.substr(0, 80) +
                          "' (attributes: " + kKnownAttrs + ")");
    by_created = by_created || std::string(a->column) == "m.creation_time";
    by_id = by_id || std::string(a->column) == "m.model_id";
    order += std::string(a->column) + dir + ", ";
  }
  if (!by_created) order += "m.creation_time DESC, ";
  if (!by_id) order += "m.model_id ASC, ";
  order.resize(order.size() - 2);
  std::string sql = std::string("SELECT ") + kModelCols + " FROM logged_models m WHERE m.experiment_id IN (" +
                    Marks(exps.size()) + ") AND m.lifecycle_stage = 'active'" + where + " ORDER BY " + order +
                    " LIMIT ? OFFSET ?";
  std::vector<SqlValue> args = exps;
  args.insert(args.end(), where_args.begin(), where_args.end());
  args.insert(args.end(), order_args.begin(), order_args.end());
  Paged<LoggedModel> out;
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    out.items.clear();
    ASSIGN_OR_RETURN(SqlRows rows, QueryPage(c, sql, args, max_results, offset, &out.next_page_token));
    for (const SqlRow& r : rows) out.items.push_back(ModelFromRow(r));
    return LoadModelData(c, &out.items);
  }));
  return out;
}

// ---- runs' models, metrics about models, versions of models ---------------------------------

Status SqlStore::LogModelIo(const std::string& run_id, bool output, const std::vector<ModelIo>& models) {
  RETURN_IF_ERROR(CheckRunId(run_id));
  const char* field = "models";
  if (models.size() > kMaxModelIo)
    return Status::User(std::string("invalid value for '") + field + "': at most " + std::to_string(kMaxModelIo) +
                        " at once; got " + std::to_string(models.size()));
  for (size_t i = 0; i < models.size(); i++)
    if (models[i].model_id.empty())
      return Status::User(std::string("missing value for required parameter '") + field + "[" + std::to_string(i) +
                          "].model_id'");
  return Txn(true, [&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(SqlRows run, c.Query("SELECT lifecycle_stage FROM runs WHERE run_uuid = ?", {run_id}));
    if (run.empty()) return Status::NotFound("Run with id=" + run_id + " not found");
    if (run[0][0].Text() != "active")
      return Status::User("The run " + run_id + " must be in the 'active' state. Current state is " +
                          run[0][0].Text() + ".");
    for (const ModelIo& m : models) {
      RETURN_IF_ERROR(CheckModelId(m.model_id));
      RETURN_IF_ERROR(LoadModel(c, m.model_id, false).status());
      RETURN_IF_ERROR(c.Run("INSERT INTO run_model_io(run_uuid, direction, model_id, step) VALUES (?, ?, ?, ?) "
                            "ON CONFLICT(run_uuid, direction, model_id) DO NOTHING",
                            {run_id, output ? "output" : "input", m.model_id, output ? m.step : int64_t{0}}));
    }
    return Status::Ok();
  });
}

Status LoadRunModelIo(SqlConn& c, const std::string& in, const std::vector<SqlValue>& ids,
                      std::map<std::string, Run*>& by_id) {
  ASSIGN_OR_RETURN(SqlRows rows, c.Query("SELECT run_uuid, direction, model_id, step FROM run_model_io "
                                         "WHERE run_uuid IN " + in + " ORDER BY run_uuid, direction, step, model_id",
                                         ids));
  for (const SqlRow& r : rows) {
    Run* run = by_id[r[0].Text()];
    (r[1].Text() == "output" ? run->model_outputs : run->model_inputs).push_back({r[2].Text(), r[3].Int()});
  }
  return Status::Ok();
}

Status LogModelMetrics(SqlConn& c, const std::string& run_id, const std::vector<Metric>& metrics) {
  std::set<std::string> checked;
  for (size_t i = 0; i < metrics.size(); i++) {
    const Metric& m = metrics[i];
    if (m.model_id.empty()) continue;
    if (m.dataset_name.size() > 500 || m.dataset_digest.size() > 36)
      return Status::User("invalid value for 'metrics[" + std::to_string(i) +
                          "]': dataset_name is at most 500 characters and dataset_digest 36");
    if (checked.insert(m.model_id).second) {
      if (!IsModelId(m.model_id)) return Status::NotFound(Missing(m.model_id.substr(0, 64)));
      RETURN_IF_ERROR(LoadModel(c, m.model_id, false).status());
    }
    bool nan = std::isnan(m.value);
    RETURN_IF_ERROR(c.Run("INSERT INTO logged_model_metrics(model_id, key, value, is_nan, timestamp, step, run_uuid, "
                          "dataset_name, dataset_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          {m.model_id, m.key, nan ? SqlValue() : SqlValue(m.value), int64_t{nan}, m.timestamp, m.step,
                           run_id, m.dataset_name, m.dataset_digest}));
  }
  return Status::Ok();
}

Status LinkLoggedModel(SqlConn& c, ModelVersion* v) {
  std::string from_source;
  if (v->source.starts_with("models:/m-")) {
    from_source = v->source.substr(8);
    while (!from_source.empty() && from_source.back() == '/') from_source.pop_back();
  }
  if (v->model_id.empty()) v->model_id = from_source;
  if (v->model_id.empty()) return Status::Ok();
  if (!from_source.empty() && from_source != v->model_id)
    return Status::User("invalid value for 'model_id': '" + v->model_id.substr(0, 64) + "' but source names " +
                        v->source.substr(0, 80));
  if (!IsModelId(v->model_id)) return Status::NotFound(Missing(v->model_id.substr(0, 64)));
  ASSIGN_OR_RETURN(LoggedModel m, LoadModel(c, v->model_id, false));
  // models:/m-<id> names no files: they are the model's. A source elsewhere (runs:/...) is where they are.
  v->storage_location = from_source.empty() ? "" : m.artifact_location;
  if (v->run_id.empty()) v->run_id = m.source_run_id;
  return Status::Ok();
}

}  // namespace forja::meta
