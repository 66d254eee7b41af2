#include "forja/serve/prediction_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

#include "forja/core/fs.h"
#include "forja/core/log.h"

namespace forja::serve {

std::string NowText() {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%06lld", static_cast<long long>(us / 1000000), static_cast<long long>(us % 1000000));
  return buf;
}

PredictionLog::~PredictionLog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  for (File* f : {&pred_, &feedback_})
    if (f->fd >= 0) ::close(f->fd);
}

Status PredictionLog::Start(const PredictionLogOptions& opts) {
  opts_ = opts;
  if (opts_.dir.empty()) return Status::Ok();
  RETURN_IF_ERROR(MakeDirs(opts_.dir));
  writer_ = std::thread([this] { Write(); });
  return Status::Ok();
}

bool PredictionLog::Draw(double p) const {
  if (p <= 0) return false;
  if (p >= 1) return true;
  thread_local std::minstd_rand rng(static_cast<unsigned>(std::random_device{}()));
  return static_cast<double>(rng() - rng.min()) / static_cast<double>(rng.max() - rng.min()) < p;
}

bool PredictionLog::Push(std::string line, bool feedback) {
  if (!enabled()) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Feedback is rare and is the user's data: it is never dropped for predictions' sake.
    if (!feedback && queue_.size() >= opts_.max_queue) {
      dropped_++;
      return false;
    }
    queue_.emplace_back(feedback, std::move(line));
  }
  cv_.notify_one();
  return true;
}

void PredictionLog::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [&] { return queue_.empty() && !busy_; });
}

void PredictionLog::WriteTo(File* f, const char* prefix, const std::string& text) {
  if (f->fd >= 0 && f->bytes >= opts_.rotate_bytes) {
    ::close(f->fd);
    f->fd = -1;
  }
  if (f->fd < 0) {
    // predictions-20261203T103000Z-<pid>-<n>.jsonl: sorted by name is sorted by time.
    std::time_t t = std::time(nullptr);
    struct tm tm;
    gmtime_r(&t, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    std::string path = opts_.dir + "/" + prefix + "-" + stamp + "-" + std::to_string(::getpid()) + "-" +
                       std::to_string(f->seq++) + ".jsonl";
    f->fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    f->bytes = 0;
    if (f->fd < 0) {
      LogWarn("prediction log: cannot open " + path + "; lines dropped");
      return;
    }
  }
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(f->fd, text.data() + off, text.size() - off);
    if (n <= 0) {
      LogWarn("prediction log: write failed; lines dropped");
      break;
    }
    off += static_cast<size_t>(n);
  }
  f->bytes += off;
}

void PredictionLog::Write() {
  std::deque<std::pair<bool, std::string>> batch;
  std::string pred, feedback;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty() && stop_) return;
    batch.swap(queue_);
    busy_ = true;
    lock.unlock();
    // One write per file per wakeup.
    uint64_t n = 0;
    for (auto& [is_feedback, line] : batch) {
      std::string& out = is_feedback ? feedback : pred;
      out += line;
      out += '\n';
      n++;
    }
    batch.clear();
    if (!pred.empty()) WriteTo(&pred_, "predictions", pred);
    if (!feedback.empty()) WriteTo(&feedback_, "feedback", feedback);
    pred.clear();
    feedback.clear();
    written_ += n;
    lock.lock();
    busy_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
}

}  // namespace forja::serve
