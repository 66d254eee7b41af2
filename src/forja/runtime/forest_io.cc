#include "forja/runtime/forest_io.h"

#include <cstring>
#include <type_traits>

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

}  // namespace

Result<ForestIo> ForestIo::Make(const ModelSpec& spec, const std::string& path, const char* flavor,
                                size_t num_feature, size_t k) {
  ForestIo io;
  io.num_feature_ = num_feature;
  io.k_ = k;
  const auto nf = static_cast<int64_t>(num_feature);
  io.inputs_ = spec.inputs;
  if (io.inputs_.empty()) io.inputs_.push_back({"input__0", "FP32", {-1, nf}});
  int64_t total = 0;
  for (const TensorSpec& in : io.inputs_) {
    int64_t cols = in.shape.size() == 2 ? in.shape[1] : 1;
    if (cols < 0) cols = io.inputs_.size() == 1 ? nf : 1;
    io.columns_.push_back(static_cast<size_t>(cols));
    total += cols;
  }
  if (total != nf)
    return Status::User(spec.dir + "/model.yaml: the inputs give " + std::to_string(total) + " columns, " + path +
                        " has " + std::to_string(nf) + " features");
  if (spec.outputs.size() > 1)
    return Status::User(spec.dir + "/model.yaml: " + flavor + " model has one output, the signature lists " +
                        std::to_string(spec.outputs.size()));
  io.outputs_ = spec.outputs;
  const auto kk = static_cast<int64_t>(k);
  if (io.outputs_.empty()) {
    io.outputs_.push_back({"output__0", "FP32", {-1}});
    if (kk > 1) io.outputs_[0].shape.push_back(kk);
  }
  if (kk > 1 && io.outputs_[0].shape.size() != 2) io.outputs_[0].shape = {-1, kk};
  io.outputs_[0].datatype = "FP32";  // whatever the signature says, that is what Predict gives
  return io;
}

Result<size_t> ForestIo::Rows(const std::vector<Tensor>& inputs, std::vector<float>* x) const {
  int64_t rows = -1;
  size_t at = 0;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const Tensor* t = Find(inputs, i);
    if (t == nullptr) return Status::User("missing input '" + inputs_[i].name + "'");
    ASSIGN_OR_RETURN(int64_t n, CheckShape(*t, i, rows));
    if (rows < 0) {
      rows = n;
      x->resize(static_cast<size_t>(rows) * num_feature_);
    }
    if (!Convert(t->datatype, t->data.data(), static_cast<size_t>(rows), columns_[i], x->data(), num_feature_, at))
      return Status::User("input '" + t->name + "': datatype " + t->datatype + " is not numeric");
    at += columns_[i];
  }
  return static_cast<size_t>(rows < 0 ? 0 : rows);
}

Tensor ForestIo::Output(size_t rows, const std::vector<float>& y) const {
  Tensor out;
  out.name = outputs_[0].name;
  out.datatype = "FP32";
  out.shape = {static_cast<int64_t>(rows)};
  if (outputs_[0].shape.size() == 2) out.shape.push_back(static_cast<int64_t>(k_));
  out.data.assign(reinterpret_cast<const char*>(y.data()), rows * k_ * sizeof(float));
  return out;
}

// The tensor for signature input i: by name, or the only one for a one-input signature.
const Tensor* ForestIo::Find(const std::vector<Tensor>& inputs, size_t i) const {
  for (const Tensor& t : inputs)
    if (t.name == inputs_[i].name) return &t;
  if (inputs_.size() == 1 && inputs.size() == 1) return &inputs[0];
  return nullptr;
}

// The rows of a tensor shaped [rows, columns] (or [rows] for one column), agreeing with
// `rows` when the earlier inputs set it.
Result<int64_t> ForestIo::CheckShape(const Tensor& t, size_t i, int64_t rows) const {
  size_t cols = columns_[i];
  bool ok = (t.shape.size() == 2 && t.shape[1] == static_cast<int64_t>(cols)) || (t.shape.size() == 1 && cols == 1);
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

}  // namespace forja::runtime
