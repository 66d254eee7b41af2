// The LightGBM runtime against LightGBM itself: every model under fixtures/lightgbm/<version>/
// (made by make_lightgbm_fixtures.py with that LightGBM) must predict what LightGBM predicted,
// raw and transformed, within 1e-6, whole batches and one row at a time; and broken files
// are refused with a line naming the file, the line and the field.
#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "forja/core/fs.h"
#include "forja/runtime/lightgbm_model.h"
#include "forja/runtime/model.h"
#include "test_util.h"

namespace forja::runtime {
namespace {

const std::string kFixtures = std::string(FORJA_SOURCE_DIR) + "/tests/runtime/fixtures/lightgbm";
const char* kVersions[] = {"3.3.5", "4.1.0", "4.6.0"};
const char* kModels[] = {"binary",     "binary_sigmoid2", "cross_entropy", "cross_entropy_lambda", "zero_as_missing",
                         "no_missing", "multiclass",      "multiclassova", "regression",           "regression_l1",
                         "huber",      "fair",            "quantile",      "mape",                 "regression_sqrt",
                         "poisson",    "tweedie",         "gamma",         "lambdarank",           "rank_xendcg",
                         "rf",         "dart",            "categorical",   "categorical_multiclass", "linear_tree",
                         "stump"};

// Also saved as the JSON dump (json.dump(Booster.dump_model())).
const char* kDumps[] = {"binary", "no_missing", "zero_as_missing", "multiclass", "regression_sqrt",
                        "rf",     "categorical", "linear_tree",    "stump",     "quantile"};

// A CSV of numbers ("nan" is NaN) as rows of T.
template <typename T>
std::vector<std::vector<T>> ReadCsv(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<T>> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<T> row;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) {
      T v = 0;
      std::from_chars(cell.data(), cell.data() + cell.size(), v);
      row.push_back(v);
    }
    rows.push_back(row);
  }
  return rows;
}

template <typename T>
std::vector<T> Flat(const std::vector<std::vector<T>>& rows) {
  std::vector<T> out;
  for (const auto& r : rows) out.insert(out.end(), r.begin(), r.end());
  return out;
}

// Within 1e-6, relative for values beyond 1.
template <typename T>
void ExpectNear(const std::vector<T>& got, const std::vector<double>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double d = std::fabs(static_cast<double>(got[i]) - want[i]) / std::max(1.0, std::fabs(want[i]));
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  EXPECT_LE(worst, 1e-6) << what << ": element " << at << " is " << got[at] << ", LightGBM says " << want[at];
}

class LightgbmFixtures : public testing::TestWithParam<const char*> {};

TEST_P(LightgbmFixtures, PredictsAsLightgbmDoes) {
  std::string dir = kFixtures + "/" + GetParam();
  for (const char* name : kModels) {
    std::string stem = dir + "/" + name;
    auto rows = ReadCsv<float>(stem + ".rows.csv");
    ASSERT_FALSE(rows.empty()) << stem;
    auto pred = Flat(ReadCsv<double>(stem + ".pred.csv"));
    auto raw = Flat(ReadCsv<double>(stem + ".raw.csv"));
    auto forest = LightgbmForest::Load(stem + ".txt");
    ASSERT_TRUE(forest.ok()) << forest.status().message();
    const LightgbmForest& f = **forest;
    size_t n = rows.size(), nf = f.num_feature(), k = f.num_outputs();
    ASSERT_EQ(nf, rows[0].size()) << stem;
    std::vector<float> x = Flat(rows);
    std::vector<double> got(n * k), got_raw(n * k);
    f.Predict(x.data(), n, nf, got.data());
    f.Predict(x.data(), n, nf, got_raw.data(), true);
    ExpectNear(got, pred, stem + " predictions");
    ExpectNear(got_raw, raw, stem + " raw scores");
    // 37 rows: two lockstep lanes of 16 and a tail of 5 walked one row at a time.
    std::vector<double> part(37 * k);
    f.Predict(x.data(), 37, nf, part.data());
    ExpectNear(part, std::vector<double>(pred.begin(), pred.begin() + 37 * static_cast<long>(k)), stem + " 37 rows");
    // One row at a time (sixteen trees per step) sums the same leaves in the same order.
    for (size_t r = 0; r < n; ++r) {
      std::vector<double> one(k);
      f.Predict(x.data() + r * nf, 1, nf, one.data());
      for (size_t j = 0; j < k; ++j) ASSERT_EQ(one[j], got[r * k + j]) << stem << " row " << r;
    }
    // The float output the server sends.
    std::vector<float> y(n * k);
    f.PredictRows(x.data(), n, nf, y.data());
    ExpectNear(y, pred, stem + " float predictions");
  }
}

TEST_P(LightgbmFixtures, NumIterationTakesTheFirstRounds) {
  std::string stem = kFixtures + "/" + GetParam() + "/binary";
  auto rows = ReadCsv<float>(stem + ".rows.csv");
  auto want = Flat(ReadCsv<double>(stem + ".iter3.pred.csv"));
  auto forest = LightgbmForest::Load(stem + ".txt", {.num_iteration = 3});
  ASSERT_TRUE(forest.ok()) << forest.status().message();
  EXPECT_EQ((*forest)->num_trees(), 3u);
  std::vector<float> x = Flat(rows);
  std::vector<double> got(rows.size());
  (*forest)->Predict(x.data(), rows.size(), rows[0].size(), got.data());
  ExpectNear(got, want, "num_iteration=3");
}

TEST_P(LightgbmFixtures, ReadsTheJsonDumpAlike) {
  for (const char* name : kDumps) {
    std::string stem = kFixtures + "/" + GetParam() + "/" + name;
    auto rows = ReadCsv<float>(stem + ".rows.csv");
    auto pred = Flat(ReadCsv<double>(stem + ".pred.csv"));
    auto text = LightgbmForest::Load(stem + ".txt");
    auto dump = LightgbmForest::Load(stem + ".json");
    ASSERT_TRUE(text.ok() && dump.ok()) << (dump.ok() ? "" : dump.status().message());
    EXPECT_EQ((*dump)->Describe(), (*text)->Describe());
    size_t n = rows.size(), nf = rows[0].size(), k = (*dump)->num_outputs();
    std::vector<float> x = Flat(rows);
    std::vector<double> from_dump(n * k), from_text(n * k);
    (*dump)->Predict(x.data(), n, nf, from_dump.data());
    (*text)->Predict(x.data(), n, nf, from_text.data());
    ExpectNear(from_dump, pred, stem + ".json predictions");
    EXPECT_EQ(from_dump, from_text) << stem;
  }
}

// A chain of 40 splits (depth 40: past the lockstep walk's 16, so walked node by node) on
// feature 0, `x <= k` going left to leaf k, NaN going right (missing type NaN, default right):
// the leaf is the first k >= x, or 40.
TEST(LightgbmDeepTrees, AreWalkedNodeByNode) {
  std::string text = "tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nlabel_index=0\n"
                     "max_feature_idx=1\nobjective=regression\n\n";
  for (int t = 0; t < 17; ++t) {  // 17 trees: a one-row lockstep run of 16 would be tried
    std::string feature, threshold, decision, left, right, leaves;
    for (int k = 0; k < 40; ++k) {
      feature += "0 ";
      threshold += std::to_string(k) + " ";
      decision += "8 ";
      left += std::to_string(~k) + " ";
      right += (k == 39 ? std::to_string(~40) : std::to_string(k + 1)) + " ";
    }
    for (int l = 0; l <= 40; ++l) leaves += std::to_string(l * (t + 1)) + " ";
    text += "Tree=" + std::to_string(t) + "\nnum_leaves=41\nnum_cat=0\nsplit_feature=" + feature +
            "\nthreshold=" + threshold + "\ndecision_type=" + decision + "\nleft_child=" + left +
            "\nright_child=" + right + "\nleaf_value=" + leaves + "\nshrinkage=1\n\n";
  }
  text += "end of trees\n";
  auto forest = LightgbmForest::Parse(text, "deep.txt");
  ASSERT_TRUE(forest.ok()) << forest.status().message();
  std::vector<float> x;
  std::vector<double> want;
  const float values[] = {-INFINITY, -3.0f, 0.0f, 0.5f, 1.0f, 7.0f, 7.25f, 38.9f, 39.0f, 39.5f, 1e30f, INFINITY, NAN};
  for (int r = 0; r < 37; ++r) {
    float v = values[r % std::size(values)];
    x.insert(x.end(), {v, 0.0f});
    double leaf = std::isnan(v) ? 40 : v <= 0 ? 0 : v > 39 ? 40 : std::ceil(v);
    want.push_back(leaf * (17 * 18 / 2));  // tree t adds leaf * (t + 1)
  }
  std::vector<double> got(37);
  (*forest)->Predict(x.data(), 37, 2, got.data());
  ExpectNear(got, want, "a deep chain");
  for (size_t r = 0; r < 37; ++r) {
    double one = 0;
    (*forest)->Predict(x.data() + 2 * r, 1, 2, &one);
    EXPECT_EQ(one, want[r]) << "row " << r;
  }
}

INSTANTIATE_TEST_SUITE_P(Versions, LightgbmFixtures, testing::ValuesIn(kVersions),
                         [](const auto& info) { return VersionTestName(info.param); });

ModelSpec Spec(const std::string& version, const std::string& file) {
  ModelSpec spec;
  spec.dir = kFixtures + "/" + version;
  spec.flavor = "lightgbm";
  spec.model_file = file;
  return spec;
}

TEST(LightgbmModel, PredictsTensorsLikeTheXgboostRuntime) {
  auto model = LoadModel(Spec("4.6.0", "multiclass.txt"));
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ((*model)->Describe(), "lightgbm v4 multiclass, 24 trees, 3 classes, 6 features");
  ASSERT_EQ((*model)->inputs().size(), 1u);
  EXPECT_EQ((*model)->inputs()[0].shape, (std::vector<int64_t>{-1, 6}));
  EXPECT_EQ((*model)->outputs()[0].shape, (std::vector<int64_t>{-1, 3}));
  auto rows = ReadCsv<double>(kFixtures + "/4.6.0/multiclass.rows.csv");
  auto pred = Flat(ReadCsv<double>(kFixtures + "/4.6.0/multiclass.pred.csv"));
  auto n = static_cast<int64_t>(rows.size());
  std::vector<Tensor> out;
  ASSERT_TRUE((*model)->Predict({Fp64("x", {n, 6}, Flat(rows))}, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].datatype, "FP32");
  EXPECT_EQ(out[0].shape, (std::vector<int64_t>{n, 3}));
  ExpectNear(Floats(out[0]), pred, "multiclass tensors");

  auto binary = LoadModel(Spec("3.3.5", "binary.txt"));
  ASSERT_TRUE(binary.ok()) << binary.status().message();
  EXPECT_EQ((*binary)->outputs()[0].shape, (std::vector<int64_t>{-1}));  // binary: the probability of class 1
  Status st = (*binary)->Predict({Fp64("x", {2, 5}, std::vector<double>(10))}, &out);
  EXPECT_EQ(st.code(), Code::kUser);
  EXPECT_EQ(st.message(), "input 'input__0': shape [2, 5], expected [rows, 6]");

  ModelSpec wrong = Spec("4.6.0", "binary.txt");
  wrong.inputs.push_back({"features", "FP32", {-1, 4}});
  auto refused = LoadModel(wrong);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("the inputs give 4 columns"), std::string::npos)
      << refused.status().message();
}

// ---- refusals -------------------------------------------------------------------------

std::string Fixture(const std::string& rel) {
  auto text = ReadFile(kFixtures + "/" + rel);
  EXPECT_TRUE(text.ok());
  return text.ok() ? *text : "";
}

std::string Refusal(const std::string& text) {
  auto f = LightgbmForest::Parse(text, "model.txt");
  if (f.ok()) return "(accepted)";
  EXPECT_EQ(f.status().code(), Code::kUser);
  return f.status().message();
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(LightgbmRefusals, TruncatedFiles) {
  std::string text = Fixture("4.6.0/binary.txt");
  size_t end = text.find("end of trees");
  EXPECT_EQ(Refusal(text.substr(0, end)),
            "model.txt:" + std::to_string(std::count(text.begin(), text.begin() + static_cast<long>(end), '\n')) +
                ": trees: the file ends inside the trees (no 'end of trees' line): it is truncated; save the model "
                "again");
  // Cut inside a tree block: its key=value lines end without the blank line.
  std::string cut = text.substr(0, text.find("leaf_value=", text.find("Tree=2")));
  EXPECT_NE(Refusal(cut).find("Tree=2: the file ends inside the tree: it is truncated"), std::string::npos)
      << Refusal(cut);
  EXPECT_NE(Refusal(text.substr(0, 40)).find("the file ends before the first tree"), std::string::npos);
  EXPECT_EQ(Refusal(""), "model.txt: header: not a LightGBM text model (the first line is not 'tree'); save it "
                         "with Booster.save_model()");
  EXPECT_EQ(Refusal("{\"learner\": {}}"), "model.txt: name: not a LightGBM JSON dump (no \"name\": \"tree\"); save the "
                                          "model with Booster.save_model() or json.dump(Booster.dump_model())");
}

TEST(LightgbmRefusals, UnknownVersionsAndObjectives) {
  std::string text = Fixture("4.6.0/binary.txt");
  EXPECT_EQ(Refusal(Replace(text, "version=v4", "version=v5")),
            "model.txt:2: version: 'v5' is not a LightGBM model version forja reads (v2, v3, v4: LightGBM 2.x to "
            "4.x); save it with one of those or open an issue");
  EXPECT_EQ(Refusal(Replace(text, "version=v4\n", "")),
            "model.txt: version: missing from the header; is this a LightGBM model file?");
  EXPECT_NE(Refusal(Replace(text, "objective=binary sigmoid:1", "objective=survival"))
                .find("model.txt:7: objective: 'survival' is not an objective forja knows"),
            std::string::npos);
  EXPECT_NE(Refusal(Replace(text, "sigmoid:1", "sigmoid:-2")).find("objective: 'sigmoid:-2' is not a positive sigmoid"),
            std::string::npos);
  EXPECT_NE(Refusal(Replace(Fixture("4.6.0/multiclass.txt"), "num_class=3", "num_class=1")).find("num_tree_per_iteration: 3 for num_class 1 (must be 1 or num_class)"),
            std::string::npos);
}

TEST(LightgbmRefusals, InconsistentArrays) {
  std::string text = Fixture("4.6.0/binary.txt");
  size_t t0 = text.find("Tree=0");
  size_t line = std::count(text.begin(), text.begin() + static_cast<long>(text.find("leaf_value=", t0)), '\n') + 1;
  size_t lv = text.find("leaf_value=", t0);
  std::string fewer = text;
  fewer.erase(lv + 11, text.find(' ', lv) - lv - 11 + 1);  // drops the first leaf value
  EXPECT_NE(Refusal(fewer).find("model.txt:" + std::to_string(line) + ": leaf_value: 14 values, expected 15"),
            std::string::npos)
      << Refusal(fewer);
  EXPECT_NE(Refusal(Replace(text, "left_child=", "left_child=99 ")).find("left_child"), std::string::npos);
  std::string cycle = Replace(text, "left_child=1 ", "left_child=0 ");
  EXPECT_NE(Refusal(cycle).find("is not a node, or is reached twice"), std::string::npos) << Refusal(cycle);
  EXPECT_NE(Refusal(Replace(text, "split_feature=", "split_feature=6")).find("split_feature"), std::string::npos);
  EXPECT_NE(Refusal(Replace(text, "decision_type=", "decision_type=14")).find("not a LightGBM decision type"),
            std::string::npos);
  EXPECT_NE(Refusal(Replace(text, "threshold=", "threshold=nan ")).find("threshold: value 1 is not a finite number"),
            std::string::npos);
  EXPECT_NE(Refusal(Replace(text, "Tree=1\n", "Tree=7\n")).find("where Tree=1 was expected"), std::string::npos);
  EXPECT_NE(Refusal(Replace(text, "num_leaves=", "num_leaves=x")).find("num_leaves: value 1 is not a number"),
            std::string::npos);
  std::string cat = Fixture("4.6.0/categorical.txt");
  EXPECT_NE(Refusal(Replace(cat, "cat_boundaries=0 ", "cat_boundaries=1 ")).find("cat_boundaries: does not run"),
            std::string::npos);
  std::string multi = Fixture("4.6.0/multiclass.txt");
  size_t last = multi.find("Tree=23");
  std::string short_multi = multi.substr(0, last) + multi.substr(multi.find("end of trees"));
  EXPECT_NE(Refusal(short_multi).find("23 trees is not a multiple of num_tree_per_iteration 3"), std::string::npos);
}

TEST(LightgbmRefusals, BrokenJsonDumps) {
  std::string dump = Fixture("4.6.0/binary.json");
  EXPECT_NE(Refusal(dump.substr(0, dump.size() / 2)).find("model.txt: json: invalid JSON"), std::string::npos);
  EXPECT_NE(Refusal(Replace(dump, "\"version\": \"v4\"", "\"version\": \"v9\"")).find("version: 'v9' is not"),
            std::string::npos);
  EXPECT_EQ(Refusal(Replace(dump, "\"split_index\": 1,", "\"split_index\": 0,")),
            "model.txt: tree_info[0]: split 0 appears twice");
  EXPECT_NE(Refusal(Replace(dump, "\"missing_type\": \"NaN\"", "\"missing_type\": \"Sometimes\""))
                .find("missing_type: not None, Zero or NaN"),
            std::string::npos);
  EXPECT_NE(Refusal(Replace(dump, "\"tree_index\": 1,", "\"tree_index\": 5,")).find("tree_info[1].tree_index: 5, expected 1"),
            std::string::npos);
  std::string cat = Fixture("4.6.0/categorical.json");
  EXPECT_NE(Refusal(Replace(cat, "\"threshold\": \"", "\"threshold\": \"x")).find("is not a list of categories"),
            std::string::npos);
}

TEST(LightgbmRefusals, SizesBeyondLimits) {
  std::string text = Fixture("4.6.0/binary.txt");
  EXPECT_NE(Refusal(Replace(text, "num_leaves=15", "num_leaves=1000000")).find("num_leaves: 1000000 is not from 1"),
            std::string::npos)
      << Refusal(Replace(text, "num_leaves=15", "num_leaves=1000000"));
  EXPECT_NE(Refusal(Replace(text, "max_feature_idx=5", "max_feature_idx=99999999999")).find("max_feature_idx"),
            std::string::npos);
  EXPECT_NE(Refusal(Replace(text, "num_class=1", "num_class=100000000")).find("num_class"), std::string::npos);
  EXPECT_NE(Refusal(Replace(text, "Tree=0\n", "Tree=2000000\n")).find("Tree"), std::string::npos);
  // A file past 1 GiB is refused before it is read (a sparse file: no disk used).
  std::string big = testing::TempDir() + "/lightgbm_big_model.txt";
  {
    std::ofstream f(big, std::ios::binary);
    f << "tree\n";
  }
  ASSERT_EQ(0, ::truncate(big.c_str(), (int64_t{1} << 30) + 1));
  auto refused = LightgbmForest::Load(big);
  ::unlink(big.c_str());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(), big + ": file: larger than 1 GiB; not a model forja loads");
}

TEST(LightgbmRefusals, AModelTheLoaderRefusesIsRefusedByLoadModel) {
  ModelSpec spec = Spec("4.6.0", "binary.rows.csv");
  auto m = LoadModel(spec);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Code::kUser);
  EXPECT_NE(m.status().message().find("binary.rows.csv:1: header: not a LightGBM text model"), std::string::npos)
      << m.status().message();
}

}  // namespace
}  // namespace forja::runtime
