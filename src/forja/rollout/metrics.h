// What a step of a rollout measures, from forja serve's /metrics (Prometheus text) or a
// Prometheus server: the candidate version's request counts by code, its latency
// histogram, its quality and drift gauges, and the rollout gauges the servers export
// once they apply a step. Counters are read at a step's start and end; a step's numbers
// are the difference (a server restarted in between counts from zero).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "forja/core/status.h"

namespace forja::rollout {

struct Sample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;

  // The label's value, or nullptr when the sample has no such label.
  const std::string* Label(std::string_view key) const;
};

// Parses Prometheus' text exposition format (0.0.4), hostile-input safe: at most 64 MiB,
// 1,000,000 samples, 64 labels a sample; an error names the line. `keep` (when set)
// filters samples by metric name before they are stored.
Result<std::vector<Sample>> ParsePromText(std::string_view text, bool (*keep)(std::string_view name) = nullptr);

// The candidate version's counters and gauges on one server (or summed over servers).
struct VersionCounters {
  double requests = 0;  // forja_serve_requests_total, every code
  double errors = 0;    // the 5xx among them
  std::map<double, double> buckets;  // forja_serve_request_duration_seconds_bucket: le -> cumulative count
  std::map<std::string, double> quality;  // forja_model_quality{metric}
  std::optional<double> drift;            // forja_model_dataset_drift_share

  // Adds another server's counters (gauges: the lowest quality and the highest drift).
  void Add(const VersionCounters& o);
};

// What a server says about the rollout: the weight gauge it exports once it applies a step.
struct RolloutGauge {
  std::optional<int> weight;  // forja_serve_rollout_weight; absent when no rollout applies
  bool refused = false;       // forja_serve_rollout_refused: the candidate failed to load
};

VersionCounters ExtractVersion(const std::vector<Sample>& samples, const std::string& model, const std::string& version);
RolloutGauge ExtractRollout(const std::vector<Sample>& samples, const std::string& model, const std::string& version,
                            const std::string& rollout_id);
// Whether the sample's metric is one the two above read (ParsePromText's `keep`).
bool RolloutMetric(std::string_view name);

// One step's numbers for the candidate.
struct StepMetrics {
  double requests = 0, errors = 0;
  double error_rate = 0;         // errors / requests (0 without requests)
  std::optional<double> p99_ms;  // from the histogram's buckets; none without requests
  std::map<std::string, double> quality;
  std::optional<double> drift;
};

// One server's counters over a step: end minus start for the counters (a counter that
// went down, a server restarted, counts from zero: its end value); gauges as at the end.
VersionCounters CounterDelta(const VersionCounters& start, const VersionCounters& end);

// The step's numbers from its counters (CounterDelta's, summed over the servers with Add).
StepMetrics Summarize(const VersionCounters& step);

// histogram_quantile as Prometheus computes it: linear within the bucket the rank falls
// in; the highest finite bound when it falls in +Inf. None when the histogram is empty.
std::optional<double> Quantile(double q, const std::map<double, double>& cumulative);

// "120 requests, 3 errors (2.50%), p99 12.4 ms, accuracy 0.91, drift 0.10"
std::string Describe(const StepMetrics& m);

}  // namespace forja::rollout
