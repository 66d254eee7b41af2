// Grafana provisioning for forja's metrics (docs/monitoring.md, "Grafana and alerts"): a
// Prometheus data source and three dashboards, as the files Grafana reads from its
// provisioning folder at start-up. `forja monitor grafana --out DIR` writes them.
//
//   datasources/forja-prometheus.yaml   the Prometheus data source (uid forja-prometheus)
//   dashboards/provider.yaml            tells Grafana to load the JSON files of that folder
//   dashboards/forja-serving.json       traffic, latency percentiles, errors, batch sizes, queue,
//                                       loaded versions
//   dashboards/forja-model-health.json  drift per column (heatmap), dataset drift share,
//                                       missing and out-of-range shares, window rows
//   dashboards/forja-tracking.json      forja server: runs ingest, requests, promotions
//
// Dashboards are Grafana's JSON model (schemaVersion kGrafanaSchemaVersion, version 1), with
// template variables model and version; every query goes to the provisioned data source.
#pragma once

#include <string>
#include <vector>

#include "forja/core/status.h"

namespace forja::monitor {

// Grafana 10.3 to 11's dashboard schema; later Grafanas migrate it on load.
inline constexpr int kGrafanaSchemaVersion = 39;
inline constexpr const char* kGrafanaDatasourceUid = "forja-prometheus";

struct GrafanaOptions {
  std::string prometheus_url = "http://localhost:9090";  // as Grafana's server reaches it
  // Where Grafana sees the dashboards folder: the output folder is meant to be mounted as
  // Grafana's provisioning folder (/etc/grafana/provisioning).
  std::string dashboards_path = "/etc/grafana/provisioning/dashboards";
};

struct ProvisioningFile {
  std::string path;  // relative to the output folder: "dashboards/forja-serving.json"
  std::string text;
};

// The files, or a usage error for a URL or path Grafana could not use ("--prometheus-url:
// must start with http:// or https://").
Result<std::vector<ProvisioningFile>> GrafanaProvisioning(const GrafanaOptions& options);

}  // namespace forja::monitor
