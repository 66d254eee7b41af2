// forja predict --executor slurm --shards N: batch scoring across a Slurm cluster's nodes.
// It lives in the cli layer because it joins two modules that must not know each other
// (batch scores a shard; pipeline's Slurm executor submits and watches jobs).
//
// Each shard is `forja predict ... --shard i/N -o OUT.parts/part-0000i.EXT`, one task of
// a job array; a part appears only when its shard is complete (batch/predict.h), so
// OUT.parts/ tells a rerun what is done. OUT.parts/manifest names the command the parts
// belong to: a different command (input changed, other model or options) starts afresh.
// A failed shard is resubmitted alone (up to --retries times); Ctrl-C / SIGTERM scancels
// the shards. When every part is there, they are joined in shard order (CSV: one header)
// into a temporary file renamed to OUT, and OUT.parts/ is removed.
#pragma once

#include <string>
#include <vector>

namespace forja {

struct SlurmPredictJob {
  std::string ref;                   // pinned: NAME/VERSION or a package folder
  std::string input, output;         // as given
  std::string output_format;         // "csv" or "jsonl" (resolved)
  std::vector<std::string> passthru;  // options every shard gets (--keep, --exclude, ...)
  int shards = 1;
  int retries = 1;  // per shard
  bool quiet = false;
};

// Returns the process exit code (0, 1 for a shard that kept failing, 130 on Ctrl-C).
int RunSlurmPredict(const SlurmPredictJob& job, const std::string& workspace_root);

}  // namespace forja
