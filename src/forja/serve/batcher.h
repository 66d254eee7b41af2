// Dynamic batching for one loaded model version: requests queue up, a worker
// thread takes as many as fit in max_batch_size rows (waiting at most
// max_queue_delay_us after the oldest arrived for more to come), makes one
// Predict call on the merged inputs, and hands each request its slice of the
// outputs. The queue is bounded in rows: a request that does not fit is refused
// at once (the server answers 503) instead of waiting behind an ever longer line.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "forja/core/status.h"
#include "forja/core/tensor.h"
#include "forja/runtime/model.h"

namespace forja::serve {

struct BatchOptions {
  int max_batch_size = 64;       // rows per Predict call
  // How long the oldest request may wait for company. 0 (as Triton): a batch is whatever
  // queued while the previous predict ran, so one client pays no wait and many still batch.
  int max_queue_delay_us = 0;
  int max_queue = 8192;          // rows waiting (64 clients x 64 rows fit twice); beyond, Submit refuses
  int workers = 1;               // threads calling Predict (each makes its own batches)
};

// One request in the queue. Finish is called once, on a worker thread, with this
// request's outputs (or the failure); it must not block.
struct Job {
  virtual ~Job() = default;
  virtual void Finish(const Status& st, std::vector<Tensor>* outputs) = 0;

  std::vector<Tensor> inputs;  // checked against the signature, in its order
  int64_t rows = 0;
  std::chrono::steady_clock::time_point enqueued;
  double queue_seconds = 0;  // set before Finish
  int batch_rows = 0;        // the size of the batch it went in
  bool batch_leader = false; // the first job of its batch (to count batches once)
};

class Batcher {
 public:
  enum class Submitted { kOk, kFull, kStopped };

  Batcher(runtime::Model* model, BatchOptions opts);
  ~Batcher();  // Stop()
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues the job, or gives it back (kFull: the queue has no room; kStopped: the
  // batcher is draining, the caller should use the version that replaced it).
  Submitted Submit(std::unique_ptr<Job>& job);
  // Finishes every queued job, then joins the workers. Idempotent.
  void Stop();

  int64_t queued_rows() const;
  const BatchOptions& options() const { return opts_; }

 private:
  void Work();
  void Run(std::vector<std::unique_ptr<Job>>& batch);

  runtime::Model* model_;
  BatchOptions opts_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Job>> queue_;
  int64_t queued_rows_ = 0;
  bool stopping_ = false;
  // Workers asleep for want of any job, and those waiting for a batch to fill: a Submit
  // wakes a worker only when one of them has a reason to get up (a wakeup per request
  // costs a futex call and a context switch, which at 100k requests/s is most of a core).
  int idle_ = 0, filling_ = 0;
  std::vector<std::thread> workers_;
};

// Splits each output of a batch into the jobs' slices along the first dimension.
Status SplitOutputs(std::vector<Tensor>& outputs, const std::vector<int64_t>& rows, std::vector<std::vector<Tensor>>* parts);
// Concatenates the jobs' inputs along the first dimension.
void MergeInputs(const std::vector<std::unique_ptr<Job>>& batch, std::vector<Tensor>* merged);

}  // namespace forja::serve
