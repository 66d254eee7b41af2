// Gates, policies, package checks and references (no database), then register
// and promote through a real SQLite store.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "forja/cas/cache.h"
#include "forja/config/yaml_fast.h"
#include "forja/core/fs.h"
#include "forja/registry/registry.h"
#include "forja/registry/roles.h"

namespace forja::registry {
namespace {

meta::VersionFacts Facts(int64_t version, std::map<std::string, double> metrics) {
  meta::VersionFacts f;
  f.version.version = version;
  f.version.run_id = "r" + std::to_string(version);
  f.metrics = std::move(metrics);
  return f;
}

TEST(GateTest, ParsesAndEvaluates) {
  auto g1 = ParseGate("metrics.auc >= 0.85", "forja.yaml:3");
  auto g2 = ParseGate("metrics.auc >= production.metrics.auc", "forja.yaml:4");
  auto g3 = ParseGate("metrics.latency <= 1.2 * @champion.metrics.latency", "forja.yaml:5");
  auto g4 = ParseGate("params.framework == 'xgboost'", "forja.yaml:6");
  ASSERT_TRUE(g1.ok() && g2.ok() && g3.ok() && g4.ok()) << g3.status().message();
  EXPECT_EQ(g3->right.holder, "@champion");
  EXPECT_DOUBLE_EQ(g3->right.factor, 1.2);
  meta::PromotionFacts f;
  f.candidate = Facts(3, {{"auc", 0.9}, {"latency", 11}});
  f.candidate.params["framework"] = "xgboost";
  std::string report;
  // No production and no champion yet: comparisons with them pass.
  EXPECT_TRUE(EvaluateGates({&*g1, &*g2, &*g3, &*g4}, f, &report)) << report;
  EXPECT_NE(report.find("no version holds production"), std::string::npos);
  f.holders["production"] = Facts(2, {{"auc", 0.92}});
  f.holders["@champion"] = Facts(1, {{"latency", 10}});
  report.clear();
  EXPECT_FALSE(EvaluateGates({&*g1, &*g2, &*g3}, f, &report));
  EXPECT_NE(report.find("FAIL metrics.auc >= production.metrics.auc (0.9 >= 0.92)"), std::string::npos) << report;
  EXPECT_NE(report.find("pass metrics.latency <= 1.2 * @champion.metrics.latency (11 <= 12)"), std::string::npos)
      << report;
  f.candidate.metrics.erase("auc");
  report.clear();
  EXPECT_FALSE(EvaluateGates({&*g1}, f, &report));
  EXPECT_NE(report.find("the candidate's run has no metric 'auc'"), std::string::npos) << report;
}

TEST(GateTest, BadGatesSayWhere) {
  for (const char* bad : {"metrics.auc", "auc >= 1", "metrics.auc >= ", "0.5 >= 0.4", "metrics.auc >= 1 2",
                          "production.auc >= 1", "metrics. >= 1"}) {
    auto g = ParseGate(bad, "forja.yaml:9");
    ASSERT_FALSE(g.ok()) << bad;
    EXPECT_EQ(g.status().message().rfind("forja.yaml:9: gate '", 0), 0u) << g.status().message();
  }
}

TEST(PolicyTest, ParsesModelsSection) {
  auto root = config::ParseConfigYaml(
      "models:\n"
      "  churn:\n"
      "    gates:\n"
      "      production:\n"
      "        - metrics.auc >= 0.85\n"
      "      '@champion': metrics.auc >= 0.8\n"
      "    protected: ['@champion']\n"
      "  '*':\n"
      "    gates: {staging: [tags.ok == 'yes']}\n",
      "forja.yaml");
  ASSERT_TRUE(root.ok()) << root.status().message();
  auto p = ParsePolicies(root->Find("models"), "forja.yaml");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->GatesFor("churn", "Production").size(), 1u);
  EXPECT_EQ(p->GatesFor("churn", "Staging").size(), 1u);
  EXPECT_EQ(p->GatesFor("other", "Staging").size(), 1u);
  EXPECT_EQ(p->GatesFor("churn", "@champion")[0]->origin, "forja.yaml:6");
  EXPECT_TRUE(p->Protected("churn", "@champion"));
  EXPECT_TRUE(p->Protected("other", "Production"));
  EXPECT_FALSE(p->Protected("other", "@champion"));
  auto bad = config::ParseConfigYaml("models:\n  m:\n    gates:\n      prod: [metrics.a > 1]\n", "forja.yaml");
  ASSERT_TRUE(bad.ok());
  auto e = ParsePolicies(bad->Find("models"), "forja.yaml");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("forja.yaml:4: models.m.gates.prod: not a stage"), std::string::npos)
      << e.status().message();
}

TEST(PackageTest, ErrorsNameLineAndField) {
  struct Case {
    const char* yaml;
    const char* want;
  } cases[] = {
      {"flavor: xgboost\n", "format: missing"},
      {"format: 2\n", "model.yaml:1: format: this forja reads package format 1"},
      {"format: 1\nflavor: torch\n", "model.yaml:2: flavor: 'torch' is not a flavor (xgboost, lightgbm, onnx, python)"},
      {"format: 1\nflavor: lightgbm\nsignature:\n  inputs: [{name: x, datatype: FP32, shape: [-1, 2]}]\n",
       "model: missing; see forja models register --help"},
      {"format: 1\nflavor: xgboost\nmodel: m.json\n", "signature: missing"},
      {"format: 1\nflavor: xgboost\nmodel: m.json\nsignature:\n  inputs:\n    - {name: x, datatype: floaty, shape: [-1]}\n",
       "model.yaml:6: signature.inputs[0].datatype: 'floaty' is not a datatype"},
      {"format: 1\nflavor: xgboost\nmodel: m.json\nsignature:\n  inputs:\n    - {name: x, datatype: FP32, shape: [0]}\n",
       "signature.inputs[0].shape: sizes are positive integers or -1"},
      {"format: 1\nflavor: xgboost\nmodel: ../m.json\nsignature:\n  inputs:\n    - {name: x, datatype: FP32, shape: [-1]}\n",
       "must be a path inside the package folder"},
      {"format: 1\nflavour: xgboost\n", "model.yaml:2: flavour: unknown field"},
      {"format: 1\nflavor: onnx\n", "model: missing"},
      {"format: 1\nflavor: onnx\nmodel: ../m.onnx\n", "model.yaml:3: model: '../m.onnx' must be a path inside the package folder"},
      {"format: 1\nflavor: onnx\nmodel: m.onnx\npython: {module: p.py}\n",
       "model.yaml:4: python.module: unknown field for flavor onnx (workers, timeout_ms)"},
      {"format: 1\nflavor: python\npython: {module: p.py, workers: -1}\nsignature:\n  inputs: [{name: x, datatype: FP32, shape: [-1, 2]}]\n",
       "model.yaml:3: python.workers: must be a whole number from 0 to 256"},
      {"format: 1\nflavor: python\npython:\n  module: p.py\n  timeout_ms: 1.5\nsignature:\n  inputs: [{name: x, datatype: FP32, shape: [-1, 2]}]\n",
       "model.yaml:5: python.timeout_ms: must be a whole number from 1 to 86400000"},
      {"format: 1\nflavor: python\npython: {module: p.py, threads: 2}\nsignature:\n  inputs: [{name: x, datatype: FP32, shape: [-1, 2]}]\n", "python.threads: unknown field"},
  };
  for (const Case& c : cases) {
    auto p = ParsePackageYaml(c.yaml, "model.yaml");
    ASSERT_FALSE(p.ok()) << c.yaml;
    EXPECT_NE(p.status().message().find(c.want), std::string::npos) << p.status().message();
  }
  // An ONNX package may leave its signature to the graph (the runtime reads it at load).
  auto onnx = ParsePackageYaml("format: 1\nflavor: onnx\nmodel: model.onnx\n", "model.yaml");
  ASSERT_TRUE(onnx.ok()) << onnx.status().message();
  EXPECT_EQ(onnx->flavor, "onnx");
  EXPECT_TRUE(onnx->inputs.empty());
  onnx = ParsePackageYaml("format: 1\nflavor: onnx\nmodel: model.onnx\npython: {workers: 3, timeout_ms: 500}\n", "model.yaml");
  ASSERT_TRUE(onnx.ok()) << onnx.status().message();
  EXPECT_EQ(onnx->python_workers, 3);
  EXPECT_EQ(onnx->python_timeout_ms, 500);
  auto ok = ParsePackageYaml(
      "format: 1\nflavor: xgboost\nmodel: m.json\nsignature:\n  inputs:\n    - {name: x, datatype: float32, shape: [-1, 4]}\n"
      "  outputs:\n    - {name: p, datatype: FP32, shape: [-1]}\n",
      "model.yaml");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->inputs[0].datatype, "FP32");
  EXPECT_EQ(ok->inputs[0].shape, (std::vector<int64_t>{-1, 4}));
}

TEST(RefTest, ParsesReferences) {
  auto a = ParseModelRef("churn/3");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->version, 3);
  auto b = ParseModelRef("models:/churn@champion");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->alias, "champion");
  auto c = ParseModelRef("churn@Production");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->stage, "Production");
  for (const char* bad : {"churn", "churn/x", "churn@", "/3", "churn/0"}) EXPECT_FALSE(ParseModelRef(bad).ok()) << bad;
}

TEST(RegisterTest, RegistersPromotesThroughGatesAndChecksOut) {
  char tmpl[] = "/tmp/forja-reg-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  auto store = meta::OpenSqlStore("sqlite:///" + dir + "/forja.db");
  ASSERT_TRUE(store.ok()) << store.status().message();
  Cache cache(dir + "/cache", {LinkType::kCopy});
  ASSERT_TRUE(cache.Prepare().ok());
  std::string pkg = dir + "/pkg";
  ASSERT_TRUE(MakeDirs(pkg + "/sub").ok());
  ASSERT_TRUE(WriteFileAtomic(pkg + "/model.yaml",
                              "format: 1\nflavor: xgboost\nmodel: model.json\nsignature:\n  inputs:\n"
                              "    - {name: x, datatype: FP32, shape: [-1, 2]}\n")
                  .ok());
  ASSERT_TRUE(WriteFileAtomic(pkg + "/model.json", "{}").ok());
  ASSERT_TRUE(WriteFileAtomic(pkg + "/sub/extra.txt", "x").ok());
  auto exp = (*store)->CreateExperiment("e", "", {});
  ASSERT_TRUE(exp.ok());
  std::vector<std::string> runs;
  for (double auc : {0.9, 0.8, 0.95}) {
    auto run = (*store)->CreateRun(*exp, "u", "", 0, {});
    ASSERT_TRUE(run.ok());
    ASSERT_TRUE((*store)->LogBatch(run->info.run_id, {{"auc", auc, 1, 0}}, {}, {}).ok());
    runs.push_back(run->info.run_id);
  }
  std::vector<int64_t> versions;
  for (const auto& run : runs) {
    auto v = Register(**store, cache, {"churn", pkg, run, "models/pkg", "", {}, "alice"}, {});
    ASSERT_TRUE(v.ok()) << v.status().message();
    versions.push_back(v->version);
    EXPECT_EQ(v->source.rfind("mlflow-artifacts:/forja-packages/", 0), 0u);
  }
  EXPECT_EQ(versions, (std::vector<int64_t>{1, 2, 3}));
  auto lineage = (*store)->GetLineage(runs[0]);
  ASSERT_TRUE(lineage.ok());
  ASSERT_EQ(lineage->size(), 1u);
  EXPECT_EQ((*lineage)[0].kind, "model");

  auto root = config::ParseConfigYaml("models:\n  churn:\n    gates:\n      production:\n        - metrics.auc >= 0.85\n"
                                      "        - metrics.auc >= production.metrics.auc\n",
                                      "forja.yaml");
  ASSERT_TRUE(root.ok());
  auto policies = ParsePolicies(root->Find("models"), "forja.yaml");
  ASSERT_TRUE(policies.ok());
  meta::Promotion p{"churn", 1, "production", true, "alice", "first", false};
  ASSERT_TRUE(Promote(**store, *policies, p, Role::kAdmin).ok());
  p.version = 2;
  auto refused = Promote(**store, *policies, p, Role::kAdmin);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kRefused);
  EXPECT_NE(refused.status().message().find("metrics.auc >= 0.85 (0.8 >= 0.85)"), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(Promote(**store, *policies, p, Role::kWrite).status().code(), Code::kDenied);  // Production needs admin
  p.force = true;
  auto forced = Promote(**store, *policies, p, Role::kAdmin);
  ASSERT_TRUE(forced.ok()) << forced.status().message();
  auto hist = (*store)->History("churn", 2);
  ASSERT_TRUE(hist.ok());
  EXPECT_TRUE(hist->back().forced);
  EXPECT_NE(hist->back().gates.find("FAIL"), std::string::npos);
  p.version = 3;
  p.force = false;
  ASSERT_TRUE(Promote(**store, *policies, p, Role::kAdmin).ok());
  auto prod = ResolveRef(**store, *ParseModelRef("churn@production"));
  ASSERT_TRUE(prod.ok());
  EXPECT_EQ(prod->version, 3);
  // Leaving Production is an admin's too, checked inside the move's transaction (roles.h).
  meta::Promotion demote{"churn", 3, "archived", false, "bob", "", false};
  EXPECT_EQ(Promote(**store, *policies, demote, Role::kWrite).status().code(), Code::kDenied);
  EXPECT_EQ((*store)->GetModelVersion("churn", 3)->current_stage, "Production");
  meta::Promotion reserved{"churn", 3, "@Staging", false, "bob", "", false};
  auto bad = Promote(**store, *policies, reserved, Role::kAdmin);
  EXPECT_EQ(bad.status().code(), Code::kUser);
  EXPECT_NE(bad.status().message().find("reserved"), std::string::npos) << bad.status().message();
  Oid manifest = *Oid::FromHex(prod->package_hash.substr(7));
  ASSERT_TRUE(CheckoutPackage(cache, manifest, dir + "/out").ok());
  auto text = ReadFile(dir + "/out/sub/extra.txt");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "x");
  auto listing = (*store)->ListArtifacts(PackageArtifactRoot(manifest));
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->size(), 3u);  // model.json, model.yaml, sub/
  std::string rm = "rm -rf " + dir;
  ASSERT_EQ(std::system(rm.c_str()), 0);
}

TEST(RolesTest, EscalationsFollowTheModelNotItsName) {
  auto root = config::ParseConfigYaml("models:\n  churn:\n    protected: ['@champion']\n", "forja.yaml");
  ASSERT_TRUE(root.ok());
  auto policies = ParsePolicies(root->Find("models"), "forja.yaml");
  ASSERT_TRUE(policies.ok());
  meta::ModelHoldings none, prod, champ;
  prod.stages[2] = "Production";
  champ.aliases.push_back({"champion", 1});
  EXPECT_EQ(RequiredRole("POST registered-models/rename"), Role::kWrite);
  EXPECT_EQ(RequiredRole("POST no/such-route"), Role::kAdmin);  // unlisted: closed
  EXPECT_EQ(Authorize("GET runs/get", Role::kRead).code(), Code::kOk);
  EXPECT_EQ(Authorize("POST runs/create", Role::kRead).code(), Code::kDenied);
  // Out of a policy, into one, or carrying what is protected: admin.
  EXPECT_EQ(CheckRename(*policies, "churn", "x", none, Role::kWrite).code(), Code::kDenied);
  EXPECT_EQ(CheckRename(*policies, "x", "churn", champ, Role::kWrite).code(), Code::kDenied);
  EXPECT_EQ(CheckRename(*policies, "x", "y", prod, Role::kWrite).code(), Code::kDenied);
  EXPECT_TRUE(CheckRename(*policies, "x", "y", champ, Role::kWrite).ok());  // @champion is not protected for x or y
  EXPECT_TRUE(CheckRename(*policies, "churn", "x", champ, Role::kAdmin).ok());
  EXPECT_EQ(CheckDeleteVersion(*policies, "x", 2, prod, Role::kWrite).code(), Code::kDenied);
  EXPECT_TRUE(CheckDeleteVersion(*policies, "x", 1, prod, Role::kWrite).ok());
  EXPECT_EQ(CheckDeleteVersion(*policies, "churn", 1, champ, Role::kWrite).code(), Code::kDenied);
  EXPECT_EQ(CheckDeleteModel(*policies, "x", prod, Role::kWrite).code(), Code::kDenied);
  EXPECT_TRUE(CheckDeleteModel(*policies, "x", champ, Role::kWrite).ok());
  EXPECT_EQ(CheckDeleteAlias(*policies, "churn", "champion", Role::kWrite).code(), Code::kDenied);
}

}  // namespace
}  // namespace forja::registry
