// Quality from feedback per served version (serve/quality.h), without a server: which outputs
// make a classifier or a regressor, the join's results, the bounded map of kept predictions,
// the window, the estimate, the gates, and the series. tests/serve/quality_test.py drives the
// real forja serve; server_test.cc's FeedbackJoinsWithTheLogOff the routes with the log off.
#include "forja/serve/quality.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>

namespace forja::serve {
namespace {

using Clock = QualityTracker::Clock;
using std::chrono::seconds;
using Kind = LabelValue::Kind;

template <typename T>
Tensor Make(const std::string& name, const std::string& dt, std::vector<int64_t> shape, const std::vector<T>& v) {
  Tensor t{name, dt, std::move(shape), std::string(v.size() * sizeof(T), '\0')};
  std::memcpy(t.data.data(), v.data(), t.data.size());
  return t;
}

MonitorOptions Options(double window = 60, int max_predictions = 1000, std::string task = "") {
  MonitorOptions o;
  o.window_s = window;
  o.interval_s = 1;
  o.max_predictions = max_predictions;
  o.task = std::move(task);
  return o;
}

std::vector<LabelValue> Numbers(std::vector<double> v) {
  std::vector<LabelValue> out;
  for (double x : v) out.push_back({Kind::kNumber, x});
  return out;
}

std::map<std::string, double> AsMap(const monitor::QualityValues& v) {
  std::map<std::string, double> m;
  for (const auto& [k, x] : v) m[k] = x;
  return m;
}

std::unique_ptr<QualityTracker> Create(std::vector<TensorSpec> outputs, MonitorOptions o, Clock::time_point now,
                                       std::string* note = nullptr) {
  std::string n;
  return QualityTracker::Create(outputs, nullptr, "", o, now, note ? note : &n);
}

TEST(QualityTracker, WhichOutputsMakeWhat) {
  auto t0 = Clock::now();
  std::string note;
  EXPECT_STREQ(Create({{"probability", "FP32", {-1}}}, Options(), t0)->kind(), "classification");
  EXPECT_STREQ(Create({{"label", "INT64", {-1}}, {"probabilities", "FP32", {-1, 3}}}, Options(), t0)->kind(), "classification");
  EXPECT_STREQ(Create({{"label", "INT64", {-1}}}, Options(), t0)->kind(), "classification");
  EXPECT_STREQ(Create({{"y", "FP32", {-1}}}, Options(), t0)->kind(), "regression");
  EXPECT_STREQ(Create({{"y", "FP32", {-1}}}, Options(60, 1000, "classification"), t0)->kind(), "classification");
  EXPECT_STREQ(Create({{"probability", "FP32", {-1}}}, Options(60, 1000, "regression"), t0)->kind(), "regression");
  EXPECT_EQ(Create({{"text", "BYTES", {-1}}}, Options(), t0, &note), nullptr);
  EXPECT_NE(note.find("output 'text' (BYTES)"), std::string::npos) << note;
  EXPECT_EQ(Create({{"p", "FP32", {-1, 65}}}, Options(), t0, &note), nullptr);
  EXPECT_NE(note.find("at most 64 classes"), std::string::npos) << note;
  EXPECT_EQ(Create({{"y", "FP32", {-1}}}, Options(60, 0), t0, &note), nullptr);
  EXPECT_EQ(note, "monitoring.max_predictions is 0");
}

TEST(QualityTracker, MulticlassJoinWindowAndEstimate) {
  auto t0 = Clock::now();
  auto q = Create({{"label", "INT64", {-1}}, {"probabilities", "FP32", {-1, 3}}}, Options(), t0);
  // Two requests: rows predicted 0 and 2 (argmax), then 1.
  q->Record("a", {Make<float>("probabilities", "FP32", {2, 3}, {0.7f, 0.2f, 0.1f, 0.1f, 0.3f, 0.6f})}, t0);
  q->Record("b", {Make<float>("probabilities", "FP32", {1, 3}, {0.2f, 0.5f, 0.3f})}, t0);
  std::string why;
  EXPECT_EQ(q->AddLabels("a", Numbers({0}), false, &why), FeedbackResult::kWrongShape);
  EXPECT_NE(why.find("the request had 2 rows: give a list of 2 labels, not one"), std::string::npos) << why;
  EXPECT_EQ(q->AddLabels("a", Numbers({0, 3}), true, &why), FeedbackResult::kWrongType);
  EXPECT_NE(why.find("label 1: a classifier's label must be a class number from 0 to 2"), std::string::npos) << why;
  EXPECT_EQ(q->AddLabels("a", Numbers({0, 0.5}), true, &why), FeedbackResult::kWrongType);
  EXPECT_EQ(q->AddLabels("a", {{Kind::kOther, 0}, {Kind::kNumber, 1}}, true, &why), FeedbackResult::kWrongType);
  // Hostile values: huge numbers, negative classes, a list far longer than the request.
  EXPECT_EQ(q->AddLabels("a", Numbers({1e308, 0}), true, &why), FeedbackResult::kWrongType);
  EXPECT_EQ(q->AddLabels("a", Numbers({-1, 0}), true, &why), FeedbackResult::kWrongType);
  EXPECT_EQ(q->AddLabels("a", Numbers(std::vector<double>(100000, 1)), true, &why), FeedbackResult::kWrongShape);
  EXPECT_EQ(q->AddLabels(std::string(10000, 'a'), Numbers({1}), false, &why), FeedbackResult::kUnknownRequestId);
  EXPECT_EQ(q->AddLabels("a", Numbers({0, 1}), true, &why), FeedbackResult::kJoined);
  EXPECT_EQ(q->AddLabels("a", Numbers({0, 2}), true, &why), FeedbackResult::kDuplicate);
  EXPECT_EQ(q->AddLabels("b", {{Kind::kBool, 1}}, false, &why), FeedbackResult::kJoined);
  EXPECT_EQ(q->AddLabels("zz", Numbers({1}), false, &why), FeedbackResult::kUnknownRequestId);
  EXPECT_EQ(q->Snapshot()->labels, 0u);  // nothing published before the collector runs
  q->Collect(t0 + seconds(1));
  auto s = q->Snapshot();
  EXPECT_EQ(s->labels, 3u);
  auto m = AsMap(s->quality);
  EXPECT_NEAR(m.at("accuracy"), 2.0 / 3, 1e-12);  // rows: (0, 0) right, (1, 2) wrong, (1, 1) right
  EXPECT_EQ(m.count("roc_auc"), 0u);
  EXPECT_NEAR(m.at("log_loss"), -(std::log(0.7f) + std::log(0.3f) + std::log(0.5f)) / 3, 1e-6);
  EXPECT_EQ(s->estimate_rows, 3u);
  EXPECT_NEAR(AsMap(s->estimate).at("accuracy"), (0.7 + 0.6 + 0.5) / 3, 1e-6);
  EXPECT_EQ(q->results(FeedbackResult::kJoined), 2u);
  EXPECT_EQ(q->results(FeedbackResult::kWrongType), 5u);
  EXPECT_EQ(q->results(FeedbackResult::kWrongShape), 2u);
  EXPECT_EQ(q->results(FeedbackResult::kDuplicate), 1u);
  EXPECT_EQ(q->results(FeedbackResult::kUnknownRequestId), 0u);  // the route counts those per model
  // The window slides: a minute later the labels and the estimate are gone.
  q->Collect(t0 + seconds(62));
  s = q->Snapshot();
  EXPECT_EQ(s->labels, 0u);
  EXPECT_TRUE(s->quality.empty());
  EXPECT_EQ(s->estimate_rows, 0u);
}

TEST(QualityTracker, KeptPredictionsAreBoundedByAgeAndRows) {
  auto t0 = Clock::now();
  auto q = Create({{"y", "FP64", {-1}}}, Options(10, 16), t0);  // 2 values (rows of one value) a shard
  q->Record("old", {Make<double>("y", "FP64", {1}, {1.0})}, t0);
  q->Collect(t0 + seconds(11));
  EXPECT_EQ(q->evicted_age(), 1u);
  EXPECT_EQ(q->Snapshot()->kept, 0u);
  std::string why;
  EXPECT_EQ(q->AddLabels("old", Numbers({1}), false, &why), FeedbackResult::kUnknownRequestId);
  for (int i = 0; i < 100; ++i) q->Record("r" + std::to_string(i), {Make<double>("y", "FP64", {1}, {1.0})}, t0 + seconds(12));
  q->Record("big", {Make<double>("y", "FP64", {3}, {1, 2, 3})}, t0 + seconds(12));  // more than a shard holds
  q->Collect(t0 + seconds(13));
  EXPECT_LE(q->Snapshot()->kept, 16u);
  EXPECT_EQ(q->evicted_capacity(), 100u - q->Snapshot()->kept + 1);
  EXPECT_EQ(q->AddLabels("r99", Numbers({1}), false, &why), FeedbackResult::kJoined);  // the newest are kept
  EXPECT_EQ(q->AddLabels("big", Numbers({1, 2, 3}), true, &why), FeedbackResult::kUnknownRequestId);
  // A regressor's labels: finite numbers only.
  q->Record("s", {Make<double>("y", "FP64", {1}, {2.0})}, t0 + seconds(13));
  EXPECT_EQ(q->AddLabels("s", {{Kind::kBool, 1}}, false, &why), FeedbackResult::kWrongType);
  EXPECT_EQ(q->AddLabels("s", Numbers({INFINITY}), false, &why), FeedbackResult::kWrongType);
  EXPECT_EQ(q->AddLabels("s", Numbers({4}), false, &why), FeedbackResult::kJoined);
  q->Collect(t0 + seconds(14));
  auto m = AsMap(q->Snapshot()->quality);
  EXPECT_EQ(m.at("mae"), 1.0);    // |1 - 1| and |4 - 2|
  EXPECT_EQ(m.at("mape"), 0.25);  // (0 + 0.5) / 2
}

TEST(QualityTracker, ManyIdsLeaveOldestFirstAndTheRestStayFindable) {
  // Enough ids that every shard's index and ring grow, wrap and evict through long probe runs.
  auto t0 = Clock::now();
  auto q = Create({{"y", "FP64", {-1}}}, Options(10, 4000), t0);  // 500 values a shard
  const int n = 20000;
  for (int i = 0; i < n; ++i)
    q->Record("id" + std::to_string(i), {Make<double>("y", "FP64", {1}, {static_cast<double>(i)})},
              t0 + std::chrono::milliseconds(i / 10));
  q->Collect(t0 + seconds(3));
  EXPECT_EQ(q->Snapshot()->kept, 4000u);
  EXPECT_EQ(q->evicted_capacity(), static_cast<uint64_t>(n) - 4000);
  std::string why;
  uint64_t joined = 0;
  for (int i = 0; i < n; ++i) {
    FeedbackResult r = q->AddLabels("id" + std::to_string(i), Numbers({static_cast<double>(i)}), false, &why);
    if (i < n / 2) {
      EXPECT_EQ(r, FeedbackResult::kUnknownRequestId) << i;
    } else if (i >= n - 100) {
      EXPECT_EQ(r, FeedbackResult::kJoined) << i;
    }
    joined += r == FeedbackResult::kJoined;
  }
  EXPECT_EQ(joined, 4000u);
  q->Collect(t0 + seconds(4));
  EXPECT_EQ(AsMap(q->Snapshot()->quality).at("mae"), 0.0);  // every label met its own prediction
  q->Collect(t0 + seconds(20));
  EXPECT_EQ(q->Snapshot()->kept, 0u);
  EXPECT_EQ(q->evicted_age(), 4000u);
}

TEST(QualityTracker, AReusedRequestIdKeepsTheNewerPrediction) {
  auto t0 = Clock::now();
  auto q = Create({{"y", "FP32", {-1}}}, Options(10), t0);
  q->Record("x", {Make<float>("y", "FP32", {2}, {1, 2})}, t0);
  q->Record("x", {Make<float>("y", "FP32", {1}, {5})}, t0 + seconds(5));
  q->Collect(t0 + seconds(6));
  EXPECT_EQ(q->Snapshot()->kept, 1u);
  std::string why;
  EXPECT_EQ(q->AddLabels("x", Numbers({1, 2}), true, &why), FeedbackResult::kWrongShape);  // the older one's shape
  EXPECT_EQ(q->AddLabels("x", Numbers({6}), false, &why), FeedbackResult::kJoined);
  // The older prediction's turn to leave passes without a trace; the newer one leaves at its own.
  q->Collect(t0 + seconds(11));
  EXPECT_EQ(q->Snapshot()->kept, 1u);
  EXPECT_EQ(q->evicted_age(), 0u);
  q->Collect(t0 + seconds(16));
  EXPECT_EQ(q->Snapshot()->kept, 0u);
  EXPECT_EQ(q->evicted_age(), 1u);
  EXPECT_EQ(AsMap(q->Snapshot()->quality).at("mae"), 1.0);
}

TEST(QualityTracker, BelowTheProductionGates) {
  QualitySnapshot s;
  s.labels = 100;
  s.quality = {{"accuracy", 0.8}, {"log_loss", 0.4}};
  std::vector<monitor::QualityGate> gates = {{"churn", "accuracy", ">=", 0.9, "metrics.accuracy >= 0.9"},
                                             {"*", "log_loss", "<", 0.5, "metrics.log_loss < 0.5"},
                                             {"fraud", "accuracy", ">=", 0.5, "metrics.accuracy >= 0.5"}};
  EXPECT_EQ(QualityBelowGates(s, "churn", gates, 50), std::optional<bool>(true));
  EXPECT_EQ(QualityBelowGates(s, "fraud", gates, 50), std::optional<bool>(false));
  EXPECT_EQ(QualityBelowGates(s, "other", {gates[0]}, 50), std::nullopt);  // no gate of its own
  EXPECT_EQ(QualityBelowGates(s, "churn", gates, 500), std::nullopt);      // too few labels
  s.quality = {{"log_loss", 0.6}};
  EXPECT_EQ(QualityBelowGates(s, "fraud", gates, 50), std::optional<bool>(true));
}

TEST(QualityTracker, SeriesOnMetrics) {
  auto t0 = Clock::now();
  auto q = Create({{"probability", "FP32", {-1}}}, Options(), t0);
  q->Record("a", {Make<float>("probability", "FP32", {2}, {0.75f, 0.25f})}, t0);
  std::string why;
  ASSERT_EQ(q->AddLabels("a", Numbers({1, 1}), true, &why), FeedbackResult::kJoined);
  q->Collect(t0 + seconds(1));
  std::string out;
  RenderQualityMetrics({{"churn", "3", q.get(), q->Snapshot()}}, {{"churn", 4}}, &out);
  for (const char* line : {"forja_model_quality{model=\"churn\",version=\"3\",metric=\"accuracy\"} 0.5\n",
                           "forja_model_quality{model=\"churn\",version=\"3\",metric=\"precision\"} 1\n",
                           "forja_model_quality{model=\"churn\",version=\"3\",metric=\"recall\"} 0.5\n",
                           "forja_model_quality_estimated{model=\"churn\",version=\"3\",metric=\"accuracy\"} 0.75\n",
                           "forja_model_quality_window_labels{model=\"churn\",version=\"3\"} 2\n",
                           "forja_model_quality_estimated_window_rows{model=\"churn\",version=\"3\"} 2\n",
                           "forja_model_feedback_predictions_kept{model=\"churn\",version=\"3\"} 2\n",
                           "forja_model_feedback_predictions_evicted_total{model=\"churn\",version=\"3\",reason=\"capacity\"} 0\n",
                           "forja_model_feedback_labels_total{model=\"churn\",version=\"3\",result=\"joined\"} 1\n",
                           "forja_model_feedback_labels_total{model=\"churn\",version=\"\",result=\"unknown_request_id\"} 4\n",
                           "# TYPE forja_model_feedback_labels_total counter\n"})
    EXPECT_NE(out.find(line), std::string::npos) << line << "\n" << out;
  // Both labels are 1: no ROC AUC from the labels (one class); the estimate has one.
  EXPECT_EQ(out.find("forja_model_quality{model=\"churn\",version=\"3\",metric=\"roc_auc\"}"), std::string::npos) << out;
  EXPECT_NE(out.find("forja_model_quality_estimated{model=\"churn\",version=\"3\",metric=\"roc_auc\"}"), std::string::npos);
}

}  // namespace
}  // namespace forja::serve
