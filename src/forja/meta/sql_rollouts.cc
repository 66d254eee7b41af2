// Progressive rollouts on SQL (forja rollout; forja serve follows them). Begin and
// Update run after the model's key lock, as Promote does, so a rollout's start is
// serial with the model's promotions and with another start: the "is one running"
// check and the insert are one transaction, and exactly one of two starters wins.
// Each change appends a history entry of kind "rollout" in the same transaction.
#include <algorithm>

#include "forja/core/crash_point.h"
#include "forja/meta/sql_store.h"

namespace forja::meta {

namespace {

const char* const kRolloutCols =
    "id, name, target, from_version, to_version, weight, state, steps, user_id, started, updated, message";

Rollout RolloutFromRow(const SqlRow& r) {
  Rollout o;
  o.id = r[0].Int();
  o.name = r[1].Text();
  o.target = r[2].Text();
  o.from_version = r[3].Int();
  o.to_version = r[4].Int();
  o.weight = static_cast<int>(r[5].Int());
  o.state = r[6].Text();
  o.steps = r[7].Text();
  o.user = r[8].Text();
  o.started = r[9].Int();
  o.updated = r[10].Int();
  o.message = r[11].Text();
  return o;
}

// What a history entry says of a rollout: its weight while running, else how it ended.
std::string Phase(const Rollout& r) { return r.state == "running" ? std::to_string(r.weight) + "%" : r.state; }

Status AppendStep(SqlConn& c, const Rollout& r, const std::string& from, const std::string& user, int64_t now) {
  return c.Run("INSERT INTO transitions(name, version, kind, from_value, to_value, user_id, time, comment, forced, "
               "gates) VALUES (?, ?, 'rollout', ?, ?, ?, ?, ?, 0, '')",
               {r.name, r.to_version, from, Phase(r), user, now, r.message});
}

Status CheckWeight(int weight) {
  if (weight < 0 || weight > 100)
    return Status::User("invalid rollout weight " + std::to_string(weight) + ": a percentage between 0 and 100");
  return Status::Ok();
}

// "Production" / "Staging" / "@alias" from what the user typed; the other stages hold no traffic.
Result<std::string> RolloutTarget(const std::string& target) {
  if (!target.empty() && target[0] == '@') {
    RETURN_IF_ERROR(CheckAliasName(target.substr(1)));
    return target;
  }
  std::string stage = CanonicalStage(target);
  if (stage != "Production" && stage != "Staging")
    return Status::User("invalid rollout target '" + target.substr(0, 80) +
                        "': a rollout moves traffic to Production, Staging or an @alias");
  return stage;
}

// The version that holds `target` now (0: none).
Result<int64_t> Holder(SqlConn& c, const std::string& name, const std::string& target) {
  SqlRows rows;
  if (target[0] == '@') {
    ASSIGN_OR_RETURN(rows, c.Query("SELECT version FROM aliases WHERE name = ? AND alias = ?", {name, target.substr(1)}));
  } else {
    ASSIGN_OR_RETURN(rows, c.Query("SELECT version FROM model_versions WHERE name = ? AND current_stage = ? "
                                   "ORDER BY version DESC LIMIT 1",
                                   {name, target}));
  }
  return rows.empty() ? int64_t{0} : rows[0][0].Int();
}

}  // namespace

Result<Rollout> SqlStore::BeginRollout(const Rollout& r) {
  RETURN_IF_ERROR(CheckName("model name", r.name));
  ASSIGN_OR_RETURN(std::string target, RolloutTarget(r.target));
  RETURN_IF_ERROR(CheckWeight(r.weight));
  if (r.steps.size() > 1000) return Status::User("rollout steps are longer than 1000 characters");
  if (r.message.size() > 8000) return Status::User("rollout message is longer than 8000 characters");
  Rollout out = r;
  out.target = target;
  out.state = "running";
  RETURN_IF_ERROR(Txn(true, [&](SqlConn& c) -> Status {
    RETURN_IF_ERROR(c.LockKey("model:" + r.name));
    ASSIGN_OR_RETURN(SqlRows model, c.Query("SELECT 1 FROM registered_models WHERE name = ?", {r.name}));
    if (model.empty()) return Status::NotFound("Registered Model with name=" + r.name + " not found");
    RETURN_IF_ERROR(LoadVersion(c, r.name, r.to_version).status());
    ASSIGN_OR_RETURN(SqlRows running, c.Query(std::string("SELECT ") + kRolloutCols +
                                                  " FROM rollouts WHERE name = ? AND state = 'running'",
                                              {r.name}));
    if (!running.empty()) {
      Rollout o = RolloutFromRow(running[0]);
      return Status::Conflict("model " + r.name + " has a running rollout already (id " + std::to_string(o.id) +
                              ": version " + std::to_string(o.to_version) + " to " + o.target + " at " +
                              std::to_string(o.weight) + "%); wait for it or abort it with forja rollout abort " +
                              r.name);
    }
    ASSIGN_OR_RETURN(out.from_version, Holder(c, r.name, target));
    out.started = out.updated = NowMs();
    ASSIGN_OR_RETURN(SqlRows id, c.Query("INSERT INTO rollouts(name, target, from_version, to_version, weight, state, "
                                         "steps, user_id, started, updated, message) "
                                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                                         {out.name, out.target, out.from_version, out.to_version,
                                          int64_t{out.weight}, out.state, out.steps, out.user, out.started,
                                          out.updated, out.message}));
    if (id.empty()) return Status::Internal("inserting a rollout returned no id");
    out.id = id[0][0].Int();
    RETURN_IF_ERROR(AppendStep(c, out, "", out.user, out.started));
    CrashPoint("rollout.begin.before_commit");  // the record and its history written, not committed
    return Status::Ok();
  }));
  CrashPoint("rollout.begin.after_commit");  // committed, not yet acknowledged: a running rollout nobody drives
  return out;
}

Result<Rollout> SqlStore::UpdateRollout(const Rollout& r) {
  RETURN_IF_ERROR(CheckWeight(r.weight));
  if (r.state != "running" && r.state != "completed" && r.state != "rolled_back" && r.state != "aborted")
    return Status::User("invalid rollout state '" + r.state.substr(0, 40) +
                        "': running, completed, rolled_back or aborted");
  if (r.message.size() > 8000) return Status::User("rollout message is longer than 8000 characters");
  Rollout out;
  RETURN_IF_ERROR(Txn(true, [&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(SqlRows first, c.Query("SELECT name FROM rollouts WHERE id = ?", {r.id}));
    if (first.empty()) return Status::NotFound("no rollout with id " + std::to_string(r.id));
    RETURN_IF_ERROR(c.LockKey("model:" + first[0][0].Text()));
    // Read again after the lock: the state another writer left is the one that counts.
    ASSIGN_OR_RETURN(SqlRows rows,
                     c.Query(std::string("SELECT ") + kRolloutCols + " FROM rollouts WHERE id = ?", {r.id}));
    if (rows.empty()) return Status::NotFound("no rollout with id " + std::to_string(r.id));
    Rollout before = RolloutFromRow(rows[0]);
    if (!r.name.empty() && r.name != before.name)
      return Status::User("rollout " + std::to_string(r.id) + " is of model " + before.name + ", not " + r.name);
    if (before.state != "running")
      return Status::Conflict("rollout " + std::to_string(r.id) + " of " + before.name + " is " + before.state +
                              ", not running; start a new one with forja rollout");
    out = before;
    out.weight = r.weight;
    out.state = r.state;
    out.message = r.message;
    out.updated = std::max(NowMs(), before.updated);
    RETURN_IF_ERROR(c.Run("UPDATE rollouts SET weight = ?, state = ?, message = ?, updated = ? WHERE id = ?",
                          {int64_t{out.weight}, out.state, out.message, out.updated, out.id}));
    // The same weight, state and message again is a controller showing it is alive (a long
    // step): `updated` moves, the history stays the steps.
    if (out.weight == before.weight && out.state == before.state && out.message == before.message) return Status::Ok();
    return AppendStep(c, out, Phase(before), r.user.empty() ? before.user : r.user, out.updated);
  }));
  return out;
}

Result<Rollout> SqlStore::GetRollout(const std::string& name) {
  Rollout out;
  RETURN_IF_ERROR(Plain([&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(SqlRows rows, c.Query(std::string("SELECT ") + kRolloutCols +
                                               " FROM rollouts WHERE name = ? ORDER BY id DESC LIMIT 1",
                                           {name}));
    if (rows.empty()) return Status::NotFound("model " + name + " has had no rollout");
    out = RolloutFromRow(rows[0]);
    return Status::Ok();
  }));
  return out;
}

}  // namespace forja::meta
