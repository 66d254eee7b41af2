// Where `forja run` runs a stage's command: an Executor. forja stays the
// coordinator whatever the executor: it decides what runs, caps the jobs in
// flight (-j), applies retries and timeouts, and alone writes forja.lock, the
// run cache and the tracking store. An executor only submits a command,
// reports when it ends, and cancels what it submitted.
//
//   local  - child processes on this machine (core/process_pool.h)
//   slurm  - batch jobs on a Slurm cluster (slurm_executor.h); outputs reach the
//            workspace through the file system the cluster shares with it
//
// Another engine (Kubernetes Jobs, Ray tasks) is one more class with these four
// calls; docs/architecture.md says how.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "forja/core/process_pool.h"
#include "forja/core/status.h"
#include "forja/pipeline/resources.h"

namespace forja::config {
class Node;
}

namespace forja::pipeline {

// forja.yaml's `executor:` section:
//   executor: {kind: slurm, partition: gpu, account: ml, qos: normal, extra_args: [--exclusive]}
struct ExecutorConfig {
  std::string kind = "local";  // local | slurm
  std::string partition, account, qos;
  std::vector<std::string> extra_args;  // passed to sbatch as they are, before the script
  std::string origin;                   // "forja.yaml:12", for messages
};

// Reads the section (nullptr = absent: local). Errors name file:line and the field:
//   forja.yaml:7: executor.kind: 'pbs' is not an executor; write kind: local or kind: slurm
Result<ExecutorConfig> ParseExecutorConfig(const config::Node* section);

struct StageJob {
  std::string stage;  // its name, for the engine's job name and messages
  ProcessSpec spec;   // argv, cwd, env (on top of forja's own), log path, prefix, timeout
  Resources resources;
  std::string key;  // the stage's run-cache key (hex): the same inputs give the same key
  // Jobs submitted together under the same array name go to an engine with arrays
  // (Slurm) as one job array. "" = a foreach/matrix copy's stage name before '@'.
  std::string array;
  int array_limit = 0;         // at most this many of the array's tasks run at once (0 = no cap)
  std::string noun = "stage";  // what a job is, for messages ("experiment")
};

struct JobEnd {
  int id = -1;
  int exit_code = -1;  // the command's exit status, or -signal; -1 when the engine cannot tell
  bool timed_out = false;
  double seconds = 0;  // time it ran (not time it waited in a queue)
  std::string tail;    // the last lines of its log, for error messages
  // Set by an engine when the command did not end by itself: "was cancelled on the
  // cluster (CANCELLED)", "was lost with its node (NODE_FAIL)". "" = exit_code says.
  std::string what;
  // The engine lost the job through no fault of the command (node failure,
  // preemption): run it again without counting an attempt against retries.
  bool retryable = false;
};

class Executor {
 public:
  enum class Event { kEnded, kTimeout, kInterrupted };
  virtual ~Executor() = default;
  virtual const char* name() const = 0;  // "local", "slurm"
  // Submits a command; returns its id. A command that cannot be submitted is a
  // Status::User naming why (the stage then fails).
  virtual Result<int> Submit(const StageJob& job) = 0;
  virtual size_t running() const = 0;  // submitted and not yet returned by Wait
  // Blocks until a job ends (kEnded, *end filled), `deadline_s` passes (kTimeout;
  // < 0 = none), or SIGINT/SIGTERM arrives (kInterrupted, *signal_number set).
  virtual Event Wait(double deadline_s, JobEnd* end, int* signal_number) = 0;
  // Stops every job still running (kill, scancel) and returns their ends.
  virtual std::vector<JobEnd> CancelAll() = 0;

  // A job that an earlier forja run submitted with the same inputs (StageJob::key) and
  // was stopped (kill -9) before recording: kFinished (it succeeded; its outputs are in
  // the workspace), kAdopted (still in flight: *id is its id here, its end comes from
  // Wait), or kNone. Engines whose jobs die with forja (local) never have one.
  enum class Earlier { kNone, kFinished, kAdopted };
  virtual Earlier FindEarlier(const std::string& key, const std::string& stage, int* id) {
    (void)key, (void)stage, (void)id;
    return Earlier::kNone;
  }
};

std::unique_ptr<Executor> MakeLocalExecutor(bool quiet);

}  // namespace forja::pipeline
