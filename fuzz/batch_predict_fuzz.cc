// fuzz-libs: forja_batch
// Fuzzes forja predict's readers (batch/csv.cc, jsonl.cc, lines.cc, checkpoint.cc): the CSV (header, quoting, numbers,
// field counts) and JSONL rows of any file a user scores, end to end through RunPredict
// with a small model (y = a + 2b + 3c on FP32 [-1, 3]).
//
// Input: the first byte picks CSV or JSONL input and --on-error skip or fail; the rest is
// the file.
//
// Invariants, beyond "no crash":
//  - a failure is a user error, and leaves neither OUTPUT nor OUTPUT.partial behind;
//  - a success writes OUTPUT (and no resume record), with one line per scored row
//    (plus the header for CSV output), and reports no more skipped rows than lines.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "forja/batch/predict.h"
#include "forja/runtime/model.h"
#include "fuzz_check.h"

namespace {

class Sum3 : public forja::runtime::Model {
 public:
  const std::vector<forja::TensorSpec>& inputs() const override { return in_; }
  const std::vector<forja::TensorSpec>& outputs() const override { return out_; }
  std::string Describe() const override { return "sum3"; }
  forja::Status Predict(const std::vector<forja::Tensor>& inputs, std::vector<forja::Tensor>* outputs) override {
    const forja::Tensor& x = inputs.at(0);
    int64_t rows = x.shape.at(0);
    FUZZ_CHECK(x.shape.size() == 2 && x.shape[1] == 3 && x.data.size() == static_cast<size_t>(rows) * 12, x.name);
    std::vector<float> f(static_cast<size_t>(rows) * 3), y(static_cast<size_t>(rows));
    std::memcpy(f.data(), x.data.data(), x.data.size());
    for (int64_t r = 0; r < rows; r++) y[r] = f[r * 3] + 2 * f[r * 3 + 1] + 3 * f[r * 3 + 2];
    outputs->assign(1, forja::Tensor{"y", "FP32", {rows}, std::string(reinterpret_cast<char*>(y.data()), y.size() * 4)});
    return forja::Status::Ok();
  }

 private:
  std::vector<forja::TensorSpec> in_{{"features", "FP32", {-1, 3}}};
  std::vector<forja::TensorSpec> out_{{"y", "FP32", {-1}}};
};

std::string Dir() {
  static std::string dir = [] {
    char tmpl[] = "/tmp/forja-batch-fuzz-XXXXXX";
    const char* d = mkdtemp(tmpl);
    FUZZ_CHECK(d != nullptr, "mkdtemp");
    return std::string(d);
  }();
  return dir;
}

bool Exists(const std::string& p) { return access(p.c_str(), F_OK) == 0; }

size_t Lines(const std::string& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool jsonl = data[0] & 1, skip = data[0] & 2;
  const std::string dir = Dir();
  forja::batch::PredictOptions o;
  o.input = dir + (jsonl ? "/in.jsonl" : "/in.csv");
  o.output = dir + "/out.csv";
  o.jobs = 1 + (data[0] >> 2 & 1);
  o.batch_size = 1 + (data[0] >> 3 & 7);
  o.skip_errors = skip;
  o.progress = false;
  {
    std::ofstream f(o.input, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data) + 1, static_cast<std::streamsize>(size - 1));
  }
  for (const char* suffix : {"", ".partial", ".progress"}) unlink((o.output + suffix).c_str());
  Sum3 model;
  auto r = forja::batch::RunPredict(o, model);
  if (!r.ok()) {
    FUZZ_CHECK(r.status().code() == forja::Code::kUser, r.status().message());
    FUZZ_CHECK(!Exists(o.output) && !Exists(o.output + ".partial"), r.status().message());
    return 0;
  }
  FUZZ_CHECK(Exists(o.output) && !Exists(o.output + ".progress"), o.output);
  FUZZ_CHECK(Lines(o.output) == r->rows + 1, std::to_string(Lines(o.output)) + " lines for " + std::to_string(r->rows));
  FUZZ_CHECK(r->rows + r->skipped <= Lines(o.input) + 1, std::to_string(r->rows + r->skipped));
  return 0;
}
