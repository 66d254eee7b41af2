// Loading xgboost model files into XgboostForest, and evaluating it.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>

#include "forja/core/fs.h"
#include "forja/runtime/xgb_doc.h"
#include "forja/runtime/xgboost_model.h"

namespace forja::runtime {

namespace {

using xgb::Value;

// Trees deeper than this are walked node by node instead of in lockstep (a lossguide
// tree can be deep on one side and shallow elsewhere).
constexpr uint32_t kMaxLockstepDepth = 16;
// Bounds that keep a hostile file from asking for gigabytes.
constexpr double kMaxFeatures = 1 << 28;
constexpr size_t kMaxNodes = size_t{1} << 30;
constexpr double kMaxCategory = 1 << 24;  // xgboost's own bound on category values
constexpr size_t kMaxCatWords = size_t{1} << 24;

enum class Link { kIdentity, kLogit, kLog };

struct Objective {
  const char* name;
  Link link;  // base_score is stored in output space: this takes it to margin space
  XgboostForest::Transform transform;
};

constexpr Objective kObjectives[] = {
    {"binary:logistic", Link::kLogit, XgboostForest::kSigmoid},
    {"reg:logistic", Link::kLogit, XgboostForest::kSigmoid},
    {"binary:logitraw", Link::kIdentity, XgboostForest::kIdentity},
    {"binary:hinge", Link::kIdentity, XgboostForest::kHinge},
    {"reg:squarederror", Link::kIdentity, XgboostForest::kIdentity},
    {"reg:linear", Link::kIdentity, XgboostForest::kIdentity},
    {"reg:squaredlogerror", Link::kIdentity, XgboostForest::kIdentity},
    {"reg:pseudohubererror", Link::kIdentity, XgboostForest::kIdentity},
    {"reg:absoluteerror", Link::kIdentity, XgboostForest::kIdentity},
    {"count:poisson", Link::kLog, XgboostForest::kExp},
    {"reg:gamma", Link::kLog, XgboostForest::kExp},
    {"reg:tweedie", Link::kLog, XgboostForest::kExp},
    {"survival:cox", Link::kLog, XgboostForest::kExp},
    {"multi:softprob", Link::kIdentity, XgboostForest::kSoftprob},
    {"multi:softmax", Link::kIdentity, XgboostForest::kSoftmax},
    {"rank:pairwise", Link::kIdentity, XgboostForest::kIdentity},
    {"rank:ndcg", Link::kIdentity, XgboostForest::kIdentity},
    {"rank:map", Link::kIdentity, XgboostForest::kIdentity},
};

// xgboost's common::Sigmoid (the clamp keeps expf finite).
inline float Sigmoid(float x) {
  float e = std::exp(std::min(-x, 88.7f));
  return 1.0f / (e + 1.0f + 1e-16f);
}

// The index d names, when it is an integer in [0, limit).
bool AsIndex(double d, size_t limit, size_t* out) {
  if (!(d >= 0 && d < static_cast<double>(limit))) return false;
  *out = static_cast<size_t>(d);
  return static_cast<double>(*out) == d;
}

std::string Num(double d) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return ec == std::errc() ? std::string(buf, p) : "?";
}

}  // namespace

// Builds an XgboostForest from the parsed document; every check names the file.
class XgboostLoader {
 public:
  XgboostLoader(const std::string& name, XgboostForest* f) : name_(name), f_(f) {}

  Status Load(const Value& doc) {
    const Value* learner = doc.Find("learner");
    if (learner == nullptr || learner->kind != Value::kObject)
      return Error("not an xgboost model: no 'learner' object");
    ReadVersion(doc.Find("version"));
    RETURN_IF_ERROR(ReadParams(*learner));
    ASSIGN_OR_RETURN(const Value* booster, Object(*learner, "gradient_booster", "learner"));
    ASSIGN_OR_RETURN(f_->booster_, String(*booster, "name", "gradient_booster"));
    if (f_->booster_ == "gblinear") return LoadLinear(*booster);
    if (f_->booster_ == "dart") {
      ASSIGN_OR_RETURN(const Value* gbtree, Object(*booster, "gbtree", "gradient_booster"));
      ASSIGN_OR_RETURN(const Value* weights, Numbers(*booster, "weight_drop", "gradient_booster"));
      return LoadTrees(*gbtree, weights);
    }
    if (f_->booster_ == "gbtree") return LoadTrees(*booster, nullptr);
    return Error("booster '" + f_->booster_ + "' is not supported (gbtree, dart and gblinear are)");
  }

 private:
  Status Error(const std::string& what) const { return Status::User(name_ + ": " + what); }

  Result<const Value*> Object(const Value& parent, const char* key, const char* where) const {
    const Value* v = parent.Find(key);
    if (v == nullptr || v->kind != Value::kObject) return Error(where + std::string(": no '") + key + "' object");
    return v;
  }

  Result<const Value*> Numbers(const Value& parent, const char* key, const std::string& where) const {
    const Value* v = parent.Find(key);
    if (v == nullptr || !v->IsNumeric()) return Error(where + ": no '" + key + "' array of numbers");
    return v;
  }

  Result<std::string> String(const Value& parent, const char* key, const char* where) const {
    const Value* v = parent.Find(key);
    if (v == nullptr || v->kind != Value::kString) return Error(where + std::string(": no '") + key + "' string");
    return v->str;
  }

  // xgboost writes parameters as strings ("32"); a number is taken as well. Absent: `dflt`.
  Result<double> Param(const Value& parent, const char* key, const std::string& where, double dflt) const {
    const Value* v = parent.Find(key);
    if (v == nullptr) return dflt;
    if (v->kind == Value::kNumber) return v->number;
    if (v->kind == Value::kString) {
      double d = 0;
      const char* b = v->str.data();
      auto [p, ec] = std::from_chars(b, b + v->str.size(), d);
      if (ec == std::errc() && p == b + v->str.size()) return d;
    }
    return Error(where + ": '" + key + "' is not a number");
  }

  Result<size_t> Count(const Value& parent, const char* key, const std::string& where, double dflt,
                       double limit) const {
    ASSIGN_OR_RETURN(double d, Param(parent, key, where, dflt));
    size_t n = 0;
    if (!AsIndex(d, static_cast<size_t>(limit) + 1, &n))
      return Error(where + ": " + key + " = " + Num(d) + " is out of range");
    return n;
  }

  void ReadVersion(const Value* v) {
    if (v == nullptr || !v->IsNumeric() || v->nums.size() != 3) return;
    for (size_t i = 0; i < 3; ++i) {
      if (i) f_->version_ += '.';
      f_->version_ += Num(v->nums[i]);
    }
  }

  Status ReadParams(const Value& learner) {
    ASSIGN_OR_RETURN(const Value* p, Object(learner, "learner_model_param", "learner"));
    ASSIGN_OR_RETURN(f_->num_feature_, Count(*p, "num_feature", "learner_model_param", 0, kMaxFeatures));
    if (f_->num_feature_ == 0) return Error("learner_model_param: num_feature is 0");
    ASSIGN_OR_RETURN(size_t num_class, Count(*p, "num_class", "learner_model_param", 0, 1 << 16));
    ASSIGN_OR_RETURN(size_t num_target, Count(*p, "num_target", "learner_model_param", 1, 1 << 16));
    f_->num_groups_ = num_class > 0 ? num_class : std::max<size_t>(num_target, 1);

    ASSIGN_OR_RETURN(const Value* obj, Object(learner, "objective", "learner"));
    ASSIGN_OR_RETURN(f_->objective_, String(*obj, "name", "objective"));
    const Objective* found = nullptr;
    for (const Objective& o : kObjectives)
      if (f_->objective_ == o.name) found = &o;
    if (found == nullptr) return Error("objective '" + f_->objective_ + "' is not supported");
    f_->transform_ = found->transform;
    if ((found->transform == XgboostForest::kSoftprob || found->transform == XgboostForest::kSoftmax) &&
        num_class == 0)
      return Error(f_->objective_ + " without num_class");
    return ReadBaseScore(*p, found->link);
  }

  // "5E-1" (1.x, 2.x), "[5E-1]" or one per group "[1E0,2E0,3E0]" (3.x).
  Status ReadBaseScore(const Value& p, Link link) {
    std::vector<float> scores;
    const Value* v = p.Find("base_score");
    if (v == nullptr) {
      scores.push_back(0.5f);
    } else if (v->kind == Value::kNumber) {
      scores.push_back(v->number_f);
    } else if (v->kind == Value::kString) {
      std::string_view s = v->str;
      if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
      while (true) {
        size_t comma = s.find(',');
        std::string_view item = s.substr(0, comma);
        float f = 0;
        auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), f);
        if (ec != std::errc() || ptr != item.data() + item.size())
          return Error("learner_model_param: base_score '" + v->str + "' is not a number");
        scores.push_back(f);
        if (comma == std::string_view::npos) break;
        s = s.substr(comma + 1);
      }
    } else {
      return Error("learner_model_param: base_score is not a number");
    }
    if (scores.size() != 1 && scores.size() != f_->num_groups_)
      return Error("learner_model_param: " + std::to_string(scores.size()) + " base scores for " +
                   std::to_string(f_->num_groups_) + " outputs");
    for (size_t g = 0; g < f_->num_groups_; ++g) {
      float s = scores[scores.size() == 1 ? 0 : g];
      // xgboost's ProbToMargin, in float as xgboost computes it.
      if (link == Link::kLogit) s = -std::log(1.0f / s - 1.0f);
      if (link == Link::kLog) s = std::log(s);
      f_->base_margin_.push_back(s);
    }
    return Status::Ok();
  }

  Status LoadLinear(const Value& booster) {
    ASSIGN_OR_RETURN(const Value* model, Object(booster, "model", "gradient_booster"));
    ASSIGN_OR_RETURN(const Value* w, Numbers(*model, "weights", "gblinear model"));
    size_t want = (f_->num_feature_ + 1) * f_->num_groups_;
    if (w->nums.size() != want)
      return Error("gblinear model: " + std::to_string(w->nums.size()) + " weights, expected " +
                   std::to_string(want) + " ((num_feature + 1) * outputs)");
    f_->linear_ = w->nums_f;
    return Status::Ok();
  }

  Status LoadTrees(const Value& gbtree, const Value* weight_drop) {
    ASSIGN_OR_RETURN(const Value* model, Object(gbtree, "model", "gbtree"));
    ASSIGN_OR_RETURN(const Value* mp, Object(*model, "gbtree_model_param", "model"));
    ASSIGN_OR_RETURN(size_t num_trees, Count(*mp, "num_trees", "gbtree_model_param", 0, 1 << 24));
    const Value* trees = model->Find("trees");
    if (trees == nullptr || trees->kind != Value::kArray) return Error("model: no 'trees' array");
    if (trees->items.size() != num_trees)
      return Error("model: " + std::to_string(trees->items.size()) + " trees, gbtree_model_param says " +
                   std::to_string(num_trees));
    ASSIGN_OR_RETURN(const Value* info, Numbers(*model, "tree_info", "model"));
    if (info->nums.size() != num_trees)
      return Error("model: tree_info has " + std::to_string(info->nums.size()) + " entries for " +
                   std::to_string(num_trees) + " trees");
    if (weight_drop != nullptr && weight_drop->nums.size() != num_trees)
      return Error("dart: weight_drop has " + std::to_string(weight_drop->nums.size()) + " entries for " +
                   std::to_string(num_trees) + " trees");
    RETURN_IF_ERROR(CheckRecoding(*model));
    RETURN_IF_ERROR(CheckIterations(*model, num_trees));
    for (size_t t = 0; t < num_trees; ++t) {
      size_t group = 0;
      if (!AsIndex(info->nums[t], f_->num_groups_, &group))
        return Error("model: tree_info[" + std::to_string(t) + "] = " + Num(info->nums[t]) +
                     " is not an output (there are " + std::to_string(f_->num_groups_) + ")");
      float weight = weight_drop != nullptr ? weight_drop->nums_f[t] : 1.0f;
      RETURN_IF_ERROR(AddTree(trees->items[t], t, static_cast<uint32_t>(group), weight));
    }
    PlanTreeRuns();
    return Status::Ok();
  }

  // Marks the runs of kTreeLanes trees that a single row walks together.
  void PlanTreeRuns() {
    auto& trees = f_->trees_;
    for (size_t t = 0; t + XgboostForest::kTreeLanes <= trees.size();) {
      uint32_t depth = 0;
      bool lockstep = true;
      for (size_t j = t; j < t + XgboostForest::kTreeLanes; ++j) {
        lockstep = lockstep && !trees[j].generic;
        depth = std::max(depth, trees[j].depth);
      }
      if (!lockstep) {
        ++t;
        continue;
      }
      trees[t].run_depth = std::max<uint32_t>(depth, 1);
      t += XgboostForest::kTreeLanes;
    }
  }

  // iteration_indptr (2.0+): where each boosting round's trees start. All trees are
  // summed, so it only has to agree with them.
  Status CheckIterations(const Value& model, size_t num_trees) const {
    const Value* p = model.Find("iteration_indptr");
    if (p == nullptr) return Status::Ok();
    bool ok = p->IsNumeric() && !p->nums.empty() && p->nums.front() == 0 &&
              p->nums.back() == static_cast<double>(num_trees);
    for (size_t i = 1; ok && i < p->nums.size(); ++i) ok = p->nums[i - 1] <= p->nums[i];
    if (!ok) return Error("model: iteration_indptr does not match the " + std::to_string(num_trees) + " trees");
    return Status::Ok();
  }

  // xgboost 3.1+ can store a category encoder (string categories from pandas); a model
  // trained on numeric codes has an empty one.
  Status CheckRecoding(const Value& model) const {
    const Value* cats = model.Find("cats");
    if (cats == nullptr) return Status::Ok();
    const Value* enc = cats->Find("enc");
    if (enc != nullptr && enc->Size() > 0)
      return Error("model: categories re-coded from strings (a pandas DataFrame) are not supported; "
                   "train on numeric category codes");
    return Status::Ok();
  }

  Status AddTree(const Value& tree, size_t t, uint32_t group, float weight) {
    std::string where = "tree " + std::to_string(t);
    if (tree.kind != Value::kObject) return Error(where + ": not an object");
    ASSIGN_OR_RETURN(const Value* tp, Object(tree, "tree_param", where.c_str()));
    ASSIGN_OR_RETURN(size_t leaf_vec, Count(*tp, "size_leaf_vector", where, 1, 1 << 16));
    if (leaf_vec > 1) return Error(where + ": vector leaves (multi_strategy=multi_output_tree) are not supported");
    ASSIGN_OR_RETURN(size_t n, Count(*tp, "num_nodes", where, 0, 1 << 28));
    if (n == 0) return Error(where + ": num_nodes is 0");
    const char* keys[] = {"left_children", "right_children", "split_indices", "split_conditions", "default_left"};
    const Value* a[5];
    for (int i = 0; i < 5; ++i) {
      ASSIGN_OR_RETURN(a[i], Numbers(tree, keys[i], where));
      if (a[i]->nums.size() != n)
        return Error(where + ": " + keys[i] + " has " + std::to_string(a[i]->nums.size()) + " entries for " +
                     std::to_string(n) + " nodes");
    }
    const Value* split_type = tree.Find("split_type");  // absent before categorical support
    if (split_type != nullptr && (!split_type->IsNumeric() || split_type->nums.size() != n))
      return Error(where + ": split_type does not have " + std::to_string(n) + " numbers");
    if (f_->nodes_.size() + n > kMaxNodes) return Error("more than 2^30 nodes");
    TreeArrays arrays{a[0]->nums, a[1]->nums, a[2]->nums, a[3]->nums_f, a[4]->nums,
                      split_type != nullptr ? &split_type->nums : nullptr};
    std::vector<int64_t> cat_of_node;
    if (split_type != nullptr) RETURN_IF_ERROR(ReadCategories(tree, where, n, &cat_of_node));
    return Flatten(arrays, cat_of_node, where, group, weight);
  }

  struct TreeArrays {
    const std::vector<double>& left;
    const std::vector<double>& right;
    const std::vector<double>& feature;
    const std::vector<float>& cond;
    const std::vector<double>& default_left;
    const std::vector<double>* split_type;
  };

  // categories / categories_nodes / categories_segments / categories_sizes: for the k-th
  // categorical node, the categories going right are categories[segments[k] .. + sizes[k]].
  // Each becomes a bit set in cat_bits_; cat_of_node[node] is its cat_ranges_ index or -1.
  Status ReadCategories(const Value& tree, const std::string& where, size_t n, std::vector<int64_t>* cat_of_node) {
    const Value* cats = tree.Find("categories");
    const Value* nodes = tree.Find("categories_nodes");
    const Value* segs = tree.Find("categories_segments");
    const Value* sizes = tree.Find("categories_sizes");
    if (nodes == nullptr || nodes->Size() == 0) return Status::Ok();
    if (!cats || !cats->IsNumeric() || !nodes->IsNumeric() || !segs || !segs->IsNumeric() || !sizes ||
        !sizes->IsNumeric() || segs->nums.size() != nodes->nums.size() || sizes->nums.size() != nodes->nums.size())
      return Error(where + ": categories, categories_nodes, categories_segments and categories_sizes do not agree");
    cat_of_node->assign(n, -1);
    for (size_t k = 0; k < nodes->nums.size(); ++k) {
      size_t node = 0, begin = 0, size = 0;
      if (!AsIndex(nodes->nums[k], n, &node) || (*cat_of_node)[node] != -1)
        return Error(where + ": categories_nodes[" + std::to_string(k) + "] = " + Num(nodes->nums[k]) +
                     " is not a node, or repeats one");
      if (!AsIndex(segs->nums[k], cats->nums.size() + 1, &begin) ||
          !AsIndex(sizes->nums[k], cats->nums.size() - begin + 1, &size))
        return Error(where + ": categories_segments/sizes[" + std::to_string(k) + "] run past the categories");
      double max_cat = 0;
      for (size_t i = begin; i < begin + size; ++i) {
        double c = cats->nums[i];
        if (!(c >= 0 && c < kMaxCategory) || c != std::floor(c))
          return Error(where + ": category " + Num(c) + " is not an integer in [0, 2^24)");
        max_cat = std::max(max_cat, c);
      }
      size_t words = static_cast<size_t>(max_cat) / 32 + 1;
      if (f_->cat_bits_.size() + words > kMaxCatWords) return Error("categorical splits too large");
      XgboostForest::CatRange range{static_cast<uint32_t>(f_->cat_bits_.size()), static_cast<uint32_t>(words)};
      f_->cat_bits_.resize(f_->cat_bits_.size() + words, 0);
      for (size_t i = begin; i < begin + size; ++i) {
        auto c = static_cast<uint32_t>(cats->nums[i]);
        f_->cat_bits_[range.begin + c / 32] |= 1u << (c % 32);
      }
      (*cat_of_node)[node] = static_cast<int64_t>(f_->cat_ranges_.size());
      f_->cat_ranges_.push_back(range);
    }
    return Status::Ok();
  }

  // Lays the tree out breadth-first from its root, children side by side. Every node is
  // reached at most once, so a cycle or a shared child is an error, not an endless walk.
  Status Flatten(const TreeArrays& a, const std::vector<int64_t>& cat_of_node, const std::string& where,
                 uint32_t group, float weight) {
    size_t n = a.left.size();
    auto base = static_cast<uint32_t>(f_->nodes_.size());
    std::vector<uint32_t> order{0};  // old ids in new order
    std::vector<uint32_t> depth{0};
    std::vector<bool> seen(n, false);
    seen[0] = true;
    XgboostForest::Tree tree{base, 0, group, false, 0};
    for (size_t i = 0; i < order.size(); ++i) {
      uint32_t id = order[i];
      auto self = static_cast<uint32_t>(base + i);
      XgboostForest::Node node{};
      tree.depth = std::max(tree.depth, depth[i]);
      if (a.left[id] == -1) {
        node.bits = XgboostForest::kLeaf;
        node.threshold = std::numeric_limits<float>::quiet_NaN();
        node.left = self;
        node.leaf = a.cond[id] * weight;  // dart: xgboost adds leaf * weight, a float product
        f_->nodes_.push_back(node);
        continue;
      }
      size_t l = 0, r = 0, feature = 0;
      auto at = [&] { return where + ": node " + std::to_string(id); };  // built only for an error
      for (auto [child, index] : {std::pair{a.left[id], &l}, std::pair{a.right[id], &r}})
        if (!AsIndex(child, n, index))
          return Error(at() + ": child " + Num(child) + " is not a node (the tree has " + std::to_string(n) + ")");
      if (seen[l] || seen[r] || l == r) return Error(at() + ": a child is reached twice (the tree has a cycle)");
      if (!AsIndex(a.feature[id], f_->num_feature_, &feature))
        return Error(at() + ": split feature " + Num(a.feature[id]) + " is not below num_feature " +
                     std::to_string(f_->num_feature_));
      seen[l] = seen[r] = true;
      // A default-right split reads the row's second copy, where missing is +inf (see Widen).
      bool dr = a.default_left[id] == 0;
      node.bits = static_cast<uint32_t>(feature + (dr ? f_->num_feature_ : 0)) | (dr ? XgboostForest::kDefaultRight : 0);
      node.threshold = a.cond[id];
      if (!std::isfinite(node.threshold)) tree.generic = true;  // ±inf cannot stand for missing against it
      node.left = static_cast<uint32_t>(base + order.size());
      if (a.split_type != nullptr && (*a.split_type)[id] == 1) {
        if (cat_of_node.empty() || cat_of_node[id] < 0)
          return Error(at() + ": a categorical split without categories");
        node.bits |= XgboostForest::kCategorical;
        node.cat = static_cast<uint32_t>(cat_of_node[id]);
        tree.generic = true;
      }
      order.push_back(static_cast<uint32_t>(l));
      order.push_back(static_cast<uint32_t>(r));
      depth.push_back(depth[i] + 1);
      depth.push_back(depth[i] + 1);
      f_->nodes_.push_back(node);
    }
    if (tree.depth > kMaxLockstepDepth) tree.generic = true;
    f_->trees_.push_back(tree);
    return Status::Ok();
  }

  const std::string& name_;
  XgboostForest* f_;
};

Result<std::unique_ptr<XgboostForest>> XgboostForest::Parse(std::string_view bytes, const std::string& name,
                                                            Format format) {
  if (format == Format::kAuto) {
    // Both start with '{'; in JSON a key (or '}') follows, in UBJ a length's type marker.
    size_t i = 1;
    while (i < bytes.size() && std::strchr(" \t\r\n", bytes[i]) != nullptr && bytes[i] != '\0') ++i;
    bool json = bytes.empty() || bytes[0] != '{' || i >= bytes.size() || bytes[i] == '"' || bytes[i] == '}';
    format = json ? Format::kJson : Format::kUbj;
  }
  Result<xgb::Value> doc = format == Format::kJson ? xgb::ParseJson(bytes) : xgb::ParseUbj(bytes);
  if (!doc.ok()) return Status::User(name + ": " + doc.status().message());
  std::unique_ptr<XgboostForest> forest(new XgboostForest());
  RETURN_IF_ERROR(XgboostLoader(name, forest.get()).Load(*doc));
  return forest;
}

Result<std::unique_ptr<XgboostForest>> XgboostForest::Load(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return Parse(bytes, path);
}

std::string XgboostForest::Describe() const {
  auto count = [](size_t n, const char* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); };
  std::string s = version_.empty() ? "xgboost " : "xgboost " + version_ + " ";
  if (booster_ != "gbtree") s += booster_ + " ";
  s += objective_;
  if (booster_ != "gblinear") s += ", " + count(trees_.size(), "tree");
  if (num_groups_ > 1) s += ", " + count(num_groups_, "output");
  return s + ", " + count(num_feature_, "feature");
}

// ---- evaluation -------------------------------------------------------------------------

namespace {

using Node = XgboostForest::Node;

// One branch-free step on a widened row: right when value >= threshold.
inline uint32_t Step(const Node* nodes, uint32_t i, const float* wide) {
  const Node& n = nodes[i];
  return n.left + static_cast<uint32_t>(wide[n.bits & XgboostForest::kFeatureMask] >= n.threshold);
}

// Each row twice, missing values as -inf then as +inf: a default-left split reads the
// first copy (missing is below any finite threshold: left), a default-right split the
// second (right), so a step is one comparison, not a NaN test too.
void Widen(const float* rows, size_t n, size_t stride, size_t nf, float* wide) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  for (size_t r = 0; r < n; ++r) {
    const float* row = rows + r * stride;
    float* w = wide + r * 2 * nf;
    for (size_t f = 0; f < nf; ++f) {
      bool missing = std::isnan(row[f]);
      w[f] = missing ? -kInf : row[f];
      w[nf + f] = missing ? kInf : row[f];
    }
  }
}

// Rows walked together through one tree: enough independent walks to hide load latency.
constexpr size_t kLanes = 16;
// Rows per pass over the trees: the block's margins and rows stay in cache while every
// tree is walked for them.
constexpr size_t kBlockRows = 64;
// Past this many features, widening a row costs more than the walks it saves (a wide
// sparse model reads few of them): every tree is walked node by node instead.
constexpr size_t kMaxWidenFeatures = 1024;

// kLanes rows through one tree in lockstep, tree.depth steps each (a leaf steps to
// itself), adding each row's leaf to margins[row * groups].
inline void WalkLanes(const Node* nodes, const XgboostForest::Tree& tree, const float* rows, size_t stride,
                      float* margins, size_t groups) {
  uint32_t idx[kLanes];
  for (size_t j = 0; j < kLanes; ++j) idx[j] = tree.root;
  for (uint32_t d = 0; d < tree.depth; ++d)
    for (size_t j = 0; j < kLanes; ++j) idx[j] = Step(nodes, idx[j], rows + j * stride);
  for (size_t j = 0; j < kLanes; ++j) margins[j * groups] += nodes[idx[j]].leaf;
}

}  // namespace

// Node by node on the row as given (NaN is missing): categorical splits, infinite
// thresholds and deep trees.
uint32_t XgboostForest::WalkGeneric(const Tree& tree, const float* row) const {
  uint32_t i = tree.root;
  while (!(nodes_[i].bits & kLeaf)) {
    const Node& n = nodes_[i];
    bool dr = (n.bits & kDefaultRight) != 0;
    float v = row[(n.bits & kFeatureMask) - (dr ? num_feature_ : 0)];
    bool right;
    if (std::isnan(v)) {
      right = dr;
    } else if (!(n.bits & kCategorical)) {
      right = v >= n.threshold;
    } else if (v < 0 || v >= 16777216.0f) {
      right = false;  // not a valid category: xgboost sends it left
    } else {
      auto c = static_cast<uint32_t>(v);
      const CatRange& r = cat_ranges_[n.cat];
      right = c / 32 < r.words && (cat_bits_[r.begin + c / 32] >> (c % 32) & 1);
    }
    i = n.left + (right ? 1 : 0);
  }
  return i;
}

void XgboostForest::AddTrees(const float* rows, const float* wide, size_t n, size_t stride, float* margins) const {
  const Node* nodes = nodes_.data();
  const size_t groups = num_groups_;
  const size_t width = 2 * num_feature_;
  const size_t full = n - n % kLanes;  // rows walked kLanes at a time through each tree
  if (full > 0) {
    for (const Tree& tree : trees_) {
      float* m = margins + tree.group;
      if (tree.generic) {
        for (size_t r = 0; r < full; ++r) m[r * groups] += nodes[WalkGeneric(tree, rows + r * stride)].leaf;
        continue;
      }
      for (size_t r = 0; r < full; r += kLanes) WalkLanes(nodes, tree, wide + r * width, width, m + r * groups, groups);
    }
  }
  for (size_t r = full; r < n; ++r) AddTreesOneRow(rows + r * stride, wide + r * width, margins + r * groups);
}

// A lone row walks kTreeLanes trees at once instead; the leaves are still added in tree order.
void XgboostForest::AddTreesOneRow(const float* row, const float* wide, float* margins) const {
  const Node* nodes = nodes_.data();
  for (size_t t = 0; t < trees_.size();) {
    const Tree& tree = trees_[t];
    if (tree.run_depth != 0) {
      uint32_t idx[kTreeLanes];
      for (size_t j = 0; j < kTreeLanes; ++j) idx[j] = trees_[t + j].root;
      for (uint32_t d = 0; d < tree.run_depth; ++d)
        for (size_t j = 0; j < kTreeLanes; ++j) idx[j] = Step(nodes, idx[j], wide);
      for (size_t j = 0; j < kTreeLanes; ++j) margins[trees_[t + j].group] += nodes[idx[j]].leaf;
      t += kTreeLanes;
      continue;
    }
    uint32_t i = tree.root;
    if (tree.generic) {
      i = WalkGeneric(tree, row);
    } else {
      for (uint32_t d = 0; d < tree.depth; ++d) i = Step(nodes, i, wide);
    }
    margins[tree.group] += nodes[i].leaf;
    ++t;
  }
}

void XgboostForest::AddLinear(const float* rows, size_t n, size_t stride, float* margins) const {
  const size_t groups = num_groups_;
  const float* bias = linear_.data() + num_feature_ * groups;
  for (size_t r = 0; r < n; ++r) {
    const float* row = rows + r * stride;
    for (size_t g = 0; g < groups; ++g) {
      // xgboost: bias + base first, then each present feature in order.
      float sum = bias[g] + margins[r * groups + g];
      for (size_t f = 0; f < num_feature_; ++f)
        if (!std::isnan(row[f])) sum += row[f] * linear_[f * groups + g];
      margins[r * groups + g] = sum;
    }
  }
}

void XgboostForest::PredictMargins(const float* rows, size_t n, size_t stride, float* out) const {
  const size_t groups = num_groups_;
  const size_t width = 2 * num_feature_;
  const bool widen = linear_.empty() && num_feature_ <= kMaxWidenFeatures;
  // The block's widened rows: on the stack when small (a lone row of up to 256 features).
  float small[512];
  std::vector<float> big;
  float* wide = small;
  if (widen && std::min(n, kBlockRows) * width > std::size(small)) {
    big.resize(std::min(n, kBlockRows) * width);
    wide = big.data();
  }
  for (size_t b = 0; b < n; b += kBlockRows) {
    size_t m = std::min(kBlockRows, n - b);
    float* margins = out + b * groups;
    for (size_t r = 0; r < m; ++r)
      for (size_t g = 0; g < groups; ++g) margins[r * groups + g] = base_margin_[g];
    const float* block = rows + b * stride;
    if (!linear_.empty()) {
      AddLinear(block, m, stride, margins);
    } else if (widen) {
      Widen(block, m, stride, num_feature_, wide);
      AddTrees(block, wide, m, stride, margins);
    } else {
      for (const Tree& tree : trees_)
        for (size_t r = 0; r < m; ++r) margins[r * groups + tree.group] += nodes_[WalkGeneric(tree, block + r * stride)].leaf;
    }
  }
}

void XgboostForest::PredictRows(const float* rows, size_t n, size_t stride, float* out) const {
  const size_t groups = num_groups_;
  if (transform_ != kSoftmax) {
    PredictMargins(rows, n, stride, out);
    size_t total = n * groups;
    switch (transform_) {
      case kSigmoid: for (size_t i = 0; i < total; ++i) out[i] = Sigmoid(out[i]); break;
      case kExp: for (size_t i = 0; i < total; ++i) out[i] = std::exp(out[i]); break;
      case kHinge: for (size_t i = 0; i < total; ++i) out[i] = out[i] > 0.0f ? 1.0f : 0.0f; break;
      case kSoftprob:
        for (size_t r = 0; r < n; ++r) {
          float* p = out + r * groups;
          float max = *std::max_element(p, p + groups);
          double sum = 0;  // xgboost sums the exponentials in double
          for (size_t g = 0; g < groups; ++g) {
            p[g] = std::exp(p[g] - max);
            sum += p[g];
          }
          for (size_t g = 0; g < groups; ++g) p[g] /= static_cast<float>(sum);
        }
        break;
      default: break;
    }
    return;
  }
  // multi:softmax: the index of the largest margin (the first of equals), a block at a time.
  const size_t block = std::min(n, kBlockRows);
  std::vector<float> margins(block * groups);
  for (size_t b = 0; b < n; b += block) {
    size_t m = std::min(block, n - b);
    PredictMargins(rows + b * stride, m, stride, margins.data());
    for (size_t r = 0; r < m; ++r) {
      const float* p = margins.data() + r * groups;
      out[b + r] = static_cast<float>(std::max_element(p, p + groups) - p);
    }
  }
}

}  // namespace forja::runtime
