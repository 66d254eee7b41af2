// Staleness in forja serve (serve/staleness.h): monitoring.staleness in forja.yaml (global, per
// model, errors with file:line), and the gauges a scrape shows for a registry version with facts,
// a package folder without, a dataset drifting for longer than drifted_for, and the quality hook.
// The real server with a registry version: tests/serve/staleness_test.py.
#include <gtest/gtest.h>

#include "forja/data/workspace.h"
#include "forja/registry/staleness_facts.h"
#include "forja/serve/monitoring.h"
#include "forja/serve/serve.h"
#include "forja/serve/staleness.h"

namespace forja::serve {
namespace {

Result<MonitoringConfig> Parse(const std::string& yaml) {
  ASSIGN_OR_RETURN(ForjaYaml doc, ParseForjaYaml(yaml, "forja.yaml"));
  ServeConfig cfg;
  RETURN_IF_ERROR(ServingConfigOf(doc, &cfg));
  return cfg.monitoring;
}

TEST(Staleness, ConfigGlobalAndPerModel) {
  auto c = Parse(
      "monitoring:\n"
      "  staleness: {max_model_age: 30d, max_data_age: 60d, max_since_promotion: 7d, drifted_for: 2h}\n"
      "  models:\n"
      "    churn: {staleness: {max_model_age: 1d, drifted_for: 0}}\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  const monitor::StalenessThresholds& d = c->defaults.staleness;
  EXPECT_EQ(d.max_model_age_s, 30 * 86400);
  EXPECT_EQ(d.max_data_age_s, 60 * 86400);
  EXPECT_EQ(d.max_since_promotion_s, 7 * 86400);
  EXPECT_EQ(d.drifted_for_s, 7200);
  // Per model: its keys over the section's, the others inherited.
  const monitor::StalenessThresholds& churn = c->For("churn").staleness;
  EXPECT_EQ(churn.max_model_age_s, 86400);
  EXPECT_EQ(churn.drifted_for_s, 0);
  EXPECT_EQ(churn.max_data_age_s, 60 * 86400);
  EXPECT_EQ(churn.max_since_promotion_s, 7 * 86400);

  // Without the section: the documented defaults.
  auto none = Parse("monitoring: {window: 1m}\n");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->defaults.staleness.max_model_age_s, 90 * 86400);
  EXPECT_EQ(none->defaults.staleness.max_data_age_s, 180 * 86400);
  EXPECT_EQ(none->defaults.staleness.max_since_promotion_s, 0);
  EXPECT_EQ(none->defaults.staleness.drifted_for_s, 3600);
}

TEST(Staleness, ConfigErrorsNameTheLineAndKey) {
  struct Case {
    const char* yaml;
    const char* error;
  } cases[] = {
      {"monitoring:\n  staleness: {max_model_age: soon}\n",
       "forja.yaml:2: monitoring.staleness.max_model_age: 'soon' is not a duration"},
      {"monitoring:\n  window: 1m\n  staleness:\n    max_age: 3d\n",
       "forja.yaml:4: monitoring.staleness.max_age: unknown setting (max_model_age, max_data_age, max_since_promotion, "
       "drifted_for)"},
      {"monitoring:\n  staleness: 90d\n", "forja.yaml:2: monitoring.staleness: must be a mapping"},
      {"monitoring:\n  staleness: {max_data_age: -1}\n", "monitoring.staleness.max_data_age: must be between 0"},
      {"monitoring:\n  models:\n    churn: {staleness: {drifted_for: 1y}}\n",
       "forja.yaml:3: monitoring.models.churn.staleness.drifted_for: '1y' is not a duration"},
      {"monitoring:\n  models:\n    churn: {staleness: [1d]}\n",
       "forja.yaml:3: monitoring.models.churn.staleness: must be a mapping"},
  };
  for (const Case& k : cases) {
    auto c = Parse(k.yaml);
    ASSERT_FALSE(c.ok()) << k.yaml;
    EXPECT_NE(c.status().message().find(k.error), std::string::npos) << c.status().message();
  }
  // A misspelt section: the known settings are listed, staleness among them.
  auto c = Parse("monitoring:\n  stalenes: {}\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("forja.yaml:2: monitoring.stalenes: unknown setting ("), std::string::npos)
      << c.status().message();
  EXPECT_NE(c.status().message().find(" staleness,"), std::string::npos) << c.status().message();
}

constexpr int64_t kDayMs = 86400 * 1000LL;
constexpr int64_t kNow = 1'800'000'000'000;

std::shared_ptr<const registry::StalenessFacts> Facts(std::optional<int64_t> data_ms) {
  auto f = std::make_shared<registry::StalenessFacts>();
  f->model = "churn";
  f->version = 3;
  f->trained_ms = kNow - 10 * kDayMs;
  f->data_ms = data_ms;
  f->promoted_ms = kNow - kDayMs - 500;  // 86400.5 s
  return f;
}

std::string Render(const std::vector<StaleVersion>& versions, std::chrono::steady_clock::time_point now) {
  std::string out;
  RenderStalenessMetrics(versions, kNow, now, &out);
  return out;
}

bool Has(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

TEST(Staleness, GaugesOfAFreshRegistryVersion) {
  StaleVersion v{"churn", "3", Facts(kNow - 40 * kDayMs), nullptr, std::nullopt, {}};
  std::string out = Render({v}, std::chrono::steady_clock::now());
  EXPECT_TRUE(Has(out, "forja_model_age_seconds{model=\"churn\",version=\"3\"} 864000.000")) << out;
  EXPECT_TRUE(Has(out, "forja_model_training_data_age_seconds{model=\"churn\",version=\"3\"} 3456000.000")) << out;
  EXPECT_TRUE(Has(out, "forja_model_since_promotion_seconds{model=\"churn\",version=\"3\"} 86400.500")) << out;
  EXPECT_TRUE(Has(out, "forja_model_stale{model=\"churn\",version=\"3\"} 0")) << out;
  for (const char* r : {"model_age", "data_age", "since_promotion", "drift", "quality"})
    EXPECT_TRUE(Has(out, std::string("forja_model_stale_reason{model=\"churn\",version=\"3\",reason=\"") + r + "\"} 0")) << r;
  // Unmonitored: no drift trend.
  EXPECT_EQ(out.find("forja_model_dataset_drifted_seconds{"), std::string::npos) << out;
  EXPECT_NE(out.find("# TYPE forja_model_stale gauge\n"), std::string::npos);
}

TEST(Staleness, ReasonsBeyondThresholds) {
  monitor::StalenessThresholds t;
  t.max_model_age_s = 5 * 86400;
  t.max_data_age_s = 30 * 86400;
  StaleVersion v{"churn", "3", Facts(kNow - 40 * kDayMs), nullptr, std::nullopt, t};
  std::string out = Render({v}, std::chrono::steady_clock::now());
  EXPECT_TRUE(Has(out, "forja_model_stale{model=\"churn\",version=\"3\"} 1")) << out;
  EXPECT_TRUE(Has(out, "forja_model_stale_reason{model=\"churn\",version=\"3\",reason=\"model_age\"} 1")) << out;
  EXPECT_TRUE(Has(out, "forja_model_stale_reason{model=\"churn\",version=\"3\",reason=\"data_age\"} 1")) << out;
  EXPECT_TRUE(Has(out, "forja_model_stale_reason{model=\"churn\",version=\"3\",reason=\"since_promotion\"} 0")) << out;

  // No lineage: the data age is unknown, no series and no reason.
  v.facts = Facts(std::nullopt);
  out = Render({v}, std::chrono::steady_clock::now());
  EXPECT_EQ(out.find("forja_model_training_data_age_seconds{"), std::string::npos) << out;
  EXPECT_TRUE(Has(out, "forja_model_stale_reason{model=\"churn\",version=\"3\",reason=\"data_age\"} 0")) << out;
}

TEST(Staleness, PackageFolderDriftAndQuality) {
  using Clock = std::chrono::steady_clock;
  auto now = Clock::now();
  // A package folder (no facts), monitored, drifting for 2 hours: stale by drift only.
  auto snap = std::make_shared<MonitorSnapshot>();
  snap->drift.drift = true;
  snap->drifted_since = now - std::chrono::hours(2);
  StaleVersion folder{"plain", "1", nullptr, snap, std::nullopt, {}};
  // A registry version not drifting, whose quality is below its threshold.
  auto calm = std::make_shared<MonitorSnapshot>();
  StaleVersion version{"churn", "3", Facts(kNow - kDayMs), calm, true, {}};
  std::string out = Render({folder, version}, now);
  EXPECT_EQ(out.find("forja_model_age_seconds{model=\"plain\""), std::string::npos) << out;
  EXPECT_TRUE(Has(out, "forja_model_dataset_drifted_seconds{model=\"plain\",version=\"1\"} 7200.000")) << out;
  EXPECT_TRUE(Has(out, "forja_model_stale{model=\"plain\",version=\"1\"} 1")) << out;
  EXPECT_TRUE(Has(out, "forja_model_stale_reason{model=\"plain\",version=\"1\",reason=\"drift\"} 1")) << out;
  EXPECT_TRUE(Has(out, "forja_model_dataset_drifted_seconds{model=\"churn\",version=\"3\"} 0.000")) << out;
  EXPECT_TRUE(Has(out, "forja_model_stale_reason{model=\"churn\",version=\"3\",reason=\"quality\"} 1")) << out;
  EXPECT_TRUE(Has(out, "forja_model_stale_reason{model=\"churn\",version=\"3\",reason=\"drift\"} 0")) << out;
  // Nothing loaded: nothing at all.
  EXPECT_EQ(Render({}, now), "");
}

}  // namespace
}  // namespace forja::serve
