// forja.yaml's monitoring section: how forja serve watches drift (monitoring.h), and the
// thresholds the generated alert rules use.
//
//   monitoring:
//     window: 10m            # live statistics cover the last window (a number: seconds; ms, s, m, h, d)
//     interval: 30s          # drift computed and /metrics refreshed this often
//     max_columns: 100       # per-column series per version at most
//     max_predictions: 200000  # predicted values kept for feedback labels to join (0: no quality)
//     task: classification   # or regression: overrides the signature's guess (serve/quality.h)
//     drift_share: 0.5       # the dataset drifts when this share of tested columns does
//     alerts: {drift_for: 10m, error_rate: 0.05, p99_seconds: 0.5, no_traffic_for: 30m,
//              quality_for: 15m, quality_min_labels: 50}
//     staleness: {max_model_age: 90d, max_data_age: 180d, max_since_promotion: 0, drifted_for: 1h}   # 0: off
//     models:                # per model: window, interval, max_columns, and
//       churn: {window: 1h, profile: monitoring/churn.json}   # a profile file instead of the registry's
//       fraud: {reference: data/train.csv, target: label, exclude: [id]}   # profiled at register
//
// A relative profile path is relative to the workspace root (`base_dir`).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "forja/core/status.h"
#include "forja/monitor/alert_rules.h"
#include "forja/monitor/staleness.h"

namespace forja {
struct ForjaYaml;
}  // namespace forja

namespace forja::serve {

// One model's settings (the section's defaults, then its `models:` entry).
struct MonitorOptions {
  double window_s = 600;
  double interval_s = 30;
  int max_columns = 100;
  double drift_share = 0.5;
  // Quality from feedback (serve/quality.h): predicted values (rows x values per row) kept for
  // labels to join (0: quality not tracked), and classification | regression when the signature is not enough.
  int max_predictions = 200000;
  std::string task;
  std::string profile;  // a profile file (resolved against base_dir); empty: the registry's
  monitor::StalenessThresholds staleness;  // staleness: {max_model_age: 90d, ...} (docs/monitoring.md, "Staleness")
  // The reference data `forja models register` profiles (models.NAME only): a CSV file in the
  // workspace (empty: found through the run's lineage), its target column and the columns that
  // are not features.
  std::string reference, target;
  std::vector<std::string> exclude;
};

struct MonitoringConfig {
  MonitorOptions defaults;
  std::map<std::string, MonitorOptions> models;
  std::string base_dir;  // where relative profile paths start (the workspace root)
  // The production gates on quality metrics (forja.yaml's models.NAME.gates.production): the
  // quality from feedback is held to them (the stale reason "quality", ForjaModelQualityBelowGate).
  std::vector<monitor::QualityGate> quality_gates;
  struct Alerts {
    double drift_for_s = 600;
    double error_rate = 0.05;
    double p99_seconds = 0.5;
    double no_traffic_for_s = 1800;
    double quality_for_s = 900;      // quality from feedback failing a production gate this long
    double quality_min_labels = 50;  // labels in the window before quality is judged
  } alerts;

  const MonitorOptions& For(const std::string& model) const {
    auto it = models.find(model);
    return it == models.end() ? defaults : it->second;
  }
};

// The monitoring: section of forja.yaml into cfg (absent: nothing changes). Errors name
// "forja.yaml:<line>: monitoring.<field>: <what>"; unknown keys are errors.
Status MonitoringConfigOf(const ForjaYaml& doc, MonitoringConfig* cfg);

}  // namespace forja::serve
