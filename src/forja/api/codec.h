// MLflow's JSON shapes for forja's metadata types, both ways: the server writes
// them, the REST client (rest_store.cc) reads them back. Field names and types
// follow MLflow's protobuf JSON (ids and versions are strings, times are numbers,
// NaN and infinities are the strings "NaN", "Infinity", "-Infinity").
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "forja/meta/store.h"

namespace forja::api {

using Json = nlohmann::json;

Json ToJson(const meta::Experiment& e);
Json ToJson(const meta::RunInfo& i);
Json ToJson(const meta::Run& r);
Json ToJson(const meta::Metric& m);
Json ToJson(const meta::RegisteredModel& m);
Json ToJson(const meta::ModelVersion& v);
Json ToJson(const meta::Transition& t);
Json ToJson(const meta::LineageItem& l);
Json ToJson(const meta::ModelAlert& a);
Json ToJson(const meta::DatasetInput& d);
Json ToJson(const meta::LoggedModel& m);  // MLflow's LoggedModel {info, data}
Json ToJson(const meta::Rollout& r);      // forja rollout's record (rollout_routes.cc)
Json ToJson(const std::vector<meta::Tag>& tags);
// A JSON list of each item's ToJson (for the types above).
template <typename T>
Json ListToJson(const std::vector<T>& items);

// The reverse; shapes that do not match are a Status naming the field.
Result<meta::Experiment> ExperimentFromJson(const Json& j);
Result<meta::RunInfo> RunInfoFromJson(const Json& j);
Result<meta::Run> RunFromJson(const Json& j);
Result<meta::Metric> MetricFromJson(const Json& j);
Result<meta::RegisteredModel> RegisteredModelFromJson(const Json& j);
Result<meta::ModelVersion> ModelVersionFromJson(const Json& j);
Result<meta::Transition> TransitionFromJson(const Json& j);
Result<meta::LineageItem> LineageFromJson(const Json& j);
Result<meta::ModelAlert> AlertFromJson(const Json& j);
Result<meta::Rollout> RolloutFromJson(const Json& j);
// One of runs/log-inputs' "datasets" ({dataset: {name, digest, ...}, tags}); errors name
// the field ("dataset.digest").
Result<meta::DatasetInput> DatasetInputFromJson(const Json& j);
Result<std::vector<meta::Tag>> TagsFromJson(const Json& j, const char* field);

// Reads each item of `list` with `from` (one of the above) onto `out`: MLflow's lists of
// runs, versions, metrics... The first item that does not read is the error.
template <typename T>
Status ListFromJson(const Json& list, Result<T> (*from)(const Json&), std::vector<T>* out);

// Parses JSON text from outside (a request body, a server's answer) after
// limits::CheckJsonText (UTF-8, nesting depth), so nothing that later walks the
// tree (copy, compare, dump) can recurse past kMaxJsonDepth. `what` names the
// text in errors: "the request body is not valid UTF-8 (byte 12)".
Result<Json> ParseJsonText(std::string_view text, std::string_view what);

// A value quoted in an error message: a scalar as JSON, cut to about `max_bytes`
// on a character boundary; a list or object only as "[...]" or "{...}", so
// quoting never walks (or prints) a nested tree.
std::string JsonExcerpt(const Json& j, size_t max_bytes = 40);

// A double as MLflow's JSON writes it.
Json DoubleJson(double v);
// A double from a number or "NaN" / "Infinity" / "-Infinity" (or a numeric string).
Result<double> DoubleFromJson(const Json& j, const char* field);

}  // namespace forja::api
