// The LightGBM runtime: a native evaluator of LightGBM's text model format, the file
// Booster.save_model() / model_to_string() write (header "version=v2", "v3" or "v4";
// LightGBM 2.x through 4.x).
//
// Decisions are LightGBM's (tree.h): a value within 1e-35f of zero is zero (the C API drops
// it), left when value <= threshold, and per split a missing type: None (NaN is 0), Zero (0
// and NaN take the default side) or NaN (NaN takes the default side). Each is compiled into
// a slot of a widened row where the missing values already stand as -inf (default left) or
// NaN (default right: `v <= t` is false), so a step is one float comparison against the
// threshold rounded down to a float (exact: v <= t iff v <= the largest float <= t). The trees are flattened
// like the xgboost ones (xgboost_model.h): breadth-first, children side by side, a leaf
// stepping to itself, sixteen rows per tree or sixteen trees per row walked in lockstep.
// Leaves are doubles and margins are summed in double, trees in file order, as LightGBM
// does, so predictions equal LightGBM's to the last bit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "forja/runtime/model.h"

namespace forja::runtime {

class LightgbmForest {
 public:
  struct Options {
    int num_iteration = 0;  // > 0: only the first num_iteration boosting rounds (predict(num_iteration=))
  };
  // Parses a model file's text. Errors are Status::User "<name>:<line>: <field>: <what>".
  static Result<std::unique_ptr<LightgbmForest>> Parse(std::string_view text, const std::string& name,
                                                       Options options);
  static Result<std::unique_ptr<LightgbmForest>> Parse(std::string_view text, const std::string& name) {
    return Parse(text, name, Options{});
  }
  static Result<std::unique_ptr<LightgbmForest>> Load(const std::string& path, Options options);
  static Result<std::unique_ptr<LightgbmForest>> Load(const std::string& path) { return Load(path, Options{}); }

  size_t num_feature() const { return num_feature_; }
  size_t num_outputs() const { return num_groups_; }  // num_class for multiclass(ova), else 1
  size_t num_trees() const { return trees_.size(); }
  const std::string& objective() const { return objective_; }
  // "lightgbm v4 binary, 100 trees, 28 features"
  std::string Describe() const;

  // Predicts n rows, row r at rows[r * stride .. + num_feature()) (NaN is missing), into
  // out[n * num_outputs()]: transformed as LightGBM's predict() does, or its raw_score=True.
  // Thread-safe.
  void Predict(const float* rows, size_t n, size_t stride, double* out, bool raw = false) const;
  void PredictRows(const float* rows, size_t n, size_t stride, float* out) const;

  // Internal layout, public for the loader.
  static constexpr uint32_t kCategorical = 1u << 31;
  static constexpr uint32_t kLeaf = 1u << 30;
  static constexpr uint32_t kIndexMask = kLeaf - 1;
  struct Node {
    uint32_t bits;    // a numerical split: its slot in the widened row; categorical: kCategorical |
                      // the feature; a leaf: kLeaf (slot 0)
    float threshold;  // right unless slot value <= threshold; +inf in a leaf, whose slot 0 is never NaN
    uint32_t left;    // absolute index of the left child (right is left + 1); a leaf: itself
    uint32_t payload; // a leaf: its value's index in leaf_values_ (or linear_); categorical: cat_ranges_
  };
  struct Tree {
    uint32_t root;
    uint32_t depth;
    uint32_t group;
    bool generic;        // categorical splits, linear leaves or very deep: walked node by node
    bool linear;         // its leaves are LinearLeaf (payload indexes linear_)
    uint32_t run_depth;  // not 0: this and the kTreeLanes - 1 trees after it walk together for one row
  };
  static constexpr size_t kTreeLanes = 16;
  struct CatRange {
    uint32_t begin, words;  // into cat_bits_: the categories going LEFT, one bit each
  };
  struct Slot {
    uint32_t feature;
    uint8_t kind;  // SlotKind
  };
  enum SlotKind : uint8_t { kPlain, kZeroLeft, kZeroRight, kNanLeft, kNanRight };
  struct LinearLeaf {
    double constant, fallback;  // fallback: the leaf's value, taken when a feature it uses is NaN
    uint32_t begin, count;      // into linear_features_ / linear_coeffs_
  };
  enum Transform : uint8_t { kIdentity, kSigmoid, kSoftmax, kSigmoidEach, kExp, kSquareSigned, kLog1pExp };

 private:
  friend class LightgbmLoader;
  LightgbmForest() = default;

  void Margins(const float* rows, size_t n, size_t stride, double* out) const;
  void Widen(const float* rows, size_t n, size_t stride, float* wide) const;
  void AddTrees(const float* rows, const float* wide, size_t n, size_t stride, double* margins) const;
  void AddTreesOneRow(const float* row, const float* wide, double* margins) const;
  double GenericLeaf(const Tree& tree, const float* row, const float* wide) const;
  void ApplyTransform(double* out, size_t n) const;

  std::string version_, objective_;
  size_t num_feature_ = 0, num_groups_ = 1, num_iterations_ = 0;
  bool average_output_ = false;
  Transform transform_ = kIdentity;
  double sigmoid_ = 1.0;
  std::vector<Node> nodes_;
  std::vector<Tree> trees_;
  std::vector<double> leaf_values_;
  std::vector<Slot> slots_;
  std::vector<CatRange> cat_ranges_;
  std::vector<uint32_t> cat_bits_;
  std::vector<LinearLeaf> linear_;
  std::vector<uint32_t> linear_features_;
  std::vector<double> linear_coeffs_;
};

// The runtime::Model over a LightgbmForest: one input [rows, num_feature] (or one column per
// input, concatenated in signature order), any numeric datatype; one FP32 output, [rows] for
// one output column, [rows, num_class] for multiclass.
Result<std::unique_ptr<Model>> LoadLightgbmModel(const ModelSpec& spec);

}  // namespace forja::runtime
