#include "forja/core/progress.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "forja/core/log.h"

namespace forja {

namespace {
int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

std::string HumanBytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

bool Progress::Enabled() {
  const char* force = std::getenv("FORJA_PROGRESS");
  if (force && force[0] == '1') return true;
  if (force && force[0] == '0') return false;
  return GetVerbosity() != Verbosity::kQuiet && ::isatty(2);
}

Progress::Progress(std::string label, uint64_t total_items, uint64_t total_bytes)
    : label_(std::move(label)),
      total_items_(total_items),
      total_bytes_(total_bytes),
      enabled_(Enabled()),
      start_ns_(NowNs()) {
  if (enabled_) thread_ = std::thread([this] { Loop(); });
}

Progress::~Progress() {
  if (!enabled_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  Draw(true);
}

void Progress::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, std::chrono::milliseconds(150), [this] { return stop_; })) Draw(false);
}

void Progress::Draw(bool final) {
  uint64_t items = items_.load(), total = total_items_.load(), bytes = bytes_.load();
  double secs = static_cast<double>(NowNs() - start_ns_) / 1e9;
  std::string line = label_ + ": " + std::to_string(items);
  if (total) line += "/" + std::to_string(total);
  if (total && items <= total) line += " (" + std::to_string(items * 100 / total) + "%)";
  if (bytes) {
    line += ", " + HumanBytes(bytes);
    if (uint64_t total_bytes = total_bytes_.load(); total_bytes) {
      line += " of " + HumanBytes(total_bytes);
      // Only bytes are known ahead (a file being streamed): the share comes from them.
      if (!total && bytes <= total_bytes) line += " (" + std::to_string(bytes * 100 / total_bytes) + "%)";
    }
    if (secs > 0.2) line += " at " + HumanBytes(static_cast<uint64_t>(bytes / secs)) + "/s";
  }
  // \r + erase-line; the final draw leaves the finished line in place.
  std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), final ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace forja
