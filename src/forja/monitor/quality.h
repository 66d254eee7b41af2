// Model quality from ground truth, and its estimate before ground truth arrives
// (docs/monitoring.md, "Quality from feedback").
//
// QualityCounts holds what the quality metrics need of a set of labeled predictions, as counts
// and sums that add up: a collector keeps one per time bucket and sums the buckets of a window
// (Merge) to get exactly what one set fed every labeled row would hold. ComputeQuality turns
// the counts into metrics the way scikit-learn computes them (accuracy_score,
// precision_score / recall_score with average="binary" or "macro", roc_auc_score, log_loss,
// mean_absolute_error, root_mean_squared_error; MAPE over the non-zero labels only).
//
// EstimateCounts holds the same for predicted probabilities alone: confidence-based
// performance estimation (CBPE, as NannyML does it) assumes calibrated scores, so each row
// counts as its probabilities say it is right or wrong: the expected accuracy is the mean of
// the highest class probability, and the expected confusion matrix gives precision, recall and
// (binary) ROC AUC.
//
// ROC AUC is binned: scores in [0, 1] fall into kAucBins equal bins and pairs of a positive and
// a negative in one bin count half, as tied scores do in scikit-learn. It equals the exact AUC
// when no positive and negative share a bin, and is within the share of such pairs of it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace forja::monitor {

enum class Task { kClassification, kRegression };

inline constexpr int kAucBins = 1000;
inline constexpr int kMaxClasses = 64;  // wider classifiers are not tracked (a k x k matrix per bucket)
inline constexpr double kLogLossEps = 1e-15;

// One metric: its name (accuracy, precision, recall, roc_auc, log_loss, mae, rmse, mape) and value.
using QualityValues = std::vector<std::pair<const char*, double>>;

class QualityCounts {
 public:
  // classes: k >= 2 for a classifier; probabilities: whether rows come with class
  // probabilities (log-loss; ROC AUC when k == 2). Ignored for a regressor.
  QualityCounts(Task task, int classes, bool probabilities);

  // One labeled row of a classifier: classes are 0..k-1; `probs` (k values) or null.
  void AddClass(int actual, int predicted, const double* probs);
  // One labeled row of a regressor.
  void AddValue(double actual, double predicted);

  void Merge(const QualityCounts& o);
  void Clear();

  uint64_t labels() const { return n_; }
  Task task() const { return task_; }

 private:
  friend QualityValues ComputeQuality(const QualityCounts& c);
  Task task_;
  int k_;
  bool probs_;
  uint64_t n_ = 0;
  // Classifier: confusion[actual * k + predicted]; log-loss sum; binary scores histogram.
  std::vector<uint64_t> confusion_;
  double log_loss_ = 0;
  std::vector<uint64_t> pos_hist_, neg_hist_;
  // Regressor: sums of |e|, e^2, |e| / |y| (over y != 0, counted in ape_n_).
  double abs_ = 0, sq_ = 0, ape_ = 0;
  uint64_t ape_n_ = 0;
};

// The metrics of the counts; a metric that is undefined here (no labels; binary precision with
// nothing predicted positive; recall with no positive label; ROC AUC with one class only;
// MAPE with every label 0) is left out. Classifiers: accuracy, precision, recall (binary:
// class 1 is the positive one; multiclass: the unweighted mean over the classes that occur as
// label or prediction, 0 for a class never predicted or never labeled, as scikit-learn's
// macro average; a classifier without probabilities whose labels and predictions are all 0 or
// 1 is binary), roc_auc (binary with probabilities), log_loss (with probabilities);
// regressors: mae, rmse, mape (a fraction, not a percentage).
QualityValues ComputeQuality(const QualityCounts& c);

// Expected quality from a classifier's class probabilities (CBPE).
class EstimateCounts {
 public:
  explicit EstimateCounts(int classes);

  // One row's k class probabilities (the prediction is the most probable class, the first on
  // ties; binary: class 1 when p1 >= 0.5). Values outside [0, 1] or NaN are not counted.
  void Add(const double* probs);

  void Merge(const EstimateCounts& o);
  void Clear();
  uint64_t rows() const { return n_; }

 private:
  friend QualityValues EstimateQuality(const EstimateCounts& c);
  int k_;
  uint64_t n_ = 0;
  double max_sum_ = 0;               // sum of the top probability: expected correct rows
  std::vector<uint64_t> predicted_;  // rows predicted class c
  std::vector<double> tp_;           // sum of p_c over rows predicted c: expected true positives
  std::vector<double> actual_;       // sum of p_c over all rows: expected rows of class c
  std::vector<uint64_t> hist_n_;     // binary: rows per score bin
  std::vector<double> hist_p_;       // binary: sum of p1 per score bin (expected positives)
};

// accuracy, precision, recall (binary: class 1; multiclass: macro over classes with an expected
// row or a prediction), roc_auc (binary). Undefined ones are left out, as in ComputeQuality.
QualityValues EstimateQuality(const EstimateCounts& c);

// The bin of a score in [0, 1] (clamped), for the binned ROC AUC.
int AucBin(double score);

}  // namespace forja::monitor
