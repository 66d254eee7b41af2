// CSV as forja predict reads it: fields, quoting, CRLF, a quoted newline (refused: a row is
// one line), numbers and missing cells; and the messages a bad CSV file gets, with its line.
#include "forja/batch/csv.h"

#include <gtest/gtest.h>

#include <cmath>

#include "batch_test.h"

namespace forja::batch {
namespace {

using Views = std::vector<std::string_view>;
using Strings = std::vector<std::string>;

TEST(CsvTest, SplitsPlainAndQuotedFields) {
  Views raw;
  Strings text;
  ASSERT_TRUE(SplitCsv(R"(a,"b,c","say ""hi""",,"")", &raw, &text).ok());
  EXPECT_EQ(raw, (Views{"a", R"("b,c")", R"("say ""hi""")", "", R"("")"}));
  EXPECT_EQ(text, (Strings{"a", "b,c", R"(say "hi")", "", ""}));
}

TEST(CsvTest, DropsTheCarriageReturnOfCrlf) {
  Views raw;
  Strings text;
  ASSERT_TRUE(SplitCsv("a,\"b\"\r", &raw, &text).ok());
  EXPECT_EQ(text, (Strings{"a", "b"}));
  ASSERT_TRUE(SplitCsv("1,2\r", &raw, nullptr).ok());
  EXPECT_EQ(raw, (Views{"1", "2"}));
}

TEST(CsvTest, RefusesQuotesThatDoNotCloseOrCloseEarly) {
  Views raw;
  // A quoted newline: the reader hands SplitCsv one line at a time.
  EXPECT_EQ(SplitCsv("1,\"two", &raw, nullptr).message(),
            "a quoted field is not closed on its line (rows must be one line each)");
  EXPECT_EQ(SplitCsv("1,\"open", &raw, nullptr).message(),
            "a quoted field is not closed on its line (rows must be one line each)");
  EXPECT_EQ(SplitCsv("\"a\"b,c", &raw, nullptr).message(), "text after a closing quote");
}

TEST(CsvTest, UnquotesAField) {
  std::string scratch;
  EXPECT_EQ(UnquoteCsv(R"("say ""hi""")", &scratch), R"(say "hi")");
  EXPECT_EQ(UnquoteCsv("plain", &scratch), "plain");
  EXPECT_EQ(UnquoteCsv(R"("")", &scratch), "");
}

TEST(CsvTest, ReadsNumbersAndMissingCells) {
  double v = 0;
  ASSERT_TRUE(ParseNumber(" 1.5 ", &v));
  EXPECT_EQ(v, 1.5);
  ASSERT_TRUE(ParseNumber("+2e3", &v));
  EXPECT_EQ(v, 2000);
  ASSERT_TRUE(ParseNumber("-0.25", &v));
  EXPECT_EQ(v, -0.25);
  for (const char* missing : {"", "  ", "NA", "null", "None"}) {
    v = 0;
    ASSERT_TRUE(ParseNumber(missing, &v)) << missing;
    EXPECT_TRUE(std::isnan(v)) << missing;
  }
  for (const char* bad : {"abc", "1x", "0x10", "1,5", "1e-400", "1e400", "na", "--1"}) EXPECT_FALSE(ParseNumber(bad, &v)) << bad;
}

// ---- what a user sees ------------------------------------------------------------------

TEST(CsvTest, ScoresRowsInOrderWithKeptColumns) {
  Scratch dir;
  SumModel m = Features3();
  PredictOptions o;
  o.keep = {"id"};
  o.exclude = {"id"};
  Scored s = Predict(dir, "in.csv", "id,a,b,c\n7,1,2,3\n8,0.5,NA,1\n9,-1,0,1e1\n", "out.csv", m, o);
  ASSERT_TRUE(s.status.ok()) << s.status.message();
  EXPECT_EQ(s.output, "id,y\n7,14\n8,\n9,29\n");  // a missing cell makes a missing prediction
  EXPECT_EQ(s.report.rows, 3u);
  EXPECT_FALSE(dir.Has("out.csv.partial") || dir.Has("out.csv.progress"));
}

TEST(CsvTest, QuotedFieldsCrlfAndBlankLines) {
  Scratch dir;
  SumModel m = Features3();
  PredictOptions o;
  o.keep = {"id"};
  o.exclude = {"id"};
  const std::string in = "id,a,b,c\r\n\"x,1\",\"1\",2,3\r\n\r\n\n\"q\"\"t\",1,1,1\r\n7,0,0,1";  // no final newline
  Scored csv = Predict(dir, "in.csv", in, "out.csv", m, o);
  ASSERT_TRUE(csv.status.ok()) << csv.status.message();
  EXPECT_EQ(csv.output, "id,y\n\"x,1\",14\n\"q\"\"t\",6\n7,3\n");  // kept fields as written
  Scored jsonl = Predict(dir, "in.csv", in, "out.jsonl", m, o);
  ASSERT_TRUE(jsonl.status.ok()) << jsonl.status.message();
  EXPECT_EQ(jsonl.output, "{\"id\":\"x,1\",\"y\":14}\n{\"id\":\"q\\\"t\",\"y\":6}\n{\"id\":7,\"y\":3}\n");
}

TEST(CsvTest, AQuotedNewlineIsABadRowOnItsLine) {
  Scratch dir;
  SumModel m = Features3();
  const std::string in = "a,b,c\n1,2,3\n\"two\nlines\",2,3\n4,5,6\n";
  Scored fail = Predict(dir, "in.csv", in, "out.csv", m);
  EXPECT_EQ(fail.status.message(), dir.Path("in.csv") +
                                       ":3: a quoted field is not closed on its line (rows must be one line each); "
                                       "fix the row, or pass --on-error skip");
  EXPECT_EQ(fail.output, "(missing)");
  EXPECT_FALSE(dir.Has("out.csv.partial"));

  PredictOptions o;
  o.skip_errors = true;
  Scored skip = Predict(dir, "in.csv", in, "out.csv", m, o);
  ASSERT_TRUE(skip.status.ok()) << skip.status.message();
  EXPECT_EQ(skip.output, "y\n14\n32\n");
  EXPECT_EQ(skip.report.skipped, 2u);  // the row's two halves
  EXPECT_EQ(skip.report.errors,
            (Strings{dir.Path("in.csv") + ":3: a quoted field is not closed on its line (rows must be one line each)",
                     dir.Path("in.csv") + ":4: column 'a': 'lines\"' is not a number"}));
}

TEST(CsvTest, BadRowsNameTheirLineAndWhatIsWrong) {
  Scratch dir;
  SumModel m = Features3();
  PredictOptions o;
  o.skip_errors = true;
  const std::string long_cell(60, 'z');
  Scored s = Predict(dir, "in.csv",
                     "a,b,c\n1,2\n1,2,3\n\"1\"x,2,3\n1,2,3,4\n1,two,3\n" + long_cell + ",1,1\n\n1,1,1\n", "out.csv", m, o);
  ASSERT_TRUE(s.status.ok()) << s.status.message();
  const std::string f = dir.Path("in.csv");
  EXPECT_EQ(s.report.errors, (Strings{f + ":2: 2 fields, the header has 3", f + ":4: text after a closing quote",
                                      f + ":5: 4 fields, the header has 3", f + ":6: column 'b': 'two' is not a number",
                                      f + ":7: column 'a': '" + std::string(40, 'z') + "' is not a number"}));
  EXPECT_EQ(s.report.skipped, 5u);
  EXPECT_EQ(s.report.rows, 2u);
  EXPECT_EQ(s.output, "y\n14\n6\n");
}

TEST(CsvTest, HeaderProblemsAreLineOne) {
  Scratch dir;
  SumModel m = Features3();
  const std::string f = dir.Path("in.csv");
  EXPECT_EQ(Predict(dir, "in.csv", "", "out.csv", m).status.message(), f + ":1: empty; a header row is needed");
  EXPECT_EQ(Predict(dir, "in.csv", "\"a,b,c\n1,2,3\n", "out.csv", m).status.message(),
            f + ":1: header: a quoted field is not closed on its line (rows must be one line each)");
  EXPECT_EQ(Predict(dir, "in.csv", "a,b,c,d\n1,2,3,4\n", "out.csv", m).status.message(),
            f + ":1: 4 feature columns, but input 'features' takes 3; leave columns out with --exclude COLUMN");
  PredictOptions o;
  o.keep = {"nope"};
  EXPECT_EQ(Predict(dir, "in.csv", "a,b,c\n1,2,3\n", "out.csv", m, o).status.message(), f + ":1: --keep nope: no such column");
  SumModel named({{"a", "FP64", {-1}}, {"q", "FP64", {-1}}});
  EXPECT_EQ(Predict(dir, "in.csv", "a,b\n1,2\n", "out.csv", named).status.message(),
            f + ":1: no column 'q' for the model's input of that name");
  EXPECT_FALSE(dir.Has("out.csv") || dir.Has("out.csv.partial"));
}

TEST(CsvTest, ALineOverOneMiBIsRefusedWithItsLine) {
  Scratch dir;
  SumModel m = Features3();
  const std::string huge(1100 * 1024, '1');
  EXPECT_EQ(Predict(dir, "in.csv", "a,b,c\n1,2,3\n" + huge + ",2,3\n", "out.csv", m).status.message(),
            dir.Path("in.csv") + ":3: a line over 1 MiB");
  EXPECT_EQ(Predict(dir, "in.csv", huge + "\n", "out.csv", m).status.message(),
            dir.Path("in.csv") + ":1: a first line over 1 MiB");
}

}  // namespace
}  // namespace forja::batch
