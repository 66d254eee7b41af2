// The input limits (core/limits.h), the UTF-8 validator (core/utf8.h) and the
// search grammar's use of them (meta/filter.h). The server-level behaviour (a 400
// naming the limit, a server that keeps answering) is tests/security/limits_test.py.
#include <gtest/gtest.h>

#include <string>

#include "forja/core/limits.h"
#include "forja/core/utf8.h"
#include "forja/meta/filter.h"

namespace forja {
namespace {

TEST(Utf8, AcceptsValidText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));  // é € 😀
  EXPECT_TRUE(IsValidUtf8("\xef\xbf\xbd"));                             // U+FFFD
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));                         // U+10FFFF
}

TEST(Utf8, RejectsWhatRfc3629Forbids) {
  EXPECT_EQ(FindInvalidUtf8("ab\xff"), 2u);
  EXPECT_EQ(FindInvalidUtf8("\xc0\xaf"), 0u);          // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("\xe0\x80\xaf"), 0u);      // overlong, 3 bytes
  EXPECT_EQ(FindInvalidUtf8("\xf0\x80\x80\xaf"), 0u);  // overlong, 4 bytes
  EXPECT_EQ(FindInvalidUtf8("\xed\xa0\x80"), 0u);      // a surrogate
  EXPECT_EQ(FindInvalidUtf8("\xf4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("x\xc3"), 1u);             // cut short
  EXPECT_EQ(FindInvalidUtf8("\xc3\x28"), 0u);          // a bad continuation
  EXPECT_EQ(FindInvalidUtf8("\x80"), 0u);              // a lone continuation
}

TEST(Utf8, ValidUtf8ReplacesAndCutsOnCharacters) {
  EXPECT_EQ(ValidUtf8("a\xff" "b"), "a\xef\xbf\xbd" "b");
  EXPECT_EQ(ValidUtf8("\xc3\xa9\xc3\xa9", 3), "\xc3\xa9...");  // never half a character
  EXPECT_EQ(ValidUtf8("abc", 3), "abc");
  EXPECT_TRUE(IsValidUtf8(ValidUtf8("\xed\xa0\x80\xc3", 100)));
}

TEST(Limits, JsonTextDepthAndUtf8) {
  EXPECT_TRUE(limits::CheckJsonText("{\"a\": [[1], {\"b\": \"[[[[\"}]}", "body").ok());
  std::string deep(limits::kMaxJsonDepth, '['), over(limits::kMaxJsonDepth + 1, '[');
  EXPECT_TRUE(limits::CheckJsonText(deep, "body").ok());  // depth alone, the parser judges the rest
  Status st = limits::CheckJsonText(std::string(100000, '[') + std::string(100000, ']'), "the body");
  EXPECT_EQ(st.code(), Code::kUser);
  EXPECT_NE(st.message().find("at most 64 levels are allowed"), std::string::npos) << st.message();
  EXPECT_FALSE(limits::CheckJsonText(over, "body").ok());
  // Brackets inside strings, and escaped quotes, do not count.
  EXPECT_TRUE(limits::CheckJsonText("[\"\\\"" + over + "\"]", "body").ok());
  st = limits::CheckJsonText("{\"a\": \"\xff\"}", "the body");
  EXPECT_EQ(st.message(), "the body is not valid UTF-8 (byte 8)");
}

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
