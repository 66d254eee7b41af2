#include "forja/rollout/checks.h"

#include <cstdio>

namespace forja::rollout {

namespace {

Verdict Fail(const char* check, const std::string& message) { return {false, check, message}; }

std::string Num(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

}  // namespace

Verdict CheckStep(const StepMetrics& m, const Thresholds& t) {
  if (m.requests < static_cast<double>(t.min_requests))
    return Fail("min-requests", "the candidate answered " + Num("%.0f", m.requests) + " requests in the step, fewer than " +
                                    std::to_string(t.min_requests) + " (--min-requests): no traffic reached it, nothing was proven");
  if (t.max_error_rate && m.error_rate > *t.max_error_rate)
    return Fail("max-error-rate", "error rate " + Num("%.2f%%", m.error_rate * 100) + " (" + Num("%.0f", m.errors) + " of " +
                                      Num("%.0f", m.requests) + " requests answered 5xx) > max " +
                                      Num("%.2f%%", *t.max_error_rate * 100));
  if (t.max_p99_ms) {
    if (!m.p99_ms) return Fail("max-p99-ms", "no latency histogram of the candidate on any server");
    if (*m.p99_ms > *t.max_p99_ms)
      return Fail("max-p99-ms", "p99 latency " + Num("%.1f", *m.p99_ms) + " ms (" + Num("%.0f", m.requests) +
                                    " requests) > max " + Num("%.1f", *t.max_p99_ms) + " ms");
  }
  if (t.min_quality) {
    auto it = m.quality.find(t.min_quality->metric);
    if (it == m.quality.end())
      return Fail("min-quality", "no server reports the candidate's " + t.min_quality->metric +
                                     " (forja_model_quality: no labels through /feedback yet, or quality is not tracked)");
    if (it->second < t.min_quality->min)
      return Fail("min-quality", t.min_quality->metric + " " + Num("%.4g", it->second) + " < min " + Num("%.4g", t.min_quality->min));
  }
  if (t.max_drift) {
    if (!m.drift)
      return Fail("max-drift", "no server reports the candidate's drift (forja_model_dataset_drift_share: the version has "
                               "no reference profile, or monitoring is off)");
    if (*m.drift > *t.max_drift)
      return Fail("max-drift", "drift share " + Num("%.3g", *m.drift) + " > max " + Num("%.3g", *t.max_drift));
  }
  return {};
}

}  // namespace forja::rollout
