// MLflow routes that the MLflow 3 Python client calls and forja server does not implement:
// they answer 501 NOT_IMPLEMENTED with the reason, never a 404 that reads as a wrong URL
// and never a success that drops the data (docs/mlflow-compat.md lists them).
#pragma once

#include <string>
#include <string_view>

namespace forja::api {

// `key` is the path after /api/{2,3,4}.0/mlflow/ (e.g. "traces/search"); `artifacts` is
// the path after /api/2.0/mlflow-artifacts/ when the request is for the artifact service.
// Returns why the route is not implemented, or "" when it is not a known MLflow route.
std::string UnimplementedMlflowRoute(std::string_view key);
std::string UnimplementedArtifactRoute(std::string_view rest);

}  // namespace forja::api
