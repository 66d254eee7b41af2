// Drift verdicts: Evidently's choice of test, the documented verdicts for empty, constant,
// all-missing and non-finite columns, exact and binned comparisons agreeing on clear cases.
#include "forja/monitor/drift.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "forja/core/json.h"

namespace forja::monitor {
namespace {

ColumnSample Column(const std::vector<std::string>& cells, const ColumnSample* reference = nullptr) {
  SampleBuilder b;
  for (const std::string& c : cells) b.Add(c);
  Result<ColumnSample> s = reference ? b.Finish("x", reference->kind) : b.Finish("x");
  EXPECT_TRUE(s.ok()) << s.status().message();
  return *s;
}

// n values of a smooth, deterministic spread around `mean`.
std::vector<std::string> Spread(int n, double mean, double scale) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(std::to_string(mean + scale * ((i * 7919 % 1000) / 500.0 - 1.0)));
  return out;
}

TEST(Drift, ChooseMethodIsEvidentlysTable) {
  using K = ColumnKind;
  EXPECT_EQ(ChooseMethod(K::kNumeric, 1000, 6).method, Method::kKs);
  EXPECT_EQ(ChooseMethod(K::kNumeric, 1000, 5).method, Method::kChiSquare);
  EXPECT_EQ(ChooseMethod(K::kNumeric, 1000, 2).method, Method::kZ);
  EXPECT_EQ(ChooseMethod(K::kNumeric, 1001, 6).method, Method::kWasserstein);
  EXPECT_EQ(ChooseMethod(K::kNumeric, 1001, 5).method, Method::kJensenShannon);
  EXPECT_EQ(ChooseMethod(K::kCategorical, 1000, 3).method, Method::kChiSquare);
  EXPECT_EQ(ChooseMethod(K::kCategorical, 10, 2).method, Method::kZ);
  EXPECT_EQ(ChooseMethod(K::kCategorical, 1001, 2).method, Method::kJensenShannon);
  EXPECT_EQ(ChooseMethod(K::kText, 5000, 5000).method, Method::kNone);
  EXPECT_EQ(ChooseMethod(K::kNumeric, 5000, 100).threshold, 0.1);
  EXPECT_EQ(ChooseMethod(K::kNumeric, 500, 100).threshold, 0.05);
}

TEST(Drift, MeanShiftIsFoundBothWays) {
  for (int n : {500, 5000}) {
    SCOPED_TRACE(n);
    ColumnSample ref = Column(Spread(n, 0, 1));
    ColumnSample same = Column(Spread(n, 0.01, 1), &ref);
    ColumnSample shifted = Column(Spread(n, 0.5, 1), &ref);
    EXPECT_EQ(CompareSamples(ref, same).verdict, Verdict::kNoDrift);
    ColumnDrift d = CompareSamples(ref, shifted);
    EXPECT_EQ(d.verdict, Verdict::kDrift);
    EXPECT_EQ(d.method, n > 1000 ? Method::kWasserstein : Method::kKs);
    EXPECT_GT(d.psi, 0.1);
    // A uniform spread of width 2 moved by 0.5: W = 0.5, the std is 2 / sqrt(12).
    EXPECT_NEAR(d.wasserstein, 0.5 / (2 / std::sqrt(12.0)), 0.01);
    EXPECT_NEAR(d.out_of_reference_share, 0.25, 0.01);
    // The binned comparison a live window makes agrees on a clear case, and is close.
    ColumnProfile profile = MakeColumnProfile(ref);
    Profile p;
    p.columns = {profile};
    Window w(p);
    for (double v : shifted.values) w.AddNumber(0, v);
    ColumnDrift live = CompareWindow(profile, w.column(0));
    EXPECT_EQ(live.verdict, Verdict::kDrift);
    ColumnDrift counted = CompareWindow(profile, CountSample(profile, shifted));  // the same counts
    EXPECT_EQ(counted.wasserstein, live.wasserstein);
    EXPECT_EQ(counted.ks_statistic, live.ks_statistic);
    EXPECT_NEAR(live.wasserstein, d.wasserstein, 0.02);
    EXPECT_NEAR(live.ks_statistic, d.ks_statistic, 0.03);
    EXPECT_NEAR(live.psi, d.psi, 1e-12);  // both on the profile's bins
  }
}

TEST(Drift, UnlistedValuesOfADiscreteProfileCount) {
  // Ten listed values; live traffic only between them: the binned KS and Wasserstein still see
  // it (halfway between its neighbours), as the exact comparison does.
  std::vector<std::string> ref_cells, cur_cells;
  for (int i = 0; i < 500; ++i) {
    ref_cells.push_back(std::to_string(i % 10) + ".25");  // floats: numeric, 10 values
    cur_cells.push_back(std::to_string(i % 9) + ".75");  // halfway between two of them
  }
  ColumnSample ref = Column(ref_cells);
  ColumnSample cur = Column(cur_cells, &ref);
  ColumnProfile profile = MakeColumnProfile(ref);
  ASSERT_TRUE(profile.discrete);
  Profile p;
  p.columns = {profile};
  Window w(p);
  for (double v : cur.values) w.AddNumber(0, v);
  EXPECT_EQ(w.column(0).other, 500u);
  EXPECT_EQ(w.column(0).gaps[3], 56u);  // 3.75: i % 9 == 3
  ColumnDrift live = CompareWindow(profile, w.column(0));
  ColumnDrift exact = CompareSamples(ref, cur);
  EXPECT_EQ(live.method, Method::kKs);
  EXPECT_EQ(exact.method, Method::kKs);
  EXPECT_EQ(live.verdict, exact.verdict);
  EXPECT_NEAR(live.ks_statistic, exact.ks_statistic, 1e-12);
  EXPECT_NEAR(live.wasserstein, exact.wasserstein, 1e-12);
  EXPECT_EQ(live.out_of_reference_share, 1.0);
}

TEST(Drift, EmptyWindowIsNoCurrent) {
  ColumnSample ref = Column(Spread(100, 0, 1));
  ColumnProfile profile = MakeColumnProfile(ref);
  ColumnWindow empty;
  empty.counts.assign(profile.counts.size(), 0);
  ColumnDrift d = CompareWindow(profile, empty);
  EXPECT_EQ(d.verdict, Verdict::kNoCurrent);
  EXPECT_TRUE(std::isnan(d.current_missing_share));
  EXPECT_TRUE(std::isnan(d.score));
  DatasetDrift all = Summarize({d});
  EXPECT_EQ(all.tested, 0u);
  EXPECT_FALSE(all.drift);
  EXPECT_EQ(all.share, 0.0);
}

TEST(Drift, AllMissingColumns) {
  ColumnSample nothing = Column({"", "NA", "nan"});
  ColumnSample some = Column({"1", "2", "3"}, &nothing);
  EXPECT_EQ(CompareSamples(nothing, some).verdict, Verdict::kNoReference);
  ColumnSample ref = Column(Spread(50, 0, 1));
  ColumnSample gone = Column({"", "", "inf", "-inf"}, &ref);
  ColumnDrift d = CompareSamples(ref, gone);
  EXPECT_EQ(d.verdict, Verdict::kNoCurrent);
  EXPECT_EQ(d.current_missing_share, 1.0);
  EXPECT_EQ(d.reference_missing_share, 0.0);
}

TEST(Drift, ConstantColumns) {
  ColumnSample ref = Column(std::vector<std::string>(2000, "3.5"));
  // Same constant: Jensen-Shannon 0 (one value; n > 1000).
  ColumnDrift same = CompareSamples(ref, Column(std::vector<std::string>(100, "3.5"), &ref));
  EXPECT_EQ(same.method, Method::kJensenShannon);
  EXPECT_EQ(same.verdict, Verdict::kNoDrift);
  EXPECT_EQ(same.score, 0.0);
  EXPECT_EQ(same.wasserstein, 0.0);
  // Another constant: two values in all, disjoint, the std floor 0.001 keeps W finite.
  ColumnDrift moved = CompareSamples(ref, Column(std::vector<std::string>(100, "4.5"), &ref));
  EXPECT_EQ(moved.verdict, Verdict::kDrift);
  EXPECT_NEAR(moved.wasserstein, 1.0 / 0.001, 1e-6);
  EXPECT_EQ(moved.out_of_reference_share, 1.0);
  // Small reference: z-test; the same single value on both sides is p = 1.
  ColumnSample small = Column(std::vector<std::string>(20, "1.5"));
  ColumnDrift z = CompareSamples(small, Column(std::vector<std::string>(20, "1.5"), &small));
  EXPECT_EQ(z.method, Method::kZ);
  EXPECT_EQ(z.score, 1.0);
}

TEST(Drift, NonFiniteValuesAreLeftOutAndCounted) {
  std::vector<std::string> ref_cells = Spread(400, 0, 1), cur_cells = Spread(400, 0, 1);
  for (int i = 0; i < 100; ++i) cur_cells[i] = i % 2 ? "inf" : "NaN";
  ColumnSample ref = Column(ref_cells);
  ColumnDrift d = CompareSamples(ref, Column(cur_cells, &ref));
  EXPECT_EQ(d.current_n, 300u);
  EXPECT_EQ(d.current_missing_share, 0.25);
  EXPECT_FALSE(std::isnan(d.score));
}

TEST(Drift, NewCategoryDrifts) {
  std::vector<std::string> ref_cells, cur_cells;
  for (int i = 0; i < 600; ++i) {
    ref_cells.push_back(i % 3 == 0 ? "a" : i % 3 == 1 ? "b" : "c");
    cur_cells.push_back(i % 10 == 0 ? "new" : ref_cells.back());
  }
  ColumnSample ref = Column(ref_cells);
  ColumnDrift d = CompareSamples(ref, Column(cur_cells, &ref));
  EXPECT_EQ(d.method, Method::kChiSquare);
  EXPECT_EQ(d.score, 0.0);  // a category the reference never had
  EXPECT_EQ(d.verdict, Verdict::kDrift);
  EXPECT_NEAR(d.out_of_reference_share, 0.1, 1e-12);
}

TEST(Drift, DatasetShareAndJson) {
  ColumnDrift drifted, calm, text;
  drifted.verdict = Verdict::kDrift;
  calm.verdict = Verdict::kNoDrift;
  text.verdict = Verdict::kNotTested;
  drifted.name = "a\"b";
  DatasetDrift half = Summarize({drifted, calm, text});
  EXPECT_EQ(half.tested, 2u);
  EXPECT_EQ(half.share, 0.5);
  EXPECT_TRUE(half.drift);  // >= 0.5, as Evidently
  EXPECT_FALSE(Summarize({drifted, calm, calm}).drift);
  std::string json = DriftToJson(half);
  JsonDoc doc;
  ASSERT_TRUE(doc.Parse(json).ok()) << json;
  const JsonNode* columns = doc.Find(doc.root(), "columns");
  ASSERT_NE(columns, nullptr);
  EXPECT_EQ(columns->count, 3u);
  EXPECT_EQ(JsonString(*doc.Find(*doc.First(*columns), "name")), "a\"b");
}

}  // namespace
}  // namespace forja::monitor
