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

#include <bit>
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

// Distinct numbers a column keeps as (value, count) before it keeps each number on its own:
// low-cardinality columns (integers, levels, flags, values of a few decimals) stay this small
// whatever their length, and need no sorting.
inline constexpr size_t kMaxCountedNumbers = 4096;

// Collects one column's cells, then decides its kind (or takes the reference's). Builders fed
// parts of one column (threads reading blocks of a file) merge into one that holds the column.
class SampleBuilder {
 public:
  SampleBuilder() = default;
  // A builder whose Finish will be given `kind` (a current file read as the reference's
  // kinds): it leaves out the checks only the typing of an unknown column needs.
  explicit SampleBuilder(ColumnKind kind) : hint_(kind), hinted_(true) {}

  void Add(std::string_view cell);
  // Adds other's cells, as if they came after this one's (the first non-number's row then
  // counts from this one's rows).
  void Merge(SampleBuilder&& other);
  uint64_t rows() const { return rows_; }
  // How many rows this builder will likely see (a reader's estimate): a column that outgrows
  // the counted numbers reserves room for that many values at once, not by repeated doubling.
  void set_expected_rows(uint64_t rows) { expected_rows_ = rows; }
  // A merge met number cells on one side and text on the other: the category counts then
  // depend on the order of the cells (numbers before the first text count under their
  // NumberKey, later ones as written), so the column must be read again in one pass.
  bool order_dependent() const { return order_dependent_; }
  // The column as the kind the header comment's rules give.
  Result<ColumnSample> Finish(std::string name) const&;
  // The column read as `kind` (the reference column's): an error when a present cell of a
  // numeric column is not a number.
  Result<ColumnSample> Finish(std::string name, ColumnKind kind) const&;
  // The same, handing over the builder's values instead of copying them.
  Result<ColumnSample> Finish(std::string name) &&;
  Result<ColumnSample> Finish(std::string name, ColumnKind kind) &&;

 private:
  // Distinct numbers and their counts, by bit pattern, in an open-addressing table (at most
  // half full, grown by doubling from 64 slots); past
  // kMaxCountedNumbers values the builder keeps the numbers one by one in values_ instead.
  struct NumberTable {
    std::vector<uint64_t> keys, counts;  // keys: bit patterns + 1, 0 marks an empty slot
    size_t size = 0;
    bool Add(double v, uint64_t n);  // false when full (then nothing was added)
    template <class Fn>
    void ForEach(Fn fn) const {
      for (size_t i = 0; i < keys.size(); ++i)
        if (keys[i]) fn(std::bit_cast<double>(keys[i] - 1), counts[i]);
    }
  };

  ColumnKind DetectKind() const;
  void AddNumber(double v, uint64_t n);
  void SpillTable();  // the table's numbers into values_
  void CountString(std::string_view cell, uint64_t n);
  void NumbersToStrings();  // a first non-number: the numbers so far become category keys
  // The number cells so far as category keys (NumberKey; "inf", "-inf").
  std::map<std::string, uint64_t> NumberCounts() const;
  Result<ColumnSample> Build(std::string name, ColumnKind kind);

  ColumnKind hint_ = ColumnKind::kNumeric;
  bool hinted_ = false;
  uint64_t rows_ = 0, missing_ = 0, positive_infinite_ = 0, negative_infinite_ = 0;
  bool all_number_ = true, all_int_ = true, all_bool_ = true;
  std::string first_non_number_;  // the first present cell that is not a number
  uint64_t first_non_number_row_ = 0;
  // The finite values, while every present cell is a number: in table_ while it holds them,
  // then in values_ (spilled_).
  NumberTable table_;
  bool spilled_ = false;
  uint64_t finite_ = 0;  // numbers added to table_ or values_
  uint64_t expected_rows_ = 0;
  std::vector<double> values_;
  bool too_many_values_ = false;  // more than kMaxColumnValues: the rest were not kept
  // Cells as strings, up to kMaxTrackedValues of them, kept only once a cell is not a number
  // (before that, a column's number cells count under their NumberKey).
  std::unordered_map<std::string, uint64_t, StringHash, std::equal_to<>> strings_;
  bool strings_complete_ = true;
  // The counts of recently seen strings, by a cheap hash of the cell: most cells of a
  // categorical column are found here without hashing the whole cell or walking the map.
  // Entries point into strings_'s nodes, which stay put when the map grows or is moved; a copy
  // starts empty (its map has nodes of its own).
  struct RecentStrings {
    struct Entry {
      std::string_view key;
      uint64_t* count = nullptr;
    };
    std::vector<Entry> entries;  // 256 once used
    RecentStrings() = default;
    RecentStrings(const RecentStrings&) {}
    RecentStrings& operator=(const RecentStrings&) {
      entries.clear();
      return *this;
    }
    RecentStrings(RecentStrings&&) = default;
    RecentStrings& operator=(RecentStrings&&) = default;
  };
  RecentStrings recent_;
  bool order_dependent_ = false;
};

// Sorts finite doubles ascending (a radix sort on large inputs: sorting is most of a report's
// work after parsing).
void SortValues(std::vector<double>* values);

// The profile of a column from its exact values (profile.h says how bins are chosen).
ColumnProfile MakeColumnProfile(const ColumnSample& sample);
Profile MakeProfile(const std::vector<ColumnSample>& samples);

// The q-quantile of sorted values, interpolated linearly between order statistics as numpy's
// default (method "linear"); values must not be empty.
double Quantile(const std::vector<double>& sorted, double q);

}  // namespace forja::monitor
