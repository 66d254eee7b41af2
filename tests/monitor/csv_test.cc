#include "forja/monitor/csv.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "forja/core/fs.h"

namespace forja::monitor {
namespace {

TEST(Csv, QuotesAndLineEnds) {
  CsvReader r("a,b\r\n\"x,1\",\"say \"\"hi\"\"\"\n\"two\nlines\",\n");
  std::vector<std::string> cells;
  ASSERT_TRUE(*r.Next(&cells));
  EXPECT_EQ(cells, (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(*r.Next(&cells));
  EXPECT_EQ(cells, (std::vector<std::string>{"x,1", "say \"hi\""}));
  ASSERT_TRUE(*r.Next(&cells));
  EXPECT_EQ(cells, (std::vector<std::string>{"two\nlines", ""}));
  EXPECT_FALSE(*r.Next(&cells));
}

TEST(Csv, ErrorsNameTheLine) {
  auto error = [](const std::string& text) {
    Result<CsvColumns> c = ReadCsvColumns(text);
    return c.ok() ? std::string("ok") : c.status().message();
  };
  EXPECT_EQ(error("a,b\n1,2\n3\n"), "line 3: 1 cells, the header has 2");
  EXPECT_EQ(error("a,b\n\"1,2\n"), "line 2: a quoted cell is never closed");
  EXPECT_EQ(error("a,b\n1\"x\",2\n"), "line 2: a quote inside an unquoted cell");
  EXPECT_EQ(error("a,a\n1,2\n"), "line 1: column 'a' appears twice");
  EXPECT_EQ(error(""), "no header row");
  EXPECT_EQ(error("a,b\n1,2\n\n3,4\n"), "ok");  // blank lines are skipped
}

TEST(Csv, ColumnsCollectCells) {
  Result<CsvColumns> c = ReadCsvColumns("n,s\n1,a\n2,b\n");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->rows, 2u);
  EXPECT_EQ(c->names, (std::vector<std::string>{"n", "s"}));
  Result<ColumnSample> n = c->columns[0].Finish("n", ColumnKind::kNumeric);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->values, (std::vector<double>{1, 2}));
}

TEST(Csv, SamplesOfFiles) {
  std::string dir = ::testing::TempDir();
  std::string ref = dir + "/monitor_ref.csv", cur = dir + "/monitor_cur.csv";
  ASSERT_TRUE(WriteFileAtomic(ref, "n,s\n1.5,a\n2.5,b\n3.5,a\n4.5,a\n").ok());
  ASSERT_TRUE(WriteFileAtomic(cur, "extra,s,n\nx,1,7\ny,2,8\n").ok());
  Result<std::vector<ColumnSample>> r = ReadCsvSamples(ref);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1].kind, ColumnKind::kCategorical);
  // Read as the reference's kinds, in its order: "s" holds numbers but stays categorical.
  Result<std::vector<ColumnSample>> c = ReadCsvSamples(cur, {{"n", (*r)[0].kind}, {"s", (*r)[1].kind}});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ((*c)[0].values, (std::vector<double>{7, 8}));
  EXPECT_EQ((*c)[1].kind, ColumnKind::kCategorical);
  Result<std::vector<ColumnSample>> missing = ReadCsvSamples(cur, {{"gone", ColumnKind::kNumeric}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), cur + ": no column 'gone'");
  Result<std::vector<ColumnSample>> wrong = ReadCsvSamples(cur, {{"extra", ColumnKind::kNumeric}});
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("'x' is not a number"), std::string::npos);
}

}  // namespace
}  // namespace forja::monitor
