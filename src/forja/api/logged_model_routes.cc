// MLflow 3's LoggedModels: logged-models (create), logged-models/{model_id} (get,
// finalize, delete), its tags, params and files, logged-models/search, and runs/outputs. The
// messages are MLflow's (CreateLoggedModel, FinalizeLoggedModel, SearchLoggedModels, ...,
// mlflow/protos/service.proto); the store (meta/sql_logged_models.cc) checks the limits.
// A model's files go through the artifact proxy under its artifact_uri
// (mlflow-artifacts:/<experiment>/models/<model_id>/artifacts).
#include <charconv>
#include <nlohmann/json.hpp>

#include "forja/api/server_impl.h"

namespace forja::api {

using Impl = TrackingServer::Impl;

namespace {

Status BadField(const std::string& field, const std::string& what) {
  return Status::User("invalid value for '" + field + "': " + what);
}

// A list of {key, value} (LoggedModelParameter, LoggedModelTag); errors name the item.
template <typename T>
Result<std::vector<T>> KeyValues(const Json& body, const char* field) {
  std::vector<T> out;
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_array()) return BadField(field, "expected a list of {key, value}, got " + JsonExcerpt(*it));
  for (size_t i = 0; i < it->size(); i++) {
    const Json& x = (*it)[i];
    std::string at = std::string(field) + "[" + std::to_string(i) + "]";
    if (!x.is_object()) return BadField(at, "expected {key, value}, got " + JsonExcerpt(x));
    auto k = x.find("key");
    if (k == x.end() || k->is_null()) return Status::User("missing value for required parameter '" + at + ".key'");
    if (!k->is_string()) return BadField(at + ".key", "expected a string, got " + JsonExcerpt(*k));
    auto v = x.find("value");
    std::string value;
    if (v != x.end() && !v->is_null()) {
      if (!v->is_string()) return BadField(at + ".value", "expected a string, got " + JsonExcerpt(*v));
      value = v->get<std::string>();
    }
    out.push_back({k->get<std::string>(), std::move(value)});
  }
  return out;
}

// A string field of the body that must be a string when present.
Result<std::string> OptionalString(const Json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::string();
  if (!it->is_string()) return BadField(field, "expected a string, got " + JsonExcerpt(*it));
  return it->get<std::string>();
}

// LoggedModelStatus by name or number; the store keeps the short name.
Result<std::string> StatusFrom(const Json& body) {
  auto it = body.find("status");
  if (it == body.end() || it->is_null()) return Status::User("missing value for required parameter 'status'");
  std::string s = it->is_string() ? it->get<std::string>() : it->is_number_integer() ? std::to_string(it->get<int64_t>()) : "";
  if (s == "LOGGED_MODEL_READY" || s == "2" || s == "READY") return std::string("READY");
  if (s == "LOGGED_MODEL_UPLOAD_FAILED" || s == "3" || s == "FAILED") return std::string("FAILED");
  return BadField("status", JsonExcerpt(*it) + " (a model is finalized LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED)");
}

// The path's model id, and the body's when it names one too (they must agree).
Result<std::string> ModelId(const Params& p) {
  std::string id = p.Path("model_id");
  if (id.empty()) return Status::User("missing value for required parameter 'model_id'");
  if (!p.body().is_object()) return id;
  ASSIGN_OR_RETURN(std::string in_body, OptionalString(p.body(), "model_id"));
  if (!in_body.empty() && in_body != id)
    return BadField("model_id", "the body names " + JsonExcerpt(Json(in_body)) + " but the path " + JsonExcerpt(Json(id)));
  return id;
}

// A list of objects under `field` (datasets, order_by, models), each checked by the caller.
Result<const Json*> ObjectList(const Json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return static_cast<const Json*>(nullptr);
  if (!it->is_array()) return BadField(field, "expected a list, got " + JsonExcerpt(*it));
  for (size_t i = 0; i < it->size(); i++)
    if (!(*it)[i].is_object())
      return BadField(std::string(field) + "[" + std::to_string(i) + "]", "expected an object, got " +
                                                                             JsonExcerpt((*it)[i]));
  return &*it;
}

// A string member of one list item, its error naming "field[i].name".
Result<std::string> ItemString(const Json& item, const std::string& at, const char* name) {
  auto it = item.find(name);
  if (it == item.end() || it->is_null()) return std::string();
  if (!it->is_string()) return BadField(at + "." + name, "expected a string, got " + JsonExcerpt(*it));
  return it->get<std::string>();
}

}  // namespace

Result<Json> Impl::CreateLoggedModel(const Params& p, const Caller&) {
  meta::LoggedModel m;
  ASSIGN_OR_RETURN(m.experiment_id, p.Str("experiment_id", true));
  if (m.experiment_id.empty()) return Status::User("missing value for required parameter 'experiment_id'");
  const Json& b = p.body();
  ASSIGN_OR_RETURN(m.name, OptionalString(b, "name"));
  ASSIGN_OR_RETURN(m.model_type, OptionalString(b, "model_type"));
  ASSIGN_OR_RETURN(m.source_run_id, OptionalString(b, "source_run_id"));
  ASSIGN_OR_RETURN(m.params, KeyValues<meta::Param>(b, "params"));
  ASSIGN_OR_RETURN(m.tags, KeyValues<meta::Tag>(b, "tags"));
  ASSIGN_OR_RETURN(meta::LoggedModel made, store->CreateLoggedModel(m));
  return Json{{"model", ToJson(made)}};
}

Result<Json> Impl::GetLoggedModel(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, ModelId(p));
  ASSIGN_OR_RETURN(bool allow_deleted, p.Bool("allow_deleted", false));
  ASSIGN_OR_RETURN(meta::LoggedModel m, store->GetLoggedModel(id, allow_deleted));
  return Json{{"model", ToJson(m)}};
}

Result<Json> Impl::FinalizeLoggedModel(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, ModelId(p));
  ASSIGN_OR_RETURN(std::string status, StatusFrom(p.body()));
  ASSIGN_OR_RETURN(meta::LoggedModel m, store->FinalizeLoggedModel(id, status));
  return Json{{"model", ToJson(m)}};
}

Result<Json> Impl::DeleteLoggedModel(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, ModelId(p));
  RETURN_IF_ERROR(store->DeleteLoggedModel(id));
  return Json::object();
}

Result<Json> Impl::SetLoggedModelTags(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, ModelId(p));
  ASSIGN_OR_RETURN(auto tags, KeyValues<meta::Tag>(p.body(), "tags"));
  RETURN_IF_ERROR(store->SetLoggedModelTags(id, tags));
  return Json::object();
}

Result<Json> Impl::DeleteLoggedModelTag(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, ModelId(p));
  std::string key = p.Path("tag_key");
  if (key.empty()) return Status::User("missing value for required parameter 'tag_key'");
  RETURN_IF_ERROR(store->DeleteLoggedModelTag(id, key));
  return Json::object();
}

Result<Json> Impl::LogLoggedModelParams(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, ModelId(p));
  ASSIGN_OR_RETURN(auto params, KeyValues<meta::Param>(p.body(), "params"));
  RETURN_IF_ERROR(store->LogLoggedModelParams(id, params));
  return Json::object();
}

// MLflow's client also runs this search inside other calls (runs:/ downloads and
// register_model look for a LoggedModel of the run's artifact path).
Result<Json> Impl::SearchLoggedModels(const Params& p, const Caller&) {
  meta::LoggedModelQuery q;
  ASSIGN_OR_RETURN(q.experiment_ids, p.List("experiment_ids"));
  ASSIGN_OR_RETURN(q.filter, p.Str("filter"));
  ASSIGN_OR_RETURN(q.page.max_results, p.Int("max_results", 100));
  ASSIGN_OR_RETURN(q.page.token, p.Str("page_token"));
  const Json& b = p.body();
  ASSIGN_OR_RETURN(const Json* datasets, ObjectList(b, "datasets"));
  for (size_t i = 0; datasets && i < datasets->size(); i++) {
    std::string at = "datasets[" + std::to_string(i) + "]";
    meta::LoggedModelQuery::Dataset d;
    ASSIGN_OR_RETURN(d.name, ItemString((*datasets)[i], at, "dataset_name"));
    ASSIGN_OR_RETURN(d.digest, ItemString((*datasets)[i], at, "dataset_digest"));
    if (d.name.empty()) return Status::User("missing value for required parameter '" + at + ".dataset_name'");
    q.datasets.push_back(std::move(d));
  }
  ASSIGN_OR_RETURN(const Json* order, ObjectList(b, "order_by"));
  for (size_t i = 0; order && i < order->size(); i++) {
    const Json& o = (*order)[i];
    std::string at = "order_by[" + std::to_string(i) + "]";
    meta::LoggedModelQuery::Order ob;
    ASSIGN_OR_RETURN(ob.field, ItemString(o, at, "field_name"));
    if (ob.field.empty()) return Status::User("missing value for required parameter '" + at + ".field_name'");
    if (auto a = o.find("ascending"); a != o.end() && !a->is_null()) {
      if (!a->is_boolean()) return BadField(at + ".ascending", "expected true or false, got " + JsonExcerpt(*a));
      ob.ascending = a->get<bool>();
    }
    ASSIGN_OR_RETURN(ob.dataset_name, ItemString(o, at, "dataset_name"));
    ASSIGN_OR_RETURN(ob.dataset_digest, ItemString(o, at, "dataset_digest"));
    q.order_by.push_back(std::move(ob));
  }
  ASSIGN_OR_RETURN(auto page, store->SearchLoggedModels(q));
  return SearchAnswer("models", ListToJson(page.items), page.next_page_token);
}

// The model's files under its artifact_uri, as the artifact proxy lists them (MLflow's UI
// browses a LoggedModel's files this way).
Result<Json> Impl::ListLoggedModelArtifacts(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, ModelId(p));
  ASSIGN_OR_RETURN(std::string sub, p.Str("artifact_directory_path"));
  ASSIGN_OR_RETURN(meta::LoggedModel m, store->GetLoggedModel(id, false));
  if (!m.artifact_location.starts_with("mlflow-artifacts:"))
    return Status::User("the files of logged model " + id + " are at " + m.artifact_location +
                        ", not behind this server's artifact proxy: list them there");
  while (!sub.empty() && sub.back() == '/') sub.pop_back();
  if (!sub.empty()) {
    Status st = CheckArtifactPath(sub);
    if (!st.ok()) return Status::User("invalid value for 'artifact_directory_path': " + st.message());
  }
  std::string root = ArtifactPathOf(m.artifact_location);
  std::string folder = sub.empty() ? root : root + "/" + sub;
  RETURN_IF_ERROR(CheckArtifactPath(folder));
  ASSIGN_OR_RETURN(auto list, store->ListArtifacts(folder));
  Json files = Json::array();
  for (const auto& e : list) files.push_back(FileInfoJson(sub.empty() ? e.path : sub + "/" + e.path, e));
  Json out{{"root_uri", m.artifact_location}};
  if (!files.empty()) out["files"] = std::move(files);
  return out;
}

Result<Json> Impl::LogOutputs(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string run_id, p.RunId());
  ASSIGN_OR_RETURN(const Json* models, ObjectList(p.body(), "models"));
  std::vector<meta::ModelIo> out;
  for (size_t i = 0; models && i < models->size(); i++) {
    const Json& m = (*models)[i];
    std::string at = "models[" + std::to_string(i) + "]";
    meta::ModelIo io;
    ASSIGN_OR_RETURN(io.model_id, ItemString(m, at, "model_id"));
    if (io.model_id.empty()) return Status::User("missing value for required parameter '" + at + ".model_id'");
    if (auto s = m.find("step"); s != m.end() && !s->is_null()) {
      const std::string* text = s->is_string() ? &s->get_ref<const std::string&>() : nullptr;
      bool read = s->is_number_integer();
      if (read) io.step = s->get<int64_t>();
      if (text) {  // int64 as text, as protobuf's JSON writes it
        auto r = std::from_chars(text->data(), text->data() + text->size(), io.step);
        read = r.ec == std::errc() && r.ptr == text->data() + text->size();
      }
      if (!read) return BadField(at + ".step", "expected an integer, got " + JsonExcerpt(*s));
    }
    out.push_back(std::move(io));
  }
  RETURN_IF_ERROR(store->LogModelIo(run_id, true, out));
  return Json::object();
}

}  // namespace forja::api
