// fuzz-libs: forja_runtime
// Fuzzes the LightGBM model reader (runtime/lightgbm_forest.cc), which reads model files
// that come with packages anyone can register: the text format and the JSON dump.
//
// Input: the bytes of a model file, parsed whole and with num_iteration=1.
//
// Invariants, beyond "no crash, no read out of bounds, no endless walk":
//  - a refusal is Status::User "<name>:<line>: <field>: <what>" (or "<name>: ..." when no
//    line applies);
//  - a loaded model has features and outputs, and predicts a row of zeros, a row of NaN
//    (every default branch) and a row made of the input's bytes; the same rows predicted
//    one by one and together give the same bits (blocks and lanes change nothing);
//  - num_iteration=1 keeps at most one round's trees.
//
// Seeds in corpus/lightgbm_model_fuzz/: small models saved by LightGBM 4.6.0 and 3.3.5
// (binary, multiclass, categorical, linear tree, random forest, zero as missing), a truncated
// one, and binary, categorical and linear-tree JSON dumps (tests/runtime/make_lightgbm_fixtures.py).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "forja/runtime/lightgbm_model.h"
#include "fuzz_check.h"

namespace {

using forja::runtime::LightgbmForest;

// Rows of this many features at most are predicted: a file may declare 2^24 features.
constexpr size_t kMaxPredictFeatures = 1 << 16;

void CheckModel(const LightgbmForest& f, std::string_view data) {
  size_t nf = f.num_feature();
  FUZZ_CHECK(nf > 0, f.Describe());
  FUZZ_CHECK(f.num_outputs() >= 1, f.Describe());
  if (nf > kMaxPredictFeatures || f.num_outputs() > 1024) return;
  std::vector<float> rows = forja::fuzz::ProbeRows(nf, data);
  size_t k = f.num_outputs();
  std::vector<double> all(3 * k), one(k);
  f.Predict(rows.data(), 3, nf, all.data());
  for (size_t r = 0; r < 3; ++r) {
    f.Predict(rows.data() + r * nf, 1, nf, one.data());
    FUZZ_CHECK(std::memcmp(one.data(), all.data() + r * k, k * sizeof(double)) == 0, f.Describe());
  }
  std::vector<float> out(3 * k);
  f.PredictRows(rows.data(), 3, nf, out.data());
  f.Predict(rows.data(), 3, nf, all.data(), true);
}

void Parse(std::string_view data, LightgbmForest::Options options) {
  auto f = LightgbmForest::Parse(data, "model", options);
  if (!f.ok()) {
    FUZZ_CHECK(f.status().code() == forja::Code::kUser, f.status().message());
    FUZZ_CHECK(forja::fuzz::StartsWith(f.status().message(), "model:"), forja::fuzz::Show(f.status().message()));
    return;
  }
  if (options.num_iteration == 1) FUZZ_CHECK((*f)->num_trees() <= (*f)->num_outputs(), (*f)->Describe());
  CheckModel(**f, data);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string_view data(reinterpret_cast<const char*>(bytes), size);
  Parse(data, {});
  Parse(data, {.num_iteration = 1});
  return 0;
}
