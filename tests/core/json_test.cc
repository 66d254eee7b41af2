#include "forja/core/json.h"

#include <gtest/gtest.h>

#include <cmath>

namespace forja {
namespace {

TEST(JsonTest, ParsesNestedValues) {
  JsonDoc d;
  std::string text = R"( {"a": [1, -2.5e3, true, false, null], "b": {"c": "x\"y\u00e9\ud83d\ude00"}, "e": []} )";
  ASSERT_TRUE(d.Parse(text).ok());
  const JsonNode* a = d.Find(d.root(), "a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->kind, JsonNode::kArray);
  EXPECT_EQ(a->count, 5u);
  const JsonNode* x = d.First(*a);
  int64_t i = 0;
  ASSERT_TRUE(JsonInt(*x, &i));
  EXPECT_EQ(i, 1);
  x = d.Next(*x);
  double v = 0;
  ASSERT_TRUE(JsonDouble(*x, &v));
  EXPECT_EQ(v, -2500);
  EXPECT_TRUE(JsonInt(*x, &i));  // -2.5e3 is whole
  EXPECT_EQ(i, -2500);
  EXPECT_EQ(d.Next(*x)->kind, JsonNode::kTrue);
  const JsonNode* c = d.Find(*d.Find(d.root(), "b"), "c");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(JsonString(*c), "x\"y\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(d.Find(d.root(), "e")->count, 0u);
  EXPECT_EQ(d.Find(d.root(), "zz"), nullptr);
}

TEST(JsonTest, RefusesMalformedText) {
  JsonDoc d;
  for (const char* bad : {"", "{", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "01", "1.", "-", "1e", "\"abc", "\"\\x\"", "tru",
                          "[1] 2", "{\"a\":\"\x01\"}", "\"\\u12g4\"", "nul"}) {
    Status st = d.Parse(bad);
    EXPECT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.message().find("malformed JSON at byte"), std::string::npos) << st.message();
  }
  std::string deep(100, '[');
  EXPECT_FALSE(d.Parse(deep + std::string(100, ']')).ok());
}

TEST(JsonTest, NumbersOutOfRange) {
  JsonDoc d;
  ASSERT_TRUE(d.Parse("[1e999, 3.5, 18446744073709551615, -1]").ok());
  const JsonNode* x = d.First(d.root());
  double v;
  EXPECT_FALSE(JsonDouble(*x, &v));
  int64_t i;
  EXPECT_FALSE(JsonInt(*d.Next(*x), &i));
  uint64_t u;
  EXPECT_TRUE(JsonUint(*d.Next(*d.Next(*x)), &u));
  EXPECT_EQ(u, 18446744073709551615ull);
  EXPECT_FALSE(JsonUint(*d.Next(*d.Next(*d.Next(*x))), &u));
}

TEST(JsonTest, ValuesAreLimited) {
  std::string many = "[0";
  for (int i = 0; i < (4 << 20); i++) many += ",0";
  many += "]";
  JsonDoc d;
  Status st = d.Parse(many);
  EXPECT_NE(st.message().find("more than 4194304 values"), std::string::npos) << st.message();
  EXPECT_TRUE(d.Parse("[1]").ok());  // and the document is usable again
}

TEST(JsonTest, WritesShortestFloatsAndEscapes) {
  std::string s;
  AppendFloat(&s, 0.1f);
  s += ' ';
  AppendDouble(&s, 1e300);
  s += ' ';
  AppendFloat(&s, NAN);
  s += ' ';
  AppendJsonString(&s, "a\"\\\n\x01");
  EXPECT_EQ(s, "0.1 1e+300 null \"a\\\"\\\\\\n\\u0001\"");
}

// The one escaper: every JSON forja writes goes through it, so this table is the rule.
TEST(JsonTest, EscapesTable) {
  struct Case {
    std::string in, out;
  } cases[] = {
      {"plain", "\"plain\""},
      {"", "\"\""},
      {"q\"b\\s/", "\"q\\\"b\\\\s/\""},
      {"\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\""},
      {std::string("\0\x01\x1f", 3), "\"\\u0000\\u0001\\u001f\""},
      {"\x0b\x1b", "\"\\u000b\\u001b\""},
      {"del\x7f", "\"del\x7f\""},                                      // DEL is not escaped
      {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""},  // é € 😀
      {"a\xff" "b\xc3", "\"a\\ufffdb\\ufffd\""},                          // not UTF-8
      {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},                     // a surrogate
  };
  for (const Case& c : cases) EXPECT_EQ(JsonQuote(c.in), c.out) << c.in;
  // Kept bytes: a file name in forja.lock reads back as the same bytes.
  EXPECT_EQ(JsonQuote("a\xff\n", JsonBytes::kKeep), "\"a\xff\\n\"");
  std::string s = "x";
  AppendJsonString(&s, "\t");
  EXPECT_EQ(s, "x\"\\t\"");
  // What is written reads back.
  JsonDoc d;
  std::string all;
  for (int c = 1; c < 0x80; c++) all += static_cast<char>(c);
  std::string text = JsonQuote(all + "\xc3\xa9");
  ASSERT_TRUE(d.Parse(text).ok());
  EXPECT_EQ(JsonString(d.root()), all + "\xc3\xa9");
}

TEST(JsonTest, ErrorsNameTheByte) {
  JsonDoc d;
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"{\"a\" 1}", "malformed JSON at byte 5: expected ':'"},
      {"[1,]", "malformed JSON at byte 3: unexpected character"},
      {"[1 2]", "malformed JSON at byte 3: expected ',' or ']'"},
      {"{\"a\":1 \"b\"}", "malformed JSON at byte 7: expected ',' or '}'"},
      {"\"abc", "malformed JSON at byte 4: unterminated string"},
      {"[1] 2", "malformed JSON at byte 4: text after the value"},
      {"01", "malformed JSON at byte 2: leading zero in a number"},
      {"\"\\x\"", "malformed JSON at byte 1: bad escape"},
      {"", "malformed JSON at byte 0: unexpected end"},
  };
  for (const Case& c : cases) EXPECT_EQ(d.Parse(c.text).message(), c.message) << c.text;
}

TEST(JsonTest, NestingIsLimited) {
  JsonDoc d;
  int ok = JsonDoc::kMaxDepth + 1;  // the root is depth 0
  EXPECT_TRUE(d.Parse(std::string(ok, '[') + std::string(ok, ']')).ok());
  Status st = d.Parse(std::string(ok + 1, '[') + std::string(ok + 1, ']'));
  EXPECT_EQ(st.message(), "malformed JSON at byte " + std::to_string(ok) + ": nested too deep");
}

}  // namespace
}  // namespace forja
