// Composition: every scenario of tests/config/compose/scenarios.json through
// forja (tests/config/check_compose_hydra.py runs the same file through Hydra),
// plus the run record and a few API details.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "forja/config/compose.h"
#include "forja/config/sweep.h"
#include "forja/core/fs.h"

namespace forja::config {
namespace {

using json = nlohmann::ordered_json;

const std::string kDir = std::string(FORJA_SOURCE_DIR) + "/tests/config/compose/";

json LoadScenarios() {
  std::ifstream in(kDir + "scenarios.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str())["scenarios"];
}

// Equal with types and key order, as the Python checker compares (1 != 1.0, True != 1).
bool Same(const Node& n, const json& j, const std::string& path, std::string* why) {
  auto fail = [&](const std::string& what) {
    *why = (path.empty() ? "<root>" : path) + ": " + what;
    return false;
  };
  switch (n.kind()) {
    case Node::Kind::kNull: return j.is_null() || fail("null vs " + j.dump());
    case Node::Kind::kBool: return (j.is_boolean() && j.get<bool>() == n.as_bool()) || fail(ToJson(n) + " vs " + j.dump());
    case Node::Kind::kInt:
      return (j.is_number_integer() && j.get<int64_t>() == n.as_int()) || fail(ToJson(n) + " vs " + j.dump());
    case Node::Kind::kFloat:
      return (j.is_number_float() && j.get<double>() == n.as_float()) || fail(ToJson(n) + " vs " + j.dump());
    case Node::Kind::kString:
      return (j.is_string() && j.get<std::string>() == n.as_string()) || fail(ToJson(n) + " vs " + j.dump());
    case Node::Kind::kList: {
      if (!j.is_array() || j.size() != n.items().size()) return fail("list " + ToJson(n, 0) + " vs " + j.dump());
      for (size_t i = 0; i < j.size(); i++)
        if (!Same(n.items()[i], j[i], path + "." + std::to_string(i), why)) return false;
      return true;
    }
    case Node::Kind::kMap: {
      if (!j.is_object() || j.size() != n.entries().size()) return fail("dict " + ToJson(n, 0) + " vs " + j.dump());
      size_t i = 0;
      for (auto it = j.begin(); it != j.end(); ++it, ++i) {
        const auto& [k, v] = n.entries()[i];
        if (k != it.key()) return fail("key order: " + k + " where " + it.key() + " is expected");
        if (!Same(v, it.value(), path.empty() ? k : path + "." + k, why)) return false;
      }
      return true;
    }
  }
  return false;
}

TEST(ConfigCompose, Scenarios) {
  json scenarios = LoadScenarios();
  ASSERT_GE(scenarios.size(), 20u);
  int compositions = 0;
  for (const auto& sc : scenarios) {
    std::string name = sc["name"];
    SCOPED_TRACE(name);
    std::string dir = kDir + sc["config_dir"].get<std::string>();
    if (sc.contains("sweep")) {
      auto jobs = SweepJobTexts(sc["sweep"].get<std::vector<std::string>>(), dir);
      ASSERT_TRUE(jobs.ok()) << jobs.status().message();
      EXPECT_EQ(*jobs, sc["jobs"].get<std::vector<std::vector<std::string>>>());
      continue;
    }
    compositions++;
    ComposeOptions opts;
    opts.config_dir = dir;
    opts.config_name = sc.value("config_name", "config");
    opts.overrides = sc["overrides"].get<std::vector<std::string>>();
    opts.resolve = sc.value("resolve", true);
    auto r = Compose(opts);
    if (sc.contains("error")) {
      ASSERT_FALSE(r.ok()) << "composed: " << ToJson(r->config, 0);
      const std::string& msg = r.status().message();
      EXPECT_NE(msg.find(sc["error"]["forja"].get<std::string>()), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
      EXPECT_EQ(r.status().code(), Code::kUser) << msg;
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.status().message();
    std::string why;
    EXPECT_TRUE(Same(r->config, sc["expected"], "", &why)) << why << "\n" << ToJson(r->config, 0);
    if (sc.contains("choices")) {
      std::vector<std::pair<std::string, std::string>> got, want;
      for (const auto& c : r->choices) got.emplace_back(c.key, c.option.value_or("<null>"));
      for (auto it = sc["choices"].begin(); it != sc["choices"].end(); ++it)
        want.emplace_back(it.key(), it.value().is_null() ? "<null>" : it.value().get<std::string>());
      EXPECT_EQ(got, want);
    }
  }
  EXPECT_GE(compositions, 20);
}

std::string Scratch(const std::string& name) {
  std::string d = ::testing::TempDir() + "forja_compose_" + name + "_" + std::to_string(::getpid());
  (void)RemoveTree(d);
  return d;
}

TEST(ConfigCompose, OriginsNameFileLineAndOverride) {
  ComposeOptions opts;
  opts.config_dir = kDir + "basic/conf";
  opts.overrides = {"db.port=3307"};
  auto r = Compose(opts);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->Origin("db.port"), "override 'db.port=3307'");
  EXPECT_EQ(r->Origin("db.host"), kDir + "basic/conf/db/mysql.yaml:1");
  EXPECT_EQ(r->Origin("app.workers"), kDir + "basic/conf/config.yaml:8");
  EXPECT_EQ(r->Origin("nope"), "");
}

TEST(ConfigCompose, ExplainListsEveryStep) {
  ComposeOptions opts;
  opts.config_dir = kDir + "experiment/conf";
  opts.overrides = {"+experiment=exp1", "db.pool=32"};
  opts.explain_key = "db.pool";
  auto r = Compose(opts);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->history.size(), 3u);
  EXPECT_EQ(r->history[0].where, kDir + "experiment/conf/config.yaml:8");
  EXPECT_EQ(r->history[1].where, kDir + "experiment/conf/experiment/exp1.yaml:8");
  EXPECT_EQ(r->history[1].what, "experiment/exp1");
  EXPECT_EQ(r->history[0].what, "config (primary config)");
  EXPECT_EQ(r->history[2].where, "override 'db.pool=32'");
  EXPECT_EQ(r->history[2].value->as_int(), 32);
}

TEST(ConfigCompose, RunRecord) {
  ComposeOptions opts;
  opts.config_dir = kDir + "basic/conf";
  opts.overrides = {"db=postgresql", "app.workers=8"};
  auto r = Compose(opts);
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::string dir = Scratch("record") + "/run/.forja";
  ASSERT_TRUE(WriteRunRecord(*r, dir).ok());
  EXPECT_EQ(*ReadFile(dir + "/overrides.yaml"), "- db=postgresql\n- app.workers=8\n");
  EXPECT_EQ(*ReadFile(dir + "/choices.yaml"), "server: apache\ndb: postgresql\n");
  auto config = ReadFile(dir + "/config.yaml");
  ASSERT_TRUE(config.ok());
  EXPECT_NE(config->find("url: pg.local:5432\n"), std::string::npos) << *config;
  EXPECT_NE(config->find("  workers: 8\n"), std::string::npos) << *config;
  (void)RemoveTree(Dirname(Dirname(dir)));
}

TEST(ConfigCompose, UnresolvedRecordIsResolvedOnWrite) {
  ComposeOptions opts;
  opts.config_dir = kDir + "basic/conf";
  opts.resolve = false;
  auto r = Compose(opts);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->config.Select("url")->as_string(), "${db.host}:${db.port}");
  std::string dir = Scratch("record2");
  ASSERT_TRUE(WriteRunRecord(*r, dir).ok());
  EXPECT_NE(ReadFile(dir + "/config.yaml")->find("url: mysql.local:3306\n"), std::string::npos);
  EXPECT_EQ(*ReadFile(dir + "/overrides.yaml"), "[]\n");
  (void)RemoveTree(dir);
}

TEST(ConfigCompose, MultirunBaseSkipsSweepsAndMissingGroups) {
  ComposeOptions opts;
  opts.config_dir = kDir + "errors/conf";
  opts.config_name = "mandatory";
  opts.multirun = true;
  opts.overrides = {"+x=1,2"};
  auto r = Compose(opts);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->config.Find("x"), nullptr);
}

TEST(ConfigCompose, ListGroups) {
  auto g = ListGroups(kDir + "nested/conf");
  ASSERT_TRUE(g.ok()) << g.status().message();
  std::vector<std::string> names;
  for (const auto& x : *g) names.push_back(x.group);
  EXPECT_EQ(names, (std::vector<std::string>{"db", "db/mysql", "logging", "server", "server/plugins"}));
  EXPECT_EQ((*g)[1].options, (std::vector<std::string>{"primary", "replica"}));
  EXPECT_TRUE((*g)[0].options.empty());
}

TEST(ConfigCompose, MissingConfigFolder) {
  ComposeOptions opts;
  opts.config_dir = kDir + "no/such/folder";
  auto r = Compose(opts);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("the config folder does not exist"), std::string::npos);
}

TEST(ConfigCompose, PackageHeader) {
  auto h = ParsePackageHeader("\n# @package _global_\na: 1\n", "f.yaml");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->value_or(""), "_global_");
  h = ParsePackageHeader("# comment\n# @package x\n", "f.yaml");
  ASSERT_TRUE(h.ok());
  EXPECT_FALSE(h->has_value());
  h = ParsePackageHeader("#@package   a.b  \r\n", "f.yaml");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->value_or(""), "a.b");
  EXPECT_FALSE(ParsePackageHeader("# @package\n", "f.yaml").ok());
  EXPECT_FALSE(ParsePackageHeader("# @package a b\n", "f.yaml").ok());
}

}  // namespace
}  // namespace forja::config

namespace forja::config {
namespace {

// SweepJobTexts builds the product itself; its jobs must be those of
// SweepJobOverrides (sweep.h), which is checked against Hydra's BasicSweeper.
TEST(ConfigCompose, SweepJobTextsMatchSweepJobOverrides) {
  std::string dir = kDir + "basic/conf";
  std::vector<std::string> texts = {"~app.debug", "+x=[1, 2]", "app.name='a b'", "db=glob(*)",
                                    "app.workers=range(1,4)", "+y=a,'b c'", "~app.tags=[a,b]",
                                    "app.workers=7,8", "++z={k: v}", "app.ratio=1e-3"};
  auto mine = SweepJobTexts(texts, dir);
  ASSERT_TRUE(mine.ok()) << mine.status().message();
  auto parsed = ParseOverrides(texts);
  ASSERT_TRUE(parsed.ok());
  ConfigTree tree(dir);
  auto theirs = SweepJobOverrides(*parsed, [&](const std::string& g) -> Result<std::vector<std::string>> {
    return tree.Options(g);
  });
  ASSERT_TRUE(theirs.ok()) << theirs.status().message();
  ASSERT_EQ(mine->size(), theirs->size());
  EXPECT_EQ(mine->size(), 3u * 2u * 2u);
  for (size_t j = 0; j < mine->size(); j++) {
    std::vector<std::string> t;
    for (const auto& o : (*theirs)[j]) t.push_back(o.input);
    EXPECT_EQ((*mine)[j], t) << "job " << j;
  }
  auto none = SweepJobTexts({}, dir);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->size(), 1u);
  EXPECT_TRUE((*none)[0].empty());
}

}  // namespace
}  // namespace forja::config

namespace forja::config {
namespace {

TEST(ConfigCompose, TypedAccess) {
  for (bool resolve : {true, false}) {
    ComposeOptions opts;
    opts.config_dir = kDir + "basic/conf";
    opts.overrides = {"app.ratio=2"};
    opts.resolve = resolve;
    auto r = Compose(opts);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(*r->GetInt("db.port"), 3306);
    EXPECT_EQ(*r->GetString("url"), "mysql.local:3306");
    EXPECT_EQ(*r->GetFloat("app.ratio"), 2.0);  // an int is a float here
    EXPECT_EQ(*r->GetBool("app.debug"), false);
    EXPECT_EQ(r->Get("app.tags")->items().size(), 2u);
    auto bad = r->GetInt("db.host");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().message(),
              kDir + "basic/conf/db/mysql.yaml:1: db.host is a str ('mysql.local'), not an int");
    auto missing = r->GetString("app.missing");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.status().message().find("app.missing is missing (\?\?\?)"), std::string::npos);
    EXPECT_FALSE(r->Get("no.such").ok());
  }
}

}  // namespace
}  // namespace forja::config
