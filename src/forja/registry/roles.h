// Who may change what: the one table of roles (read < write < admin) for every
// route of forja server and every CLI command that changes a store, and the
// escalations that make a write an admin's when it touches what is protected.
// The server and the CLI ask here and nowhere else; README's "Security model"
// shows the same table.
//
// Protection follows the model, not its name: a rename that would change which
// policy of forja.yaml governs a model, or that carries a protected alias or a
// Production version, is an admin's; so is removing a protected target by
// deleting what holds it or by moving its version elsewhere.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "forja/core/status.h"
#include "forja/meta/store.h"

namespace forja::registry {

struct Policies;

enum class Role { kNone = 0, kRead = 1, kWrite = 2, kAdmin = 3 };

// "read", "write", "admin" -> the role; anything else is kNone.
Role RoleFrom(std::string_view name);
const char* RoleName(Role role);

// One row: a server route ("POST registered-models/rename": the method and the
// path after /api/2.0/mlflow/ or /api/2.0/) or a CLI command ("forja models
// promote"), the role it needs, and when it needs admin instead ("" if never).
struct RoleRule {
  const char* surface;
  Role role;
  const char* escalation;
};

const std::vector<RoleRule>& RolesTable();

// The role `surface` needs; a surface missing from the table needs admin.
Role RequiredRole(std::string_view surface);
// Denied (naming the surface and the role to ask for) unless `caller` has the role.
Status Authorize(std::string_view surface, Role caller);

// The caller of a CLI command on a SQL store: whoever can open the store's file
// (or its database) can change any row of it, so is its admin. A forja server
// store decides by the token instead.
Role LocalStoreRole();

// ---- escalations (each runs inside the change's transaction when it reads the store) ----

// Moving `p.version` of `p.name` to `p.target`: admin for a protected target, for
// --force, and for moving a version out of a protected stage (`from_stage`).
Status CheckPromote(const Policies& policies, const meta::Promotion& p, const std::string& from_stage, Role caller);
// Beginning or moving a rollout toward `target` (a stage or "@alias"): admin when the
// target is protected, as promoting into it is: a rollout at 100% serves the candidate
// in its place.
Status CheckRollout(const Policies& policies, const std::string& name, const std::string& target, Role caller);
// Removing an alias: admin if the alias is protected.
Status CheckDeleteAlias(const Policies& policies, const std::string& name, const std::string& alias, Role caller);
// Renaming: admin if either name has a policy of its own, or the model holds a
// Production version or an alias protected under either name.
Status CheckRename(const Policies& policies, const std::string& from, const std::string& to,
                   const meta::ModelHoldings& held, Role caller);
// Deleting a model: admin if it holds a Production version or a protected alias.
Status CheckDeleteModel(const Policies& policies, const std::string& name, const meta::ModelHoldings& held,
                        Role caller);
// Deleting a version: admin if it is in Production or holds a protected alias.
Status CheckDeleteVersion(const Policies& policies, const std::string& name, int64_t version,
                          const meta::ModelHoldings& held, Role caller);

}  // namespace forja::registry
