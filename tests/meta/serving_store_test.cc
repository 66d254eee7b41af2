// What forja serve instances report (PutServingReport, ListServingReports) on SQLite and on
// PostgreSQL: migration 6 applied to a store at version 5, one row per instance replaced by
// its next report, old instances gone from the list and the table, bad ids and sizes refused.
#include <gtest/gtest.h>

#include "forja/meta/sql.h"
#include "forja/meta/store.h"
#include "fresh_store.h"

namespace forja::meta {
namespace {

class ServingStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    uri_ = test_support::FreshUri(GetParam(), "serving");
    if (uri_.empty()) GTEST_SKIP() << "no PostgreSQL (FORJA_TEST_PG_STATE unset)";
    Reopen();
  }
  void Reopen() {
    store_.reset();
    auto s = OpenSqlStore(uri_);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
  }
  Result<std::unique_ptr<SqlConn>> Conn() {
    return GetParam() == "sqlite" ? OpenSqlite(uri_.substr(std::string("sqlite:///").size()), {}) : OpenPostgres(uri_);
  }
  std::vector<std::string> Instances() {
    auto list = store_->ListServingReports();
    EXPECT_TRUE(list.ok()) << list.status().message();
    std::vector<std::string> out;
    if (list.ok())
      for (const auto& r : *list) out.push_back(r.instance + "=" + r.report);
    return out;
  }
  std::string uri_;
  std::unique_ptr<MetaStore> store_;
};

TEST_P(ServingStoreTest, MigratesFromVersion5AndKeepsOneReportPerInstance) {
  store_.reset();
  {
    auto c = Conn();
    ASSERT_TRUE(c.ok()) << c.status().message();
    ASSERT_TRUE((*c)->Exec("DROP TABLE serving_reports; UPDATE forja_schema SET version = 5").ok());
  }
  Reopen();  // migration 6 again, on a store that had 5
  EXPECT_EQ(Instances(), std::vector<std::string>{});
  ASSERT_TRUE(store_->PutServingReport({"web-1:8080", 0, R"({"models":[]})"}).ok());
  ASSERT_TRUE(store_->PutServingReport({"web-2:8080", 0, R"({"n":1})"}).ok());
  ASSERT_TRUE(store_->PutServingReport({"web-1:8080", 0, R"({"n":2})"}).ok());
  auto list = store_->ListServingReports();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].instance, "web-1:8080");  // newest first (or by id at the same ms)
  EXPECT_EQ((*list)[0].report, R"({"n":2})");
  EXPECT_GT((*list)[0].received, NowMs() - 60000);
  EXPECT_EQ((*list)[1].report, R"({"n":1})");
}

TEST_P(ServingStoreTest, ExpiredInstancesLeaveTheListAndTheTable) {
  Status put = store_->PutServingReport({"old:1", 0, "{}"});
  ASSERT_TRUE(put.ok()) << put.message();
  {
    auto c = Conn();
    ASSERT_TRUE(c.ok()) << c.status().message();
    int64_t long_ago = NowMs() - kServingReportExpireMs - 1000;
    ASSERT_TRUE((*c)->Exec("UPDATE serving_reports SET received = " + std::to_string(long_ago)).ok());
  }
  EXPECT_EQ(Instances(), std::vector<std::string>{});  // listed no more
  ASSERT_TRUE(store_->PutServingReport({"new:1", 0, "{}"}).ok());
  auto c = Conn();
  ASSERT_TRUE(c.ok());
  auto rows = (*c)->Query("SELECT instance FROM serving_reports", {});
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 1u);  // and deleted by the next report
  EXPECT_EQ((*rows)[0][0].Text(), "new:1");
}

TEST_P(ServingStoreTest, RefusesBadIdsAndSizes) {
  for (std::string bad : {std::string(""), std::string("a b"), std::string("x\n"), std::string(201, 'a'),
                          std::string("caf\xc3\xa9")}) {
    Status st = store_->PutServingReport({bad, 0, "{}"});
    EXPECT_EQ(st.code(), Code::kUser) << bad;
    EXPECT_NE(st.message().find("instance id"), std::string::npos) << st.message();
  }
  EXPECT_EQ(store_->PutServingReport({"a:1", 0, ""}).code(), Code::kUser);
  Status big = store_->PutServingReport({"a:1", 0, std::string(kMaxServingReportBytes + 1, ' ')});
  EXPECT_EQ(big.code(), Code::kUser);
  EXPECT_NE(big.message().find("bytes"), std::string::npos) << big.message();
  EXPECT_TRUE(store_->PutServingReport({std::string(200, 'a'), 0, std::string(kMaxServingReportBytes, ' ')}).ok());
  EXPECT_EQ(Instances().size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Stores, ServingStoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace forja::meta
