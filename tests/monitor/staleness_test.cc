// The stale verdict (monitor/staleness.h): each reason against its threshold, 0 turning a check
// off, unknown values never a reason, a clock in the future giving age 0, and the report lines.
// How the times are found in the metadata store: tests/registry/staleness_facts_test.cc.
#include <gtest/gtest.h>

#include <cmath>

#include "forja/monitor/staleness.h"

namespace forja::monitor {
namespace {

constexpr double kDay = 86400;

TEST(Staleness, ReasonNamesAreTheFixedSet) {
  const char* names[] = {"model_age", "data_age", "since_promotion", "drift", "quality"};
  for (size_t i = 0; i < kStaleReasons; ++i) EXPECT_STREQ(StaleReasonName(static_cast<StaleReason>(i)), names[i]);
}

TEST(Staleness, FreshVersionIsNotStale) {
  StalenessInput in;
  in.model_age_s = 10 * kDay;
  in.data_age_s = 20 * kDay;
  in.since_promotion_s = 5 * kDay;
  in.drifted_for_s = 0;
  in.quality_below = false;
  StalenessVerdict v = JudgeStaleness(in, StalenessThresholds{});
  EXPECT_FALSE(v.stale);
  EXPECT_EQ(StaleReasonList(v), "");
}

TEST(Staleness, EachReasonAgainstItsThreshold) {
  StalenessThresholds t;
  t.max_model_age_s = 30 * kDay;
  t.max_data_age_s = 60 * kDay;
  t.max_since_promotion_s = 7 * kDay;
  t.drifted_for_s = 3600;
  StalenessInput in;
  in.model_age_s = 31 * kDay;
  in.data_age_s = 61 * kDay;
  in.since_promotion_s = 8 * kDay;
  in.drifted_for_s = 3601;
  in.quality_below = true;
  StalenessVerdict v = JudgeStaleness(in, t);
  EXPECT_TRUE(v.stale);
  for (size_t i = 0; i < kStaleReasons; ++i) EXPECT_TRUE(v.reasons[i]) << StaleReasonName(static_cast<StaleReason>(i));
  EXPECT_EQ(StaleReasonList(v), "model_age, data_age, since_promotion, drift, quality");

  // Exactly at a threshold is not beyond it.
  in = {};
  in.model_age_s = 30 * kDay;
  in.drifted_for_s = 3600;
  EXPECT_FALSE(JudgeStaleness(in, t).stale);

  // One reason alone.
  in.data_age_s = 90 * kDay;
  v = JudgeStaleness(in, t);
  EXPECT_TRUE(v.stale);
  EXPECT_TRUE(v.has(StaleReason::kDataAge));
  EXPECT_FALSE(v.has(StaleReason::kModelAge));
  EXPECT_EQ(StaleReasonList(v), "data_age");
}

TEST(Staleness, ZeroTurnsACheckOff) {
  StalenessThresholds t;
  t.max_model_age_s = t.max_data_age_s = t.max_since_promotion_s = t.drifted_for_s = 0;
  StalenessInput in;
  in.model_age_s = in.data_age_s = in.since_promotion_s = in.drifted_for_s = 1e9;
  EXPECT_FALSE(JudgeStaleness(in, t).stale);
  // The default leaves the time since promotion unchecked.
  StalenessInput promoted;
  promoted.since_promotion_s = 1e9;
  EXPECT_FALSE(JudgeStaleness(promoted, StalenessThresholds{}).stale);
}

TEST(Staleness, UnknownValuesAreNoReason) {
  StalenessThresholds t;
  t.max_model_age_s = t.max_data_age_s = t.max_since_promotion_s = t.drifted_for_s = 1;
  EXPECT_FALSE(JudgeStaleness(StalenessInput{}, t).stale);  // nothing known: a package folder, unmonitored
  StalenessInput nan;
  nan.model_age_s = std::nan("");
  EXPECT_FALSE(JudgeStaleness(nan, t).stale);
}

TEST(Staleness, AgesNeverNegative) {
  EXPECT_EQ(AgeSeconds(std::nullopt, 5000), std::nullopt);
  EXPECT_DOUBLE_EQ(*AgeSeconds(1000, 3500), 2.5);
  // A clock in the future (the machine that logged the run is ahead): age 0, not negative.
  EXPECT_DOUBLE_EQ(*AgeSeconds(9000, 3500), 0.0);
  EXPECT_DOUBLE_EQ(*AgeSeconds(3500, 3500), 0.0);
  StalenessInput in;
  in.model_age_s = AgeSeconds(9000, 3500);
  StalenessThresholds t;
  t.max_model_age_s = 1;
  EXPECT_FALSE(JudgeStaleness(in, t).stale);
}

TEST(Staleness, HumanDurations) {
  EXPECT_EQ(HumanDuration(0), "0s");
  EXPECT_EQ(HumanDuration(59.9), "59s");
  EXPECT_EQ(HumanDuration(754), "12m");
  EXPECT_EQ(HumanDuration(3 * 3600 + 20 * 60), "3h 20m");
  EXPECT_EQ(HumanDuration(97 * kDay + 4 * 3600 + 5), "97d 4h");
  EXPECT_EQ(HumanDuration(2 * kDay), "2d");
  EXPECT_EQ(HumanDuration(-1), "-");
  EXPECT_EQ(HumanDuration(std::nan("")), "-");
}

TEST(Staleness, ReportLines) {
  StalenessThresholds t;
  t.max_model_age_s = kDay;
  StalenessInput in;
  in.model_age_s = 2 * kDay;
  in.since_promotion_s = 3600;
  StalenessVerdict v = JudgeStaleness(in, t);
  auto lines = StalenessLines(in, t, v, {"run 1a2b3c4d's end", "", "moved to @champion"});
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "model age        2d        max 1d      (run 1a2b3c4d's end)");
  EXPECT_EQ(lines[1], "training data    unknown   max 180d");
  EXPECT_EQ(lines[2], "since promotion  1h        off         (moved to @champion)");
  EXPECT_EQ(lines[3], "Stale: model_age");
  in.drifted_for_s = 0;
  in.quality_below = false;
  in.model_age_s = 1;
  v = JudgeStaleness(in, t);
  lines = StalenessLines(in, t, v, {});
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[3], "drifting for     0s        max 1h");
  EXPECT_EQ(lines[4], "quality          ok");
  EXPECT_EQ(lines[5], "Not stale");
}

}  // namespace
}  // namespace forja::monitor
