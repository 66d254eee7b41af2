// runtime::Model over XgboostForest: tensors in, converted to float rows, scored.
#include "forja/runtime/xgboost_model.h"

#include "forja/runtime/forest_io.h"

namespace forja::runtime {

namespace {

class XgboostModel : public Model {
 public:
  XgboostModel(std::unique_ptr<XgboostForest> forest, ForestIo io) : forest_(std::move(forest)), io_(std::move(io)) {}

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
  std::unique_ptr<XgboostForest> forest_;
  ForestIo io_;
};

}  // namespace

Result<std::unique_ptr<Model>> LoadXgboostModel(const ModelSpec& spec) {
  if (spec.model_file.empty()) return Status::User(spec.dir + "/model.yaml: xgboost needs a model file");
  std::string path = spec.dir + "/" + spec.model_file;
  ASSIGN_OR_RETURN(std::unique_ptr<XgboostForest> forest, XgboostForest::Load(path));
  ASSIGN_OR_RETURN(ForestIo io, ForestIo::Make(spec, path, "an xgboost", forest->num_feature(), forest->num_outputs()));
  return std::unique_ptr<Model>(new XgboostModel(std::move(forest), std::move(io)));
}

}  // namespace forja::runtime
