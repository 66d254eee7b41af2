// runtime::Model over XgboostForest: tensors in, converted to float rows, scored.
#include <cstring>
#include <type_traits>

#include "forja/runtime/xgboost_model.h"

namespace forja::runtime {

namespace {

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + (shape[i] < 0 ? "rows" : std::to_string(shape[i]));
  return s + "]";
}

float HalfToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ffu;
  float f;
  if (exp == 0) {  // zero or subnormal: man * 2^-24
    f = static_cast<float>(man) * 5.9604644775390625e-8f;
    return sign ? -f : f;
  }
  uint32_t bits = sign | (exp == 31 ? 0x7f800000u | man << 13 : (exp + 112) << 23 | man << 13);
  std::memcpy(&f, &bits, 4);
  return f;
}

struct Half {
  uint16_t bits;
};

// Copies `cols` columns of `rows` rows of T (little-endian, packed) into x at column `at`.
template <typename T>
void CopyColumns(const char* src, size_t rows, size_t cols, float* x, size_t stride, size_t at) {
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < cols; ++c) {
      T v;
      std::memcpy(&v, src + (r * cols + c) * sizeof(T), sizeof(T));
      if constexpr (std::is_same_v<T, Half>) {
        x[r * stride + at + c] = HalfToFloat(v.bits);
      } else {
        x[r * stride + at + c] = static_cast<float>(v);
      }
    }
}

bool Convert(const std::string& dt, const char* src, size_t rows, size_t cols, float* x, size_t stride, size_t at) {
  if (dt == "FP32") CopyColumns<float>(src, rows, cols, x, stride, at);
  else if (dt == "FP64") CopyColumns<double>(src, rows, cols, x, stride, at);
  else if (dt == "FP16") CopyColumns<Half>(src, rows, cols, x, stride, at);
  else if (dt == "INT8") CopyColumns<int8_t>(src, rows, cols, x, stride, at);
  else if (dt == "INT16") CopyColumns<int16_t>(src, rows, cols, x, stride, at);
  else if (dt == "INT32") CopyColumns<int32_t>(src, rows, cols, x, stride, at);
  else if (dt == "INT64") CopyColumns<int64_t>(src, rows, cols, x, stride, at);
  else if (dt == "UINT8" || dt == "BOOL") CopyColumns<uint8_t>(src, rows, cols, x, stride, at);
  else if (dt == "UINT16") CopyColumns<uint16_t>(src, rows, cols, x, stride, at);
  else if (dt == "UINT32") CopyColumns<uint32_t>(src, rows, cols, x, stride, at);
  else if (dt == "UINT64") CopyColumns<uint64_t>(src, rows, cols, x, stride, at);
  else return false;
  return true;
}

class XgboostModel : public Model {
 public:
  XgboostModel(std::unique_ptr<XgboostForest> forest, std::vector<TensorSpec> inputs,
               std::vector<size_t> columns, std::vector<TensorSpec> outputs)
      : forest_(std::move(forest)), inputs_(std::move(inputs)), columns_(std::move(columns)),
        outputs_(std::move(outputs)) {}

  const std::vector<TensorSpec>& inputs() const override { return inputs_; }
  const std::vector<TensorSpec>& outputs() const override { return outputs_; }
  std::string Describe() const override { return forest_->Describe(); }

  Status Predict(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) override {
    const size_t nf = forest_->num_feature();
    std::vector<float> x;
    int64_t rows = -1;
    size_t at = 0;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      const Tensor* t = Find(inputs, i);
      if (t == nullptr) return Status::User("missing input '" + inputs_[i].name + "'");
      ASSIGN_OR_RETURN(int64_t n, CheckShape(*t, i, rows));
      if (rows < 0) {
        rows = n;
        x.resize(static_cast<size_t>(rows) * nf);
      }
      if (!Convert(t->datatype, t->data.data(), static_cast<size_t>(rows), columns_[i], x.data(), nf, at))
        return Status::User("input '" + t->name + "': datatype " + t->datatype + " is not numeric");
      at += columns_[i];
    }
    const size_t k = forest_->num_outputs();
    Tensor out;
    out.name = outputs_[0].name;
    out.datatype = "FP32";
    out.shape = {rows};
    if (outputs_[0].shape.size() == 2) out.shape.push_back(static_cast<int64_t>(k));
    std::vector<float> y(static_cast<size_t>(rows) * k);
    forest_->PredictRows(x.data(), static_cast<size_t>(rows), nf, y.data());
    out.data.assign(reinterpret_cast<const char*>(y.data()), y.size() * sizeof(float));
    outputs->clear();
    outputs->push_back(std::move(out));
    return Status::Ok();
  }

 private:
  // The tensor for signature input i: by name, or the only one for a one-input signature.
  const Tensor* Find(const std::vector<Tensor>& inputs, size_t i) const {
    for (const Tensor& t : inputs)
      if (t.name == inputs_[i].name) return &t;
    if (inputs_.size() == 1 && inputs.size() == 1) return &inputs[0];
    return nullptr;
  }

  // The rows of a tensor shaped [rows, columns] (or [rows] for one column), agreeing with
  // `rows` when the earlier inputs set it.
  Result<int64_t> CheckShape(const Tensor& t, size_t i, int64_t rows) const {
    size_t cols = columns_[i];
    bool ok = (t.shape.size() == 2 && t.shape[1] == static_cast<int64_t>(cols)) ||
              (t.shape.size() == 1 && cols == 1);
    if (!ok || t.shape[0] < 0 || (rows >= 0 && t.shape[0] != rows)) {
      std::vector<int64_t> want = {rows};
      if (cols != 1 || inputs_[i].shape.size() == 2) want.push_back(static_cast<int64_t>(cols));
      return Status::User("input '" + inputs_[i].name + "': shape " + ShapeText(t.shape) + ", expected " +
                          ShapeText(want));
    }
    size_t size = DatatypeSize(t.datatype);
    if (size == 0) return Status::User("input '" + t.name + "': datatype " + t.datatype + " is not numeric");
    if (t.data.size() != static_cast<size_t>(t.Elements()) * size)
      return Status::User("input '" + t.name + "': " + std::to_string(t.data.size()) + " bytes of data for " +
                          std::to_string(t.Elements()) + " " + t.datatype + " elements");
    return t.shape[0];
  }

  std::unique_ptr<XgboostForest> forest_;
  std::vector<TensorSpec> inputs_;
  std::vector<size_t> columns_;  // per input
  std::vector<TensorSpec> outputs_;
};

}  // namespace

Result<std::unique_ptr<Model>> LoadXgboostModel(const ModelSpec& spec) {
  if (spec.model_file.empty()) return Status::User(spec.dir + "/model.yaml: xgboost needs a model file");
  std::string path = spec.dir + "/" + spec.model_file;
  ASSIGN_OR_RETURN(std::unique_ptr<XgboostForest> forest, XgboostForest::Load(path));
  const auto nf = static_cast<int64_t>(forest->num_feature());
  std::vector<TensorSpec> inputs = spec.inputs;
  if (inputs.empty()) inputs.push_back({"input__0", "FP32", {-1, nf}});
  std::vector<size_t> columns;
  int64_t total = 0;
  for (const TensorSpec& in : inputs) {
    int64_t cols = in.shape.size() == 2 ? in.shape[1] : 1;
    if (cols < 0) cols = inputs.size() == 1 ? nf : 1;
    columns.push_back(static_cast<size_t>(cols));
    total += cols;
  }
  if (total != nf)
    return Status::User(spec.dir + "/model.yaml: the inputs give " + std::to_string(total) + " columns, " + path +
                        " has " + std::to_string(nf) + " features");
  if (spec.outputs.size() > 1)
    return Status::User(spec.dir + "/model.yaml: an xgboost model has one output, the signature lists " +
                        std::to_string(spec.outputs.size()));
  std::vector<TensorSpec> outputs = spec.outputs;
  const auto k = static_cast<int64_t>(forest->num_outputs());
  if (outputs.empty()) {
    outputs.push_back({"output__0", "FP32", {-1}});
    if (k > 1) outputs[0].shape.push_back(k);
  }
  if (k > 1 && outputs[0].shape.size() != 2) outputs[0].shape = {-1, k};
  outputs[0].datatype = "FP32";  // whatever the signature says, that is what Predict gives
  return std::unique_ptr<Model>(
      new XgboostModel(std::move(forest), std::move(inputs), std::move(columns), std::move(outputs)));
}

}  // namespace forja::runtime
