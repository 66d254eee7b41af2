// runtime::Model over XgboostForest (forest_io.h's ForestModel).
#include "forja/runtime/xgboost_model.h"

#include "forja/runtime/forest_io.h"

namespace forja::runtime {

Result<std::unique_ptr<Model>> LoadXgboostModel(const ModelSpec& spec) {
  return LoadForestModel<XgboostForest>(spec, "an xgboost", "xgboost needs a model file");
}

}  // namespace forja::runtime
