// Several child processes at once, each in its own process group, with their
// output streamed to the terminal (each line prefixed) and to a log file, a
// timeout each, and Ctrl-C / SIGTERM turned into an event the caller handles.
//
// One thread drives it: Start() launches, Wait() blocks in poll() until a
// process ends, a deadline passes, or a signal arrives. Nothing runs in the
// background between calls; output is read while Wait() polls (pipes have
// 64 KiB of slack, so a process can run ahead of the caller that long).
//
// Exits are noticed through a pidfd per process (Linux >= 5.3), not SIGCHLD:
// no process-wide handler, and a process that exits while a background
// grandchild still holds its pipe is reported at once (what it wrote before
// exiting is read; later output from the grandchild is not).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "forja/core/status.h"

namespace forja {

struct ProcessSpec {
  // argv[0] is searched on PATH (the one in `env` when it sets PATH; relative
  // entries and names are relative to `cwd`). For a shell command use
  // {"/bin/sh", "-c", script}.
  std::vector<std::string> argv;
  std::string cwd;  // "" = the caller's
  // Variables set (or replaced) on top of the caller's environment. The merged
  // environment is built once per distinct list, from the caller's environment
  // as it was then.
  std::vector<std::pair<std::string, std::string>> env;
  // Standard output and error (one pipe, in the order written) go to this file
  // ("" = none; created when the process first prints, so a silent process
  // leaves none, and an old file of that name is removed at Start) and, unless the pool is quiet, to the
  // caller's standard error, each line as "<prefix><line>".
  std::string log_path;
  std::string prefix;
  // 0 = none. On expiry the group gets SIGTERM, then SIGKILL after the grace
  // period; once the process has ended, what is left of its group is SIGKILLed.
  double timeout_s = 0;
  // stdin is /dev/null.
};

struct ProcessEnd {
  int id = -1;         // Start()'s return value
  int exit_code = -1;  // the exit status, or -signal when killed by a signal
  bool timed_out = false;
  double seconds = 0;  // wall time from start to end
  std::string tail;    // the last lines of output (up to ~20 lines / 4 KiB), for error messages
};

class ProcessPool {
 public:
  struct Options {
    bool quiet = false;           // don't echo output to standard error
    double kill_grace_s = 3;      // SIGTERM -> SIGKILL
    // Catch SIGINT/SIGTERM while the pool exists (restored after). Pools that
    // catch signals must be destroyed in the reverse order of their creation.
    // SIGPIPE is ignored while any pool exists either way (children get the
    // default back), so a closed stderr cannot kill us.
    bool handle_signals = true;
  };
  ProcessPool();  // default Options
  explicit ProcessPool(Options opts);
  ~ProcessPool();  // kills (SIGKILL) and reaps any process still running
  ProcessPool(const ProcessPool&) = delete;
  ProcessPool& operator=(const ProcessPool&) = delete;

  // Launches a process; returns its id. Fails (Status::User, naming the
  // command) when the program cannot be found or started, or the log cannot be opened.
  Result<int> Start(const ProcessSpec& spec);

  size_t running() const;

  enum class Event { kEnded, kTimeout, kInterrupted };
  // Blocks until a process ends (kEnded, *end filled), `deadline_s` seconds
  // pass (kTimeout; < 0 = no deadline; 0 = poll once), or SIGINT/SIGTERM
  // arrives (kInterrupted; *signal_number set; the processes keep running).
  // Output is pumped meanwhile. With nothing running and no deadline it
  // returns kTimeout at once rather than block forever.
  Event Wait(double deadline_s, ProcessEnd* end, int* signal_number = nullptr);

  // Sends SIGTERM to every running process group, waits up to the grace
  // period, then SIGKILLs what is left, and reaps all of them (their ends are
  // returned, exit_code = -signal, together with ends Wait() has not returned
  // yet). A SIGINT/SIGTERM arriving meanwhile (a second Ctrl-C) cuts the grace
  // short; it stays queued for Wait().
  std::vector<ProcessEnd> KillAll();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace forja
