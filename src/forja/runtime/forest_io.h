// Tensors in and out of a tree ensemble that scores float rows (the xgboost and LightGBM
// runtimes): the signature's inputs, each
// [rows, columns] (or [rows] for one column) of any numeric datatype, are converted to float
// and laid side by side in signature order; the one output is FP32, [rows] or [rows, k].
#pragma once

#include <memory>
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

// runtime::Model over a tree ensemble (XgboostForest, LightgbmForest): tensors in, converted
// to float rows by ForestIo, scored, one output tensor out.
template <typename Forest>
class ForestModel : public Model {
 public:
  ForestModel(std::unique_ptr<Forest> forest, ForestIo io) : forest_(std::move(forest)), io_(std::move(io)) {}

  const std::vector<TensorSpec>& inputs() const override { return io_.inputs(); }
  const std::vector<TensorSpec>& outputs() const override { return io_.outputs(); }
  std::string Describe() const override { return forest_->Describe(); }

  Status Predict(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) override {
    std::vector<float> x;
    ASSIGN_OR_RETURN(size_t rows, io_.Rows(inputs, &x));
    std::vector<float> y(rows * forest_->num_outputs());
    forest_->PredictRows(x.data(), rows, forest_->num_feature(), y.data());
    outputs->clear();
    outputs->push_back(io_.Output(rows, y));
    return Status::Ok();
  }

 private:
  std::unique_ptr<Forest> forest_;
  ForestIo io_;
};

// Loads spec's model file with Forest::Load and checks its signature. `flavor` names the
// model in errors ("an xgboost"); `no_file` is the error when model.yaml names no file.
template <typename Forest>
Result<std::unique_ptr<Model>> LoadForestModel(const ModelSpec& spec, const char* flavor, const char* no_file) {
  if (spec.model_file.empty()) return Status::User(spec.dir + "/model.yaml: " + no_file);
  std::string path = spec.dir + "/" + spec.model_file;
  ASSIGN_OR_RETURN(std::unique_ptr<Forest> forest, Forest::Load(path));
  ASSIGN_OR_RETURN(ForestIo io, ForestIo::Make(spec, path, flavor, forest->num_feature(), forest->num_outputs()));
  return std::unique_ptr<Model>(new ForestModel<Forest>(std::move(forest), std::move(io)));
}

}  // namespace forja::runtime
