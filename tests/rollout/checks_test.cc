// A step passes only when the candidate answered enough requests and every threshold
// holds; a failure names the check and its numbers.
#include <gtest/gtest.h>

#include "forja/rollout/checks.h"

namespace forja::rollout {
namespace {

StepMetrics Step(double requests, double errors, double p99_ms) {
  StepMetrics m;
  m.requests = requests, m.errors = errors, m.error_rate = requests > 0 ? errors / requests : 0, m.p99_ms = p99_ms;
  return m;
}

TEST(Checks, PassesWithinThresholds) {
  Thresholds t;
  t.max_error_rate = 0.01, t.max_p99_ms = 50, t.min_requests = 10;
  Verdict v = CheckStep(Step(200, 2, 40), t);
  EXPECT_TRUE(v.pass) << v.message;
}

TEST(Checks, TooFewRequestsIsNotAPass) {
  Thresholds t;  // no thresholds at all: still needs traffic
  Verdict v = CheckStep(Step(0, 0, 0), t);
  EXPECT_FALSE(v.pass);
  EXPECT_EQ(v.check, "min-requests");
  EXPECT_EQ(v.message,
            "the candidate answered 0 requests in the step, fewer than 1 (--min-requests): no traffic reached it, nothing was proven");
  t.min_requests = 50;
  EXPECT_EQ(CheckStep(Step(49, 0, 1), t).check, "min-requests");
  EXPECT_TRUE(CheckStep(Step(50, 0, 1), t).pass);
}

TEST(Checks, ErrorRateNamesTheNumbers) {
  Thresholds t;
  t.max_error_rate = 0.01;
  Verdict v = CheckStep(Step(40, 5, 3), t);
  EXPECT_FALSE(v.pass);
  EXPECT_EQ(v.check, "max-error-rate");
  EXPECT_EQ(v.message, "error rate 12.50% (5 of 40 requests answered 5xx) > max 1.00%");
  EXPECT_TRUE(CheckStep(Step(100, 1, 3), t).pass);  // exactly at the maximum passes
}

TEST(Checks, LatencyQualityAndDrift) {
  Thresholds t;
  t.max_p99_ms = 20;
  Verdict v = CheckStep(Step(10, 0, 25), t);
  EXPECT_EQ(v.check, "max-p99-ms");
  EXPECT_EQ(v.message, "p99 latency 25.0 ms (10 requests) > max 20.0 ms");

  Thresholds q;
  q.min_quality = QualityMin{"accuracy", 0.9};
  StepMetrics m = Step(10, 0, 1);
  EXPECT_EQ(CheckStep(m, q).check, "min-quality");  // no labels yet: not a pass
  EXPECT_NE(CheckStep(m, q).message.find("no server reports the candidate's accuracy"), std::string::npos);
  m.quality["accuracy"] = 0.85;
  EXPECT_EQ(CheckStep(m, q).message, "accuracy 0.85 < min 0.9");
  m.quality["accuracy"] = 0.95;
  EXPECT_TRUE(CheckStep(m, q).pass);

  Thresholds d;
  d.max_drift = 0.3;
  m.drift.reset();
  EXPECT_EQ(CheckStep(m, d).check, "max-drift");
  m.drift = 0.5;
  EXPECT_EQ(CheckStep(m, d).message, "drift share 0.5 > max 0.3");
  m.drift = 0.2;
  EXPECT_TRUE(CheckStep(m, d).pass);
}

}  // namespace
}  // namespace forja::rollout
