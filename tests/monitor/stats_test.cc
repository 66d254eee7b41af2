// The statistics against values scipy 1.17.1 printed for the same inputs: the samples are
// A(n, mul, mod, shift)[i] = (i * mul % mod) / 10 + shift, built alike in Python
// (np.array([(i*mul % mod)/10.0 + shift for i in range(n)])) and here; the expectations
// come from stats.ks_2samp, stats.wasserstein_distance, stats.chisquare, stats.chi2.sf,
// distance.jensenshannon, stats.kstwobign.sf and scipy.stats.norm for Evidently's z-test.
#include "forja/monitor/stats.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace forja::monitor {
namespace {

std::vector<double> A(int n, int mul, int mod, double shift = 0) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(static_cast<double>(i * mul % mod) / 10.0 + shift);
  std::sort(v.begin(), v.end());
  return v;
}

struct KsCase {
  const char* name;
  std::vector<double> a, b;
  double ks, p, w;
};

TEST(Stats, KsAndWassersteinMatchScipy) {
  std::vector<KsCase> cases = {
      {"equal_n", A(60, 37, 101), A(60, 53, 97, 2.0), 0.2, 0.18205691052851009, 1.5933333333333333},
      {"unequal_n", A(80, 37, 101), A(50, 53, 97, 1.6), 0.1625, 0.3512117991279779, 1.1235},
      {"ties", A(40, 3, 7), A(30, 5, 11), 0.36666666666666664, 0.015347812678831072, 0.20083333333333334},
      {"large", A(3000, 37, 1009), A(2500, 53, 997, 3.0), 0.029866666666666666, 0.17186641038480532, 2.35538},
  };
  for (const KsCase& c : cases) {
    SCOPED_TRACE(c.name);
    double d = KsStatistic(c.a, c.b);
    EXPECT_NEAR(d, c.ks, 1e-12);
    EXPECT_NEAR(KsPValue(d, c.a.size(), c.b.size()), c.p, 1e-9 * std::max(1.0, c.p));
    EXPECT_NEAR(WassersteinDistance(c.a, c.b), c.w, 1e-9);
  }
}

TEST(Stats, KsAsymptoticIsCloseToScipy) {
  // Over 10,000 values scipy uses its exact kstwo at n = round(n1 n2 / (n1 + n2)); forja the
  // limiting distribution with Stephens' correction: within 2% of the p-value here.
  std::vector<double> a = A(800, 37, 1009), b = A(12000, 53, 997, 5.0);
  double d = KsStatistic(a, b);
  EXPECT_NEAR(d, 0.05441666666666667, 1e-12);
  EXPECT_NEAR(KsPValue(d, a.size(), b.size()), 0.022674176546611566, 0.02 * 0.0227);
}

TEST(Stats, KsEdgeCases) {
  EXPECT_EQ(KsStatistic({1, 2, 3}, {1, 2, 3}), 0.0);
  EXPECT_EQ(KsPValue(0.0, 3, 3), 1.0);
  EXPECT_EQ(KsStatistic({1, 2}, {3, 4}), 1.0);
  // Two samples of 2 fully apart: 2 of the C(4,2) = 6 orderings are as extreme.
  EXPECT_NEAR(KsPValue(1.0, 2, 2), 2.0 / 6.0, 1e-15);
  EXPECT_TRUE(std::isnan(KsStatistic({}, {1})));
  EXPECT_TRUE(std::isnan(KsPValue(0.5, 0, 4)));
}

TEST(Stats, WassersteinByHand) {
  // Moving every unit of mass by 1 costs 1.
  EXPECT_DOUBLE_EQ(WassersteinDistance({0, 1, 2}, {1, 2, 3}), 1.0);
  // Half the mass moves 10.
  EXPECT_DOUBLE_EQ(WassersteinDistance({0, 0}, {0, 10}), 5.0);
  EXPECT_DOUBLE_EQ(WassersteinDistance({5, 5, 5}, {5}), 0.0);
}

TEST(Stats, ChiSquareMatchesScipy) {
  // stats.chisquare([12,18,35,35], [x * 1.0 for x in [10,20,30,40]]).pvalue
  EXPECT_NEAR(ChiSquarePValue({10, 20, 30, 40}, {12, 18, 35, 35}), 0.5603880940389341, 1e-12);
  EXPECT_NEAR(ChiSquareSurvival(3.5, 2), 0.1737739434504451, 1e-14);
  EXPECT_NEAR(ChiSquareSurvival(40.0, 7), 1.258790387371308e-06, 1e-17);
  EXPECT_NEAR(ChiSquareSurvival(0.5, 9), 0.9999695662588389, 1e-14);
  EXPECT_NEAR(ChiSquareSurvival(150.0, 3) / 2.6349139284880416e-32, 1.0, 1e-9);
  // A category the reference never had: infinite statistic, p = 0 (scipy gives the same).
  EXPECT_EQ(ChiSquarePValue({10, 10, 0}, {10, 10, 1}), 0.0);
}

TEST(Stats, ZTestMatchesEvidently) {
  // Evidently's proportions_diff_z_test on 30/100 vs 45/120 of the first key.
  EXPECT_NEAR(ZTestPValue({30, 70}, {45, 75}), 0.24258357934832153, 1e-12);
  EXPECT_EQ(ZTestPValue({10, 0}, {7, 0}), 1.0);  // one and the same value on both sides
  EXPECT_LT(ZTestPValue({10, 0}, {0, 7}), 0.05);
}

TEST(Stats, JensenShannonMatchesScipy) {
  EXPECT_NEAR(JensenShannonDistance({10, 20, 30, 40}, {12, 18, 35, 35}), 0.050148717299253014, 1e-12);
  EXPECT_NEAR(JensenShannonDistance({1, 0}, {0, 1}), 0.8325546111576977, 1e-12);  // sqrt(ln 2)
  EXPECT_NEAR(JensenShannonDistance({5, 5, 0}, {2, 3, 5}), 0.4681105951502406, 1e-12);
  EXPECT_EQ(JensenShannonDistance({1, 2, 3}, {2, 4, 6}), 0.0);
}

TEST(Stats, PsiByHand) {
  // (0.5 - 0.25) ln 2 + (0.5 - 0.75) ln(2/3)
  EXPECT_NEAR(Psi({0.5, 0.5}, {0.25, 0.75}), 0.25 * std::log(2.0) - 0.25 * std::log(2.0 / 3.0), 1e-15);
  EXPECT_EQ(Psi({0.2, 0.8}, {0.2, 0.8}), 0.0);
  // An empty current share becomes 1e-4 (the smallest non-empty one, 0.5, is over 1e-4).
  EXPECT_NEAR(Psi({0.5, 0.5}, {1.0, 0.0}), (0.5 - 1.0) * std::log(0.5) + (0.5 - 1e-4) * std::log(0.5 / 1e-4), 1e-12);
}

TEST(Stats, KolmogorovSurvivalMatchesScipy) {
  EXPECT_NEAR(KolmogorovSurvival(0.5), 0.9639452436648751, 1e-12);
  EXPECT_NEAR(KolmogorovSurvival(1.0), 0.26999967167735456, 1e-12);
  EXPECT_NEAR(KolmogorovSurvival(1.36), 0.049485876755377876, 1e-12);
}

}  // namespace
}  // namespace forja::monitor
