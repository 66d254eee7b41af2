// The web UI's runs table in the metadata store, on SQLite and PostgreSQL: a window of a run
// search (the same filter and order_by as SearchRuns) with the count of every match and only
// the columns asked for, the keys an experiment's runs have, and the runs grouped by a param
// with each metric's min, mean and max over every matching run.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>

#include "forja/meta/store.h"
#include "fresh_store.h"

namespace forja::meta {
namespace {

Metric M(const std::string& key, double value) {
  Metric m;
  m.key = key, m.value = value, m.timestamp = 1;
  return m;
}

class RunWindowStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string uri = test_support::FreshUri(GetParam(), "window");
    if (uri.empty()) GTEST_SKIP() << "no PostgreSQL (FORJA_TEST_PG_STATE unset)";
    auto s = OpenSqlStore(uri);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
    auto exp = store_->CreateExperiment("window", "", {});
    ASSERT_TRUE(exp.ok()) << exp.status().message();
    exp_ = *exp;
    // r00..r24: model xgb for even i, lr for odd; rmse = i / 100; every fifth has a tag.
    for (int i = 0; i < 25; i++) {
      char name[8];
      std::snprintf(name, sizeof name, "r%02d", i);
      auto r = store_->CreateRun(exp_, "tester", name, 1000 + i, {});
      ASSERT_TRUE(r.ok()) << r.status().message();
      std::vector<Tag> tags;
      if (i % 5 == 0) tags.push_back({"team", "blue"});
      double rmse = i == 24 ? std::numeric_limits<double>::quiet_NaN() : i / 100.0;
      ASSERT_TRUE(store_->LogBatch(r->info.run_id, {M("rmse", rmse), M("auc", 1 - i / 100.0)},
                                   {{"model", i % 2 ? "lr" : "xgb"}, {"depth", std::to_string(i % 3)}}, tags)
                      .ok());
    }
  }
  RunWindowQuery Query(const std::string& filter = "", std::vector<std::string> order_by = {}) {
    RunWindowQuery q;
    q.search.experiment_ids = {exp_};
    q.search.filter = filter;
    q.search.order_by = std::move(order_by);
    return q;
  }
  static std::vector<std::string> Names(const RunWindow& w) {
    std::vector<std::string> out;
    for (const meta::Run& r : w.runs) out.push_back(r.info.run_name);
    return out;
  }
  std::unique_ptr<MetaStore> store_;
  std::string exp_;
};

TEST_P(RunWindowStoreTest, AWindowCountsEveryMatchAndCarriesOnlyTheColumnsAskedFor) {
  RunWindowQuery q = Query();
  q.offset = 20, q.limit = 3;
  q.params = {"model"};
  q.metrics = {"rmse"};
  auto w = store_->SearchRunWindow(q);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->total, 25);
  // Newest first, as runs/search: r24 is offset 0, so offset 20 is r04.
  EXPECT_EQ(Names(*w), (std::vector<std::string>{"r04", "r03", "r02"}));
  const meta::Run& r04 = w->runs[0];
  ASSERT_EQ(r04.params.size(), 1u);
  EXPECT_EQ(r04.params[0].key, "model");
  EXPECT_EQ(r04.params[0].value, "xgb");
  ASSERT_EQ(r04.metrics.size(), 1u);
  EXPECT_DOUBLE_EQ(r04.metrics[0].value, 0.04);
  EXPECT_TRUE(r04.tags.empty());
  EXPECT_EQ(r04.info.start_time, 1004);
  EXPECT_EQ(r04.info.status, "RUNNING");

  // Past the end: no rows, the same count.
  q.offset = 100;
  w = store_->SearchRunWindow(q);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->total, 25);
  EXPECT_TRUE(w->runs.empty());
}

TEST_P(RunWindowStoreTest, TheFilterAndOrderAreRunsSearchs) {
  RunWindowQuery q = Query("params.model = 'xgb' and metrics.rmse < 0.1", {"metrics.rmse DESC"});
  q.limit = 2;
  q.tags = {"team"};
  auto w = store_->SearchRunWindow(q);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->total, 5);  // r00, r02, r04, r06, r08
  EXPECT_EQ(Names(*w), (std::vector<std::string>{"r08", "r06"}));
  q.offset = 4;
  w = store_->SearchRunWindow(q);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(Names(*w), (std::vector<std::string>{"r00"}));
  ASSERT_EQ(w->runs[0].tags.size(), 1u);
  EXPECT_EQ(w->runs[0].tags[0].value, "blue");

  // The parser's own message, with its position, as runs/search gives it.
  RunWindowQuery bad = Query("metrics.rmse <<< 1");
  auto e = store_->SearchRunWindow(bad);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Code::kUser);
  RunQuery search = bad.search;
  auto same = store_->SearchRuns(search);
  ASSERT_FALSE(same.ok());
  EXPECT_EQ(e.status().message(), same.status().message());
}

TEST_P(RunWindowStoreTest, LimitsAreRefused) {
  RunWindowQuery q = Query();
  q.limit = kMaxRunWindow + 1;
  EXPECT_EQ(store_->SearchRunWindow(q).status().code(), Code::kUser);
  q = Query();
  q.offset = -1;
  EXPECT_EQ(store_->SearchRunWindow(q).status().code(), Code::kUser);
  q = Query();
  q.params.assign(kMaxRunWindowColumns + 1, "k");
  EXPECT_EQ(store_->SearchRunWindow(q).status().code(), Code::kUser);
  q = Query();
  q.search.experiment_ids.push_back(exp_);
  EXPECT_EQ(store_->SearchRunWindow(q).status().code(), Code::kUser);
}

TEST_P(RunWindowStoreTest, KeysListWhatTheRunsHave) {
  auto k = store_->ListRunKeys(exp_);
  ASSERT_TRUE(k.ok()) << k.status().message();
  EXPECT_EQ(k->params, (std::vector<std::string>{"depth", "model"}));
  EXPECT_EQ(k->metrics, (std::vector<std::string>{"auc", "rmse"}));
  EXPECT_EQ(k->tags, (std::vector<std::string>{"mlflow.runName", "team"}));
  EXPECT_EQ(store_->ListRunKeys("x1").status().code(), Code::kUser);
}

TEST_P(RunWindowStoreTest, GroupsCountAndSummarizeEveryMatchingRun) {
  RunWindowQuery q = Query("metrics.auc > 0.85");  // r00..r14
  q.metrics = {"rmse"};
  auto g = store_->GroupRuns(q, "model");
  ASSERT_TRUE(g.ok()) << g.status().message();
  ASSERT_EQ(g->size(), 2u);
  EXPECT_EQ((*g)[0].value, std::optional<std::string>("xgb"));  // the largest first: 8 (r00, r02, ..., r14)
  EXPECT_EQ((*g)[0].count, 8);
  ASSERT_EQ((*g)[0].metrics.size(), 1u);
  EXPECT_EQ((*g)[0].metrics[0].key, "rmse");
  EXPECT_DOUBLE_EQ((*g)[0].metrics[0].min, 0.0);
  EXPECT_DOUBLE_EQ((*g)[0].metrics[0].max, 0.14);
  EXPECT_NEAR((*g)[0].metrics[0].mean, 0.07, 1e-9);
  EXPECT_EQ((*g)[1].value, std::optional<std::string>("lr"));
  EXPECT_EQ((*g)[1].count, 7);

  // Runs without the param are a group of their own; NaN values are left out of the statistics.
  q = Query();
  q.metrics = {"rmse"};
  g = store_->GroupRuns(q, "team");
  ASSERT_TRUE(g.ok()) << g.status().message();
  ASSERT_EQ(g->size(), 1u);  // "team" is a tag, not a param: every run lacks it
  EXPECT_FALSE((*g)[0].value.has_value());
  EXPECT_EQ((*g)[0].count, 25);
  ASSERT_EQ((*g)[0].metrics.size(), 1u);
  EXPECT_EQ((*g)[0].metrics[0].count, 24);
  EXPECT_DOUBLE_EQ((*g)[0].metrics[0].max, 0.23);
}

// forja server refreshes the planner's statistics (SQLite's ANALYZE) at start and hourly, but
// only once the store has 1,000 runs: the statistics of a nearly empty store would mislead the
// planner as it grows. Searches answer the same either way.
TEST_P(RunWindowStoreTest, PlannerStatisticsWaitForAThousandRunsAndChangeNoAnswer) {
  auto stats = [&] {
    if (GetParam() != "sqlite") return std::string("n/a");
    std::string path = store_->uri().substr(std::string("sqlite:///").size());
    return test_support::Sh("sqlite3 '" + path + "' \"SELECT count(*) FROM sqlite_master WHERE name='sqlite_stat1'\"");
  };
  auto before = store_->SearchRunWindow(Query("metrics.rmse < 0.1", {"metrics.rmse DESC"}));
  ASSERT_TRUE(before.ok()) << before.status().message();
  ASSERT_TRUE(store_->RefreshPlannerStats().ok());
  EXPECT_EQ(stats(), GetParam() == "sqlite" ? "0" : "n/a");
  for (int i = 0; i < 1000; i++) ASSERT_TRUE(store_->CreateRun(exp_, "tester", "bulk", 1, {}).ok());
  Status st = store_->RefreshPlannerStats();
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(stats(), GetParam() == "sqlite" ? "1" : "n/a");
  auto after = store_->SearchRunWindow(Query("metrics.rmse < 0.1", {"metrics.rmse DESC"}));
  ASSERT_TRUE(after.ok()) << after.status().message();
  EXPECT_EQ(after->total, before->total);
  EXPECT_EQ(Names(*after), Names(*before));
}

// SQLite walks the runs newest first for a metric comparison most runs pass (10,000 or more)
// and reads the metric's value index for one few pass: either way the same runs, in order.
TEST_P(RunWindowStoreTest, ABroadAndASelectiveMetricFilterFindTheNewestMatches) {
  constexpr int kRuns = 10100;  // b00000..b10099; score 0 where i % 201 == 0 (51 runs), else 1
  for (int i = 0; i < kRuns; i++) {
    char name[8];
    std::snprintf(name, sizeof name, "b%05d", i);
    auto r = store_->CreateRun(exp_, "tester", name, 5000 + i, {});
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_TRUE(store_->LogBatch(r->info.run_id, {M("score", i % 201 == 0 ? 0.0 : 1.0)}, {}, {}).ok());
  }
  RunWindowQuery broad = Query("metrics.score > 0.5");
  broad.limit = 3;
  auto w = store_->SearchRunWindow(broad);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->total, kRuns - 51);
  EXPECT_EQ(Names(*w), (std::vector<std::string>{"b10099", "b10098", "b10097"}));
  broad.offset = 49;  // past b10050, which fails the filter
  w = store_->SearchRunWindow(broad);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(Names(*w), (std::vector<std::string>{"b10049", "b10048", "b10047"}));

  RunWindowQuery selective = Query("metrics.score < 0.5");
  selective.limit = 3;
  w = store_->SearchRunWindow(selective);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->total, 51);
  EXPECT_EQ(Names(*w), (std::vector<std::string>{"b10050", "b09849", "b09648"}));

  RunQuery search = broad.search;
  search.page.max_results = 2;
  auto page = store_->SearchRuns(search);
  ASSERT_TRUE(page.ok()) << page.status().message();
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].info.run_name, "b10099");
  EXPECT_EQ(page->items[1].info.run_name, "b10098");
  EXPECT_FALSE(page->next_page_token.empty());
}

INSTANTIATE_TEST_SUITE_P(Stores, RunWindowStoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace forja::meta
