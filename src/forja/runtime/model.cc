#include "forja/runtime/model.h"

#include "forja/runtime/lightgbm_model.h"
#include "forja/runtime/python_model.h"
#include "forja/runtime/xgboost_model.h"

namespace forja::runtime {

Result<std::unique_ptr<Model>> LoadModel(const ModelSpec& spec) {
  if (spec.flavor == "xgboost") return LoadXgboostModel(spec);
  if (spec.flavor == "lightgbm") return LoadLightgbmModel(spec);
  if (spec.flavor == "python") return LoadPythonModel(spec);
  if (spec.flavor == "onnx") {
    // ONNX Runtime in the python workers (python_worker.cc, module ":onnx"): its C API has a
    // library but no header in the registries forja builds from (docs/formats.md, ONNX).
    ModelSpec onnx = spec;
    onnx.python_module = kOnnxModule;
    onnx.python_function = spec.model_file;
    return LoadPythonModel(onnx);
  }
  return Status::User(spec.dir + "/model.yaml: flavor '" + spec.flavor +
                      "' has no runtime: use xgboost, lightgbm, onnx or python");
}

}  // namespace forja::runtime
