// Whether a step of a rollout passes: its numbers (metrics.h) against the thresholds
// (options.h). A step with too few candidate requests is not a pass: a canary that
// received no traffic proved nothing.
#pragma once

#include <string>

#include "forja/rollout/metrics.h"
#include "forja/rollout/options.h"

namespace forja::rollout {

struct Verdict {
  bool pass = true;
  std::string check;    // the failed check: "min-requests", "max-error-rate", "max-p99-ms", "min-quality", "max-drift"
  std::string message;  // one line with the numbers: "error rate 12.50% (5 of 40 requests) > max 1.00%"
};

// Checks in the order above; the first failure is the verdict.
Verdict CheckStep(const StepMetrics& m, const Thresholds& t);

}  // namespace forja::rollout
