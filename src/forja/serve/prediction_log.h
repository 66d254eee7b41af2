// The prediction log: a sample of what the server answered (inputs, outputs,
// model version, latency, request id) as JSON lines, for monitoring and for
// joining with ground truth later; and that ground truth (feedback), by request id.
// Lines are handed to a background thread through a bounded queue: the request
// path never waits on a disk, and when the disk cannot keep up lines are dropped
// and counted (forja_serve_prediction_log_dropped_total) rather than queued without end.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "forja/core/status.h"

namespace forja::serve {

struct PredictionLogOptions {
  std::string dir;             // e.g. <workspace>/.forja/predictions; empty: no log
  double sample = 0;           // share of requests logged, 0..1
  double shadow_sample = 1;    // share of requests copied to a shadow model (whose answers are logged)
  size_t rotate_bytes = 64u << 20;
  size_t max_queue = 65536;    // lines waiting for the writer
};

class PredictionLog {
 public:
  PredictionLog() = default;
  ~PredictionLog();  // writes what is queued, then closes
  Status Start(const PredictionLogOptions& opts);

  bool enabled() const { return !opts_.dir.empty(); }
  // Draws the sampling decision for one request (a cheap per-thread generator).
  bool Sample() const { return Draw(opts_.sample); }
  bool SampleShadow() const { return Draw(opts_.shadow_sample); }
  // Queues one line (without its newline); false when it was dropped.
  bool Add(std::string line) { return Push(std::move(line), false); }
  bool AddFeedback(std::string line) { return Push(std::move(line), true); }

  uint64_t written() const { return written_.load(); }
  uint64_t dropped() const { return dropped_.load(); }
  void Flush();  // waits until every queued line is written (tests)

 private:
  struct File {
    int fd = -1;
    size_t bytes = 0;
    int seq = 0;
  };
  bool Draw(double p) const;
  bool Push(std::string line, bool feedback);
  void Write();
  void WriteTo(File* f, const char* prefix, const std::string& text);

  PredictionLogOptions opts_;
  std::mutex mu_;
  std::condition_variable cv_, idle_;
  std::deque<std::pair<bool, std::string>> queue_;
  bool stop_ = false, busy_ = false;
  std::thread writer_;
  std::atomic<uint64_t> written_{0}, dropped_{0};
  File pred_, feedback_;
};

// Seconds since the epoch with microseconds, as a JSON number's text.
std::string NowText();

}  // namespace forja::serve
