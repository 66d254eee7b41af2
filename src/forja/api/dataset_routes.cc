// runs/log-inputs: the datasets a run used (MLflow's mlflow.log_input), read from MLflow's
// LogInputs message and stored by the metadata store (meta/sql_datasets.cc), which checks
// MLflow's limits and deduplicates, and the LoggedModels it used (meta/sql_logged_models.cc).
// runs/get and runs/search return them as inputs.dataset_inputs and inputs.model_inputs (codec.cc).
#include <nlohmann/json.hpp>

#include "forja/api/server_impl.h"

namespace forja::api {

using Impl = TrackingServer::Impl;

Result<Json> Impl::LogInputs(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, p.RunId());
  const Json& body = p.body();
  // MLflow 3: the LoggedModels the run used, each {model_id} (meta/sql_logged_models.cc).
  std::vector<meta::ModelIo> models;
  if (auto m = body.find("models"); m != body.end() && !m->is_null()) {
    if (!m->is_array()) return Status::User("invalid value for 'models': expected a list of {model_id}");
    for (size_t i = 0; i < m->size(); i++) {
      const Json& x = (*m)[i];
      std::string at = "models[" + std::to_string(i) + "].model_id";
      auto id = x.is_object() ? x.find("model_id") : x.end();
      if (!x.is_object() || id == x.end() || id->is_null())
        return Status::User("missing value for required parameter '" + at + "'");
      if (!id->is_string()) return Status::User("invalid value for '" + at + "': expected a string");
      models.push_back({id->get<std::string>(), 0});
    }
  }
  std::vector<meta::DatasetInput> inputs;
  if (auto it = body.find("datasets"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) return Status::User("invalid value for 'datasets': expected a list of {dataset, tags}");
    for (size_t i = 0; i < it->size(); i++) {
      Result<meta::DatasetInput> d = DatasetInputFromJson((*it)[i]);
      if (!d.ok()) return Status::User("datasets[" + std::to_string(i) + "]: " + d.status().message());
      inputs.push_back(std::move(*d));
    }
  }
  // Each model must exist: checked before the datasets are written, so a request naming an
  // unknown one stores nothing (and a refused dataset stores no model).
  for (const meta::ModelIo& m : models) RETURN_IF_ERROR(store->GetLoggedModel(m.model_id, false).status());
  if (!inputs.empty() || models.empty()) RETURN_IF_ERROR(store->LogInputs(id, inputs));
  if (!models.empty()) RETURN_IF_ERROR(store->LogModelIo(id, false, models));
  return Json::object();
}

// experiments/search-datasets (MLflow's UI lists an experiment's datasets with it).
Result<Json> Impl::SearchDatasets(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::vector<std::string> ids, p.List("experiment_ids"));
  ASSIGN_OR_RETURN(std::vector<meta::DatasetSummary> found, store->SearchDatasets(ids));
  Json list = Json::array();
  for (const meta::DatasetSummary& d : found) {
    Json j = {{"experiment_id", d.experiment_id}, {"name", d.name}, {"digest", d.digest}};
    if (!d.context.empty()) j["context"] = d.context;
    list.push_back(std::move(j));
  }
  return SearchAnswer("dataset_summaries", std::move(list), "");
}

}  // namespace forja::api
