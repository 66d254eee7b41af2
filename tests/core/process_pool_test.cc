#include "forja/core/process_pool.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "forja/core/fs.h"

namespace forja {
namespace {

using Clock = std::chrono::steady_clock;

std::string MakeTempDir() {
  char tmpl[] = "/tmp/forja-pool-test-XXXXXX";
  return ::mkdtemp(tmpl);
}

ProcessPool::Options Quiet() {
  ProcessPool::Options o;
  o.quiet = true;
  return o;
}

ProcessSpec Sh(const std::string& script) {
  ProcessSpec s;
  s.argv = {"/bin/sh", "-c", script};
  return s;
}

// Waits for the one process started, failing the test on anything else.
ProcessEnd WaitOne(ProcessPool& pool, double deadline_s = 10) {
  ProcessEnd end;
  EXPECT_EQ(pool.Wait(deadline_s, &end), ProcessPool::Event::kEnded);
  return end;
}

ProcessEnd RunOne(const ProcessSpec& spec) {
  ProcessPool pool(Quiet());
  auto id = pool.Start(spec);
  EXPECT_TRUE(id.ok()) << id.status().message();
  return WaitOne(pool);
}

// True once `pid` is gone or a zombie (killed, awaiting its new parent's wait).
bool IsDead(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

bool BecomesDead(pid_t pid) {
  for (int i = 0; i < 200; i++) {
    if (IsDead(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

pid_t FirstLineAsPid(const std::string& text) {
  return static_cast<pid_t>(std::atol(text.c_str()));
}

TEST(ProcessPool, ExitCodes) {
  ProcessSpec t;
  t.argv = {"true"};
  EXPECT_EQ(RunOne(t).exit_code, 0);
  ProcessSpec f;
  f.argv = {"false"};
  EXPECT_EQ(RunOne(f).exit_code, 1);
  EXPECT_EQ(RunOne(Sh("exit 7")).exit_code, 7);
  EXPECT_EQ(RunOne(Sh("kill -9 $$")).exit_code, -9);
  ProcessEnd e = RunOne(Sh("no-such-command-forja-test"));
  EXPECT_EQ(e.exit_code, 127);  // the shell reports it
  EXPECT_FALSE(e.timed_out);
}

TEST(ProcessPool, StdinIsDevNull) {
  ProcessSpec cat;
  cat.argv = {"cat"};
  ProcessEnd e = RunOne(cat);
  EXPECT_EQ(e.exit_code, 0);
  EXPECT_EQ(e.tail, "");
}

TEST(ProcessPool, OutputGoesToLogTailAndPrefixedStderr) {
  std::string dir = MakeTempDir();
  ProcessSpec s = Sh("echo one; echo two >&2; echo three; printf partial");
  s.prefix = "[stage] ";
  s.log_path = dir + "/out.log";
  testing::internal::CaptureStderr();
  ProcessEnd e;
  {
    ProcessPool pool;
    ASSERT_TRUE(pool.Start(s).ok());
    e = WaitOne(pool);
  }
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(e.exit_code, 0);
  EXPECT_EQ(err, "[stage] one\n[stage] two\n[stage] three\n[stage] partial\n");
  EXPECT_EQ(*ReadFile(s.log_path), "one\ntwo\nthree\npartial");
  EXPECT_EQ(e.tail, "one\ntwo\nthree\npartial");
  ASSERT_TRUE(RemoveTree(dir).ok());
}

TEST(ProcessPool, QuietEchoesNothing) {
  std::string dir = MakeTempDir();
  ProcessSpec s = Sh("echo hidden");
  s.prefix = "[x] ";
  s.log_path = dir + "/out.log";
  testing::internal::CaptureStderr();
  ProcessEnd e = RunOne(s);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(*ReadFile(s.log_path), "hidden\n");
  EXPECT_EQ(e.tail, "hidden\n");
  ASSERT_TRUE(RemoveTree(dir).ok());
}

TEST(ProcessPool, LogIsTruncatedAndTailIsBounded) {
  std::string dir = MakeTempDir();
  ASSERT_TRUE(WriteFileAtomic(dir + "/out.log", std::string(100000, 'x')).ok());
  ProcessSpec s;
  s.argv = {"seq", "1", "100000"};
  s.log_path = dir + "/out.log";
  ProcessEnd e = RunOne(s);
  EXPECT_EQ(e.exit_code, 0);
  std::string log = *ReadFile(s.log_path);
  EXPECT_EQ(log.substr(0, 4), "1\n2\n");
  EXPECT_EQ(log.size(), 588895u);  // every line of seq 1 100000, nothing of the old file
  std::string expected_tail;
  for (int i = 99981; i <= 100000; i++) expected_tail += std::to_string(i) + "\n";
  EXPECT_EQ(e.tail, expected_tail);
  ASSERT_TRUE(RemoveTree(dir).ok());
}

TEST(ProcessPool, EnvAndCwd) {
  std::string dir = MakeTempDir();
  ::setenv("FORJA_POOL_TEST_KEEP", "kept", 1);
  ::setenv("FORJA_POOL_TEST_OVER", "old", 1);
  ProcessSpec s = Sh("echo $FORJA_POOL_TEST_KEEP $FORJA_POOL_TEST_OVER $FORJA_POOL_TEST_NEW; pwd");
  s.cwd = dir;
  s.env = {{"FORJA_POOL_TEST_OVER", "new"}, {"FORJA_POOL_TEST_NEW", "added"}};
  ProcessEnd e = RunOne(s);
  ::unsetenv("FORJA_POOL_TEST_KEEP");
  ::unsetenv("FORJA_POOL_TEST_OVER");
  EXPECT_EQ(e.exit_code, 0);
  EXPECT_EQ(e.tail, "kept new added\n" + dir + "\n");
  ASSERT_TRUE(RemoveTree(dir).ok());
}

TEST(ProcessPool, ProgramIsFoundOnTheChildsPath) {
  std::string dir = MakeTempDir();
  ASSERT_TRUE(MakeDirs(dir + "/bin").ok());
  ASSERT_TRUE(
      WriteFileAtomic(dir + "/bin/forja-pool-hello", "#!/bin/sh\necho hello $1\n", 0755).ok());
  ProcessSpec s;
  s.argv = {"forja-pool-hello", "world"};
  s.env = {{"PATH", dir + "/bin:/usr/bin:/bin"}};
  ProcessEnd e = RunOne(s);
  EXPECT_EQ(e.exit_code, 0);
  EXPECT_EQ(e.tail, "hello world\n");

  ProcessSpec in_cwd;  // relative PATH entries are relative to cwd
  in_cwd.argv = {"forja-pool-hello", "cwd"};
  in_cwd.cwd = dir;
  in_cwd.env = {{"PATH", "bin:/usr/bin:/bin"}};
  EXPECT_EQ(RunOne(in_cwd).tail, "hello cwd\n");

  ProcessSpec rel;  // a relative name with a slash is relative to cwd
  rel.argv = {"bin/forja-pool-hello", "there"};
  rel.cwd = dir;
  EXPECT_EQ(RunOne(rel).tail, "hello there\n");
  ASSERT_TRUE(RemoveTree(dir).ok());
}

TEST(ProcessPool, ProgramNotFoundIsAnErrorFromStart) {
  ProcessPool pool(Quiet());
  ProcessSpec s;
  s.argv = {"forja-no-such-program"};
  auto r = pool.Start(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUser);
  EXPECT_EQ(r.status().message(), "program 'forja-no-such-program' not found on PATH");
  s.argv = {"/nonexistent/forja"};
  EXPECT_FALSE(pool.Start(s).ok());
  s.argv = {"/etc/passwd"};  // not executable
  auto no_x = pool.Start(s);
  ASSERT_FALSE(no_x.ok());
  EXPECT_NE(no_x.status().message().find("not an executable"), std::string::npos);
  EXPECT_EQ(pool.running(), 0u);
}

TEST(ProcessPool, BadCwdOrLogIsAnErrorFromStart) {
  ProcessPool pool(Quiet());
  ProcessSpec s;
  s.argv = {"true"};
  s.cwd = "/nonexistent-forja-dir";
  auto r = pool.Start(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("working directory"), std::string::npos);
  s.cwd = "";
  s.log_path = "/nonexistent-forja-dir/x.log";
  auto l = pool.Start(s);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().code(), Code::kUser);
  EXPECT_EQ(pool.running(), 0u);
}

TEST(ProcessPool, ChildGetsDefaultSignalsAndEmptyMask) {
  // The pool ignores SIGPIPE; the test blocks SIGUSR1. Neither reaches the child.
  sigset_t usr1, old;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &usr1, &old), 0);
  ProcessPool pool(Quiet());
  ASSERT_TRUE(pool.Start(Sh("kill -PIPE $$")).ok());
  EXPECT_EQ(WaitOne(pool).exit_code, -SIGPIPE);
  ASSERT_TRUE(pool.Start(Sh("kill -USR1 $$")).ok());
  EXPECT_EQ(WaitOne(pool).exit_code, -SIGUSR1);
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

TEST(ProcessPool, ParallelProcessesOverlap) {
  ProcessPool pool(Quiet());
  ProcessSpec s;
  s.argv = {"sleep", "0.3"};
  auto t0 = Clock::now();
  ASSERT_TRUE(pool.Start(s).ok());
  ASSERT_TRUE(pool.Start(s).ok());
  EXPECT_EQ(pool.running(), 2u);
  WaitOne(pool);
  WaitOne(pool);
  EXPECT_EQ(pool.running(), 0u);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 0.55);
}

TEST(ProcessPool, TimeoutKillsTheWholeGroup) {
  ProcessPool pool(Quiet());
  ProcessSpec s = Sh("sleep 30 & echo $!; sleep 30");
  s.timeout_s = 0.3;
  ASSERT_TRUE(pool.Start(s).ok());
  ProcessEnd e = WaitOne(pool);
  EXPECT_TRUE(e.timed_out);
  EXPECT_EQ(e.exit_code, -SIGTERM);
  pid_t grandchild = FirstLineAsPid(e.tail);
  ASSERT_GT(grandchild, 1);
  EXPECT_TRUE(BecomesDead(grandchild));
}

TEST(ProcessPool, TimeoutEscalatesToSigkill) {
  ProcessPool::Options o = Quiet();
  o.kill_grace_s = 0.2;
  ProcessPool pool(o);
  // SIGTERM is ignored by the shell and (inherited) by its sleep.
  ProcessSpec s = Sh("trap '' TERM; sleep 30 & echo $!; sleep 30");
  s.timeout_s = 0.2;
  ASSERT_TRUE(pool.Start(s).ok());
  ProcessEnd e = WaitOne(pool);
  EXPECT_TRUE(e.timed_out);
  EXPECT_EQ(e.exit_code, -SIGKILL);
  pid_t grandchild = FirstLineAsPid(e.tail);
  ASSERT_GT(grandchild, 1);
  EXPECT_TRUE(BecomesDead(grandchild));
}

TEST(ProcessPool, WaitWithDeadlineTimesOut) {
  ProcessPool pool(Quiet());
  ProcessSpec s;
  s.argv = {"sleep", "30"};
  ASSERT_TRUE(pool.Start(s).ok());
  ProcessEnd e;
  EXPECT_EQ(pool.Wait(0, &e), ProcessPool::Event::kTimeout);
  EXPECT_EQ(pool.Wait(0.05, &e), ProcessPool::Event::kTimeout);
  EXPECT_EQ(pool.running(), 1u);
  EXPECT_EQ(pool.KillAll().size(), 1u);
  // Nothing running and no deadline: no hang.
  EXPECT_EQ(pool.Wait(-1, &e), ProcessPool::Event::kTimeout);
}

TEST(ProcessPool, SignalIsReportedThenKillAll) {
  struct sigaction before {};
  ASSERT_EQ(::sigaction(SIGTERM, nullptr, &before), 0);
  {
    ProcessPool pool(Quiet());
    ProcessSpec s;
    s.argv = {"sleep", "30"};
    ASSERT_TRUE(pool.Start(s).ok());
    ASSERT_EQ(::raise(SIGTERM), 0);
    ProcessEnd e;
    int sig = 0;
    EXPECT_EQ(pool.Wait(-1, &e, &sig), ProcessPool::Event::kInterrupted);
    EXPECT_EQ(sig, SIGTERM);
    EXPECT_EQ(pool.running(), 1u);  // the process is the caller's to stop
    std::vector<ProcessEnd> ends = pool.KillAll();
    ASSERT_EQ(ends.size(), 1u);
    EXPECT_EQ(ends[0].exit_code, -SIGTERM);
    EXPECT_FALSE(ends[0].timed_out);
    EXPECT_EQ(pool.running(), 0u);
  }
  struct sigaction after {};
  ASSERT_EQ(::sigaction(SIGTERM, nullptr, &after), 0);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
}

TEST(ProcessPool, KillAllReportsEveryProcess) {
  ProcessPool pool(Quiet());
  std::set<int> ids;
  for (int i = 0; i < 3; i++) {
    ProcessSpec s;
    s.argv = {"sleep", "30"};
    auto id = pool.Start(s);
    ASSERT_TRUE(id.ok());
    ids.insert(*id);
  }
  ProcessSpec quick;
  quick.argv = {"true"};
  auto quick_id = pool.Start(quick);  // ends by itself; KillAll returns it too
  ASSERT_TRUE(quick_id.ok());
  ids.insert(*quick_id);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::vector<ProcessEnd> ends = pool.KillAll();
  ASSERT_EQ(ends.size(), 4u);
  std::set<int> got;
  for (const ProcessEnd& e : ends) {
    got.insert(e.id);
    EXPECT_EQ(e.exit_code, e.id == *quick_id ? 0 : -SIGTERM);
  }
  EXPECT_EQ(got, ids);
  EXPECT_EQ(pool.running(), 0u);
}

TEST(ProcessPool, ExitIsReportedWhileAGrandchildHoldsThePipe) {
  ProcessPool pool(Quiet());
  ASSERT_TRUE(pool.Start(Sh("sleep 30 & echo $!")).ok());
  ProcessEnd e;
  ASSERT_EQ(pool.Wait(5, &e), ProcessPool::Event::kEnded);  // not after the sleep's 30 s
  EXPECT_EQ(e.exit_code, 0);
  pid_t grandchild = FirstLineAsPid(e.tail);
  ASSERT_GT(grandchild, 1);
  ::kill(grandchild, SIGKILL);
}

TEST(ProcessPool, DestructorKillsWhatRuns) {
  std::string dir = MakeTempDir();
  pid_t pid = 0;
  {
    ProcessPool pool(Quiet());
    ProcessSpec s = Sh("echo $$; exec sleep 30");
    s.log_path = dir + "/out.log";
    ASSERT_TRUE(pool.Start(s).ok());
    for (int i = 0; i < 200 && pid == 0; i++) {
      ProcessEnd e;
      pool.Wait(0.01, &e);
      pid = FirstLineAsPid(*ReadFile(s.log_path));
    }
    ASSERT_GT(pid, 1);
  }
  EXPECT_TRUE(IsDead(pid));
  ASSERT_TRUE(RemoveTree(dir).ok());
}

TEST(ProcessPool, ManyQuickProcessesAreEachReportedOnce) {
  ProcessPool pool(Quiet());
  const int kTotal = 500, kParallel = 4;
  std::vector<int> seen(kTotal, 0);
  int started = 0;
  auto start_next = [&] {
    ProcessSpec s;
    if (started % 2 == 0) {
      s.argv = {"true"};
    } else {
      s = Sh("echo " + std::to_string(started) + "; exit 3");
    }
    auto id = pool.Start(s);
    ASSERT_TRUE(id.ok());
    ASSERT_EQ(*id, started);
    started++;
  };
  while (started < kParallel) start_next();
  while (pool.running() > 0) {
    ProcessEnd e;
    ASSERT_EQ(pool.Wait(-1, &e), ProcessPool::Event::kEnded);
    ASSERT_GE(e.id, 0);
    ASSERT_LT(e.id, kTotal);
    seen[e.id]++;
    if (e.id % 2 == 0) {
      EXPECT_EQ(e.exit_code, 0);
    } else {
      EXPECT_EQ(e.exit_code, 3);
      EXPECT_EQ(e.tail, std::to_string(e.id) + "\n");
    }
    if (started < kTotal) start_next();
  }
  for (int i = 0; i < kTotal; i++) EXPECT_EQ(seen[i], 1) << "process " << i;
}

}  // namespace
}  // namespace forja
