// Quality metrics from labeled predictions and CBPE estimates from probabilities (quality.h).
#include "forja/monitor/quality.h"

#include <algorithm>
#include <cmath>

namespace forja::monitor {

namespace {

// Mann-Whitney over binned scores: pairs (positive, negative) with the positive in a higher bin
// count 1, in the same bin 1/2. Weights may be fractional (expected counts). NaN with one class.
template <typename P, typename N>
double BinnedAuc(const std::vector<P>& pos, const std::vector<N>& neg) {
  double total_pos = 0, total_neg = 0, above = 0, area = 0;
  for (P p : pos) total_pos += static_cast<double>(p);
  for (N n : neg) total_neg += static_cast<double>(n);
  if (!(total_pos > 0) || !(total_neg > 0)) return NAN;
  // From the top bin down: `above` is the positive weight in higher bins.
  for (size_t b = pos.size(); b-- > 0;) {
    double p = static_cast<double>(pos[b]), n = static_cast<double>(neg[b]);
    area += n * (above + 0.5 * p);
    above += p;
  }
  return area / (total_pos * total_neg);
}

// Macro or binary precision and recall from per-class counts.
void PrecisionRecall(int k, const std::vector<double>& tp, const std::vector<double>& predicted,
                     const std::vector<double>& actual, QualityValues* out) {
  if (k == 2) {
    if (predicted[1] > 0) out->push_back({"precision", tp[1] / predicted[1]});
    if (actual[1] > 0) out->push_back({"recall", tp[1] / actual[1]});
    return;
  }
  double p = 0, r = 0;
  int present = 0;
  for (int c = 0; c < k; ++c) {
    if (!(predicted[c] > 0) && !(actual[c] > 0)) continue;
    ++present;
    p += predicted[c] > 0 ? tp[c] / predicted[c] : 0;
    r += actual[c] > 0 ? tp[c] / actual[c] : 0;
  }
  if (present == 0) return;
  out->push_back({"precision", p / present});
  out->push_back({"recall", r / present});
}

}  // namespace

int AucBin(double score) {
  if (!(score > 0)) return 0;  // NaN too
  if (score >= 1) return kAucBins - 1;
  return std::min(kAucBins - 1, static_cast<int>(score * kAucBins));
}

QualityCounts::QualityCounts(Task task, int classes, bool probabilities)
    : task_(task), k_(std::clamp(classes, 2, kMaxClasses)), probs_(probabilities) {
  if (task_ != Task::kClassification) return;
  confusion_.assign(static_cast<size_t>(k_ * k_), 0);
  if (probs_ && k_ == 2) {
    pos_hist_.assign(kAucBins, 0);
    neg_hist_.assign(kAucBins, 0);
  }
}

void QualityCounts::AddClass(int actual, int predicted, const double* probs) {
  if (task_ != Task::kClassification || actual < 0 || actual >= k_ || predicted < 0 || predicted >= k_) return;
  ++n_;
  ++confusion_[static_cast<size_t>(actual * k_ + predicted)];
  if (!probs_ || !probs) return;
  // scikit-learn's log_loss clips probabilities away from 0 and 1.
  double p = std::clamp(probs[actual], kLogLossEps, 1 - kLogLossEps);
  log_loss_ -= std::log(std::isnan(p) ? kLogLossEps : p);
  if (k_ == 2) (actual == 1 ? pos_hist_ : neg_hist_)[static_cast<size_t>(AucBin(probs[1]))] += 1;
}

void QualityCounts::AddValue(double actual, double predicted) {
  if (task_ != Task::kRegression) return;
  ++n_;
  double e = std::fabs(actual - predicted);
  abs_ += e;
  sq_ += e * e;
  if (actual != 0) {
    ape_ += e / std::fabs(actual);
    ++ape_n_;
  }
}

void QualityCounts::Merge(const QualityCounts& o) {
  if (o.task_ != task_ || o.k_ != k_ || o.probs_ != probs_) return;  // never: one version, one shape
  n_ += o.n_;
  for (size_t i = 0; i < confusion_.size(); ++i) confusion_[i] += o.confusion_[i];
  log_loss_ += o.log_loss_;
  for (size_t i = 0; i < pos_hist_.size(); ++i) {
    pos_hist_[i] += o.pos_hist_[i];
    neg_hist_[i] += o.neg_hist_[i];
  }
  abs_ += o.abs_;
  sq_ += o.sq_;
  ape_ += o.ape_;
  ape_n_ += o.ape_n_;
}

void QualityCounts::Clear() {
  n_ = 0;
  std::fill(confusion_.begin(), confusion_.end(), 0);
  log_loss_ = 0;
  std::fill(pos_hist_.begin(), pos_hist_.end(), 0);
  std::fill(neg_hist_.begin(), neg_hist_.end(), 0);
  abs_ = sq_ = ape_ = 0;
  ape_n_ = 0;
}

QualityValues ComputeQuality(const QualityCounts& c) {
  QualityValues out;
  if (c.n_ == 0) return out;
  double n = static_cast<double>(c.n_);
  if (c.task_ == Task::kRegression) {
    out.push_back({"mae", c.abs_ / n});
    out.push_back({"rmse", std::sqrt(c.sq_ / n)});
    if (c.ape_n_ > 0) out.push_back({"mape", c.ape_ / static_cast<double>(c.ape_n_)});
    return out;
  }
  int k = c.k_;
  std::vector<double> tp(k, 0), predicted(k, 0), actual(k, 0);
  double correct = 0;
  for (int a = 0; a < k; ++a) {
    for (int p = 0; p < k; ++p) {
      double v = static_cast<double>(c.confusion_[static_cast<size_t>(a * k + p)]);
      actual[a] += v;
      predicted[p] += v;
      if (a == p) tp[a] += v;
    }
    correct += tp[a];
  }
  out.push_back({"accuracy", correct / n});
  // A classifier by class whose window holds classes 0 and 1 only is binary (class 1 positive).
  bool binary = k == 2;
  if (!c.probs_) {
    binary = true;
    for (int x = 2; x < k; ++x) binary &= !(predicted[x] > 0) && !(actual[x] > 0);
  }
  PrecisionRecall(binary ? 2 : k, tp, predicted, actual, &out);
  if (!c.pos_hist_.empty()) {
    double auc = BinnedAuc(c.pos_hist_, c.neg_hist_);
    if (!std::isnan(auc)) out.push_back({"roc_auc", auc});
  }
  if (c.probs_) out.push_back({"log_loss", c.log_loss_ / n});
  return out;
}

EstimateCounts::EstimateCounts(int classes)
    : k_(std::clamp(classes, 2, kMaxClasses)), predicted_(k_, 0), tp_(k_, 0), actual_(k_, 0) {
  if (k_ == 2) {
    hist_n_.assign(kAucBins, 0);
    hist_p_.assign(kAucBins, 0);
  }
}

void EstimateCounts::Add(const double* probs) {
  int best = 0;
  for (int c = 0; c < k_; ++c) {
    if (!(probs[c] >= 0 && probs[c] <= 1)) return;  // NaN or not a probability: not counted
    if (probs[c] > probs[best]) best = c;
  }
  if (k_ == 2) best = probs[1] >= 0.5 ? 1 : 0;
  ++n_;
  max_sum_ += probs[best];
  ++predicted_[best];
  tp_[best] += probs[best];
  for (int c = 0; c < k_; ++c) actual_[c] += probs[c];
  if (k_ == 2) {
    int b = AucBin(probs[1]);
    ++hist_n_[b];
    hist_p_[b] += probs[1];
  }
}

void EstimateCounts::Merge(const EstimateCounts& o) {
  if (o.k_ != k_) return;
  n_ += o.n_;
  max_sum_ += o.max_sum_;
  for (int c = 0; c < k_; ++c) {
    predicted_[c] += o.predicted_[c];
    tp_[c] += o.tp_[c];
    actual_[c] += o.actual_[c];
  }
  for (size_t b = 0; b < hist_n_.size(); ++b) {
    hist_n_[b] += o.hist_n_[b];
    hist_p_[b] += o.hist_p_[b];
  }
}

void EstimateCounts::Clear() {
  n_ = 0;
  max_sum_ = 0;
  std::fill(predicted_.begin(), predicted_.end(), 0);
  std::fill(tp_.begin(), tp_.end(), 0);
  std::fill(actual_.begin(), actual_.end(), 0);
  std::fill(hist_n_.begin(), hist_n_.end(), 0);
  std::fill(hist_p_.begin(), hist_p_.end(), 0);
}

QualityValues EstimateQuality(const EstimateCounts& c) {
  QualityValues out;
  if (c.n_ == 0) return out;
  out.push_back({"accuracy", c.max_sum_ / static_cast<double>(c.n_)});
  std::vector<double> predicted(c.predicted_.begin(), c.predicted_.end());
  PrecisionRecall(c.k_, c.tp_, predicted, c.actual_, &out);
  if (c.k_ == 2) {
    std::vector<double> neg(c.hist_n_.size());
    for (size_t b = 0; b < neg.size(); ++b) neg[b] = std::max(0.0, static_cast<double>(c.hist_n_[b]) - c.hist_p_[b]);
    double auc = BinnedAuc(c.hist_p_, neg);
    if (!std::isnan(auc)) out.push_back({"roc_auc", auc});
  }
  return out;
}

}  // namespace forja::monitor
