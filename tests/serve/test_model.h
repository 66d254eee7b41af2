// A tiny model for the server's unit tests: y = x·w + b on FP32 [-1, 3] inputs,
// with knobs to make predict calls slow and to see the batches they got.
#pragma once

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "forja/runtime/model.h"

namespace forja::serve {

class LinearModel : public runtime::Model {
 public:
  explicit LinearModel(float bias = 0, int sleep_us = 0) : bias_(bias), sleep_us_(sleep_us) {}
  const std::vector<TensorSpec>& inputs() const override { return in_; }
  const std::vector<TensorSpec>& outputs() const override { return out_; }
  std::string Describe() const override { return "linear, bias " + std::to_string(bias_); }

  Status Predict(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) override {
    const Tensor& x = inputs.at(0);
    int64_t rows = x.shape.at(0);
    {
      std::lock_guard<std::mutex> lock(mu_);
      batches.push_back(rows);
    }
    if (sleep_us_) std::this_thread::sleep_for(std::chrono::microseconds(sleep_us_));
    std::vector<float> f(static_cast<size_t>(rows) * 3), y(static_cast<size_t>(rows));
    std::memcpy(f.data(), x.data.data(), f.size() * 4);
    for (int64_t r = 0; r < rows; r++) {
      if (f[r * 3] == -999) return Status::User("input 'features': -999 is refused by this model");
      y[r] = f[r * 3] * 1 + f[r * 3 + 1] * 2 + f[r * 3 + 2] * 3 + bias_;
    }
    outputs->assign(1, Tensor{"y", "FP32", {rows}, std::string(reinterpret_cast<char*>(y.data()), y.size() * 4)});
    return Status::Ok();
  }

  std::vector<int64_t> Batches() {
    std::lock_guard<std::mutex> lock(mu_);
    return batches;
  }

 private:
  std::vector<TensorSpec> in_{{"features", "FP32", {-1, 3}}};
  std::vector<TensorSpec> out_{{"y", "FP32", {-1}}};
  float bias_;
  int sleep_us_;
  std::mutex mu_;
  std::vector<int64_t> batches;
};

}  // namespace forja::serve
