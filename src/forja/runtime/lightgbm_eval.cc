// Evaluating a LightgbmForest (loaded by lightgbm_forest.cc): rows widened into slots, trees
// walked in lockstep, LightGBM's output transforms.
#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <vector>

#include "forja/runtime/lightgbm_model.h"

namespace forja::runtime {

namespace {

// LightGBM's kZeroThreshold (`const double kZeroThreshold = 1e-35f`): the C API drops a
// value this close to zero, so the trees see 0.
constexpr float kZero = 1e-35f;
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

inline float Clean(float v) { return std::fabs(v) <= kZero ? 0.0f : v; }  // NaN stays NaN

}  // namespace

namespace {

using Node = LightgbmForest::Node;

// One branch-free step on a widened row: right unless value <= threshold, so a NaN (a
// default-right missing value) goes right even past an infinite threshold.
inline uint32_t Step(const Node* nodes, uint32_t i, const float* wide) {
  const Node& n = nodes[i];
  return n.left + static_cast<uint32_t>(!(wide[n.bits & LightgbmForest::kIndexMask] <= n.threshold));
}

constexpr size_t kLanes = 16;       // rows walked together through one tree
constexpr size_t kBlockRows = 64;   // rows per pass over the trees

}  // namespace

// Each slot is a feature as one kind of split reads it: missing values already on their side.
void LightgbmForest::Widen(const float* rows, size_t n, size_t stride, float* wide) const {
  const size_t width = slots_.size();
  for (size_t r = 0; r < n; ++r) {
    const float* row = rows + r * stride;
    float* w = wide + r * width;
    for (size_t s = 0; s < width; ++s) {
      float v = row[slots_[s].feature];
      bool nan = std::isnan(v);
      v = Clean(v);
      switch (slots_[s].kind) {
        case kPlain: w[s] = nan ? 0.0f : v; break;
        case kZeroLeft: w[s] = nan || v == 0.0f ? -kInf : v; break;
        case kZeroRight: w[s] = nan || v == 0.0f ? kNaN : v; break;
        case kNanLeft: w[s] = nan ? -kInf : v; break;
        default: w[s] = nan ? kNaN : v; break;
      }
    }
  }
}

// Node by node: categorical splits (LightGBM's CategoricalDecision: NaN, negative and
// out-of-int-range values go right; a category in the bit set goes left) and linear leaves.
double LightgbmForest::GenericLeaf(const Tree& tree, const float* row, const float* wide) const {
  uint32_t i = tree.root;
  while (!(nodes_[i].bits & kLeaf)) {
    const Node& n = nodes_[i];
    bool right;
    if (n.bits & kCategorical) {
      float v = Clean(row[n.bits & kIndexMask]);
      if (!(v > -1.0f && v < 2147483648.0f)) {
        right = true;  // NaN, or an int cast LightGBM sees as negative
      } else {
        auto c = static_cast<uint32_t>(static_cast<int32_t>(v));
        const CatRange& r = cat_ranges_[n.payload];
        right = !(c / 32 < r.words && (cat_bits_[r.begin + c / 32] >> (c % 32) & 1));
      }
    } else {
      right = !(wide[n.bits & kIndexMask] <= n.threshold);
    }
    i = n.left + (right ? 1 : 0);
  }
  uint32_t leaf = nodes_[i].payload;
  if (!tree.linear) return leaf_values_[leaf];
  const LinearLeaf& l = linear_[leaf];
  double out = l.constant;
  for (uint32_t k = 0; k < l.count; ++k) {
    float v = row[linear_features_[l.begin + k]];
    if (std::isnan(v)) return l.fallback;
    out += linear_coeffs_[l.begin + k] * static_cast<double>(Clean(v));
  }
  return out;
}

void LightgbmForest::AddTrees(const float* rows, const float* wide, size_t n, size_t stride,
                              double* margins) const {
  const Node* nodes = nodes_.data();
  const size_t groups = num_groups_;
  const size_t width = slots_.size();
  const size_t full = n - n % kLanes;
  if (full > 0) {
    for (const Tree& tree : trees_) {
      double* m = margins + tree.group;
      if (tree.generic) {
        for (size_t r = 0; r < full; ++r) m[r * groups] += GenericLeaf(tree, rows + r * stride, wide + r * width);
        continue;
      }
      for (size_t r = 0; r < full; r += kLanes) {
        uint32_t idx[kLanes];
        for (size_t j = 0; j < kLanes; ++j) idx[j] = tree.root;
        const float* w = wide + r * width;
        for (uint32_t d = 0; d < tree.depth; ++d)
          for (size_t j = 0; j < kLanes; ++j) idx[j] = Step(nodes, idx[j], w + j * width);
        for (size_t j = 0; j < kLanes; ++j) m[(r + j) * groups] += leaf_values_[nodes[idx[j]].payload];
      }
    }
  }
  for (size_t r = full; r < n; ++r) AddTreesOneRow(rows + r * stride, wide + r * width, margins + r * groups);
}

// A lone row walks kTreeLanes trees at once instead; the leaves are still added in tree order.
void LightgbmForest::AddTreesOneRow(const float* row, const float* wide, double* margins) const {
  const Node* nodes = nodes_.data();
  for (size_t t = 0; t < trees_.size();) {
    const Tree& tree = trees_[t];
    if (tree.run_depth != 0) {
      uint32_t idx[kTreeLanes];
      for (size_t j = 0; j < kTreeLanes; ++j) idx[j] = trees_[t + j].root;
      for (uint32_t d = 0; d < tree.run_depth; ++d)
        for (size_t j = 0; j < kTreeLanes; ++j) idx[j] = Step(nodes, idx[j], wide);
      for (size_t j = 0; j < kTreeLanes; ++j) margins[trees_[t + j].group] += leaf_values_[nodes[idx[j]].payload];
      t += kTreeLanes;
      continue;
    }
    if (tree.generic) {
      margins[tree.group] += GenericLeaf(tree, row, wide);
    } else {
      uint32_t i = tree.root;
      for (uint32_t d = 0; d < tree.depth; ++d) i = Step(nodes, i, wide);
      margins[tree.group] += leaf_values_[nodes[i].payload];
    }
    ++t;
  }
}

void LightgbmForest::Margins(const float* rows, size_t n, size_t stride, double* out) const {
  const size_t groups = num_groups_;
  const size_t width = slots_.size();
  float small[1024];  // a lone row's (or a small block's) widened values, on the stack
  std::vector<float> big;
  float* wide = small;
  if (std::min(n, kBlockRows) * width > std::size(small)) {
    big.resize(std::min(n, kBlockRows) * width);
    wide = big.data();
  }
  std::fill(out, out + n * groups, 0.0);
  for (size_t b = 0; b < n; b += kBlockRows) {
    size_t m = std::min(kBlockRows, n - b);
    const float* block = rows + b * stride;
    Widen(block, m, stride, wide);
    AddTrees(block, wide, m, stride, out + b * groups);
  }
}

// LightGBM's ObjectiveFunction::ConvertOutput, in double as it computes it.
void LightgbmForest::ApplyTransform(double* out, size_t n) const {
  const size_t groups = num_groups_;
  const size_t total = n * groups;
  switch (transform_) {
    case kSigmoid:
    case kSigmoidEach:
      for (size_t i = 0; i < total; ++i) out[i] = 1.0 / (1.0 + std::exp(-sigmoid_ * out[i]));
      break;
    case kExp: for (size_t i = 0; i < total; ++i) out[i] = std::exp(out[i]); break;
    case kSquareSigned:
      for (size_t i = 0; i < total; ++i) out[i] = (out[i] > 0 ? 1.0 : out[i] < 0 ? -1.0 : 0.0) * out[i] * out[i];
      break;
    case kLog1pExp:
      for (size_t i = 0; i < total; ++i) {
        double x = 1.0 + std::exp(out[i]);
        out[i] = x > 0 ? std::log(x) : -std::numeric_limits<double>::infinity();
      }
      break;
    case kSoftmax:
      for (size_t r = 0; r < n; ++r) {
        double* p = out + r * groups;
        double max = *std::max_element(p, p + groups);
        double sum = 0;
        for (size_t g = 0; g < groups; ++g) {
          p[g] = std::exp(p[g] - max);
          sum += p[g];
        }
        for (size_t g = 0; g < groups; ++g) p[g] /= sum;
      }
      break;
    default: break;
  }
}

void LightgbmForest::Predict(const float* rows, size_t n, size_t stride, double* out, bool raw) const {
  Margins(rows, n, stride, out);
  if (raw) return;
  // A random forest averages its trees, but LightGBM's raw_score is the plain sum (GBDT::Predict
  // divides, GBDT::PredictRaw does not).
  if (average_output_ && num_iterations_ > 0)
    for (size_t i = 0; i < n * num_groups_; ++i) out[i] /= static_cast<double>(num_iterations_);
  ApplyTransform(out, n);
}

void LightgbmForest::PredictRows(const float* rows, size_t n, size_t stride, float* out) const {
  const size_t groups = num_groups_;
  double small[256];
  std::vector<double> big;
  const size_t block = std::min(n, kBlockRows);
  double* buf = small;
  if (block * groups > std::size(small)) {
    big.resize(block * groups);
    buf = big.data();
  }
  for (size_t b = 0; b < n; b += block) {
    size_t m = std::min(block, n - b);
    Predict(rows + b * stride, m, stride, buf);
    for (size_t i = 0; i < m * groups; ++i) out[b * groups + i] = static_cast<float>(buf[i]);
  }
}

}  // namespace forja::runtime
