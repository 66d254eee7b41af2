// Counting a current profile on a reference profile's bins (profile_window.h).
#include "forja/monitor/profile_window.h"

#include <algorithm>
#include <cmath>

namespace forja::monitor {

namespace {

// The share of the current values at or below x, linear between the profile's quantiles.
double Cdf(const ColumnProfile& c, double x) {
  const std::vector<double>& q = c.quantiles;
  if (q.empty() || x < q.front()) return 0;
  if (x >= q.back()) return 1;
  size_t hi = static_cast<size_t>(std::upper_bound(q.begin(), q.end(), x) - q.begin());  // q[hi-1] <= x < q[hi]
  double lo_q = q[hi - 1], hi_q = q[hi];
  double step = 1.0 / static_cast<double>(q.size() - 1);
  double frac = hi_q > lo_q ? (x - lo_q) / (hi_q - lo_q) : 0;
  return (static_cast<double>(hi - 1) + frac) * step;
}

// Current values of a discrete column, each with its exact count.
void CountDiscrete(const ColumnProfile& ref, const ColumnProfile& cur, ColumnWindow* w) {
  for (size_t j = 0; j < cur.edges.size() && j < cur.counts.size(); ++j) {
    double v = cur.edges[j];
    uint64_t n = cur.counts[j];
    int b = ref.NumericBin(v);
    if (b >= 0) {
      w->counts[static_cast<size_t>(b)] += n;
    } else if (b == -1) {
      w->below += n;
    } else if (b == -2) {
      w->above += n;
    } else {
      w->other += n;
      if (int g = ref.Gap(v); g >= 0) w->gaps[static_cast<size_t>(g)] += n;
    }
  }
}

// Current values of a continuous column, spread by its CDF: the count up to x is
// round(present * F(x)), so the counts add up to `present` exactly.
void CountContinuous(const ColumnProfile& ref, const ColumnProfile& cur, ColumnWindow* w) {
  const double n = static_cast<double>(cur.present());
  auto upto = [&](double x) { return static_cast<uint64_t>(std::llround(n * Cdf(cur, x))); };
  auto below = [&](double x) {  // strictly below x
    return static_cast<uint64_t>(std::llround(n * Cdf(cur, std::nextafter(x, -INFINITY))));
  };
  const std::vector<double>& e = ref.edges;
  if (e.empty()) {
    w->above = cur.present();
    return;
  }
  w->below = below(e.front());
  if (!ref.discrete) {
    uint64_t prev = w->below;
    for (size_t i = 0; i + 1 < e.size(); ++i) {
      uint64_t at = i + 2 == e.size() ? upto(e[i + 1]) : below(e[i + 1]);  // the last bin is closed
      w->counts[i] = at - prev;
      prev = at;
    }
    w->above = cur.present() - prev;
    return;
  }
  // Discrete reference: a continuous current column rarely hits a listed value; the mass
  // between listed values lies in the gaps.
  uint64_t prev = w->below;
  for (size_t i = 0; i < e.size(); ++i) {
    uint64_t at = upto(e[i]);
    uint64_t before = below(e[i]);
    if (i > 0) {
      uint64_t gap = before - prev;
      w->gaps[i - 1] += gap;
      w->other += gap;
    }
    w->counts[i] = at - before;
    prev = at;
  }
  w->above = cur.present() - prev;
}

void CountCategories(const ColumnProfile& ref, const ColumnProfile& cur, ColumnWindow* w) {
  for (size_t j = 0; j < cur.categories.size() && j < cur.counts.size(); ++j) {
    int i = ref.CategoryIndex(cur.categories[j]);
    if (i >= 0) w->counts[static_cast<size_t>(i)] += cur.counts[j];
    else w->other += cur.counts[j];
  }
  w->other += cur.other;
}

}  // namespace

Result<Window> WindowOfProfile(const Profile& reference, const Profile& current) {
  Window window(reference);
  for (size_t i = 0; i < reference.columns.size(); ++i) {
    const ColumnProfile& ref = reference.columns[i];
    int found = current.Find(ref.name);
    if (found < 0) return Status::User("the current profile has no column '" + ref.name + "'");
    const ColumnProfile& cur = current.columns[static_cast<size_t>(found)];
    if (cur.kind != ref.kind)
      return Status::User("column '" + ref.name + "' is " + KindName(ref.kind) + " in the reference and " +
                          KindName(cur.kind) + " in the current profile");
    ColumnWindow& w = window.mutable_column(i);
    w.rows = cur.rows;
    w.missing = cur.missing;
    w.infinite = cur.infinite;
    if (ref.kind != ColumnKind::kNumeric) {
      CountCategories(ref, cur, &w);
      continue;
    }
    w.moments = cur.moments;
    if (cur.discrete) CountDiscrete(ref, cur, &w);
    else CountContinuous(ref, cur, &w);
  }
  return window;
}

}  // namespace forja::monitor
