// forja_xgb_bench MODEL ROWS.f32 NUM_FEATURE [PRED_OUT.f32]
//
// Times XgboostForest::PredictRows on rows read from a raw float32 file: one row a call,
// 64 rows a call, and all rows at once (one thread, and split over every core). Prints
// one line of JSON; bench/xgboost drives it. With PRED_OUT it also writes the
// predictions of all rows, for the caller to compare with xgboost's.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "forja/core/fs.h"
#include "forja/runtime/xgboost_model.h"

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Seconds per row of calls of `batch` rows, repeated over the rows for about `budget` s; the
// best of ten rounds (the machine is shared: the best round is the least disturbed).
double PerRow(const forja::runtime::XgboostForest& f, const std::vector<float>& x, size_t rows, size_t nf,
              size_t batch, double budget) {
  std::vector<float> out(batch * f.num_outputs());
  double best = 1e9;
  for (int round = 0; round < 10; ++round) {
    size_t done = 0;
    double start = Now(), elapsed = 0;
    while (elapsed < budget) {
      for (int k = 0; k < 64; ++k) {
        size_t r = (done % (rows / batch)) * batch;
        f.PredictRows(x.data() + r * nf, batch, nf, out.data());
        done += batch;
      }
      elapsed = Now() - start;
    }
    best = std::min(best, elapsed / static_cast<double>(done));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: forja_xgb_bench MODEL ROWS.f32 NUM_FEATURE [PRED_OUT.f32]\n");
    return 2;
  }
  auto forest = forja::runtime::XgboostForest::Load(argv[1]);
  if (!forest.ok()) {
    std::fprintf(stderr, "%s\n", forest.status().message().c_str());
    return 1;
  }
  auto bytes = forja::ReadFile(argv[2]);
  if (!bytes.ok()) {
    std::fprintf(stderr, "%s\n", bytes.status().message().c_str());
    return 1;
  }
  const auto& f = **forest;
  size_t nf = std::stoul(argv[3]);
  size_t rows = bytes->size() / sizeof(float) / nf;
  std::vector<float> x(rows * nf);
  std::copy_n(reinterpret_cast<const char*>(bytes->data()), x.size() * sizeof(float),
              reinterpret_cast<char*>(x.data()));

  double load_s = 1e9;
  bool loaded = true;
  for (int round = 0; round < 5; ++round) {
    double start = Now();
    loaded = loaded && forja::runtime::XgboostForest::Load(argv[1]).ok();
    load_s = std::min(load_s, Now() - start);
  }

  double one = PerRow(f, x, std::min<size_t>(rows, 4096), nf, 1, 0.05);
  double batch64 = PerRow(f, x, std::min<size_t>(rows, 4096), nf, 64, 0.05);

  std::vector<float> out(rows * f.num_outputs());
  double best1 = 1e9, bestn = 1e9;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  for (int round = 0; round < 3; ++round) {
    double start = Now();
    f.PredictRows(x.data(), rows, nf, out.data());
    best1 = std::min(best1, Now() - start);
    start = Now();
    std::vector<std::thread> pool;
    size_t per = (rows + threads - 1) / threads;
    for (unsigned t = 0; t < threads; ++t) {
      size_t b = t * per, e = std::min(rows, b + per);
      if (b < e)
        pool.emplace_back([&, b, e] { f.PredictRows(x.data() + b * nf, e - b, nf, out.data() + b * f.num_outputs()); });
    }
    for (auto& th : pool) th.join();
    bestn = std::min(bestn, Now() - start);
  }
  if (argc > 4) {
    std::string data(reinterpret_cast<const char*>(out.data()), out.size() * sizeof(float));
    if (!forja::WriteFileAtomic(argv[4], data).ok()) return 1;
  }
  std::printf(
      "{\"describe\": \"%s\", \"load_s\": %.6f, \"one_row_s\": %.9g, \"batch64_row_s\": %.9g, "
      "\"rows\": %zu, \"all_1thread_s\": %.6f, \"all_threads_s\": %.6f, \"threads\": %u}\n",
      f.Describe().c_str(), load_s, one, batch64, rows, best1, bestn, threads);
  return loaded ? 0 : 1;
}
