// Many metric histories in one read (the web UI's charts), on SQLite and PostgreSQL: a series
// per run and key asked, in that order; points ordered by step, then time, then value, a point
// logged twice kept once; every key the runs logged when none is named; a budget of points
// that cuts the series past it and says so; the same answer as the default, which asks
// metrics/get-history's GetMetricHistory per series (a forja server store's way).
#include <gtest/gtest.h>

#include <cmath>

#include "forja/meta/sql.h"
#include "forja/meta/store.h"
#include "fresh_store.h"

namespace forja::meta {
namespace {

Metric M(const std::string& key, double value, int64_t timestamp, int64_t step) {
  Metric m;
  m.key = key, m.value = value, m.timestamp = timestamp, m.step = step;
  return m;
}

using Points = std::vector<std::tuple<int64_t, int64_t, double>>;  // step, time, value

Points PointsOf(const MetricSeries& s) {
  Points out;
  for (size_t i = 0; i < s.steps.size(); i++) out.emplace_back(s.steps[i], s.timestamps[i], s.values[i]);
  return out;
}

class MetricHistoriesStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    uri_ = test_support::FreshUri(GetParam(), "histories");
    if (uri_.empty()) GTEST_SKIP() << "no PostgreSQL (FORJA_TEST_PG_STATE unset)";
    auto s = OpenSqlStore(uri_);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
    auto exp = store_->CreateExperiment("histories", "", {});
    ASSERT_TRUE(exp.ok()) << exp.status().message();
    for (const char* name : {"a", "b"}) {
      auto r = store_->CreateRun(*exp, "tester", name, 1000, {});
      ASSERT_TRUE(r.ok()) << r.status().message();
      runs_.push_back(r->info.run_id);
    }
    // a's loss out of order: step 1 twice (times 20 and 10), step 0 last; then step 2 logged
    // again by a retried batch. b: acc only.
    ASSERT_TRUE(store_->LogBatch(runs_[0], {M("loss", 0.5, 20, 1), M("loss", 0.7, 10, 1), M("loss", 0.9, 5, 0)}, {}, {}).ok());
    ASSERT_TRUE(store_->LogBatch(runs_[0], {M("loss", 0.3, 30, 2)}, {}, {}).ok());
    ASSERT_TRUE(store_->LogBatch(runs_[0], {M("loss", 0.3, 30, 2)}, {}, {}).ok());
    ASSERT_TRUE(store_->LogBatch(runs_[1], {M("acc", 0.1, 1, 0), M("acc", 0.2, 2, 1), M("acc", 0.4, 3, 2)}, {}, {}).ok());
  }
  std::string uri_;
  std::unique_ptr<MetaStore> store_;
  std::vector<std::string> runs_;
};

TEST_P(MetricHistoriesStoreTest, OrderedAndOnce) {
  auto h = store_->GetMetricHistories({runs_, {"loss", "acc"}});
  ASSERT_TRUE(h.ok()) << h.status().message();
  ASSERT_EQ(h->series.size(), 4u);
  EXPECT_EQ(h->series[0].run_id, runs_[0]);
  EXPECT_EQ(h->series[0].key, "loss");
  EXPECT_EQ(PointsOf(h->series[0]), (Points{{0, 5, 0.9}, {1, 10, 0.7}, {1, 20, 0.5}, {2, 30, 0.3}}));
  EXPECT_TRUE(h->series[1].steps.empty()) << "a never logged acc";
  EXPECT_EQ(h->series[2].key, "loss");
  EXPECT_TRUE(h->series[2].steps.empty());
  EXPECT_EQ(PointsOf(h->series[3]), (Points{{0, 1, 0.1}, {1, 2, 0.2}, {2, 3, 0.4}}));
  EXPECT_FALSE(h->truncated);
}

TEST_P(MetricHistoriesStoreTest, EveryKeyWhenNoneNamed) {
  auto h = store_->GetMetricHistories({runs_, {}});
  ASSERT_TRUE(h.ok()) << h.status().message();
  std::vector<std::pair<std::string, std::string>> got;
  for (const MetricSeries& s : h->series) got.emplace_back(s.run_id, s.key);
  EXPECT_EQ(got, (std::vector<std::pair<std::string, std::string>>{
                     {runs_[0], "acc"}, {runs_[0], "loss"}, {runs_[1], "acc"}, {runs_[1], "loss"}}));
  HistoriesQuery one_key{runs_, {}, 1};
  auto refused = store_->GetMetricHistories(one_key);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("2 metric keys"), std::string::npos) << refused.status().message();
}

TEST_P(MetricHistoriesStoreTest, BudgetCutsAndSays) {
  HistoriesQuery q{{runs_[1], runs_[0]}, {"acc", "loss"}, 100, 5};
  auto h = store_->GetMetricHistories(q);
  ASSERT_TRUE(h.ok()) << h.status().message();
  ASSERT_EQ(h->series.size(), 4u);
  EXPECT_EQ(h->series[0].steps.size(), 3u) << "b's acc, whole";
  EXPECT_EQ(h->series[1].steps.size(), 0u) << "b has no loss";
  EXPECT_EQ(h->series[2].steps.size(), 0u) << "a has no acc";
  EXPECT_EQ(PointsOf(h->series[3]), (Points{{0, 5, 0.9}, {1, 10, 0.7}})) << "a's loss, cut at the budget";
  EXPECT_TRUE(h->truncated);
  q.max_points = 7;
  auto whole = store_->GetMetricHistories(q);
  ASSERT_TRUE(whole.ok());
  EXPECT_FALSE(whole->truncated) << "exactly the budget is not cut";
}

TEST_P(MetricHistoriesStoreTest, UnknownRun) {
  auto h = store_->GetMetricHistories({{runs_[0], std::string(32, '0')}, {"loss"}});
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), Code::kNotFound);
}

TEST_P(MetricHistoriesStoreTest, SameAsOneHistoryAtATime) {
  for (const std::vector<std::string>& keys : {std::vector<std::string>{}, std::vector<std::string>{"loss", "acc"}}) {
    auto sql = store_->GetMetricHistories({runs_, keys});
    auto each = store_->MetaStore::GetMetricHistories({runs_, keys});
    ASSERT_TRUE(sql.ok() && each.ok());
    ASSERT_EQ(sql->series.size(), each->series.size());
    for (size_t i = 0; i < sql->series.size(); i++) {
      EXPECT_EQ(sql->series[i].key, each->series[i].key);
      EXPECT_EQ(PointsOf(sql->series[i]), PointsOf(each->series[i]));
    }
  }
}

// The rows are read in place (SqlConn::QueryEach on SQLite): NaN, infinities, a whole number,
// the smallest normal double and steps and times past 32 bits come back as logged, as the
// default's metrics/get-history reads them.
TEST_P(MetricHistoriesStoreTest, EveryValueAsLogged) {
  auto exp = store_->CreateExperiment("values", "", {});
  ASSERT_TRUE(exp.ok());
  auto r = store_->CreateRun(*exp, "tester", "c", 1000, {});
  ASSERT_TRUE(r.ok());
  const std::string run = r->info.run_id;
  const int64_t big = int64_t{1} << 40;
  std::vector<Metric> logged = {M("v", std::nan(""), 1, 0), M("v", INFINITY, 2, 1), M("v", -INFINITY, 3, 2),
                                M("v", 3.0, 4, 3), M("v", 2.2250738585072014e-308, 5, 4), M("v", -0.125, big, big)};
  ASSERT_TRUE(store_->LogBatch(run, logged, {}, {}).ok());
  auto h = store_->GetMetricHistories({{run}, {"v"}});
  ASSERT_TRUE(h.ok()) << h.status().message();
  ASSERT_EQ(h->series.size(), 1u);
  const MetricSeries& s = h->series[0];
  ASSERT_EQ(s.values.size(), logged.size());
  EXPECT_TRUE(std::isnan(s.values[0]));
  EXPECT_EQ(s.values[1], INFINITY);
  EXPECT_EQ(s.values[2], -INFINITY);
  EXPECT_EQ(s.values[3], 3.0);
  EXPECT_EQ(s.values[4], 2.2250738585072014e-308);
  EXPECT_EQ(s.values[5], -0.125);
  EXPECT_EQ(s.steps[5], big);
  EXPECT_EQ(s.timestamps[5], big);
  auto each = store_->MetaStore::GetMetricHistories({{run}, {"v"}});
  ASSERT_TRUE(each.ok());
  ASSERT_EQ(each->series.size(), 1u);
  EXPECT_EQ(each->series[0].steps, s.steps);
  EXPECT_EQ(each->series[0].timestamps, s.timestamps);
  for (size_t i = 1; i < s.values.size(); i++) EXPECT_EQ(each->series[0].values[i], s.values[i]) << i;
}

// Migration 8 on a store that had 7 (metrics_series, no metrics_points): the same histories,
// and (SQLite) read from the new index alone.
TEST_P(MetricHistoriesStoreTest, MigratesFromVersion7) {
  auto before = store_->GetMetricHistories({runs_, {"loss", "acc"}});
  ASSERT_TRUE(before.ok());
  store_.reset();
  auto conn = [&] {
    return GetParam() == "sqlite" ? OpenSqlite(uri_.substr(std::string("sqlite:///").size()), {}) : OpenPostgres(uri_);
  };
  {
    auto c = conn();
    ASSERT_TRUE(c.ok()) << c.status().message();
    ASSERT_TRUE((*c)->Exec("DROP INDEX metrics_points; CREATE INDEX metrics_series ON metrics(run_uuid, key, step); "
                           "UPDATE forja_schema SET version = 7").ok());
  }
  auto s = OpenSqlStore(uri_);
  ASSERT_TRUE(s.ok()) << s.status().message();
  store_ = std::move(*s);
  auto after = store_->GetMetricHistories({runs_, {"loss", "acc"}});
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->series.size(), before->series.size());
  for (size_t i = 0; i < after->series.size(); i++) EXPECT_EQ(PointsOf(after->series[i]), PointsOf(before->series[i]));
  if (GetParam() != "sqlite") return;
  auto c = conn();
  ASSERT_TRUE(c.ok());
  auto plan = (*c)->Query("EXPLAIN QUERY PLAN SELECT step, timestamp, value, is_nan FROM metrics "
                          "WHERE run_uuid = ? AND key = ? ORDER BY step LIMIT ?", {runs_[0], "loss", 10});
  ASSERT_TRUE(plan.ok());
  ASSERT_FALSE(plan->empty());
  EXPECT_EQ((*plan)[0].back().Text(), "SEARCH metrics USING COVERING INDEX metrics_points (run_uuid=? AND key=?)");
}

INSTANTIATE_TEST_SUITE_P(Stores, MetricHistoriesStoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace forja::meta
