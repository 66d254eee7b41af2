// The agent's state file: a round trip, damaged files refused with the fix, and
// crash safety: an agent killed at any moment while saving leaves a readable state.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "forja/agent/state.h"
#include "forja/core/fs.h"

namespace forja::agent {
namespace {

std::string TempDir() {
  std::string tmpl = ::testing::TempDir() + "/forja-agent-state-XXXXXX";
  char* d = mkdtemp(tmpl.data());
  EXPECT_NE(d, nullptr);
  return tmpl;
}

AgentState Sample(int n) {
  AgentState s;
  TriggerState& t = s.triggers["nightly"];
  t.anchor = 100;
  t.last_due = 200 + n;
  t.has_seen = true;
  t.seen = "abc";
  t.pending = true;
  t.pending_reason = "cron 0 3 * * * (UTC)";
  t.attempt = 1;
  t.retry_at = 300;
  RunRecord r;
  r.id = "20261206T030000-nightly";
  r.trigger = "nightly";
  r.pipeline = ".";
  r.pid = 1234;
  r.pid_start = 99;
  r.started = 400;
  s.running.push_back(r);
  for (int i = 0; i < n; ++i) {
    RunRecord h = r;
    h.id = "h" + std::to_string(i);
    h.result = "ok";
    h.detail = std::string(200, 'x');
    s.history.push_back(h);
  }
  return s;
}

TEST(State, RoundTrip) {
  std::string dir = TempDir();
  auto fresh = LoadState(dir);
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE(fresh->triggers.empty());
  ASSERT_TRUE(SaveState(dir, Sample(3)).ok());
  auto s = LoadState(dir);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(StateToJson(*s), StateToJson(Sample(3)));
  const TriggerState& t = s->triggers.at("nightly");
  EXPECT_EQ(t.last_due, 203);
  EXPECT_EQ(t.retry_at, 300);
  ASSERT_EQ(s->running.size(), 1u);
  EXPECT_EQ(s->running[0].pid, 1234);
  EXPECT_EQ(s->running[0].pid_start, 99u);
}

TEST(State, FinishMovesARunToABoundedHistory) {
  AgentState s = Sample(0);
  for (size_t i = 0; i < AgentState::kHistory + 10; ++i) {
    RunRecord r;
    r.id = "r" + std::to_string(i);
    s.Finish(r);
  }
  RunRecord r = s.running[0];
  r.result = "interrupted";
  s.Finish(r);
  EXPECT_TRUE(s.running.empty());
  EXPECT_EQ(s.history.size(), AgentState::kHistory);
  EXPECT_EQ(s.history.back().result, "interrupted");
}

TEST(State, DamagedFilesAreRefusedWithTheFix) {
  const std::string fix = "; move it away to start the agent afresh (triggers then take a new baseline)";
  EXPECT_EQ(StateFromJson("{not json", "s.json").status().message(), "s.json: not a JSON object" + fix);
  EXPECT_EQ(StateFromJson("[]", "s.json").status().message(), "s.json: not a JSON object" + fix);
  EXPECT_EQ(StateFromJson("{\"version\": 7}", "s.json").status().message(), "s.json: unknown state version" + fix);
  auto wrong = StateFromJson(R"({"version":1,"triggers":{"a":{"last_due":"soon"}},"running":[],"history":[]})", "s.json");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message().rfind("s.json: ", 0), 0u) << wrong.status().message();
  auto missing = StateFromJson(R"({"version":1,"triggers":{},"running":[{"pid":3}],"history":[]})", "s.json");
  EXPECT_FALSE(missing.ok());
  std::string full = StateToJson(Sample(2));
  for (size_t cut = 0; cut < full.size(); cut += 7) EXPECT_FALSE(StateFromJson(full.substr(0, cut), "s.json").ok());
}

// A child saves states with ever larger histories, over and over, and is killed with
// SIGKILL after a varying number of saves; whatever it left must load whole, and be one
// of the states it wrote.
TEST(State, KilledWhileSavingLeavesAWholeState) {
  std::string dir = TempDir();
  ASSERT_TRUE(SaveState(dir, Sample(0)).ok());
  for (int round = 0; round < 12; ++round) {
    int pipefd[2];
    ASSERT_EQ(pipe(pipefd), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(pipefd[0]);
      for (int n = 0;; n = (n + 1) % 150) {
        if (!SaveState(dir, Sample(n)).ok()) _exit(2);
        if (n == round) (void)!write(pipefd[1], "x", 1);  // tell the parent saving is under way
      }
    }
    close(pipefd[1]);
    char c;
    ASSERT_EQ(read(pipefd[0], &c, 1), 1);
    close(pipefd[0]);
    kill(pid, SIGKILL);
    int ws = 0;
    waitpid(pid, &ws, 0);
    ASSERT_TRUE(WIFSIGNALED(ws));
    auto s = LoadState(dir);
    ASSERT_TRUE(s.ok()) << "round " << round << ": " << s.status().message();
    size_t n = s->history.size();
    EXPECT_EQ(StateToJson(*s), StateToJson(Sample(static_cast<int>(n))));
  }
}

}  // namespace
}  // namespace forja::agent
