// The YAML fast path (yaml_fast.h) against ParseYaml (yaml-cpp): wherever the
// fast path answers, it must give the same values, types, key order and origins.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "forja/config/yaml_fast.h"
#include "forja/core/fs.h"

namespace forja::config {
namespace {

bool SameDeep(const Node& a, const Node& b, std::string* why, const std::string& path = "") {
  auto fail = [&](const std::string& w) {
    *why = (path.empty() ? "<root>" : path) + ": " + w;
    return false;
  };
  if (a.kind() != b.kind()) return fail(std::string("kind ") + a.KindName() + " vs " + b.KindName());
  if (a.origin() != b.origin()) return fail("origin " + a.origin() + " vs " + b.origin());
  if (a.is_scalar()) return a == b || fail(ToJson(a, 0) + " vs " + ToJson(b, 0));
  if (a.is_list()) {
    if (a.items().size() != b.items().size()) return fail("list sizes");
    for (size_t i = 0; i < a.items().size(); i++)
      if (!SameDeep(a.items()[i], b.items()[i], why, path + "." + std::to_string(i))) return false;
    return true;
  }
  if (a.entries().size() != b.entries().size()) return fail("map sizes");
  for (size_t i = 0; i < a.entries().size(); i++) {
    if (a.entries()[i].first != b.entries()[i].first)
      return fail("key " + a.entries()[i].first + " vs " + b.entries()[i].first);
    if (!SameDeep(a.entries()[i].second, b.entries()[i].second, why, path + "." + a.entries()[i].first))
      return false;
  }
  return true;
}

// Returns whether the fast path answered; fails the test when it answered differently.
bool Check(const std::string& text, const std::string& what) {
  auto fast = ParseYamlFast(text, "f.yaml");
  if (!fast) return false;
  auto slow = ParseYaml(text, "f.yaml");
  EXPECT_TRUE(slow.ok()) << what << ": the fast path accepted what yaml-cpp refuses: "
                         << slow.status().message() << "\n" << text;
  if (!slow.ok()) return true;
  std::string why;
  EXPECT_TRUE(SameDeep(*fast, *slow, &why)) << what << ": " << why << "\n---\n" << text;
  return true;
}

TEST(ConfigYamlFast, TestTrees) {
  int files = 0, fast = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(std::string(FORJA_SOURCE_DIR) + "/tests/config")) {
    if (!e.is_regular_file() || e.path().extension() != ".yaml") continue;
    auto text = ReadFile(e.path().string());
    ASSERT_TRUE(text.ok());
    files++;
    fast += Check(*text, e.path().string());
  }
  EXPECT_GT(files, 50);
  EXPECT_GT(fast, files * 3 / 4);  // most config files take the fast path
}

TEST(ConfigYamlFast, Snippets) {
  const char* accepted[] = {
      "a: 1\n",
      "a:\n  b: 1\n  c: [1, 'x', \"y\", true, null]\nd: ~\n",
      "defaults:\n  - db: mysql\n  - optional server: null\n  - _self_\n  - /x@y.z: w\n",
      "a:\n- 1\n- 2\nb: 3\n",
      "a:\n  - x: 1\n    y: 2\n  - - 3\n    - 4\n  -\n    z: 5\n",
      "key: value # comment\n# full\n  # indented comment\nother: 'it''s' # c\n",
      "url: http://${a.b}:${c}/x\nm: ???\ne: []\nf: [ ]\n",
      "a:\nb:\n  c:\n",
      "n: 1e-3\no: 0x10\np: yes\nq: .inf\nr: 1_000\ns: '1'\n",
      "- a\n- b: 1\n  c: 2\n",
      "x: \"a\\\\b\\\"c\\n\"\n",
      "deep:\n  deeper:\n    deepest:\n      v: 1\n  back: 2\ntop: 3\n",
  };
  for (const char* t : accepted) EXPECT_TRUE(Check(t, "snippet")) << "expected the fast path to take:\n" << t;
  const char* refused[] = {
      "a: &x 1\nb: *x\n",      "a: !!str 1\n",          "a: |\n  text\n",      "a: {b: 1}\n",
      "a: b\n  c\n",           "\ta: 1\n",              "a: 1\r\n",            "---\na: 1\n",
      "a: 1\na: 2\n",          "a: b: c\n",             "a: [1, [2]]\n",       "'a': 1\n",
      "a:\n  b: 1\n c: 2\n",   "a: \"\\u00e9\"\n",      "just a scalar\n",     "",
      "a: [1,\n  2]\n",        "? a\n: b\n",            "a: @x\n",             "a: 'open\n",
      "~: 1\n",               "null: 1\n",            "\xfe\xff" "a: 1\n",     "a: \xff\n",
      "a: \xc3\n",            "\xef\xbb\xbf" "a: 1\n",
  };
  for (const char* t : refused) EXPECT_FALSE(ParseYamlFast(t, "f.yaml").has_value()) << t;
}

// Random documents from the subset's pieces: wherever the fast path answers it
// must agree with yaml-cpp.
TEST(ConfigYamlFast, RandomDocuments) {
  std::mt19937 rng(12345);
  const char* scalars[] = {"1", "-2", "3.5", "1e5", "true", "no", "null", "~", "abc", "a b", "'q'", "\"d\"",
                           "${x.y}", "???", "[1, 2]", "[]", "x:y", "a#b", "'it''s'", "0o7", "+1", ".5",
                           "2001-01-01", "{a: 1}", "- x", "|", "a: b", "# c", "'a' # c", "v # c", "@", ":x", "-x", "?x", "-", "?", "a:b:c", "x,y", "]"};
  const char* keys[] = {"a", "b_c", "d.e", "f-g", "h/i", "j@k", "optional l", "1", "true", "m n", "_self_", "~", "null", "NULL", "Null", "x~"};
  int answered = 0;
  for (int doc = 0; doc < 5000; doc++) {
    std::string text;
    int depth = 0;
    int lines = 1 + static_cast<int>(rng() % 12);
    std::vector<bool> seq(8, false);
    for (int l = 0; l < lines; l++) {
      int r = static_cast<int>(rng() % 10);
      if (r == 0 && depth > 0) depth--;
      std::string ind(static_cast<size_t>(depth * 2 + (rng() % 13 == 0 ? 1 : 0)), ' ');
      bool item = rng() % 4 == 0;
      std::string head = item ? "- " : "";
      std::string key = keys[rng() % std::size(keys)];
      if (r < 3 && depth < 6) {
        text += ind + head + (rng() % 3 == 0 && item ? "" : key + ":") + "\n";
        depth++;
      } else if (rng() % 5 == 0) {
        text += ind + "# comment\n";
      } else if (item && rng() % 2) {
        text += ind + "- " + scalars[rng() % std::size(scalars)] + "\n";
      } else {
        text += ind + head + key + ": " + scalars[rng() % std::size(scalars)] + "\n";
      }
    }
    answered += Check(text, "random document " + std::to_string(doc));
  }
  EXPECT_GT(answered, 300);
}

}  // namespace
}  // namespace forja::config
