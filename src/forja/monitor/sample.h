// The exact values of a column read from a file: what offline reports compare and what
// profiles are made from. A column's kind is decided here, the way Evidently 0.7 decides it
// from the dtype pandas' read_csv gives the column (evidently/core/datasets.py,
// infer_column_type):
//   - every present cell an integer and none missing (pandas: int64): categorical when it has
//     at most 10 distinct values, numeric otherwise;
//   - every present cell a number, or no cell present at all (pandas: float64): numeric;
//   - every cell True/False and none missing (pandas: bool): categorical;
//   - otherwise strings (pandas: object): text when more than half the present cells are
//     distinct (or more than kMaxTrackedValues are), categorical otherwise.
// Missing cells are pandas' default NA spellings (IsMissingCell). A category's bytes that are
// not UTF-8 are each read as U+FFFD, as forja's JSON writes them, so a profile reads back as it
// was written. One difference: Evidently
// types columns from the *current* data, forja from the reference, because a profile is made
// before any traffic exists.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "forja/core/status.h"
#include "forja/monitor/profile.h"

namespace forja::monitor {

// pandas' default NA spellings (read_csv's na_values), the empty cell among them.
bool IsMissingCell(std::string_view cell);
// A number as pandas' C parser reads it: decimal or exponent notation, an optional sign,
// inf / infinity in any case; surrounding spaces are not allowed.
bool ParseNumber(std::string_view cell, double* out);
// The category key a number gets: integer text when it is integral, shortest text otherwise,
// so that "1", "01" and "1.0" are one category as they are one value in pandas; "inf", "-inf".
std::string NumberKey(double v);

// Lets an unordered_map keyed by std::string be searched with a string_view, no copy.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

// Distinct strings tracked per column before a column counts as text.
inline constexpr size_t kMaxTrackedValues = 65536;
// Numbers one column may hold (8 bytes each): the profile's quantiles and the report's KS and
// Wasserstein distances are exact, over all of them; beyond, Finish refuses the column.
inline constexpr size_t kMaxColumnValues = size_t{1} << 26;

struct ColumnSample {
  std::string name;
  ColumnKind kind = ColumnKind::kNumeric;
  uint64_t rows = 0;
  uint64_t missing = 0;
  uint64_t infinite = 0;
  std::vector<double> values;  // numeric: the finite values, sorted
  // categorical and text: (value, count), sorted by value
  std::vector<std::pair<std::string, uint64_t>> categories;
  bool categories_complete = true;  // false: more than kMaxTrackedValues distinct strings

  uint64_t present() const { return rows - missing - infinite; }
};

// Collects one column's cells, then decides its kind (or takes the reference's).
class SampleBuilder {
 public:
  void Add(std::string_view cell);
  // The column as the kind the header comment's rules give.
  Result<ColumnSample> Finish(std::string name) const;
  // The column read as `kind` (the reference column's): an error when a present cell of a
  // numeric column is not a number.
  Result<ColumnSample> Finish(std::string name, ColumnKind kind) const;

 private:
  ColumnKind DetectKind() const;
  void CountString(std::string_view cell, uint64_t n);
  // The number cells so far as category keys (NumberKey; "inf", "-inf").
  std::map<std::string, uint64_t> NumberCounts() const;

  uint64_t rows_ = 0, missing_ = 0, positive_infinite_ = 0, negative_infinite_ = 0;
  bool all_number_ = true, all_int_ = true, all_bool_ = true;
  std::string first_non_number_;  // the first present cell that is not a number
  uint64_t first_non_number_row_ = 0;
  std::vector<double> values_;  // finite values, while every present cell is a number
  bool too_many_values_ = false;  // more than kMaxColumnValues: the rest were not kept
  // Cells as strings, up to kMaxTrackedValues of them, kept only once a cell is not a number
  // (before that, a column's number cells count under their NumberKey).
  std::unordered_map<std::string, uint64_t, StringHash, std::equal_to<>> strings_;
  bool strings_complete_ = true;
};

// The profile of a column from its exact values (profile.h says how bins are chosen).
ColumnProfile MakeColumnProfile(const ColumnSample& sample);
Profile MakeProfile(const std::vector<ColumnSample>& samples);

// The q-quantile of sorted values, interpolated linearly between order statistics as numpy's
// default (method "linear"); values must not be empty.
double Quantile(const std::vector<double>& sorted, double q);

}  // namespace forja::monitor
