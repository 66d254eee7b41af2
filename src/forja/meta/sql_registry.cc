// The model registry and API tokens on SQL. Every change of a stage or alias is
// made in one transaction with its history entry and the gate check, after the
// model's key lock, so concurrent promotions are serial per model and each gate
// sees the state it replaces.
#include <map>
#include <set>

#include "forja/core/crash_point.h"
#include "forja/meta/sql_store.h"

namespace forja::meta {

namespace {

constexpr int64_t kSearchLimit = 50000;

const char* const kVersionCols =
    "name, version, creation_time, last_updated_time, user_id, current_stage, description, source, run_id, "
    "run_link, status, package_hash, model_id, storage_location";

// "a, b" with prefix "v." -> "v.a, v.b".
std::string Qualified(const std::string& cols, const std::string& prefix) {
  std::string out = prefix;
  for (char c : cols) {
    out += c;
    if (c == ' ') out += prefix;
  }
  return out;
}

ModelVersion VersionFromRow(const SqlRow& r) {
  ModelVersion v;
  v.name = r[0].Text();
  v.version = r[1].Int();
  v.creation_timestamp = r[2].Int();
  v.last_updated_timestamp = r[3].Int();
  v.user_id = r[4].Text();
  v.current_stage = r[5].Text();
  v.description = r[6].Text();
  v.source = r[7].Text();
  v.run_id = r[8].Text();
  v.run_link = r[9].Text();
  v.status = r[10].Text();
  v.package_hash = r[11].Text();
  v.model_id = r[12].Text();
  v.storage_location = r[13].Text();
  return v;
}

std::string VersionMissing(const std::string& name, int64_t version) {
  return "Model Version (name=" + name + ", version=" + std::to_string(version) + ") not found";
}

// MLflow 3's clients add "tags.`mlflow.prompt.is_prompt` != 'true'" to every model
// search to leave prompts out; a model without the tag is not a prompt, so for
// this one tag a missing value reads as 'false' (as MLflow's own store does).
bool IsPromptTag(const std::string& key) { return key == "mlflow.prompt.is_prompt"; }

// The value column of a tag joined under `alias` (LEFT-joined for the prompt tag).
std::string TagColumn(const std::string& alias, const std::string& key) {
  return IsPromptTag(key) ? "COALESCE(" + alias + ".value, 'false')" : alias + ".value";
}

std::string ModelMissing(const std::string& name) { return "Registered Model with name=" + name + " not found"; }

Status Append(SqlConn& c, const Transition& t) {
  return c.Run("INSERT INTO transitions(name, version, kind, from_value, to_value, user_id, time, comment, forced, "
               "gates) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               {t.name, t.version, t.kind, t.from, t.to, t.user, t.time, t.comment, int64_t{t.forced}, t.gates});
}

Status Touch(SqlConn& c, const std::string& name, int64_t now) {
  return c.Run("UPDATE registered_models SET last_updated_time = ? WHERE name = ?", {now, name});
}

Result<bool> ModelExists(SqlConn& c, const std::string& name) {
  ASSIGN_OR_RETURN(SqlRows rows, c.Query("SELECT 1 FROM registered_models WHERE name = ?", {name}));
  return !rows.empty();
}

Result<VersionFacts> Facts(SqlConn& c, ModelVersion v) {
  VersionFacts f;
  if (!v.run_id.empty()) {
    ASSIGN_OR_RETURN(SqlRows ms, c.Query("SELECT key, value, is_nan FROM latest_metrics WHERE run_uuid = ?", {v.run_id}));
    for (const SqlRow& r : ms)
      if (!r[2].Int()) f.metrics[r[0].Text()] = r[1].Real();
    ASSIGN_OR_RETURN(SqlRows ps, c.Query("SELECT key, value FROM params WHERE run_uuid = ?", {v.run_id}));
    for (const SqlRow& r : ps) f.params[r[0].Text()] = r[1].Text();
    ASSIGN_OR_RETURN(SqlRows ts, c.Query("SELECT key, value FROM tags WHERE run_uuid = ?", {v.run_id}));
    for (const SqlRow& r : ts) f.tags[r[0].Text()] = r[1].Text();
  }
  f.version = std::move(v);
  return f;
}

// The candidate, and whoever holds each stage and alias of its model now.
Result<PromotionFacts> LoadPromotionFacts(SqlConn& c, const ModelVersion& candidate) {
  PromotionFacts pf;
  ASSIGN_OR_RETURN(pf.candidate, Facts(c, candidate));
  for (const char* stage : {"Production", "Staging"}) {
    ASSIGN_OR_RETURN(SqlRows rows, c.Query(std::string("SELECT ") + kVersionCols +
                                               " FROM model_versions WHERE name = ? AND current_stage = ? "
                                               "ORDER BY version DESC LIMIT 1",
                                           {candidate.name, stage}));
    if (rows.empty()) continue;
    std::string key = stage[0] == 'P' ? "production" : "staging";
    ASSIGN_OR_RETURN(pf.holders[key], Facts(c, VersionFromRow(rows[0])));
  }
  ASSIGN_OR_RETURN(SqlRows aliases, c.Query("SELECT alias, version FROM aliases WHERE name = ?", {candidate.name}));
  for (const SqlRow& a : aliases) {
    ASSIGN_OR_RETURN(ModelVersion v, LoadVersion(c, candidate.name, a[1].Int()));
    ASSIGN_OR_RETURN(pf.holders["@" + a[0].Text()], Facts(c, std::move(v)));
  }
  return pf;
}

// What the model holds (for the roles' escalations), read after its lock.
Result<ModelHoldings> LoadHoldings(SqlConn& c, const std::string& name) {
  ModelHoldings h;
  ASSIGN_OR_RETURN(SqlRows stages, c.Query("SELECT version, current_stage FROM model_versions "
                                           "WHERE name = ? AND current_stage != 'None'",
                                           {name}));
  for (const SqlRow& r : stages) h.stages[r[0].Int()] = r[1].Text();
  ASSIGN_OR_RETURN(SqlRows aliases, c.Query("SELECT alias, version FROM aliases WHERE name = ? ORDER BY alias", {name}));
  for (const SqlRow& a : aliases) h.aliases.push_back({a[0].Text(), a[1].Int()});
  return h;
}

Result<RegisteredModel> LoadModel(SqlConn& c, const std::string& name) {
  ASSIGN_OR_RETURN(SqlRows rows, c.Query("SELECT name, creation_time, last_updated_time, description "
                                         "FROM registered_models WHERE name = ?",
                                         {name}));
  if (rows.empty()) return Status::NotFound(ModelMissing(name));
  RegisteredModel m;
  m.name = rows[0][0].Text();
  m.creation_timestamp = rows[0][1].Int();
  m.last_updated_timestamp = rows[0][2].Int();
  m.description = rows[0][3].Text();
  ASSIGN_OR_RETURN(SqlRows tags, c.Query("SELECT key, value FROM registered_model_tags WHERE name = ? ORDER BY key", {name}));
  for (const SqlRow& t : tags) m.tags.push_back({t[0].Text(), t[1].Text()});
  ASSIGN_OR_RETURN(SqlRows aliases, c.Query("SELECT alias, version FROM aliases WHERE name = ? ORDER BY alias", {name}));
  for (const SqlRow& a : aliases) m.aliases.push_back({a[0].Text(), a[1].Int()});
  // The newest version of each stage, as MLflow's latest_versions.
  ASSIGN_OR_RETURN(SqlRows latest, c.Query(std::string("SELECT ") + kVersionCols +
                                               " FROM model_versions v WHERE name = ? AND version = (SELECT MAX(version) "
                                               "FROM model_versions w WHERE w.name = v.name AND w.current_stage = "
                                               "v.current_stage) ORDER BY version",
                                           {name}));
  for (const SqlRow& r : latest) m.latest_versions.push_back(VersionFromRow(r));
  return m;
}

}  // namespace

Result<ModelVersion> LoadVersion(SqlConn& c, const std::string& name, int64_t version) {
  ASSIGN_OR_RETURN(SqlRows rows, c.Query(std::string("SELECT ") + kVersionCols +
                                             " FROM model_versions WHERE name = ? AND version = ?",
                                         {name, version}));
  if (rows.empty()) return Status::NotFound(VersionMissing(name, version));
  std::vector<ModelVersion> v{VersionFromRow(rows[0])};
  RETURN_IF_ERROR(LoadVersionExtras(c, &v));
  return std::move(v[0]);
}

Status LoadVersionExtras(SqlConn& c, std::vector<ModelVersion>* versions) {
  for (ModelVersion& v : *versions) {
    ASSIGN_OR_RETURN(SqlRows tags, c.Query("SELECT key, value FROM model_version_tags WHERE name = ? AND version = ? "
                                           "ORDER BY key",
                                           {v.name, v.version}));
    v.tags.clear();
    for (const SqlRow& t : tags) v.tags.push_back({t[0].Text(), t[1].Text()});
    ASSIGN_OR_RETURN(SqlRows aliases, c.Query("SELECT alias FROM aliases WHERE name = ? AND version = ? ORDER BY alias",
                                              {v.name, v.version}));
    v.aliases.clear();
    for (const SqlRow& a : aliases) v.aliases.push_back(a[0].Text());
  }
  return Status::Ok();
}

Status CheckAliasName(const std::string& alias) {
  if (alias.empty()) return Status::User("alias must not be empty");
  if (alias.size() > 255) return Status::User("alias '" + alias.substr(0, 40) + "...' is longer than 255 characters");
  for (unsigned char c : alias)
    if (!std::isalnum(c) && c != '_' && c != '-')
      return Status::User("invalid alias '" + alias.substr(0, 80) +
                          "': aliases may only contain alphanumerics, underscores and dashes");
  std::string lower;
  for (char c : alias) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool version_like = (lower.size() > 1 && lower[0] == 'v' && lower.find_first_not_of("0123456789", 1) == std::string::npos) ||
                      (lower.starts_with("version") && lower.size() > 7 &&
                       lower.find_first_not_of("0123456789", 7) == std::string::npos);
  if (lower == "latest" || version_like)
    return Status::User("alias '" + alias + "' is reserved (latest, v<number> and version<number> name versions)");
  // NAME@production is the stage to forja and MLflow clients: an alias of that name would mean another version to one of them.
  if (!CanonicalStage(lower).empty())
    return Status::User("alias '" + alias + "' is reserved: production, staging, archived and none name stages "
                        "(NAME@production is the Production stage); pick another alias, e.g. '" + lower + "-candidate'");
  return Status::Ok();
}

// ---- registered models --------------------------------------------------------

Result<RegisteredModel> SqlStore::CreateRegisteredModel(const std::string& name, const std::string& description,
                                                        const std::vector<Tag>& tags) {
  RETURN_IF_ERROR(CheckName("model name", name));
  for (const Tag& t : tags) RETURN_IF_ERROR(CheckName("tag key", t.key, 250));
  RegisteredModel m;
  RETURN_IF_ERROR(Txn(true, [&](SqlConn& c) -> Status {
    int64_t now = NowMs();
    Status st = c.Run("INSERT INTO registered_models(name, creation_time, last_updated_time, description, last_version) "
                      "VALUES (?, ?, ?, ?, 0)",
                      {name, now, now, description});
    if (!st.ok() && c.last_failure() == SqlFailure::kUnique)
      return Status::Exists("Registered Model (name=" + name + ") already exists.");
    RETURN_IF_ERROR(st);
    for (const Tag& t : tags)
      RETURN_IF_ERROR(c.Run("INSERT INTO registered_model_tags(name, key, value) VALUES (?, ?, ?) "
                            "ON CONFLICT(name, key) DO UPDATE SET value = excluded.value",
                            {name, t.key, t.value}));
    ASSIGN_OR_RETURN(m, LoadModel(c, name));
    return Status::Ok();
  }));
  return m;
}

Result<RegisteredModel> SqlStore::GetRegisteredModel(const std::string& name) {
  RegisteredModel m;
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(m, LoadModel(c, name));
    return Status::Ok();
  }));
  return m;
}

Result<RegisteredModel> SqlStore::UpdateRegisteredModel(const std::string& name, const std::string& description) {
  RegisteredModel m;
  RETURN_IF_ERROR(Txn(true, [&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(SqlRows rows, c.Query("UPDATE registered_models SET description = ?, last_updated_time = ? "
                                           "WHERE name = ? RETURNING name",
                                           {description, NowMs(), name}));
    if (rows.empty()) return Status::NotFound(ModelMissing(name));
    ASSIGN_OR_RETURN(m, LoadModel(c, name));
    return Status::Ok();
  }));
  return m;
}

Result<RegisteredModel> SqlStore::RenameRegisteredModel(const std::string& name, const std::string& new_name) {
  return RenameRegisteredModelIf(name, new_name, {});
}

Result<RegisteredModel> SqlStore::RenameRegisteredModelIf(const std::string& name, const std::string& new_name,
                                                          const HoldingsCheck& check) {
  RETURN_IF_ERROR(CheckName("model name", new_name));
  RegisteredModel m;
  RETURN_IF_ERROR(Txn(true, [&](SqlConn& c) -> Status {
    RETURN_IF_ERROR(c.LockKey("model:" + name));
    ASSIGN_OR_RETURN(bool exists, ModelExists(c, name));
    if (!exists) return Status::NotFound(ModelMissing(name));
    if (check) {
      ASSIGN_OR_RETURN(ModelHoldings held, LoadHoldings(c, name));
      RETURN_IF_ERROR(check(held));
    }
    int64_t now = NowMs();
    Status st = c.Run("UPDATE registered_models SET name = ?, last_updated_time = ? WHERE name = ?", {new_name, now, name});
    if (!st.ok() && c.last_failure() == SqlFailure::kUnique)
      return Status::Exists("Registered Model (name=" + new_name + ") already exists.");
    RETURN_IF_ERROR(st);
    for (const char* table : {"registered_model_tags", "model_versions", "model_version_tags", "aliases", "transitions",
                              "rollouts"})
      RETURN_IF_ERROR(c.Run(std::string("UPDATE ") + table + " SET name = ? WHERE name = ?", {new_name, name}));
    RETURN_IF_ERROR(Append(c, {0, new_name, 0, "renamed", name, new_name, "", now, "", false, ""}));
    ASSIGN_OR_RETURN(m, LoadModel(c, new_name));
    return Status::Ok();
  }));
  return m;
}

Status SqlStore::DeleteRegisteredModel(const std::string& name, const std::string& user) {
  return DeleteRegisteredModelIf(name, user, {});
}

Status SqlStore::DeleteRegisteredModelIf(const std::string& name, const std::string& user, const HoldingsCheck& check) {
  return Txn(true, [&](SqlConn& c) -> Status {
    RETURN_IF_ERROR(c.LockKey("model:" + name));
    ASSIGN_OR_RETURN(bool exists, ModelExists(c, name));
    if (!exists) return Status::NotFound(ModelMissing(name));
    if (check) {
      ASSIGN_OR_RETURN(ModelHoldings held, LoadHoldings(c, name));
      RETURN_IF_ERROR(check(held));
    }
    for (const char* table : {"registered_models", "registered_model_tags", "model_versions", "model_version_tags",
                              "aliases", "rollouts"})
      RETURN_IF_ERROR(c.Run(std::string("DELETE FROM ") + table + " WHERE name = ?", {name}));
    return Append(c, {0, name, 0, "deleted", name, "", user, NowMs(), "", false, ""});
  });
}

Result<Paged<RegisteredModel>> SqlStore::SearchRegisteredModels(const Query& q) {
  RETURN_IF_ERROR(CheckMaxResults(q.page.max_results, kSearchLimit));
  ASSIGN_OR_RETURN(int64_t offset, OffsetFromToken(q.page.token));
  ASSIGN_OR_RETURN(Filter f, ParseFilter(q.filter));
  SearchSql s;
  s.where = "1 = 1";
  for (const Clause& cl : f.clauses) {
    std::string col;
    if (cl.entity == Entity::kTag) {
      col = TagColumn(s.JoinKey("registered_model_tags", {{"name", "m.name"}}, cl.key, !IsPromptTag(cl.key)), cl.key);
    } else if (cl.entity == Entity::kAttribute && cl.key == "name") {
      col = "m.name";
    } else {
      return Status::User(std::string("invalid filter: registered models can be searched by name and tags.<key>, not ") +
                          EntityName(cl.entity) + "." + cl.key);
    }
    if (cl.numeric) return Status::User("invalid filter: " + cl.key + " must be compared to a quoted string");
    if (cl.op == "LIKE" || cl.op == "ILIKE") s.where += " AND " + Like(col, cl.op == "ILIKE");
    else if (cl.op == "=" || cl.op == "!=") s.where += " AND " + col + " " + cl.op + " ?";
    else return Status::User("invalid filter: '" + cl.op + "' cannot compare " + cl.key + " (use =, !=, LIKE or ILIKE)");
    s.where_args.push_back(cl.values[0]);
  }
  ASSIGN_OR_RETURN(std::string order,
                   OrderClause(q.order_by,
                               {{"name", "m.name"}, {"creation_timestamp", "m.creation_time"},
                                {"last_updated_timestamp", "m.last_updated_time"}},
                               "models order by name, creation_timestamp or last_updated_timestamp"));
  order += "m.name ASC";
  std::string sql = "SELECT m.name FROM registered_models m" + s.joins + " WHERE " + s.where + " ORDER BY " + order +
                    " LIMIT ? OFFSET ?";
  std::vector<SqlValue> args = s.Args();
  Paged<RegisteredModel> out;
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    out.items.clear();
    ASSIGN_OR_RETURN(SqlRows rows, QueryPage(c, sql, args, q.page.max_results, offset, &out.next_page_token));
    for (const SqlRow& r : rows) {
      ASSIGN_OR_RETURN(RegisteredModel m, LoadModel(c, r[0].Text()));
      out.items.push_back(std::move(m));
    }
    return Status::Ok();
  }));
  return out;
}

Status SqlStore::SetRegisteredModelTag(const std::string& name, const Tag& tag) {
  RETURN_IF_ERROR(CheckName("tag key", tag.key, 250));
  return Txn(true, [&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(bool exists, ModelExists(c, name));
    if (!exists) return Status::NotFound(ModelMissing(name));
    return c.Run("INSERT INTO registered_model_tags(name, key, value) VALUES (?, ?, ?) "
                 "ON CONFLICT(name, key) DO UPDATE SET value = excluded.value",
                 {name, tag.key, tag.value});
  });
}

Status SqlStore::DeleteRegisteredModelTag(const std::string& name, const std::string& key) {
  return Txn(true, [&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(bool exists, ModelExists(c, name));
    if (!exists) return Status::NotFound(ModelMissing(name));
    return c.Run("DELETE FROM registered_model_tags WHERE name = ? AND key = ?", {name, key});
  });
}

// ---- versions ---------------------------------------------------------------------

Result<ModelVersion> SqlStore::CreateModelVersion(const ModelVersion& in) {
  if (in.source.empty()) return Status::User("source must name where the model is (e.g. runs:/<run_id>/model)");
  for (const Tag& t : in.tags) RETURN_IF_ERROR(CheckName("tag key", t.key, 250));
  if (!in.package_hash.empty() && !IsHashRef(in.package_hash))
    return Status::User("package hash must be sha256:<64 hex digits>");
  ModelVersion v = in;
  RETURN_IF_ERROR(Txn(true, [&](SqlConn& c) -> Status {
    int64_t now = NowMs();
    RETURN_IF_ERROR(LinkLoggedModel(c, &v));  // models:/m-<id>: its files, its run
    if (!v.run_id.empty()) {
      RETURN_IF_ERROR(CheckRunId(v.run_id));
      ASSIGN_OR_RETURN(SqlRows run, c.Query("SELECT 1 FROM runs WHERE run_uuid = ?", {v.run_id}));
      if (run.empty()) return Status::NotFound("Run with id=" + v.run_id + " not found");
    }
    // The counter's row lock (PostgreSQL) or the write lock (SQLite) numbers
    // versions without gaps; a rolled-back transaction gives its number back.
    ASSIGN_OR_RETURN(SqlRows num, c.Query("UPDATE registered_models SET last_version = last_version + 1, "
                                          "last_updated_time = ? WHERE name = ? RETURNING last_version",
                                          {now, v.name}));
    if (num.empty()) return Status::NotFound(ModelMissing(v.name));
    v.version = num[0][0].Int();
    v.creation_timestamp = v.last_updated_timestamp = now;
    v.current_stage = "None";
    v.status = "READY";
    RETURN_IF_ERROR(c.Run(std::string("INSERT INTO model_versions(") + kVersionCols +
                              ") VALUES (?, ?, ?, ?, ?, 'None', ?, ?, ?, ?, 'READY', ?, ?, ?)",
                          {v.name, v.version, now, now, v.user_id, v.description, v.source, v.run_id, v.run_link,
                           v.package_hash, v.model_id, v.storage_location}));
    for (const Tag& t : v.tags)
      RETURN_IF_ERROR(c.Run("INSERT INTO model_version_tags(name, version, key, value) VALUES (?, ?, ?, ?) "
                            "ON CONFLICT(name, version, key) DO UPDATE SET value = excluded.value",
                            {v.name, v.version, t.key, t.value}));
    CrashPoint("register.before_commit");  // the version row written, not committed
    return Append(c, {0, v.name, v.version, "registered", "", "None", v.user_id, now, "", false, ""});
  }));
  CrashPoint("register.after_commit");  // committed, not yet acknowledged
  return v;
}

Result<ModelVersion> SqlStore::GetModelVersion(const std::string& name, int64_t version) {
  ModelVersion v;
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(v, LoadVersion(c, name, version));
    return Status::Ok();
  }));
  return v;
}

Result<ModelVersion> SqlStore::UpdateModelVersion(const std::string& name, int64_t version,
                                                  const std::string& description) {
  ModelVersion v;
  RETURN_IF_ERROR(Txn(true, [&](SqlConn& c) -> Status {
    int64_t now = NowMs();
    ASSIGN_OR_RETURN(SqlRows rows, c.Query("UPDATE model_versions SET description = ?, last_updated_time = ? "
                                           "WHERE name = ? AND version = ? RETURNING version",
                                           {description, now, name, version}));
    if (rows.empty()) return Status::NotFound(VersionMissing(name, version));
    RETURN_IF_ERROR(Touch(c, name, now));
    ASSIGN_OR_RETURN(v, LoadVersion(c, name, version));
    return Status::Ok();
  }));
  return v;
}

Status SqlStore::DeleteModelVersion(const std::string& name, int64_t version, const std::string& user) {
  return DeleteModelVersionIf(name, version, user, {});
}

Status SqlStore::DeleteModelVersionIf(const std::string& name, int64_t version, const std::string& user,
                                      const HoldingsCheck& check) {
  return Txn(true, [&](SqlConn& c) -> Status {
    RETURN_IF_ERROR(c.LockKey("model:" + name));
    if (check) {
      RETURN_IF_ERROR(LoadVersion(c, name, version).status());  // a missing version is a 404, not a refusal
      ASSIGN_OR_RETURN(ModelHoldings held, LoadHoldings(c, name));
      RETURN_IF_ERROR(check(held));
    }
    ASSIGN_OR_RETURN(SqlRows rows, c.Query("DELETE FROM model_versions WHERE name = ? AND version = ? "
                                           "RETURNING current_stage",
                                           {name, version}));
    if (rows.empty()) return Status::NotFound(VersionMissing(name, version));
    RETURN_IF_ERROR(c.Run("DELETE FROM model_version_tags WHERE name = ? AND version = ?", {name, version}));
    RETURN_IF_ERROR(c.Run("DELETE FROM aliases WHERE name = ? AND version = ?", {name, version}));
    int64_t now = NowMs();
    RETURN_IF_ERROR(Touch(c, name, now));
    return Append(c, {0, name, version, "deleted", rows[0][0].Text(), "", user, now, "", false, ""});
  });
}

Result<Paged<ModelVersion>> SqlStore::SearchModelVersions(const Query& q) {
  RETURN_IF_ERROR(CheckMaxResults(q.page.max_results, 200000));
  ASSIGN_OR_RETURN(int64_t offset, OffsetFromToken(q.page.token));
  ASSIGN_OR_RETURN(Filter f, ParseFilter(q.filter));
  SearchSql s;
  s.where = "1 = 1";
  for (const Clause& cl : f.clauses) {
    std::string col;
    bool numeric = false;
    if (cl.entity == Entity::kTag) {
      std::string a = s.JoinKey("model_version_tags", {{"name", "v.name"}, {"version", "v.version"}}, cl.key,
                                !IsPromptTag(cl.key));
      col = TagColumn(a, cl.key);
    } else if (cl.entity == Entity::kAttribute) {
      if (cl.key == "name") col = "v.name";
      else if (cl.key == "run_id") col = "v.run_id";
      else if (cl.key == "source_path" || cl.key == "source") col = "v.source";
      else if (cl.key == "current_stage") col = "v.current_stage";
      else if (cl.key == "version_number" || cl.key == "version") col = "v.version", numeric = true;
      else
        return Status::User("invalid filter: model versions can be searched by name, run_id, source_path, "
                            "version_number, current_stage and tags.<key>, not '" + cl.key + "'");
    } else {
      return Status::User(std::string("invalid filter: model versions cannot be searched by ") + EntityName(cl.entity));
    }
    if (numeric) {
      if (!cl.numeric) return Status::User("invalid filter: " + cl.key + " must be compared to a number");
      if (cl.op == "LIKE" || cl.op == "ILIKE" || cl.op == "IN" || cl.op == "NOT IN")
        return Status::User("invalid filter: '" + cl.op + "' cannot compare " + cl.key);
      ASSIGN_OR_RETURN(int64_t v, IntegerValue(cl));
      s.where += " AND " + col + " " + cl.op + " ?";
      s.where_args.push_back(v);
      continue;
    }
    if (cl.numeric) return Status::User("invalid filter: " + cl.key + " must be compared to a quoted string");
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
      return Status::User("invalid filter: '" + cl.op + "' cannot compare " + cl.key);
    }
  }
  ASSIGN_OR_RETURN(std::string order,
                   OrderClause(q.order_by,
                               {{"name", "v.name"}, {"version_number", "v.version"}, {"version", "v.version"},
                                {"creation_timestamp", "v.creation_time"},
                                {"last_updated_timestamp", "v.last_updated_time"}},
                               "versions order by name, version_number, creation_timestamp or "
                               "last_updated_timestamp"));
  order += "v.name ASC, v.version DESC";
  std::string sql = "SELECT " + Qualified(kVersionCols, "v.") + " FROM model_versions v" + s.joins + " WHERE " +
                    s.where + " ORDER BY " + order + " LIMIT ? OFFSET ?";
  std::vector<SqlValue> args = s.Args();
  Paged<ModelVersion> out;
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    out.items.clear();
    ASSIGN_OR_RETURN(SqlRows rows, QueryPage(c, sql, args, q.page.max_results, offset, &out.next_page_token));
    for (const SqlRow& r : rows) out.items.push_back(VersionFromRow(r));
    return LoadVersionExtras(c, &out.items);
  }));
  return out;
}

Result<std::vector<ModelVersion>> SqlStore::GetLatestVersions(const std::string& name,
                                                              const std::vector<std::string>& stages) {
  std::vector<std::string> want;
  for (const std::string& s : stages) {
    std::string c = CanonicalStage(s);
    if (c.empty()) return Status::User("invalid stage '" + s + "' (None, Staging, Production or Archived)");
    want.push_back(c);
  }
  std::vector<ModelVersion> out;
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(RegisteredModel m, LoadModel(c, name));
    out.clear();
    for (ModelVersion& v : m.latest_versions)
      if (want.empty() || std::find(want.begin(), want.end(), v.current_stage) != want.end()) out.push_back(v);
    return LoadVersionExtras(c, &out);
  }));
  return out;
}

Status SqlStore::SetModelVersionTag(const std::string& name, int64_t version, const Tag& tag) {
  RETURN_IF_ERROR(CheckName("tag key", tag.key, 250));
  return Txn(true, [&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(ModelVersion v, LoadVersion(c, name, version));
    (void)v;
    return c.Run("INSERT INTO model_version_tags(name, version, key, value) VALUES (?, ?, ?, ?) "
                 "ON CONFLICT(name, version, key) DO UPDATE SET value = excluded.value",
                 {name, version, tag.key, tag.value});
  });
}

Status SqlStore::DeleteModelVersionTag(const std::string& name, int64_t version, const std::string& key) {
  return Txn(true, [&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(ModelVersion v, LoadVersion(c, name, version));
    (void)v;
    return c.Run("DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?", {name, version, key});
  });
}

// ---- promotion ------------------------------------------------------------------

Result<ModelVersion> SqlStore::Promote(const Promotion& p, const GateCheck& check) {
  bool to_alias = !p.target.empty() && p.target[0] == '@';
  std::string alias = to_alias ? p.target.substr(1) : "";
  std::string stage = to_alias ? "" : CanonicalStage(p.target);
  if (to_alias) RETURN_IF_ERROR(CheckAliasName(alias));
  if (!to_alias && stage.empty())
    return Status::User("invalid stage '" + p.target + "': use None, Staging, Production, Archived or @alias");
  ModelVersion out;
  RETURN_IF_ERROR(Txn(true, [&](SqlConn& c) -> Status {
    RETURN_IF_ERROR(c.LockKey("model:" + p.name));
    ASSIGN_OR_RETURN(ModelVersion v, LoadVersion(c, p.name, p.version));
    std::string report;
    bool forced = false;
    if (check) {
      ASSIGN_OR_RETURN(PromotionFacts facts, LoadPromotionFacts(c, v));
      RETURN_IF_ERROR(check(facts, &report, &forced));
    }
    int64_t now = NowMs();
    if (to_alias) {
      ASSIGN_OR_RETURN(SqlRows cur, c.Query("SELECT version FROM aliases WHERE name = ? AND alias = ?", {p.name, alias}));
      std::string from = cur.empty() ? "" : std::to_string(cur[0][0].Int());
      RETURN_IF_ERROR(c.Run("INSERT INTO aliases(name, alias, version) VALUES (?, ?, ?) "
                            "ON CONFLICT(name, alias) DO UPDATE SET version = excluded.version",
                            {p.name, alias, p.version}));
      RETURN_IF_ERROR(Append(c, {0, p.name, p.version, "alias", from, "@" + alias, p.user, now, p.comment, forced,
                                 report}));
    } else {
      if (p.archive_existing && (stage == "Staging" || stage == "Production")) {
        ASSIGN_OR_RETURN(SqlRows others, c.Query("SELECT version FROM model_versions WHERE name = ? AND "
                                                 "current_stage = ? AND version != ?",
                                                 {p.name, stage, p.version}));
        for (const SqlRow& o : others) {
          RETURN_IF_ERROR(c.Run("UPDATE model_versions SET current_stage = 'Archived', last_updated_time = ? "
                                "WHERE name = ? AND version = ?",
                                {now, p.name, o[0].Int()}));
          RETURN_IF_ERROR(Append(c, {0, p.name, o[0].Int(), "stage", stage, "Archived", p.user, now,
                                     "archived: version " + std::to_string(p.version) + " moved to " + stage, false,
                                     ""}));
        }
      }
      RETURN_IF_ERROR(c.Run("UPDATE model_versions SET current_stage = ?, last_updated_time = ? "
                            "WHERE name = ? AND version = ?",
                            {stage, now, p.name, p.version}));
      RETURN_IF_ERROR(Append(c, {0, p.name, p.version, "stage", v.current_stage, stage, p.user, now, p.comment, forced,
                                 report}));
    }
    RETURN_IF_ERROR(Touch(c, p.name, now));
    ASSIGN_OR_RETURN(out, LoadVersion(c, p.name, p.version));
    CrashPoint("promote.before_commit");  // stage or alias and history written, not committed
    return Status::Ok();
  }));
  CrashPoint("promote.after_commit");  // committed, not yet acknowledged
  return out;
}

Status SqlStore::DeleteAlias(const std::string& name, const std::string& alias, const std::string& user) {
  return Txn(true, [&](SqlConn& c) -> Status {
    RETURN_IF_ERROR(c.LockKey("model:" + name));
    ASSIGN_OR_RETURN(bool exists, ModelExists(c, name));
    if (!exists) return Status::NotFound(ModelMissing(name));
    ASSIGN_OR_RETURN(SqlRows rows, c.Query("DELETE FROM aliases WHERE name = ? AND alias = ? RETURNING version",
                                           {name, alias}));
    if (rows.empty()) return Status::Ok();  // as MLflow: removing an absent alias is not an error
    int64_t now = NowMs();
    RETURN_IF_ERROR(Touch(c, name, now));
    return Append(c, {0, name, rows[0][0].Int(), "alias_removed", "@" + alias, "", user, now, "", false, ""});
  });
}

Result<ModelVersion> SqlStore::GetVersionByAlias(const std::string& name, const std::string& alias) {
  ModelVersion v;
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(SqlRows rows, c.Query("SELECT version FROM aliases WHERE name = ? AND alias = ?", {name, alias}));
    if (rows.empty()) {
      ASSIGN_OR_RETURN(bool exists, ModelExists(c, name));
      if (!exists) return Status::NotFound(ModelMissing(name));
      return Status::NotFound("Registered model alias " + alias + " not found.");
    }
    ASSIGN_OR_RETURN(v, LoadVersion(c, name, rows[0][0].Int()));
    return Status::Ok();
  }));
  return v;
}

Result<std::vector<Transition>> SqlStore::History(const std::string& name, int64_t version) {
  std::vector<Transition> out;
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    out.clear();
    std::string sql = "SELECT id, name, version, kind, from_value, to_value, user_id, time, comment, forced, gates "
                      "FROM transitions WHERE name = ?";
    std::vector<SqlValue> args{name};
    if (version > 0) sql += " AND version = ?", args.push_back(version);
    ASSIGN_OR_RETURN(SqlRows rows, c.Query(sql + " ORDER BY id", args));
    if (rows.empty()) {
      ASSIGN_OR_RETURN(bool exists, ModelExists(c, name));
      if (!exists) return Status::NotFound(ModelMissing(name));
      if (version > 0) return Status::NotFound(VersionMissing(name, version));
    }
    for (const SqlRow& r : rows)
      out.push_back({r[0].Int(), r[1].Text(), r[2].Int(), r[3].Text(), r[4].Text(), r[5].Text(), r[6].Text(),
                     r[7].Int(), r[8].Text(), r[9].Int() != 0, r[10].Text()});
    return Status::Ok();
  }));
  return out;
}

// ---- alerts -------------------------------------------------------------------------

Status SqlStore::RecordAlert(const ModelAlert& a) {
  return Txn(true, [&](SqlConn& c) -> Status {
    return c.Run(
        "INSERT INTO model_alerts(fingerprint, starts_at, name, status, model, version, severity, ends_at, labels, "
        "annotations, received) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(fingerprint, starts_at) DO UPDATE "
        "SET status = excluded.status, ends_at = excluded.ends_at, annotations = excluded.annotations, "
        "received = excluded.received",
        {a.fingerprint, a.starts_at, a.name, a.status, a.model, a.version, a.severity, a.ends_at, a.labels,
         a.annotations, a.received});
  });
}

Result<std::vector<ModelAlert>> SqlStore::ListAlerts(const std::string& model, const std::string& version, int limit) {
  std::vector<ModelAlert> out;
  std::string sql =
      "SELECT fingerprint, starts_at, name, status, model, version, severity, ends_at, labels, annotations, received "
      "FROM model_alerts";
  std::vector<SqlValue> args;
  if (!model.empty()) {
    sql += " WHERE model = ?";
    args.push_back(model);
    if (!version.empty()) {
      sql += " AND version = ?";
      args.push_back(version);
    }
  }
  sql += " ORDER BY received DESC, starts_at DESC LIMIT ?";
  args.push_back(static_cast<int64_t>(limit));
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    out.clear();
    ASSIGN_OR_RETURN(SqlRows rows, c.Query(sql, args));
    for (const SqlRow& r : rows)
      out.push_back({r[0].Text(), r[1].Int(), r[2].Text(), r[3].Text(), r[4].Text(), r[5].Text(), r[6].Text(),
                     r[7].Int(), r[8].Text(), r[9].Text(), r[10].Int()});
    return Status::Ok();
  }));
  return out;
}

// ---- tokens -------------------------------------------------------------------------

Status SqlStore::CreateToken(const std::string& name, const std::string& role, const std::string& hash) {
  RETURN_IF_ERROR(CheckName("token name", name, 100));
  if (role != "read" && role != "write" && role != "admin")
    return Status::User("invalid role '" + role + "': read, write or admin");
  return Txn(true, [&](SqlConn& c) -> Status {
    Status st = c.Run("INSERT INTO tokens(name, role, hash, created, revoked, last_used) VALUES (?, ?, ?, ?, 0, 0)",
                      {name, role, hash, NowMs()});
    if (!st.ok() && c.last_failure() == SqlFailure::kUnique)
      return Status::Exists("a token named '" + name + "' exists already; revoke it first or pick another name");
    return st;
  });
}

Status SqlStore::RevokeToken(const std::string& name) {
  return Txn(true, [&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(SqlRows rows, c.Query("UPDATE tokens SET revoked = 1, name = name || '#revoked-' || "
                                           "CAST(id AS TEXT) WHERE name = ? AND revoked = 0 RETURNING id",
                                           {name}));
    if (rows.empty()) return Status::NotFound("no active token named '" + name + "' (see forja server token list)");
    return Status::Ok();
  });
}

Result<std::vector<Token>> SqlStore::ListTokens() {
  std::vector<Token> out;
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    out.clear();
    ASSIGN_OR_RETURN(SqlRows rows, c.Query("SELECT id, name, role, created, revoked, last_used FROM tokens ORDER BY id", {}));
    for (const SqlRow& r : rows)
      out.push_back({r[0].Int(), r[1].Text(), r[2].Text(), r[3].Int(), r[4].Int() != 0, r[5].Int()});
    return Status::Ok();
  }));
  return out;
}

Result<Token> SqlStore::FindToken(const std::string& hash) {
  Token t;
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(SqlRows rows, c.Query("SELECT id, name, role, created, revoked, last_used FROM tokens "
                                           "WHERE hash = ? AND revoked = 0",
                                           {hash}));
    if (rows.empty()) return Status::NotFound("unknown or revoked token");
    const SqlRow& r = rows[0];
    t = {r[0].Int(), r[1].Text(), r[2].Text(), r[3].Int(), false, r[5].Int()};
    // last_used to the minute: a write per request would serialize every reader.
    int64_t now = NowMs();
    if (now - t.last_used > 60000) {
      RETURN_IF_ERROR(c.Run("UPDATE tokens SET last_used = ? WHERE id = ?", {now, t.id}));
      t.last_used = now;
    }
    return Status::Ok();
  }));
  return t;
}

}  // namespace forja::meta
