#include "forja/serve/batcher.h"

#include <cstring>

namespace forja::serve {

Batcher::Batcher(runtime::Model* model, BatchOptions opts) : model_(model), opts_(opts) {
  if (opts_.max_batch_size < 1) opts_.max_batch_size = 1;
  if (opts_.workers < 1) opts_.workers = 1;
  for (int i = 0; i < opts_.workers; i++) workers_.emplace_back([this] { Work(); });
}

Batcher::~Batcher() { Stop(); }

Batcher::Submitted Batcher::Submit(std::unique_ptr<Job>& job) {
  job->enqueued = std::chrono::steady_clock::now();
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Submitted::kStopped;
    // A request larger than the whole queue still gets in when the queue is empty.
    if (queued_rows_ > 0 && queued_rows_ + job->rows > opts_.max_queue) return Submitted::kFull;
    queued_rows_ += job->rows;
    queue_.push_back(std::move(job));
    wake = idle_ > 0 || (filling_ > 0 && queued_rows_ >= opts_.max_batch_size);
  }
  if (wake) cv_.notify_all();
  return Submitted::kOk;
}

void Batcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_)
    if (t.joinable()) t.join();
  workers_.clear();
}

int64_t Batcher::queued_rows() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queued_rows_;
}

void Batcher::Work() {
  std::vector<std::unique_ptr<Job>> batch;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    idle_++;
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    idle_--;
    if (queue_.empty()) return;  // stopping, and drained
    // Wait for company unless the batch is full already or we are draining.
    auto deadline = queue_.front()->enqueued + std::chrono::microseconds(opts_.max_queue_delay_us);
    filling_++;
    while (!stopping_ && queued_rows_ < opts_.max_batch_size && std::chrono::steady_clock::now() < deadline) {
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) break;
      if (queue_.empty()) break;  // another worker took them
    }
    filling_--;
    if (queue_.empty()) continue;
    int64_t rows = 0;
    while (!queue_.empty() && (batch.empty() || rows + queue_.front()->rows <= opts_.max_batch_size)) {
      rows += queue_.front()->rows;
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    queued_rows_ -= rows;
    bool more = !queue_.empty() && idle_ > 0;  // what this batch left is another worker's
    lock.unlock();
    if (more) cv_.notify_one();
    Run(batch);
    batch.clear();
    lock.lock();
  }
}

void MergeInputs(const std::vector<std::unique_ptr<Job>>& batch, std::vector<Tensor>* merged) {
  const std::vector<Tensor>& first = batch[0]->inputs;
  merged->resize(first.size());
  for (size_t i = 0; i < first.size(); i++) {
    Tensor& m = (*merged)[i];
    m.name = first[i].name;
    m.datatype = first[i].datatype;
    m.shape = first[i].shape;
    m.shape[0] = 0;
    size_t bytes = 0;
    for (const auto& j : batch) bytes += j->inputs[i].data.size();
    m.data.clear();
    m.data.reserve(bytes);
    for (const auto& j : batch) {
      m.shape[0] += j->inputs[i].shape[0];
      m.data.append(j->inputs[i].data);
    }
  }
}

Status SplitOutputs(std::vector<Tensor>& outputs, const std::vector<int64_t>& rows, std::vector<std::vector<Tensor>>* parts) {
  int64_t total = 0;
  for (int64_t r : rows) total += r;
  parts->assign(rows.size(), std::vector<Tensor>(outputs.size()));
  for (size_t o = 0; o < outputs.size(); o++) {
    Tensor& t = outputs[o];
    if (t.shape.empty() || t.shape[0] != total)
      return Status::Internal("output '" + t.name + "' has " + (t.shape.empty() ? std::string("no rows") : std::to_string(t.shape[0]) + " rows") +
                              " for a batch of " + std::to_string(total));
    int64_t per_row = 1;
    for (size_t k = 1; k < t.shape.size(); k++) per_row *= t.shape[k];
    size_t es = DatatypeSize(t.datatype);
    size_t pos = 0;
    for (size_t j = 0; j < rows.size(); j++) {
      Tensor& p = (*parts)[j][o];
      p.name = t.name;
      p.datatype = t.datatype;
      p.shape = t.shape;
      p.shape[0] = rows[j];
      size_t len = 0;
      if (es) {
        len = static_cast<size_t>(rows[j] * per_row) * es;
      } else {  // BYTES: walk the length-prefixed elements
        size_t q = pos;
        for (int64_t e = 0; e < rows[j] * per_row; e++) {
          uint32_t n = 0;
          if (q + 4 > t.data.size()) return Status::Internal("output '" + t.name + "' has malformed BYTES data");
          std::memcpy(&n, t.data.data() + q, 4);
          q += 4 + n;
        }
        len = q - pos;
      }
      if (pos + len > t.data.size()) return Status::Internal("output '" + t.name + "' has less data than its shape says");
      if (rows.size() == 1) p.data = std::move(t.data);
      else p.data.assign(t.data, pos, len);
      pos += len;
    }
  }
  return Status::Ok();
}

void Batcher::Run(std::vector<std::unique_ptr<Job>>& batch) {
  auto now = std::chrono::steady_clock::now();
  int64_t total = 0;
  for (auto& j : batch) {
    j->queue_seconds = std::chrono::duration<double>(now - j->enqueued).count();
    total += j->rows;
  }
  for (auto& j : batch) j->batch_rows = static_cast<int>(total);
  batch[0]->batch_leader = true;
  std::vector<Tensor> outputs;
  Status st;
  if (batch.size() == 1) {
    st = model_->Predict(batch[0]->inputs, &outputs);
  } else {
    std::vector<Tensor> merged;
    MergeInputs(batch, &merged);
    st = model_->Predict(merged, &outputs);
  }
  // One bad request must not fail its neighbours: a batch refused as bad input, or that
  // crashed its runtime (a python worker dying on one row), is retried request by request,
  // so only the culprit fails. Not a timeout: everyone would wait twice.
  if (!st.ok() && (st.code() == Code::kUser || st.code() == Code::kInternal) && batch.size() > 1) {
    for (auto& j : batch) {
      std::vector<Tensor> outs;
      Status s = model_->Predict(j->inputs, &outs);
      j->batch_rows = static_cast<int>(j->rows);
      j->batch_leader = true;
      j->Finish(s, &outs);
    }
    return;
  }
  if (!st.ok()) {
    for (auto& j : batch) j->Finish(st, nullptr);
    return;
  }
  std::vector<int64_t> rows;
  rows.reserve(batch.size());
  for (auto& j : batch) rows.push_back(j->rows);
  std::vector<std::vector<Tensor>> parts;
  st = SplitOutputs(outputs, rows, &parts);
  for (size_t i = 0; i < batch.size(); i++) batch[i]->Finish(st, st.ok() ? &parts[i] : nullptr);
}

}  // namespace forja::serve
