// forja rollout's options, read strictly: the steps, durations, thresholds and the
// metric sources. Each parser answers one line naming the option and what to write.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "forja/core/status.h"

namespace forja::rollout {

// --min-quality METRIC>=X: the candidate's quality from feedback (forja_model_quality{metric}).
struct QualityMin {
  std::string metric;
  double min = 0;
};

// What a step must show to pass. Unset thresholds are not checked.
struct Thresholds {
  std::optional<double> max_error_rate;  // a share, 0..1 (--max-error-rate 1% is 0.01)
  std::optional<double> max_p99_ms;
  std::optional<QualityMin> min_quality;
  std::optional<double> max_drift;  // forja_model_dataset_drift_share, 0..1
  int64_t min_requests = 1;         // fewer candidate requests in a step: not a pass
};

struct Options {
  std::string name;
  std::string target;  // "Production", "Staging" or "@alias"
  int64_t to_version = 0;
  std::vector<int> steps;  // increasing, 1..100
  int64_t interval_ms = 60000;
  int64_t apply_timeout_ms = 30000;
  Thresholds thresholds;
  std::vector<std::string> servers;  // forja serve base URLs (their /metrics is scraped)
  std::string prometheus;            // or a Prometheus base URL
};

// "5,25,50,100": whole percents, strictly increasing, each 1..100.
Result<std::vector<int>> ParseSteps(const std::string& text);
// "60s", "500ms", "2m", "1h", or whole seconds ("60"); at least 1 ms. `option` names it in errors.
Result<int64_t> ParseDurationMs(const std::string& text, const std::string& option);
// "1%" -> 0.01, "0.5%" -> 0.005, or a share "0.01"; 0..1.
Result<double> ParseShare(const std::string& text, const std::string& option);
// "accuracy>=0.9" (spaces allowed around >=).
Result<QualityMin> ParseQualityMin(const std::string& text);
// An http:// or https:// base URL without a query; the trailing '/' removed.
Result<std::string> ParseBaseUrl(const std::string& text, const std::string& option);

// User text quoted in an error: control characters shown as '?', at most 80 bytes, so an
// error stays one line whatever was typed.
std::string ShownInput(const std::string& text);

// The steps as the store keeps them: "5,25,50,100".
std::string StepsText(const std::vector<int>& steps);

}  // namespace forja::rollout
