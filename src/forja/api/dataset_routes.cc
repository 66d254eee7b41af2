// runs/log-inputs: the datasets a run used (MLflow's mlflow.log_input), read from MLflow's
// LogInputs message and stored by the metadata store (meta/sql_datasets.cc), which checks
// MLflow's limits and deduplicates. runs/get and runs/search return them as
// inputs.dataset_inputs (codec.cc).
#include <nlohmann/json.hpp>

#include "forja/api/server_impl.h"

namespace forja::api {

using Impl = TrackingServer::Impl;

Result<Json> Impl::LogInputs(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string id, p.RunId());
  const Json& body = p.body();
  // Inputs of LoggedModels need LoggedModels, which forja does not have yet: refused, not dropped.
  if (auto m = body.find("models"); m != body.end() && !m->is_null() && !(m->is_array() && m->empty()))
    return Status::User("invalid value for 'models': model inputs (MLflow 3 LoggedModels) are not implemented by "
                        "forja server; send datasets only");
  std::vector<meta::DatasetInput> inputs;
  if (auto it = body.find("datasets"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) return Status::User("invalid value for 'datasets': expected a list of {dataset, tags}");
    for (size_t i = 0; i < it->size(); i++) {
      Result<meta::DatasetInput> d = DatasetInputFromJson((*it)[i]);
      if (!d.ok()) return Status::User("datasets[" + std::to_string(i) + "]: " + d.status().message());
      inputs.push_back(std::move(*d));
    }
  }
  RETURN_IF_ERROR(store->LogInputs(id, inputs));
  return Json::object();
}

}  // namespace forja::api
