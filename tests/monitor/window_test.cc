// Windows: counts on the reference bins, merge == one window fed every row, empty windows.
#include "forja/monitor/window.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "forja/monitor/sample.h"

namespace forja::monitor {
namespace {

Profile MakeTestProfile() {
  SampleBuilder x, c;
  for (int i = 0; i < 500; ++i) {
    x.Add(std::to_string(i * 0.5));
    c.Add(i % 3 == 0 ? "red" : i % 3 == 1 ? "green" : "blue");
  }
  return MakeProfile({*x.Finish("x"), *c.Finish("color")});
}

void ExpectSame(const ColumnWindow& a, const ColumnWindow& b) {
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.missing, b.missing);
  EXPECT_EQ(a.infinite, b.infinite);
  EXPECT_EQ(a.invalid, b.invalid);
  EXPECT_EQ(a.below, b.below);
  EXPECT_EQ(a.above, b.above);
  EXPECT_EQ(a.other, b.other);
  EXPECT_EQ(a.counts, b.counts);
  EXPECT_EQ(a.gaps, b.gaps);
  EXPECT_EQ(a.moments.n, b.moments.n);
  EXPECT_NEAR(a.moments.mean, b.moments.mean, 1e-9);
  EXPECT_NEAR(a.moments.Std(), b.moments.Std(), 1e-9);
}

TEST(Window, CountsOnReferenceBins) {
  Profile p = MakeTestProfile();
  Window w(p);
  w.AddRow({"-5", "red"});
  w.AddRow({"1000", "purple"});
  w.AddRow({"", "NA"});
  w.AddRow({"inf", "green"});
  w.AddRow({"abc", "blue"});
  w.AddRow({"0"});  // a short row: the rest is missing
  w.AddNumber(0, std::numeric_limits<double>::quiet_NaN());
  w.AddNumber(0, 10.0);
  const ColumnWindow& x = w.column(0);
  EXPECT_EQ(x.rows, 8u);
  EXPECT_EQ(x.below, 1u);
  EXPECT_EQ(x.above, 1u);
  EXPECT_EQ(x.missing, 2u);
  EXPECT_EQ(x.infinite, 1u);
  EXPECT_EQ(x.invalid, 1u);
  EXPECT_EQ(x.present(), 4u);
  uint64_t binned = 0;
  for (uint64_t n : x.counts) binned += n;
  EXPECT_EQ(binned, 2u);
  const ColumnWindow& c = w.column(1);
  EXPECT_EQ(c.rows, 6u);
  EXPECT_EQ(c.other, 1u);
  EXPECT_EQ(c.missing, 2u);
  EXPECT_EQ(c.counts[p.columns[1].CategoryIndex("red")], 1u);
}

TEST(Window, NumbersInACategoricalColumn) {
  // Integers with few values are categories (pandas int64); a window fed numbers finds them,
  // and an infinity is the category "inf" on both sides.
  SampleBuilder b;
  for (const char* cell : {"1", "2", "inf", "1", "2", "1"}) b.Add(cell);
  Profile p = MakeProfile({*b.Finish("n", ColumnKind::kCategorical)});
  Window w(p);
  w.AddNumber(0, 1.0);
  w.AddNumber(0, std::numeric_limits<double>::infinity());
  w.AddCell(0, "02");
  w.AddNumber(0, 3.0);
  const ColumnWindow& c = w.column(0);
  EXPECT_EQ(c.rows, 4u);
  EXPECT_EQ(c.missing, 0u);
  EXPECT_EQ(c.counts[p.columns[0].CategoryIndex("1")], 1u);
  EXPECT_EQ(c.counts[p.columns[0].CategoryIndex("inf")], 1u);
  EXPECT_EQ(c.counts[p.columns[0].CategoryIndex("2")], 1u);
  EXPECT_EQ(c.other, 1u);
}

TEST(Window, CountSampleOfTheWrongKind) {
  Profile p = MakeTestProfile();
  SampleBuilder words, numbers;
  for (const char* cell : {"a", "b", "", "a"}) words.Add(cell);
  for (const char* cell : {"1", "2", "1"}) numbers.Add(cell);
  ColumnWindow x = CountSample(p.columns[0], *words.Finish("x"));
  EXPECT_EQ(x.invalid, 3u);
  EXPECT_EQ(x.missing, 1u);
  EXPECT_EQ(x.present(), 0u);  // nothing to compare: a verdict, not a number
  ColumnWindow color = CountSample(p.columns[1], *numbers.Finish("color", ColumnKind::kNumeric));
  EXPECT_EQ(color.other, 3u);
  EXPECT_EQ(color.present(), 3u);
}

TEST(Window, MergeEqualsSequentialAdds) {
  Profile p = MakeTestProfile();
  Window all(p), a(p), b(p), c(p);
  Window* parts[] = {&a, &b, &c};
  for (int i = 0; i < 3000; ++i) {
    std::string x = i % 17 == 0 ? "" : std::to_string((i * 7919 % 400) - 50 + 0.25);
    std::string color = i % 11 == 0 ? "pink" : i % 2 ? "red" : "blue";
    all.AddRow({x, color});
    parts[i % 3]->AddRow({x, color});
  }
  ASSERT_TRUE(b.Merge(c).ok());
  ASSERT_TRUE(a.Merge(b).ok());
  for (size_t i = 0; i < all.size(); ++i) ExpectSame(a.column(i), all.column(i));
  Profile other = MakeTestProfile();
  Window stranger(other);
  EXPECT_FALSE(a.Merge(stranger).ok());
}

TEST(Window, ClearKeepsBins) {
  Profile p = MakeTestProfile();
  Window w(p);
  w.AddRow({"3", "red"});
  w.Clear();
  ExpectSame(w.column(0), Window(p).column(0));
  EXPECT_EQ(w.column(0).counts.size(), p.columns[0].counts.size());
}

}  // namespace
}  // namespace forja::monitor
