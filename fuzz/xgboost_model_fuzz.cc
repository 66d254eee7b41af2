// fuzz-libs: forja_runtime
// Fuzzes the xgboost model loader (runtime/xgb_doc.cc, runtime/xgboost_forest.cc), which reads
// model files that come with packages anyone can register.
//
// Input: the bytes of a model file. They are parsed three times: as JSON, as UBJ, and with
// the format told by the first bytes (as LoadModel does).
//
// Invariants, beyond "no crash, no read out of bounds, no endless walk":
//  - a refusal is Status::User "<name>: <what>";
//  - the automatic format gives the same outcome as the format it picked;
//  - a loaded model has features and outputs, and predicts a row of zeros, a row of NaN
//    (every default branch) and a row made of the input's bytes; the same rows predicted
//    one by one and together give the same bits (blocks and lanes change nothing).
//
// Seeds in corpus/xgboost_model_fuzz/: models of 2 trees of depth 2 saved by xgboost 3.2.0
// (binary, multi, dart, gblinear, categorical) as JSON and UBJ, halves of some, and one
// xgboost 1.7.6 model.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "forja/runtime/xgboost_model.h"
#include "fuzz_check.h"

namespace {

using forja::runtime::XgboostForest;

// Rows of this many features at most are predicted: a file may declare 2^28 features.
constexpr size_t kMaxPredictFeatures = 1 << 16;

void CheckModel(const XgboostForest& f, std::string_view data) {
  size_t nf = f.num_feature();
  FUZZ_CHECK(nf > 0, f.Describe());
  FUZZ_CHECK(f.num_outputs() >= 1 && f.num_outputs() <= f.num_groups(), f.Describe());
  if (nf > kMaxPredictFeatures || f.num_groups() > 1024) return;
  std::vector<float> rows = forja::fuzz::ProbeRows(nf, data);
  size_t k = f.num_outputs();
  std::vector<float> all(3 * k), one(k);
  f.PredictRows(rows.data(), 3, nf, all.data());
  for (size_t r = 0; r < 3; ++r) {
    f.PredictRows(rows.data() + r * nf, 1, nf, one.data());
    FUZZ_CHECK(std::memcmp(one.data(), all.data() + r * k, k * sizeof(float)) == 0, f.Describe());
  }
  std::vector<float> margins(3 * f.num_groups());
  f.PredictMargins(rows.data(), 3, nf, margins.data());
}

// The outcome as text, to compare the automatic format with the explicit one.
std::string Parse(std::string_view data, XgboostForest::Format format) {
  auto f = XgboostForest::Parse(data, "model", format);
  if (!f.ok()) {
    FUZZ_CHECK(f.status().code() == forja::Code::kUser, f.status().message());
    FUZZ_CHECK(forja::fuzz::StartsWith(f.status().message(), "model: "), forja::fuzz::Show(f.status().message()));
    return f.status().message();
  }
  CheckModel(**f, data);
  return "loaded: " + (*f)->Describe();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string_view data(reinterpret_cast<const char*>(bytes), size);
  std::string json = Parse(data, XgboostForest::Format::kJson);
  std::string ubj = Parse(data, XgboostForest::Format::kUbj);
  std::string any = Parse(data, XgboostForest::Format::kAuto);
  FUZZ_CHECK(any == json || any == ubj, forja::fuzz::Show(any));
  return 0;
}
