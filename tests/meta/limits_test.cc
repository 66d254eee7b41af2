// The search grammar's input limits (meta/filter.h on core/limits.h): clauses, IN
// values, filter size, order_by keys, integers that never wrap, and errors that quote
// valid UTF-8. The limits themselves are tests/core/limits_test.cc; the server-level
// behaviour is tests/security/limits_test.py.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "forja/core/limits.h"
#include "forja/core/utf8.h"
#include "forja/meta/filter.h"

namespace forja {
namespace {

TEST(Limits, FilterClausesValuesAndSize) {
  std::string f;
  for (size_t i = 0; i < limits::kMaxFilterClauses; i++) f += (i ? " AND " : "") + ("metrics.m" + std::to_string(i) + " > 1");
  EXPECT_TRUE(meta::ParseFilter(f).ok());
  auto r = meta::ParseFilter(f + " AND params.p = 'x'");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("the filter has 51 clauses; at most 50 are allowed"), std::string::npos)
      << r.status().message();

  std::string in = "params.p IN (";
  for (size_t i = 0; i <= limits::kMaxFilterValues; i++) in += (i ? ",'" : "'") + std::to_string(i) + "'";
  r = meta::ParseFilter(in + ")");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("the filter has 1001 values in IN lists; at most 1000 are allowed"),
            std::string::npos)
      << r.status().message();

  r = meta::ParseFilter("params.p = '" + std::string(limits::kMaxFilterBytes, 'x') + "'");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("at most 65536 are allowed"), std::string::npos) << r.status().message();

  r = meta::ParseFilter(std::string(100000, '(') + "metrics.a > 1" + std::string(100000, ')'));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUser);
}

TEST(Limits, OrderByCount) {
  EXPECT_TRUE(meta::CheckOrderByCount(limits::kMaxOrderByKeys).ok());
  Status st = meta::CheckOrderByCount(150);
  EXPECT_EQ(st.message(), "order_by has 150 keys; at most 10 are allowed");
}

TEST(Limits, IntegerValueNeverWraps) {
  auto value = [](const std::string& filter) {
    auto f = meta::ParseFilter(filter);
    EXPECT_TRUE(f.ok()) << filter;
    return meta::IntegerValue(f->clauses.at(0));
  };
  EXPECT_EQ(*value("attributes.start_time > 9223372036854775807"), INT64_MAX);
  EXPECT_EQ(*value("attributes.start_time > -9223372036854775808"), INT64_MIN);
  EXPECT_EQ(*value("attributes.start_time > +12"), 12);
  EXPECT_EQ(*value("attributes.start_time > 1e3"), 1000);
  for (const char* bad : {"attributes.start_time > 9223372036854775808", "attributes.start_time > -9223372036854775809",
                          "attributes.start_time > 1e19", "attributes.start_time > 99999999999999999999999"}) {
    auto v = value(bad);
    ASSERT_FALSE(v.ok()) << bad;
    EXPECT_NE(v.status().message().find("out of range for attributes.start_time"), std::string::npos)
        << v.status().message();
  }
  auto frac = value("attributes.start_time < 1.5");
  ASSERT_FALSE(frac.ok());
  EXPECT_NE(frac.status().message().find("whole number"), std::string::npos);
}

TEST(Limits, FilterErrorsQuoteValidUtf8) {
  // 39 ASCII bytes, then a 2-byte character across the 40-byte cut, then an invalid byte.
  auto r = meta::ParseFilter(std::string(39, 'x') + "\xc3\xa9\xff");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(IsValidUtf8(r.status().message())) << r.status().message();
}

}  // namespace
}  // namespace forja
