#include "forja/api/codec.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "forja/core/limits.h"
#include "forja/core/utf8.h"

namespace forja::api {

namespace {

Status Bad(const std::string& field, const std::string& what) {
  return Status::User("invalid value for '" + field + "': " + what);
}

// Strings as strings; numbers as their decimal text (MLflow ids are strings in
// JSON, but clients of other languages send numbers).
Result<std::string> Str(const Json& j, const char* field, bool required = false) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) {
    if (required) return Status::User(std::string("missing value for required parameter '") + field + "'");
    return std::string();
  }
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  return Bad(field, "expected a string");
}

Result<int64_t> Int(const Json& j, const char* field, int64_t def = 0) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return def;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_number_float()) {
    double d = it->get<double>();
    if (d == std::floor(d) && std::fabs(d) < 9e18) return static_cast<int64_t>(d);
  }
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && end && !*end) return static_cast<int64_t>(v);
  }
  return Bad(field, "expected an integer, got " + JsonExcerpt(*it));
}

void PutIf(Json& j, const char* k, const std::string& v) {
  if (!v.empty()) j[k] = v;
}

}  // namespace

Result<Json> ParseJsonText(std::string_view text, std::string_view what) {
  RETURN_IF_ERROR(limits::CheckJsonText(text, what));
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    // parse_error, or out_of_range for a number no double holds (1e400): bad input both.
    // what() quotes the bytes last read, which may end inside a character.
    return Status::User(std::string(what) + " is malformed JSON: " + ValidUtf8(e.what(), 300));
  }
}

std::string JsonExcerpt(const Json& j, size_t max_bytes) {
  if (j.is_array()) return "[...]";
  if (j.is_object()) return "{...}";
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    return Json(ValidUtf8(s, max_bytes)).dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  return ValidUtf8(j.dump(), max_bytes);
}

Json DoubleJson(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

Result<double> DoubleFromJson(const Json& j, const char* field) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (s == "NaN" || s == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity" || s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity" || s == "-inf") return -std::numeric_limits<double>::infinity();
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (!s.empty() && end && !*end) return v;
  }
  return Bad(field, "expected a number, got " + JsonExcerpt(j));
}

template <typename T>
Json ListToJson(const std::vector<T>& items) {
  Json list = Json::array();
  for (const T& x : items) list.push_back(ToJson(x));
  return list;
}

template <typename T>
Status ListFromJson(const Json& list, Result<T> (*from)(const Json&), std::vector<T>* out) {
  out->reserve(out->size() + list.size());
  for (const Json& j : list) {
    ASSIGN_OR_RETURN(T item, from(j));
    out->push_back(std::move(item));
  }
  return Status::Ok();
}

// Instantiated here, where Json is whole, for the types that have a ToJson and a FromJson.
template Json ListToJson(const std::vector<meta::Experiment>&);
template Json ListToJson(const std::vector<meta::Run>&);
template Json ListToJson(const std::vector<meta::Metric>&);
template Json ListToJson(const std::vector<meta::LoggedModel>&);
template Json ListToJson(const std::vector<meta::RegisteredModel>&);
template Json ListToJson(const std::vector<meta::ModelVersion>&);
template Json ListToJson(const std::vector<meta::Transition>&);
template Json ListToJson(const std::vector<meta::LineageItem>&);
template Status ListFromJson(const Json&, Result<meta::Experiment> (*)(const Json&), std::vector<meta::Experiment>*);
template Status ListFromJson(const Json&, Result<meta::Run> (*)(const Json&), std::vector<meta::Run>*);
template Status ListFromJson(const Json&, Result<meta::Metric> (*)(const Json&), std::vector<meta::Metric>*);
template Status ListFromJson(const Json&, Result<meta::RegisteredModel> (*)(const Json&),
                             std::vector<meta::RegisteredModel>*);
template Status ListFromJson(const Json&, Result<meta::ModelVersion> (*)(const Json&),
                             std::vector<meta::ModelVersion>*);
template Status ListFromJson(const Json&, Result<meta::Transition> (*)(const Json&), std::vector<meta::Transition>*);
template Status ListFromJson(const Json&, Result<meta::LineageItem> (*)(const Json&), std::vector<meta::LineageItem>*);
template Status ListFromJson(const Json&, Result<meta::ModelAlert> (*)(const Json&), std::vector<meta::ModelAlert>*);

Json ToJson(const std::vector<meta::Tag>& tags) {
  Json a = Json::array();
  for (const auto& t : tags) a.push_back({{"key", t.key}, {"value", t.value}});
  return a;
}

Result<std::vector<meta::Tag>> TagsFromJson(const Json& j, const char* field) {
  std::vector<meta::Tag> out;
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_array()) return Bad(field, "expected a list of {key, value}");
  for (const Json& t : *it) {
    if (!t.is_object()) return Bad(field, "expected a list of {key, value}");
    ASSIGN_OR_RETURN(std::string k, Str(t, "key", true));
    ASSIGN_OR_RETURN(std::string v, Str(t, "value"));
    out.push_back({k, v});
  }
  return out;
}

Json ToJson(const meta::Experiment& e) {
  Json j{{"experiment_id", e.id},
         {"name", e.name},
         {"artifact_location", e.artifact_location},
         {"lifecycle_stage", e.lifecycle_stage},
         {"last_update_time", e.last_update_time},
         {"creation_time", e.creation_time}};
  if (!e.tags.empty()) j["tags"] = ToJson(e.tags);
  return j;
}

Result<meta::Experiment> ExperimentFromJson(const Json& j) {
  meta::Experiment e;
  ASSIGN_OR_RETURN(e.id, Str(j, "experiment_id"));
  ASSIGN_OR_RETURN(e.name, Str(j, "name"));
  ASSIGN_OR_RETURN(e.artifact_location, Str(j, "artifact_location"));
  ASSIGN_OR_RETURN(e.lifecycle_stage, Str(j, "lifecycle_stage"));
  ASSIGN_OR_RETURN(e.creation_time, Int(j, "creation_time"));
  ASSIGN_OR_RETURN(e.last_update_time, Int(j, "last_update_time"));
  ASSIGN_OR_RETURN(e.tags, TagsFromJson(j, "tags"));
  return e;
}

Json ToJson(const meta::RunInfo& i) {
  Json j{{"run_uuid", i.run_id},        {"experiment_id", i.experiment_id},
         {"run_name", i.run_name},      {"user_id", i.user_id},
         {"status", i.status},          {"start_time", i.start_time},
         {"artifact_uri", i.artifact_uri}, {"lifecycle_stage", i.lifecycle_stage},
         {"run_id", i.run_id}};
  if (i.end_time) j["end_time"] = *i.end_time;
  return j;
}

Result<meta::RunInfo> RunInfoFromJson(const Json& j) {
  meta::RunInfo i;
  ASSIGN_OR_RETURN(i.run_id, Str(j, "run_id"));
  if (i.run_id.empty()) {
    ASSIGN_OR_RETURN(i.run_id, Str(j, "run_uuid"));
  }
  ASSIGN_OR_RETURN(i.experiment_id, Str(j, "experiment_id"));
  ASSIGN_OR_RETURN(i.run_name, Str(j, "run_name"));
  ASSIGN_OR_RETURN(i.user_id, Str(j, "user_id"));
  ASSIGN_OR_RETURN(i.status, Str(j, "status"));
  ASSIGN_OR_RETURN(i.start_time, Int(j, "start_time"));
  if (j.contains("end_time") && !j["end_time"].is_null()) {
    ASSIGN_OR_RETURN(int64_t end, Int(j, "end_time"));
    i.end_time = end;
  }
  ASSIGN_OR_RETURN(i.artifact_uri, Str(j, "artifact_uri"));
  ASSIGN_OR_RETURN(i.lifecycle_stage, Str(j, "lifecycle_stage"));
  return i;
}

Json ToJson(const meta::Metric& m) {
  Json j{{"key", m.key}, {"value", DoubleJson(m.value)}, {"timestamp", m.timestamp}, {"step", m.step}};
  PutIf(j, "model_id", m.model_id);
  PutIf(j, "dataset_name", m.dataset_name);
  PutIf(j, "dataset_digest", m.dataset_digest);
  PutIf(j, "run_id", m.run_id);
  return j;
}

Result<meta::Metric> MetricFromJson(const Json& j) {
  if (!j.is_object()) return Bad("metrics", "expected objects {key, value, timestamp, step}");
  meta::Metric m;
  ASSIGN_OR_RETURN(m.key, Str(j, "key", true));
  auto v = j.find("value");
  if (v == j.end() || v->is_null()) return Status::User("missing value for required parameter 'value'");
  ASSIGN_OR_RETURN(m.value, DoubleFromJson(*v, "value"));
  ASSIGN_OR_RETURN(m.timestamp, Int(j, "timestamp"));
  ASSIGN_OR_RETURN(m.step, Int(j, "step"));
  ASSIGN_OR_RETURN(m.model_id, Str(j, "model_id"));
  ASSIGN_OR_RETURN(m.dataset_name, Str(j, "dataset_name"));
  ASSIGN_OR_RETURN(m.dataset_digest, Str(j, "dataset_digest"));
  ASSIGN_OR_RETURN(m.run_id, Str(j, "run_id"));
  return m;
}

Json ToJson(const meta::LoggedModel& m) {
  static const std::map<std::string, std::string> kStatus = {
      {"PENDING", "LOGGED_MODEL_PENDING"}, {"READY", "LOGGED_MODEL_READY"}, {"FAILED", "LOGGED_MODEL_UPLOAD_FAILED"}};
  auto st = kStatus.find(m.status);
  Json info{{"model_id", m.model_id},
            {"experiment_id", m.experiment_id},
            {"name", m.name},
            {"creation_timestamp_ms", m.creation_timestamp},
            {"last_updated_timestamp_ms", m.last_updated_timestamp},
            {"artifact_uri", m.artifact_location},
            {"status", st == kStatus.end() ? "LOGGED_MODEL_STATUS_UNSPECIFIED" : st->second}};
  PutIf(info, "model_type", m.model_type);
  PutIf(info, "source_run_id", m.source_run_id);
  PutIf(info, "status_message", m.status_message);
  if (!m.tags.empty()) info["tags"] = ToJson(m.tags);
  Json data = Json::object();
  if (!m.params.empty()) {
    Json ps = Json::array();
    for (const auto& p : m.params) ps.push_back({{"key", p.key}, {"value", p.value}});
    data["params"] = std::move(ps);
  }
  if (!m.metrics.empty()) data["metrics"] = ListToJson(m.metrics);
  return {{"info", std::move(info)}, {"data", std::move(data)}};
}

Json ToJson(const meta::Run& r) {
  Json data = Json::object();
  if (!r.metrics.empty()) data["metrics"] = ListToJson(r.metrics);
  if (!r.params.empty()) {
    Json ps = Json::array();
    for (const auto& p : r.params) ps.push_back({{"key", p.key}, {"value", p.value}});
    data["params"] = std::move(ps);
  }
  if (!r.tags.empty()) data["tags"] = ToJson(r.tags);
  Json inputs = Json::object();
  if (!r.inputs.empty()) inputs["dataset_inputs"] = ListToJson(r.inputs);
  if (!r.model_inputs.empty()) {
    Json ms = Json::array();
    for (const auto& m : r.model_inputs) ms.push_back({{"model_id", m.model_id}});
    inputs["model_inputs"] = std::move(ms);
  }
  Json outputs = Json::object();
  if (!r.model_outputs.empty()) {
    Json ms = Json::array();
    for (const auto& m : r.model_outputs) ms.push_back({{"model_id", m.model_id}, {"step", m.step}});
    outputs["model_outputs"] = std::move(ms);
  }
  Json j{{"info", ToJson(r.info)}, {"data", std::move(data)}, {"inputs", std::move(inputs)}};
  if (!outputs.empty()) j["outputs"] = std::move(outputs);
  return j;
}

Json ToJson(const meta::DatasetInput& d) {
  Json ds{{"name", d.dataset.name},
          {"digest", d.dataset.digest},
          {"source_type", d.dataset.source_type},
          {"source", d.dataset.source}};
  if (d.dataset.schema) ds["schema"] = *d.dataset.schema;
  if (d.dataset.profile) ds["profile"] = *d.dataset.profile;
  Json j{{"dataset", std::move(ds)}};
  if (!d.tags.empty()) j["tags"] = ToJson(d.tags);
  return j;
}

Result<meta::DatasetInput> DatasetInputFromJson(const Json& j) {
  if (!j.is_object()) return Bad("datasets", "expected a list of {dataset, tags}");
  auto it = j.find("dataset");
  if (it == j.end() || it->is_null()) return Status::User("missing value for required parameter 'dataset'");
  if (!it->is_object()) return Bad("dataset", "expected {name, digest, source_type, source, schema, profile}");
  meta::DatasetInput d;
  const Json& ds = *it;
  auto field = [&](const char* name, std::string* out) -> Status {
    auto f = ds.find(name);
    if (f == ds.end() || f->is_null())
      return Status::User(std::string("missing value for required parameter 'dataset.") + name + "'");
    if (!f->is_string()) return Bad(std::string("dataset.") + name, "expected a string");
    *out = f->get<std::string>();
    return Status::Ok();
  };
  auto optional = [&](const char* name, std::optional<std::string>* out) -> Status {
    auto f = ds.find(name);
    if (f == ds.end() || f->is_null()) return Status::Ok();
    if (!f->is_string()) return Bad(std::string("dataset.") + name, "expected a string");
    *out = f->get<std::string>();
    return Status::Ok();
  };
  RETURN_IF_ERROR(field("name", &d.dataset.name));
  RETURN_IF_ERROR(field("digest", &d.dataset.digest));
  RETURN_IF_ERROR(field("source_type", &d.dataset.source_type));
  RETURN_IF_ERROR(field("source", &d.dataset.source));
  RETURN_IF_ERROR(optional("schema", &d.dataset.schema));
  RETURN_IF_ERROR(optional("profile", &d.dataset.profile));
  ASSIGN_OR_RETURN(d.tags, TagsFromJson(j, "tags"));
  return d;
}

Result<meta::Run> RunFromJson(const Json& j) {
  meta::Run r;
  if (!j.is_object() || !j.contains("info")) return Bad("run", "expected {info, data}");
  ASSIGN_OR_RETURN(r.info, RunInfoFromJson(j["info"]));
  auto d = j.find("data");
  if (d != j.end() && d->is_object()) {
    if (d->contains("metrics")) RETURN_IF_ERROR(ListFromJson((*d)["metrics"], MetricFromJson, &r.metrics));
    if (d->contains("params"))
      for (const Json& p : (*d)["params"]) {
        ASSIGN_OR_RETURN(std::string k, Str(p, "key", true));
        ASSIGN_OR_RETURN(std::string v, Str(p, "value"));
        r.params.push_back({k, v});
      }
    ASSIGN_OR_RETURN(r.tags, TagsFromJson(*d, "tags"));
  }
  auto in = j.find("inputs");
  if (in != j.end() && in->is_object() && in->contains("dataset_inputs")) {
    const Json& list = (*in)["dataset_inputs"];
    if (!list.is_array()) return Bad("inputs.dataset_inputs", "expected a list");
    RETURN_IF_ERROR(ListFromJson(list, DatasetInputFromJson, &r.inputs));
  }
  // The LoggedModels the run made (forja serve finds runs:/RUN/NAME among them).
  auto out = j.find("outputs");
  if (out != j.end() && out->is_object() && out->contains("model_outputs")) {
    const Json& list = (*out)["model_outputs"];
    if (!list.is_array()) return Bad("outputs.model_outputs", "expected a list");
    for (const Json& m : list) {
      ASSIGN_OR_RETURN(std::string id, Str(m, "model_id", true));
      r.model_outputs.push_back({id, m.is_object() && m.value("step", Json()).is_number_integer() ? m["step"].get<int64_t>() : 0});
    }
  }
  return r;
}

Json ToJson(const meta::ModelVersion& v) {
  Json j{{"name", v.name},
         {"version", std::to_string(v.version)},
         {"creation_timestamp", v.creation_timestamp},
         {"last_updated_timestamp", v.last_updated_timestamp},
         {"current_stage", v.current_stage},
         {"description", v.description},
         {"source", v.source},
         {"run_id", v.run_id},
         {"status", v.status},
         {"run_link", v.run_link}};
  PutIf(j, "user_id", v.user_id);
  if (!v.tags.empty()) j["tags"] = ToJson(v.tags);
  if (!v.aliases.empty()) j["aliases"] = v.aliases;
  PutIf(j, "forja_package_hash", v.package_hash);
  PutIf(j, "model_id", v.model_id);
  return j;
}

Result<meta::ModelVersion> ModelVersionFromJson(const Json& j) {
  meta::ModelVersion v;
  if (!j.is_object()) return Bad("model_version", "expected an object");
  ASSIGN_OR_RETURN(v.name, Str(j, "name"));
  ASSIGN_OR_RETURN(v.version, Int(j, "version"));
  ASSIGN_OR_RETURN(v.creation_timestamp, Int(j, "creation_timestamp"));
  ASSIGN_OR_RETURN(v.last_updated_timestamp, Int(j, "last_updated_timestamp"));
  ASSIGN_OR_RETURN(v.user_id, Str(j, "user_id"));
  ASSIGN_OR_RETURN(v.current_stage, Str(j, "current_stage"));
  ASSIGN_OR_RETURN(v.description, Str(j, "description"));
  ASSIGN_OR_RETURN(v.source, Str(j, "source"));
  ASSIGN_OR_RETURN(v.run_id, Str(j, "run_id"));
  ASSIGN_OR_RETURN(v.run_link, Str(j, "run_link"));
  ASSIGN_OR_RETURN(v.status, Str(j, "status"));
  ASSIGN_OR_RETURN(v.package_hash, Str(j, "forja_package_hash"));
  ASSIGN_OR_RETURN(v.model_id, Str(j, "model_id"));
  ASSIGN_OR_RETURN(v.tags, TagsFromJson(j, "tags"));
  if (j.contains("aliases") && j["aliases"].is_array())
    for (const Json& a : j["aliases"])
      if (a.is_string()) v.aliases.push_back(a.get<std::string>());
  return v;
}

Json ToJson(const meta::RegisteredModel& m) {
  Json j{{"name", m.name},
         {"creation_timestamp", m.creation_timestamp},
         {"last_updated_timestamp", m.last_updated_timestamp},
         {"description", m.description}};
  if (!m.latest_versions.empty()) j["latest_versions"] = ListToJson(m.latest_versions);
  if (!m.tags.empty()) j["tags"] = ToJson(m.tags);
  if (!m.aliases.empty()) {
    Json as = Json::array();
    for (const auto& [alias, version] : m.aliases) as.push_back({{"alias", alias}, {"version", std::to_string(version)}});
    j["aliases"] = std::move(as);
  }
  return j;
}

Result<meta::RegisteredModel> RegisteredModelFromJson(const Json& j) {
  meta::RegisteredModel m;
  if (!j.is_object()) return Bad("registered_model", "expected an object");
  ASSIGN_OR_RETURN(m.name, Str(j, "name"));
  ASSIGN_OR_RETURN(m.creation_timestamp, Int(j, "creation_timestamp"));
  ASSIGN_OR_RETURN(m.last_updated_timestamp, Int(j, "last_updated_timestamp"));
  ASSIGN_OR_RETURN(m.description, Str(j, "description"));
  ASSIGN_OR_RETURN(m.tags, TagsFromJson(j, "tags"));
  if (j.contains("latest_versions"))
    RETURN_IF_ERROR(ListFromJson(j["latest_versions"], ModelVersionFromJson, &m.latest_versions));
  if (j.contains("aliases"))
    for (const Json& a : j["aliases"]) {
      ASSIGN_OR_RETURN(std::string alias, Str(a, "alias"));
      ASSIGN_OR_RETURN(int64_t version, Int(a, "version"));
      m.aliases.push_back({alias, version});
    }
  return m;
}

Json ToJson(const meta::Transition& t) {
  Json j{{"id", t.id},     {"name", t.name}, {"version", std::to_string(t.version)},
         {"kind", t.kind}, {"from", t.from}, {"to", t.to},
         {"user", t.user}, {"time", t.time}, {"comment", t.comment},
         {"forced", t.forced}};
  if (!t.gates.empty()) j["gates"] = t.gates;
  return j;
}

Result<meta::Transition> TransitionFromJson(const Json& j) {
  meta::Transition t;
  ASSIGN_OR_RETURN(t.id, Int(j, "id"));
  ASSIGN_OR_RETURN(t.name, Str(j, "name"));
  ASSIGN_OR_RETURN(t.version, Int(j, "version"));
  ASSIGN_OR_RETURN(t.kind, Str(j, "kind"));
  ASSIGN_OR_RETURN(t.from, Str(j, "from"));
  ASSIGN_OR_RETURN(t.to, Str(j, "to"));
  ASSIGN_OR_RETURN(t.user, Str(j, "user"));
  ASSIGN_OR_RETURN(t.time, Int(j, "time"));
  ASSIGN_OR_RETURN(t.comment, Str(j, "comment"));
  t.forced = j.value("forced", false);
  ASSIGN_OR_RETURN(t.gates, Str(j, "gates"));
  return t;
}

Json ToJson(const meta::ModelAlert& a) {
  return Json{{"fingerprint", a.fingerprint},
              {"name", a.name},
              {"status", a.status},
              {"model", a.model},
              {"version", a.version},
              {"severity", a.severity},
              {"starts_at", a.starts_at},
              {"ends_at", a.ends_at},
              {"received", a.received},
              {"labels", Json::parse(a.labels, nullptr, false)},
              {"annotations", Json::parse(a.annotations, nullptr, false)}};
}

Result<meta::ModelAlert> AlertFromJson(const Json& j) {
  meta::ModelAlert a;
  if (!j.is_object()) return Bad("alerts", "expected objects");
  ASSIGN_OR_RETURN(a.fingerprint, Str(j, "fingerprint"));
  ASSIGN_OR_RETURN(a.name, Str(j, "name"));
  ASSIGN_OR_RETURN(a.status, Str(j, "status"));
  ASSIGN_OR_RETURN(a.model, Str(j, "model"));
  ASSIGN_OR_RETURN(a.version, Str(j, "version"));
  ASSIGN_OR_RETURN(a.severity, Str(j, "severity"));
  ASSIGN_OR_RETURN(a.starts_at, Int(j, "starts_at"));
  ASSIGN_OR_RETURN(a.ends_at, Int(j, "ends_at"));
  ASSIGN_OR_RETURN(a.received, Int(j, "received"));
  for (auto [key, out] : {std::pair{"labels", &a.labels}, std::pair{"annotations", &a.annotations}}) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_object()) return Bad(key, "expected an object");
    *out = it->dump();
  }
  return a;
}

Json ToJson(const meta::LineageItem& l) {
  return {{"direction", l.direction}, {"path", l.path}, {"hash", l.hash}, {"kind", l.kind}, {"size", l.size}};
}

Result<meta::LineageItem> LineageFromJson(const Json& j) {
  meta::LineageItem l;
  if (!j.is_object()) return Bad("items", "expected objects {direction, path, hash, kind, size}");
  ASSIGN_OR_RETURN(l.direction, Str(j, "direction", true));
  ASSIGN_OR_RETURN(l.path, Str(j, "path", true));
  ASSIGN_OR_RETURN(l.hash, Str(j, "hash", true));
  ASSIGN_OR_RETURN(l.kind, Str(j, "kind"));
  ASSIGN_OR_RETURN(l.size, Int(j, "size"));
  return l;
}

}  // namespace forja::api
