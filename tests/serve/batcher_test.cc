#include "forja/serve/batcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "forja/serve/prediction_log.h"
#include "test_model.h"

namespace forja::serve {
namespace {

struct Result1 {
  std::atomic<int> done{0};
  std::atomic<int> errors{0};
  std::vector<float> y;  // by job index
  std::mutex mu;
};

struct TestJob : Job {
  Result1* out;
  size_t index;
  void Finish(const Status& st, std::vector<Tensor>* outputs) override {
    if (!st.ok()) {
      out->errors++;
    } else {
      std::lock_guard<std::mutex> lock(out->mu);
      EXPECT_EQ(outputs->at(0).shape[0], rows);
      std::memcpy(&out->y[index], outputs->at(0).data.data(), 4);
    }
    out->done++;
  }
};

std::unique_ptr<Job> MakeJob(Result1* out, size_t index, float a) {
  auto j = std::make_unique<TestJob>();
  j->out = out;
  j->index = index;
  float x[3] = {a, 0, 0};
  j->inputs.push_back({"features", "FP32", {1, 3}, std::string(reinterpret_cast<char*>(x), 12)});
  j->rows = 1;
  return j;
}

TEST(BatcherTest, ConcurrentRequestsShareBatchesAndGetTheirOwnRows) {
  LinearModel m(0, 2000);  // slow predict calls: requests pile up behind them
  BatchOptions o;
  o.max_batch_size = 16;
  o.max_queue_delay_us = 1000;
  o.max_queue = 100000;
  Batcher b(&m, o);
  Result1 r;
  const int n = 400;
  r.y.resize(n);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; t++)
    ts.emplace_back([&, t] {
      for (int i = t; i < n; i += 4) {
        auto j = MakeJob(&r, static_cast<size_t>(i), static_cast<float>(i));
        ASSERT_EQ(b.Submit(j), Batcher::Submitted::kOk);
      }
    });
  for (auto& t : ts) t.join();
  b.Stop();
  EXPECT_EQ(r.done.load(), n);
  EXPECT_EQ(r.errors.load(), 0);
  for (int i = 0; i < n; i++) EXPECT_EQ(r.y[i], static_cast<float>(i)) << i;
  auto batches = m.Batches();
  int64_t total = 0, biggest = 0;
  for (int64_t x : batches) total += x, biggest = std::max(biggest, x);
  EXPECT_EQ(total, n);
  EXPECT_EQ(biggest, 16);
  EXPECT_LT(batches.size(), 100u);
}

TEST(BatcherTest, FullQueueRefusesAndStopDrains) {
  LinearModel m(0, 20000);
  BatchOptions o;
  o.max_batch_size = 1;
  o.max_queue_delay_us = 0;
  o.max_queue = 3;
  Batcher b(&m, o);
  Result1 r;
  r.y.resize(100);
  int ok = 0, full = 0;
  for (size_t i = 0; i < 10; i++) {
    auto j = MakeJob(&r, i, 1);
    auto s = b.Submit(j);
    if (s == Batcher::Submitted::kOk) ok++;
    if (s == Batcher::Submitted::kFull) {
      full++;
      EXPECT_NE(j, nullptr);  // given back
    }
  }
  EXPECT_GE(full, 5);
  b.Stop();
  EXPECT_EQ(r.done.load(), ok);  // every queued job was answered
  auto j = MakeJob(&r, 0, 1);
  EXPECT_EQ(b.Submit(j), Batcher::Submitted::kStopped);
}

TEST(BatcherTest, ABadRequestFailsAloneNotItsBatch) {
  LinearModel m(0, 3000);
  BatchOptions o;
  o.max_batch_size = 64;
  o.max_queue_delay_us = 20000;
  Batcher b(&m, o);
  Result1 r;
  r.y.resize(10);
  for (size_t i = 0; i < 10; i++) {
    auto j = MakeJob(&r, i, i == 5 ? -999 : 1);
    ASSERT_EQ(b.Submit(j), Batcher::Submitted::kOk);
  }
  b.Stop();
  EXPECT_EQ(r.done.load(), 10);
  EXPECT_EQ(r.errors.load(), 1);
  EXPECT_EQ(r.y[4], 1.0f);
}

TEST(BatcherTest, SplitOutputsOfBytes) {
  std::string data;
  for (std::string s : {"a", "bc", "", "def"}) {
    uint32_t n = static_cast<uint32_t>(s.size());
    data.append(reinterpret_cast<char*>(&n), 4);
    data += s;
  }
  std::vector<Tensor> outs = {{"s", "BYTES", {4}, data}};
  std::vector<std::vector<Tensor>> parts;
  ASSERT_TRUE(SplitOutputs(outs, {1, 3}, &parts).ok());
  EXPECT_EQ(parts[0][0].data.size(), 5u);
  EXPECT_EQ(parts[1][0].data.size(), 17u);
  EXPECT_EQ(parts[1][0].shape[0], 3);
  std::vector<Tensor> bad = {{"s", "FP32", {3}, std::string(12, '\0')}};
  EXPECT_FALSE(SplitOutputs(bad, {1, 3}, &parts).ok());
}

}  // namespace
}  // namespace forja::serve

namespace forja::serve {
namespace {

TEST(PredictionLogTest, RotatesBySizeAndKeepsEveryLine) {
  std::string dir = ::testing::TempDir() + "forja-predlog-" + std::to_string(::getpid());
  {
    PredictionLog log;
    PredictionLogOptions o;
    o.dir = dir;
    o.sample = 1;
    o.rotate_bytes = 200;
    ASSERT_TRUE(log.Start(o).ok());
    EXPECT_TRUE(log.Sample());
    for (int i = 0; i < 50; i++) {
      ASSERT_TRUE(log.Add("{\"n\":" + std::to_string(i) + ",\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}"));
      if (i % 10 == 9) log.Flush();  // each flush is a write; files rotate between writes
    }
    ASSERT_TRUE(log.AddFeedback("{\"request_id\":\"a\",\"label\":1}"));
    log.Flush();
    EXPECT_EQ(log.written(), 51u);
    EXPECT_EQ(log.dropped(), 0u);
  }
  int pred_files = 0, lines = 0, feedback = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(e.path());
    std::string line;
    bool is_feedback = e.path().filename().string().rfind("feedback-", 0) == 0;
    pred_files += !is_feedback;
    while (std::getline(in, line)) (is_feedback ? feedback : lines)++;
  }
  EXPECT_GE(pred_files, 2);
  EXPECT_EQ(lines, 50);
  EXPECT_EQ(feedback, 1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace forja::serve
