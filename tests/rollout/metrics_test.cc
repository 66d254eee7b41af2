// The candidate's numbers from forja serve's /metrics: the text parser (hostile input
// refused with the line), the per-version counters, the rollout gauges, step deltas
// across counter resets, and p99 from histogram buckets as Prometheus computes it.
#include <gtest/gtest.h>

#include <cmath>

#include "forja/rollout/metrics.h"

namespace forja::rollout {
namespace {

// What forja serve exports for the stable version 1 and the candidate 2 (metrics.cc's shapes).
const char* kScrape = R"(# HELP forja_serve_requests_total Inference requests answered.
# TYPE forja_serve_requests_total counter
forja_serve_requests_total{model="churn",version="1",code="200"} 900
forja_serve_requests_total{model="churn",version="2",code="200"} 90
forja_serve_requests_total{model="churn",version="2",code="500"} 10
forja_serve_requests_total{model="churn",version="2",code="400"} 5
forja_serve_requests_total{model="",version="",code="404"} 3
# TYPE forja_serve_request_duration_seconds histogram
forja_serve_request_duration_seconds_bucket{model="churn",version="2",le="0.005"} 50
forja_serve_request_duration_seconds_bucket{model="churn",version="2",le="0.01"} 100
forja_serve_request_duration_seconds_bucket{model="churn",version="2",le="+Inf"} 105
forja_serve_request_duration_seconds_sum{model="churn",version="2"} 0.6
forja_serve_request_duration_seconds_count{model="churn",version="2"} 105
forja_model_quality{model="churn",version="2",metric="accuracy"} 0.91
forja_model_dataset_drift_share{model="churn",version="2"} 0.25
forja_serve_rollout_weight{model="churn",version="2",rollout="7"} 25
)";

VersionCounters Candidate(const std::string& text) {
  auto s = ParsePromText(text, &RolloutMetric);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return s.ok() ? ExtractVersion(*s, "churn", "2") : VersionCounters{};
}

TEST(PromText, ParsesSamplesLabelsAndSpecialValues) {
  auto s = ParsePromText("a 1\nb{x=\"q\\\"uo\\\\te\\n\",y=\"\"} +Inf 1700000000000\n  # comment\n\nc{} NaN\r\nd{z=\"1\",} -2.5e-3\n");
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->size(), 4u);
  EXPECT_EQ((*s)[1].name, "b");
  EXPECT_EQ(*(*s)[1].Label("x"), "q\"uo\\te\n");
  EXPECT_EQ(*(*s)[1].Label("y"), "");
  EXPECT_EQ((*s)[1].Label("nope"), nullptr);
  EXPECT_TRUE(std::isinf((*s)[1].value));
  EXPECT_TRUE(std::isnan((*s)[2].value));
  EXPECT_DOUBLE_EQ((*s)[3].value, -0.0025);
}

TEST(PromText, RefusesMalformedLinesNamingThem) {
  auto err = [](const std::string& t) {
    auto s = ParsePromText(t);
    return s.ok() ? "ok" : s.status().message();
  };
  EXPECT_EQ(err("ok 1\n{x=\"1\"} 2\n"), "metrics text line 2: a metric name must start the line");
  EXPECT_EQ(err("a{x=\"1} 2"), "metrics text line 1: label x: unterminated value");
  EXPECT_EQ(err("a{x=1} 2"), "metrics text line 1: label x: =\"...\" expected");
  EXPECT_EQ(err("a{x=\"1\" y=\"2\"} 2"), "metrics text line 1: ',' or '}' expected after a label");
  EXPECT_EQ(err("a two"), "metrics text line 1: 'two' is not a number");
  EXPECT_EQ(err("a"), "metrics text line 1: a value expected after the name");
  EXPECT_EQ(err("a{x=\"\\"), "metrics text line 1: label x: unterminated value");
  std::string many = "a{";
  for (int i = 0; i < 65; i++) many += "l" + std::to_string(i) + "=\"v\",";
  EXPECT_EQ(err(many + "} 1"), "metrics text line 1: more than 64 labels");
}

TEST(PromText, KeepFilterSkipsOtherFamiliesUnparsed) {
  // A family the rollout does not read is skipped before its labels are parsed.
  auto s = ParsePromText("other{broken 1\nforja_serve_requests_total{model=\"m\",version=\"1\",code=\"200\"} 4\n", &RolloutMetric);
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->size(), 1u);
  EXPECT_EQ((*s)[0].value, 4);
}

TEST(Extract, CandidateCountersAndGauges) {
  VersionCounters c = Candidate(kScrape);
  EXPECT_EQ(c.requests, 105);  // every code of version 2, the 4xx included
  EXPECT_EQ(c.errors, 10);     // only the 5xx
  EXPECT_EQ(c.buckets.size(), 3u);
  EXPECT_EQ(c.buckets.at(0.01), 100);
  EXPECT_DOUBLE_EQ(c.quality.at("accuracy"), 0.91);
  EXPECT_DOUBLE_EQ(*c.drift, 0.25);
  auto s = ParsePromText(kScrape);
  RolloutGauge g = ExtractRollout(*s, "churn", "2", "7");
  EXPECT_EQ(*g.weight, 25);
  EXPECT_FALSE(g.refused);
  EXPECT_FALSE(ExtractRollout(*s, "churn", "2", "8").weight);  // another rollout's gauge does not count
  auto refused = ParsePromText("forja_serve_rollout_refused{model=\"churn\",version=\"2\",rollout=\"7\"} 1\n");
  EXPECT_TRUE(ExtractRollout(*refused, "churn", "2", "7").refused);
}

TEST(Delta, StepCountsAreEndMinusStart) {
  VersionCounters start = Candidate(kScrape);
  VersionCounters end = start;
  end.requests += 200, end.errors += 4;
  end.buckets[0.005] += 190, end.buckets[0.01] += 198, end.buckets[HUGE_VAL] += 200;
  end.quality["accuracy"] = 0.8;
  StepMetrics m = Summarize(CounterDelta(start, end));
  EXPECT_EQ(m.requests, 200);
  EXPECT_EQ(m.errors, 4);
  EXPECT_DOUBLE_EQ(m.error_rate, 0.02);
  // rank 198 of 200 falls at the top of the (0.005, 0.01] bucket: 198 - 190 of 8.
  EXPECT_NEAR(*m.p99_ms, 10.0, 1e-9);
  EXPECT_DOUBLE_EQ(m.quality.at("accuracy"), 0.8);  // a gauge: as at the end
}

TEST(Delta, ARestartedServerCountsFromZero) {
  VersionCounters start = Candidate(kScrape);
  VersionCounters end;
  end.requests = 7, end.errors = 1;
  end.buckets = {{0.005, 7}, {HUGE_VAL, 7}};
  StepMetrics m = Summarize(CounterDelta(start, end));
  EXPECT_EQ(m.requests, 7);
  EXPECT_EQ(m.errors, 1);
}

TEST(Delta, ServersAddUpAndGaugesTakeTheWorst) {
  VersionCounters a, b;
  a.requests = 10, a.errors = 1, a.buckets = {{0.1, 10}, {HUGE_VAL, 10}}, a.quality["accuracy"] = 0.9, a.drift = 0.1;
  b.requests = 30, b.errors = 0, b.buckets = {{0.1, 29}, {HUGE_VAL, 30}}, b.quality["accuracy"] = 0.7, b.drift = 0.4;
  VersionCounters sum;
  sum.Add(a);
  sum.Add(b);
  StepMetrics m = Summarize(sum);
  EXPECT_EQ(m.requests, 40);
  EXPECT_DOUBLE_EQ(m.error_rate, 0.025);
  EXPECT_DOUBLE_EQ(m.quality.at("accuracy"), 0.7);
  EXPECT_DOUBLE_EQ(*m.drift, 0.4);
  EXPECT_EQ(Describe(m), "40 requests, 1 errors (2.50%), p99 100.0 ms, accuracy 0.7, drift 0.4");
}

TEST(Quantile, AsPrometheusHistogramQuantile) {
  // 100 observations: 60 <= 0.1, 90 <= 0.2, 100 <= 0.4.
  std::map<double, double> h{{0.1, 60}, {0.2, 90}, {0.4, 100}, {HUGE_VAL, 100}};
  EXPECT_NEAR(*Quantile(0.5, h), 0.1 * 50 / 60, 1e-12);
  EXPECT_NEAR(*Quantile(0.75, h), 0.1 + 0.1 * 15 / 30, 1e-12);
  EXPECT_NEAR(*Quantile(0.99, h), 0.2 + 0.2 * 9 / 10, 1e-12);
  // Ranks that fall in +Inf answer the highest finite bound.
  std::map<double, double> slow{{0.1, 1}, {0.2, 2}, {HUGE_VAL, 100}};
  EXPECT_DOUBLE_EQ(*Quantile(0.99, slow), 0.2);
  EXPECT_FALSE(Quantile(0.99, {}));
  EXPECT_FALSE(Quantile(0.99, {{0.1, 0}, {HUGE_VAL, 0}}));
  // No requests: no p99 at all (not 0 ms).
  EXPECT_FALSE(Summarize(VersionCounters{}).p99_ms);
}

}  // namespace
}  // namespace forja::rollout
