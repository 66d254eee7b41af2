// JSONL rows as forja predict reads them with JsonDoc: which rows are objects, cells by type,
// missing and repeated fields, the column names, kept values as they are written, the depth
// limit; and the messages a bad JSONL file gets, with its line.
#include "forja/batch/jsonl.h"

#include <gtest/gtest.h>

#include <cmath>

#include "batch_test.h"

namespace forja::batch {
namespace {

using Strings = std::vector<std::string>;

// The kept-value text of field "v" of `row`.
std::string Kept(const std::string& row) {
  JsonDoc doc;
  Status st = ParseJsonlObject(row, &doc);
  if (!st.ok()) return "refused: " + st.message();
  const JsonNode* v = JsonlMember(doc, doc.root(), "v");
  if (!v) return "no v";
  std::string out;
  AppendJsonlValue(doc, *v, &out);
  return out;
}

// Field "v" of `row` as a number, or the error.
std::string Number(const std::string& row) {
  JsonDoc doc;
  EXPECT_TRUE(ParseJsonlObject(row, &doc).ok()) << row;
  double d = 0;
  Status st = JsonlNumber(doc, *JsonlMember(doc, doc.root(), "v"), "v", &d);
  if (!st.ok()) return st.message();
  if (std::isnan(d)) return "NaN";
  return std::to_string(d);
}

TEST(JsonlTest, RefusesWhatIsNotAJsonObject) {
  JsonDoc doc;
  for (const std::string& bad : Strings{"not json", "[1, 2]", "\"a\"", "   ", "{\"a\": 1} x", "{\"a\": 1,}", "{\"a\": 01}",
                          "{\"a\": \"\\ud800\"}", "{\"a\": \"\\udc00x\"}", "{\"a\": \"\\ud800\\u0041\"}",
                          "{\"\\ud800\": 1}", "{\"a\": 1e400}", "{\"a\": -1E+999}", "{\"a\": \"\xc3\x28\"}",
                          "{\"a\": \"\xed\xa0\x80\"}", "\xEF\xBB{\"a\": 1}", std::string("{\"a\": 1,\0}", 10)}) {
    EXPECT_EQ(ParseJsonlObject(bad, &doc).message(), "not a JSON object") << bad;
  }
}

TEST(JsonlTest, AcceptsWhatForjaPredictAlwaysAccepted) {
  JsonDoc doc;
  for (const std::string& good : Strings{"{}", " {\"a\": 1} \r", "\xEF\xBB\xBF{\"a\": 1}", std::string("{\"a\": 1}\0junk", 13),
                           "{\"a\": \"\\ud83d\\ude00\"}", "{\"a\": 1e-400}", "{\"a\": \"caf\xc3\xa9\\u0000\"}"}) {
    EXPECT_TRUE(ParseJsonlObject(good, &doc).ok()) << good;
  }
}

TEST(JsonlTest, NestingPast64IsRefusedAndSaysSo) {
  JsonDoc doc;
  auto nested = [](int n) { return "{\"a\": " + std::string(n, '[') + std::string(n, ']') + "}"; };
  EXPECT_TRUE(ParseJsonlObject(nested(64), &doc).ok());
  EXPECT_EQ(ParseJsonlObject(nested(65), &doc).message(), "not a JSON object (nested more than 64 deep)");
  EXPECT_EQ(ParseJsonlObject(nested(100000), &doc).message(), "not a JSON object (nested more than 64 deep)");
}

TEST(JsonlTest, ReadsCellsByType) {
  EXPECT_EQ(Number("{\"v\": 2.5}"), "2.500000");
  EXPECT_EQ(Number("{\"v\": -0}"), "0.000000");  // an integer zero has no sign
  EXPECT_EQ(Number("{\"v\": -0.0}"), "-0.000000");
  EXPECT_EQ(Number("{\"v\": 1e-400}"), "0.000000");
  EXPECT_EQ(Number("{\"v\": 18446744073709551615}"), "18446744073709551616.000000");
  EXPECT_EQ(Number("{\"v\": null}"), "NaN");
  EXPECT_EQ(Number("{\"v\": \" 1.5 \"}"), "1.500000");
  EXPECT_EQ(Number("{\"v\": \"\\u0031\"}"), "1.000000");
  EXPECT_EQ(Number("{\"v\": \"NA\"}"), "NaN");
  EXPECT_EQ(Number("{\"v\": true}"), "field 'v': true is not a number");
  EXPECT_EQ(Number("{\"v\": \"abc\"}"), "field 'v': \"abc\" is not a number");
  EXPECT_EQ(Number("{\"v\": \"a\\nb\"}"), "field 'v': \"a\\nb\" is not a number");
  EXPECT_EQ(Number("{\"v\": [1]}"), "field 'v': [...] is not a number");
  EXPECT_EQ(Number("{\"v\": {\"a\": 1}}"), "field 'v': {...} is not a number");
  EXPECT_EQ(Number("{\"v\": \"" + std::string(60, 'x') + "\"}"),
            "field 'v': \"" + std::string(39, 'x') + "... is not a number");  // 40 bytes of the text
}

TEST(JsonlTest, ARepeatedKeyCountsOnceAndTheLastWins) {
  JsonDoc doc;
  ASSERT_TRUE(ParseJsonlObject("{\"c\": 1, \"a\": 2, \"b\": 3, \"a\": 4, \"\\u0062\": 5}", &doc).ok());
  EXPECT_EQ(JsonlKeys(doc, doc.root()), (Strings{"a", "b", "c"}));
  double d = 0;
  ASSERT_TRUE(JsonlNumber(doc, *JsonlMember(doc, doc.root(), "a"), "a", &d).ok());
  EXPECT_EQ(d, 4);
  ASSERT_TRUE(JsonlNumber(doc, *JsonlMember(doc, doc.root(), "b"), "b", &d).ok());
  EXPECT_EQ(d, 5);  // "\u0062" is "b"
  EXPECT_EQ(JsonlMember(doc, doc.root(), "z"), nullptr);
}

TEST(JsonlTest, KeptValuesAreWrittenAsBefore) {
  EXPECT_EQ(Kept("{\"v\": 12}"), "12");
  EXPECT_EQ(Kept("{\"v\": -0}"), "0");
  EXPECT_EQ(Kept("{\"v\": -0.0}"), "-0.0");
  EXPECT_EQ(Kept("{\"v\": 1e2}"), "100.0");
  EXPECT_EQ(Kept("{\"v\": 1.50}"), "1.5");
  EXPECT_EQ(Kept("{\"v\": 2.5E+300}"), "2.5e+300");
  EXPECT_EQ(Kept("{\"v\": 0.00001}"), "1e-05");
  EXPECT_EQ(Kept("{\"v\": 18446744073709551615}"), "18446744073709551615");
  EXPECT_EQ(Kept("{\"v\": -9223372036854775809}"), "-9.223372036854776e+18");
  EXPECT_EQ(Kept("{\"v\": \"caf\\u00e9 \\\"q\\\" \\/\"}"), "\"caf\xc3\xa9 \\\"q\\\" /\"");
  EXPECT_EQ(Kept("{\"v\": \"\\u0000\\u001f\"}"), "\"\\u0000\\u001f\"");
  EXPECT_EQ(Kept("{\"v\": [1, \"x\", null, true, false, []]}"), "[1,\"x\",null,true,false,[]]");
  EXPECT_EQ(Kept("{\"v\": {\"b\": 1, \"a\": {\"d\": 2, \"c\": 3}, \"b\": 4}}"), "{\"a\":{\"c\":3,\"d\":2},\"b\":4}");
}

// ---- what a user sees ------------------------------------------------------------------

TEST(JsonlTest, ScoresAnArrayPerRowWithKeptValues) {
  Scratch dir;
  SumModel m = Features3();
  PredictOptions o;
  o.keep = {"id"};
  const std::string in =
      "{\"id\": \"r1\", \"features\": [1, 2, 3]}\n"
      "{\"features\": [\"1\", null, 1], \"id\": 2}\n"
      "\n"
      "{\"id\": {\"y\": 1, \"x\": [1.0]}, \"features\": [0, 0, 1e-400]}\n";
  Scored s = Predict(dir, "in.jsonl", in, "out.jsonl", m, o);
  ASSERT_TRUE(s.status.ok()) << s.status.message();
  EXPECT_EQ(s.output, "{\"id\":\"r1\",\"y\":14}\n{\"id\":2,\"y\":null}\n{\"id\":{\"x\":[1.0],\"y\":1},\"y\":0}\n");
  Scored csv = Predict(dir, "in.jsonl", in, "out.csv", m, o);
  ASSERT_TRUE(csv.status.ok()) << csv.status.message();
  EXPECT_EQ(csv.output, "id,y\n\"r1\",14\n2,\n{\"x\":[1.0],\"y\":1},0\n");  // JSON text in the kept column
}

TEST(JsonlTest, ColumnsAreTheFirstRowsKeysInSortedOrder) {
  Scratch dir;
  SumModel m = Features3();  // no "features" field: every field is a feature
  PredictOptions o;
  o.exclude = {"id"};
  // Sorted, the columns are a, b, c: y = a + 2b + 3c (in file order c, a, b it would be 11).
  Scored s = Predict(dir, "in.jsonl", "{\"c\": 3, \"id\": 0, \"a\": 1, \"b\": 2}\n{\"b\": 1}\n", "out.csv", m, o);
  ASSERT_TRUE(s.status.ok()) << s.status.message();
  EXPECT_EQ(s.output, "y\n14\n\n");  // a missing field is a missing value
}

TEST(JsonlTest, NamedInputsAndAMatrixOutput) {
  Scratch dir;
  SumModel m({{"a", "FP64", {-1}}, {"b", "INT64", {-1}}}, /*pair=*/true);
  Scored csv = Predict(dir, "in.jsonl", "{\"a\": 1.5, \"b\": 2, \"junk\": [[]]}\n{\"b\": 3, \"a\": 2}\n", "out.csv", m);
  ASSERT_TRUE(csv.status.ok()) << csv.status.message();
  EXPECT_EQ(csv.output, "y,pair_0,pair_1\n5.5,0,1\n8,1,2\n");
  Scored jsonl = Predict(dir, "in.jsonl", "{\"a\": 1.5, \"b\": 2}\n", "out.jsonl", m);
  ASSERT_TRUE(jsonl.status.ok()) << jsonl.status.message();
  EXPECT_EQ(jsonl.output, "{\"y\":5.5,\"pair\":[0,1]}\n");
}

TEST(JsonlTest, BadRowsNameTheirLineAndWhatIsWrong) {
  Scratch dir;
  SumModel m = Features3();
  PredictOptions o;
  o.skip_errors = true;
  const std::string in =
      "{\"features\": [1, 2, 3]}\n"
      "{\"features\": [1, 2]}\n"
      "{\"features\": \"1,2,3\"}\n"
      "{\"other\": 1}\n"
      "{\"features\": [1, true, 3]}\n"
      "{\"features\": [1, 2, 3]\n"
      "[1, 2, 3]\n"
      "{\"features\": [1, 2, 1e999]}\n"
      "{\"features\": [" + std::string(70, '[') + std::string(70, ']') + ", 2, 3]}\n"
      "{\"features\": [3, 2, 1]}\n";
  Scored s = Predict(dir, "in.jsonl", in, "out.csv", m, o);
  ASSERT_TRUE(s.status.ok()) << s.status.message();
  const std::string f = dir.Path("in.jsonl");
  EXPECT_EQ(s.report.errors, (Strings{f + ":2: field 'features': an array of 3 numbers is needed",
                                      f + ":3: field 'features': an array of 3 numbers is needed",
                                      f + ":4: field 'features': an array of 3 numbers is needed",
                                      f + ":5: field 'features': true is not a number", f + ":6: not a JSON object",
                                      f + ":7: not a JSON object", f + ":8: not a JSON object",
                                      f + ":9: not a JSON object (nested more than 64 deep)"}));
  EXPECT_EQ(s.output, "y\n14\n10\n");
  Scored fail = Predict(dir, "in.jsonl", in, "fail.csv", m);
  EXPECT_EQ(fail.status.message(), f + ":2: field 'features': an array of 3 numbers is needed; fix the row, or pass --on-error skip");
  EXPECT_EQ(fail.output, "(missing)");
}

TEST(JsonlTest, FirstLineProblems) {
  Scratch dir;
  SumModel m = Features3();
  const std::string f = dir.Path("in.jsonl");
  EXPECT_EQ(Predict(dir, "in.jsonl", "\n{\"features\": [1, 2, 3]}\n", "out.csv", m).status.message(), f + ":1: empty; no rows");
  EXPECT_EQ(Predict(dir, "in.jsonl", "[1, 2, 3]\n", "out.csv", m).status.message(), f + ":1: not a JSON object");
  EXPECT_EQ(Predict(dir, "in.jsonl", "{\"a\": " + std::string(70, '['), "out.csv", m).status.message(),
            f + ":1: not a JSON object (nested more than 64 deep)");
  EXPECT_EQ(Predict(dir, "in.jsonl", "{\"a\": 1, \"b\": 2}\n", "out.csv", m).status.message(),
            f + ":1: 2 feature columns, but input 'features' takes 3; leave columns out with --exclude COLUMN");
}

}  // namespace
}  // namespace forja::batch
