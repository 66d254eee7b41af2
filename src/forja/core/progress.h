// A one-line progress meter on a terminal. Silent when stderr is not a terminal
// or with -q, so piped and scripted output stays clean.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace forja {

class Progress {
 public:
  // `total_items` / `total_bytes` of 0 mean unknown.
  Progress(std::string label, uint64_t total_items, uint64_t total_bytes = 0);
  ~Progress();  // erases the line
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Add(uint64_t items, uint64_t bytes = 0) {
    items_.fetch_add(items, std::memory_order_relaxed);
    bytes_.fetch_add(bytes, std::memory_order_relaxed);
  }
  void AddTotal(uint64_t items, uint64_t bytes = 0) {
    total_items_.fetch_add(items, std::memory_order_relaxed);
    total_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  }

  // Whether meters draw at all (stderr is a terminal and not -q; FORJA_PROGRESS=1 forces).
  static bool Enabled();

 private:
  void Draw(bool final);
  void Loop();

  std::string label_;
  std::atomic<uint64_t> total_items_, total_bytes_, items_{0}, bytes_{0};
  bool enabled_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
  int64_t start_ns_;
};

std::string HumanBytes(uint64_t n);

}  // namespace forja
