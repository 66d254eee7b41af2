// Quality metrics and their CBPE estimates against scikit-learn 1.9.1 on the same rows. The rows
// are built alike in Python and here (the formulas in each test); the expectations come from
// sklearn.metrics accuracy_score, precision_score, recall_score (binary; average="macro"),
// roc_auc_score, log_loss, mean_absolute_error, mean_squared_error (square root) and
// mean_absolute_percentage_error over the non-zero labels; the CBPE numbers from numpy as
// NannyML defines them (mean of the top probability; expected confusion matrix; the ROC curve
// of cumulative expected positives and negatives, sklearn.metrics.auc).
#include "forja/monitor/quality.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

namespace forja::monitor {
namespace {

constexpr int kRows = 60;

std::map<std::string, double> AsMap(const QualityValues& v) {
  std::map<std::string, double> m;
  for (const auto& [k, x] : v) m[k] = x;
  return m;
}

double BinaryScore(int i) { return static_cast<double>((i * 37) % 97) / 97.0; }
int BinaryLabel(int i) { return (i * 53) % 89 + 30 * BinaryScore(i) > 50 ? 1 : 0; }

// Three classes: probabilities ((i*7 + j*13) % 11 + 1), normalized; labels as in Python.
std::vector<double> ThreeProbs(int i) {
  std::vector<double> p(3);
  double s = 0;
  for (int j = 0; j < 3; ++j) s += p[j] = (i * 7 + j * 13) % 11 + 1;
  for (double& x : p) x /= s;
  return p;
}
int ThreeLabel(int i) { return i % 4 ? (i * 5) % 3 : (i / 4) % 3; }
int ArgMax(const std::vector<double>& p) {
  int b = 0;
  for (int j = 1; j < static_cast<int>(p.size()); ++j)
    if (p[j] > p[b]) b = j;
  return b;
}

TEST(Quality, BinaryClassifierMatchesSklearn) {
  QualityCounts c(Task::kClassification, 2, true);
  for (int i = 0; i < kRows; ++i) {
    double p = BinaryScore(i), probs[2] = {1 - p, p};
    c.AddClass(BinaryLabel(i), p >= 0.5 ? 1 : 0, probs);
  }
  auto m = AsMap(ComputeQuality(c));
  EXPECT_EQ(c.labels(), 60u);
  EXPECT_NEAR(m.at("accuracy"), 0.5833333333333334, 1e-12);
  EXPECT_NEAR(m.at("precision"), 0.6896551724137931, 1e-12);
  EXPECT_NEAR(m.at("recall"), 0.5555555555555556, 1e-12);
  // Every score in a bin of its own: the binned AUC is the exact one.
  EXPECT_NEAR(m.at("roc_auc"), 0.6446759259259258, 1e-12);
  EXPECT_NEAR(m.at("log_loss"), 0.7567191400161893, 1e-12);
}

TEST(Quality, MulticlassIsMacroAsSklearn) {
  QualityCounts c(Task::kClassification, 3, true);
  for (int i = 0; i < kRows; ++i) {
    auto p = ThreeProbs(i);
    c.AddClass(ThreeLabel(i), ArgMax(p), p.data());
  }
  auto m = AsMap(ComputeQuality(c));
  EXPECT_NEAR(m.at("accuracy"), 0.31666666666666665, 1e-12);
  EXPECT_NEAR(m.at("precision"), 0.29585326953748003, 1e-12);
  EXPECT_NEAR(m.at("recall"), 0.3166666666666667, 1e-12);
  EXPECT_NEAR(m.at("log_loss"), 1.3065632185938527, 1e-12);
  EXPECT_EQ(m.count("roc_auc"), 0u);  // binary only
}

TEST(Quality, MacroCountsANeverPredictedClassAsZero) {
  // Class labels only (no probabilities): no log-loss, no AUC.
  int actual[] = {0, 1, 2, 3, 0, 1, 2, 3, 1, 1}, predicted[] = {0, 1, 1, 0, 0, 1, 2, 0, 1, 2};
  QualityCounts c(Task::kClassification, 5, false);  // class 4 never occurs: not in the mean
  for (int i = 0; i < 10; ++i) c.AddClass(actual[i], predicted[i], nullptr);
  auto m = AsMap(ComputeQuality(c));
  EXPECT_NEAR(m.at("accuracy"), 0.6, 1e-12);
  EXPECT_NEAR(m.at("precision"), 0.4375, 1e-12);  // sklearn, zero_division=0
  EXPECT_NEAR(m.at("recall"), 0.5625, 1e-12);
  EXPECT_EQ(m.count("log_loss"), 0u);
  EXPECT_EQ(m.count("roc_auc"), 0u);
}

TEST(Quality, ClassesZeroAndOneOnlyAreBinary) {
  // A classifier by class (k = 64 possible classes) seeing 0 and 1 only: binary precision/recall.
  int actual[] = {1, 1, 0, 0, 1, 0}, predicted[] = {1, 0, 1, 0, 1, 0};
  QualityCounts c(Task::kClassification, kMaxClasses, false);
  for (int i = 0; i < 6; ++i) c.AddClass(actual[i], predicted[i], nullptr);
  auto m = AsMap(ComputeQuality(c));
  EXPECT_NEAR(m.at("precision"), 2.0 / 3, 1e-12);  // sklearn: precision_score([1,1,0,0,1,0], [1,0,1,0,1,0])
  EXPECT_NEAR(m.at("recall"), 2.0 / 3, 1e-12);
  c.AddClass(2, 2, nullptr);  // a third class: macro over 0, 1, 2
  m = AsMap(ComputeQuality(c));
  EXPECT_NEAR(m.at("precision"), (2.0 / 3 + 2.0 / 3 + 1) / 3, 1e-12);
}

TEST(Quality, RegressorMatchesSklearnAndMapeSkipsZeroLabels) {
  QualityCounts c(Task::kRegression, 0, false);
  for (int i = 0; i < kRows; ++i) {
    double y = static_cast<double>((i * 37) % 101) / 10.0 - 3;
    if (i == 5 || i == 17) y = 0;
    c.AddValue(y, y + static_cast<double>((i * 13) % 7 - 3) / 4.0);
  }
  auto m = AsMap(ComputeQuality(c));
  EXPECT_NEAR(m.at("mae"), 0.4375, 1e-12);
  EXPECT_NEAR(m.at("rmse"), 0.5072392597844401, 1e-12);
  EXPECT_NEAR(m.at("mape"), 0.33073237896409846, 1e-12);
  EXPECT_EQ(m.count("accuracy"), 0u);
}

TEST(Quality, MergedBucketsEqualOneSet) {
  QualityCounts all(Task::kClassification, 2, true), a(Task::kClassification, 2, true), b(Task::kClassification, 2, true);
  for (int i = 0; i < kRows; ++i) {
    double p = BinaryScore(i), probs[2] = {1 - p, p};
    all.AddClass(BinaryLabel(i), p >= 0.5, probs);
    (i % 3 ? a : b).AddClass(BinaryLabel(i), p >= 0.5, probs);
  }
  a.Merge(b);
  auto x = AsMap(ComputeQuality(all)), y = AsMap(ComputeQuality(a));
  ASSERT_EQ(x.size(), 5u);
  for (const auto& [k, v] : x) EXPECT_NEAR(y.at(k), v, 1e-12) << k;
  a.Clear();
  EXPECT_TRUE(ComputeQuality(a).empty());
}

TEST(Quality, UndefinedMetricsAreLeftOut) {
  // Nothing predicted positive, no positive label: accuracy only (and log-loss); no AUC with one class.
  QualityCounts c(Task::kClassification, 2, true);
  double probs[2] = {0.9, 0.1};
  c.AddClass(0, 0, probs);
  c.AddClass(0, 0, probs);
  auto m = AsMap(ComputeQuality(c));
  EXPECT_EQ(m.at("accuracy"), 1.0);
  EXPECT_EQ(m.count("precision") + m.count("recall") + m.count("roc_auc"), 0u);
  EXPECT_NEAR(m.at("log_loss"), -std::log(0.9), 1e-12);
  // Out-of-range classes are not counted.
  c.AddClass(2, 0, probs);
  c.AddClass(0, -1, probs);
  EXPECT_EQ(c.labels(), 2u);
  // A regressor with only zero labels: no MAPE.
  QualityCounts r(Task::kRegression, 0, false);
  r.AddValue(0, 1.5);
  auto mr = AsMap(ComputeQuality(r));
  EXPECT_EQ(mr.at("mae"), 1.5);
  EXPECT_EQ(mr.count("mape"), 0u);
}

TEST(Quality, LogLossClipsCertainWrongAnswers) {
  QualityCounts c(Task::kClassification, 2, true);
  double probs[2] = {0.0, 1.0};
  c.AddClass(0, 1, probs);
  EXPECT_NEAR(AsMap(ComputeQuality(c)).at("log_loss"), -std::log(kLogLossEps), 1e-9);
}

TEST(Quality, BinnedAucCountsPairsInOneBinHalf) {
  // Positive and negative at 0.5001 and 0.5004 share a bin: counted as a tie (exact AUC would be 1).
  QualityCounts c(Task::kClassification, 2, true);
  double lo[2] = {0.4999, 0.5001}, hi[2] = {0.4996, 0.5004};
  c.AddClass(0, 1, lo);
  c.AddClass(1, 1, hi);
  EXPECT_EQ(AsMap(ComputeQuality(c)).at("roc_auc"), 0.5);
  EXPECT_EQ(AucBin(-1), 0);
  EXPECT_EQ(AucBin(NAN), 0);
  EXPECT_EQ(AucBin(1.0), kAucBins - 1);
  EXPECT_EQ(AucBin(0.2505), 250);
}

TEST(Estimate, BinaryCbpe) {
  EstimateCounts e(2);
  for (int i = 0; i < kRows; ++i) {
    double p = BinaryScore(i), probs[2] = {1 - p, p};
    e.Add(probs);
  }
  auto m = AsMap(EstimateQuality(e));
  EXPECT_EQ(e.rows(), 60u);
  EXPECT_NEAR(m.at("accuracy"), 0.7499999999999999, 1e-12);
  EXPECT_NEAR(m.at("precision"), 0.7440455030216853, 1e-12);
  EXPECT_NEAR(m.at("recall"), 0.7400990099009904, 1e-12);
  EXPECT_NEAR(m.at("roc_auc"), 0.8344236209335216, 1e-12);
}

TEST(Estimate, MulticlassCbpeAndBadRows) {
  EstimateCounts e(3), half(3);
  for (int i = 0; i < kRows; ++i) {
    auto p = ThreeProbs(i);
    (i < 30 ? e : half).Add(p.data());
  }
  e.Merge(half);
  double bad[3] = {NAN, 0.5, 0.5}, negative[3] = {-0.1, 0.6, 0.5};
  e.Add(bad);
  e.Add(negative);
  auto m = AsMap(EstimateQuality(e));
  EXPECT_EQ(e.rows(), 60u);
  EXPECT_NEAR(m.at("accuracy"), 0.51026074172359, 1e-12);
  EXPECT_NEAR(m.at("precision"), 0.5508671038856797, 1e-12);
  EXPECT_NEAR(m.at("recall"), 0.5035010839605484, 1e-12);
  EXPECT_EQ(m.count("roc_auc"), 0u);
  e.Clear();
  EXPECT_TRUE(EstimateQuality(e).empty());
}

}  // namespace
}  // namespace forja::monitor
