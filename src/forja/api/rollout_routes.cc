// forja rollout's records over HTTP: POST forja/rollouts/begin and forja/rollouts/update
// (write), GET forja/rollouts/get (read). The store checks "one running rollout per model"
// and "only a running rollout moves" in its transactions; these handlers only read the
// request and answer the record. RestStore (rest_store.cc) is the client side.
#include <nlohmann/json.hpp>

#include "forja/api/server_impl.h"

namespace forja::api {

using Impl = TrackingServer::Impl;

Json ToJson(const meta::Rollout& r) {
  return Json{{"id", std::to_string(r.id)},       {"name", r.name},
              {"target", r.target},               {"from_version", std::to_string(r.from_version)},
              {"to_version", std::to_string(r.to_version)}, {"weight", r.weight},
              {"state", r.state},                 {"steps", r.steps},
              {"user_id", r.user},                {"started", r.started},
              {"updated", r.updated},             {"message", r.message}};
}

namespace {

// An integer sent as a JSON number or a decimal string (ids and versions are strings,
// as MLflow writes them); anything else is an error naming the field.
Result<int64_t> IntField(const Json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return int64_t{0};
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    if (!s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string::npos) return std::stoll(s);
  }
  return Status::User(std::string("rollout.") + field + ": must be a whole number, not " + JsonExcerpt(*it));
}

Result<std::string> StrField(const Json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Status::User(std::string("rollout.") + field + ": must be a string, not " + JsonExcerpt(*it));
  return it->get<std::string>();
}

}  // namespace

Result<meta::Rollout> RolloutFromJson(const Json& j) {
  if (!j.is_object()) return Status::User("rollout: must be an object");
  meta::Rollout r;
  ASSIGN_OR_RETURN(r.id, IntField(j, "id"));
  ASSIGN_OR_RETURN(r.name, StrField(j, "name"));
  ASSIGN_OR_RETURN(r.target, StrField(j, "target"));
  ASSIGN_OR_RETURN(r.from_version, IntField(j, "from_version"));
  ASSIGN_OR_RETURN(r.to_version, IntField(j, "to_version"));
  ASSIGN_OR_RETURN(int64_t weight, IntField(j, "weight"));
  if (weight < 0 || weight > 100) return Status::User("rollout.weight: must be 0..100, not " + std::to_string(weight));
  r.weight = static_cast<int>(weight);
  ASSIGN_OR_RETURN(r.state, StrField(j, "state"));
  ASSIGN_OR_RETURN(r.steps, StrField(j, "steps"));
  ASSIGN_OR_RETURN(r.user, StrField(j, "user_id"));
  ASSIGN_OR_RETURN(r.started, IntField(j, "started"));
  ASSIGN_OR_RETURN(r.updated, IntField(j, "updated"));
  ASSIGN_OR_RETURN(r.message, StrField(j, "message"));
  return r;
}

namespace {

Result<meta::Rollout> RolloutParam(const Params& p) {
  auto it = p.body().find("rollout");
  if (it == p.body().end()) return Status::User("rollout: missing (the request's body is {\"rollout\": {...}})");
  return RolloutFromJson(*it);
}

const char* const kStates[] = {"running", "completed", "rolled_back", "aborted"};

Status CheckState(const std::string& state) {
  for (const char* s : kStates)
    if (state == s) return Status::Ok();
  return Status::User("rollout.state: '" + state + "' is not running, completed, rolled_back or aborted");
}

}  // namespace

Result<Json> Impl::BeginRollout(const Params& p, const Caller& c) {
  ASSIGN_OR_RETURN(meta::Rollout r, RolloutParam(p));
  if (r.name.empty()) return Status::User("rollout.name: required");
  if (r.to_version <= 0) return Status::User("rollout.to_version: required (a version number)");
  if (r.target.empty()) return Status::User("rollout.target: required (a stage or @alias)");
  r.user = c.user;  // who began it is the token's, not the body's
  r.state = "running";
  RETURN_IF_ERROR(registry::CheckRollout(config.policies, r.name, r.target, c.role));
  ASSIGN_OR_RETURN(meta::Rollout out, store->BeginRollout(r));
  return Json{{"rollout", ToJson(out)}};
}

Result<Json> Impl::UpdateRollout(const Params& p, const Caller& c) {
  ASSIGN_OR_RETURN(meta::Rollout r, RolloutParam(p));
  r.user = c.user;  // the history entry names who moved it
  if (r.id <= 0) return Status::User("rollout.id: required");
  RETURN_IF_ERROR(CheckState(r.state));
  // The role follows the stored rollout's target, not the request's (which is only the client's word).
  ASSIGN_OR_RETURN(meta::Rollout stored, store->GetRollout(r.name));
  if (stored.id != r.id) return Status::Conflict("rollout " + std::to_string(r.id) + " of '" + r.name + "' is not its newest");
  RETURN_IF_ERROR(registry::CheckRollout(config.policies, stored.name, stored.target, c.role));
  ASSIGN_OR_RETURN(meta::Rollout out, store->UpdateRollout(r));
  return Json{{"rollout", ToJson(out)}};
}

Result<Json> Impl::GetRollout(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
  ASSIGN_OR_RETURN(meta::Rollout out, store->GetRollout(name));
  return Json{{"rollout", ToJson(out)}};
}

}  // namespace forja::api
