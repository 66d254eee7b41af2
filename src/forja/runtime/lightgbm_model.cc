// runtime::Model over LightgbmForest (forest_io.h's ForestModel).
#include "forja/runtime/lightgbm_model.h"

#include "forja/runtime/forest_io.h"

namespace forja::runtime {

Result<std::unique_ptr<Model>> LoadLightgbmModel(const ModelSpec& spec) {
  return LoadForestModel<LightgbmForest>(spec, "a lightgbm", "lightgbm needs a model file (model: model.txt)");
}

}  // namespace forja::runtime
