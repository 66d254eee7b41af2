// Tensors in and out of a tree ensemble that scores float rows (the xgboost and LightGBM
// runtimes): the signature's inputs, each
// [rows, columns] (or [rows] for one column) of any numeric datatype, are converted to float
// and laid side by side in signature order; the one output is FP32, [rows] or [rows, k].
#pragma once

#include <string>
#include <vector>

#include "forja/runtime/model.h"

namespace forja::runtime {

class ForestIo {
 public:
  // Checks spec's signature against the model's `num_feature` features and `k` output
  // columns; `flavor` names the model in errors. Errors name model.yaml and `path`.
  static Result<ForestIo> Make(const ModelSpec& spec, const std::string& path, const char* flavor, size_t num_feature,
                               size_t k);

  const std::vector<TensorSpec>& inputs() const { return inputs_; }
  const std::vector<TensorSpec>& outputs() const { return outputs_; }
  // The rows of `inputs` into *x (resized to rows * num_feature); bad inputs are Status::User naming the input.
  Result<size_t> Rows(const std::vector<Tensor>& inputs, std::vector<float>* x) const;
  // The output tensor around rows * k predictions.
  Tensor Output(size_t rows, const std::vector<float>& y) const;

 private:
  const Tensor* Find(const std::vector<Tensor>& inputs, size_t i) const;
  Result<int64_t> CheckShape(const Tensor& t, size_t i, int64_t rows) const;

  std::vector<TensorSpec> inputs_, outputs_;
  std::vector<size_t> columns_;  // per input
  size_t num_feature_ = 0, k_ = 1;
};

}  // namespace forja::runtime
