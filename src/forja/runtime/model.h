// The model interface every runtime implements, and loading one from a model
// package folder. A Model predicts a batch: each input tensor's first dimension
// is the number of rows, and so is each output's. Predict may be called from
// several threads at once.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "forja/core/status.h"
#include "forja/core/tensor.h"

namespace forja::runtime {

// What a runtime needs of a package (the registry's model.yaml, already checked).
struct ModelSpec {
  std::string dir;         // the package folder, absolute
  std::string flavor;      // "xgboost", "lightgbm", "onnx", "python"
  std::string model_file;  // relative to dir
  std::vector<TensorSpec> inputs, outputs;
  std::string python_module, python_function;  // flavor python
  std::string python_executable;               // default: $FORJA_PYTHON, else python3 on PATH
  int workers = 0;                             // python worker processes (0: one per core)
  int timeout_ms = 30000;                      // one predict call (python: the worker is replaced after it)
};

class Model {
 public:
  virtual ~Model() = default;
  virtual const std::vector<TensorSpec>& inputs() const = 0;
  virtual const std::vector<TensorSpec>& outputs() const = 0;
  // Fills `outputs` (in the order of outputs()). Bad inputs are Status::User naming
  // the input; a runtime failure is Status::Internal (500) or Status::Remote for a
  // timeout (504).
  virtual Status Predict(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) = 0;
  // A short description for logs and /v2/models/{name}: "xgboost 3.2.0 binary:logistic, 200 trees, 32 features".
  virtual std::string Describe() const = 0;
};

// Loads the runtime of spec.flavor. A corrupt or unsupported model file is a
// Status::User naming the file and what is wrong.
Result<std::unique_ptr<Model>> LoadModel(const ModelSpec& spec);

}  // namespace forja::runtime
