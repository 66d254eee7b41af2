// Loading LightGBM model files into LightgbmForest (evaluated in lightgbm_eval.cc).
//
// The JSON dump (Booster.dump_model(), json.dump'ed) is read too: the same header as JSON
// members, and per tree a nested tree_structure, turned into the text format's arrays.
//
// The file: a header of key=value lines ("tree", "version=v4", "num_class=1", ...,
// "objective=binary sigmoid:1", a bare "average_output" for random forests), then blocks
// "Tree=<i>" of key=value lines each ended by a blank line, then "end of trees" and
// sections (feature importances, parameters) this reader does not need.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <unordered_map>

#include <sys/stat.h>

#include "forja/core/fs.h"
#include "forja/runtime/lightgbm_model.h"
#include "forja/runtime/xgb_doc.h"

namespace forja::runtime {

namespace {

// Bounds that keep a hostile file from asking for gigabytes (LightGBM's own: num_leaves
// up to 131072).
constexpr size_t kMaxFileBytes = size_t{1} << 30;
constexpr size_t kMaxTrees = size_t{1} << 20;
constexpr size_t kMaxLeaves = size_t{1} << 17;
constexpr size_t kMaxFeatures = size_t{1} << 24;
constexpr size_t kMaxClasses = size_t{1} << 16;
constexpr size_t kMaxNodes = size_t{1} << 28;
constexpr size_t kMaxCatWords = size_t{1} << 24;
constexpr size_t kMaxLinearTerms = size_t{1} << 26;  // linear leaves' coefficients, all trees
// A JSON dump becomes a document tree of about a hundred bytes a value before it is read.
constexpr size_t kMaxDumpBytes = size_t{1} << 28;
constexpr uint32_t kMaxLockstepDepth = 16;
constexpr float kInf = std::numeric_limits<float>::infinity();

std::string Num(double d) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return ec == std::errc() ? std::string(buf, p) : "?";
}

// The largest float <= t: for a float v, v <= t exactly when v <= RoundDown(t).
float RoundDown(double t) {
  auto f = static_cast<float>(t);
  if (static_cast<double>(f) > t) f = std::nextafter(f, -kInf);
  return f;
}

struct Field {
  std::string_view value;
  size_t line;
};

}  // namespace

// Builds a LightgbmForest from the text; every check names the file and line.
class LightgbmLoader {
 public:
  LightgbmLoader(std::string_view text, const std::string& name, LightgbmForest* f,
                 LightgbmForest::Options options)
      : text_(text), name_(name), f_(f), options_(options) {}

  Status Load() {
    if (text_.size() > kMaxFileBytes) return Error(0, "file", "larger than 1 GiB; not a model forja loads");
    size_t first = text_.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && text_[first] == '{') {
      if (text_.size() > kMaxDumpBytes) return Error(0, "file", "a JSON dump larger than 256 MiB; save the text format");
      return LoadDump();
    }
    std::string_view line;
    if (!Next(&line) || Trim(line) != "tree")
      return Error(line_no_, "header", "not a LightGBM text model (the first line is not 'tree'); save it with "
                                       "Booster.save_model()");
    RETURN_IF_ERROR(ReadHeader(&line));
    SlotFor(0, LightgbmForest::kPlain);  // slot 0, which leaves read: never NaN
    size_t count = 0;
    while (true) {
      if (line.substr(0, 5) == "Tree=") {
        RETURN_IF_ERROR(ReadTree(line, count++));
      } else if (Trim(line) == "end of trees") {
        break;
      } else if (!Trim(line).empty()) {
        return Error(line_no_, "trees", "unexpected line '" + Short(line) + "' (expected Tree=<n> or 'end of trees')");
      }
      if (!Next(&line))
        return Error(line_no_, "trees", "the file ends inside the trees (no 'end of trees' line): it is truncated; "
                                        "save the model again");
    }
    return Finish(count, line_no_, "trees");
  }

 private:
  Status Finish(size_t count, size_t line, const char* field) {
    if (count == 0) return Error(line, field, "the model has no trees");
    if (count % tree_per_iteration_ != 0)
      return Error(line, field, std::to_string(count) + " trees is not a multiple of num_tree_per_iteration " +
                                    std::to_string(tree_per_iteration_));
    f_->num_iterations_ = std::min(count, f_->trees_.size()) / tree_per_iteration_;
    PlanTreeRuns();
    return Status::Ok();
  }

  Status Error(size_t line, const std::string& field, const std::string& what) const {
    return Status::User(name_ + (line ? ":" + std::to_string(line) : std::string()) + ": " + field + ": " + what);
  }

  static std::string_view Trim(std::string_view s) {
    while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    return s;
  }
  static std::string Short(std::string_view s) {
    s = Trim(s);
    std::string out(s.substr(0, 40));
    for (char& c : out)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    return out + (s.size() > 40 ? "..." : "");
  }

  bool Next(std::string_view* line) {
    if (pos_ >= text_.size()) return false;
    size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    *line = text_.substr(pos_, end - pos_);
    if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
    pos_ = end + 1;
    ++line_no_;
    return true;
  }

  // key=value lines until the first Tree=; *line is left on it.
  Status ReadHeader(std::string_view* line) {
    std::map<std::string, Field, std::less<>> h;
    while (true) {
      if (!Next(line)) return Error(line_no_, "header", "the file ends before the first tree: it is truncated");
      if (line->substr(0, 5) == "Tree=" || Trim(*line) == "end of trees") break;
      std::string_view l = Trim(*line);
      if (l.empty()) continue;
      size_t eq = l.find('=');
      std::string key(eq == std::string_view::npos ? l : l.substr(0, eq));
      std::string_view value = eq == std::string_view::npos ? std::string_view() : l.substr(eq + 1);
      if (!h.emplace(key, Field{value, line_no_}).second) return Error(line_no_, Short(key), "appears twice");
    }
    auto need = [&](const char* key) -> Result<Field> {
      auto it = h.find(key);
      if (it == h.end()) return Error(0, key, "missing from the header; is this a LightGBM model file?");
      return it->second;
    };
    ASSIGN_OR_RETURN(Field version, need("version"));
    RETURN_IF_ERROR(CheckVersion(version));
    ASSIGN_OR_RETURN(Field nc, need("num_class"));
    ASSIGN_OR_RETURN(size_t num_class, Count(nc, "num_class", 1, kMaxClasses));
    ASSIGN_OR_RETURN(Field ntpi, need("num_tree_per_iteration"));
    ASSIGN_OR_RETURN(tree_per_iteration_, Count(ntpi, "num_tree_per_iteration", 1, kMaxClasses));
    ASSIGN_OR_RETURN(Field mfi, need("max_feature_idx"));
    ASSIGN_OR_RETURN(size_t max_feature, Count(mfi, "max_feature_idx", 0, kMaxFeatures - 1));
    f_->average_output_ = h.count("average_output") > 0;
    auto obj = h.find("objective");
    return SetShape(num_class, max_feature, ntpi.line, obj == h.end() ? Field{"", 0} : obj->second);
  }

  Status CheckVersion(const Field& version) {
    if (version.value != "v2" && version.value != "v3" && version.value != "v4")
      return Error(version.line, "version", "'" + Short(version.value) +
                                                "' is not a LightGBM model version forja reads (v2, v3, v4: LightGBM "
                                                "2.x to 4.x); save it with one of those or open an issue");
    f_->version_ = std::string(version.value);
    return Status::Ok();
  }

  // The header's numbers (tree_per_iteration_ already read), then the objective.
  Status SetShape(size_t num_class, size_t max_feature, size_t ntpi_line, const Field& objective) {
    f_->num_feature_ = max_feature + 1;
    if (tree_per_iteration_ != 1 && tree_per_iteration_ != num_class)
      return Error(ntpi_line, "num_tree_per_iteration", std::to_string(tree_per_iteration_) + " for num_class " +
                                                            std::to_string(num_class) + " (must be 1 or num_class)");
    f_->num_groups_ = tree_per_iteration_;
    return ReadObjective(objective, num_class);
  }

  Result<size_t> Count(const Field& f, const char* key, size_t lo, size_t hi) const {
    std::string_view v = Trim(f.value);
    size_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size() || v.empty() || n < lo || n > hi)
      return Error(f.line, key, "'" + Short(v) + "' is not a whole number from " + std::to_string(lo) + " to " +
                                    std::to_string(hi));
    return n;
  }

  // "binary sigmoid:1", "multiclass num_class:3", "regression sqrt", ...: the name, then options.
  Status ReadObjective(const Field& f, size_t num_class) {
    using F = LightgbmForest;
    std::vector<std::string_view> words = Words(f.value);
    std::string name = words.empty() ? "" : std::string(words[0]);
    bool sqrt = false;
    for (size_t i = 1; i < words.size(); ++i) {
      std::string_view w = words[i];
      if (w == "sqrt") {
        sqrt = true;
      } else if (w.substr(0, 8) == "sigmoid:") {
        double s = 0;
        auto [p, ec] = std::from_chars(w.data() + 8, w.data() + w.size(), s);
        if (ec != std::errc() || p != w.data() + w.size() || !(s > 0) || !std::isfinite(s))
          return Error(f.line, "objective", "'" + Short(w) + "' is not a positive sigmoid");
        f_->sigmoid_ = s;
      }
    }
    f_->objective_ = name.empty() ? "custom" : name;
    F::Transform t;
    if (name == "binary" || name == "cross_entropy" || name == "xentropy") {
      t = F::kSigmoid;
    } else if (name == "multiclass" || name == "softmax") {
      t = F::kSoftmax;
    } else if (name == "multiclassova" || name == "multiclass_ova" || name == "ova" || name == "ovr") {
      t = F::kSigmoidEach;
    } else if (name == "regression" || name == "regression_l1" || name == "huber" || name == "fair" ||
               name == "quantile" || name == "mape") {
      t = sqrt ? F::kSquareSigned : F::kIdentity;
    } else if (name == "poisson" || name == "gamma" || name == "tweedie") {
      t = F::kExp;
    } else if (name == "lambdarank" || name == "rank_xendcg" || name.empty() || name == "custom" || name == "none") {
      t = F::kIdentity;  // ranking scores and custom objectives: LightGBM's predict gives the raw score
    } else if (name == "cross_entropy_lambda" || name == "xentlambda") {
      t = F::kLog1pExp;
    } else {
      return Error(f.line, "objective", "'" + Short(name) + "' is not an objective forja knows (binary, multiclass, "
                                        "multiclassova, regression*, huber, fair, quantile, mape, poisson, gamma, "
                                        "tweedie, lambdarank, rank_xendcg, cross_entropy, cross_entropy_lambda)");
    }
    f_->transform_ = t;
    bool multi = t == F::kSoftmax || t == F::kSigmoidEach;
    if (multi != (num_class > 1) || (multi && tree_per_iteration_ != num_class))
      return Error(f.line, "objective", f_->objective_ + " with num_class " + std::to_string(num_class) +
                                            " and num_tree_per_iteration " + std::to_string(tree_per_iteration_) +
                                            " do not agree");
    return Status::Ok();
  }

  static std::vector<std::string_view> Words(std::string_view s) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
      size_t j = i;
      while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
      if (j > i) out.push_back(s.substr(i, j - i));
      i = j;
    }
    return out;
  }

  using Fields = std::map<std::string, Field, std::less<>>;

  // Numbers of a field, exactly `n` of them (or any count when n is npos).
  // Thresholds may be infinite (LightGBM 3.x writes "inf"); no number may be NaN.
  template <typename T>
  Status List(const Fields& fields, const char* key, size_t n, std::vector<T>* out, bool allow_inf = false) const {
    auto it = fields.find(key);
    if (it == fields.end()) return Error(tree_line_, key, "missing from tree " + std::to_string(tree_index_));
    const Field& f = it->second;
    out->clear();
    std::string_view v = f.value;
    size_t i = 0;
    while (i < v.size()) {
      while (i < v.size() && v[i] == ' ') ++i;
      if (i >= v.size()) break;
      if (n != std::string_view::npos && out->size() >= n)
        return Error(f.line, key, "more than " + std::to_string(n) + " values");
      T x{};
      auto [p, ec] = std::from_chars(v.data() + i, v.data() + v.size(), x);
      size_t end = static_cast<size_t>(p - v.data());
      if (ec != std::errc() || (end < v.size() && v[end] != ' '))
        return Error(f.line, key, "value " + std::to_string(out->size() + 1) + " is not a number");
      if constexpr (std::is_floating_point_v<T>) {
        if (std::isnan(x) || (!allow_inf && std::isinf(x)))
          return Error(f.line, key, "value " + std::to_string(out->size() + 1) + " is not a finite number");
      }
      out->push_back(x);
      i = end;
    }
    if (n != std::string_view::npos && out->size() != n)
      return Error(f.line, key, std::to_string(out->size()) + " values, expected " + std::to_string(n));
    return Status::Ok();
  }

  // One "Tree=<i>" block, up to its blank line.
  Status ReadTree(std::string_view header, size_t index) {
    tree_index_ = index;
    tree_line_ = line_no_;
    size_t i = 0;
    std::string_view num = Trim(header.substr(5));
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), i);
    if (ec != std::errc() || p != num.data() + num.size() || i != index)
      return Error(line_no_, "Tree", "'" + Short(header) + "' where Tree=" + std::to_string(index) + " was expected");
    if (index >= kMaxTrees) return Error(line_no_, "Tree", "more than " + std::to_string(kMaxTrees) + " trees");
    Fields fields;
    std::string_view line;
    while (true) {
      if (!Next(&line))
        return Error(line_no_, "Tree=" + std::to_string(index), "the file ends inside the tree: it is truncated");
      std::string_view l = Trim(line);
      if (l.empty()) break;
      size_t eq = l.find('=');
      if (eq == std::string_view::npos)
        return Error(line_no_, "Tree=" + std::to_string(index), "'" + Short(l) + "' is not key=value");
      if (!fields.emplace(std::string(l.substr(0, eq)), Field{l.substr(eq + 1), line_no_}).second)
        return Error(line_no_, Short(l.substr(0, eq)), "appears twice in tree " + std::to_string(index));
    }
    // Past the rounds asked for, a tree is still checked (a broken file is refused whole).
    bool use = options_.num_iteration <= 0 ||
               index < static_cast<size_t>(options_.num_iteration) * tree_per_iteration_;
    return AddTree(fields, static_cast<uint32_t>(index % tree_per_iteration_), use);
  }

  struct Arrays {
    size_t leaves = 0, num_cat = 0;
    std::vector<int64_t> feature, left, right, decision, cat_boundaries;
    std::vector<double> threshold, leaf_value;
    std::vector<uint32_t> cat_threshold;
    bool linear = false;
    std::vector<double> leaf_const, leaf_coeff;
    std::vector<int64_t> num_features, leaf_features;
    std::vector<size_t> linear_begin;  // per leaf: where its features start in leaf_features
  };

  Status AddTree(const Fields& fields, uint32_t group, bool use) {
    fields_ = &fields;
    Arrays a;
    std::vector<int64_t> scalar;
    RETURN_IF_ERROR(List(fields, "num_leaves", 1, &scalar));
    if (scalar[0] < 1 || static_cast<size_t>(scalar[0]) > kMaxLeaves)
      return Error(fields.find("num_leaves")->second.line, "num_leaves",
                   std::to_string(scalar[0]) + " is not from 1 to " + std::to_string(kMaxLeaves));
    a.leaves = static_cast<size_t>(scalar[0]);
    const size_t inner = a.leaves - 1;
    if (fields.count("num_cat")) {
      RETURN_IF_ERROR(List(fields, "num_cat", 1, &scalar));
      if (scalar[0] < 0 || static_cast<size_t>(scalar[0]) > inner)
        return Error(fields.find("num_cat")->second.line, "num_cat", "more categorical splits than splits");
      a.num_cat = static_cast<size_t>(scalar[0]);
    }
    RETURN_IF_ERROR(List(fields, "leaf_value", a.leaves, &a.leaf_value));
    if (inner > 0) {
      RETURN_IF_ERROR(List(fields, "split_feature", inner, &a.feature));
      RETURN_IF_ERROR(List(fields, "threshold", inner, &a.threshold, true));
      RETURN_IF_ERROR(List(fields, "decision_type", inner, &a.decision));
      RETURN_IF_ERROR(List(fields, "left_child", inner, &a.left));
      RETURN_IF_ERROR(List(fields, "right_child", inner, &a.right));
    }
    if (a.num_cat > 0) {
      RETURN_IF_ERROR(List(fields, "cat_boundaries", a.num_cat + 1, &a.cat_boundaries));
      RETURN_IF_ERROR(List(fields, "cat_threshold", std::string_view::npos, &a.cat_threshold));
      bool ok = a.cat_boundaries[0] == 0 &&
                a.cat_boundaries.back() == static_cast<int64_t>(a.cat_threshold.size());
      for (size_t k = 1; ok && k < a.cat_boundaries.size(); ++k) ok = a.cat_boundaries[k - 1] <= a.cat_boundaries[k];
      if (!ok)
        return Error(fields.find("cat_boundaries")->second.line, "cat_boundaries",
                     "does not run from 0 up to the " + std::to_string(a.cat_threshold.size()) + " cat_threshold words");
    }
    if (fields.count("is_linear")) {
      RETURN_IF_ERROR(List(fields, "is_linear", 1, &scalar));
      a.linear = scalar[0] != 0;
      if (a.linear) RETURN_IF_ERROR(ReadLinear(fields, &a));
    }
    if (!use) return Status::Ok();
    return Flatten(a, group);
  }

  Status ReadLinear(const Fields& fields, Arrays* a) const {
    a->linear_begin.clear();
    RETURN_IF_ERROR(List(fields, "leaf_const", a->leaves, &a->leaf_const));
    RETURN_IF_ERROR(List(fields, "num_features", a->leaves, &a->num_features));
    size_t total = 0;
    for (int64_t k : a->num_features) {
      a->linear_begin.push_back(total);
      if (k < 0 || static_cast<size_t>(k) > f_->num_feature_)
        return Error(fields.find("num_features")->second.line, "num_features", std::to_string(k) +
                                                                                   " features in a leaf");
      total += static_cast<size_t>(k);
    }
    RETURN_IF_ERROR(List(fields, "leaf_features", total, &a->leaf_features));
    RETURN_IF_ERROR(List(fields, "leaf_coeff", total, &a->leaf_coeff));
    for (int64_t k : a->leaf_features)
      if (k < 0 || static_cast<size_t>(k) >= f_->num_feature_)
        return Error(fields.find("leaf_features")->second.line, "leaf_features",
                     std::to_string(k) + " is not below max_feature_idx + 1 = " +
                         std::to_string(f_->num_feature_));
    return Status::Ok();
  }

  uint32_t SlotFor(uint32_t feature, uint8_t kind) {
    uint64_t key = uint64_t{feature} * 8 + kind;
    auto [it, added] = slot_of_.emplace(key, static_cast<uint32_t>(f_->slots_.size()));
    if (added) f_->slots_.push_back({feature, kind});
    return it->second;
  }

  uint32_t LeafPayload(const Arrays& a, size_t leaf) {
    if (!a.linear) {
      f_->leaf_values_.push_back(a.leaf_value[leaf]);
      return static_cast<uint32_t>(f_->leaf_values_.size() - 1);
    }
    LightgbmForest::LinearLeaf l{a.leaf_const[leaf], a.leaf_value[leaf],
                                 static_cast<uint32_t>(f_->linear_features_.size()),
                                 static_cast<uint32_t>(a.num_features[leaf])};
    size_t begin = a.linear_begin[leaf];
    for (size_t k = 0; k < l.count; ++k) {
      f_->linear_features_.push_back(static_cast<uint32_t>(a.leaf_features[begin + k]));
      f_->linear_coeffs_.push_back(a.leaf_coeff[begin + k]);
    }
    f_->linear_.push_back(l);
    return static_cast<uint32_t>(f_->linear_.size() - 1);
  }

  // Lays the tree out breadth-first from its root, children side by side. Every node and
  // leaf is reached at most once, so a cycle or a shared child is an error, not an endless walk.
  Status Flatten(const Arrays& a, uint32_t group) {
    using F = LightgbmForest;
    const size_t inner = a.leaves - 1;
    if (f_->nodes_.size() + 2 * a.leaves > kMaxNodes) return Error(tree_line_, "trees", "more than 2^28 nodes");
    RETURN_IF_ERROR(CheckLinearTerms(a));
    std::string where = "Tree=" + std::to_string(tree_index_);
    auto base = static_cast<uint32_t>(f_->nodes_.size());
    // LightGBM's child codes: >= 0 a split, < 0 the leaf ~code. A one-leaf tree is its leaf.
    std::vector<int64_t> order{inner > 0 ? 0 : -1};
    std::vector<uint32_t> depth{0};
    std::vector<bool> seen_split(inner, false), seen_leaf(a.leaves, false);
    F::Tree tree{base, 0, group, a.linear, a.linear, 0};
    for (size_t i = 0; i < order.size(); ++i) {
      int64_t code = order[i];
      auto self = static_cast<uint32_t>(base + i);
      tree.depth = std::max(tree.depth, depth[i]);
      F::Node node{};
      if (code < 0) {
        node.bits = F::kLeaf;
        node.threshold = kInf;
        node.left = self;
        node.payload = LeafPayload(a, static_cast<size_t>(~code));
        f_->nodes_.push_back(node);
        continue;
      }
      auto k = static_cast<size_t>(code);
      std::string at = where + " split " + std::to_string(k);
      for (int64_t child : {a.left[k], a.right[k]}) {
        bool ok = child >= 0 ? static_cast<size_t>(child) < inner && !seen_split[static_cast<size_t>(child)]
                             : static_cast<size_t>(~child) < a.leaves && !seen_leaf[static_cast<size_t>(~child)];
        if (!ok)
          return Error(FieldLine("left_child"), "left_child/right_child",
                       at + ": child " + std::to_string(child) + " is not a node, or is reached twice");
        if (child >= 0) seen_split[static_cast<size_t>(child)] = true;
        else seen_leaf[static_cast<size_t>(~child)] = true;
      }
      if (a.feature[k] < 0 || static_cast<size_t>(a.feature[k]) >= f_->num_feature_)
        return Error(FieldLine("split_feature"), "split_feature",
                     at + ": feature " + std::to_string(a.feature[k]) + " is not below max_feature_idx + 1 = " +
                         std::to_string(f_->num_feature_));
      auto feature = static_cast<uint32_t>(a.feature[k]);
      int64_t dt = a.decision[k];
      int64_t missing = (dt >> 2) & 3;
      if (dt < 0 || dt > 15 || missing == 3)
        return Error(FieldLine("decision_type"), "decision_type", at + ": " + std::to_string(dt) +
                                                                      " is not a LightGBM decision type");
      node.left = static_cast<uint32_t>(base + order.size());
      if (dt & 1) {  // categorical: threshold is the index of its bit set
        double c = a.threshold[k];
        if (!(c >= 0 && c < static_cast<double>(a.num_cat)) || c != std::floor(c))
          return Error(FieldLine("threshold"), "threshold", at + ": categorical split " + Num(c) +
                                                                " is not below num_cat " + std::to_string(a.num_cat));
        auto ci = static_cast<size_t>(c);
        auto begin = static_cast<size_t>(a.cat_boundaries[ci]);
        auto words = static_cast<size_t>(a.cat_boundaries[ci + 1]) - begin;
        if (f_->cat_bits_.size() + words > kMaxCatWords) return Error(tree_line_, "cat_threshold", "too large");
        f_->cat_ranges_.push_back({static_cast<uint32_t>(f_->cat_bits_.size()), static_cast<uint32_t>(words)});
        f_->cat_bits_.insert(f_->cat_bits_.end(), a.cat_threshold.begin() + static_cast<std::ptrdiff_t>(begin),
                             a.cat_threshold.begin() + static_cast<std::ptrdiff_t>(begin + words));
        node.bits = F::kCategorical | feature;
        node.payload = static_cast<uint32_t>(f_->cat_ranges_.size() - 1);
        tree.generic = true;
      } else {
        bool left = (dt & 2) != 0;
        uint8_t kind = missing == 0 ? F::kPlain
                       : missing == 1 ? (left ? F::kZeroLeft : F::kZeroRight)
                                      : (left ? F::kNanLeft : F::kNanRight);
        node.bits = SlotFor(feature, kind);
        node.threshold = RoundDown(a.threshold[k]);
      }
      f_->nodes_.push_back(node);
      order.push_back(a.left[k]);
      order.push_back(a.right[k]);
      depth.push_back(depth[i] + 1);
      depth.push_back(depth[i] + 1);
    }
    if (tree.depth > kMaxLockstepDepth) tree.generic = true;
    f_->trees_.push_back(tree);
    return Status::Ok();
  }


  // ---- the JSON dump -------------------------------------------------------------------

  using Value = xgb::Value;

  Status LoadDump() {
    Result<Value> parsed = xgb::ParseJson(text_);
    if (!parsed.ok()) return Error(0, "json", parsed.status().message());
    const Value& d = *parsed;
    const Value* name = d.Find("name");
    if (d.kind != Value::kObject || name == nullptr || name->kind != Value::kString || name->str != "tree")
      return Error(0, "name", "not a LightGBM JSON dump (no \"name\": \"tree\"); save the model with "
                              "Booster.save_model() or json.dump(Booster.dump_model())");
    const Value* version = d.Find("version");
    if (version == nullptr || version->kind != Value::kString)
      return Error(0, "version", "missing from the dump; is this a LightGBM model?");
    RETURN_IF_ERROR(CheckVersion(Field{version->str, 0}));
    ASSIGN_OR_RETURN(size_t num_class, DumpCount(d, "num_class", "header", 1, kMaxClasses));
    ASSIGN_OR_RETURN(tree_per_iteration_, DumpCount(d, "num_tree_per_iteration", "header", 1, kMaxClasses));
    ASSIGN_OR_RETURN(size_t max_feature, DumpCount(d, "max_feature_idx", "header", 0, kMaxFeatures - 1));
    const Value* avg = d.Find("average_output");
    f_->average_output_ = avg != nullptr && avg->kind == Value::kBool && avg->boolean;
    const Value* obj = d.Find("objective");
    std::string objective = obj != nullptr && obj->kind == Value::kString ? obj->str : "";
    RETURN_IF_ERROR(SetShape(num_class, max_feature, 0, Field{objective, 0}));
    SlotFor(0, LightgbmForest::kPlain);
    const Value* trees = d.Find("tree_info");
    if (trees == nullptr || trees->kind != Value::kArray) return Error(0, "tree_info", "missing: the trees");
    if (trees->Size() > kMaxTrees) return Error(0, "tree_info", "more than " + std::to_string(kMaxTrees) + " trees");
    if (trees->IsNumeric() && trees->Size() > 0) return Error(0, "tree_info", "holds numbers, not trees");
    for (size_t t = 0; t < trees->items.size(); ++t) RETURN_IF_ERROR(AddDumpTree(trees->items[t], t));
    return Finish(trees->items.size(), 0, "tree_info");
  }

  Result<int64_t> DumpInt(const Value& obj, const char* key, const std::string& where, int64_t lo, int64_t hi) const {
    const Value* v = obj.Find(key);
    if (v == nullptr || v->kind != Value::kNumber || v->number != std::floor(v->number) ||
        !(v->number >= static_cast<double>(lo) && v->number <= static_cast<double>(hi)))
      return Error(0, where + "." + key, "missing, or not a whole number from " + std::to_string(lo) + " to " +
                                             std::to_string(hi));
    return static_cast<int64_t>(v->number);
  }
  Result<size_t> DumpCount(const Value& obj, const char* key, const std::string& where, size_t lo, size_t hi) const {
    ASSIGN_OR_RETURN(int64_t n, DumpInt(obj, key, where, static_cast<int64_t>(lo), static_cast<int64_t>(hi)));
    return static_cast<size_t>(n);
  }

  // One tree_info entry: its nodes, each naming its own split_index or leaf_index, go into
  // the text format's arrays; Flatten then checks the structure as for a text file.
  Status AddDumpTree(const Value& tree, size_t index) {
    std::string where = "tree_info[" + std::to_string(index) + "]";
    tree_index_ = index;
    fields_ = nullptr;
    if (tree.kind != Value::kObject) return Error(0, where, "not an object");
    ASSIGN_OR_RETURN(int64_t ti, DumpInt(tree, "tree_index", where, 0, static_cast<int64_t>(kMaxTrees)));
    if (static_cast<size_t>(ti) != index) return Error(0, where + ".tree_index", std::to_string(ti) + ", expected " +
                                                                                   std::to_string(index));
    Arrays a;
    ASSIGN_OR_RETURN(a.leaves, DumpCount(tree, "num_leaves", where, 1, kMaxLeaves));
    const size_t inner = a.leaves - 1;
    ASSIGN_OR_RETURN(size_t num_cat, DumpCount(tree, "num_cat", where, 0, inner));
    a.num_cat = num_cat;
    const Value* root = tree.Find("tree_structure");
    if (root == nullptr || root->kind != Value::kObject) return Error(0, where + ".tree_structure", "missing");
    a.feature.assign(inner, -1);
    a.threshold.assign(inner, 0);
    a.decision.assign(inner, 0);
    a.left.assign(inner, 0);
    a.right.assign(inner, 0);
    a.leaf_value.assign(a.leaves, 0);
    a.cat_boundaries.push_back(0);
    std::vector<bool> seen_split(inner, false), seen_leaf(a.leaves, false);
    std::vector<std::vector<double>> coeffs(a.leaves);
    std::vector<std::vector<int64_t>> feats(a.leaves);
    std::vector<double> consts(a.leaves, 0);
    std::vector<const Value*> stack{root};
    size_t linear_leaves = 0;
    while (!stack.empty()) {
      const Value* n = stack.back();
      stack.pop_back();
      if (n->kind != Value::kObject) return Error(0, where + ".tree_structure", "a child is not an object");
      if (n->Find("split_index") != nullptr) {
        ASSIGN_OR_RETURN(int64_t k, DumpInt(*n, "split_index", where, 0, static_cast<int64_t>(inner) - 1));
        if (seen_split[static_cast<size_t>(k)]) return Error(0, where, "split " + std::to_string(k) + " appears twice");
        if (stack.empty() && n == root && k != 0) return Error(0, where, "the root is not split 0");
        seen_split[static_cast<size_t>(k)] = true;
        RETURN_IF_ERROR(DumpSplit(*n, static_cast<size_t>(k), where, &a));
        const Value* kids[2] = {n->Find("left_child"), n->Find("right_child")};
        for (int side = 0; side < 2; ++side) {
          ASSIGN_OR_RETURN(int64_t code, ChildCode(kids[side], where, a.leaves));
          (side == 0 ? a.left : a.right)[static_cast<size_t>(k)] = code;
          stack.push_back(kids[side]);
        }
        continue;
      }
      int64_t leaf = 0;
      if (inner > 0 || n->Find("leaf_index") != nullptr) {
        ASSIGN_OR_RETURN(leaf, DumpInt(*n, "leaf_index", where, 0, static_cast<int64_t>(a.leaves) - 1));
      }
      auto l = static_cast<size_t>(leaf);
      if (seen_leaf[l]) return Error(0, where, "leaf " + std::to_string(leaf) + " appears twice");
      seen_leaf[l] = true;
      const Value* value = n->Find("leaf_value");
      if (value == nullptr || value->kind != Value::kNumber || !std::isfinite(value->number))
        return Error(0, where + ".leaf_value", "leaf " + std::to_string(leaf) + " has no finite leaf_value");
      a.leaf_value[l] = value->number;
      if (n->Find("leaf_const") != nullptr) {
        ++linear_leaves;
        RETURN_IF_ERROR(DumpLinearLeaf(*n, where, &consts[l], &feats[l], &coeffs[l]));
      }
    }
    for (size_t k = 0; k < inner; ++k)
      if (!seen_split[k]) return Error(0, where, "split " + std::to_string(k) + " is not in tree_structure");
    for (size_t l = 0; l < a.leaves; ++l)
      if (!seen_leaf[l]) return Error(0, where, "leaf " + std::to_string(l) + " is not in tree_structure");
    if (a.cat_boundaries.size() != num_cat + 1)
      return Error(0, where + ".num_cat", std::to_string(num_cat) + ", but the tree has " +
                                              std::to_string(a.cat_boundaries.size() - 1) + " categorical splits");
    if (linear_leaves != 0 && linear_leaves != a.leaves)
      return Error(0, where, "some leaves are linear (leaf_const) and some are not");
    if (linear_leaves != 0) {
      a.linear = true;
      a.leaf_const = consts;
      for (size_t l = 0; l < a.leaves; ++l) {
        a.linear_begin.push_back(a.leaf_features.size());
        a.num_features.push_back(static_cast<int64_t>(feats[l].size()));
        a.leaf_features.insert(a.leaf_features.end(), feats[l].begin(), feats[l].end());
        a.leaf_coeff.insert(a.leaf_coeff.end(), coeffs[l].begin(), coeffs[l].end());
      }
    }
    bool use = options_.num_iteration <= 0 ||
               index < static_cast<size_t>(options_.num_iteration) * tree_per_iteration_;
    if (!use) return Status::Ok();
    return Flatten(a, static_cast<uint32_t>(index % tree_per_iteration_));
  }

  // A child's code as the text format has it: its split_index, or ~leaf_index.
  Result<int64_t> ChildCode(const Value* c, const std::string& where, size_t leaves) const {
    if (c == nullptr || c->kind != Value::kObject) return Error(0, where, "a split without both children");
    if (c->Find("split_index") != nullptr)
      return DumpInt(*c, "split_index", where, 0, static_cast<int64_t>(leaves) - 2);
    ASSIGN_OR_RETURN(int64_t leaf, DumpInt(*c, "leaf_index", where, 0, static_cast<int64_t>(leaves) - 1));
    return ~leaf;
  }

  Status DumpSplit(const Value& n, size_t k, const std::string& where, Arrays* a) {
    ASSIGN_OR_RETURN(a->feature[k], DumpInt(n, "split_feature", where, 0, static_cast<int64_t>(f_->num_feature_) - 1));
    const Value* dt = n.Find("decision_type");
    const Value* mt = n.Find("missing_type");
    const Value* dl = n.Find("default_left");
    std::string at = where + " split " + std::to_string(k);
    if (dt == nullptr || dt->kind != Value::kString || (dt->str != "<=" && dt->str != "=="))
      return Error(0, at + ".decision_type", "not \"<=\" or \"==\"");
    if (mt == nullptr || mt->kind != Value::kString || (mt->str != "None" && mt->str != "Zero" && mt->str != "NaN"))
      return Error(0, at + ".missing_type", "not None, Zero or NaN");
    if (dl == nullptr || dl->kind != Value::kBool) return Error(0, at + ".default_left", "not true or false");
    int64_t missing = mt->str == "None" ? 0 : mt->str == "Zero" ? 1 : 2;
    bool categorical = dt->str == "==";
    a->decision[k] = (categorical ? 1 : 0) | (dl->boolean ? 2 : 0) | (missing << 2);
    const Value* thr = n.Find("threshold");
    if (!categorical) {
      if (thr == nullptr || thr->kind != Value::kNumber || std::isnan(thr->number))
        return Error(0, at + ".threshold", "not a number");
      a->threshold[k] = thr->number;
      return Status::Ok();
    }
    // "1||3||5": the categories that go left, as a bit set like the text format's.
    if (thr == nullptr || (thr->kind != Value::kString && thr->kind != Value::kNumber))
      return Error(0, at + ".threshold", "not a list of categories (\"1||3||5\")");
    std::vector<uint32_t> bits;
    std::string list = thr->kind == Value::kNumber ? Num(thr->number) : thr->str;
    size_t i = 0;
    while (i <= list.size()) {
      size_t end = list.find("||", i);
      if (end == std::string::npos) end = list.size();
      uint32_t c = 0;
      auto [p, ec] = std::from_chars(list.data() + i, list.data() + end, c);
      if (ec != std::errc() || p != list.data() + end || c >= (1u << 24))
        return Error(0, at + ".threshold", "'" + Short(list) + "' is not a list of categories below 2^24");
      if (bits.size() <= c / 32) bits.resize(c / 32 + 1, 0);
      bits[c / 32] |= 1u << (c % 32);
      i = end + 2;
    }
    if (a->cat_threshold.size() + bits.size() > kMaxCatWords) return Error(0, at, "categorical splits too large");
    a->threshold[k] = static_cast<double>(a->cat_boundaries.size() - 1);
    a->cat_threshold.insert(a->cat_threshold.end(), bits.begin(), bits.end());
    a->cat_boundaries.push_back(static_cast<int64_t>(a->cat_threshold.size()));
    return Status::Ok();
  }

  Status DumpLinearLeaf(const Value& n, const std::string& where, double* constant, std::vector<int64_t>* feats,
                        std::vector<double>* coeffs) const {
    const Value* c = n.Find("leaf_const");
    const Value* fs = n.Find("leaf_features");
    const Value* cs = n.Find("leaf_coeff");
    if (c == nullptr || c->kind != Value::kNumber || !std::isfinite(c->number) || fs == nullptr ||
        !fs->IsNumeric() || cs == nullptr || !cs->IsNumeric() || fs->nums.size() != cs->nums.size())
      return Error(0, where, "a linear leaf without leaf_const, or leaf_features and leaf_coeff that do not pair up");
    *constant = c->number;
    for (size_t i = 0; i < fs->nums.size(); ++i) {
      double f = fs->nums[i];
      if (!(f >= 0 && f < static_cast<double>(f_->num_feature_)) || f != std::floor(f) || !std::isfinite(cs->nums[i]))
        return Error(0, where + ".leaf_features", "feature " + Num(f) + " is not below max_feature_idx + 1");
      feats->push_back(static_cast<int64_t>(f));
      coeffs->push_back(cs->nums[i]);
    }
    return Status::Ok();
  }

  Status CheckLinearTerms(const Arrays& a) const {
    if (f_->linear_features_.size() + a.leaf_features.size() > kMaxLinearTerms)
      return Error(tree_line_, "leaf_features", "more than 2^26 linear-leaf terms in all");
    return Status::Ok();
  }

  // The line of a field of the tree being read (its Tree= line if absent).
  size_t FieldLine(const char* key) const {
    auto it = fields_ != nullptr ? fields_->find(key) : Fields::const_iterator();
    return fields_ != nullptr && it != fields_->end() ? it->second.line : tree_line_;
  }

  // Marks the runs of kTreeLanes trees that a single row walks together.
  void PlanTreeRuns() {
    auto& trees = f_->trees_;
    constexpr size_t lanes = LightgbmForest::kTreeLanes;
    for (size_t t = 0; t + lanes <= trees.size();) {
      uint32_t depth = 0;
      bool lockstep = true;
      for (size_t j = t; j < t + lanes; ++j) {
        lockstep = lockstep && !trees[j].generic;
        depth = std::max(depth, trees[j].depth);
      }
      if (!lockstep) {
        ++t;
        continue;
      }
      trees[t].run_depth = std::max<uint32_t>(depth, 1);
      t += lanes;
    }
  }

  std::string_view text_;
  const std::string& name_;
  LightgbmForest* f_;
  LightgbmForest::Options options_;
  size_t pos_ = 0, line_no_ = 0;
  size_t tree_per_iteration_ = 1;
  size_t tree_index_ = 0, tree_line_ = 0;
  std::unordered_map<uint64_t, uint32_t> slot_of_;
  const Fields* fields_ = nullptr;  // the tree being read
};

Result<std::unique_ptr<LightgbmForest>> LightgbmForest::Parse(std::string_view text, const std::string& name,
                                                              Options options) {
  std::unique_ptr<LightgbmForest> forest(new LightgbmForest());
  RETURN_IF_ERROR(LightgbmLoader(text, name, forest.get(), options).Load());
  return forest;
}

Result<std::unique_ptr<LightgbmForest>> LightgbmForest::Load(const std::string& path, Options options) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) > kMaxFileBytes)
    return Status::User(path + ": file: larger than 1 GiB; not a model forja loads");
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return Parse(text, path, options);
}

std::string LightgbmForest::Describe() const {
  auto count = [](size_t n, const char* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); };
  std::string s = "lightgbm " + version_ + " " + objective_;
  if (average_output_) s += " (random forest)";
  s += ", " + count(trees_.size(), "tree");
  if (num_groups_ > 1) s += ", " + std::to_string(num_groups_) + " classes";
  return s + ", " + count(num_feature_, "feature");
}

}  // namespace forja::runtime
