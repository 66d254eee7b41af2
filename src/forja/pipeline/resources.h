// What a stage asks of the machine that runs it: forja.yaml's per-stage
//   resources: {cpus: 4, mem: 16G, gpus: 1, time: 2h, constraint: a100}
// A cluster executor turns them into its own requests (Slurm: --cpus-per-task,
// --mem, --gpus, --time, --constraint); locally only cpus counts, as that many
// of -j's slots (runner.cc).
#pragma once

#include <string>

namespace forja::pipeline {

struct Resources {
  int cpus = 0;            // 0 = the engine's default
  std::string mem;         // "16G", "512M" (digits and one of K, M, G, T); "" = default
  int gpus = 0;
  double time_s = 0;       // the engine's wall-time limit; 0 = from the stage's timeout
  std::string constraint;  // node features, as the engine writes them ("a100", "a100|h100")
  bool empty() const { return cpus == 0 && mem.empty() && gpus == 0 && time_s == 0 && constraint.empty(); }
};

}  // namespace forja::pipeline
