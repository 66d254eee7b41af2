// What the batch tests share: a scratch folder, a small model, and forja predict run on a text.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <string>
#include <vector>

#include "forja/batch/predict.h"
#include "forja/core/fs.h"
#include "forja/runtime/model.h"

namespace forja::batch {

class Scratch {
 public:
  Scratch() {
    char tmpl[] = "/tmp/forja-batch-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~Scratch() { (void)RemoveTree(path_); }
  std::string Path(const std::string& name) const { return path_ + "/" + name; }
  std::string Write(const std::string& name, const std::string& text) const {
    EXPECT_TRUE(WriteFileAtomic(Path(name), text).ok());
    return Path(name);
  }
  std::string Read(const std::string& name) const {
    auto text = ReadFile(Path(name));
    return text.ok() ? *text : "(missing)";
  }
  bool Has(const std::string& name) const { return Exists(Path(name)); }

 private:
  std::string path_;
};

// y = the row's values weighted 1, 2, 3, ... across its inputs in order (y = a + 2b + 3c for
// one [-1, 3] input), FP32 [-1]; NaN stays NaN. A row holding -999 is refused, as a model
// refuses a bad input. With `pair`, a second output "pair", INT64 [-1, 2]: the row's index in
// the batch and its first value.
class SumModel : public runtime::Model {
 public:
  explicit SumModel(std::vector<TensorSpec> inputs, bool pair = false) : in_(std::move(inputs)) {
    if (pair) out_.push_back({"pair", "INT64", {-1, 2}});
  }
  const std::vector<TensorSpec>& inputs() const override { return in_; }
  const std::vector<TensorSpec>& outputs() const override { return out_; }
  std::string Describe() const override { return "sum"; }

  Status Predict(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) override {
    const int64_t rows = inputs.at(0).shape.at(0);
    std::vector<float> y(static_cast<size_t>(rows), 0);
    std::vector<int64_t> pair(static_cast<size_t>(rows) * 2);
    for (int64_t r = 0; r < rows; r++) {
      int weight = 1;
      for (const Tensor& t : inputs) {
        int64_t width = t.shape.size() == 2 ? t.shape[1] : 1;
        for (int64_t c = 0; c < width; c++) {
          double v = Value(t, r * width + c);
          if (v == -999) return Status::User("input '" + t.name + "': -999 is refused by this model");
          if (weight == 1) pair[r * 2 + 1] = static_cast<int64_t>(v);
          y[r] += static_cast<float>(weight++ * v);
        }
      }
      pair[r * 2] = r;
    }
    outputs->clear();
    outputs->push_back({"y", "FP32", {rows}, std::string(reinterpret_cast<char*>(y.data()), y.size() * 4)});
    if (out_.size() > 1)
      outputs->push_back({"pair", "INT64", {rows, 2}, std::string(reinterpret_cast<char*>(pair.data()), pair.size() * 8)});
    return Status::Ok();
  }

 private:
  static double Value(const Tensor& t, int64_t i) {
    if (t.datatype == "FP64") {
      double v;
      std::memcpy(&v, t.data.data() + i * 8, 8);
      return v;
    }
    if (t.datatype == "INT64") {
      int64_t v;
      std::memcpy(&v, t.data.data() + i * 8, 8);
      return static_cast<double>(v);
    }
    float v;  // FP32
    std::memcpy(&v, t.data.data() + i * 4, 4);
    return v;
  }

  std::vector<TensorSpec> in_;
  std::vector<TensorSpec> out_{{"y", "FP32", {-1}}};
};

// The model most tests score with: one input "features", FP32 [-1, 3].
inline SumModel Features3() { return SumModel({{"features", "FP32", {-1, 3}}}); }

// forja predict on `text`, written to `input` in `dir` (its extension picks the format);
// the output goes to `output` (likewise).
struct Scored {
  Status status;
  PredictReport report;
  std::string output;  // the file's bytes, or "(missing)"
};

inline Scored Predict(const Scratch& dir, const std::string& input, const std::string& text, const std::string& output,
                      runtime::Model& model, PredictOptions o = {}) {
  o.input = dir.Write(input, text);
  o.output = dir.Path(output);
  o.progress = false;
  if (o.jobs == 0) o.jobs = 2;
  Scored s;
  auto r = RunPredict(o, model);
  if (r.ok())
    s.report = *r;
  else
    s.status = r.status();
  s.output = dir.Read(output);
  return s;
}

}  // namespace forja::batch
