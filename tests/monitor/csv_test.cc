#include "forja/monitor/csv.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

}  // namespace
}  // namespace forja::monitor
