#include "forja/monitor/alert_rules.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <vector>

#include "forja/core/json.h"

namespace forja::monitor {

namespace {

// One alerting rule as the file shows it.
struct Rule {
  const char* name;
  std::string expr;         // PromQL, written as a YAML block so that quotes stay readable
  std::string for_;         // a Prometheus duration
  const char* severity;     // critical | warning | info
  std::string summary;      // one line, with {{ $labels.x }} and {{ $value }} templates
  std::string description;  // what happened, with the numbers
  std::string runbook;      // what to look at and what to do
  std::string gate;         // a label "gate" (quality rules: one rule per gate, told apart by it)
};

std::string Number(double v) {
  std::string s;
  AppendDouble(&s, v);
  return s;
}

// The serving rules read rates over this window: long enough for a few scrapes at the usual
// 15-30 s interval, short enough that a failing deployment shows within minutes.
constexpr const char* kRate = "5m";

std::vector<Rule> DriftRules(const AlertThresholds& t) {
  const std::string drift_for = PromDuration(t.drift_for_s);
  return {
      {"ForjaModelDataDrift",
       // The share as the value, so that the annotations can say how much drifted.
       "forja_model_dataset_drift_share\n  and (forja_model_dataset_drifted == 1)", drift_for, "warning",
       "{{ $labels.model }} version {{ $labels.version }}: the data it scores has drifted from its reference",
       "{{ $value | humanizePercentage }} of the monitored columns of {{ $labels.model }}/{{ $labels.version }} "
       "drift from the reference profile (the dataset threshold is reached), for " +
           drift_for + " now.",
       "Open the model health dashboard (forja monitor grafana) to see which columns drift and how far; run "
       "`forja monitor report --reference {{ $labels.model }}/{{ $labels.version }} --current RECENT.csv` on "
       "recent inputs for the per-column verdicts. If an upstream change broke the inputs (a unit, an encoding, a missing "
       "feed), fix the source; if the world changed, retrain on recent data and promote the new version "
       "through the registry's gates."},
      {"ForjaModelColumnDrift",
       // The score as the value and the test as a label (method), from the drift score series.
       "forja_model_drift_score\n  and ignoring (method) (forja_model_column_drifted == 1)", drift_for, "info",
       "{{ $labels.model }} version {{ $labels.version }}: column {{ $labels.column }} drifted",
       "Column {{ $labels.column }} of {{ $labels.model }}/{{ $labels.version }} drifts from the reference "
       "({{ $labels.method }} score {{ $value | printf \"%.3g\" }}), for " +
           drift_for + " now.",
       "Compare the column's live distribution with the reference in the model health dashboard. One "
       "drifting column is often an upstream change to that feature: check the producer of "
       "{{ $labels.column }}. If several columns drift, see ForjaModelDataDrift."},
  };
}

std::vector<Rule> ServingRules(const AlertThresholds& t) {
  const std::string rate = kRate, no_traffic_for = PromDuration(t.no_traffic_for_s);
  std::string share = Number(t.error_rate);
  return {
      {"ForjaServeErrorRate",
       "sum without (code) (rate(forja_serve_http_responses_total{code=~\"5..\"}[" + rate +
           "]))\n  / sum without (code) (rate(forja_serve_http_responses_total[" + rate + "]))\n  > " + share,
       "5m", "critical", "forja serve on {{ $labels.instance }} answers {{ $value | humanizePercentage }} of requests with 5xx",
       "More than " + share + " of the HTTP answers of forja serve on {{ $labels.instance }} were server errors over the last " +
           rate + " (all routes, all models).",
       "Read forja serve's log on {{ $labels.instance }}: a model that fails to load or predict, a full "
       "queue (503), timeouts (504). Check forja_serve_requests_total by model and version to find the "
       "version that fails; roll back with `forja models promote` to the previous version if a new one "
       "brought the errors."},
      {"ForjaModelErrorRate",
       "sum without (code) (rate(forja_serve_requests_total{code=~\"5..\"}[" + rate +
           "]))\n  / sum without (code) (rate(forja_serve_requests_total[" + rate + "]))\n  > " + share,
       "5m", "critical",
       "{{ $labels.model }} version {{ $labels.version }} answers {{ $value | humanizePercentage }} of its requests with 5xx",
       "More than " + share + " of the inference requests to {{ $labels.model }}/{{ $labels.version }} failed with a server error over the last " +
           rate + ".",
       "Read forja serve's log for {{ $labels.model }}/{{ $labels.version }}: prediction errors, a runtime "
       "that died, a full queue. If this version is new, roll back to the previous one (`forja models "
       "promote`); otherwise check the model's runtime (python workers, memory)."},
      {"ForjaModelLatencyP99",
       "histogram_quantile(0.99, rate(forja_serve_request_duration_seconds_bucket[" + rate + "]))\n  > " +
           Number(t.p99_seconds),
       "5m", "warning",
       "{{ $labels.model }} version {{ $labels.version }}: p99 latency {{ $value | humanizeDuration }}",
       "The 99th percentile of the time forja serve takes to answer {{ $labels.model }}/{{ $labels.version }} "
       "is above " + Number(t.p99_seconds) + " s over the last " + rate + ".",
       "Look at the serving dashboard: a growing queue (forja_serve_queue_rows, forja_serve_queue_seconds) "
       "means more traffic than workers; raise serving.workers or max_batch_size in forja.yaml, or add "
       "replicas. Slow answers without a queue point at the model itself (a bigger version, a slow runtime)."},
      {"ForjaModelNoTraffic",
       // Loaded versions (forja_serve_model_info) with no request over the rate window.
       "forja_serve_model_info\n  unless ignoring (ref, platform, role)\n  (sum without (code) (rate(forja_serve_requests_total[" +
           rate + "])) > 0)",
       no_traffic_for, "warning",
       "{{ $labels.model }} version {{ $labels.version }} has had no request for " + no_traffic_for,
       "forja serve on {{ $labels.instance }} has {{ $labels.model }}/{{ $labels.version }} loaded "
       "({{ $labels.role }}) but answered no request for it in " +
           no_traffic_for + ".",
       "Check the clients and whatever routes traffic to forja serve (load balancer, DNS, the model name in "
       "the clients' URLs). If the model was retired on purpose, stop serving it."},
  };
}

// One alert per version and reason (the reason a label): the runbook says what each one asks for.
std::vector<Rule> StalenessRules() {
  return {
      {"ForjaModelStale", "forja_model_stale_reason == 1", "5m", "warning",
       "{{ $labels.model }} version {{ $labels.version }} is stale: {{ $labels.reason }}",
       "forja serve finds {{ $labels.model }}/{{ $labels.version }} stale for the reason {{ $labels.reason }} "
       "(forja.yaml's monitoring.staleness thresholds), for 5m now.",
       "Run `forja monitor report --reference {{ $labels.model }}/{{ $labels.version }} --current RECENT.csv` for the "
       "ages and where they come from. model_age: the model was trained longer ago than max_model_age; "
       "data_age: its training data (from the run's lineage) is older than max_data_age; retrain on fresh data "
       "and promote the new version through the registry's gates. since_promotion: nobody has promoted it for "
       "max_since_promotion; review it and promote again, or retire it. drift: its inputs have drifted for longer "
       "than drifted_for (see ForjaModelDataDrift and the model health dashboard); retrain on recent data. "
       "quality: the quality from feedback is below its threshold; compare with the previous version and roll "
       "back (`forja models promote`) or retrain."},
  };
}

// Quality from feedback against each production gate on a quality metric: the alert fires while
// the version's quality fails the gate, once the window holds quality_min_labels labels.
std::vector<Rule> QualityRules(const AlertThresholds& t) {
  static const struct {
    const char* op;
    const char* fails;  // the comparison that fails the gate
    const char* word;   // what a failing value is
  } kOps[] = {{">=", "<", "below"}, {">", "<=", "not above"}, {"<=", ">", "above"}, {"<", ">=", "not below"}};
  const std::string quality_for = PromDuration(t.quality_for_s);
  std::vector<Rule> rules;
  for (const QualityGate& g : t.quality_gates) {
    const auto* op = std::find_if(std::begin(kOps), std::end(kOps), [&](const auto& o) { return g.op == o.op; });
    if (op == std::end(kOps) || g.metric.empty()) continue;
    std::string matchers = (g.model == "*" ? std::string() : "model=" + JsonQuote(g.model) + ",") + "metric=" + JsonQuote(g.metric);
    std::string gate = g.model == "*" ? "the production gate of every model" : "the production gate of " + g.model;
    rules.push_back(
        {"ForjaModelQualityBelowGate",
         "forja_model_quality{" + matchers + "}\n  " + op->fails + " " + Number(g.threshold) +
             "\n  and on (instance, model, version) (forja_model_quality_window_labels >= " + Number(t.quality_min_labels) + ")",
         quality_for, "warning",
         "{{ $labels.model }} version {{ $labels.version }}: {{ $labels.metric }} from feedback fails the production gate",
         "The {{ $labels.metric }} of {{ $labels.model }}/{{ $labels.version }} from the labels posted to /feedback is "
         "{{ $value | printf \"%.4g\" }}, " + std::string(op->word) + " " + Number(g.threshold) + " (" + gate + ": " + g.text + "), for " +
             quality_for + " now.",
         "Open the model health dashboard: compare the quality from feedback with its estimate from the predicted "
         "probabilities (a gap means the scores are no longer calibrated) and with the data drift of the same window. "
         "If the labels are right and drift explains it, retrain on recent data and promote through the gates; if a "
         "new version brought it, roll back with `forja models promote` to the previous version.",
         g.text});
  }
  return rules;
}

void AppendRule(std::string* out, const Rule& r) {
  *out += "      - alert: ";
  *out += r.name;
  *out += "\n        expr: |-\n          ";
  for (char c : r.expr) {
    *out += c;
    if (c == '\n') *out += "          ";
  }
  *out += "\n        for: " + r.for_ + "\n";
  *out += "        labels:\n          severity: ";
  *out += r.severity;
  if (!r.gate.empty()) *out += "\n          gate: " + JsonQuote(r.gate);
  *out += "\n        annotations:\n";
  *out += "          summary: " + JsonQuote(r.summary) + "\n";
  *out += "          description: " + JsonQuote(r.description) + "\n";
  *out += "          runbook: " + JsonQuote(r.runbook) + "\n";
}

void AppendGroup(std::string* out, const char* name, const std::vector<Rule>& rules) {
  *out += "  - name: ";
  *out += name;
  *out += "\n    rules:\n";
  for (const Rule& r : rules) AppendRule(out, r);
}

}  // namespace

std::string QualityMetricOfGate(const std::string& key) {
  static const struct {
    const char* key;
    const char* metric;
  } kNames[] = {{"accuracy", "accuracy"}, {"precision", "precision"}, {"recall", "recall"}, {"roc_auc", "roc_auc"},
                {"auc", "roc_auc"},       {"log_loss", "log_loss"},   {"logloss", "log_loss"}, {"mae", "mae"},
                {"rmse", "rmse"},         {"mape", "mape"}};
  for (const auto& n : kNames)
    if (key == n.key) return n.metric;
  return "";
}

std::string PromDuration(double seconds) {
  static const struct {
    const char* unit;
    int64_t ms;
  } kUnits[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
  int64_t ms = std::llround(seconds * 1000);
  if (ms <= 0) return "0s";
  std::string out;
  for (const auto& u : kUnits) {
    if (ms < u.ms) continue;
    out += std::to_string(ms / u.ms) + u.unit;
    ms %= u.ms;
  }
  return out;
}

std::string AlertRulesYaml(const AlertThresholds& t) {
  std::string out =
      "# Prometheus alerting rules for forja serve's metrics, written by `forja monitor alerts`.\n"
      "# Thresholds (forja.yaml monitoring.alerts): drift_for " +
      PromDuration(t.drift_for_s) + ", error_rate " + Number(t.error_rate) + ", p99_seconds " + Number(t.p99_seconds) +
      ", no_traffic_for " + PromDuration(t.no_traffic_for_s) +
      ".\n"
      "# Load it with rule_files: in prometheus.yml; check it with `promtool check rules FILE`.\n"
      "groups:\n";
  AppendGroup(&out, "forja-model-drift", DriftRules(t));
  AppendGroup(&out, "forja-serving", ServingRules(t));
  AppendGroup(&out, "forja-model-staleness", StalenessRules());
  if (std::vector<Rule> quality = QualityRules(t); !quality.empty()) AppendGroup(&out, "forja-model-quality", quality);
  return out;
}

}  // namespace forja::monitor
