// The rollout's loop against a real SQLite store and a scripted metrics source: a good
// candidate completes and is promoted once; a failing check, a refused candidate, a
// failing gate, a step no server applies, disappearing servers, a signal and an abort
// from another process each end it at weight 0 with the reason, recorded in history.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "forja/rollout/controller.h"

namespace forja::rollout {
namespace {

// Two servers that apply whatever weight the store holds (unless `apply` is off) and
// count `per_read` candidate requests a read, `errors_per_read` of them 5xx.
class FakeSource : public MetricsSource {
 public:
  FakeSource(meta::MetaStore& store, std::string name) : store_(store), name_(std::move(name)) {}

  Result<std::vector<ServerView>> Read() override {
    reads++;
    if (on_read) on_read(reads);
    if (fail_from && reads >= fail_from) return Status::Unavailable("server http://b did not answer (Connection refused)");
    auto r = store_.GetRollout(name_);
    std::vector<ServerView> out;
    for (const char* s : {"http://a", "http://b"}) {
      ServerView v;
      v.server = s;
      VersionCounters& c = counters_[s];
      if (r.ok() && r->state == "running" && r->weight > 0) {
        c.requests += per_read, c.errors += errors_per_read;
        c.buckets[0.01] += per_read, c.buckets[HUGE_VAL] += per_read;
      }
      v.candidate = c;
      if (apply && r.ok() && r->state == "running" && r->weight > 0) v.gauge.weight = r->weight;
      v.gauge.refused = refused;
      out.push_back(v);
    }
    return out;
  }

  int reads = 0, fail_from = 0;
  double per_read = 10, errors_per_read = 0;
  bool apply = true, refused = false;
  std::function<void(int)> on_read;

 private:
  meta::MetaStore& store_;
  std::string name_;
  std::map<std::string, VersionCounters> counters_;
};

class ControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("forja-rollout-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto s = meta::OpenSqlStore("sqlite:///" + (dir_ / "forja.db").string());
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
    ASSERT_TRUE(store_->CreateRegisteredModel("churn", "", {}).ok());
    for (int i = 0; i < 2; i++) {
      meta::ModelVersion v;
      v.name = "churn";
      v.source = "forja-packages/x";
      ASSERT_TRUE(store_->CreateModelVersion(v).ok());
    }
    opts_.name = "churn";
    opts_.target = "Production";
    opts_.to_version = 2;
    opts_.steps = {10, 50, 100};
    opts_.interval_ms = 1;
    opts_.apply_timeout_ms = 2000;
    opts_.thresholds.max_error_rate = 0.05;
    hooks_.promote = [this] {
      promotions_++;
      return promote_result_;
    };
    hooks_.sleep_ms = [](int64_t) { ::usleep(1000); };
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  meta::Rollout Begin() {
    meta::Rollout r;
    r.name = "churn", r.target = "Production", r.to_version = 2, r.steps = "10,50,100", r.user = "test";
    auto b = store_->BeginRollout(r);
    EXPECT_TRUE(b.ok()) << b.status().message();
    return b.ok() ? *b : r;
  }

  std::vector<std::string> History() {
    std::vector<std::string> out;
    auto h = store_->History("churn", 2);
    if (h.ok())
      for (const auto& t : *h)
        if (t.kind == "rollout") out.push_back(t.from + "->" + t.to);
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<meta::MetaStore> store_;
  Options opts_;
  Hooks hooks_;
  int promotions_ = 0;
  Status promote_result_ = Status::Ok();
};

TEST_F(ControllerTest, AGoodCandidateCompletesAndIsPromotedOnce) {
  FakeSource src(*store_, "churn");
  meta::Rollout end = forja::rollout::Run(*store_, opts_, Begin(), src, hooks_);
  EXPECT_EQ(end.state, "completed") << end.message;
  EXPECT_EQ(end.weight, 100);
  EXPECT_EQ(promotions_, 1);
  EXPECT_NE(end.message.find("version 2 is now in Production; step 100% passed: "), std::string::npos) << end.message;
  EXPECT_EQ(store_->GetRollout("churn")->state, "completed");
  EXPECT_EQ(History(), (std::vector<std::string>{"->0%", "0%->10%", "10%->50%", "50%->100%", "100%->completed"}));
}

TEST_F(ControllerTest, AFailingCheckRollsBackAtTheFirstStep) {
  FakeSource src(*store_, "churn");
  src.errors_per_read = 3;  // 30% of the candidate's requests fail
  meta::Rollout end = forja::rollout::Run(*store_, opts_, Begin(), src, hooks_);
  EXPECT_EQ(end.state, "rolled_back");
  EXPECT_EQ(end.weight, 0);
  EXPECT_EQ(promotions_, 0);
  EXPECT_NE(end.message.find("step 10% failed max-error-rate: error rate 30.00% ("), std::string::npos) << end.message;
  EXPECT_NE(end.message.find("> max 5.00%; route restored"), std::string::npos) << end.message;
  EXPECT_EQ(History().back(), "10%->rolled_back");
}

TEST_F(ControllerTest, NoTrafficIsNotAPass) {
  FakeSource src(*store_, "churn");
  src.per_read = 0;
  meta::Rollout end = forja::rollout::Run(*store_, opts_, Begin(), src, hooks_);
  EXPECT_EQ(end.state, "rolled_back");
  EXPECT_NE(end.message.find("failed min-requests: the candidate answered 0 requests"), std::string::npos) << end.message;
}

TEST_F(ControllerTest, AFailingGateRollsBackAndDoesNotComplete) {
  FakeSource src(*store_, "churn");
  promote_result_ = Status::Refused("version 2 of 'churn' cannot move to Production: gate failed: metrics.auc >= 0.99 (0.8 >= 0.99)");
  meta::Rollout end = forja::rollout::Run(*store_, opts_, Begin(), src, hooks_);
  EXPECT_EQ(end.state, "rolled_back");
  EXPECT_EQ(end.weight, 0);
  EXPECT_NE(end.message.find("the promotion to Production failed, version 2 was not promoted: version 2 of 'churn' "
                             "cannot move to Production: gate failed"),
            std::string::npos)
      << end.message;
}

TEST_F(ControllerTest, ARefusedCandidateRollsBackAtOnce) {
  FakeSource src(*store_, "churn");
  src.refused = true;
  meta::Rollout end = forja::rollout::Run(*store_, opts_, Begin(), src, hooks_);
  EXPECT_EQ(end.state, "rolled_back");
  EXPECT_NE(end.message.find("server http://a refused version 2 (it failed to load"), std::string::npos) << end.message;
}

TEST_F(ControllerTest, AStepNoServerAppliesRollsBackAfterTheTimeout) {
  FakeSource src(*store_, "churn");
  src.apply = false;
  opts_.apply_timeout_ms = 20;
  meta::Rollout end = forja::rollout::Run(*store_, opts_, Begin(), src, hooks_);
  EXPECT_EQ(end.state, "rolled_back");
  EXPECT_NE(end.message.find("did not apply step 10% within 0.02s (its forja_serve_rollout_weight is absent; does it "
                             "follow churn@Production from this store?)"),
            std::string::npos)
      << end.message;
}

TEST_F(ControllerTest, DisappearingServersAbort) {
  FakeSource src(*store_, "churn");
  src.fail_from = 3;
  meta::Rollout end = forja::rollout::Run(*store_, opts_, Begin(), src, hooks_);
  EXPECT_EQ(end.state, "aborted");
  EXPECT_EQ(end.weight, 0);
  EXPECT_EQ(end.message, "server http://b did not answer (Connection refused); route restored");
  EXPECT_EQ(store_->GetRollout("churn")->weight, 0);
}

TEST_F(ControllerTest, ASignalAborts) {
  FakeSource src(*store_, "churn");
  hooks_.stop = [&src]() -> std::string { return src.reads >= 2 ? "SIGTERM" : ""; };
  meta::Rollout end = forja::rollout::Run(*store_, opts_, Begin(), src, hooks_);
  EXPECT_EQ(end.state, "aborted");
  EXPECT_EQ(end.message, "interrupted (SIGTERM); route restored");
}

TEST_F(ControllerTest, AnAbortFromAnotherProcessEndsIt) {
  FakeSource src(*store_, "churn");
  opts_.interval_ms = 3000;  // long enough to be watching when the abort comes
  src.on_read = [&](int n) {
    if (n != 3) return;
    auto r = store_->GetRollout("churn");
    r->state = "aborted", r->weight = 0, r->message = "aborted by ops (forja rollout abort) at 10%; route restored";
    ASSERT_TRUE(store_->UpdateRollout(*r).ok());
  };
  meta::Rollout end = forja::rollout::Run(*store_, opts_, Begin(), src, hooks_);
  EXPECT_EQ(end.state, "aborted");
  EXPECT_EQ(end.message, "aborted by ops (forja rollout abort) at 10%; route restored");
  EXPECT_EQ(promotions_, 0);
}

}  // namespace
}  // namespace forja::rollout
