#include "forja/monitor/alert_rules.h"

#include <cmath>
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
  return {
      {"ForjaModelDataDrift",
       // The share as the value, so that the annotations can say how much drifted.
       "forja_model_dataset_drift_share\n  and (forja_model_dataset_drifted == 1)", t.drift_for, "warning",
       "{{ $labels.model }} version {{ $labels.version }}: the data it scores has drifted from its reference",
       "{{ $value | humanizePercentage }} of the monitored columns of {{ $labels.model }}/{{ $labels.version }} "
       "drift from the reference profile (the dataset threshold is reached), for " +
           t.drift_for + " now.",
       "Open the model health dashboard (forja monitor grafana) to see which columns drift and how far; run "
       "`forja monitor report --reference {{ $labels.model }}/{{ $labels.version }} --current RECENT.csv` on "
       "recent inputs for the per-column verdicts. If an upstream change broke the inputs (a unit, an encoding, a missing "
       "feed), fix the source; if the world changed, retrain on recent data and promote the new version "
       "through the registry's gates."},
      {"ForjaModelColumnDrift",
       // The score as the value and the test as a label (method), from the drift score series.
       "forja_model_drift_score\n  and ignoring (method) (forja_model_column_drifted == 1)", t.drift_for, "info",
       "{{ $labels.model }} version {{ $labels.version }}: column {{ $labels.column }} drifted",
       "Column {{ $labels.column }} of {{ $labels.model }}/{{ $labels.version }} drifts from the reference "
       "({{ $labels.method }} score {{ $value | printf \"%.3g\" }}), for " +
           t.drift_for + " now.",
       "Compare the column's live distribution with the reference in the model health dashboard. One "
       "drifting column is often an upstream change to that feature: check the producer of "
       "{{ $labels.column }}. If several columns drift, see ForjaModelDataDrift."},
  };
}

std::vector<Rule> ServingRules(const AlertThresholds& t) {
  std::string rate = kRate;
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
       t.no_traffic_for, "warning",
       "{{ $labels.model }} version {{ $labels.version }} has had no request for " + t.no_traffic_for,
       "forja serve on {{ $labels.instance }} has {{ $labels.model }}/{{ $labels.version }} loaded "
       "({{ $labels.role }}) but answered no request for it in " +
           t.no_traffic_for + ".",
       "Check the clients and whatever routes traffic to forja serve (load balancer, DNS, the model name in "
       "the clients' URLs). If the model was retired on purpose, stop serving it."},
  };
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

Result<double> ParsePromDuration(std::string_view text) {
  // Prometheus' units, largest first; each may appear once, in this order.
  static const struct {
    std::string_view unit;
    double seconds;
  } kUnits[] = {{"y", 365 * 86400.0}, {"w", 7 * 86400.0}, {"d", 86400}, {"h", 3600},
                {"m", 60},            {"s", 1},           {"ms", 0.001}};
  auto bad = [&] {
    return Status::User("'" + std::string(text) + "' is not a duration (a number and a unit: 30s, 10m, 1h30m, 1d)");
  };
  if (text.empty()) return bad();
  double total = 0;
  size_t next_unit = 0, i = 0;
  while (i < text.size()) {
    size_t digits = i, letters;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') i++;
    for (letters = i; i < text.size() && text[i] >= 'a' && text[i] <= 'z'; i++) {
    }
    if (letters == digits || letters - digits > 12) return bad();
    std::string_view unit = text.substr(letters, i - letters);
    size_t u = next_unit;
    while (u < std::size(kUnits) && kUnits[u].unit != unit) u++;
    if (u == std::size(kUnits)) return bad();
    total += std::stod(std::string(text.substr(digits, letters - digits))) * kUnits[u].seconds;
    next_unit = u + 1;
  }
  return total;
}

Status CheckAlertThresholds(const AlertThresholds& t) {
  auto field = [](const char* key, const std::string& what) {
    return Status::User(std::string("monitoring.alerts.") + key + ": " + what);
  };
  auto drift_for = ParsePromDuration(t.drift_for);
  if (!drift_for.ok()) return field("drift_for", drift_for.status().message());
  auto no_traffic = ParsePromDuration(t.no_traffic_for);
  if (!no_traffic.ok()) return field("no_traffic_for", no_traffic.status().message());
  if (*no_traffic <= 0) return field("no_traffic_for", "must be longer than 0s");
  if (!(t.error_rate > 0 && t.error_rate <= 1))
    return field("error_rate", "must be a share above 0 and at most 1 (got " + Number(t.error_rate) + ")");
  if (!(t.p99_seconds > 0 && std::isfinite(t.p99_seconds)))
    return field("p99_seconds", "must be a number of seconds above 0 (got " + Number(t.p99_seconds) + ")");
  return Status::Ok();
}

std::string AlertRulesYaml(const AlertThresholds& t) {
  std::string out =
      "# Prometheus alerting rules for forja serve's metrics, written by `forja monitor alerts`.\n"
      "# Thresholds (forja.yaml monitoring.alerts): drift_for " +
      t.drift_for + ", error_rate " + Number(t.error_rate) + ", p99_seconds " + Number(t.p99_seconds) +
      ", no_traffic_for " + t.no_traffic_for +
      ".\n"
      "# Load it with rule_files: in prometheus.yml; check it with `promtool check rules FILE`.\n"
      "groups:\n";
  AppendGroup(&out, "forja-model-drift", DriftRules(t));
  AppendGroup(&out, "forja-serving", ServingRules(t));
  return out;
}

}  // namespace forja::monitor
