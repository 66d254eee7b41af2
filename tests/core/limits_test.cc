// The input limits (core/limits.h) and the UTF-8 validator (core/utf8.h); the search
// grammar's use of them is tests/meta/limits_test.cc. The server-level behaviour (a 400
// naming the limit, a server that keeps answering) is tests/security/limits_test.py.
#include <gtest/gtest.h>

#include <string>

#include "forja/core/limits.h"
#include "forja/core/utf8.h"

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

}  // namespace
}  // namespace forja
