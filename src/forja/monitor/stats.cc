#include "forja/monitor/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace forja::monitor {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Number of elements of sorted v that are <= x, starting the search at *pos (x only grows).
size_t CountUpTo(const std::vector<double>& v, double x, size_t* pos) {
  while (*pos < v.size() && v[*pos] <= x) ++*pos;
  return *pos;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int64_t CeilDiv(int64_t a, int64_t b) { return -FloorDiv(-a, b); }

// P(D >= h/n) for two samples of n each: 2 sum_k (-1)^(k+1) C(2n, n - kh) / C(2n, n), written
// as 2 A0 (1 - A1 (1 - A2 (...))) with A_k the ratio of consecutive terms, which avoids the
// cancellation of the alternating sum.
double ProbOutsideSquare(int64_t n, int64_t h) {
  double p = 0;
  for (int64_t k = n / h; k >= 0; --k) {
    double a = 1;
    for (int64_t j = 0; j < h; ++j) a *= static_cast<double>(n - k * h - j) / static_cast<double>(n + k * h + j + 1);
    p = a * (1 - p);
  }
  return 2 * p;
}

// 1 - (the share of lattice paths from (0,0) to (m,n) that stay strictly inside
// |x/m - y/n| < h/lcm(m,n)), one column of the path counts at a time, each entry already
// divided by the number of paths reaching it, so nothing overflows (Viehmann 2021).
double ProbOutsideBand(int64_t m, int64_t n, int64_t g, int64_t h) {
  if (m < n) std::swap(m, n);
  int64_t mg = m / g, ng = n / g;
  int64_t minj = 0, maxj = std::min(CeilDiv(h, mg), n + 1);
  int64_t curlen = maxj - minj;
  std::vector<double> a(static_cast<size_t>(std::max<int64_t>(std::min(2 * maxj + 2, n + 1), n + 2)), 1.0);
  std::fill(a.begin() + minj, a.begin() + maxj, 0.0);
  for (int64_t i = 1; i <= m; ++i) {
    int64_t lastminj = minj, lastlen = curlen;
    minj = std::min(std::max(FloorDiv(ng * i - h, mg) + 1, int64_t{0}), n);
    maxj = std::min(CeilDiv(ng * i + h, mg), n + 1);
    if (maxj <= minj) return 1.0;
    double val = minj == 0 ? 0.0 : 1.0;
    for (int64_t jj = 0; jj < maxj - minj; ++jj) {
      int64_t j = jj + minj;
      val = (a[jj + minj - lastminj] * static_cast<double>(i) + val * static_cast<double>(j)) /
            static_cast<double>(i + j);
      a[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) std::fill(a.begin() + curlen, a.begin() + lastlen, 1.0);
  }
  return a[maxj - minj - 1];
}

std::vector<double> Normalised(const std::vector<double>& v) {
  double sum = std::accumulate(v.begin(), v.end(), 0.0);
  std::vector<double> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = v[i] / sum;
  return out;
}

// scipy.special.rel_entr
double RelEntr(double x, double y) {
  if (x > 0 && y > 0) return x * std::log(x / y);
  if (x == 0 && y >= 0) return 0;
  return kInf;
}

void FillEmptyShares(std::vector<double>* v) {
  double min_nonzero = kInf;
  for (double x : *v) {
    if (x != 0) min_nonzero = std::min(min_nonzero, x);
  }
  if (min_nonzero == kInf) return;
  double fill = min_nonzero <= 1e-4 ? min_nonzero / 1e6 : 1e-4;
  for (double& x : *v) {
    if (x == 0) x = fill;
  }
}

// Regularised lower incomplete gamma P(a, x) by its series, for x < a + 1.
double GammaPSeries(double a, double x) {
  double term = 1 / a, sum = term;
  for (int k = 1; k < 10000; ++k) {
    term *= x / (a + k);
    sum += term;
    if (std::abs(term) < std::abs(sum) * 1e-16) break;
  }
  return sum * std::exp(-x + a * std::log(x) - std::lgamma(a));
}

// Regularised upper incomplete gamma Q(a, x) by its continued fraction, for x >= a + 1.
double GammaQFraction(double a, double x) {
  constexpr double kTiny = 1e-300;
  double b = x + 1 - a, c = 1 / kTiny, d = 1 / b, h = d;
  for (int i = 1; i < 10000; ++i) {
    double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::abs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1 / d;
    double delta = d * c;
    h *= delta;
    if (std::abs(delta - 1) < 1e-16) break;
  }
  return std::exp(-x + a * std::log(x) - std::lgamma(a)) * h;
}

}  // namespace

double KsStatistic(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.empty() || b.empty()) return kNaN;
  double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size()), d = 0;
  size_t ia = 0, ib = 0;
  while (ia < a.size() || ib < b.size()) {
    double x = ib >= b.size() || (ia < a.size() && a[ia] <= b[ib]) ? a[ia] : b[ib];
    CountUpTo(a, x, &ia);
    CountUpTo(b, x, &ib);
    d = std::max(d, std::abs(static_cast<double>(ia) / na - static_cast<double>(ib) / nb));
  }
  return d;
}

double KsPValue(double d, uint64_t n1, uint64_t n2) {
  if (n1 == 0 || n2 == 0 || std::isnan(d)) return kNaN;
  if (std::max(n1, n2) <= 10000) {
    int64_t g = std::gcd(static_cast<int64_t>(n1), static_cast<int64_t>(n2));
    int64_t lcm = static_cast<int64_t>(n1) / g * static_cast<int64_t>(n2);
    int64_t h = std::llround(d * static_cast<double>(lcm));
    if (h == 0) return 1.0;
    double p = n1 == n2 ? ProbOutsideSquare(static_cast<int64_t>(n1), h)
                        : ProbOutsideBand(static_cast<int64_t>(n1), static_cast<int64_t>(n2), g, h);
    if (p >= 0 && p <= 1) return p;  // else rounding failed: fall through, as scipy does
  }
  double m = static_cast<double>(std::max(n1, n2)), n = static_cast<double>(std::min(n1, n2));
  double en = std::round(m * n / (m + n));
  double root = std::sqrt(en);
  return std::clamp(KolmogorovSurvival((root + 0.12 + 0.11 / root) * d), 0.0, 1.0);
}

double WassersteinDistance(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.empty() || b.empty()) return kNaN;
  double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size()), sum = 0;
  size_t ia = 0, ib = 0;
  double x = std::min(a.front(), b.front());
  while (ia < a.size() || ib < b.size()) {
    CountUpTo(a, x, &ia);
    CountUpTo(b, x, &ib);
    if (ia == a.size() && ib == b.size()) break;
    double next = ib >= b.size() || (ia < a.size() && a[ia] <= b[ib]) ? a[ia] : b[ib];
    sum += std::abs(static_cast<double>(ia) / na - static_cast<double>(ib) / nb) * (next - x);
    x = next;
  }
  return sum;
}

double ChiSquarePValue(const std::vector<double>& reference, const std::vector<double>& current) {
  double ref_total = std::accumulate(reference.begin(), reference.end(), 0.0);
  double cur_total = std::accumulate(current.begin(), current.end(), 0.0);
  if (ref_total <= 0 || cur_total <= 0 || reference.size() < 2) return kNaN;
  double k = cur_total / ref_total, stat = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    double expected = reference[i] * k, diff = current[i] - expected;
    if (expected == 0) {
      if (current[i] > 0) return 0.0;  // infinite statistic
      continue;
    }
    stat += diff * diff / expected;
  }
  return ChiSquareSurvival(stat, static_cast<double>(reference.size() - 1));
}

double ZTestPValue(const std::vector<double>& reference, const std::vector<double>& current) {
  auto single = [](const std::vector<double>& v) {
    int nonzero = 0, at = -1;
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] > 0) ++nonzero, at = static_cast<int>(i);
    }
    return nonzero == 1 ? at : -1;
  };
  int rs = single(reference);
  if (rs >= 0 && rs == single(current)) return 1.0;
  double n1 = std::accumulate(reference.begin(), reference.end(), 0.0);
  double n2 = std::accumulate(current.begin(), current.end(), 0.0);
  if (n1 <= 0 || n2 <= 0 || reference.empty()) return kNaN;
  double p1 = (n1 - reference[0]) / n1, p2 = (n2 - current[0]) / n2;  // share not the first key
  double pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  double z = (p1 - p2) / std::sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  return std::erfc(std::abs(z) / std::sqrt(2.0));
}

double JensenShannonDistance(const std::vector<double>& p, const std::vector<double>& q) {
  std::vector<double> pn = Normalised(p), qn = Normalised(q);
  double js = 0;
  for (size_t i = 0; i < pn.size(); ++i) {
    double m = (pn[i] + qn[i]) / 2;
    js += RelEntr(pn[i], m) + RelEntr(qn[i], m);
  }
  return std::sqrt(std::max(0.0, js / 2));
}

double Psi(const std::vector<double>& reference, const std::vector<double>& current) {
  std::vector<double> r = reference, c = current;
  FillEmptyShares(&r);
  FillEmptyShares(&c);
  double psi = 0;
  for (size_t i = 0; i < r.size(); ++i) psi += (r[i] - c[i]) * std::log(r[i] / c[i]);
  return psi;
}

double ChiSquareSurvival(double x, double df) {
  if (std::isnan(x) || df <= 0) return kNaN;
  if (x <= 0) return 1.0;
  if (std::isinf(x)) return 0.0;
  double a = df / 2, half = x / 2;
  return half < a + 1 ? 1 - GammaPSeries(a, half) : GammaQFraction(a, half);
}

double KolmogorovSurvival(double lambda) {
  if (lambda <= 0) return 1.0;
  if (lambda < 0.2) return 1.0;  // the series converges slowly here; the tail is 1 to 1e-16
  double sum = 0, sign = 1;
  for (int k = 1; k < 200; ++k) {
    double term = std::exp(-2.0 * k * k * lambda * lambda);
    sum += sign * term;
    if (term < 1e-17) break;
    sign = -sign;
  }
  return std::clamp(2 * sum, 0.0, 1.0);
}

}  // namespace forja::monitor
