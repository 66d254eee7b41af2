// Prometheus alerting rules over the metrics `forja serve` exports (docs/monitoring.md, "Grafana
// and alerts"): a model version's data drifting, a column drifting, answers failing, slow
// answers, a loaded version getting no traffic, and a version gone stale (forja_model_stale_reason,
// whose thresholds are forja serve's monitoring.staleness). `forja monitor alerts` writes them; the
// thresholds come from forja.yaml's monitoring.alerts, and quality from feedback failing a
// production gate (forja_model_quality against the gates in forja.yaml's models:).
#pragma once

#include <string>
#include <vector>

namespace forja::monitor {

// A production gate on a quality metric (forja.yaml models.NAME.gates.production, e.g.
// metrics.accuracy >= 0.9), which the quality from feedback of the served versions should pass.
struct QualityGate {
  std::string model;   // "*": every model
  std::string metric;  // forja_model_quality's metric label (QualityMetricOfGate)
  std::string op;      // >=, >, <=, < (the comparison that passes)
  double threshold = 0;
  std::string text;    // the gate as written, for the annotations
};

// The forja_model_quality metric a gate's metric key names: accuracy, precision, recall,
// roc_auc (also auc), log_loss (also logloss), mae, rmse, mape; "" for any other key.
std::string QualityMetricOfGate(const std::string& key);

// forja.yaml's monitoring.alerts, with its defaults (serve/config.cc reads the section, for
// forja serve and for `forja monitor alerts` alike).
struct AlertThresholds {
  double drift_for_s = 600;        // how long drift must last
  double error_rate = 0.05;        // share of 5xx answers over 5 minutes
  double p99_seconds = 0.5;        // 99th percentile of the time to answer
  double no_traffic_for_s = 1800;  // how long a loaded version may go without a request
  double quality_for_s = 900;      // how long quality from feedback must fail a production gate
  double quality_min_labels = 50;  // labels in the window before quality is judged at all
  std::vector<QualityGate> quality_gates;  // one ForjaModelQualityBelowGate rule each
};

// Seconds as a Prometheus duration, to the millisecond: 600 -> "10m", 5400 -> "1h30m",
// 0.25 -> "250ms", 0 -> "0s".
std::string PromDuration(double seconds);

// The rules file (YAML, Prometheus 2.x's rule_files format): groups forja-model-drift,
// forja-serving, forja-model-staleness and, with quality gates, forja-model-quality. Every alert has labels.severity and annotations summary, description and
// runbook (what to look at, what to do).
std::string AlertRulesYaml(const AlertThresholds& t);

}  // namespace forja::monitor
