// Hydra's runtime config (the `hydra` node of a @hydra.main app), as far as
// apps read it: the `${hydra:...}` resolver's keys, the output folder of a run
// and whether the job runs in it.
//
// The node is built as Hydra 1.3 builds it: its defaults (hydra.run.dir =
// outputs/${now:%Y-%m-%d}/${now:%H-%M-%S}, hydra.sweep.dir/subdir, ...), then
// the primary config's `hydra:` section, then the `hydra.*` overrides of the
// command line; then the runtime values: hydra.mode, job.name, job.num/id (a
// multirun's job), job.override_dirname, job.config_name, runtime.cwd,
// runtime.choices (the user's groups then Hydra's own, in Hydra's order) and
// runtime.output_dir (the run or sweep folder, absolute). It is resolved
// against the user's config (hydra.run.dir may name ${model.name}).
//
// Hydra's own config groups (hydra/launcher, hydra/sweeper, hydra/job_logging,
// ...) configure machinery forja does not have: they are recorded as choices
// and otherwise ignored, with one notice a process (NoteIgnoredHydra).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "forja/config/interpolation.h"
#include "forja/config/node.h"
#include "forja/core/status.h"

namespace forja::config {

struct Override;
struct Choice;

// What the caller knows about the run the config is for.
struct HydraRunInfo {
  bool multirun = false;            // hydra.mode=MULTIRUN
  std::optional<int64_t> job_num;   // a multirun's job index (job.num and job.id)
  std::string job_name;             // hydra.job.name unless the config sets it; "" = the config name
  std::string cwd;                  // hydra.runtime.cwd; "" = the current folder
  // Where a relative hydra.run.dir / sweep.dir lands; "" = cwd. `forja exp
  // run` sets the main workspace, so a job's output folder outlives its worktree.
  std::string output_base;
};

// The run a `forja exp run` job is (the environment its `forja run` gets):
// FORJA_HYDRA_OUTPUT_BASE (output_base), FORJA_HYDRA_JOB_NUM (a multirun's job:
// multirun, job_num) and FORJA_HYDRA_NOW (seconds since the epoch: one
// ${now:} for every job, so a sweep's jobs share hydra.sweep.dir).
Status HydraRunFromEnvironment(HydraRunInfo* run,
                               std::optional<std::chrono::system_clock::time_point>* now);

// Whether a value (a tree) holds a ${hydra:...} interpolation.
bool MentionsHydra(const Node& n);

// The hydra node with the values that differ from run to run of the same
// job (runtime.output_dir, runtime.cwd, run, sweep, job.num, job.id) replaced
// by their own text "${hydra:KEY}": a stage command resolved against it is
// what forja.lock records, so a new output folder does not rerun the stage.
Node HydraLockView(const Node& hydra);

// The `hydra.*` keys a command-line override may set (hydra.run.dir, ...).
bool IsSupportedHydraKey(const std::string& key);

// Checks a hydra override: Status::Ok() for a supported `hydra.KEY=VALUE`; a
// `hydra/GROUP=OPTION` is accepted too (ignored later); anything else is one
// line naming what forja does support.
Status CheckHydraOverride(const Override& o);

// The pieces of a composition the hydra node is made from.
struct HydraInputs {
  const Node* user_hydra = nullptr;                 // the merged `hydra:` section of the configs, if any
  std::vector<const Override*> hydra_overrides;     // hydra.KEY=VALUE and hydra/GROUP=X overrides, in order
  std::vector<std::string> task_overrides;          // the app's override texts (Hydra's overrides.task)
  std::vector<std::string> override_keys;           // each task override's key or group (for exclude_keys)
  const std::vector<Choice>* user_choices = nullptr;
  std::vector<std::pair<std::string, std::string>> hydra_choices;  // `override hydra/X: Y`, `hydra/X=Y`
  std::string config_name;
};

// Builds the hydra node, unresolved except for runtime values; see above.
Result<Node> BuildHydraNode(const HydraInputs& in, const HydraRunInfo& run);

// Resolves root["hydra"] in place against the whole of `root` (the user's
// config with the hydra node beside it, as Hydra has it) and fills
// hydra.runtime.output_dir. A value that needs a ??? stays ??? (job.num
// outside a multirun). A relative output folder is under output_base
// (HydraRunInfo), else runtime.cwd.
Status FinishHydraNode(Node& root, const ResolveOptions& ro, const std::string& output_base = "");

// Hydra's `hydra.job.override_dirname`: the task overrides whose key is not
// excluded, sorted, joined with item_sep, every '=' replaced by kv_sep.
std::string OverrideDirname(const std::vector<std::string>& texts, const std::vector<std::string>& keys,
                            const std::vector<std::string>& exclude_keys, const std::string& item_sep,
                            const std::string& kv_sep);

// The value `${hydra:KEY}` gives: the key's value in the (resolved) hydra
// node; null when it is absent or ??? (as OmegaConf.select does).
Node HydraSelect(const Node& hydra, const std::string& key);

// The keys of a config's `hydra:` section forja ignores ("hydra.launcher", ...).
std::vector<std::string> IgnoredHydraSections(const Node* user_hydra);

// Says once a process (stderr) which Hydra features this run ignores.
void NoteIgnoredHydra(const std::vector<std::string>& what);

}  // namespace forja::config
