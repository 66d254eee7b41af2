// The xgboost runtime: a native evaluator of the JSON and UBJ model files that
// xgboost 1.7 through 3.x write (Booster.save_model("model.json" / "model.ubj")).
//
// Trees are flattened into one array of 16-byte nodes laid out breadth-first, the two
// children of a node side by side, so a step is `left + went_right`; a leaf points to
// itself, so a tree of depth d is walked by exactly d branch-free steps, sixteen rows at a
// time (a lone row walks sixteen trees at a time instead): independent walks hide the load
// latency. Margins are summed in float, base score first and trees in file order, as
// xgboost's CPU predictor does, so predictions match xgboost's to the last bit or two.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "forja/runtime/model.h"

namespace forja::runtime {

class XgboostForest {
 public:
  enum class Format { kAuto, kJson, kUbj };

  // Parses a model file's bytes; kAuto tells JSON from UBJ by the first bytes. Errors
  // are Status::User "<name>: <what is wrong>".
  static Result<std::unique_ptr<XgboostForest>> Parse(std::string_view bytes, const std::string& name,
                                                      Format format = Format::kAuto);
  static Result<std::unique_ptr<XgboostForest>> Load(const std::string& path);

  size_t num_feature() const { return num_feature_; }
  // Margin columns: num_class for a multi-class model, num_target otherwise (usually 1).
  size_t num_groups() const { return num_groups_; }
  // Columns of PredictRows: num_groups(), except 1 for multi:softmax (the class index).
  size_t num_outputs() const { return transform_ == kSoftmax ? 1 : num_groups_; }
  size_t num_trees() const { return trees_.size(); }
  const std::string& objective() const { return objective_; }
  // "xgboost 3.2.0 binary:logistic, 200 trees, 32 features"
  std::string Describe() const;

  // Predicts n rows, row r at rows[r * stride .. + num_feature()) (stride >= num_feature(),
  // NaN is missing), into out[n * num_outputs()]. Thread-safe.
  void PredictRows(const float* rows, size_t n, size_t stride, float* out) const;
  // The raw margins (output_margin=True) into out[n * num_groups()].
  void PredictMargins(const float* rows, size_t n, size_t stride, float* out) const;

  // Internal layout, public for the loader in xgboost_forest.cc.
  static constexpr uint32_t kDefaultRight = 1u << 31;
  static constexpr uint32_t kCategorical = 1u << 30;
  static constexpr uint32_t kLeaf = 1u << 29;
  static constexpr uint32_t kFeatureMask = kLeaf - 1;
  struct Node {
    uint32_t bits;    // index into the widened row (feature, + num_feature if default right) | flags;
                      // a leaf is kLeaf with index 0
    float threshold;  // go right when value >= threshold; NaN in a leaf (never right)
    uint32_t left;    // absolute index of the left child (right is left + 1); a leaf: itself
    union {
      float leaf;    // a leaf's value (times the dart weight)
      uint32_t cat;  // a categorical split: index into cat_ranges_
    };
  };
  struct Tree {
    uint32_t root;
    uint32_t depth;  // steps from the root to the deepest leaf
    uint32_t group;  // the margin column it adds to
    bool generic;    // categorical splits, infinite thresholds or very deep: walked node by node
    // Not 0 when this tree and the kTreeLanes - 1 after it are walked together for one row
    // (none generic): their deepest.
    uint32_t run_depth;
  };
  static constexpr size_t kTreeLanes = 16;
  struct CatRange {
    uint32_t begin, words;  // into cat_bits_: categories going right, one bit each
  };
  enum Transform : uint8_t { kIdentity, kSigmoid, kExp, kSoftprob, kSoftmax, kHinge };

 private:
  friend class XgboostLoader;
  XgboostForest() = default;

  void AddTrees(const float* rows, const float* wide, size_t n, size_t stride, float* margins) const;
  void AddTreesOneRow(const float* row, const float* wide, float* margins) const;
  void AddLinear(const float* rows, size_t n, size_t stride, float* margins) const;
  uint32_t WalkGeneric(const Tree& tree, const float* row) const;

  std::string version_, objective_, booster_;
  size_t num_feature_ = 0, num_groups_ = 1;
  Transform transform_ = kIdentity;
  std::vector<float> base_margin_;  // one per group, in margin space
  std::vector<Node> nodes_;
  std::vector<Tree> trees_;
  std::vector<CatRange> cat_ranges_;
  std::vector<uint32_t> cat_bits_;
  std::vector<float> linear_;  // gblinear: [feature][group] weights, then the bias per group
};

// The runtime::Model over an XgboostForest: one input [rows, num_feature] (or one column
// per input, concatenated in signature order), any numeric datatype.
Result<std::unique_ptr<Model>> LoadXgboostModel(const ModelSpec& spec);

}  // namespace forja::runtime
