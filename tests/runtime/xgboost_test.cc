// The xgboost runtime against xgboost itself: every model under fixtures/xgboost/<version>/
// (made by make_xgb_fixtures.py with that xgboost) must predict what xgboost predicted,
// from its JSON and its UBJ file alike; and broken files fail with a message a user can act on.
#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "forja/core/fs.h"
#include "forja/runtime/model.h"
#include "forja/runtime/xgboost_model.h"
#include "test_util.h"

namespace forja::runtime {
namespace {

const std::string kFixtures = std::string(FORJA_SOURCE_DIR) + "/tests/runtime/fixtures/xgboost";
const char* kVersions[] = {"1.7.6", "2.0.3", "2.1.4", "3.0.5", "3.2.0"};
const char* kModels[] = {"binary_logistic", "binary_logitraw", "binary_hinge",      "multi_softprob",
                         "multi_softmax",   "reg_squarederror", "reg_logistic",     "reg_pseudohubererror",
                         "reg_absoluteerror", "count_poisson",  "reg_gamma",        "reg_tweedie",
                         "rank_pairwise",   "rank_ndcg",        "reg_squaredlogerror", "survival_cox",
                         "dart",            "forest",           "gblinear",         "categorical",
                         "multi_target"};

// A CSV of numbers ("nan" is NaN) as rows.
std::vector<std::vector<float>> ReadCsv(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<float>> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<float> row;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) {
      float v = 0;
      std::from_chars(cell.data(), cell.data() + cell.size(), v);
      row.push_back(v);
    }
    rows.push_back(row);
  }
  return rows;
}

std::vector<float> Flat(const std::vector<std::vector<float>>& rows) {
  std::vector<float> out;
  for (const auto& r : rows) out.insert(out.end(), r.begin(), r.end());
  return out;
}

// xgboost's numbers, printed with %.9g, are float-exact; a last-bit difference in an
// exp or a log is allowed, relative for large values.
void ExpectNear(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double d = std::fabs(static_cast<double>(got[i]) - want[i]) / std::max(1.0, std::fabs(double{want[i]}));
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  EXPECT_LE(worst, 1e-6) << what << ": element " << at << " is " << got[at] << ", xgboost says " << want[at];
}

class XgboostFixtures : public testing::TestWithParam<const char*> {};

TEST_P(XgboostFixtures, PredictsAsXgboostDoes) {
  std::string dir = kFixtures + "/" + GetParam();
  for (const char* name : kModels) {
    if (std::string(name) == "multi_target" && std::string(GetParam()) == "1.7.6") continue;  // needs 2.0
    std::string stem = dir + "/" + name;
    auto rows = ReadCsv(stem + ".rows.csv");
    auto pred = Flat(ReadCsv(stem + ".pred.csv"));
    auto margin = Flat(ReadCsv(stem + ".margin.csv"));
    ASSERT_FALSE(rows.empty()) << stem;
    std::vector<float> x = Flat(rows);
    for (const char* ext : {".json", ".ubj"}) {
      std::string path = stem + ext;
      auto forest = XgboostForest::Load(path);
      ASSERT_TRUE(forest.ok()) << forest.status().message();
      const XgboostForest& f = **forest;
      size_t n = rows.size(), nf = f.num_feature();
      ASSERT_EQ(nf, rows[0].size()) << path;
      std::vector<float> got(n * f.num_outputs()), got_margin(n * f.num_groups());
      f.PredictRows(x.data(), n, nf, got.data());
      f.PredictMargins(x.data(), n, nf, got_margin.data());
      ExpectNear(got, pred, path + " predictions");
      ExpectNear(got_margin, margin, path + " margins");
      // One row at a time walks the same trees in the same order: the same bits.
      for (size_t r = 0; r < n; ++r) {
        std::vector<float> one(f.num_outputs());
        f.PredictRows(x.data() + r * nf, 1, nf, one.data());
        ASSERT_EQ(0, std::memcmp(one.data(), got.data() + r * one.size(), one.size() * sizeof(float)))
            << path << " row " << r;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Versions, XgboostFixtures, testing::ValuesIn(kVersions),
                         [](const auto& info) { return VersionTestName(info.param); });

ModelSpec Spec(const std::string& version, const std::string& file) {
  ModelSpec spec;
  spec.dir = kFixtures + "/" + version;
  spec.flavor = "xgboost";
  spec.model_file = file;
  return spec;
}

TEST(XgboostModel, PredictsTensorsOfAnyNumericType) {
  auto model = LoadModel(Spec("3.2.0", "binary_logistic.ubj"));
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ((*model)->Describe(), "xgboost 3.2.0 binary:logistic, 20 trees, 8 features");
  ASSERT_EQ((*model)->inputs().size(), 1u);
  EXPECT_EQ((*model)->inputs()[0].name, "input__0");
  EXPECT_EQ((*model)->inputs()[0].shape, (std::vector<int64_t>{-1, 8}));

  auto rows = ReadCsv(kFixtures + "/3.2.0/binary_logistic.rows.csv");
  auto pred = Flat(ReadCsv(kFixtures + "/3.2.0/binary_logistic.pred.csv"));
  std::vector<double> x;
  for (const auto& r : rows) x.insert(x.end(), r.begin(), r.end());
  std::vector<Tensor> out;
  auto n = static_cast<int64_t>(rows.size());
  ASSERT_TRUE((*model)->Predict({Fp64("whatever", {n, 8}, x)}, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].name, "output__0");
  EXPECT_EQ(out[0].datatype, "FP32");
  EXPECT_EQ(out[0].shape, (std::vector<int64_t>{n}));
  ExpectNear(Floats(out[0]), pred, "FP64 input");

  // INT32 input: the same as the float rows of those integers.
  Tensor ints{"input__0", "INT32", {2, 8}, std::string(2 * 8 * 4, '\0')};
  for (int i = 0; i < 16; ++i) {
    int32_t v = i % 3 - 1;
    std::memcpy(ints.data.data() + i * 4, &v, 4);
  }
  ASSERT_TRUE((*model)->Predict({ints}, &out).ok());
  auto forest = XgboostForest::Load(kFixtures + "/3.2.0/binary_logistic.ubj");
  std::vector<float> fx(16), fy(2);
  for (int i = 0; i < 16; ++i) fx[i] = static_cast<float>(i % 3 - 1);
  (*forest)->PredictRows(fx.data(), 2, 8, fy.data());
  EXPECT_EQ(Floats(out[0]), fy);
}

TEST(XgboostModel, NamedColumnsAreConcatenatedInSignatureOrder) {
  ModelSpec spec = Spec("2.1.4", "multi_softprob.json");
  for (int i = 0; i < 6; ++i) spec.inputs.push_back({"f" + std::to_string(i), "FP64", {-1}});
  spec.outputs.push_back({"probabilities", "FP32", {-1, 3}});
  auto model = LoadModel(spec);
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto rows = ReadCsv(kFixtures + "/2.1.4/multi_softprob.rows.csv");
  auto pred = Flat(ReadCsv(kFixtures + "/2.1.4/multi_softprob.pred.csv"));
  std::vector<Tensor> in;
  auto n = static_cast<int64_t>(rows.size());
  for (int i = 5; i >= 0; --i) {  // any order: matched by name
    std::vector<double> col;
    for (const auto& r : rows) col.push_back(r[i]);
    in.push_back(Fp64("f" + std::to_string(i), i % 2 ? std::vector<int64_t>{n, 1} : std::vector<int64_t>{n}, col));
  }
  std::vector<Tensor> out;
  Status st = (*model)->Predict(in, &out);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(out[0].name, "probabilities");
  EXPECT_EQ(out[0].shape, (std::vector<int64_t>{n, 3}));
  ExpectNear(Floats(out[0]), pred, "named columns");

  in.pop_back();
  EXPECT_EQ((*model)->Predict(in, &out).message(), "missing input 'f0'");
}

TEST(XgboostModel, WrongInputsAreUserErrors) {
  auto model = LoadModel(Spec("3.0.5", "binary_logistic.json"));
  ASSERT_TRUE(model.ok());
  std::vector<Tensor> out;
  Status st = (*model)->Predict({Fp64("input__0", {2, 3}, std::vector<double>(6))}, &out);
  EXPECT_EQ(st.code(), Code::kUser);
  EXPECT_EQ(st.message(), "input 'input__0': shape [2, 3], expected [rows, 8]");
  st = (*model)->Predict({Fp64("input__0", {2, 8}, std::vector<double>(15))}, &out);
  EXPECT_EQ(st.message(), "input 'input__0': 120 bytes of data for 16 FP64 elements");
  st = (*model)->Predict({Tensor{"input__0", "BYTES", {1, 8}, std::string(8, 'x')}}, &out);
  EXPECT_EQ(st.message(), "input 'input__0': datatype BYTES is not numeric");

  ModelSpec spec = Spec("3.0.5", "binary_logistic.json");
  spec.inputs.push_back({"x", "FP32", {-1, 7}});
  EXPECT_EQ(LoadModel(spec).status().message(),
            spec.dir + "/model.yaml: the inputs give 7 columns, " + spec.dir + "/binary_logistic.json has 8 features");
}

TEST(XgboostModel, DescribesBoosterAndOutputs) {
  auto d = [](const char* v, const char* m) { return (*XgboostForest::Load(kFixtures + "/" + v + "/" + m))->Describe(); };
  EXPECT_EQ(d("1.7.6", "dart.json"), "xgboost 1.7.6 dart binary:logistic, 12 trees, 6 features");
  EXPECT_EQ(d("2.0.3", "gblinear.ubj"), "xgboost 2.0.3 gblinear reg:squarederror, 5 features");
  EXPECT_EQ(d("3.2.0", "multi_softprob.json"), "xgboost 3.2.0 multi:softprob, 30 trees, 3 outputs, 6 features");
}

// ---- broken files -----------------------------------------------------------------------

// A one-split model: node 0 splits feature 1 at 0.5, leaves 1 (-0.25) and 2 (0.75).
std::string TinyModel(const std::string& left = "[1,-1,-1]", const std::string& objective = "binary:logistic",
                      const std::string& features = "[1,0,0]") {
  return R"({"learner":{"learner_model_param":{"base_score":"5E-1","num_class":"0","num_feature":"2"},
  "objective":{"name":")" + objective + R"("},
  "gradient_booster":{"name":"gbtree","model":{"gbtree_model_param":{"num_trees":"1"},"tree_info":[0],
  "trees":[{"tree_param":{"num_nodes":"3","size_leaf_vector":"1"},"left_children":)" + left +
         R"(,"right_children":[2,-1,-1],"split_indices":)" + features +
         R"(,"split_conditions":[0.5,-0.25,0.75],"default_left":[1,0,0],"split_type":[0,0,0]}]}}},
  "version":[2,1,0]})";
}

std::string ParseError(const std::string& bytes, const std::string& name = "tiny.json") {
  auto f = XgboostForest::Parse(bytes, name);
  if (f.ok()) return "(loaded)";
  EXPECT_EQ(f.status().code(), Code::kUser);
  return f.status().message();
}

TEST(XgboostBroken, TinyModelLoadsAndMissingGoesDefaultLeft) {
  auto f = XgboostForest::Parse(TinyModel(), "tiny.json");
  ASSERT_TRUE(f.ok()) << f.status().message();
  float rows[] = {0, 0.4f, 0, 0.5f, 0, NAN}, out[3];
  (*f)->PredictMargins(rows, 3, 2, out);
  EXPECT_EQ(out[0], -0.25f);
  EXPECT_EQ(out[1], 0.75f);
  EXPECT_EQ(out[2], -0.25f);
}

// A chain deeper than the lockstep walk goes: node 2i splits feature 0 at i, its left child
// 2i+1 is a leaf of value i, its right child the next split; the last node is a leaf of -1.
std::string ChainModel(int depth, int features = 1) {
  std::string left, right, feature, cond, dflt;
  for (int i = 0; i < depth; ++i) {
    std::string sep = i ? "," : "";
    left += sep + std::to_string(2 * i + 1) + ",-1";
    right += sep + std::to_string(2 * i + 2) + ",-1";
    feature += sep + "0,0";
    cond += sep + std::to_string(i) + "," + std::to_string(i);
    dflt += sep + "1,0";
  }
  std::string n = std::to_string(2 * depth + 1);
  return R"({"learner":{"learner_model_param":{"base_score":"0","num_feature":")" + std::to_string(features) + R"("},"objective":{"name":"reg:squarederror"},
  "gradient_booster":{"name":"gbtree","model":{"gbtree_model_param":{"num_trees":"1"},"tree_info":[0],
  "trees":[{"tree_param":{"num_nodes":")" + n + R"("},"left_children":[)" + left + R"(,-1],"right_children":[)" +
         right + R"(,-1],"split_indices":[)" + feature + R"(,0],"split_conditions":[)" + cond +
         R"(,-1],"default_left":[)" + dflt + R"(,0]}]}}}})";
}

TEST(XgboostBroken, DeepTreesAreWalkedNodeByNode) {
  auto f = XgboostForest::Parse(ChainModel(40), "chain.json");
  ASSERT_TRUE(f.ok()) << f.status().message();
  // v goes right at every split i <= v: it stops at the leaf of split floor(v) + 1.
  std::vector<float> rows = {-5, 0, 0.5f, 7, 38.5f, 39, 100, NAN}, out(rows.size());
  (*f)->PredictMargins(rows.data(), rows.size(), 1, out.data());
  EXPECT_EQ(out, (std::vector<float>{0, 1, 1, 8, 39, -1, -1, 0}));
  EXPECT_EQ((*f)->Describe(), "xgboost reg:squarederror, 1 tree, 1 feature");

  // Too many features to widen the rows: shallow trees are walked node by node too.
  auto wide = XgboostForest::Parse(ChainModel(3, 2000), "wide.json");
  ASSERT_TRUE(wide.ok()) << wide.status().message();
  std::vector<float> wrows(3 * 2000, 0.0f), wout(3);
  wrows[0] = -1;
  wrows[2000] = 1.5f;
  wrows[4000] = NAN;
  (*wide)->PredictMargins(wrows.data(), 3, 2000, wout.data());
  EXPECT_EQ(wout, (std::vector<float>{0, 2, 0}));
}

TEST(XgboostBroken, InfiniteThresholdKeepsMissingApart) {
  std::string json = TinyModel();
  json.replace(json.find("[0.5,"), 5, "[-Infinity,");
  auto f = XgboostForest::Parse(json, "tiny.json");
  ASSERT_TRUE(f.ok()) << f.status().message();
  float rows[] = {0, -1e30f, 0, NAN, 0, -INFINITY}, out[3];
  (*f)->PredictMargins(rows, 3, 2, out);
  EXPECT_EQ(out[0], 0.75f);   // every value is >= -inf: right
  EXPECT_EQ(out[1], -0.25f);  // missing: default left
  EXPECT_EQ(out[2], 0.75f);
}

TEST(XgboostBroken, CorruptTreesAreRefused) {
  EXPECT_EQ(ParseError(TinyModel("[99,-1,-1]")), "tiny.json: tree 0: node 0: child 99 is not a node (the tree has 3)");
  EXPECT_EQ(ParseError(TinyModel("[0,-1,-1]")), "tiny.json: tree 0: node 0: a child is reached twice (the tree has a cycle)");
  EXPECT_EQ(ParseError(TinyModel("[1,-1]")), "tiny.json: tree 0: left_children has 2 entries for 3 nodes");
  EXPECT_EQ(ParseError(TinyModel("[1,-1,-1]", "binary:logistic", "[7,0,0]")),
            "tiny.json: tree 0: node 0: split feature 7 is not below num_feature 2");
  EXPECT_EQ(ParseError(TinyModel("[1,-1,-1]", "reg:quantum")), "tiny.json: objective 'reg:quantum' is not supported");
  auto edit = [](std::string s, const std::string& from, const std::string& to) {
    return s.replace(s.find(from), from.size(), to);
  };
  EXPECT_EQ(ParseError(edit(TinyModel(), R"("tree_info":[0])", R"("tree_info":[3])")),
            "tiny.json: model: tree_info[0] = 3 is not an output (there are 1)");
  EXPECT_EQ(ParseError(edit(TinyModel(), R"("size_leaf_vector":"1")", R"("size_leaf_vector":"3")")),
            "tiny.json: tree 0: vector leaves (multi_strategy=multi_output_tree) are not supported");
  EXPECT_EQ(ParseError(edit(TinyModel(), R"("name":"gbtree")", R"("name":"gbfoo")")),
            "tiny.json: booster 'gbfoo' is not supported (gbtree, dart and gblinear are)");
  EXPECT_EQ(ParseError(edit(TinyModel(), R"("num_trees":"1")", R"("num_trees":"2")")),
            "tiny.json: model: 1 trees, gbtree_model_param says 2");
  EXPECT_EQ(ParseError(R"({"learner":{}})"), "tiny.json: learner: no 'learner_model_param' object");
  EXPECT_EQ(ParseError("[1,2,3]"), "tiny.json: not an xgboost model: no 'learner' object");
}

TEST(XgboostBroken, TruncatedFilesAreRefused) {
  std::string json = TinyModel();
  EXPECT_EQ(ParseError(json.substr(0, 100)), "tiny.json: invalid JSON: unexpected end of file");
  std::string bad = json;
  bad[10] = '?';  // the ':' after "learner"
  EXPECT_EQ(ParseError(bad), "tiny.json: invalid JSON at byte 10: expected ':'");
  EXPECT_EQ(ParseError(""), "tiny.json: invalid JSON: unexpected end of file");

  auto ubj = ReadFile(kFixtures + "/3.2.0/binary_logistic.ubj");
  ASSERT_TRUE(ubj.ok());
  for (size_t cut : {size_t{2}, size_t{200}, ubj->size() / 2, ubj->size() - 1}) {
    std::string msg = ParseError(ubj->substr(0, cut), "model.ubj");
    EXPECT_TRUE(msg.rfind("model.ubj: invalid UBJ", 0) == 0) << cut << ": " << msg;
  }
  EXPECT_EQ(ParseError(ubj->substr(0, ubj->size() - 1), "model.ubj"), "model.ubj: invalid UBJ: unexpected end of file");
  // A typed array that claims more elements than the file holds is refused before any allocation.
  EXPECT_EQ(ParseError(std::string("{L\0\0\0\0\0\0\0\1a[$d#L\0\0\0\0\0\0\0\x04", 24) + std::string(8, '\0'), "x.ubj"),
            "x.ubj: invalid UBJ at byte 24: typed array longer than the file");
  EXPECT_EQ(ParseError("{i\1aX}", "x.ubj"), "x.ubj: invalid UBJ at byte 4: unknown type marker 'X'");
}

}  // namespace
}  // namespace forja::runtime
