// Progressive rollouts in the store (BeginRollout, UpdateRollout, GetRollout) on
// SQLite and on PostgreSQL: one running rollout per model, even against a racing
// starter; steps only while running; every step in the model's history.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "forja/meta/sql.h"
#include "forja/meta/store.h"
#include "fresh_store.h"

namespace forja::meta {
namespace {

class RolloutStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    uri_ = test_support::FreshUri(GetParam(), "rollout");
    if (uri_.empty()) GTEST_SKIP() << "no PostgreSQL (FORJA_TEST_PG_STATE unset)";
    auto s = OpenSqlStore(uri_);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
    ASSERT_TRUE(store_->CreateRegisteredModel("churn", "", {}).ok());
    ModelVersion mv;
    mv.name = "churn", mv.source = "x";
    for (int i = 0; i < 3; i++) ASSERT_TRUE(store_->CreateModelVersion(mv).ok());
    ASSERT_TRUE(store_->Promote({"churn", 1, "Production", false, "alice", "", false}, {}).ok());
  }
  Rollout Plan(int64_t to, const std::string& target = "production") {
    Rollout r;
    r.name = "churn", r.target = target, r.to_version = to, r.weight = 5, r.steps = "5,50,100", r.user = "ci";
    return r;
  }
  std::string uri_;
  std::unique_ptr<MetaStore> store_;
};

TEST_P(RolloutStoreTest, BeginStepEndAndHistory) {
  EXPECT_EQ(store_->GetRollout("churn").status().code(), Code::kNotFound);
  auto r = store_->BeginRollout(Plan(2));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_GT(r->id, 0);
  EXPECT_EQ(r->target, "Production");  // the canonical stage, what forja serve compares with
  EXPECT_EQ(r->from_version, 1);       // who held it when the rollout began
  EXPECT_EQ(r->state, "running");
  EXPECT_GT(r->started, 0);

  Rollout step = *r;
  step.weight = 50;
  step.message = "error rate 0.1% <= 1%";
  auto s = store_->UpdateRollout(step);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->weight, 50);
  EXPECT_GE(s->updated, r->updated);
  auto got = store_->GetRollout("churn");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->weight, 50);
  EXPECT_EQ(got->state, "running");
  EXPECT_EQ(got->message, "error rate 0.1% <= 1%");
  // The same record again (a controller's heartbeat in a long step) moves `updated` only.
  auto beat = store_->UpdateRollout(step);
  ASSERT_TRUE(beat.ok()) << beat.status().message();
  EXPECT_GE(beat->updated, s->updated);

  step.weight = 0, step.state = "rolled_back", step.message = "error rate 30% > 1%";
  ASSERT_TRUE(store_->UpdateRollout(step).ok());
  // Ended: no more steps, and GetRollout still says how it ended.
  step.weight = 100, step.state = "running";
  auto late = store_->UpdateRollout(step);
  EXPECT_EQ(late.status().code(), Code::kConflict);
  EXPECT_NE(late.status().message().find("rolled_back"), std::string::npos) << late.status().message();
  EXPECT_EQ(store_->GetRollout("churn")->state, "rolled_back");

  // A new one may start now, to an alias; GetRollout is the newest.
  auto again = store_->BeginRollout(Plan(3, "@champion"));
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_GT(again->id, r->id);
  EXPECT_EQ(again->from_version, 0);  // nobody held @champion
  EXPECT_EQ(store_->GetRollout("churn")->id, again->id);

  auto hist = store_->History("churn", 0);
  ASSERT_TRUE(hist.ok());
  std::vector<std::string> steps;
  for (auto& t : *hist)
    if (t.kind == "rollout") steps.push_back(std::to_string(t.version) + ":" + t.from + ">" + t.to + ":" + t.comment);
  EXPECT_EQ(steps, (std::vector<std::string>{"2:>5%:", "2:5%>50%:error rate 0.1% <= 1%",
                                             "2:50%>rolled_back:error rate 30% > 1%", "3:>5%:"}));
}

TEST_P(RolloutStoreTest, BadInputIsRefusedWithAClearMessage) {
  Rollout r = Plan(2);
  r.name = "nope";
  EXPECT_EQ(store_->BeginRollout(r).status().code(), Code::kNotFound);
  r = Plan(9);
  EXPECT_EQ(store_->BeginRollout(r).status().code(), Code::kNotFound);
  r = Plan(2, "Archived");
  auto bad = store_->BeginRollout(r);
  EXPECT_EQ(bad.status().code(), Code::kUser);
  EXPECT_NE(bad.status().message().find("Production, Staging or an @alias"), std::string::npos);
  EXPECT_EQ(store_->BeginRollout(Plan(2, "@latest")).status().code(), Code::kUser);
  r = Plan(2);
  r.weight = 101;
  EXPECT_EQ(store_->BeginRollout(r).status().code(), Code::kUser);
  EXPECT_EQ(store_->GetRollout("churn").status().code(), Code::kNotFound);  // nothing was written

  auto ok = store_->BeginRollout(Plan(2));
  ASSERT_TRUE(ok.ok());
  Rollout u = *ok;
  u.state = "paused";
  EXPECT_EQ(store_->UpdateRollout(u).status().code(), Code::kUser);
  u = *ok;
  u.id = 999;
  EXPECT_EQ(store_->UpdateRollout(u).status().code(), Code::kNotFound);
  u = *ok;
  u.name = "other";
  EXPECT_EQ(store_->UpdateRollout(u).status().code(), Code::kUser);
  EXPECT_EQ(store_->GetRollout("churn")->weight, 5);
}

TEST_P(RolloutStoreTest, TwoStartersAtOnceExactlyOneWins) {
  // Each round: two clients of their own (as two processes would be) start a rollout
  // of the same model at the same moment; one wins, the other gets Conflict.
  for (int round = 0; round < 5; round++) {
    std::atomic<int> won{0}, conflicted{0}, other{0};
    std::atomic<int> ready{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 2; t++)
      ts.emplace_back([&, t] {
        auto s = OpenSqlStore(uri_);
        if (!s.ok()) return void(other++);
        ready++;
        while (ready.load() < 2) std::this_thread::yield();
        auto r = (*s)->BeginRollout(Plan(2 + t));
        if (r.ok()) won++;
        else if (r.status().code() == Code::kConflict) conflicted++;
        else ADD_FAILURE() << r.status().message(), other++;
      });
    for (auto& t : ts) t.join();
    ASSERT_EQ(won.load(), 1);
    ASSERT_EQ(conflicted.load(), 1);
    auto cur = store_->GetRollout("churn");
    ASSERT_TRUE(cur.ok());
    cur->state = "aborted", cur->weight = 0;
    ASSERT_TRUE(store_->UpdateRollout(*cur).ok());
  }
  auto hist = store_->History("churn", 0);
  ASSERT_TRUE(hist.ok());
  int begins = 0;
  for (auto& t : *hist) begins += t.kind == "rollout" && t.from.empty();
  EXPECT_EQ(begins, 5);  // the losers left no history
}

TEST_P(RolloutStoreTest, RenameCarriesAndDeleteDropsTheRollouts) {
  ASSERT_TRUE(store_->BeginRollout(Plan(2)).ok());
  ASSERT_TRUE(store_->RenameRegisteredModel("churn", "churn2").ok());
  auto moved = store_->GetRollout("churn2");
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->name, "churn2");
  EXPECT_EQ(store_->GetRollout("churn").status().code(), Code::kNotFound);
  ASSERT_TRUE(store_->DeleteRegisteredModel("churn2", "u").ok());
  EXPECT_EQ(store_->GetRollout("churn2").status().code(), Code::kNotFound);
}

// A store of version 4 (before rollouts and serving reports) is migrated on open: its model stays, and
// rollouts of it work.
TEST_P(RolloutStoreTest, AStoreOfVersionFourIsMigrated) {
  store_.reset();
  {
    auto c = GetParam() == "sqlite" ? OpenSqlite(uri_.substr(std::string("sqlite:///").size()), {}) : OpenPostgres(uri_);
    ASSERT_TRUE(c.ok()) << c.status().message();
    ASSERT_TRUE((*c)->Exec("DROP TABLE rollouts; DROP TABLE serving_reports; UPDATE forja_schema SET version = 4").ok());
  }
  auto s = OpenSqlStore(uri_);
  ASSERT_TRUE(s.ok()) << s.status().message();
  store_ = std::move(*s);
  EXPECT_EQ(store_->GetRollout("churn").status().code(), Code::kNotFound);
  auto r = store_->BeginRollout(Plan(2));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->from_version, 1);
}

INSTANTIATE_TEST_SUITE_P(Stores, RolloutStoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace forja::meta
