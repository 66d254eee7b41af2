// The xgboost runtime: a native evaluator of the JSON and UBJ model files that
// xgboost 1.7 through 3.x write (Booster.save_model("model.json" / "model.ubj")).
#pragma once

#include <memory>

#include "forja/runtime/model.h"

namespace forja::runtime {

Result<std::unique_ptr<Model>> LoadXgboostModel(const ModelSpec& spec);

}  // namespace forja::runtime
