// The run cache (.forja/cache/runs.db) opened by several forja runs at once: a sweep's
// experiments share one cache, and the first opens of a new database race to switch it to
// WAL, which SQLite does not wait for on its own.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "forja/pipeline/run_cache.h"

namespace forja::pipeline {
namespace {

TEST(RunCacheTest, ManyRunsOpeningANewCacheAtOnceAllSucceed) {
  char dir[] = "/tmp/forja-runcache-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  for (int round = 0; round < 20; round++) {
    std::string path = std::string(dir) + "/runs" + std::to_string(round) + ".db";
    std::atomic<bool> go{false};
    std::vector<std::string> errors(8);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < errors.size(); i++)
      threads.emplace_back([&, i] {
        while (!go) std::this_thread::yield();
        auto rc = RunCache::Open(path);
        if (!rc.ok()) errors[i] = rc.status().message();
      });
    go = true;
    for (auto& t : threads) t.join();
    for (const std::string& e : errors) EXPECT_EQ(e, "") << "round " << round;
  }
  std::system(("rm -rf " + std::string(dir)).c_str());
}

}  // namespace
}  // namespace forja::pipeline
