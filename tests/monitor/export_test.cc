// Alert rules and Grafana provisioning as text: durations, the thresholds in the rules, the files and the dashboards' JSON model. Prometheus itself
// checks the rules (alerts_test.sh: promtool check rules / test rules) and every dashboard
// query (grafana_test.sh); Grafana's published schema checks the dashboards there too.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "forja/core/json.h"
#include "forja/monitor/alert_rules.h"
#include "forja/monitor/grafana.h"

namespace forja::monitor {
namespace {

TEST(AlertRules, PrometheusDurations) {
  EXPECT_EQ(PromDuration(600), "10m");
  EXPECT_EQ(PromDuration(1800), "30m");
  EXPECT_EQ(PromDuration(5400), "1h30m");
  EXPECT_EQ(PromDuration(90), "1m30s");
  EXPECT_EQ(PromDuration(86400 * 2 + 1), "2d1s");
  EXPECT_EQ(PromDuration(0.25), "250ms");
  EXPECT_EQ(PromDuration(1.0005), "1s1ms");  // to the millisecond
  EXPECT_EQ(PromDuration(0), "0s");
  EXPECT_EQ(PromDuration(0.0001), "0s");
}

TEST(AlertRules, ThresholdsInTheRules) {
  AlertThresholds t;
  t.drift_for_s = 900;
  t.error_rate = 0.02;
  t.p99_seconds = 0.25;
  t.no_traffic_for_s = 3600;
  std::string yaml = AlertRulesYaml(t);
  for (const char* alert : {"ForjaModelDataDrift", "ForjaModelColumnDrift", "ForjaServeErrorRate", "ForjaModelErrorRate",
                            "ForjaModelLatencyP99", "ForjaModelNoTraffic"})
    EXPECT_NE(yaml.find(std::string("- alert: ") + alert + "\n"), std::string::npos) << alert;
  EXPECT_NE(yaml.find("for: 15m\n"), std::string::npos);
  EXPECT_NE(yaml.find("for: 1h\n"), std::string::npos);
  EXPECT_NE(yaml.find("> 0.02\n"), std::string::npos);
  EXPECT_NE(yaml.find("> 0.25\n"), std::string::npos);
  // Every alert says how bad it is and what to do.
  size_t alerts = 0, pos = 0;
  while ((pos = yaml.find("- alert: ", pos)) != std::string::npos) alerts++, pos++;
  for (const char* key : {"severity: ", "summary: ", "description: ", "runbook: "}) {
    size_t n = 0;
    for (pos = yaml.find(key); pos != std::string::npos; pos = yaml.find(key, pos + 1)) n++;
    EXPECT_EQ(n, alerts) << key;
  }
  // No rule over a metric forja does not export yet (quality from feedback).
  EXPECT_EQ(yaml.find("forja_model_quality"), std::string::npos);
  // Staleness: one alert per version and reason, over the reason series.
  EXPECT_NE(yaml.find("- alert: ForjaModelStale\n        expr: |-\n          forja_model_stale_reason == 1\n"),
            std::string::npos);
}

TEST(AlertRules, QualityGatesBecomeRules) {
  EXPECT_EQ(QualityMetricOfGate("auc"), "roc_auc");
  EXPECT_EQ(QualityMetricOfGate("logloss"), "log_loss");
  EXPECT_EQ(QualityMetricOfGate("mape"), "mape");
  EXPECT_EQ(QualityMetricOfGate("f1"), "");
  AlertThresholds t;
  t.quality_min_labels = 30;
  t.quality_gates = {{"churn", "accuracy", ">=", 0.9, "metrics.accuracy >= 0.9"},
                     {"*", "rmse", "<=", 2.5, "metrics.rmse <= 2.5"},
                     {"churn", "recall", "==", 1, "metrics.recall == 1"}};  // no rule: not a threshold
  std::string yaml = AlertRulesYaml(t);
  EXPECT_NE(yaml.find("  - name: forja-model-quality\n"), std::string::npos);
  EXPECT_NE(yaml.find("forja_model_quality{model=\"churn\",metric=\"accuracy\"}\n            < 0.9\n"
                      "            and on (instance, model, version) (forja_model_quality_window_labels >= 30)\n"
                      "        for: 15m\n"),
            std::string::npos)
      << yaml;
  EXPECT_NE(yaml.find("forja_model_quality{metric=\"rmse\"}\n            > 2.5\n"), std::string::npos);
  EXPECT_EQ(yaml.find("recall"), std::string::npos);
  EXPECT_NE(yaml.find("gate: \"metrics.accuracy >= 0.9\""), std::string::npos);
}

TEST(Grafana, FilesAndDashboards) {
  GrafanaOptions o;
  o.prometheus_url = "http://prometheus:9090";
  auto files = GrafanaProvisioning(o);
  ASSERT_TRUE(files.ok()) << files.status().message();
  std::set<std::string> paths;
  for (const auto& f : *files) paths.insert(f.path);
  EXPECT_EQ(paths, (std::set<std::string>{"datasources/forja-prometheus.yaml", "dashboards/provider.yaml",
                                          "dashboards/forja-serving.json", "dashboards/forja-model-health.json",
                                          "dashboards/forja-tracking.json"}));
  for (const auto& f : *files) {
    if (f.path == "datasources/forja-prometheus.yaml") {
      EXPECT_NE(f.text.find("url: \"http://prometheus:9090\"\n"), std::string::npos);
      EXPECT_NE(f.text.find("uid: forja-prometheus\n"), std::string::npos);
    }
    if (!f.path.ends_with(".json")) continue;
    JsonDoc doc;
    ASSERT_TRUE(doc.Parse(f.text).ok()) << f.path;
    const JsonNode& root = doc.root();
    int64_t schema = 0;
    ASSERT_NE(doc.Find(root, "schemaVersion"), nullptr);
    EXPECT_TRUE(JsonInt(*doc.Find(root, "schemaVersion"), &schema));
    EXPECT_EQ(schema, kGrafanaSchemaVersion);
    // Panel ids unique; every query goes to the provisioned data source.
    std::set<int64_t> ids;
    const JsonNode* panels = doc.Find(root, "panels");
    ASSERT_NE(panels, nullptr);
    for (const JsonNode* p = doc.First(*panels); p; p = doc.Next(*p)) {
      int64_t id = 0;
      ASSERT_TRUE(JsonInt(*doc.Find(*p, "id"), &id));
      EXPECT_TRUE(ids.insert(id).second) << f.path << " panel " << id;
      const JsonNode* targets = doc.Find(*p, "targets");
      ASSERT_NE(targets, nullptr);
      EXPECT_GT(targets->count, 0u);
      for (const JsonNode* t = doc.First(*targets); t; t = doc.Next(*t)) {
        const JsonNode* ds = doc.Find(*t, "datasource");
        ASSERT_NE(ds, nullptr);
        EXPECT_EQ(JsonString(*doc.Find(*ds, "uid")), kGrafanaDatasourceUid);
      }
    }
    // Model health and serving filter by model and version; tracking by model.
    std::string vars;
    const JsonNode* list = doc.Find(*doc.Find(root, "templating"), "list");
    for (const JsonNode* v = doc.First(*list); v; v = doc.Next(*v)) vars += JsonString(*doc.Find(*v, "name")) + " ";
    EXPECT_EQ(vars, f.path == "dashboards/forja-tracking.json" ? "model " : "model version ") << f.path;
  }
}

TEST(Grafana, RefusesWhatGrafanaCannotUse) {
  GrafanaOptions o;
  o.prometheus_url = "localhost:9090";
  auto files = GrafanaProvisioning(o);
  ASSERT_FALSE(files.ok());
  EXPECT_NE(files.status().message().find("--prometheus-url: must be an http:// or https:// URL"), std::string::npos);
  o.prometheus_url = "http://x\n  type: evil";
  EXPECT_FALSE(GrafanaProvisioning(o).ok());
  o = {};
  o.dashboards_path = "dashboards";
  EXPECT_FALSE(GrafanaProvisioning(o).ok());
}

}  // namespace
}  // namespace forja::monitor
