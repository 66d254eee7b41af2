// The output folder of a run whose config uses Hydra's runtime
// (Composed::uses_hydra): hydra.runtime.output_dir, made with its record as
// Hydra makes it, for `forja run` to give to its stages.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "forja/core/status.h"

namespace forja::config {

struct Composed;

struct HydraOutput {
  std::string dir;     // hydra.runtime.output_dir, absolute; "" when the config does not use Hydra
  bool chdir = false;  // hydra.job.chdir: the job (a stage's @forja.main) runs in dir
  std::vector<std::pair<std::string, std::string>> env;  // hydra.job.env_set, for the stages
};

// Creates hydra.runtime.output_dir and, unless hydra.output_subdir is null,
// its record <output_subdir>/config.yaml (resolved), hydra.yaml and
// overrides.yaml; and writes the hydra node to <run_dir>/hydra.yaml (what a
// stage's @forja.main reads, $FORJA_HYDRA). Nothing is made when the config
// does not use Hydra.
Result<HydraOutput> PrepareHydraOutput(const Composed& composed, const std::string& run_dir);

}  // namespace forja::config
