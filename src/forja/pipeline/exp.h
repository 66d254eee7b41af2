// Experiments: `forja exp run` runs the pipeline once per combination of a
// sweep, each in an isolated copy of the workspace, never touching the user's
// files; `exp show` compares them; `exp apply` brings one into the workspace.
//
// An experiment's workspace is a git worktree of HEAD under
// .forja/exps/<id>/ws, with the user's uncommitted changes (git diff HEAD and
// untracked files) copied in, and its .forja/cache a link to the shared cache
// — so data is checked out by links, outputs land in the one cache, and the
// run cache (kept in the cache folder) is shared: a stage any experiment or
// branch already ran is restored, not rerun. Each experiment is a child
// `forja run` (up to `jobs` at once) whose output is prefixed with its id; on
// Slurm, every experiment of the sweep is a task of one job array, and each task
// runs its experiment's `forja run --executor local` on a node.
// When it ends, its forja.lock, metrics, params, git commit and logs are kept
// in .forja/exps/<id>/ and the worktree is removed.
#pragma once

#include <string>
#include <vector>

#include "forja/core/status.h"
#include "forja/data/lockfile.h"
#include "forja/pipeline/metric_files.h"

namespace forja {
class Workspace;
}

namespace forja::pipeline {

struct ExpOptions {
  std::vector<std::string> overrides;  // with multirun, sweeps ("lr=0.1,0.2") expand to jobs
  std::vector<std::string> targets;    // stages (default: all)
  bool multirun = false;
  int jobs = 1;  // experiments at once
  int stage_jobs = 1;  // -j of each experiment's forja run
  bool quiet = false;  // don't echo the experiments' output
  // "slurm": each experiment's `forja run` is a task of ONE Slurm job array (-j as the
  // array's %N), run on a node against the shared workspace; "local": child processes,
  // up to `jobs` at once; "": forja.yaml's executor: kind.
  std::string executor;
  // Where the experiments' runs are recorded: the workspace's store and
  // experiment (a worktree would otherwise pick its own .forja/forja.db).
  std::string tracking_uri, tracking_experiment;
};

struct Experiment {
  std::string id;       // "exp-1a2b3c"
  std::string created;  // "2026-11-25T10:00:00Z"
  std::string commit;   // the git commit it started from
  std::vector<std::string> overrides;
  bool ok = false;
  double seconds = 0;
  std::string error;  // the first line of what went wrong
  Lock lock;          // its forja.lock: dep and out hashes, param values
  std::vector<MetricsFile> metrics;
};

// Runs the experiments; returns them in job order (failed ones included).
Result<std::vector<Experiment>> RunExperiments(Workspace& ws, const ExpOptions& opts);

// The experiments recorded in the workspace, oldest first.
Result<std::vector<Experiment>> ListExperiments(const std::string& root);

// Finds an experiment by id or unique id prefix.
Result<Experiment> FindExperiment(const std::string& root, const std::string& id);

// Restores an experiment's outputs (from the cache) and its forja.lock into the
// workspace; refuses to overwrite unstored changes unless `force`.
Status ApplyExperiment(Workspace& ws, const Experiment& exp, bool force);

// Deletes an experiment's record.
Status RemoveExperiment(const std::string& root, const Experiment& exp);

}  // namespace forja::pipeline
