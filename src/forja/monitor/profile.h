// Reference profiles: what a model's reference (training) data looked like, column by column,
// in a form small enough to store beside the model version and cheap to compare live traffic
// against. A profile is made once, offline, from the exact values of each column (sample.h);
// live windows (window.h) count traffic on the profile's fixed bins.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "forja/core/status.h"

namespace forja::monitor {

// How a column is compared. Decided as Evidently 0.7 decides it from pandas' dtypes (sample.h
// says how a CSV column maps to them); text columns are profiled but not tested for drift.
enum class ColumnKind : uint8_t { kNumeric, kCategorical, kText };
const char* KindName(ColumnKind kind);

// Count, mean, spread and range of a stream of finite numbers: Welford's update, and Chan et
// al.'s pairwise merge, so that thread-local moments merged in any order agree with one pass
// to rounding, and a column of 1e9 + small noise keeps its variance.
struct Moments {
  uint64_t n = 0;
  double mean = 0;
  double m2 = 0;  // sum of squared deviations from the mean
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();

  void Add(double x);
  void Merge(const Moments& other);
  // Population variance and standard deviation (ddof 0, as numpy's np.std); 0 when n < 2;
  // infinite or NaN when the values (beyond about 1e154) overflow a double, as in numpy.
  double Variance() const;
  double Std() const;
};

// Numeric bins. A column with at most kMaxDiscreteValues distinct finite values gets one bin per
// value (`discrete`, `edges` holds the values); any other gets up to kNumericBins bins between
// the reference quantiles at i/kNumericBins, deduplicated so that edges strictly increase
// (repeated quantiles of a heavy value merge into one bin). Continuous bin i is
// [edges[i], edges[i+1]), the last one closed; values outside [edges.front(), edges.back()]
// are counted as below / above the reference range.
inline constexpr int kNumericBins = 50;
inline constexpr int kMaxDiscreteValues = 20;
// Quantiles kept for display and reports: q = i / kQuantiles, i = 0..kQuantiles.
inline constexpr int kQuantiles = 100;
// Categorical columns keep their kTopCategories most frequent values (ties by value); the rest
// are counted together as `other`.
inline constexpr int kTopCategories = 256;

struct ColumnProfile {
  std::string name;
  ColumnKind kind = ColumnKind::kNumeric;
  uint64_t rows = 0;      // cells seen
  uint64_t missing = 0;   // empty, an NA spelling, or NaN (IsMissingCell)
  uint64_t infinite = 0;  // numeric: +-inf, left out of every statistic as Evidently does
  uint64_t distinct = 0;  // distinct finite values / categories
  Moments moments;        // numeric: of the finite values

  std::vector<double> quantiles;  // numeric: kQuantiles + 1 values (empty with no value)
  bool discrete = false;          // numeric: one bin per distinct value
  std::vector<double> edges;      // numeric: bin edges, or the distinct values when discrete
  // numeric: count per bin (edges.size() - 1 continuous bins, or edges.size() discrete ones);
  // categorical and text: count per entry of `categories`.
  std::vector<uint64_t> counts;
  std::vector<std::string> categories;  // most frequent first
  uint64_t other = 0;                   // categorical: values beyond the top categories

  // The finite values (numeric) or non-missing values (categorical) the statistics use.
  uint64_t present() const { return rows - missing - infinite; }
  // The bin a finite value falls in: a continuous bin, or the discrete value it equals;
  // -1 below the range, -2 above it, -3 a value a discrete profile does not list.
  int NumericBin(double x) const;
  // Discrete profiles: the open intervals between consecutive listed values ("gaps"), and the
  // gap an unlisted value inside the range falls in (-1 for any other value).
  size_t GapCount() const { return discrete && edges.size() > 1 ? edges.size() - 1 : 0; }
  int Gap(double x) const;
  // The index of a category in `categories`, or -1.
  int CategoryIndex(std::string_view value) const;
};

// The column a model's predictions are profiled as: "__prediction__" for its first output,
// "__prediction__.NAME" for the others (forja monitor profile writes them, forja serve feeds them).
inline constexpr char kPredictionColumn[] = "__prediction__";
bool IsPredictionColumn(std::string_view name);

struct Profile {
  uint64_t rows = 0;
  std::vector<ColumnProfile> columns;

  // The column's index, or -1.
  int Find(std::string_view name) const;
};

// The JSON document a profile is stored as:
//   {"format": "forja-profile", "version": 1, "rows": N, "columns": [
//     {"name": "x", "kind": "numeric", "rows": N, "missing": 0, "infinite": 0, "distinct": 412,
//      "n": 1000, "mean": 0.1, "std": 1.0, "min": -3.1, "max": 3.3,   (mean, std: null when
//                                                                      they overflowed)
//      "quantiles": [...], "discrete": false, "edges": [...], "counts": [...]},
//     {"name": "c", "kind": "categorical", "rows": N, "missing": 2, "distinct": 3,
//      "categories": ["a", "b", "c"], "counts": [500, 300, 198], "other": 0}]}
std::string ProfileToJson(const Profile& profile);
// Reads a profile written by ProfileToJson, refusing anything else with an error that names the
// field: "profile: columns[2].edges: not strictly increasing". Limits: kMaxProfileBytes of text,
// kMaxProfileColumns columns, JSON nesting at most JsonDoc::kMaxDepth.
inline constexpr size_t kMaxProfileBytes = 64 << 20;
inline constexpr size_t kMaxProfileColumns = 100000;
Result<Profile> ParseProfile(std::string_view json);

}  // namespace forja::monitor
