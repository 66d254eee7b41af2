// What the tree-model runtime tests share: tensors made from vectors and read back, and the
// name of a test instantiated per library version ("4.6.0" -> "v4_6_0").
#pragma once

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "forja/runtime/model.h"

namespace forja::runtime {

inline Tensor Fp64(const std::string& name, std::vector<int64_t> shape, const std::vector<double>& v) {
  Tensor t{name, "FP64", std::move(shape), {}};
  t.data.assign(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double));
  return t;
}

inline std::vector<float> Floats(const Tensor& t) {
  std::vector<float> v(t.data.size() / sizeof(float));
  std::memcpy(v.data(), t.data.data(), t.data.size());
  return v;
}

inline std::string VersionTestName(std::string version) {
  std::replace(version.begin(), version.end(), '.', '_');
  return "v" + version;
}

}  // namespace forja::runtime
