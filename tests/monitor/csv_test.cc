#include "forja/monitor/csv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <random>
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

// Small blocks cut the file at many row ends (inside quoted cells' line ends too); on several
// threads the columns must come out as one pass reads them, and failures name the same line.
TEST(Csv, ParallelBlocksReadAsOnePass) {
  std::string dir = ::testing::TempDir();
  std::string path = dir + "/monitor_blocks.csv";
  std::string text = "x,word,\"mixed\",n\r\n";
  for (int i = 0; i < 3000; ++i) {
    text += std::to_string(i % 97) + "." + std::to_string(i % 7) + ",";
    text += i % 5 == 0 ? "\"two\nlines, \"\"quoted\"\"\"," : "w" + std::to_string(i % 13) + ",";
    text += i == 2500 ? "text," : std::to_string(i % 4) + ".0,";  // numbers, then text late
    text += i % 11 == 0 ? "NA" : std::to_string(i % 3);
    text += i % 9 == 0 ? "\n\n" : "\r\n";
  }
  ASSERT_TRUE(WriteFileAtomic(path, text).ok());
  auto read = [&](int jobs, size_t block) {
    CsvReadOptions options;
    options.jobs = jobs;
    options.block_bytes = block;
    return ReadCsv(path, options);
  };
  Result<std::vector<ColumnSample>> one = read(1, 1 << 20);
  ASSERT_TRUE(one.ok()) << one.status().message();
  for (size_t block : {64, 100, 4096}) {
    Result<std::vector<ColumnSample>> many = read(3, block);
    ASSERT_TRUE(many.ok()) << many.status().message();
    ASSERT_EQ(many->size(), one->size());
    for (size_t i = 0; i < one->size(); ++i) {
      const ColumnSample &a = (*one)[i], &b = (*many)[i];
      EXPECT_EQ(a.name, b.name);
      EXPECT_EQ(a.kind, b.kind) << a.name;
      EXPECT_EQ(a.rows, 3000u) << a.name;
      EXPECT_EQ(a.rows, b.rows) << a.name;
      EXPECT_EQ(a.missing, b.missing) << a.name;
      EXPECT_EQ(a.values, b.values) << a.name;
      EXPECT_EQ(a.categories, b.categories) << a.name;
    }
  }
  EXPECT_EQ((*one)[1].kind, ColumnKind::kCategorical);
  EXPECT_EQ((*one)[1].categories.front().first, "two\nlines, \"quoted\"");
  // Read as numeric, "mixed" fails at its one word, on any number of threads.
  CsvReadOptions numeric;
  numeric.kinds["mixed"] = ColumnKind::kNumeric;
  numeric.block_bytes = 64;
  for (int jobs : {1, 3}) {
    numeric.jobs = jobs;
    Result<std::vector<ColumnSample>> r = ReadCsv(path, numeric);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), path + ": column 'mixed', row 2501: 'text' is not a number, and the column is numeric");
  }
  std::string bad = text + "1,2,3\n";
  ASSERT_TRUE(WriteFileAtomic(path, bad).ok());
  Result<CsvColumns> serial = ReadCsvColumns(bad);
  ASSERT_FALSE(serial.ok());
  for (int jobs : {1, 3}) {
    Result<std::vector<ColumnSample>> r = read(jobs, 64);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), path + ": " + serial.status().message());
  }
}

// SortValues takes short decimals as scaled integers and anything else as doubles: the same
// order and the same bits as std::sort either way.
TEST(Csv, SortValuesSortsAsStdSort) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(0, 3);
  auto check = [](std::vector<double> v) {
    std::vector<double> want = v;  // -0 before 0, which std::sort leaves in any order
    std::sort(want.begin(), want.end(), [](double a, double b) { return a < b || (a == b && std::signbit(a) > std::signbit(b)); });
    SortValues(&v);
    ASSERT_EQ(v.size(), want.size());
    for (size_t i = 0; i < v.size(); ++i)
      ASSERT_EQ(std::bit_cast<uint64_t>(v[i]), std::bit_cast<uint64_t>(want[i])) << i << ": " << v[i] << " " << want[i];
  };
  for (int decimals : {0, 1, 3, 4, 6}) {
    std::vector<double> v;
    for (int i = 0; i < 20000; ++i) {
      std::string text = std::to_string(normal(rng));  // 6 decimals, then cut
      text.resize(text.find('.') + 1 + static_cast<size_t>(decimals));
      double x;
      ASSERT_TRUE(ParseNumber(text, &x)) << text;
      v.push_back(x);
    }
    check(v);
    v[123] = 1e-300;  // one value that is no short decimal: sorted as doubles
    check(v);
    v[77] = -0.0;  // its bits do not come back from 0
    check(v);
  }
  std::vector<double> wide;
  for (int i = 0; i < 10000; ++i) wide.push_back(normal(rng) * 1e15);
  check(wide);
}

}  // namespace
}  // namespace forja::monitor
