#include "forja/api/unimplemented_routes.h"

namespace forja::api {

namespace {

struct Family {
  std::string_view prefix;  // the key itself, or the key followed by '/'
  std::string_view why;
};

// The families of the MLflow 3.x service tables (mlflow/protos/service_pb2.py,
// webhooks_pb2.py) and of the MCP server registry (its REST mixin) whose routes the client's
// RestStores call and forja does not serve.
constexpr Family kFamilies[] = {
    {"traces", "MLflow tracing (traces, trace tags, assessments) is not supported"},
    {"unified-traces", "MLflow tracing is not supported"},
    {"get-online-trace-details", "MLflow tracing is not supported"},
    {"scorers", "GenAI scorers are not supported"},
    {"datasets", "GenAI evaluation datasets are not supported (run inputs, runs/log-inputs, are)"},
    {"issues", "GenAI issues are not supported"},
    {"label-schemas", "GenAI label schemas are not supported"},
    {"review-queues", "GenAI review queues are not supported"},
    {"prompt-optimization", "prompt optimization jobs are not supported"},
    {"gateway", "the MLflow AI gateway is not supported"},
    {"mcp-servers", "the MCP server registry is not supported"},
    {"webhooks", "registry webhooks are not supported"},
    {"workspaces", "MLflow workspaces are not supported (one store is one workspace)"},
    {"metrics/get-history-bulk-interval", "sampled metric history is not supported; use metrics/get-history"},
    {"artifacts/presigned-download-url", "presigned URLs are not supported; artifacts go through the proxy"},
    {"artifacts/presigned-upload-url", "presigned URLs are not supported; artifacts go through the proxy"},
};

bool InFamily(std::string_view key, std::string_view prefix) {
  return key == prefix || (key.starts_with(prefix) && key.size() > prefix.size() && key[prefix.size()] == '/');
}

}  // namespace

std::string UnimplementedMlflowRoute(std::string_view key) {
  for (const Family& f : kFamilies)
    if (InFamily(key, f.prefix)) return std::string(f.why);
  return "";
}

std::string UnimplementedArtifactRoute(std::string_view rest) {
  // server-info says multipart_uploads_enabled: false, so clients upload in one PUT.
  if (InFamily(rest, "mpu"))
    return "multipart uploads are not supported (server-info says so); upload with one PUT";
  if (InFamily(rest, "presigned")) return "presigned URLs are not supported; download through the proxy";
  return "";
}

}  // namespace forja::api
