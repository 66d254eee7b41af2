// `forja run`: brings the pipeline's outputs up to date.
//
// Stages are considered in dependency order, each once all the stages it
// depends on are done. A stage whose command, dep hashes, param values and
// outs all match forja.lock is up to date. Otherwise its run cache key is
// looked up and, on a hit, its outs are restored from the object cache; on a
// miss its command runs (up to `jobs` at once), its outs are stored in the
// cache, and its lock entry and run-cache row are recorded.
//
// forja.lock is rewritten atomically as stages finish (within 250 ms of a
// stage the run cache cannot restore, otherwise at most every 2 s, and at the
// end durably, after the objects it names), so a crash loses at most the last
// few entries — and those stages are then found in the run cache. A failing stage stops the stages below it; other branches go on only
// with keep_going. SIGINT/SIGTERM kill every running stage's process group.
#pragma once

#include <string>
#include <vector>

#include "forja/core/status.h"

namespace forja {
class Workspace;
}

namespace forja::pipeline {

struct Project;

struct RunOptions {
  std::vector<std::string> targets;  // stage names; empty = all
  bool single = false;               // only the targets, not what they depend on
  int jobs = 1;
  bool force = false;       // run even if up to date (and ignore the run cache)
  bool keep_going = false;  // after a failure, go on with independent stages
  bool dry = false;         // decide and report, change nothing
  bool use_run_cache = true;
  bool quiet = false;  // don't echo stage output (it is still logged)
  std::string executor;  // "local" or "slurm" (--executor); "" = forja.yaml's executor: (default local)
};

enum class Outcome { kUpToDate, kRan, kRestored, kWouldRun, kFailed, kSkipped, kInterrupted };
const char* OutcomeName(Outcome o);  // "up to date", "ran", "restored", "would run", ...

struct StageResult {
  std::string name;
  Outcome outcome = Outcome::kSkipped;
  std::vector<std::string> reasons;  // why it ran or would run; why it was skipped
  int attempts = 0;
  double seconds = 0;
  std::string error;  // a failure's message
  std::string log;    // the log file, repository-relative
};

struct RunSummary {
  std::string run_id;  // "" when no stage ran
  std::vector<StageResult> stages;  // in topological order
  int interrupted_by = 0;           // the signal, when interrupted
  bool failed() const;
  size_t Count(Outcome o) const;
};

Result<RunSummary> RunPipeline(Workspace& ws, const Project& project, const RunOptions& opts);

}  // namespace forja::pipeline
