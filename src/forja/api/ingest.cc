// The bodies of the ingest routes, runs/log-batch and runs/log-metric (a batch of one
// metric), read from the request's tree: every check and every MLflow message.
#include <nlohmann/json.hpp>

#include "forja/api/server_impl.h"

namespace forja::api {

Result<LogBatchBody> ReadLogBatch(const Params& p) {
  LogBatchBody out;
  ASSIGN_OR_RETURN(out.run_id, p.RunId());
  const Json& b = p.body();
  if (b.contains("metrics")) {
    if (!b["metrics"].is_array()) return Status::User("'metrics' must be a list");
    RETURN_IF_ERROR(ListFromJson(b["metrics"], MetricFromJson, &out.metrics));
  }
  if (b.contains("params")) {
    if (!b["params"].is_array()) return Status::User("'params' must be a list");
    for (const Json& x : b["params"]) {
      if (!x.is_object() || !x.contains("key") || !x["key"].is_string())
        return Status::User("'params' must be a list of {key, value}");
      out.params.push_back({x["key"].get<std::string>(), x.contains("value") && x["value"].is_string()
                                                             ? x["value"].get<std::string>()
                                                             : (x.contains("value") ? x["value"].dump() : "")});
    }
  }
  ASSIGN_OR_RETURN(out.tags, TagsFromJson(b, "tags"));
  return out;
}

Result<LogBatchBody> ReadLogMetric(const Params& p) {
  LogBatchBody out;
  ASSIGN_OR_RETURN(out.run_id, p.RunId());
  ASSIGN_OR_RETURN(meta::Metric m, MetricFromJson(p.body()));
  out.metrics.push_back(std::move(m));
  return out;
}

}  // namespace forja::api
