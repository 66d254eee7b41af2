// Live windows: per-column counts of the traffic a model version sees, on its reference
// profile's fixed bins. Made to sit on the request path: one Window per thread (no locks, no
// allocation after construction), Add* costs a binary search over at most
// kNumericBins + 1 edges (or one hash lookup for a category), and windows of the same
// profile Merge by adding counts, so a collector can sum the threads' windows off the request
// path in any order and get what one window fed every row would hold.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "forja/core/status.h"
#include "forja/monitor/profile.h"
#include "forja/monitor/sample.h"

namespace forja::monitor {

struct ColumnWindow {
  uint64_t rows = 0;
  uint64_t missing = 0;   // empty / NA / NaN
  uint64_t infinite = 0;  // numeric: +-inf
  uint64_t invalid = 0;   // numeric: a cell that is not a number (not counted in the bins)
  uint64_t below = 0;     // numeric: finite values under the reference minimum
  uint64_t above = 0;     // numeric: finite values over the reference maximum
  uint64_t other = 0;     // a value a discrete or categorical profile does not list
  std::vector<uint64_t> counts;  // per reference bin / category
  // Discrete numeric profiles: the unlisted values (also in `other`) between listed value i and
  // i + 1, so the drift statistics know where they lie.
  std::vector<uint64_t> gaps;
  Moments moments;               // numeric: the finite values

  // The values the drift statistics use: finite numbers, or present categories.
  uint64_t present() const { return rows - missing - infinite - invalid; }
  // Adds o's counts; a window whose counts or gaps are shorter (empty: made by hand) grows.
  void Merge(const ColumnWindow& o);
  // Counts a finite value of a numeric column (rows is the caller's to count).
  void AddFinite(const ColumnProfile& reference, double value);
};

// A column's exact values counted as a window would count them (offline: a report against a
// stored profile). Read the column as the profile's kind (ReadCsvSamples with its columns);
// otherwise words in a numeric column count as `invalid`, and numbers in a categorical one by
// their NumberKey. Categories beyond kMaxTrackedValues distinct strings count as `other`.
ColumnWindow CountSample(const ColumnProfile& reference, const ColumnSample& current);

class Window {
 public:
  // The profile must outlive the window.
  explicit Window(const Profile& profile);

  // One cell of column `column` (the profile's column index).
  void AddNumber(size_t column, double value);  // numeric columns; NaN counts as missing
  void AddCell(size_t column, std::string_view cell);  // any column, the cell's text
  void AddMissing(size_t column);
  // One row: cells[i] for profile column i; columns past the end of `cells` count as missing.
  void AddRow(const std::vector<std::string_view>& cells);

  // Adds another window of the same profile object; refuses a window of another profile.
  Status Merge(const Window& other);
  void Clear();

  const Profile& profile() const { return *profile_; }
  const ColumnWindow& column(size_t i) const { return columns_[i]; }
  // For counts made another way (a current profile counted on these bins): the caller keeps
  // counts and gaps the size the profile gives them.
  ColumnWindow& mutable_column(size_t i) { return columns_[i]; }
  size_t size() const { return columns_.size(); }

 private:
  const Profile* profile_;
  std::vector<ColumnWindow> columns_;
  // Per categorical column: category -> index. Shared read-only between copies would be
  // cheaper; each thread's window holds its own so that no lookup touches shared memory.
  std::vector<std::unordered_map<std::string, int, StringHash, std::equal_to<>>> category_index_;
};

}  // namespace forja::monitor
