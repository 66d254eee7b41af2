// The model registry routes: registered models, their versions, stages and aliases, and
// forja's own promotions and history. Every stage change, alias move and promotion goes
// through registry::Promote (the gates) in Move; deletes and renames ask the registry's
// policy checks first.
#include <nlohmann/json.hpp>

#include "forja/api/server_impl.h"
#include "forja/registry/gates.h"

namespace forja::api {

using Impl = TrackingServer::Impl;

// ---- registered models ------------------------------------------------------------------------

Result<Json> Impl::CreateRegisteredModel(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
  ASSIGN_OR_RETURN(std::string desc, p.Str("description"));
  ASSIGN_OR_RETURN(auto tags, TagsFromJson(p.body(), "tags"));
  ASSIGN_OR_RETURN(meta::RegisteredModel m, store->CreateRegisteredModel(name, desc, tags));
  return Json{{"registered_model", ToJson(m)}};
}

Result<Json> Impl::GetRegisteredModel(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
  ASSIGN_OR_RETURN(meta::RegisteredModel m, store->GetRegisteredModel(name));
  return Json{{"registered_model", ToJson(m)}};
}

Result<Json> Impl::UpdateRegisteredModel(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
  ASSIGN_OR_RETURN(std::string desc, p.Str("description"));
  ASSIGN_OR_RETURN(meta::RegisteredModel m, store->UpdateRegisteredModel(name, desc));
  return Json{{"registered_model", ToJson(m)}};
}

Result<Json> Impl::RenameRegisteredModel(const Params& p, const Caller& c) {
  ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
  ASSIGN_OR_RETURN(std::string new_name, p.Str("new_name", true));
  auto check = [&](const meta::ModelHoldings& held) {
    return registry::CheckRename(config.policies, name, new_name, held, c.role);
  };
  ASSIGN_OR_RETURN(meta::RegisteredModel m, store->RenameRegisteredModelIf(name, new_name, check));
  return Json{{"registered_model", ToJson(m)}};
}

Result<Json> Impl::DeleteRegisteredModel(const Params& p, const Caller& c) {
  ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
  auto check = [&](const meta::ModelHoldings& held) {
    return registry::CheckDeleteModel(config.policies, name, held, c.role);
  };
  RETURN_IF_ERROR(store->DeleteRegisteredModelIf(name, c.user, check));
  return Json::object();
}

Result<Json> Impl::SearchRegisteredModels(const Params& p, const Caller&) {
  meta::Query q;
  RETURN_IF_ERROR(p.Search(nullptr, 100, &q));
  ASSIGN_OR_RETURN(auto page, store->SearchRegisteredModels(q));
  return SearchAnswer("registered_models", ListToJson(page.items), page.next_page_token);
}

Result<Json> Impl::GetLatestVersions(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
  ASSIGN_OR_RETURN(auto stages, p.List("stages"));
  ASSIGN_OR_RETURN(auto versions, store->GetLatestVersions(name, stages));
  return SearchAnswer("model_versions", ListToJson(versions), "");
}

Result<Json> Impl::SetRegisteredModelTag(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
  ASSIGN_OR_RETURN(std::string key, p.Str("key", true));
  ASSIGN_OR_RETURN(std::string value, p.Str("value"));
  RETURN_IF_ERROR(store->SetRegisteredModelTag(name, {key, value}));
  return Json::object();
}

Result<Json> Impl::DeleteRegisteredModelTag(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
  ASSIGN_OR_RETURN(std::string key, p.Str("key", true));
  RETURN_IF_ERROR(store->DeleteRegisteredModelTag(name, key));
  return Json::object();
}

// ---- stages, aliases and promotions ----------------------------------------------------------------

Result<meta::ModelVersion> Impl::Move(const meta::Promotion& pr, const Caller& c, const Params* p) {
  std::vector<registry::GateOutcome> gates;
  auto v = registry::Promote(*store, config.policies, pr, c.role, &gates);
  // A refusal by the gates carries each gate's outcome as data (the web UI shows them; the
  // message stays as it was for older clients).
  if (p && !v.ok() && v.status().code() == Code::kRefused && !gates.empty()) {
    Json list = Json::array();
    for (const auto& g : gates)
      list.push_back({{"gate", g.gate}, {"origin", g.origin}, {"passed", g.passed}, {"left", g.left},
                      {"op", g.op}, {"right", g.right}, {"reason", g.reason}});
    p->AddErrorField("gates", std::move(list));
  }
  std::string outcome = v.ok() ? "moved" : v.status().code() == Code::kRefused ? "refused"
                                        : v.status().code() == Code::kDenied  ? "denied"
                                                                              : "error";
  if (v.ok() && pr.force) outcome = "forced";
  metrics.Add("forja_registry_promotions_total", PromRegistry::Label("model", pr.name) + "," +
                                                     PromRegistry::Label("target", registry::NormalizeTarget(pr.target)) +
                                                     "," + PromRegistry::Label("outcome", outcome));
  return v;
}

Result<Json> Impl::SetAlias(const Params& p, const Caller& c) {
  meta::Promotion pr;
  ASSIGN_OR_RETURN(pr.name, p.Str("name", true));
  ASSIGN_OR_RETURN(std::string alias, p.Str("alias", true));
  ASSIGN_OR_RETURN(pr.version, p.Version());
  pr.target = "@" + alias;
  pr.user = c.user;
  ASSIGN_OR_RETURN(meta::ModelVersion v, Move(pr, c, &p));
  (void)v;
  return Json::object();
}

Result<Json> Impl::DeleteAlias(const Params& p, const Caller& c) {
  ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
  ASSIGN_OR_RETURN(std::string alias, p.Str("alias", true));
  RETURN_IF_ERROR(registry::CheckDeleteAlias(config.policies, name, alias, c.role));
  RETURN_IF_ERROR(store->DeleteAlias(name, alias, c.user));
  return Json::object();
}

Result<Json> Impl::GetByAlias(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
  ASSIGN_OR_RETURN(std::string alias, p.Str("alias", true));
  ASSIGN_OR_RETURN(meta::ModelVersion v, store->GetVersionByAlias(name, alias));
  return Json{{"model_version", ToJson(v)}};
}

Result<Json> Impl::TransitionStage(const Params& p, const Caller& c) {
  meta::Promotion pr;
  ASSIGN_OR_RETURN(pr.name, p.Str("name", true));
  ASSIGN_OR_RETURN(pr.version, p.Version());
  ASSIGN_OR_RETURN(pr.target, p.Str("stage", true));
  if (meta::CanonicalStage(pr.target).empty())
    return Status::User("invalid stage '" + pr.target + "' (None, Staging, Production or Archived)");
  ASSIGN_OR_RETURN(pr.archive_existing, p.Bool("archive_existing_versions", false));
  ASSIGN_OR_RETURN(pr.comment, p.Str("comment"));
  pr.user = c.user;
  ASSIGN_OR_RETURN(meta::ModelVersion v, Move(pr, c, &p));
  return Json{{"model_version", ToJson(v)}};
}

Result<Json> Impl::Promote(const Params& p, const Caller& c) {
  meta::Promotion pr;
  ASSIGN_OR_RETURN(pr.name, p.Str("name", true));
  ASSIGN_OR_RETURN(pr.version, p.Version());
  ASSIGN_OR_RETURN(pr.target, p.Str("target", true));
  ASSIGN_OR_RETURN(pr.archive_existing, p.Bool("archive_existing_versions", false));
  ASSIGN_OR_RETURN(pr.comment, p.Str("comment"));
  ASSIGN_OR_RETURN(pr.force, p.Bool("force", false));
  pr.user = c.user;
  ASSIGN_OR_RETURN(meta::ModelVersion v, Move(pr, c, &p));
  return Json{{"model_version", ToJson(v)}};
}

Result<Json> Impl::History(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
  ASSIGN_OR_RETURN(int64_t version, p.Int("version", 0));
  ASSIGN_OR_RETURN(auto list, store->History(name, version));
  return Json{{"transitions", ListToJson(list)}};
}

// ---- model versions --------------------------------------------------------------------------------

Result<Json> Impl::CreateModelVersion(const Params& p, const Caller& c) {
  meta::ModelVersion v;
  ASSIGN_OR_RETURN(v.name, p.Str("name", true));
  ASSIGN_OR_RETURN(v.source, p.Str("source", true));
  ASSIGN_OR_RETURN(v.run_id, p.Str("run_id"));
  ASSIGN_OR_RETURN(v.run_link, p.Str("run_link"));
  ASSIGN_OR_RETURN(v.description, p.Str("description"));
  ASSIGN_OR_RETURN(v.package_hash, p.Str("forja_package_hash"));
  ASSIGN_OR_RETURN(v.model_id, p.Str("model_id"));  // MLflow 3: the LoggedModel registered (the store checks it)
  ASSIGN_OR_RETURN(v.tags, TagsFromJson(p.body(), "tags"));
  v.user_id = c.user == "anonymous" ? "" : c.user;
  ASSIGN_OR_RETURN(meta::ModelVersion made, store->CreateModelVersion(v));
  return Json{{"model_version", ToJson(made)}};
}

Result<Json> Impl::GetModelVersion(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
  ASSIGN_OR_RETURN(int64_t version, p.Version());
  ASSIGN_OR_RETURN(meta::ModelVersion v, store->GetModelVersion(name, version));
  return Json{{"model_version", ToJson(v)}};
}

Result<Json> Impl::UpdateModelVersion(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
  ASSIGN_OR_RETURN(int64_t version, p.Version());
  ASSIGN_OR_RETURN(std::string desc, p.Str("description"));
  ASSIGN_OR_RETURN(meta::ModelVersion v, store->UpdateModelVersion(name, version, desc));
  return Json{{"model_version", ToJson(v)}};
}

Result<Json> Impl::DeleteModelVersion(const Params& p, const Caller& c) {
  ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
  ASSIGN_OR_RETURN(int64_t version, p.Version());
  auto check = [&](const meta::ModelHoldings& held) {
    return registry::CheckDeleteVersion(config.policies, name, version, held, c.role);
  };
  RETURN_IF_ERROR(store->DeleteModelVersionIf(name, version, c.user, check));
  return Json::object();
}

Result<Json> Impl::SearchModelVersions(const Params& p, const Caller&) {
  meta::Query q;
  RETURN_IF_ERROR(p.Search(nullptr, 10000, &q));
  ASSIGN_OR_RETURN(auto page, store->SearchModelVersions(q));
  return SearchAnswer("model_versions", ListToJson(page.items), page.next_page_token);
}

Result<Json> Impl::GetDownloadUri(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
  ASSIGN_OR_RETURN(int64_t version, p.Version());
  ASSIGN_OR_RETURN(meta::ModelVersion v, store->GetModelVersion(name, version));
  // A version of a LoggedModel (source models:/m-<id>): the model's files.
  return Json{{"artifact_uri", v.storage_location.empty() ? v.source : v.storage_location}};
}

Result<Json> Impl::SetModelVersionTag(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
  ASSIGN_OR_RETURN(int64_t version, p.Version());
  ASSIGN_OR_RETURN(std::string key, p.Str("key", true));
  ASSIGN_OR_RETURN(std::string value, p.Str("value"));
  RETURN_IF_ERROR(store->SetModelVersionTag(name, version, {key, value}));
  return Json::object();
}

Result<Json> Impl::DeleteModelVersionTag(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string name, p.Str("name", true));
  ASSIGN_OR_RETURN(int64_t version, p.Version());
  ASSIGN_OR_RETURN(std::string key, p.Str("key", true));
  RETURN_IF_ERROR(store->DeleteModelVersionTag(name, version, key));
  return Json::object();
}

}  // namespace forja::api
