// The two-sample statistics drift is measured with, each computed as scipy computes it (the
// library Evidently calls), so that forja's verdicts equal Evidently's: tests/monitor checks
// each against values scipy printed. drift.h chooses which one decides a column.
#pragma once

#include <cstdint>
#include <vector>

namespace forja::monitor {

// ---- samples (sorted, finite values) ---------------------------------------------------

// Largest distance between the two empirical CDFs (scipy.stats.ks_2samp's statistic).
double KsStatistic(const std::vector<double>& a, const std::vector<double>& b);
// Two-sided p-value of a KS statistic `d` for samples of n1 and n2 values, as ks_2samp's
// method="auto": exact when both are at most 10,000 (d rounded to the lattice of 1/lcm, the
// lattice-path counts of Hodges, with Viehmann's recursion for 1 - p when n1 != n2); beyond, the
// asymptotic Kolmogorov distribution at n = round(n1 n2 / (n1 + n2)) with Stephens' small-n
// correction, within about 1e-3 of scipy's exact kstwo (which forja does not reimplement).
double KsPValue(double d, uint64_t n1, uint64_t n2);
// The first Wasserstein distance between the empirical distributions
// (scipy.stats.wasserstein_distance): the area between the two CDFs.
double WassersteinDistance(const std::vector<double>& a, const std::vector<double>& b);

// ---- counts over the same keys ---------------------------------------------------------

// Pearson's chi-square test of observed counts against the reference counts scaled to the
// observed total (Evidently's chisquare): the p-value. A key the reference never had but the
// current data has makes the statistic infinite and the p-value 0, as in scipy.
double ChiSquarePValue(const std::vector<double>& reference, const std::vector<double>& current);
// The two-proportion z-test on the share of the first key (Evidently's "z"): the two-sided
// p-value; 1 when both sides hold the same single key.
double ZTestPValue(const std::vector<double>& reference, const std::vector<double>& current);
// The Jensen-Shannon distance (natural log, so at most sqrt(ln 2)) between two count or share
// vectors, each normalised to sum 1 (scipy.spatial.distance.jensenshannon).
double JensenShannonDistance(const std::vector<double>& p, const std::vector<double>& q);
// The population stability index sum (r - c) ln(r / c) over shares, empty shares replaced as
// Evidently does: by min(non-empty share) / 1e6 when that is at most 1e-4, else by 1e-4.
double Psi(const std::vector<double>& reference, const std::vector<double>& current);

// ---- distributions -----------------------------------------------------------------------

// Upper tail of the chi-square distribution with df degrees of freedom (the regularised
// upper incomplete gamma Q(df/2, x/2): series below a + 1, Lentz's continued fraction above).
double ChiSquareSurvival(double x, double df);
// Upper tail of the limiting Kolmogorov distribution, P(K > lambda).
double KolmogorovSurvival(double lambda);

}  // namespace forja::monitor
