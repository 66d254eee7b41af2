// The dashboards are built as JSON values panel by panel; a Board lays panels out two to a
// row. Queries use Grafana's $model and $version variables (multi-value, so =~) and
// $__rate_interval, which Grafana sizes to the scrape interval.
#include "forja/monitor/grafana.h"

#include <nlohmann/json.hpp>

#include "forja/core/json.h"

namespace forja::monitor {

namespace {

using Json = nlohmann::ordered_json;

Json Datasource() { return {{"type", "prometheus"}, {"uid", kGrafanaDatasourceUid}}; }

// The label filter of a dashboard's variables, inside {...}.
constexpr const char* kModelVersion = "model=~\"$model\", version=~\"$version\"";
constexpr const char* kModel = "model=~\"$model\"";

struct Query {
  std::string expr;
  std::string legend;  // legendFormat: "{{model}}/{{version}}"
};

struct PanelSpec {
  const char* type;  // timeseries, stat, heatmap, table
  std::string title;
  std::string description;
  std::vector<Query> queries;
  const char* unit = "short";
  Json options = Json::object();
  bool instant_table = false;  // one row per series, now (table panels)
};

Json TimeseriesOptions() {
  return {{"legend", {{"displayMode", "list"}, {"placement", "bottom"}, {"showLegend", true}, {"calcs", Json::array()}}},
          {"tooltip", {{"mode", "multi"}, {"sort", "desc"}}}};
}

Json StatOptions() {
  return {{"reduceOptions", {{"calcs", Json::array({"lastNotNull"})}, {"fields", ""}, {"values", false}}},
          {"colorMode", "value"},
          {"graphMode", "area"},
          {"justifyMode", "auto"},
          {"orientation", "auto"},
          {"textMode", "auto"}};
}

// Series as rows (one per column), time as columns, colour for the value: no bucketing.
Json HeatmapOptions() {
  return {{"calculate", false},
          {"rowsFrame", {{"layout", "auto"}}},
          {"yAxis", {{"axisPlacement", "left"}}},
          {"color", {{"mode", "scheme"}, {"scheme", "Reds"}, {"fill", "dark-red"}, {"scale", "linear"}, {"steps", 64}}},
          {"cellGap", 1},
          {"showValue", "never"},
          {"legend", {{"show", true}}},
          {"tooltip", {{"mode", "single"}, {"yHistogram", false}}}};
}

PanelSpec Timeseries(std::string title, std::string description, std::vector<Query> queries, const char* unit) {
  return {"timeseries", std::move(title), std::move(description), std::move(queries), unit, TimeseriesOptions()};
}

PanelSpec Stat(std::string title, std::string description, std::vector<Query> queries, const char* unit = "short") {
  return {"stat", std::move(title), std::move(description), std::move(queries), unit, StatOptions()};
}

// A dashboard's panels, laid out two to a row (full width when `wide`).
class Board {
 public:
  void Add(const PanelSpec& p, bool wide = false) {
    int w = wide ? 24 : 12;
    if (x_ + w > 24) NextRow();
    Json targets = Json::array();
    char ref = 'A';
    for (const Query& q : p.queries) {
      Json t = {{"refId", std::string(1, ref++)}, {"datasource", Datasource()}, {"expr", q.expr}};
      if (!q.legend.empty()) t["legendFormat"] = q.legend;
      if (p.instant_table) {
        t["format"] = "table";
        t["instant"] = true;
      } else {
        t["range"] = true;
      }
      targets.push_back(std::move(t));
    }
    Json panel = {{"id", ++id_},
                  {"type", p.type},
                  {"title", p.title},
                  {"description", p.description},
                  {"datasource", Datasource()},
                  {"gridPos", {{"h", 8}, {"w", w}, {"x", x_}, {"y", y_}}},
                  {"targets", std::move(targets)},
                  {"fieldConfig", {{"defaults", {{"unit", p.unit}}}, {"overrides", Json::array()}}},
                  {"options", p.options}};
    if (p.instant_table) {
      // The labels as columns; the sample's time and value say nothing here.
      Json organize = {{"id", "organize"},
                       {"options", {{"excludeByName", {{"Time", true}, {"Value", true}, {"__name__", true}}}}}};
      panel["transformations"] = Json::array({organize});
    }
    panels_.push_back(std::move(panel));
    x_ += w;
  }
  Json panels() const { return panels_; }

 private:
  void NextRow() {
    x_ = 0;
    y_ += 8;
  }
  Json panels_ = Json::array();
  int id_ = 0, x_ = 0, y_ = 0;
};

// A query variable over a label of `metric`, all values selected by default.
Json Variable(const char* name, const char* label, const std::string& query) {
  return {{"type", "query"},
          {"name", name},
          {"label", label},
          {"datasource", Datasource()},
          {"query", query},
          {"refresh", 2},  // on time range change: versions come and go
          {"sort", 1},
          {"multi", true},
          {"includeAll", true},
          {"allValue", ".*"},
          {"current", {{"selected", true}, {"text", Json::array({"All"})}, {"value", Json::array({"$__all"})}}}};
}

Json ModelVersionVariables(const char* metric) {
  std::string m = metric;
  return Json::array({Variable("model", "Model", "label_values(" + m + ", model)"),
                      Variable("version", "Version", "label_values(" + m + "{model=~\"$model\"}, version)")});
}

// Grafana's own annotations (alerts, manual notes), as every dashboard has them.
Json BuiltInAnnotations() {
  return {{"builtIn", 1},
          {"datasource", {{"type", "grafana"}, {"uid", "-- Grafana --"}}},
          {"enable", true},
          {"hide", true},
          {"iconColor", "rgba(0, 211, 255, 1)"},
          {"name", "Annotations & Alerts"},
          {"type", "dashboard"}};
}

Json Dashboard(const char* uid, const char* title, const char* description, Json variables, const Board& board) {
  return {{"uid", uid},
          {"title", title},
          {"description", description},
          {"tags", Json::array({"forja"})},
          {"timezone", "browser"},
          {"editable", true},
          {"graphTooltip", 1},
          {"time", {{"from", "now-1h"}, {"to", "now"}}},
          {"refresh", "30s"},
          {"schemaVersion", kGrafanaSchemaVersion},
          {"version", 1},
          {"links", Json::array()},
          {"annotations", {{"list", Json::array({BuiltInAnnotations()})}}},
          {"templating", {{"list", std::move(variables)}}},
          {"panels", board.panels()}};
}

// rate() of a counter's series under the variables' filter; `extra` adds matchers.
std::string Rate(const std::string& metric, const std::string& filter, const std::string& extra = "") {
  std::string matchers = filter + (filter.empty() || extra.empty() ? "" : ", ") + extra;
  return "rate(" + metric + "{" + matchers + "}[$__rate_interval])";
}

std::string Quantile(const char* q, const std::string& histogram, const std::string& filter, const char* by) {
  return std::string("histogram_quantile(") + q + ", sum by (" + by + ", le) (" + Rate(histogram + "_bucket", filter) + "))";
}

// The share of a counter's series with `matcher`: 0, not "no data", while there are none.
std::string Share(const std::string& metric, const std::string& filter, const std::string& matcher, const char* by) {
  std::string all = std::string("sum by (") + by + ") (" + Rate(metric, filter) + ")";
  std::string some = std::string("sum by (") + by + ") (" + Rate(metric, filter, matcher) + ")";
  return "(" + some + " or " + all + " * 0) / " + all;
}

Json ServingDashboard() {
  const std::string f = kModelVersion;
  Board b;
  b.Add(Timeseries("Requests per second", "Inference requests answered, by model and version.",
                   {{"sum by (model, version) (" + Rate("forja_serve_requests_total", f) + ")", "{{model}}/{{version}}"}},
                   "reqps"));
  b.Add(Timeseries("Requests by status code", "Inference requests of the selected versions, by HTTP status code.",
                   {{"sum by (code) (" + Rate("forja_serve_requests_total", f) + ")", "{{code}}"}}, "reqps"));
  b.Add(Timeseries("Latency percentiles", "Time from a request's arrival to its answer: p50, p90 and p99 by version.",
                   {{Quantile("0.5", "forja_serve_request_duration_seconds", f, "model, version"), "p50 {{model}}/{{version}}"},
                    {Quantile("0.9", "forja_serve_request_duration_seconds", f, "model, version"), "p90 {{model}}/{{version}}"},
                    {Quantile("0.99", "forja_serve_request_duration_seconds", f, "model, version"), "p99 {{model}}/{{version}}"}},
                   "s"));
  b.Add(Timeseries("Error share", "Share of inference requests answered with a server error (5xx), by version.",
                   {{Share("forja_serve_requests_total", f, "code=~\"5..\"", "model, version"), "{{model}}/{{version}}"}},
                   "percentunit"));
  b.Add(Timeseries("HTTP responses by status code",
                   "Every HTTP answer of the server, all routes, including the server's own 408, 413 and 431.",
                   {{"sum by (code) (rate(forja_serve_http_responses_total[$__rate_interval]))", "{{code}}"}}, "reqps"));
  b.Add(Timeseries("Rows per batch", "Rows per predict call after dynamic batching: mean and p99.",
                   {{"sum by (model, version) (" + Rate("forja_serve_batch_rows_sum", f) + ") / sum by (model, version) (" +
                         Rate("forja_serve_batch_rows_count", f) + ")",
                     "mean {{model}}/{{version}}"},
                    {Quantile("0.99", "forja_serve_batch_rows", f, "model, version"), "p99 {{model}}/{{version}}"}},
                   "short"));
  b.Add(Timeseries("Queue", "Rows waiting in each version's batching queue now.",
                   {{"sum by (model, version) (forja_serve_queue_rows{" + f + "})", "{{model}}/{{version}}"}}, "short"));
  b.Add(Timeseries("Time in queue (p99)", "99th percentile of the time a request waited for its batch.",
                   {{Quantile("0.99", "forja_serve_queue_seconds", f, "model, version"), "{{model}}/{{version}}"}}, "s"));
  PanelSpec loaded{"table", "Loaded versions", "The versions forja serve has loaded now, with their reference and role.",
                   {{"forja_serve_model_info{" + std::string(kModel) + "}", ""}}, "short",
                   {{"showHeader", true}, {"cellHeight", "sm"}}, true};
  b.Add(loaded, true);
  return Dashboard("forja-serving", "forja: serving",
                   "forja serve: traffic, latency, errors, batching and the loaded versions. Written by forja monitor grafana.",
                   ModelVersionVariables("forja_serve_model_info"), b);
}

Json ModelHealthDashboard() {
  const std::string f = kModelVersion;
  Board b;
  PanelSpec heatmap{"heatmap", "Drifted columns",
                    "One row per column, 1 (dark) while its drift test finds drift over the monitoring window. Columns "
                    "beyond monitoring.max_columns have no row but count in the dataset share.",
                    {{"max by (column) (forja_model_column_drifted{" + f + "})", "{{column}}"}}, "short", HeatmapOptions()};
  b.Add(heatmap, true);
  b.Add(Timeseries("Dataset drift share", "Share of the tested columns that drift; the dataset drifts at monitoring.drift_share.",
                   {{"forja_model_dataset_drift_share{" + f + "}", "{{model}}/{{version}}"}}, "percentunit"));
  b.Add(Stat("Dataset drifted", "1 while the drift share is at or above the dataset threshold.",
             {{"max by (model, version) (forja_model_dataset_drifted{" + f + "})", "{{model}}/{{version}}"}}));
  b.Add(Timeseries("Drift score by column",
                   "The score of each column's drift test (method label: wasserstein, jensenshannon, ks, chisquare, z); "
                   "distances grow with drift, p-values shrink.",
                   {{"forja_model_drift_score{" + f + "}", "{{column}} ({{method}})"}}, "short"));
  b.Add(Timeseries("Missing share by column", "Share of missing cells per column in the window.",
                   {{"forja_model_missing_share{" + f + "}", "{{column}}"}}, "percentunit"));
  b.Add(Timeseries("Out-of-range share by column",
                   "Share of values outside the reference's [min, max], or categories the reference does not list.",
                   {{"forja_model_out_of_range_share{" + f + "}", "{{column}}"}}, "percentunit"));
  b.Add(Timeseries("Window rows", "Rows in the current monitoring window, by version.",
                   {{"forja_model_window_rows{" + f + "}", "{{model}}/{{version}}"}}, "short"));
  b.Add(Stat("Monitored and omitted columns",
             "Columns with their own series, and columns beyond monitoring.max_columns (counted in the dataset share only).",
             {{"sum by (model, version) (forja_model_monitored_columns{" + f + "})", "monitored {{model}}/{{version}}"},
              {"sum by (model, version) (forja_model_monitor_columns_omitted{" + f + "})", "omitted {{model}}/{{version}}"}}));
  // Staleness (docs/monitoring.md, "Staleness"): the verdict, why, and the ages behind it.
  b.Add(Stat("Stale", "1 when the version is stale for any reason: too old, trained on old data, promoted too long ago, "
                      "drifting too long or (with feedback) of low quality. Thresholds: monitoring.staleness.",
             {{"max by (model, version) (forja_model_stale{" + f + "})", "{{model}}/{{version}}"}}));
  b.Add(Timeseries("Stale reasons", "1 for each reason that makes the version stale: model_age, data_age, since_promotion, "
                                    "drift, quality.",
                   {{"max by (model, version, reason) (forja_model_stale_reason{" + f + "})", "{{model}}/{{version}} {{reason}}"}},
                   "short"));
  b.Add(Timeseries("Model and data age",
                   "Time since the version was trained (its run's end), since its oldest training input was made (from "
                   "lineage) and since it was promoted to where it is served. Registry versions only.",
                   {{"forja_model_age_seconds{" + f + "}", "trained {{model}}/{{version}}"},
                    {"forja_model_training_data_age_seconds{" + f + "}", "data {{model}}/{{version}}"},
                    {"forja_model_since_promotion_seconds{" + f + "}", "promoted {{model}}/{{version}}"}},
                   "s"));
  b.Add(Timeseries("Drifting for", "How long the dataset has drifted without a break (0 while it does not); stale beyond "
                                   "monitoring.staleness.drifted_for.",
                   {{"forja_model_dataset_drifted_seconds{" + f + "}", "{{model}}/{{version}}"}}, "s"));
  // Quality from feedback (docs/monitoring.md, "Quality from feedback"): the numbers from labels,
  // their estimate from the predicted probabilities before labels come, and the join's health.
  b.Add(Timeseries("Quality from feedback",
                   "Quality of the predictions from the labels posted to /v2/models/NAME/feedback, over the monitoring "
                   "window: accuracy, precision, recall, roc_auc, log_loss (classifiers); mae, rmse, mape (regressors).",
                   {{"forja_model_quality{" + f + "}", "{{metric}} {{model}}/{{version}}"}}, "short"));
  b.Add(Timeseries("Estimated quality (CBPE)",
                   "Quality estimated from the predicted probabilities alone (confidence-based performance estimation, "
                   "assuming calibrated scores), over every prediction of the window: an early sign before labels "
                   "arrive. A gap to the quality from feedback means the scores are no longer calibrated.",
                   {{"forja_model_quality_estimated{" + f + "}", "estimated {{metric}} {{model}}/{{version}}"}}, "short"));
  b.Add(Timeseries("Labels and kept predictions",
                   "Labeled rows in the window, and rows of predictions kept for labels to join (at most "
                   "monitoring.max_predictions, none older than the window).",
                   {{"forja_model_quality_window_labels{" + f + "}", "labels {{model}}/{{version}}"},
                    {"forja_model_feedback_predictions_kept{" + f + "}", "kept {{model}}/{{version}}"}},
                   "short"));
  b.Add(Timeseries("Feedback by result",
                   "Feedback items per second: joined, duplicate, wrong_type, wrong_shape, and unknown_request_id (no "
                   "kept prediction: version empty); and predictions evicted before a label came, by reason.",
                   {{"sum by (model, version, result) (rate(forja_model_feedback_labels_total{" + f + "}[5m]))",
                     "{{result}} {{model}}/{{version}}"},
                    {"sum by (model, version, reason) (rate(forja_model_feedback_predictions_evicted_total{" + f + "}[5m]))",
                     "evicted ({{reason}}) {{model}}/{{version}}"}},
                   "reqps"));
  return Dashboard("forja-model-health", "forja: model health",
                   "Live drift of the served versions against their reference profiles, and their quality from feedback. "
                   "Written by forja monitor grafana.",
                   // Every loaded version: quality and staleness need no reference profile.
                   ModelVersionVariables("forja_serve_model_info"), b);
}

Json TrackingDashboard() {
  Board b;
  b.Add(Timeseries("Runs ingest", "Run writes per second: runs created, metrics, params and batches logged, by route.",
                   {{"sum by (route) (rate(forja_tracking_requests_total{route=~\"runs/.*\"}[$__rate_interval]))", "{{route}}"}},
                   "reqps"));
  b.Add(Timeseries("Metric points", "Metric points logged per second.",
                   {{"sum(rate(forja_tracking_metric_points_total[$__rate_interval]))", "points"}}, "short"));
  b.Add(Timeseries("Requests by route", "Every request forja server answered, by route.",
                   {{"sum by (route) (rate(forja_tracking_requests_total[$__rate_interval]))", "{{route}}"}}, "reqps"));
  b.Add(Timeseries("Latency p99 by route", "99th percentile of the time to answer, by route.",
                   {{"histogram_quantile(0.99, sum by (route, le) "
                     "(rate(forja_tracking_request_duration_seconds_bucket[$__rate_interval])))",
                     "{{route}}"}},
                   "s"));
  b.Add(Timeseries("Error share", "Share of requests answered with a server error (5xx).",
                   {{Share("forja_tracking_requests_total", "", "code=~\"5..\"", "instance"), "{{instance}}"}},
                   "percentunit"));
  b.Add(Timeseries("Promotions", "Promotions over the last hour, by model, target and outcome (moved, refused, denied, forced).",
                   {{"sum by (model, target, outcome) (increase(forja_registry_promotions_total{" + std::string(kModel) +
                         "}[1h]))",
                     "{{model}} -> {{target}} {{outcome}}"}},
                   "short"));
  Json variables = Json::array({Variable("model", "Model", "label_values(forja_registry_promotions_total, model)")});
  return Dashboard("forja-tracking", "forja: tracking and registry",
                   "forja server: run ingest, requests and model promotions. Written by forja monitor grafana.",
                   std::move(variables), b);
}

std::string DatasourceYaml(const GrafanaOptions& o) {
  return "# The Prometheus data source forja's dashboards query (uid forja-prometheus).\n"
         "# Written by `forja monitor grafana`.\n"
         "apiVersion: 1\n"
         "datasources:\n"
         "  - name: forja-prometheus\n"
         "    uid: " +
         std::string(kGrafanaDatasourceUid) +
         "\n"
         "    type: prometheus\n"
         "    access: proxy\n"
         "    url: " +
         JsonQuote(o.prometheus_url) +
         "\n"
         "    editable: false\n";
}

std::string ProviderYaml(const GrafanaOptions& o) {
  return "# Loads forja's dashboards (the JSON files beside this one) into the folder \"forja\".\n"
         "# Written by `forja monitor grafana`.\n"
         "apiVersion: 1\n"
         "providers:\n"
         "  - name: forja\n"
         "    folder: forja\n"
         "    type: file\n"
         "    disableDeletion: false\n"
         "    allowUiUpdates: false\n"
         "    options:\n"
         "      path: " +
         JsonQuote(o.dashboards_path) + "\n";
}

bool HasControl(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

}  // namespace

Result<std::vector<ProvisioningFile>> GrafanaProvisioning(const GrafanaOptions& o) {
  const std::string& url = o.prometheus_url;
  if (!(url.starts_with("http://") || url.starts_with("https://")) || url.find_first_of(" ") != std::string::npos ||
      HasControl(url))
    return Status::Usage("--prometheus-url: must be an http:// or https:// URL without spaces, not '" + url + "'");
  if (!o.dashboards_path.starts_with("/") || HasControl(o.dashboards_path))
    return Status::Usage("--dashboards-path: must be an absolute path in Grafana's file system, not '" +
                         o.dashboards_path + "'");
  auto json = [](const Json& j) { return j.dump(2) + "\n"; };
  return std::vector<ProvisioningFile>{
      {"datasources/forja-prometheus.yaml", DatasourceYaml(o)},
      {"dashboards/provider.yaml", ProviderYaml(o)},
      {"dashboards/forja-serving.json", json(ServingDashboard())},
      {"dashboards/forja-model-health.json", json(ModelHealthDashboard())},
      {"dashboards/forja-tracking.json", json(TrackingDashboard())},
  };
}

}  // namespace forja::monitor
