// The model server's own request counts and histograms (per version, and for
// requests that reached no model): relaxed atomics, so the request path takes no
// lock for them. metrics.cc renders them as Prometheus text for GET /metrics.
// core/prometheus.h's PromRegistry is not used here: its updates take a mutex.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace forja::serve {

constexpr double kSecondsBounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                     0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
constexpr double kRowsBounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

// A Prometheus histogram over fixed bounds (at most 15).
struct Hist {
  const double* bounds;
  size_t n;
  std::atomic<uint64_t> counts[16] = {};
  std::atomic<uint64_t> count{0};
  std::atomic<uint64_t> sum_micro{0};  // the sum in millionths

  template <size_t N>
  explicit Hist(const double (&b)[N]) : bounds(b), n(N) {
    static_assert(N < 16, "one count per bound and one for +Inf");
  }
  void Observe(double v) {
    size_t i = 0;
    while (i < n && v > bounds[i]) i++;
    counts[i].fetch_add(1, std::memory_order_relaxed);
    count.fetch_add(1, std::memory_order_relaxed);
    sum_micro.fetch_add(static_cast<uint64_t>(v * 1e6), std::memory_order_relaxed);
  }
  // Appends NAME_bucket{LABELS,le=...}, NAME_sum and NAME_count lines.
  void Render(std::string* out, const std::string& name, const std::string& labels) const;
};

// The status codes counted one by one; others count as 400 or 500.
constexpr int kCodes[] = {200, 400, 404, 405, 408, 413, 429, 500, 503, 504};
constexpr size_t kNumCodes = sizeof(kCodes) / sizeof(kCodes[0]);

inline size_t CodeIndex(int code) {
  for (size_t i = 0; i < kNumCodes; i++)
    if (kCodes[i] == code) return i;
  return code < 500 ? 1 : 7;  // other 4xx as 400, other 5xx as 500
}

// One version's requests (or the unrouted ones): answers by code, time to answer,
// time queued, rows per batch.
struct Stats {
  std::atomic<uint64_t> codes[kNumCodes] = {};
  Hist latency{kSecondsBounds}, queue{kSecondsBounds}, batch{kRowsBounds};
  void Count(int code) { codes[CodeIndex(code)].fetch_add(1, std::memory_order_relaxed); }
};

}  // namespace forja::serve
