// Moments, column kinds, profiles and their JSON: round trip, and hostile documents refused
// with the field named.
#include "forja/monitor/profile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "forja/monitor/csv.h"
#include "forja/monitor/sample.h"
#include "forja/monitor/window.h"

namespace forja::monitor {
namespace {

ColumnSample Sample(const std::vector<std::string>& cells) {
  SampleBuilder b;
  for (const std::string& c : cells) b.Add(c);
  Result<ColumnSample> s = b.Finish("x");
  EXPECT_TRUE(s.ok()) << s.status().message();
  return *s;
}

TEST(Moments, MergeEqualsOnePass) {
  Moments all, left, right;
  for (int i = 0; i < 1000; ++i) {
    double x = 1e9 + (i * 7919 % 1000) * 0.001;  // large offset, small spread
    all.Add(x);
    (i < 300 ? left : right).Add(x);
  }
  left.Merge(right);
  EXPECT_EQ(left.n, all.n);
  EXPECT_NEAR(left.mean, all.mean, 1e-6);
  EXPECT_NEAR(left.Std(), all.Std(), 1e-8);  // 1e9 + x: doubles carry 1e-7 of x
  EXPECT_NEAR(all.Std(), std::sqrt((1000.0 * 1000.0 - 1) / 12.0) * 0.001, 1e-6);  // uniform 0..999 * 0.001
  EXPECT_EQ(left.min, all.min);
  EXPECT_EQ(left.max, all.max);
  Moments empty;
  empty.Merge(all);
  EXPECT_EQ(empty.mean, all.mean);
  EXPECT_EQ(Moments().Std(), 0.0);
}

TEST(Sample, KindsFollowPandasDtypes) {
  EXPECT_EQ(Sample({"1", "2", "3"}).kind, ColumnKind::kCategorical);  // int64, <= 10 values
  std::vector<std::string> many;
  for (int i = 0; i < 11; ++i) many.push_back(std::to_string(i));
  EXPECT_EQ(Sample(many).kind, ColumnKind::kNumeric);                       // int64, 11 values
  EXPECT_EQ(Sample({"1", "2", ""}).kind, ColumnKind::kNumeric);             // NA: float64
  EXPECT_EQ(Sample({"1.5", "2", "inf"}).kind, ColumnKind::kNumeric);        // float64
  EXPECT_EQ(Sample({"", "NA", "nan"}).kind, ColumnKind::kNumeric);          // all NA: float64
  EXPECT_EQ(Sample({"True", "False", "True"}).kind, ColumnKind::kCategorical);  // bool
  EXPECT_EQ(Sample({"a", "b", "a", "a"}).kind, ColumnKind::kCategorical);   // 2 of 4 distinct
  EXPECT_EQ(Sample({"a", "b", "c", "a"}).kind, ColumnKind::kText);          // 3 of 4 distinct
}

TEST(Sample, MissingInfiniteAndNumberKeys) {
  ColumnSample s = Sample({"1.5", "", "NaN", "-inf", "inf", "2.5", "N/A"});
  EXPECT_EQ(s.rows, 7u);
  EXPECT_EQ(s.missing, 3u);
  EXPECT_EQ(s.infinite, 2u);
  EXPECT_EQ(s.values, (std::vector<double>{1.5, 2.5}));
  ColumnSample c = Sample({"1", "01", "+1", "2"});
  ASSERT_EQ(c.kind, ColumnKind::kCategorical);
  ASSERT_EQ(c.categories.size(), 2u);
  EXPECT_EQ(c.categories[0], (std::pair<std::string, uint64_t>("1", 3)));
  // Numbers before the first word are counted under their NumberKey once the column is strings.
  ColumnSample mixed = Sample({"1", "1.0", "x", "x", "1", "2"});
  ASSERT_EQ(mixed.kind, ColumnKind::kCategorical);  // 3 distinct of 6: not more than half
  EXPECT_EQ(mixed.categories, (std::vector<std::pair<std::string, uint64_t>>{{"1", 3}, {"2", 1}, {"x", 2}}));
  EXPECT_EQ(NumberKey(1.0), "1");
  EXPECT_EQ(NumberKey(-2.5), "-2.5");
}

TEST(Sample, NumericReferenceRefusesWords) {
  SampleBuilder b;
  b.Add("1");
  b.Add("oops");
  Result<ColumnSample> s = b.Finish("age", ColumnKind::kNumeric);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("column 'age', row 2: 'oops' is not a number"), std::string::npos);
}

TEST(Sample, QuantileIsNumpys) {
  // np.quantile([3, 1, 4, 1, 5, 9, 2, 6, 5.5, 0.25], q), numpy 2.4.
  std::vector<double> v = {3, 1, 4, 1, 5, 9, 2, 6, 5.5, 0.25};
  std::sort(v.begin(), v.end());
  EXPECT_EQ(Quantile(v, 0.1), 0.925);
  EXPECT_EQ(Quantile(v, 0.33), 1.9700000000000002);
  EXPECT_EQ(Quantile(v, 0.5), 3.5);
  EXPECT_EQ(Quantile(v, 0.77), 5.465);
  EXPECT_EQ(Quantile(v, 0.9), 6.299999999999999);
  EXPECT_EQ(Quantile(v, 1.0), 9.0);
  EXPECT_EQ(Quantile({-1e308, 1e308}, 0.5), 0.0);  // b - a overflows: no NaN
}

TEST(Sample, BytesThatAreNotUtf8ReadAsReplacement) {
  // The reference counts "b\xff" as "b\ufffd" (what its JSON holds); a window finds it again.
  ColumnSample s = Sample({"a", "b\xff", "a", "b\xff", "a", "a"});
  ASSERT_EQ(s.kind, ColumnKind::kCategorical);
  EXPECT_EQ(s.categories[1].first, "b\xef\xbf\xbd");
  Profile p = MakeProfile({s});
  Result<Profile> back = ParseProfile(ProfileToJson(p));
  ASSERT_TRUE(back.ok()) << back.status().message();
  Window w(*back);
  w.AddCell(0, "b\xff");
  EXPECT_EQ(w.column(0).counts[back->columns[0].CategoryIndex("b\xef\xbf\xbd")], 1u);
  EXPECT_EQ(w.column(0).other, 0u);
}

TEST(Profile, NumericBinsFromQuantiles) {
  std::vector<std::string> cells;
  for (int i = 0; i < 1000; ++i) cells.push_back(std::to_string(i));
  ColumnProfile p = MakeColumnProfile(Sample(cells));
  ASSERT_FALSE(p.discrete);
  EXPECT_EQ(p.edges.size(), static_cast<size_t>(kNumericBins) + 1);
  EXPECT_EQ(p.edges.front(), 0);
  EXPECT_EQ(p.edges.back(), 999);
  for (uint64_t c : p.counts) EXPECT_EQ(c, 20u);
  EXPECT_EQ(p.quantiles[50], 499.5);  // numpy's linear interpolation
  EXPECT_EQ(p.NumericBin(-1), -1);
  EXPECT_EQ(p.NumericBin(1000), -2);
  EXPECT_EQ(p.NumericBin(999), kNumericBins - 1);  // the last bin is closed
  EXPECT_EQ(p.distinct, 1000u);
}

TEST(Profile, HeavyValuesMergeEdges) {
  // 90% zeros: the quantile edges repeat 0, and repeated edges become one.
  std::vector<std::string> cells(900, "0");
  for (int i = 1; i <= 100; ++i) cells.push_back(std::to_string(i));
  ColumnProfile p = MakeColumnProfile(Sample(cells));
  ASSERT_FALSE(p.discrete);
  for (size_t i = 1; i < p.edges.size(); ++i) EXPECT_LT(p.edges[i - 1], p.edges[i]);
  EXPECT_NEAR(p.edges[1], 0.1, 1e-12);  // the 90% quantile: 0.1 of the way from 0 to 1
  EXPECT_EQ(p.counts[0], 900u);  // [0, 0.1)
}

TEST(Profile, ConstantAndLowCardinalityColumnsAreDiscrete) {
  ColumnProfile constant = MakeColumnProfile(Sample({"1.5", "1.5", "1.5"}));
  EXPECT_TRUE(constant.discrete);
  EXPECT_EQ(constant.edges, std::vector<double>{1.5});
  EXPECT_EQ(constant.counts, std::vector<uint64_t>{3});
  EXPECT_EQ(constant.moments.Std(), 0.0);
  EXPECT_EQ(constant.NumericBin(2.0), -2);
  ColumnProfile few = MakeColumnProfile(Sample({"1.5", "2.5", "2.5", "10.0"}));
  EXPECT_EQ(few.NumericBin(2.0), -3);  // inside the range, not a value the reference had
  EXPECT_EQ(few.NumericBin(2.5), 1);
}

TEST(Profile, TopCategories) {
  std::vector<std::string> cells;
  for (int i = 0; i < 300; ++i) {
    for (int k = 0; k <= i % 3; ++k) cells.push_back("c" + std::to_string(i));
  }
  for (int i = 0; i < 1000; ++i) cells.push_back("c0");
  ColumnSample s = Sample(cells);
  ASSERT_EQ(s.kind, ColumnKind::kCategorical);
  ColumnProfile p = MakeColumnProfile(s);
  EXPECT_EQ(p.categories.size(), static_cast<size_t>(kTopCategories));
  EXPECT_EQ(p.categories[0], "c0");
  EXPECT_EQ(p.distinct, 300u);
  uint64_t sum = p.other;
  for (uint64_t c : p.counts) sum += c;
  EXPECT_EQ(sum, s.present());
}

Profile TwoColumnProfile() {
  Result<CsvColumns> csv = ReadCsvColumns(
      "x,color\n1.5,red\n2.5,blue\n,red\ninf,\n3.25,red\n-1e3,green\n2.5,red\n8,blue\n9,red\n10,red\n"
      "11,red\n12,red\n13,red\n14,red\n15,red\n16,red\n17,red\n18,red\n19,red\n20,red\n21,red\n22,red\n");
  EXPECT_TRUE(csv.ok());
  std::vector<ColumnSample> samples;
  for (size_t i = 0; i < csv->names.size(); ++i) samples.push_back(*csv->columns[i].Finish(csv->names[i]));
  return MakeProfile(samples);
}

TEST(ProfileJson, RoundTrip) {
  Profile p = TwoColumnProfile();
  ASSERT_EQ(p.columns.size(), 2u);
  std::string json = ProfileToJson(p);
  Result<Profile> back = ParseProfile(json);
  ASSERT_TRUE(back.ok()) << back.status().message() << "\n" << json;
  EXPECT_EQ(ProfileToJson(*back), json);
  const ColumnProfile& x = back->columns[0];
  EXPECT_EQ(x.kind, ColumnKind::kNumeric);
  EXPECT_EQ(x.missing, 1u);
  EXPECT_EQ(x.infinite, 1u);
  EXPECT_EQ(x.moments.min, -1000);
  EXPECT_NEAR(x.moments.Std(), p.columns[0].moments.Std(), 1e-12);
  EXPECT_EQ(back->columns[1].categories[0], "red");
  EXPECT_EQ(back->rows, 22u);
}

TEST(ProfileJson, OverflowingMomentsAreNull) {
  // The variance of +-1e308 does not fit a double: std is written null and read back as NaN.
  Profile p = MakeProfile({Sample({"1e308", "-1e308", "0", "1"})});
  EXPECT_FALSE(std::isfinite(p.columns[0].moments.Std()));
  std::string json = ProfileToJson(p);
  EXPECT_NE(json.find("\"std\": null"), std::string::npos) << json;
  Result<Profile> back = ParseProfile(json);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(ProfileToJson(*back), json);
}

void ExpectRefused(const std::string& json, const std::string& message) {
  Result<Profile> p = ParseProfile(json);
  ASSERT_FALSE(p.ok()) << json;
  EXPECT_NE(p.status().message().find(message), std::string::npos) << p.status().message();
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? s : s.replace(at, from.size(), to);
}

TEST(ProfileJson, HostileDocumentsAreRefused) {
  std::string good = ProfileToJson(TwoColumnProfile());
  ExpectRefused("", "profile: malformed JSON");
  ExpectRefused("[]", "profile: not a JSON object");
  ExpectRefused(std::string(100, '[') + std::string(100, ']'), "profile");
  ExpectRefused(std::string(kMaxProfileBytes + 1, ' '), "larger than");
  ExpectRefused(Replace(good, "forja-profile", "other"), "format");
  ExpectRefused(Replace(good, "\"version\": 1", "\"version\": 2"), "version: 2 is not supported");
  ExpectRefused(Replace(good, "\"kind\": \"numeric\"", "\"kind\": \"image\""), "columns[0].kind");
  ExpectRefused(Replace(good, "\"missing\": 1", "\"missing\": -1"), "columns[0].missing: not a non-negative");
  ExpectRefused(Replace(good, "\"missing\": 1", "\"missing\": 99"), "columns[0].missing");
  ExpectRefused(Replace(good, "\"name\": \"color\"", "\"name\": \"x\""), "columns[1].name: 'x' repeated");
  ExpectRefused(Replace(good, "\"name\": \"color\"", "\"name\": \"\""), "columns[1].name: empty");
  ExpectRefused(Replace(good, "\"edges\": [-1000, ", "\"edges\": [1e300, "), "columns[0].edges: not strictly increasing");
  ExpectRefused(Replace(good, "\"edges\": [-1000, ", "\"edges\": [\"a\", "), "columns[0].edges[0]: not a finite number");
  ExpectRefused(Replace(good, "\"counts\": [1, ", "\"counts\": [2, "), "columns[0].counts: do not add up to n");
  ExpectRefused(Replace(good, "\"other\": 0", "\"other\": 5"), "columns[1].counts: do not add up");
  ExpectRefused(Replace(good, "\"std\": ", "\"std\": -"), "columns[0].std: negative");
  ExpectRefused(Replace(good, "\"rows\": 22, \"columns\"", "\"rows\": 23, \"columns\""), "columns[0].rows");
  std::string many_edges = "[0";
  for (int i = 1; i < 200; ++i) many_edges += ", " + std::to_string(i);
  ExpectRefused(Replace(good, "\"edges\": [", "\"edges\": " + many_edges + "], \"old\": ["), "columns[0].edges: more than");
}

}  // namespace
}  // namespace forja::monitor
