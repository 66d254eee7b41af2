#include "forja/core/parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace forja {

int DefaultJobs() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

Status ParallelFor(size_t n, int jobs, const std::function<Status(size_t)>& fn) {
  if (n == 0) return Status::Ok();
  size_t workers = std::min<size_t>(n, static_cast<size_t>(std::max(1, jobs)));
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  Status first;
  auto work = [&] {
    while (!failed.load(std::memory_order_relaxed)) {
      size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= n) return;
      Status st;
      try {
        st = fn(i);
      } catch (const std::exception& e) {
        st = Status::Internal(e.what());
      }
      if (!st.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (!failed.exchange(true)) first = st;
        return;
      }
    }
  };
  if (workers == 1) {
    work();
    return first;
  }
  std::vector<std::thread> threads;
  for (size_t t = 1; t < workers; t++) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  return first;
}

}  // namespace forja
