// Composition: a config folder, a primary config, and command-line overrides
// in; one config out, exactly as Hydra 1.3's compose API gives it
// (version_base="1.3", without the `hydra` node, which is kept apart in
// Composed::hydra for the ${hydra:...} resolver).
//
//   1. Overrides are parsed (override.h). Sweeps are refused unless this is a
//      multirun's base composition. `hydra.*` overrides go to the hydra node
//      (only the keys forja honours; hydra_runtime.h), `hydra/GROUP=X` ones are
//      recorded and ignored.
//   2. The defaults list is built with the group overrides applied
//      (defaults_list.h).
//   3. Its configs are merged in order, each at its package, as
//      OmegaConf.merge does (a list and a dict do not merge: an error).
//   4. The value overrides are applied as Hydra applies them to its struct
//      config: `a.b=1` needs a.b to exist, `+a.b=1` needs it not to, `++`
//      does either, `~a.b[=v]` deletes.
//   5. Interpolations are resolved (interpolation.h), unless asked not to.
//
// Every value keeps its origin ("conf/db/mysql.yaml:2", "override 'a=1'").
// A ConfigTree caches files within one call; nothing is cached across calls.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "forja/config/defaults_list.h"
#include "forja/config/hydra_runtime.h"
#include "forja/config/interpolation.h"
#include "forja/config/node.h"
#include "forja/config/override.h"
#include "forja/core/status.h"

namespace forja::config {

struct ComposeOptions {
  std::string config_dir = "conf";      // the config folder
  std::string config_name = "config";   // the primary config: <config_dir>/<name>.yaml
  std::vector<std::string> overrides;   // as typed: "db=postgresql", "+a.b=1", ...
  bool resolve = true;                  // resolve interpolations
  // A multirun's base composition (Hydra's RunMode.MULTIRUN): sweeps are left
  // out and groups left at ??? are skipped instead of being an error.
  bool multirun = false;
  // When not empty, Composed::history lists every step that set this key.
  std::string explain_key;
  ResolveOptions resolve_options;
  // The run the config is for: Hydra's runtime values (${hydra:...}).
  HydraRunInfo hydra_run;
  // Resolve against HydraLockView (per-run values as their ${hydra:KEY} text):
  // the config as forja.lock sees it, so a new output folder is no change.
  bool hydra_lock_view = false;
};

// One step in the history of a key (`forja config explain`).
struct Step {
  std::string where;  // "conf/db/mysql.yaml:2" or "override 'db.port=1'"
  std::string what;   // "db/mysql (package db)", "override", "deleted by override"
  std::optional<Node> value;  // what was set there (unresolved); none for a delete
};

struct Composed {
  Node config;
  bool resolved = false;
  // Group -> option, in the order of Hydra's hydra.runtime.choices.
  std::vector<Choice> choices;
  // The overrides as parsed; Override::input is the text Hydra records.
  std::vector<Override> overrides;
  // The configs merged, in order.
  std::vector<ResultDefault> defaults;
  // With ComposeOptions::explain_key: what set that key, in order.
  std::vector<Step> history;
  // Hydra's runtime config (hydra_runtime.h), resolved: what ${hydra:KEY}
  // reads; hydra.runtime.output_dir is the run's output folder.
  Node hydra;
  // The config reads Hydra's runtime (a ${hydra:...} value, a `hydra:`
  // section, a hydra override): a run then makes the output folder.
  bool uses_hydra = false;

  // ResolveOptions that know the hydra node (for resolving this config later).
  ResolveOptions HydraResolveOptions() const {
    ResolveOptions ro;
    ro.hydra = &hydra;
    return ro;
  }

  // Where the value at a dotted key was last set: a file:line or
  // "override '<text>'"; empty when there is no such key.
  std::string Origin(std::string_view key) const;
  // The override texts, as Hydra writes them to .hydra/overrides.yaml.
  std::vector<std::string> OverrideTexts() const;

  // Typed access for the code that consumes the config. The value is resolved
  // (when the config was composed with resolve=false, on the fly). Errors are
  // Status::User and name the key and the value's origin, e.g.
  //   conf/db/mysql.yaml:2: db.port is a str ('x'), not an int
  Result<Node> Get(std::string_view key) const;
  Result<int64_t> GetInt(std::string_view key) const;
  Result<double> GetFloat(std::string_view key) const;  // an int is accepted
  Result<bool> GetBool(std::string_view key) const;
  Result<std::string> GetString(std::string_view key) const;
};

Result<Composed> Compose(const ComposeOptions& opts);

// The jobs of a multirun (`forja config show -m`): Hydra's BasicSweeper over
// the overrides (the cartesian product of the sweeps, the last varying
// fastest); glob() is expanded against the options of its config group.
// Each job is its list of override texts, ready for Compose.
Result<std::vector<std::vector<std::string>>> SweepJobTexts(const std::vector<std::string>& overrides,
                                                            const std::string& config_dir, uint64_t seed = 0);

// The same jobs, compactly: every override text once, and each job as a row
// of indexes into them (one per override key, in Hydra's order), as Hydra's
// job lists share their strings.
struct SweepJobs {
  std::vector<std::string> texts;
  size_t count = 0;             // jobs
  size_t width = 0;             // overrides per job
  std::vector<uint32_t> table;  // count x width indexes into texts

  const uint32_t* Row(size_t job) const { return table.data() + job * width; }
  std::vector<std::string> Job(size_t job) const;
};
Result<SweepJobs> ExpandSweepJobs(const std::vector<std::string>& overrides, const std::string& config_dir,
                                  uint64_t seed = 0);

// The groups of a config folder and their options, sorted.
struct GroupInfo {
  std::string group;
  std::vector<std::string> options;
};
Result<std::vector<GroupInfo>> ListGroups(const std::string& config_dir);

// Writes a run's record, as Hydra's .hydra/ folder does: config.yaml (the
// config, resolved), overrides.yaml (the override texts) and choices.yaml
// (group -> option). Each file is written atomically; run_dir is created.
Status WriteRunRecord(const Composed& composed, const std::string& run_dir);

}  // namespace forja::config
