// Prometheus alerting rules over the metrics `forja serve` exports (docs/monitoring.md, "Grafana
// and alerts"): a model version's data drifting, a column drifting, answers failing, slow
// answers, and a loaded version getting no traffic. `forja monitor alerts` writes them; the
// thresholds come from forja.yaml's monitoring.alerts. Rules only over metrics that exist:
// quality and staleness rules come with their metrics.
#pragma once

#include <string>

namespace forja::monitor {

// forja.yaml's monitoring.alerts, with its defaults (serve/config.cc reads the section, for
// forja serve and for `forja monitor alerts` alike).
struct AlertThresholds {
  double drift_for_s = 600;        // how long drift must last
  double error_rate = 0.05;        // share of 5xx answers over 5 minutes
  double p99_seconds = 0.5;        // 99th percentile of the time to answer
  double no_traffic_for_s = 1800;  // how long a loaded version may go without a request
};

// Seconds as a Prometheus duration, to the millisecond: 600 -> "10m", 5400 -> "1h30m",
// 0.25 -> "250ms", 0 -> "0s".
std::string PromDuration(double seconds);

// The rules file (YAML, Prometheus 2.x's rule_files format): groups forja-model-drift and
// forja-serving. Every alert has labels.severity and annotations summary, description and
// runbook (what to look at, what to do).
std::string AlertRulesYaml(const AlertThresholds& t);

}  // namespace forja::monitor
