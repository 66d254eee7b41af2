// forja rollout's options: steps, durations, shares, quality thresholds and URLs are read
// strictly, and a bad one is a one-line error naming the option and what to write.
#include <gtest/gtest.h>

#include "forja/rollout/options.h"

namespace forja::rollout {
namespace {

template <typename T>
std::string Error(const Result<T>& r) {
  return r.ok() ? "ok" : r.status().message();
}

TEST(Steps, ReadsIncreasingPercents) {
  auto s = ParseSteps("5,25,50,100");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(*s, (std::vector<int>{5, 25, 50, 100}));
  EXPECT_EQ(StepsText(*s), "5,25,50,100");
  EXPECT_EQ(*ParseSteps("100"), std::vector<int>{100});
  EXPECT_EQ(*ParseSteps(" 10 , 20 "), (std::vector<int>{10, 20}));
}

TEST(Steps, RefusesWhatIsNotAPlan) {
  EXPECT_EQ(Error(ParseSteps("5,3")),
            "--steps '5,3': 3 does not increase on 5; write increasing percents, e.g. --steps 5,25,50,100");
  EXPECT_EQ(Error(ParseSteps("0")), "--steps '0': 0 is not within 1..100; write increasing percents, e.g. --steps 5,25,50,100");
  EXPECT_NE(Error(ParseSteps("5,101")).find("101 is not within 1..100"), std::string::npos);
  EXPECT_NE(Error(ParseSteps("5,5")).find("5 does not increase on 5"), std::string::npos);
  EXPECT_NE(Error(ParseSteps("")).find("no steps"), std::string::npos);
  EXPECT_NE(Error(ParseSteps("5,,10")).find("'' is not a whole percent"), std::string::npos);
  EXPECT_NE(Error(ParseSteps("5,-1")).find("'-1' is not a whole percent"), std::string::npos);
  EXPECT_NE(Error(ParseSteps("2.5")).find("'2.5' is not a whole percent"), std::string::npos);
  EXPECT_NE(Error(ParseSteps("5,")).find("'' is not a whole percent"), std::string::npos);
  EXPECT_NE(Error(ParseSteps("99999999999")).find("is not a whole percent"), std::string::npos);
}

TEST(Duration, ReadsUnits) {
  EXPECT_EQ(*ParseDurationMs("60s", "--interval"), 60000);
  EXPECT_EQ(*ParseDurationMs("500ms", "--interval"), 500);
  EXPECT_EQ(*ParseDurationMs("2m", "--interval"), 120000);
  EXPECT_EQ(*ParseDurationMs("1h", "--interval"), 3600000);
  EXPECT_EQ(*ParseDurationMs("1.5s", "--interval"), 1500);
  EXPECT_EQ(*ParseDurationMs("30", "--apply-timeout"), 30000);
}

TEST(Duration, RefusesNonsense) {
  EXPECT_EQ(Error(ParseDurationMs("soon", "--interval")),
            "--interval 'soon': not a duration; write e.g. 500ms, 60s, 2m or 1h");
  EXPECT_EQ(Error(ParseDurationMs("10d", "--interval")), "--interval '10d': not a duration; write e.g. 500ms, 60s, 2m or 1h");
  EXPECT_EQ(Error(ParseDurationMs("0s", "--interval")), "--interval '0s': must be between 1ms and 7 days");
  EXPECT_EQ(Error(ParseDurationMs("-5s", "--interval")), "--interval '-5s': not a duration; write e.g. 500ms, 60s, 2m or 1h");
  EXPECT_NE(Error(ParseDurationMs("9999999h", "--interval")).find("between 1ms and 7 days"), std::string::npos);
  EXPECT_NE(Error(ParseDurationMs("", "--interval")).find("not a duration"), std::string::npos);
  EXPECT_NE(Error(ParseDurationMs("1..2s", "--interval")).find("not a duration"), std::string::npos);
}

TEST(Share, ReadsPercentsAndShares) {
  EXPECT_DOUBLE_EQ(*ParseShare("1%", "--max-error-rate"), 0.01);
  EXPECT_DOUBLE_EQ(*ParseShare("0.5%", "--max-error-rate"), 0.005);
  EXPECT_DOUBLE_EQ(*ParseShare("0.02", "--max-error-rate"), 0.02);
  EXPECT_DOUBLE_EQ(*ParseShare("0%", "--max-error-rate"), 0);
  EXPECT_EQ(Error(ParseShare("150%", "--max-error-rate")), "--max-error-rate '150%': must be between 0% and 100%");
  EXPECT_EQ(Error(ParseShare("lots", "--max-drift")),
            "--max-drift 'lots': not a number; write a percent (1%) or a share (0.01)");
  EXPECT_NE(Error(ParseShare("nan", "--max-drift")).find("not a number"), std::string::npos);
  EXPECT_NE(Error(ParseShare("inf%", "--max-drift")).find("not a number"), std::string::npos);
}

TEST(Quality, ReadsMetricAndMinimum) {
  auto q = ParseQualityMin("accuracy>=0.9");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->metric, "accuracy");
  EXPECT_DOUBLE_EQ(q->min, 0.9);
  EXPECT_EQ(ParseQualityMin(" roc_auc >= 0.75 ")->metric, "roc_auc");
  EXPECT_EQ(Error(ParseQualityMin("accuracy>0.9")),
            "--min-quality 'accuracy>0.9': no >=; write METRIC>=X, e.g. --min-quality accuracy>=0.9");
  EXPECT_NE(Error(ParseQualityMin(">=0.9")).find("no metric name"), std::string::npos);
  EXPECT_NE(Error(ParseQualityMin("acc uracy>=0.9")).find("is not a metric name"), std::string::npos);
  EXPECT_NE(Error(ParseQualityMin("accuracy>=high")).find("'high' is not a number"), std::string::npos);
}

TEST(Url, TakesHttpBaseUrls) {
  EXPECT_EQ(*ParseBaseUrl("http://127.0.0.1:8080/", "--server"), "http://127.0.0.1:8080");
  EXPECT_EQ(*ParseBaseUrl("https://serve.example", "--server"), "https://serve.example");
  EXPECT_EQ(Error(ParseBaseUrl("127.0.0.1:8080", "--server")),
            "--server '127.0.0.1:8080': not an http(s) base URL; write e.g. http://10.0.0.5:8080");
  EXPECT_NE(Error(ParseBaseUrl("http://", "--server")).find("not an http(s) base URL"), std::string::npos);
  EXPECT_NE(Error(ParseBaseUrl("http://a/metrics?x=1", "--prometheus")).find("--prometheus"), std::string::npos);
  // Credentials are refused, and the message does not repeat the password.
  std::string creds = Error(ParseBaseUrl("http://admin:s3cret@prom:9090", "--prometheus"));
  EXPECT_NE(creds.find("credentials in the URL are not supported"), std::string::npos) << creds;
  EXPECT_EQ(creds.find("s3cret"), std::string::npos) << creds;
}

}  // namespace
}  // namespace forja::rollout
