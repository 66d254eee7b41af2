// The metadata store, through its interface, on SQLite and on PostgreSQL (a
// throwaway cluster the CTest fixture starts; each test gets a fresh database).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <set>
#include <thread>

#include "forja/meta/filter.h"
#include "forja/meta/store.h"
#include "fresh_store.h"

namespace forja::meta {
namespace {

std::string FreshUri(const std::string& kind) { return test_support::FreshUri(kind, "meta"); }

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    uri_ = FreshUri(GetParam());
    if (uri_.empty()) GTEST_SKIP() << "no PostgreSQL (FORJA_TEST_PG_STATE unset)";
    auto s = OpenSqlStore(uri_);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
  }
  std::string NewExperiment(const std::string& name) {
    auto id = store_->CreateExperiment(name, "", {});
    EXPECT_TRUE(id.ok()) << id.status().message();
    return id.ok() ? *id : "";
  }
  meta::Run NewRun(const std::string& exp, const std::string& name = "") {
    auto r = store_->CreateRun(exp, "tester", name, 0, {});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : meta::Run{};
  }
  std::string uri_;
  std::unique_ptr<MetaStore> store_;
};

TEST_P(StoreTest, DefaultExperimentExistsAndNamesAreUnique) {
  auto d = store_->GetExperiment("0");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->name, "Default");
  std::string id = NewExperiment("churn");
  auto e = store_->GetExperimentByName("churn");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->id, id);
  EXPECT_EQ(e->artifact_location, "mlflow-artifacts:/" + id);
  auto dup = store_->CreateExperiment("churn", "", {});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), Code::kExists);
  EXPECT_EQ(store_->GetExperiment("12345").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->GetExperiment("abc").status().code(), Code::kNotFound);
}

TEST_P(StoreTest, ExperimentSearchRenameDelete) {
  NewExperiment("alpha");
  std::string b = NewExperiment("beta");
  ASSERT_TRUE(store_->SetExperimentTag(b, {"team", "ml"}).ok());
  Query q;
  q.filter = "name LIKE 'a%'";
  auto r = store_->SearchExperiments(q);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->items.size(), 1u);
  EXPECT_EQ(r->items[0].name, "alpha");
  q.filter = "tags.team = 'ml'";
  r = store_->SearchExperiments(q);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->items.size(), 1u);
  EXPECT_EQ(r->items[0].name, "beta");
  ASSERT_TRUE(store_->RenameExperiment(b, "gamma").ok());
  EXPECT_TRUE(store_->GetExperimentByName("gamma").ok());
  ASSERT_TRUE(store_->SetExperimentLifecycle(b, true).ok());
  q = Query{};
  r = store_->SearchExperiments(q);
  ASSERT_TRUE(r.ok());
  for (auto& e : r->items) EXPECT_NE(e.name, "gamma");
  EXPECT_FALSE(store_->CreateRun(b, "u", "", 0, {}).ok());
}

TEST_P(StoreTest, RunsLogBatchAndHistory) {
  std::string exp = NewExperiment("e");
  meta::Run run = NewRun(exp, "first");
  ASSERT_EQ(run.info.run_id.size(), 32u);
  EXPECT_EQ(run.info.artifact_uri, "mlflow-artifacts:/" + exp + "/" + run.info.run_id + "/artifacts");
  std::vector<Metric> ms;
  for (int i = 0; i < 1000; i++) ms.push_back({"loss", 1.0 / (i + 1), 1000 + i, i});
  ms.push_back({"nan_metric", NAN, 5, 0});
  ms.push_back({"auc", 0.91, 7, 3});
  ASSERT_TRUE(store_->LogBatch(run.info.run_id, {}, {{"lr", "0.1"}, {"depth", "4"}}, {{"stage", "dev"}}).ok());
  Status st = store_->LogBatch(run.info.run_id, ms, {}, {});
  EXPECT_FALSE(st.ok());  // 1002 metrics: over the batch limit
  ms.resize(997);  // 999 metrics and a param: the most one batch holds
  ms.push_back({"nan_metric", NAN, 5, 0});
  ms.push_back({"auc", 0.91, 7, 3});
  st = store_->LogBatch(run.info.run_id, ms, {{"lr", "0.1"}}, {});
  ASSERT_TRUE(st.ok()) << st.message();
  auto got = store_->GetRun(run.info.run_id);
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_EQ(got->metrics.size(), 3u);
  EXPECT_EQ(got->metrics[0].key, "auc");
  EXPECT_EQ(got->metrics[1].key, "loss");
  EXPECT_EQ(got->metrics[1].step, 996);  // the newest step
  EXPECT_TRUE(std::isnan(got->metrics[2].value));
  ASSERT_EQ(got->params.size(), 2u);
  EXPECT_EQ(got->params[0].key, "depth");
  bool name_tag = false;
  for (auto& t : got->tags) name_tag |= t.key == "mlflow.runName" && t.value == "first";
  EXPECT_TRUE(name_tag);
  // A param's value never changes.
  st = store_->LogBatch(run.info.run_id, {}, {{"lr", "0.2"}}, {});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("Changing param values is not allowed"), std::string::npos) << st.message();
  // Bad keys are refused, whole batch included.
  EXPECT_FALSE(store_->LogBatch(run.info.run_id, {{"ok", 1, 1, 1}}, {{"../etc", "x"}}, {}).ok());
  // The series, paged.
  Page p;
  p.max_results = 400;
  std::vector<Metric> all;
  for (;;) {
    auto h = store_->GetMetricHistory(run.info.run_id, "loss", p);
    ASSERT_TRUE(h.ok()) << h.status().message();
    all.insert(all.end(), h->items.begin(), h->items.end());
    if (h->next_page_token.empty()) break;
    p.token = h->next_page_token;
  }
  ASSERT_EQ(all.size(), 997u);
  for (size_t i = 0; i < all.size(); i++) ASSERT_EQ(all[i].step, static_cast<int64_t>(i));
  // A batch sent again (a retry after the first committed) adds no point to the history.
  ASSERT_TRUE(store_->LogBatch(run.info.run_id, {{"retried", 0.5, 10, 1}, {"retried", 0.7, 11, 2}}, {{"lr", "0.1"}}, {}).ok());
  ASSERT_TRUE(store_->LogBatch(run.info.run_id, {{"retried", 0.5, 10, 1}, {"retried", 0.7, 11, 2}}, {{"lr", "0.1"}}, {}).ok());
  auto retried = store_->GetMetricHistory(run.info.run_id, "retried", Page{});
  ASSERT_TRUE(retried.ok()) << retried.status().message();
  ASSERT_EQ(retried->items.size(), 2u);
  EXPECT_EQ(retried->items[1].value, 0.7);
  auto info = store_->UpdateRun(run.info.run_id, "FINISHED", 12345, "");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->status, "FINISHED");
  EXPECT_EQ(*info->end_time, 12345);
  EXPECT_FALSE(store_->UpdateRun(run.info.run_id, "DONE", {}, "").ok());
  ASSERT_TRUE(store_->SetRunLifecycle(run.info.run_id, true).ok());
  st = store_->LogBatch(run.info.run_id, {{"x", 1, 1, 1}}, {}, {});
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("must be in the 'active' state"), std::string::npos);
  EXPECT_EQ(store_->GetRun("0123456789abcdef0123456789abcdef").status().code(), Code::kNotFound);
}

TEST_P(StoreTest, SearchRunsFilterOrderAndPages) {
  std::string exp = NewExperiment("s");
  std::vector<std::string> ids;
  for (int i = 0; i < 30; i++) {
    meta::Run r = NewRun(exp, "run" + std::to_string(i));
    ids.push_back(r.info.run_id);
    std::vector<Metric> ms;
    if (i % 5 != 0) ms.push_back({"auc", 0.5 + i / 100.0, 1, 0});
    ASSERT_TRUE(store_->LogBatch(r.info.run_id, ms, {{"model", i % 2 ? "xgb" : "rf"}},
                                 {{"team", i < 10 ? "Alpha" : "beta"}})
                    .ok());
  }
  RunQuery q;
  q.experiment_ids = {exp};
  q.filter = "metrics.auc > 0.6 and params.model = 'xgb'";
  q.order_by = {"metrics.auc DESC"};
  auto r = store_->SearchRuns(q);
  ASSERT_TRUE(r.ok()) << r.status().message();
  // i odd, i % 5 != 0, 0.5 + i/100 > 0.6 -> i in 11,13,17,19,21,23,27,29
  std::vector<std::string> names;
  for (auto& run : r->items) names.push_back(run.info.run_name);
  EXPECT_EQ(names, (std::vector<std::string>{"run29", "run27", "run23", "run21", "run19", "run17", "run13", "run11"}));
  // Missing metrics sort last whatever the direction.
  q.filter = "";
  q.order_by = {"metrics.auc ASC"};
  q.page.max_results = 30;
  r = store_->SearchRuns(q);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->items.size(), 30u);
  EXPECT_EQ(r->items[0].info.run_name, "run1");
  for (size_t i = 24; i < 30; i++) EXPECT_TRUE(r->items[i].metrics.empty()) << r->items[i].info.run_name;
  // LIKE is case-sensitive, ILIKE is not.
  q.order_by = {};
  q.filter = "tags.team LIKE 'alpha'";
  r = store_->SearchRuns(q);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->items.size(), 0u);
  q.filter = "tags.team ILIKE 'alpha'";
  r = store_->SearchRuns(q);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->items.size(), 10u);
  q.filter = "attributes.run_name IN ('run1', 'run2') and status = 'RUNNING'";
  r = store_->SearchRuns(q);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->items.size(), 2u);
  // Pages of 7 cover everything once.
  q.filter = "";
  q.page.max_results = 7;
  std::set<std::string> seen;
  for (;;) {
    r = store_->SearchRuns(q);
    ASSERT_TRUE(r.ok());
    for (auto& run : r->items) EXPECT_TRUE(seen.insert(run.info.run_id).second);
    if (r->next_page_token.empty()) break;
    q.page.token = r->next_page_token;
  }
  EXPECT_EQ(seen.size(), 30u);
  q.page = Page{};
  q.filter = "metrics.auc >";
  r = store_->SearchRuns(q);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("at character 14"), std::string::npos) << r.status().message();
  q.filter = "metrics.auc > 'x'";
  EXPECT_FALSE(store_->SearchRuns(q).ok());
  q.filter = "params.a = '1' OR params.b = '2'";
  EXPECT_FALSE(store_->SearchRuns(q).ok());
  q.filter = "";
  q.page.token = "garbage";
  EXPECT_EQ(store_->SearchRuns(q).status().code(), Code::kUser);
}

TEST_P(StoreTest, LineageAndArtifacts) {
  std::string exp = NewExperiment("l");
  meta::Run r = NewRun(exp);
  std::string h1 = "sha256:" + std::string(64, 'a'), h2 = "sha256:" + std::string(64, 'b');
  ASSERT_TRUE(store_->LogLineage(r.info.run_id, {{"input", "data/raw", h1, "dir", 10}, {"output", "model.pkl", h2, "file", 3}})
                  .ok());
  auto l = store_->GetLineage(r.info.run_id);
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->size(), 2u);
  auto who = store_->FindLineage(h2);
  ASSERT_TRUE(who.ok());
  ASSERT_EQ(who->size(), 1u);
  EXPECT_EQ((*who)[0].first, r.info.run_id);
  EXPECT_FALSE(store_->LogLineage(r.info.run_id, {{"input", "x", "md5:1", "file", 1}}).ok());
  std::string base = exp + "/" + r.info.run_id + "/artifacts";
  ASSERT_TRUE(store_->PutArtifact(base + "/model/model.json", h1, 10).ok());
  ASSERT_TRUE(store_->PutArtifact(base + "/model/sub/x.txt", h2, 3).ok());
  ASSERT_TRUE(store_->PutArtifact(base + "/metrics.json", h2, 3).ok());
  auto ls = store_->ListArtifacts(base);
  ASSERT_TRUE(ls.ok());
  ASSERT_EQ(ls->size(), 2u);
  EXPECT_EQ((*ls)[0].path, "metrics.json");
  EXPECT_EQ((*ls)[1].path, "model");
  EXPECT_TRUE((*ls)[1].is_dir);
  ls = store_->ListArtifacts(base + "/model");
  ASSERT_TRUE(ls.ok());
  ASSERT_EQ(ls->size(), 2u);
  EXPECT_EQ((*ls)[0].path, "model.json");
  EXPECT_EQ((*ls)[0].size, 10);
  EXPECT_EQ((*ls)[1].path, "sub");
  auto a = store_->GetArtifact(base + "/model/model.json");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->hash, h1);
}

TEST_P(StoreTest, RegistryStagesAliasesHistory) {
  ASSERT_TRUE(store_->CreateRegisteredModel("churn", "predicts churn", {}).ok());
  auto dup = store_->CreateRegisteredModel("churn", "", {});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), Code::kExists);
  std::string exp = NewExperiment("r");
  meta::Run run = NewRun(exp);
  ModelVersion mv;
  mv.name = "churn";
  mv.source = "runs:/" + run.info.run_id + "/model";
  mv.run_id = run.info.run_id;
  for (int i = 1; i <= 3; i++) {
    auto v = store_->CreateModelVersion(mv);
    ASSERT_TRUE(v.ok()) << v.status().message();
    EXPECT_EQ(v->version, i);
  }
  mv.run_id = "ffffffffffffffffffffffffffffffff";
  EXPECT_EQ(store_->CreateModelVersion(mv).status().code(), Code::kNotFound);
  mv.name = "nope";
  mv.run_id = "";
  EXPECT_EQ(store_->CreateModelVersion(mv).status().code(), Code::kNotFound);

  Promotion p{"churn", 1, "production", false, "alice", "first", false};
  ASSERT_TRUE(store_->Promote(p, {}).ok());
  p.version = 2;
  p.archive_existing = true;
  auto v2 = store_->Promote(p, {});
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->current_stage, "Production");
  EXPECT_EQ(store_->GetModelVersion("churn", 1)->current_stage, "Archived");
  p = Promotion{"churn", 3, "@champion", false, "bob", "", false};
  ASSERT_TRUE(store_->Promote(p, {}).ok());
  auto byalias = store_->GetVersionByAlias("churn", "champion");
  ASSERT_TRUE(byalias.ok());
  EXPECT_EQ(byalias->version, 3);
  EXPECT_EQ(byalias->aliases, std::vector<std::string>{"champion"});
  p.target = "@latest";
  EXPECT_EQ(store_->Promote(p, {}).status().code(), Code::kUser);
  p.target = "@v2";
  EXPECT_EQ(store_->Promote(p, {}).status().code(), Code::kUser);
  p.target = "Prod";
  EXPECT_EQ(store_->Promote(p, {}).status().code(), Code::kUser);
  // A refused promotion changes nothing and leaves no history.
  p.target = "Staging";
  auto refuse = [](const PromotionFacts&, std::string*, bool*) { return Status::Refused("gate failed"); };
  EXPECT_EQ(store_->Promote(p, refuse).status().code(), Code::kRefused);
  EXPECT_EQ(store_->GetModelVersion("churn", 3)->current_stage, "None");
  auto model = store_->GetRegisteredModel("churn");
  ASSERT_TRUE(model.ok());
  ASSERT_EQ(model->aliases.size(), 1u);
  EXPECT_EQ(model->aliases[0].second, 3);
  ASSERT_TRUE(store_->DeleteAlias("churn", "champion", "bob").ok());
  EXPECT_EQ(store_->GetVersionByAlias("churn", "champion").status().code(), Code::kNotFound);
  auto hist = store_->History("churn", 0);
  ASSERT_TRUE(hist.ok());
  std::vector<std::string> kinds;
  for (auto& t : *hist) kinds.push_back(t.kind + ":" + std::to_string(t.version) + ":" + t.from + ">" + t.to);
  EXPECT_EQ(kinds, (std::vector<std::string>{"registered:1:>None", "registered:2:>None", "registered:3:>None",
                                             "stage:1:None>Production", "stage:1:Production>Archived",
                                             "stage:2:None>Production", "alias:3:>@champion",
                                             "alias_removed:3:@champion>"}));
  EXPECT_EQ((*hist)[3].user, "alice");
  EXPECT_EQ((*hist)[3].comment, "first");
  auto latest = store_->GetLatestVersions("churn", {"production"});
  ASSERT_TRUE(latest.ok()) << latest.status().message();
  ASSERT_EQ(latest->size(), 1u);
  EXPECT_EQ((*latest)[0].version, 2);
  Query q;
  q.filter = "name = 'churn' and version_number >= 2";
  auto sv = store_->SearchModelVersions(q);
  ASSERT_TRUE(sv.ok()) << sv.status().message();
  ASSERT_EQ(sv->items.size(), 2u);
  EXPECT_EQ(sv->items[0].version, 3);
  auto renamed = store_->RenameRegisteredModel("churn", "churn2");
  ASSERT_TRUE(renamed.ok()) << renamed.status().message();
  EXPECT_TRUE(store_->GetModelVersion("churn2", 3).ok());
  ASSERT_TRUE(store_->DeleteModelVersion("churn2", 1, "alice").ok());
  EXPECT_EQ(store_->GetModelVersion("churn2", 1).status().code(), Code::kNotFound);
}

TEST_P(StoreTest, GatesSeeTheHolderTheyReplace) {
  ASSERT_TRUE(store_->CreateRegisteredModel("m", "", {}).ok());
  std::string exp = NewExperiment("g");
  for (int i = 1; i <= 3; i++) {
    meta::Run run = NewRun(exp);
    ASSERT_TRUE(store_->LogBatch(run.info.run_id, {{"auc", 0.8 + i / 100.0, 1, 0}}, {}, {}).ok());
    ModelVersion mv;
    mv.name = "m", mv.source = "x", mv.run_id = run.info.run_id;
    ASSERT_TRUE(store_->CreateModelVersion(mv).ok());
  }
  auto better = [](const PromotionFacts& f, std::string* report, bool*) {
    auto it = f.holders.find("production");
    if (it == f.holders.end()) return Status::Ok();
    *report = std::to_string(f.candidate.metrics.at("auc")) + " vs " + std::to_string(it->second.metrics.at("auc"));
    if (f.candidate.metrics.at("auc") < it->second.metrics.at("auc")) return Status::Refused("worse");
    return Status::Ok();
  };
  ASSERT_TRUE(store_->Promote({"m", 2, "Production", true, "u", "", false}, better).ok());
  EXPECT_EQ(store_->Promote({"m", 1, "Production", true, "u", "", false}, better).status().code(), Code::kRefused);
  ASSERT_TRUE(store_->Promote({"m", 3, "Production", true, "u", "", false}, better).ok());
  auto hist = store_->History("m", 3);
  ASSERT_TRUE(hist.ok());
  EXPECT_NE(hist->back().gates.find(" vs "), std::string::npos);
}

TEST_P(StoreTest, ConcurrentVersionsAreGaplessAndAliasMovesAreSerial) {
  ASSERT_TRUE(store_->CreateRegisteredModel("m", "", {}).ok());
  std::string exp = NewExperiment("c");
  constexpr int kThreads = 16, kEach = 4;
  std::vector<std::thread> ts;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; t++)
    ts.emplace_back([&, t] {
      auto s = OpenSqlStore(uri_);  // a client of its own, as another process would be
      if (!s.ok()) return void(failures++);
      for (int i = 0; i < kEach; i++) {
        auto run = (*s)->CreateRun(exp, "u", "", 0, {});
        if (!run.ok()) return void(failures++);
        double auc = 0.5 + (t * kEach + i) / 1000.0;
        if (!(*s)->LogBatch(run->info.run_id, {{"auc", auc, 1, 0}}, {}, {}).ok()) return void(failures++);
        ModelVersion mv;
        mv.name = "m", mv.source = "x", mv.run_id = run->info.run_id;
        auto v = (*s)->CreateModelVersion(mv);
        if (!v.ok()) return void(failures++);
        // Move @best only to a better version: exactly the better ones win.
        auto gate = [](const PromotionFacts& f, std::string*, bool*) {
          auto h = f.holders.find("@best");
          if (h != f.holders.end() && h->second.metrics.at("auc") >= f.candidate.metrics.at("auc"))
            return Status::Refused("not better");
          return Status::Ok();
        };
        auto moved = (*s)->Promote({"m", v->version, "@best", false, "u", "", false}, gate);
        if (!moved.ok() && moved.status().code() != Code::kRefused) {
          ADD_FAILURE() << moved.status().message();
          failures++;
        }
      }
    });
  for (auto& t : ts) t.join();
  ASSERT_EQ(failures.load(), 0);
  Query q;
  q.filter = "name = 'm'";
  q.order_by = {"version_number ASC"};
  auto vs = store_->SearchModelVersions(q);
  ASSERT_TRUE(vs.ok());
  ASSERT_EQ(vs->items.size(), static_cast<size_t>(kThreads * kEach));
  for (size_t i = 0; i < vs->items.size(); i++) EXPECT_EQ(vs->items[i].version, static_cast<int64_t>(i + 1));
  // The alias history is one chain: each move starts where the last one ended,
  // and the alias ends on the best version.
  auto hist = store_->History("m", 0);
  ASSERT_TRUE(hist.ok());
  std::string holder;
  for (auto& t : *hist) {
    if (t.kind != "alias") continue;
    EXPECT_EQ(t.from, holder);
    holder = std::to_string(t.version);
  }
  auto best = store_->GetVersionByAlias("m", "best");
  ASSERT_TRUE(best.ok());
  auto run = store_->GetRun(best->run_id);
  ASSERT_TRUE(run.ok());
  EXPECT_DOUBLE_EQ(run->metrics[0].value, 0.5 + (kThreads * kEach - 1) / 1000.0);
}

TEST_P(StoreTest, TwoOpenersOfANewStoreBothSucceed) {
  std::string uri = FreshUri(GetParam());
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; i++)
    ts.emplace_back([&] {
      auto s = OpenSqlStore(uri);
      if (s.ok() && (*s)->GetExperiment("0").ok()) ok++;
      else if (!s.ok()) ADD_FAILURE() << s.status().message();
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), 4);
}

TEST_P(StoreTest, Tokens) {
  ASSERT_TRUE(store_->CreateToken("ci", "write", "h1").ok());
  EXPECT_EQ(store_->CreateToken("ci", "read", "h2").code(), Code::kExists);
  EXPECT_EQ(store_->CreateToken("x", "god", "h3").code(), Code::kUser);
  auto t = store_->FindToken("h1");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->role, "write");
  ASSERT_TRUE(store_->RevokeToken("ci").ok());
  EXPECT_EQ(store_->FindToken("h1").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->RevokeToken("ci").code(), Code::kNotFound);
  ASSERT_TRUE(store_->CreateToken("ci", "read", "h4").ok());  // the name is free again
}

TEST_P(StoreTest, Alerts) {
  ModelAlert a{"fp1", 1000, "ForjaModelDataDrift", "firing", "churn", "3", "warning", 0,
               R"({"alertname":"ForjaModelDataDrift","model":"churn","version":"3"})", R"({"summary":"drift"})", 2000};
  ASSERT_TRUE(store_->RecordAlert(a).ok());
  ModelAlert other = a;
  other.fingerprint = "fp2";
  other.version = "2";
  other.received = 1500;
  ASSERT_TRUE(store_->RecordAlert(other).ok());
  ModelAlert server{"fp3", 1000, "ForjaServeErrorRate", "firing", "", "", "critical", 0, "{}", "{}", 1800};
  ASSERT_TRUE(store_->RecordAlert(server).ok());
  // The same alert again, resolved: one row, updated.
  a.status = "resolved";
  a.ends_at = 5000;
  a.received = 6000;
  ASSERT_TRUE(store_->RecordAlert(a).ok());
  auto v3 = store_->ListAlerts("churn", "3", 100);
  ASSERT_TRUE(v3.ok()) << v3.status().message();
  ASSERT_EQ(v3->size(), 1u);
  EXPECT_EQ((*v3)[0].status, "resolved");
  EXPECT_EQ((*v3)[0].ends_at, 5000);
  EXPECT_EQ((*v3)[0].starts_at, 1000);
  EXPECT_EQ((*v3)[0].labels, a.labels);
  EXPECT_EQ((*v3)[0].annotations, a.annotations);
  auto churn = store_->ListAlerts("churn", "", 100);
  ASSERT_TRUE(churn.ok());
  ASSERT_EQ(churn->size(), 2u);
  EXPECT_EQ((*churn)[0].fingerprint, "fp1");  // the latest heard of first
  auto all = store_->ListAlerts("", "", 2);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);  // the limit
  // A new start of the same alert is a new row.
  a.starts_at = 7000;
  a.status = "firing";
  a.ends_at = 0;
  ASSERT_TRUE(store_->RecordAlert(a).ok());
  EXPECT_EQ(store_->ListAlerts("churn", "3", 100)->size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

TEST(FilterTest, ParsesMlflowGrammar) {
  auto f = ParseFilter("metrics.auc >= 0.8 and params.`my key` = 'a''b' AND tags.\"x y\" LIKE '%z' and status != "
                       "\"RUNNING\" and tags.mlflow.runName IN ('a', \"b\") and attr.start_time < -1e3");
  ASSERT_TRUE(f.ok()) << f.status().message();
  ASSERT_EQ(f->clauses.size(), 6u);
  EXPECT_EQ(f->clauses[0].entity, Entity::kMetric);
  EXPECT_EQ(f->clauses[0].op, ">=");
  EXPECT_DOUBLE_EQ(f->clauses[0].number, 0.8);
  EXPECT_EQ(f->clauses[1].key, "my key");
  EXPECT_EQ(f->clauses[1].values[0], "a'b");
  EXPECT_EQ(f->clauses[2].key, "x y");
  EXPECT_EQ(f->clauses[3].entity, Entity::kAttribute);
  EXPECT_EQ(f->clauses[4].key, "mlflow.runName");
  EXPECT_EQ(f->clauses[4].values, (std::vector<std::string>{"a", "b"}));
  EXPECT_DOUBLE_EQ(f->clauses[5].number, -1000);
  EXPECT_TRUE(ParseFilter("  ").ok());
}

TEST(FilterTest, ErrorsNameThePosition) {
  struct Case {
    const char* text;
    const char* want;
  } cases[] = {
      {"metrics.auc", "at character 12: expected a comparison operator"},
      {"metrics.auc ~ 1", "at character 13: expected a comparison operator"},
      {"foo.bar = 1", "at character 1: unknown entity 'foo'"},
      {"params.a = 'x", "at character 12: unterminated string"},
      {"params.a = 'x' params.b = 'y'", "at character 16: expected AND"},
      {"params.a = 'x' or params.b = 'y'", "OR is not supported"},
      {"params.a IN 'x'", "expected '('"},
      {"metrics.a > 1x", "'1x' is not a number"},
      {"metrics. = 1", "expected a key"},
  };
  for (const Case& c : cases) {
    auto f = ParseFilter(c.text);
    ASSERT_FALSE(f.ok()) << c.text;
    EXPECT_NE(f.status().message().find(c.want), std::string::npos) << c.text << " -> " << f.status().message();
  }
  auto o = ParseOrderBy("metrics.auc DESC");
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->ascending);
  EXPECT_FALSE(ParseOrderBy("metrics.auc DOWN").ok());
}

}  // namespace
}  // namespace forja::meta
