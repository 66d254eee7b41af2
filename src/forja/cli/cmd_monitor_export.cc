// forja monitor alerts and forja monitor grafana: what Prometheus and Grafana need to watch
// forja's metrics, written as files (monitor/alert_rules.h, monitor/grafana.h). The other
// `forja monitor` subcommands are in cmd_monitor.cc; both register under MonitorGroup.
#include <CLI/CLI.hpp>

#include "forja/cli/cli.h"
#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/core/path.h"
#include "forja/core/redact.h"
#include "forja/data/workspace.h"
#include "forja/monitor/alert_rules.h"
#include "forja/monitor/grafana.h"
#include "forja/serve/monitoring_config.h"

namespace forja {

namespace {

int DoAlerts(const std::string& out) {
  // A broken forja.yaml is reported, not mistaken for "outside a workspace".
  auto ws = Workspace::OpenIfAny(CurrentDir());
  if (!ws.ok()) return Fail(ws.status());
  // monitoring.alerts is read by forja serve's reader of the section, so that both accept the
  // same file.
  serve::MonitoringConfig cfg;
  if (*ws) {
    auto doc = ReadForjaYaml((*ws)->root());
    if (!doc.ok()) return Fail(doc.status());
    Status st = serve::MonitoringConfigOf(*doc, &cfg);  // with the production gates on quality metrics
    if (!st.ok()) return Fail(st);
  }
  monitor::AlertThresholds t{cfg.alerts.drift_for_s, cfg.alerts.error_rate, cfg.alerts.p99_seconds,
                             cfg.alerts.no_traffic_for_s};
  t.quality_for_s = cfg.alerts.quality_for_s;
  t.quality_min_labels = cfg.alerts.quality_min_labels;
  t.quality_gates = cfg.quality_gates;
  Status st = WriteFileAtomic(out, monitor::AlertRulesYaml(t));
  if (!st.ok()) return Fail(st);
  LogInfo("Wrote Prometheus alerting rules to " + out + " (drift for " + monitor::PromDuration(t.drift_for_s) +
          ", no traffic for " + monitor::PromDuration(t.no_traffic_for_s) + ", " + std::to_string(t.quality_gates.size()) +
          " quality gate" + (t.quality_gates.size() == 1 ? "" : "s") + "); add it to rule_files: in prometheus.yml");
  return 0;
}

int DoGrafana(const std::string& out, const monitor::GrafanaOptions& o) {
  auto files = monitor::GrafanaProvisioning(o);
  if (!files.ok()) return Fail(files.status());
  for (const auto& f : *files) {
    std::string path = JoinPath(out, f.path);
    Status st = MakeDirs(Dirname(path));
    if (st.ok()) st = WriteFileAtomic(path, f.text);
    if (!st.ok()) return Fail(st);
  }
  LogInfo("Wrote Grafana provisioning to " + out + " (a data source for " + RedactUri(o.prometheus_url) +
          " and 3 dashboards); mount it as /etc/grafana/provisioning");
  return 0;
}

}  // namespace

void RegisterMonitorExportCommands(CLI::App& app, GlobalOptions& g, Action* action) {
  (void)g;
  CLI::App* monitor = MonitorGroup(app);

  auto alerts_out = std::make_shared<std::string>();
  auto* alerts = monitor->add_subcommand("alerts", "Write Prometheus alerting rules over forja serve's metrics");
  alerts->add_option("--out", *alerts_out, "The rules file to write")->required()->type_name("FILE");
  alerts->footer(std::string(
                     "Alerts: ForjaModelDataDrift (the dataset drifted for monitoring.alerts.drift_for),\n"
                     "ForjaModelColumnDrift (a column drifted as long), ForjaServeErrorRate and ForjaModelErrorRate\n"
                     "(5xx share above error_rate over 5m), ForjaModelLatencyP99 (p99 above p99_seconds),\n"
                     "ForjaModelNoTraffic (a loaded version without requests for no_traffic_for). Each has a\n"
                     "severity label and summary, description and runbook annotations. Thresholds come from\n"
                     "forja.yaml, read as forja serve reads it (durations in seconds, or with ms, s, m, h, d;\n"
                     "defaults outside a workspace):\n\n"
                     "  monitoring:\n"
                     "    alerts: {drift_for: 10m, error_rate: 0.05, p99_seconds: 0.5, no_traffic_for: 30m,\n"
                     "             quality_for: 15m, quality_min_labels: 50}\n\n"
                     "ForjaModelQualityBelowGate: one per production gate on a quality metric in forja.yaml\n"
                     "(models: {churn: {gates: {production: [metrics.accuracy >= 0.9]}}}; accuracy, precision,\n"
                     "recall, roc_auc or auc, log_loss, mae, rmse, mape), firing while forja serve's quality from\n"
                     "feedback fails it for quality_for, once the window holds quality_min_labels labels.\n\n"
                     "Check the file with `promtool check rules FILE`. Alertmanager's webhook to forja server,\n"
                     "http://HOST:PORT/api/2.0/forja/alerts, records each alert against its model version.\n\n") +
                 kExitCodesHelp);
  alerts->callback([action, alerts_out] { *action = [alerts_out] { return DoAlerts(*alerts_out); }; });

  auto grafana_out = std::make_shared<std::string>();
  auto grafana_opts = std::make_shared<monitor::GrafanaOptions>();
  auto* grafana = monitor->add_subcommand("grafana", "Write Grafana provisioning: a Prometheus data source and dashboards");
  grafana->add_option("--out", *grafana_out, "The folder to write (created if missing)")->required()->type_name("DIR");
  grafana->add_option("--prometheus-url", grafana_opts->prometheus_url,
                      "The Prometheus URL as Grafana's server reaches it (default http://localhost:9090)")
      ->type_name("URL");
  grafana->add_option("--dashboards-path", grafana_opts->dashboards_path,
                      "Where Grafana sees DIR/dashboards (default /etc/grafana/provisioning/dashboards)")
      ->type_name("PATH");
  grafana->footer(std::string(
                      "Writes DIR/datasources/forja-prometheus.yaml, DIR/dashboards/provider.yaml and three dashboards:\n"
                      "forja-serving.json (traffic, latency percentiles, errors, batch sizes, queue, loaded versions),\n"
                      "forja-model-health.json (drifted columns as a heatmap, dataset drift share, drift scores,\n"
                      "missing and out-of-range shares, window rows) and forja-tracking.json (runs ingest, requests,\n"
                      "promotions), each with model and version variables. Mount DIR as Grafana's provisioning folder:\n\n"
                      "  docker run -p 3000:3000 -v $PWD/DIR:/etc/grafana/provisioning grafana/grafana\n\n") +
                  kExitCodesHelp);
  grafana->callback([action, grafana_out, grafana_opts] {
    *action = [grafana_out, grafana_opts] { return DoGrafana(*grafana_out, *grafana_opts); };
  });
}

}  // namespace forja
