// Prometheus alerting rules over the metrics `forja serve` exports (docs/monitoring.md, "Grafana
// and alerts"): a model version's data drifting, a column drifting, answers failing, slow
// answers, and a loaded version getting no traffic. `forja monitor alerts` writes them; the
// thresholds come from forja.yaml's monitoring.alerts. Rules only over metrics that exist:
// quality and staleness rules come with their metrics.
#pragma once

#include <string>
#include <string_view>

#include "forja/core/status.h"

namespace forja::monitor {

// forja.yaml's monitoring.alerts, with its defaults.
struct AlertThresholds {
  std::string drift_for = "10m";       // a Prometheus duration: how long drift must last
  double error_rate = 0.05;            // share of 5xx answers over 5 minutes, in (0, 1]
  double p99_seconds = 0.5;            // 99th percentile of the time to answer, > 0
  std::string no_traffic_for = "30m";  // how long a loaded version may go without a request
};

// Reads a duration as Prometheus writes one ("90s", "10m", "1h30m", "1d"; units y w d h m s ms,
// each at most once, largest first) into seconds. A number without a unit is refused: the
// rules' `for:` would read it otherwise than the user meant.
Result<double> ParsePromDuration(std::string_view text);

// Refuses thresholds a rule cannot use, naming the key: "monitoring.alerts.error_rate: must be
// between 0 and 1 (got 5)".
Status CheckAlertThresholds(const AlertThresholds& t);

// The rules file (YAML, Prometheus 2.x's rule_files format): groups forja-model-drift and
// forja-serving. Every alert has labels.severity and annotations summary, description and
// runbook (what to look at, what to do).
std::string AlertRulesYaml(const AlertThresholds& t);

}  // namespace forja::monitor
