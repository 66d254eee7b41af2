// Drift between a reference and a current column, and over a whole dataset.
//
// Which statistic decides a column is Evidently 0.7's DataDriftPreset default
// (evidently/legacy/calculations/stattests/registry.py, _get_default_stattest), applied to the
// values left after missing, NaN and infinite cells are dropped; n is the reference's count of
// such values, "distinct" counts values over reference and current together:
//
//   kind         n <= 1000                                  n > 1000
//   numeric      distinct <= 2: z-test p < 0.05             distinct <= 5: Jensen-Shannon >= 0.1
//                distinct 3..5: chi-square p < 0.05         otherwise: normed Wasserstein >= 0.1
//                otherwise: Kolmogorov-Smirnov p <= 0.05
//   categorical  distinct <= 2: z-test p < 0.05             Jensen-Shannon >= 0.1
//                otherwise: chi-square p < 0.05
//   text         not tested (Evidently trains a classifier; forja reports "not tested")
//
// The normed Wasserstein distance is divided by max(reference std (ddof 0), 0.001). The dataset
// drifts when the share of drifted columns among the tested ones is >= 0.5 (drift_share).
// Besides the deciding statistic every column gets PSI and Jensen-Shannon on the profile's bins
// (profile.h), and numeric ones the normed Wasserstein distance and the KS statistic and p-value,
// the missing shares of both sides, and the share of current values outside the reference
// (outside its range, or categories it does not list).
//
// CompareSamples works on exact values (offline reports; its verdicts equal Evidently's, see
// tests/monitor/evidently_parity_test.py). CompareWindow works on a live window's bin counts:
// there the KS statistic is read at bin edges, Wasserstein assumes values spread evenly inside a
// bin, and "distinct" counts the reference's values plus one for unlisted ones, so near a
// threshold its verdict may differ from the exact one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "forja/monitor/profile.h"
#include "forja/monitor/sample.h"
#include "forja/monitor/window.h"

namespace forja::monitor {

enum class Method : uint8_t { kNone, kKs, kWasserstein, kChiSquare, kZ, kJensenShannon };
// Evidently's names: "ks", "wasserstein", "chisquare", "z", "jensenshannon"; "none".
const char* MethodName(Method method);

struct MethodChoice {
  Method method = Method::kNone;
  double threshold = 0;
  bool is_p_value = false;  // drift when the score is under the threshold, not over it
};
// The table above.
MethodChoice ChooseMethod(ColumnKind kind, uint64_t reference_n, uint64_t distinct);

enum class Verdict : uint8_t {
  kNoDrift,
  kDrift,
  kNotTested,    // a text column
  kNoReference,  // the reference has no value to compare with (all missing)
  kNoCurrent,    // the current data has none: an empty window, or all missing
};
const char* VerdictName(Verdict verdict);

struct ColumnDrift {
  std::string name;
  ColumnKind kind = ColumnKind::kNumeric;
  Method method = Method::kNone;
  double threshold = 0;
  double score = 0;  // the deciding statistic; NaN when not tested
  Verdict verdict = Verdict::kNotTested;
  uint64_t reference_n = 0, current_n = 0;  // values compared
  // Share of cells missing, NaN, infinite or (current, numeric) not a number; NaN with no rows.
  double reference_missing_share = 0, current_missing_share = 0;
  double out_of_reference_share = 0;  // of the current values; NaN with none
  // Companion statistics; NaN where they do not apply or a side is empty.
  double psi = 0, jensen_shannon = 0, wasserstein = 0, ks_statistic = 0, ks_p_value = 0;

  bool drifted() const { return verdict == Verdict::kDrift; }
  bool tested() const { return verdict == Verdict::kDrift || verdict == Verdict::kNoDrift; }
};

struct DatasetDrift {
  std::vector<ColumnDrift> columns;
  size_t tested = 0;   // columns with a drift / no-drift verdict
  size_t drifted = 0;
  double share = 0;    // drifted / tested; 0 when nothing was tested
  bool drift = false;  // share >= drift_share, and at least one column tested
};

ColumnDrift CompareSamples(const ColumnSample& reference, const ColumnSample& current);
// A window's counts, or a file's column counted on the profile's bins (CountSample).
ColumnDrift CompareWindow(const ColumnProfile& reference, const ColumnWindow& current);
// Every column of the profile against the window.
std::vector<ColumnDrift> CompareWindow(const Window& window);
DatasetDrift Summarize(std::vector<ColumnDrift> columns, double drift_share = 0.5);

// The verdicts as one JSON document: {"drift": .., "share": .., "tested": .., "drifted": ..,
// "columns": [{"name", "kind", "method", "threshold", "score", "verdict", ...}]}.
std::string DriftToJson(const DatasetDrift& drift);

}  // namespace forja::monitor
