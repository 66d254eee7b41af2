#include "forja/monitor/drift.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "forja/core/json.h"
#include "forja/monitor/stats.h"

namespace forja::monitor {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double Share(uint64_t part, uint64_t whole) {
  return whole == 0 ? kNaN : static_cast<double>(part) / static_cast<double>(whole);
}

// Reference and current counts over the same buckets, buckets empty on both sides left out.
struct Buckets {
  std::vector<double> ref, cur;
  void Add(uint64_t r, uint64_t c) {
    if (r == 0 && c == 0) return;
    ref.push_back(static_cast<double>(r));
    cur.push_back(static_cast<double>(c));
  }
};

// The profile's buckets, with the window's values outside them as buckets of their own.
Buckets ProfileBuckets(const ColumnProfile& ref, const ColumnWindow& cur) {
  Buckets b;
  if (ref.kind == ColumnKind::kNumeric) b.Add(0, cur.below);
  for (size_t i = 0; i < ref.counts.size(); ++i) b.Add(ref.counts[i], cur.counts[i]);
  if (ref.kind == ColumnKind::kNumeric) b.Add(0, cur.above);
  b.Add(ref.other, cur.other);
  return b;
}

std::vector<double> Shares(const std::vector<double>& counts) {
  double total = 0;
  for (double c : counts) total += c;
  std::vector<double> out;
  for (double c : counts) out.push_back(c / total);
  return out;
}

// Both CDFs at a knot: piecewise linear in between (continuous bins) or steps (discrete).
struct Knot {
  double x, ref, cur;
};

uint64_t Sum(const std::vector<uint64_t>& v) {
  uint64_t s = 0;
  for (uint64_t x : v) s += x;
  return s;
}

// The current values the CDFs place: in bins, listed values, gaps between them, or outside.
uint64_t Placed(const ColumnWindow& cur) { return cur.below + cur.above + Sum(cur.counts) + Sum(cur.gaps); }

// The two CDFs of a numeric window on the profile's bins. Unlisted values between two listed
// values of a discrete profile are placed halfway between them.
std::vector<Knot> BinnedCdfs(const ColumnProfile& ref, const ColumnWindow& cur) {
  std::vector<Knot> knots;
  double nr = static_cast<double>(ref.moments.n);
  double nc = static_cast<double>(Placed(cur));
  if (nr == 0 || nc == 0) return knots;
  double fr = 0, fc = static_cast<double>(cur.below) / nc;
  if (cur.below > 0) knots.push_back({cur.moments.min, 0, ref.discrete ? fc : 0});
  if (ref.discrete) {
    for (size_t i = 0; i < ref.edges.size(); ++i) {
      fr += static_cast<double>(ref.counts[i]) / nr;
      fc += static_cast<double>(cur.counts[i]) / nc;
      knots.push_back({ref.edges[i], fr, fc});
      if (i < cur.gaps.size() && i + 1 < ref.edges.size() && cur.gaps[i] > 0) {
        fc += static_cast<double>(cur.gaps[i]) / nc;
        knots.push_back({ref.edges[i] + (ref.edges[i + 1] - ref.edges[i]) / 2, fr, fc});
      }
    }
  } else {
    knots.push_back({ref.edges[0], 0, fc});
    for (size_t i = 0; i + 1 < ref.edges.size(); ++i) {
      fr += static_cast<double>(ref.counts[i]) / nr;
      fc += static_cast<double>(cur.counts[i]) / nc;
      knots.push_back({ref.edges[i + 1], fr, fc});
    }
  }
  if (cur.above > 0) knots.push_back({cur.moments.max, 1, 1});
  return knots;
}

double BinnedKs(const std::vector<Knot>& knots) {
  double d = 0;
  for (const Knot& k : knots) d = std::max(d, std::abs(k.ref - k.cur));
  return knots.empty() ? kNaN : d;
}

// The area between the CDFs: exact for steps; for lines, the integral of |a + (b - a) t|.
double BinnedWasserstein(const std::vector<Knot>& knots, bool steps) {
  if (knots.empty()) return kNaN;
  double area = 0;
  for (size_t i = 0; i + 1 < knots.size(); ++i) {
    double width = knots[i + 1].x - knots[i].x;
    double a = knots[i].ref - knots[i].cur, b = knots[i + 1].ref - knots[i + 1].cur;
    if (steps) {
      area += std::abs(a) * width;
    } else if ((a >= 0) == (b >= 0)) {
      area += width * (std::abs(a) + std::abs(b)) / 2;
    } else {
      area += width * (a * a + b * b) / (2 * (std::abs(a) + std::abs(b)));
    }
  }
  return area;
}

bool Drifted(const MethodChoice& m, double score) {
  if (std::isnan(score)) return false;
  if (m.method == Method::kKs) return score <= m.threshold;
  return m.is_p_value ? score < m.threshold : score >= m.threshold;
}

double CountScore(Method method, const Buckets& b) {
  switch (method) {
    case Method::kChiSquare: return ChiSquarePValue(b.ref, b.cur);
    case Method::kZ: return ZTestPValue(b.ref, b.cur);
    case Method::kJensenShannon: return JensenShannonDistance(b.ref, b.cur);
    default: return kNaN;
  }
}

// Chooses the column's test and reads its verdict: KS and Wasserstein from what *d holds
// already, the count tests from `counts`.
void Decide(uint64_t distinct, const Buckets& counts, ColumnDrift* d) {
  MethodChoice m = ChooseMethod(d->kind, d->reference_n, distinct);
  d->method = m.method;
  d->threshold = m.threshold;
  if (m.method == Method::kKs) {
    d->score = d->ks_p_value;
  } else if (m.method == Method::kWasserstein) {
    d->score = d->wasserstein;
  } else {
    d->score = CountScore(m.method, counts);
  }
  d->verdict = Drifted(m, d->score) ? Verdict::kDrift : Verdict::kNoDrift;
}

// The KS p-value from the limiting Kolmogorov distribution (what KsPValue gives beyond 10,000
// values a side). KsPValue's exact lattice-path count costs up to about n1 x n2 steps (a
// quarter second for 5,000 against 1,500 values at a large distance), too much to spend on
// every column of a live window at every interval when the p-value decides nothing.
double AsymptoticKsPValue(double d, uint64_t n1, uint64_t n2) {
  if (n1 == 0 || n2 == 0 || std::isnan(d)) return kNaN;
  double m = static_cast<double>(std::max(n1, n2)), n = static_cast<double>(std::min(n1, n2));
  double root = std::sqrt(std::round(m * n / (m + n)));
  return std::clamp(KolmogorovSurvival((root + 0.12 + 0.11 / root) * d), 0.0, 1.0);
}

// Fills in everything the profile's bins give: shares, PSI, Jensen-Shannon, the binned KS
// and Wasserstein, and the verdict on the binned data. The KS p-value is KsPValue's when it
// decides the column (a reference of at most 1,000 values), else the asymptotic one; with
// `exact_values` the caller computes KS from the exact values instead.
ColumnDrift Binned(const ColumnProfile& ref, const ColumnWindow& cur, bool exact_values = false) {
  ColumnDrift d;
  d.name = ref.name;
  d.kind = ref.kind;
  d.reference_n = ref.present();
  d.current_n = cur.present();
  d.reference_missing_share = Share(ref.missing + ref.infinite, ref.rows);
  d.current_missing_share = Share(cur.rows - cur.present(), cur.rows);
  uint64_t outside = cur.other + (ref.kind == ColumnKind::kNumeric ? cur.below + cur.above : 0);
  d.out_of_reference_share = Share(outside, d.current_n);
  d.score = d.psi = d.jensen_shannon = d.wasserstein = d.ks_statistic = d.ks_p_value = kNaN;
  if (ref.kind == ColumnKind::kText) {
    d.verdict = Verdict::kNotTested;
    return d;
  }
  if (d.reference_n == 0) {
    d.verdict = Verdict::kNoReference;
    return d;
  }
  if (d.current_n == 0) {
    d.verdict = Verdict::kNoCurrent;
    return d;
  }
  Buckets b = ProfileBuckets(ref, cur);
  d.psi = Psi(Shares(b.ref), Shares(b.cur));
  d.jensen_shannon = JensenShannonDistance(b.ref, b.cur);
  uint64_t distinct = ref.distinct;
  if (ref.kind != ColumnKind::kNumeric || ref.discrete) {
    distinct = std::max<uint64_t>(ref.distinct + (cur.other + cur.below + cur.above > 0 ? 1 : 0), b.ref.size());
  }
  if (ref.kind == ColumnKind::kNumeric) {
    std::vector<Knot> knots = BinnedCdfs(ref, cur);
    d.ks_statistic = BinnedKs(knots);
    bool decides = ChooseMethod(d.kind, d.reference_n, distinct).method == Method::kKs;
    d.ks_p_value = decides && !exact_values ? KsPValue(d.ks_statistic, ref.moments.n, Placed(cur))
                                            : AsymptoticKsPValue(d.ks_statistic, ref.moments.n, Placed(cur));
    d.wasserstein = BinnedWasserstein(knots, ref.discrete) / std::max(ref.moments.Std(), 0.001);
  }
  Decide(distinct, b, &d);
  return d;
}

// Exact counts over the union of the two samples' values (sorted keys, as Evidently's z-test
// takes the first). Numbers stop after 6 values: past 5 distinct ones only the count matters.
Buckets ExactBuckets(const ColumnSample& ref, const ColumnSample& cur) {
  Buckets b;
  if (ref.kind == ColumnKind::kNumeric) {
    size_t i = 0, j = 0;
    while (i < ref.values.size() || j < cur.values.size()) {
      double x = j >= cur.values.size() || (i < ref.values.size() && ref.values[i] <= cur.values[j])
                     ? ref.values[i]
                     : cur.values[j];
      uint64_t r = 0, c = 0;
      while (i < ref.values.size() && ref.values[i] == x) ++i, ++r;
      while (j < cur.values.size() && cur.values[j] == x) ++j, ++c;
      b.Add(r, c);
      if (b.ref.size() > 5) break;
    }
    return b;
  }
  size_t i = 0, j = 0;
  const auto& rc = ref.categories;
  const auto& cc = cur.categories;
  while (i < rc.size() || j < cc.size()) {
    if (j >= cc.size() || (i < rc.size() && rc[i].first < cc[j].first)) {
      b.Add(rc[i++].second, 0);
    } else if (i >= rc.size() || cc[j].first < rc[i].first) {
      b.Add(0, cc[j++].second);
    } else {
      b.Add(rc[i++].second, cc[j++].second);
    }
  }
  return b;
}

}  // namespace

const char* MethodName(Method method) {
  switch (method) {
    case Method::kNone: return "none";
    case Method::kKs: return "ks";
    case Method::kWasserstein: return "wasserstein";
    case Method::kChiSquare: return "chisquare";
    case Method::kZ: return "z";
    case Method::kJensenShannon: return "jensenshannon";
  }
  return "?";
}

const char* VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kNoDrift: return "no_drift";
    case Verdict::kDrift: return "drift";
    case Verdict::kNotTested: return "not_tested";
    case Verdict::kNoReference: return "no_reference_values";
    case Verdict::kNoCurrent: return "no_current_values";
  }
  return "?";
}

MethodChoice ChooseMethod(ColumnKind kind, uint64_t reference_n, uint64_t distinct) {
  MethodChoice chi{Method::kChiSquare, 0.05, true}, z{Method::kZ, 0.05, true};
  MethodChoice js{Method::kJensenShannon, 0.1, false};
  if (kind == ColumnKind::kText) return {};
  if (reference_n <= 1000) {
    if (kind == ColumnKind::kNumeric && distinct > 5) return {Method::kKs, 0.05, true};
    return distinct > 2 ? chi : z;
  }
  if (kind == ColumnKind::kNumeric && distinct > 5) return {Method::kWasserstein, 0.1, false};
  return js;
}

ColumnDrift CompareWindow(const ColumnProfile& reference, const ColumnWindow& current) {
  return Binned(reference, current);
}

std::vector<ColumnDrift> CompareWindow(const Window& window) {
  std::vector<ColumnDrift> out;
  for (size_t i = 0; i < window.size(); ++i) out.push_back(Binned(window.profile().columns[i], window.column(i)));
  return out;
}

namespace {

// CountSample of a numeric column's sorted values, by binary searches for the profile's edges
// instead of one a value. The moments hold only n, min and max: the exact comparison uses
// nothing else of them (the binned KS and Wasserstein it replaces read min and max).
ColumnWindow CountSorted(const ColumnProfile& ref, const ColumnSample& cur) {
  ColumnWindow w;
  w.rows = cur.rows;
  w.missing = cur.missing;
  w.infinite = cur.infinite;
  w.counts.assign(ref.counts.size(), 0);
  w.gaps.assign(ref.GapCount(), 0);
  const std::vector<double>& v = cur.values;
  if (v.empty()) return w;
  w.moments.n = v.size();
  w.moments.min = v.front();
  w.moments.max = v.back();
  if (ref.edges.empty()) {  // no reference value: every value is one the profile does not list
    w.other = v.size();
    return w;
  }
  auto lower = [&](double x) { return static_cast<uint64_t>(std::lower_bound(v.begin(), v.end(), x) - v.begin()); };
  auto upper = [&](double x) { return static_cast<uint64_t>(std::upper_bound(v.begin(), v.end(), x) - v.begin()); };
  const std::vector<double>& e = ref.edges;
  w.below = lower(e.front());
  const uint64_t up_to_max = upper(e.back());
  w.above = v.size() - up_to_max;
  if (ref.discrete) {
    uint64_t listed = 0;
    for (size_t i = 0; i < e.size(); ++i) {
      w.counts[i] = upper(e[i]) - lower(e[i]);
      listed += w.counts[i];
      if (i + 1 < e.size()) w.gaps[i] = lower(e[i + 1]) - upper(e[i]);
    }
    w.other = up_to_max - w.below - listed;
    return w;
  }
  for (size_t i = 0; i + 1 < e.size(); ++i)
    w.counts[i] = (i + 2 == e.size() ? up_to_max : lower(e[i + 1])) - lower(e[i]);
  return w;
}

}  // namespace

ColumnDrift CompareSamples(const ColumnSample& reference, const ColumnSample& current) {
  ColumnProfile profile = MakeColumnProfile(reference);
  bool sorted_numbers = reference.kind == ColumnKind::kNumeric && current.kind == ColumnKind::kNumeric;
  ColumnDrift d =
      Binned(profile, sorted_numbers ? CountSorted(profile, current) : CountSample(profile, current), true);
  if (!d.tested()) return d;
  Buckets exact = ExactBuckets(reference, current);
  uint64_t distinct = exact.ref.size();
  if (reference.kind == ColumnKind::kNumeric) {
    d.ks_statistic = KsStatistic(reference.values, current.values);
    d.ks_p_value = KsPValue(d.ks_statistic, reference.values.size(), current.values.size());
    d.wasserstein = WassersteinDistance(reference.values, current.values) / std::max(profile.moments.Std(), 0.001);
  } else if (!current.categories_complete || !reference.categories_complete) {
    return d;  // more distinct strings than forja tracks: the binned verdict stands
  }
  Decide(distinct, exact, &d);
  return d;
}

DatasetDrift Summarize(std::vector<ColumnDrift> columns, double drift_share) {
  DatasetDrift out;
  out.columns = std::move(columns);
  for (const ColumnDrift& c : out.columns) {
    out.tested += c.tested() ? 1 : 0;
    out.drifted += c.drifted() ? 1 : 0;
  }
  if (out.tested > 0) {
    out.share = static_cast<double>(out.drifted) / static_cast<double>(out.tested);
    out.drift = out.share >= drift_share;
  }
  return out;
}

std::string DriftToJson(const DatasetDrift& drift) {
  std::string out = "{\"drift\": ";
  out += drift.drift ? "true" : "false";
  out += ", \"share\": ";
  AppendDouble(&out, drift.share);
  out += ", \"tested\": " + std::to_string(drift.tested) + ", \"drifted\": " + std::to_string(drift.drifted);
  out += ", \"columns\": [";
  for (size_t i = 0; i < drift.columns.size(); ++i) {
    const ColumnDrift& c = drift.columns[i];
    out += i ? ",\n  {" : "\n  {";
    out += "\"name\": ";
    AppendJsonString(&out, c.name);
    out += ", \"kind\": \"" + std::string(KindName(c.kind)) + "\", \"method\": \"" + MethodName(c.method) +
           "\", \"verdict\": \"" + VerdictName(c.verdict) + "\"";
    std::pair<const char*, double> numbers[] = {
        {"threshold", c.threshold},
        {"score", c.score},
        {"reference_missing_share", c.reference_missing_share},
        {"current_missing_share", c.current_missing_share},
        {"out_of_reference_share", c.out_of_reference_share},
        {"psi", c.psi},
        {"jensen_shannon", c.jensen_shannon},
        {"wasserstein", c.wasserstein},
        {"ks_statistic", c.ks_statistic},
        {"ks_p_value", c.ks_p_value}};
    for (const auto& [key, value] : numbers) {
      out += ", \"" + std::string(key) + "\": ";
      AppendDouble(&out, value);
    }
    out += ", \"reference_n\": " + std::to_string(c.reference_n) + ", \"current_n\": " + std::to_string(c.current_n);
    out += "}";
  }
  out += "]}\n";
  return out;
}

}  // namespace forja::monitor
