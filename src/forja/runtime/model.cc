#include "forja/runtime/model.h"

#include "forja/runtime/lightgbm_model.h"
#include "forja/runtime/python_model.h"
#include "forja/runtime/xgboost_model.h"

namespace forja::runtime {

Result<std::unique_ptr<Model>> LoadModel(const ModelSpec& spec) {
  if (spec.flavor == "xgboost") return LoadXgboostModel(spec);
  if (spec.flavor == "lightgbm") return LoadLightgbmModel(spec);
  if (spec.flavor == "python") return LoadPythonModel(spec);
  return Status::User(spec.dir + "/model.yaml: flavor '" + spec.flavor +
                      "' has no runtime: use xgboost, lightgbm or python");
}

}  // namespace forja::runtime
