// The Slurm executor: each stage a batch job (`sbatch --parsable`), watched by
// ONE `squeue` call per poll for every job in flight, cancelled with one
// `scancel` on Ctrl-C / SIGTERM. The client commands find the cluster as
// usual (slurm.conf, or SLURM_CONF in the environment). The copies of a
// foreach/matrix stage submitted in one scheduling round go as one job array.
//
// A job's script is written next to its log (.forja/runs/<run>/<stage>.sbatch):
// it enters the stage's folder, exports the stage's environment, runs the
// command, and writes its exit status to <stage>.exit. The workspace must be on
// a file system the nodes share (the usual NFS/Lustre home or project folder):
// the outputs reach forja's cache from there, with no daemon of forja's on the nodes.
//
// The parsers below read what the Slurm commands print; they take any text
// (fuzz/slurm_parse_fuzz.cc) and never fail on it, reporting what they cannot read.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "forja/core/status.h"
#include "forja/pipeline/executor.h"

namespace forja::pipeline {

// What forja makes of a Slurm job state (squeue's %T, sacct's State).
enum class SlurmFate {
  kInFlight,   // PENDING, RUNNING, COMPLETING, SUSPENDED, REQUEUED, ... (not ended)
  kSucceeded,  // COMPLETED
  kFailed,     // FAILED, OUT_OF_MEMORY, DEADLINE, BOOT_FAIL, SPECIAL_EXIT, REVOKED
  kCancelled,  // CANCELLED (by forja's own timeout, by a person's scancel, by an admin)
  kTimedOut,   // TIMEOUT: Slurm's --time limit
  kLost,       // NODE_FAIL, PREEMPTED: not the command's fault; retried
  kUnknown,    // a state this version of forja does not know: treated as in flight
};
SlurmFate MapSlurmState(std::string_view state);  // "CANCELLED by 0" reads as CANCELLED

// sbatch --parsable prints "<id>" or "<id>;<cluster>". nullopt when the text is not that.
std::optional<long long> ParseSbatchJobId(std::string_view out);

struct SlurmJobState {
  std::string state;   // "RUNNING"
  std::string reason;  // "None", "NonZeroExitCode"
  int exit_code = -1;  // the command's exit status; -signal when killed; -1 unknown
};
// `squeue -h -r -O JobID:|,ArrayJobID:|,ArrayTaskID:|,State:|,Reason:|,exit_code:|` lines
// ("12|12|N/A|FAILED|NonZeroExitCode|256|", "15|13|2|RUNNING|None|0|"), by the id squeue and
// scancel take ("12", "13_2"). Lines it cannot read are skipped (counted in *skipped when given).
std::map<std::string, SlurmJobState> ParseSqueue(std::string_view out, int* skipped = nullptr);

// `sacct -n -P -X --format=JobID,State,ExitCode` lines ("12|COMPLETED|0:0", "13_2|CANCELLED by 0|0:15",
// "14|FAILED|3:0"), by the same ids; ExitCode is "status:signal". Array ranges ("13_[3-5]") and lines
// it cannot read are skipped (counted in *skipped when given).
std::map<std::string, SlurmJobState> ParseSacct(std::string_view out, int* skipped = nullptr);

// "12" for a job (task "N/A"), "13_2" for a task of an array; nullopt when either is not a number.
std::optional<std::string> SlurmQueryId(std::string_view array_job, std::string_view task);

// The sbatch command line for a job (without the script path, which comes last).
std::vector<std::string> SbatchArgs(const ExecutorConfig& cfg, const StageJob& job);

// The job's script: cd, exports, the command, its exit status into `exit_path`.
std::string SbatchScript(const StageJob& job, const std::string& exit_path);

// `journal`: a file where each submission is appended (run-cache key, job id, its
// exit-status and log paths), so that the run after a kill -9 finds what the
// cluster finished or still runs (FindEarlier) instead of submitting it again.
// It is removed when the executor ends with nothing in flight.
std::unique_ptr<Executor> MakeSlurmExecutor(const ExecutorConfig& cfg, bool quiet, const std::string& journal);

}  // namespace forja::pipeline
