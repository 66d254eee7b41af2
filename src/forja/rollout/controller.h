// The rollout's loop: each step's weight written to the store (every forja serve that
// follows the model reads it from there), waited for until every server shows it, held
// for the interval while the candidate's numbers are measured, checked; then the final
// promotion through the registry's gates. Any failure ends it at weight 0 with a
// message that names the check and its numbers.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "forja/core/status.h"
#include "forja/meta/store.h"
#include "forja/rollout/options.h"
#include "forja/rollout/source.h"

namespace forja::rollout {

struct Hooks {
  // The final move of the version to the target: the caller's registry::Promote (the
  // gates and roles `forja models promote` applies). A failure rolls back.
  std::function<Status()> promote;
  // Non-empty when the controller must stop ("SIGINT"): the rollout is aborted.
  std::function<std::string()> stop;
  // One line of progress (the caller decides whether a terminal shows it).
  std::function<void(const std::string&)> progress;
  // Waits; tests may replace it. Default: sleeps.
  std::function<void(int64_t ms)> sleep_ms;
};

// Runs the rollout `begun` (BeginRollout's record) to its end and returns the final
// record: completed, rolled_back or aborted, weight 0 unless completed.
meta::Rollout Run(meta::MetaStore& store, const Options& o, meta::Rollout begun, MetricsSource& source,
                  const Hooks& hooks);

}  // namespace forja::rollout
