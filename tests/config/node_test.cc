#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "forja/config/node.h"

namespace forja::config {
namespace {

std::string PythonTypeName(const Node& n) {
  switch (n.kind()) {
    case Node::Kind::kNull: return "NoneType";
    case Node::Kind::kBool: return "bool";
    case Node::Kind::kInt: return "int";
    case Node::Kind::kFloat: return "float";
    case Node::Kind::kString: return "str";
    default: return n.KindName();
  }
}

std::string PythonRepr(const Node& n) {
  if (n.is_string()) return "'" + n.as_string() + "'";
  return ScalarToString(n);
}

// Every scalar of tests/config/yaml_scalars.txt is typed as OmegaConf types it
// (the expectations come from OmegaConf's own loader: config.omegaconf_scalars).
TEST(ConfigYaml, PlainScalarsAreTypedLikeOmegaConf) {
  std::ifstream in(std::string(FORJA_SOURCE_DIR) + "/tests/config/yaml_scalars.expected");
  ASSERT_TRUE(in) << "missing yaml_scalars.expected";
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string input, type, repr;
    std::getline(fields, input, '\t');
    std::getline(fields, type, '\t');
    std::getline(fields, repr);
    auto doc = ParseYaml("v: " + input, "t.yaml");
    ASSERT_TRUE(doc.ok()) << input << ": " << doc.status().message();
    const Node* v = doc->Find("v");
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(PythonTypeName(*v), type) << "input: " << input;
    EXPECT_EQ(PythonRepr(*v), repr) << "input: " << input;
    checked++;
  }
  EXPECT_GT(checked, 70);
}

TEST(ConfigYaml, QuotedScalarsStayStrings) {
  auto doc = ParseYaml("a: '1'\nb: \"true\"\nc: !!str 5\n", "q.yaml");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->Find("a")->as_string(), "1");
  EXPECT_EQ(doc->Find("b")->as_string(), "true");
  EXPECT_EQ(doc->Find("c")->as_string(), "5");
}

TEST(ConfigYaml, ErrorsNameFileLineAndColumn) {
  auto bad = ParseYaml("a: 1\nb: [1, 2\n", "conf/x.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("conf/x.yaml:", 0), 0u) << bad.status().message();
  auto dup = ParseYaml("a: 1\na: 2\n", "conf/d.yaml");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().message(), "conf/d.yaml:2:1: found duplicate key a");
}

TEST(ConfigYaml, OriginsNameFileAndLine) {
  auto doc = ParseYaml("a:\n  b: 1\n", "conf/db.yaml");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->Select("a.b")->origin(), "conf/db.yaml:2");
}

TEST(ConfigYaml, ToYamlMatchesOmegaConfLayout) {
  auto doc = ParseYaml(
      "db:\n  host: localhost\n  port: 3306\nlist:\n- 1\n- a: 1\n  b: [x]\nempty: {}\nnone: []\n"
      "s: '1'\nf: 1e-5\ng: 1.5e3\nn: null\nt: yes\nbig: 1e16\n",
      "y.yaml");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(ToYaml(*doc),
            "db:\n  host: localhost\n  port: 3306\nlist:\n- 1\n- a: 1\n  b:\n  - x\nempty: {}\n"
            "none: []\ns: '1'\nf: 1.0e-05\ng: 1500.0\n'n': null\nt: true\nbig: 1.0e+16\n");
}

TEST(ConfigNode, SelectSetEraseMerge) {
  auto doc = ParseYaml("a:\n  b: [10, {c: 3}]\n", "m.yaml");
  ASSERT_TRUE(doc.ok());
  Node& root = *doc;
  EXPECT_EQ(root.Select("a.b.1.c")->as_int(), 3);
  EXPECT_EQ(root.Select("a.b.5"), nullptr);
  EXPECT_EQ(root.Select("a.x"), nullptr);
  auto over = ParseYaml("a:\n  b: [1]\n  d: x\ne: 2\n", "o.yaml");
  Merge(root, *over);
  EXPECT_EQ(ToJson(root, 0), R"({"a":{"b":[1],"d":"x"},"e":2})");
  EXPECT_TRUE(root.Erase("e"));
  EXPECT_FALSE(root.Erase("e"));
}

TEST(ConfigNode, JsonOfSpecialFloats) {
  Node m = Node::Map();
  m.Set("nan", Node::Float(NAN));
  m.Set("inf", Node::Float(-INFINITY));
  m.Set("tiny", Node::Float(1e-5));
  m.Set("big", Node::Float(1e16));
  EXPECT_EQ(ToJson(m, 0), R"({"nan":"nan","inf":"-inf","tiny":1e-05,"big":1e+16})");
}

}  // namespace
}  // namespace forja::config
