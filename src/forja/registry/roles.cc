#include "forja/registry/roles.h"

#include "forja/registry/gates.h"

namespace forja::registry {

namespace {

constexpr Role R = Role::kRead, W = Role::kWrite, A = Role::kAdmin;

constexpr const char* kProtected = "protected target: Production, or an alias in forja.yaml's protected list";

}  // namespace

const std::vector<RoleRule>& RolesTable() {
  static const std::vector<RoleRule> table = {
      // ---- the registry (MLflow's routes under /api/2.0/mlflow/, forja's under /api/2.0/) ----
      {"POST registered-models/create", W, ""},
      {"PATCH registered-models/update", W, ""},
      {"POST registered-models/rename", W,
       "admin if either name has its own policy in forja.yaml, or the model holds a Production version or a "
       "protected alias"},
      {"DELETE registered-models/delete", W, "admin if the model holds a Production version or a protected alias"},
      {"POST registered-models/set-tag", W, ""},
      {"DELETE registered-models/delete-tag", W, ""},
      {"POST registered-models/alias", W, "admin for a protected alias; gates of forja.yaml apply"},
      {"DELETE registered-models/alias", W, "admin for a protected alias"},
      {"POST model-versions/create", W, ""},
      {"PATCH model-versions/update", W, ""},
      {"DELETE model-versions/delete", W, "admin if the version is in Production or holds a protected alias"},
      {"POST model-versions/transition-stage", W,
       "admin into or out of a protected stage (Production); gates of forja.yaml apply"},
      {"POST model-versions/set-tag", W, ""},
      {"DELETE model-versions/delete-tag", W, ""},
      {"POST forja/models/promote", W,
       "admin into or out of a protected target, and for force over a failing gate; gates apply"},
      {"POST forja/artifacts/put", W, "under forja-packages/: only a file of that package, with its bytes (else 409)"},
      {"PUT mlflow-artifacts", W, "under forja-packages/: only a file of that package, with its bytes (else 409)"},
      {"DELETE mlflow-artifacts", W, "under forja-packages/: never (409)"},
      {"PUT forja/objects", W, ""},
      {"POST forja/rollouts/begin", W, "admin toward a protected target (Production, a protected alias), as promoting into it"},
      {"POST forja/rollouts/update", W, "admin when the rollout's target is protected"},
      // ---- CLI commands that change a store directly (on a forja server store: the route's row) ----
      {"forja models register", W, ""},
      {"forja models promote", W, "as POST forja/models/promote"},
      {"forja server token create", A, ""},
      {"forja server token revoke", A, ""},
      {"forja server token list", A, ""},
      // ---- tracking ----
      {"POST experiments/create", W, ""},
      {"POST experiments/update", W, ""},
      {"POST experiments/delete", W, ""},
      {"POST experiments/restore", W, ""},
      {"POST experiments/set-experiment-tag", W, ""},
      {"POST experiments/delete-experiment-tag", W, ""},
      {"POST runs/create", W, ""},
      {"POST runs/update", W, ""},
      {"POST runs/delete", W, ""},
      {"POST runs/restore", W, ""},
      {"POST runs/log-metric", W, ""},
      {"POST runs/log-parameter", W, ""},
      {"POST runs/set-tag", W, ""},
      {"POST runs/delete-tag", W, ""},
      {"POST runs/log-batch", W, ""},
      {"POST runs/log-inputs", W, ""},
      {"POST runs/log-model", W, ""},
      {"POST runs/outputs", W, ""},
      {"POST logged-models", W, ""},
      {"PATCH logged-models/{model_id}", W, ""},
      {"DELETE logged-models/{model_id}", W, ""},
      {"PATCH logged-models/{model_id}/tags", W, ""},
      {"DELETE logged-models/{model_id}/tags/{tag_key}", W, ""},
      {"POST logged-models/{model_id}/params", W, ""},
      {"POST forja/lineage/log", W, ""},
      {"POST forja/alerts", W, ""},
      {"POST forja/serving/report", W, "what a forja serve instance reports (its models, traffic, drift) for the web UI"},
      // ---- reading (every GET, and the searches sent as POST) ----
      {"GET experiments/get", R, ""},
      {"GET experiments/get-by-name", R, ""},
      {"GET experiments/search", R, ""},
      {"POST experiments/search", R, ""},
      {"POST experiments/search-datasets", R, ""},
      {"GET runs/get", R, ""},
      {"POST runs/search", R, ""},
      {"GET metrics/get-history", R, ""},
      {"GET artifacts/list", R, ""},
      {"POST logged-models/search", R, ""},
      {"GET logged-models/{model_id}", R, ""},
      {"GET logged-models/{model_id}/artifacts/directories", R, ""},
      {"GET registered-models/get", R, ""},
      {"GET registered-models/search", R, ""},
      {"POST registered-models/search", R, ""},
      {"GET registered-models/get-latest-versions", R, ""},
      {"POST registered-models/get-latest-versions", R, ""},
      {"GET registered-models/alias", R, ""},
      {"GET model-versions/get", R, ""},
      {"GET model-versions/search", R, ""},
      {"POST model-versions/search", R, ""},
      {"GET model-versions/get-download-uri", R, ""},
      {"GET forja/lineage/get", R, ""},
      {"GET forja/lineage/find", R, ""},
      {"GET forja/alerts", R, ""},
      {"GET forja/models/history", R, ""},
      {"GET forja/rollouts/get", R, ""},
      {"POST forja/objects/missing", R, ""},
      {"GET mlflow-artifacts", R, ""},
      {"GET forja/objects", R, ""},
      {"GET forja/whoami", R, "says the caller's own user, role and whether the server asks for tokens"},
      {"GET forja/pipeline/status", R, "the workspace's stages, what would run and why, the last run's logs"},
      {"GET forja/runs/window", R, "the web UI's runs table: a window of runs/search, its count (count=false: none), chosen columns"},
      {"GET forja/runs/count", R, "how many of an experiment's runs match a filter (the runs table asks after its rows)"},
      {"GET forja/metrics/histories", R, "many runs' metric histories at once, as arrays (the web UI's charts)"},
      {"GET forja/runs/get-many", R, "several runs at once, as runs/get answers each (the web UI's comparison)"},
      {"GET forja/runs/keys", R, "the param, metric and tag keys of an experiment's runs"},
      {"GET forja/runs/groups", R, "an experiment's matching runs grouped by a param, with metric statistics"},
      {"GET forja/serving/instances", R, "the forja serve instances' last reports"},
      {"GET forja/runs/logs", R, "a forja run's stage logs, from the workspace's .forja/runs"},
  };
  return table;
}

Role RoleFrom(std::string_view name) {
  if (name == "admin") return A;
  if (name == "write") return W;
  if (name == "read") return R;
  return Role::kNone;
}

const char* RoleName(Role role) {
  switch (role) {
    case Role::kRead: return "read";
    case Role::kWrite: return "write";
    case Role::kAdmin: return "admin";
    default: return "none";
  }
}

Role RequiredRole(std::string_view surface) {
  for (const RoleRule& r : RolesTable())
    if (surface == r.surface) return r.role;
  return A;  // a route someone forgot to list is closed, not open
}

Status Authorize(std::string_view surface, Role caller) {
  Role need = RequiredRole(surface);
  if (caller >= need) return Status::Ok();
  return Status::Denied(std::string(surface) + " needs a " + RoleName(need) + " token (this one is " +
                        RoleName(caller) + "); ask for a token with the role " + RoleName(need));
}

Role LocalStoreRole() { return A; }

namespace {

Status NeedsAdmin(Role caller, const std::string& why) {
  if (caller >= A) return Status::Ok();
  return Status::Denied("only an admin may " + why + " (this token is " + RoleName(caller) + ")");
}

// The first thing `held` has that `name`'s policy protects, as "version 3 (Production)"
// or "@champion", or "".
std::string FirstProtected(const Policies& policies, const std::string& name, const meta::ModelHoldings& held,
                           int64_t only_version = 0) {
  for (const auto& [version, stage] : held.stages)
    if ((!only_version || version == only_version) && policies.Protected(name, stage))
      return "version " + std::to_string(version) + " (" + stage + ")";
  for (const auto& [alias, version] : held.aliases)
    if ((!only_version || version == only_version) && policies.Protected(name, "@" + alias)) return "@" + alias;
  return "";
}

}  // namespace

Status CheckPromote(const Policies& policies, const meta::Promotion& p, const std::string& from_stage, Role caller) {
  std::string target = NormalizeTarget(p.target);
  if (policies.Protected(p.name, target))
    RETURN_IF_ERROR(NeedsAdmin(caller, "move versions of '" + p.name + "' to " + target + " (" + kProtected + ")"));
  if (p.force) RETURN_IF_ERROR(NeedsAdmin(caller, "override gates with --force"));
  std::string from = meta::CanonicalStage(from_stage);
  bool to_stage = !target.empty() && target[0] != '@';
  if (to_stage && !from.empty() && from != target && policies.Protected(p.name, from))
    RETURN_IF_ERROR(NeedsAdmin(caller, "move version " + std::to_string(p.version) + " of '" + p.name + "' out of " +
                                           from + " (" + kProtected + ")"));
  return Status::Ok();
}

Status CheckRollout(const Policies& policies, const std::string& name, const std::string& target, Role caller) {
  std::string t = NormalizeTarget(target);
  if (!policies.Protected(name, t)) return Status::Ok();
  return NeedsAdmin(caller, "roll out versions of '" + name + "' to " + t + " (" + kProtected + ")");
}

Status CheckDeleteAlias(const Policies& policies, const std::string& name, const std::string& alias, Role caller) {
  if (!policies.Protected(name, "@" + alias)) return Status::Ok();
  return NeedsAdmin(caller, "remove the protected alias @" + alias + " of '" + name + "'");
}

Status CheckRename(const Policies& policies, const std::string& from, const std::string& to,
                   const meta::ModelHoldings& held, Role caller) {
  if (caller >= A) return Status::Ok();
  // A policy is keyed by name: a rename must not take a model out of its gates, nor into another's.
  for (const std::string& n : {from, to})
    if (policies.models.count(n))
      return NeedsAdmin(caller, "rename '" + from + "' to '" + to + "': forja.yaml has a policy for '" + n +
                                    "', and a rename would change which gates and protections apply");
  for (const std::string& n : {from, to}) {
    std::string what = FirstProtected(policies, n, held);
    if (!what.empty())
      return NeedsAdmin(caller, "rename '" + from + "' to '" + to + "': it holds " + what + ", protected under '" +
                                    n + "'");
  }
  return Status::Ok();
}

Status CheckDeleteModel(const Policies& policies, const std::string& name, const meta::ModelHoldings& held,
                        Role caller) {
  std::string what = FirstProtected(policies, name, held);
  if (what.empty()) return Status::Ok();
  return NeedsAdmin(caller, "delete model '" + name + "': it holds " + what + " (" + kProtected + ")");
}

Status CheckDeleteVersion(const Policies& policies, const std::string& name, int64_t version,
                          const meta::ModelHoldings& held, Role caller) {
  std::string what = FirstProtected(policies, name, held, version);
  if (what.empty()) return Status::Ok();
  return NeedsAdmin(caller, "delete version " + std::to_string(version) + " of '" + name + "': it holds " + what +
                                " (" + kProtected + ")");
}

}  // namespace forja::registry
