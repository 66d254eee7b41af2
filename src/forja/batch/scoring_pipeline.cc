#include "forja/batch/scoring_pipeline.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "forja/batch/lines.h"
#include "forja/core/progress.h"

namespace forja::batch {

namespace {

int64_t MonotonicMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The hand-off of chunks from the reader to the scorers and, in input order, to the writer.
class ChunkQueue {
 public:
  explicit ChunkQueue(size_t max_in_flight) : max_(max_in_flight) {}

  // Reader: blocks while too many chunks are in flight. False once stopped.
  bool Submit(std::unique_ptr<Chunk> c) {
    std::unique_lock<std::mutex> lock(mu_);
    space_.wait(lock, [&] { return in_flight_ < max_ || stopped_; });
    if (stopped_) return false;
    in_flight_++;
    todo_.push_back(std::move(c));
    work_.notify_one();
    return true;
  }
  void CloseInput() {
    std::lock_guard<std::mutex> lock(mu_);
    input_done_ = true;
    work_.notify_all();
    ready_.notify_all();  // the writer may be waiting past the last chunk
  }
  // Scorers: the next chunk to score, or null at the end.
  std::unique_ptr<Chunk> Take() {
    std::unique_lock<std::mutex> lock(mu_);
    work_.wait(lock, [&] { return !todo_.empty() || input_done_ || stopped_; });
    if (stopped_ || todo_.empty()) return nullptr;
    auto c = std::move(todo_.front());
    todo_.pop_front();
    return c;
  }
  void Done(std::unique_ptr<Chunk> c) {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t seq = c->seq;
    done_.emplace(seq, std::move(c));
    ready_.notify_all();
  }
  // Writer: chunk `seq`, or null when stopped or past the last one.
  std::unique_ptr<Chunk> Next(uint64_t seq) {
    std::unique_lock<std::mutex> lock(mu_);
    ready_.wait(lock, [&] { return done_.count(seq) || stopped_ || (input_done_ && in_flight_ == 0); });
    auto it = done_.find(seq);
    if (it == done_.end()) return nullptr;
    auto c = std::move(it->second);
    done_.erase(it);
    in_flight_--;
    space_.notify_one();
    ready_.notify_all();
    return c;
  }
  void Stop() {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    work_.notify_all();
    space_.notify_all();
    ready_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable space_, work_, ready_;
  std::deque<std::unique_ptr<Chunk>> todo_;
  std::map<uint64_t, std::unique_ptr<Chunk>> done_;
  size_t in_flight_ = 0, max_;
  bool input_done_ = false, stopped_ = false;
};

// The reader: chunks of whole lines from `at` (line `line`) to run.end, until the end or a stop.
Status ReadChunks(const ScoringRun& run, uint64_t at, uint64_t line, ChunkQueue* queue) {
  for (uint64_t seq = 0; at < run.end; seq++) {
    auto c = std::make_unique<Chunk>();
    c->seq = seq;
    c->offset = at;
    c->line = line;
    Status s = PreadAll(run.input_fd, at, std::min<uint64_t>(kChunkBytes, run.end - at), &c->text);
    if (s.ok() && c->text.empty()) s = Status::Io(run.opts.input + " shrank while being read");
    RETURN_IF_ERROR(s);
    if (at + c->text.size() < run.end) {  // end on a whole line
      size_t last = c->text.rfind('\n');
      if (last == std::string::npos) return Status::User(run.opts.input + ":" + std::to_string(line) + ": a line over 1 MiB");
      c->text.resize(last + 1);
    }
    at += c->text.size();
    c->end = at;
    line += static_cast<uint64_t>(std::count(c->text.begin(), c->text.end(), '\n'));
    c->end_line = line;
    if (!queue->Submit(std::move(c))) break;
  }
  return Status::Ok();
}

// The writer: the chunks in order into the partial output, and a checkpoint about once a second.
Status WriteChunks(const ScoringRun& run, ChunkQueue* queue, Checkpoint* cp, std::vector<std::string>* errors) {
  // How often the resume record is written (tests shorten it to catch a kill mid-run).
  const char* every_env = std::getenv("FORJA_PREDICT_CHECKPOINT_MS");
  const int64_t every_ms = every_env && *every_env ? std::atoll(every_env) : 1000;
  int64_t last_checkpoint = MonotonicMs();
  for (uint64_t seq = 0;; seq++) {
    auto c = queue->Next(seq);
    if (!c) return Status::Ok();
    RETURN_IF_ERROR(c->status);
    for (auto& e : c->errors)
      if (errors->size() < kMaxErrorsShown) errors->push_back(std::move(e));
    RETURN_IF_ERROR(WriteAll(run.output_fd, c->out));
    cp->offset = c->end;
    cp->output_bytes += c->out.size();
    cp->line = c->end_line;
    cp->rows += c->rows;
    cp->skipped += c->skipped;
    run.progress.Add(c->rows, c->end - c->offset);
    if (MonotonicMs() - last_checkpoint >= every_ms) {
      RETURN_IF_ERROR(SaveCheckpoint(run.output_fd, run.partial, run.record, *cp));
      last_checkpoint = MonotonicMs();
    }
  }
}

}  // namespace

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t w = ::write(fd, data.data(), data.size());
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("writing the output", errno);
    }
    data.remove_prefix(static_cast<size_t>(w));
  }
  return Status::Ok();
}

Status RunScoringPipeline(const ScoringRun& run, Checkpoint* cp, std::vector<std::string>* errors) {
  const int jobs = run.opts.jobs > 0 ? run.opts.jobs : std::max(1u, std::thread::hardware_concurrency());
  ChunkQueue queue(static_cast<size_t>(2 * jobs + 2));
  std::vector<std::thread> scorers;
  for (int w = 0; w < jobs; w++)
    scorers.emplace_back([&] {
      Scorer scorer(run.plan, run.opts, run.model, run.csv_in, run.csv_out);
      while (auto c = queue.Take()) {
        scorer.Score(c.get());
        queue.Done(std::move(c));
      }
    });
  Status read_status;
  std::thread reader([&, at = cp->offset, line = cp->line] {
    read_status = ReadChunks(run, at, line, &queue);
    if (!read_status.ok()) queue.Stop();
    queue.CloseInput();
  });
  Status status = WriteChunks(run, &queue, cp, errors);
  if (!status.ok()) queue.Stop();
  reader.join();
  for (auto& s : scorers) s.join();
  return status.ok() ? read_status : status;
}

}  // namespace forja::batch
