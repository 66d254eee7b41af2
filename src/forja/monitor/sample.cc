#include "forja/monitor/sample.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>

#include "forja/core/json.h"
#include "forja/core/utf8.h"

namespace forja::monitor {

bool IsMissingCell(std::string_view cell) {
  static const std::string_view kNa[] = {"",      "#N/A", "#N/A N/A", "#NA",  "-1.#IND", "-1.#QNAN",
                                         "-NaN",  "-nan", "1.#IND",   "1.#QNAN", "<NA>", "N/A",
                                         "NA",    "NULL", "NaN",      "None", "n/a",     "nan",
                                         "null"};
  if (cell.size() > 8) return false;
  for (std::string_view na : kNa) {
    if (cell == na) return true;
  }
  return false;
}

bool ParseNumber(std::string_view cell, double* out) {
  if (cell.empty()) return false;
  const char* begin = cell.data();
  const char* end = begin + cell.size();
  bool negative = false;
  if (*begin == '+' || *begin == '-') {
    negative = *begin == '-';
    ++begin;
    if (begin == end || *begin == '+' || *begin == '-') return false;
  }
  double v = 0;
  auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ptr != end) return false;
  if (ec == std::errc::result_out_of_range) {
    // Overflow reads as infinity in pandas; underflow as zero.
    v = std::abs(std::strtod(std::string(begin, end).c_str(), nullptr));
  } else if (ec != std::errc()) {
    return false;
  }
  if (std::isnan(v)) return false;  // "nan" spellings are missing cells, read before this
  *out = negative ? -v : v;
  return true;
}

std::string NumberKey(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::trunc(v) == v && std::abs(v) < 9007199254740992.0) {
    return std::to_string(static_cast<int64_t>(v));
  }
  std::string out;
  AppendDouble(&out, v);
  return out;
}

namespace {

bool IsInteger(std::string_view cell) {
  if (!cell.empty() && cell[0] == '+') cell.remove_prefix(1);
  int64_t v;
  auto [ptr, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
  return ec == std::errc() && ptr == cell.data() + cell.size();
}

bool IsBool(std::string_view cell) {
  return cell == "True" || cell == "False" || cell == "TRUE" || cell == "FALSE" || cell == "true" ||
         cell == "false";
}

}  // namespace

void SampleBuilder::Add(std::string_view cell) {
  ++rows_;
  if (IsMissingCell(cell)) {
    ++missing_;
    all_int_ = all_bool_ = false;  // pandas: a column with NA is neither int64 nor bool
    return;
  }
  all_bool_ = all_bool_ && IsBool(cell);
  if (all_number_) {
    double v;
    if (ParseNumber(cell, &v)) {
      all_int_ = all_int_ && IsInteger(cell);
      if (std::isinf(v)) {
        ++(v > 0 ? positive_infinite_ : negative_infinite_);
      } else if (values_.size() < kMaxColumnValues) {
        values_.push_back(v);
      } else {
        too_many_values_ = true;  // Finish says so; memory stays bounded
      }
      return;  // strings are counted only once a cell is not a number
    }
    all_number_ = all_int_ = false;
    first_non_number_ = ValidUtf8(cell, 64);
    first_non_number_row_ = rows_;
    for (const auto& [key, n] : NumberCounts()) CountString(key, n);
  }
  CountString(cell, 1);
}

void SampleBuilder::CountString(std::string_view cell, uint64_t n) {
  if (!strings_complete_) return;
  if (!IsValidUtf8(cell)) return CountString(ValidUtf8(cell), n);
  auto it = strings_.find(cell);
  if (it != strings_.end()) {
    it->second += n;
  } else if (strings_.size() < kMaxTrackedValues) {
    strings_.emplace(std::string(cell), n);
  } else {
    strings_complete_ = false;
    strings_.clear();
  }
}

std::map<std::string, uint64_t> SampleBuilder::NumberCounts() const {
  std::map<std::string, uint64_t> counts;
  for (double v : values_) ++counts[NumberKey(v)];
  double inf = std::numeric_limits<double>::infinity();
  if (positive_infinite_) counts[NumberKey(inf)] += positive_infinite_;
  if (negative_infinite_) counts[NumberKey(-inf)] += negative_infinite_;
  return counts;
}

ColumnKind SampleBuilder::DetectKind() const {
  if (all_number_) {
    if (all_int_ && missing_ == 0 && rows_ > 0) {
      std::vector<double> sorted = values_;
      std::sort(sorted.begin(), sorted.end());
      size_t distinct = std::unique(sorted.begin(), sorted.end()) - sorted.begin();
      return distinct <= 10 ? ColumnKind::kCategorical : ColumnKind::kNumeric;
    }
    return ColumnKind::kNumeric;
  }
  if (all_bool_) return ColumnKind::kCategorical;
  uint64_t present = rows_ - missing_;
  if (!strings_complete_ || static_cast<double>(strings_.size()) > 0.5 * static_cast<double>(present)) {
    return ColumnKind::kText;
  }
  return ColumnKind::kCategorical;
}

Result<ColumnSample> SampleBuilder::Finish(std::string name) const { return Finish(std::move(name), DetectKind()); }

Result<ColumnSample> SampleBuilder::Finish(std::string name, ColumnKind kind) const {
  ColumnSample s;
  s.name = std::move(name);
  s.kind = kind;
  s.rows = rows_;
  s.missing = missing_;
  if (too_many_values_) {
    return Status::User("column '" + s.name + "': more than " + std::to_string(kMaxColumnValues) +
                        " numbers (forja holds every number of a column to compare it exactly)");
  }
  if (kind == ColumnKind::kNumeric) {
    if (!all_number_) {
      return Status::User("column '" + s.name + "', row " + std::to_string(first_non_number_row_) + ": '" +
                          first_non_number_ + "' is not a number, and the column is numeric");
    }
    s.infinite = positive_infinite_ + negative_infinite_;
    s.values = values_;
    std::sort(s.values.begin(), s.values.end());
    return s;
  }
  // Numbers as categories: one key per value, as pandas compares values, not spellings.
  std::map<std::string, uint64_t> counts = all_number_ ? NumberCounts() : std::map<std::string, uint64_t>();
  if (!all_number_) counts.insert(strings_.begin(), strings_.end());
  s.categories.assign(counts.begin(), counts.end());
  s.categories_complete = strings_complete_ || all_number_;
  return s;
}

double Quantile(const std::vector<double>& sorted, double q) {
  double pos = q * static_cast<double>(sorted.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  double t = pos - static_cast<double>(lo), a = sorted[lo], b = sorted[hi];
  if (t == 0) return a;
  double d = b - a;  // numpy's _lerp, from whichever end is nearer
  double v = t < 0.5 ? a + d * t : b - d * (1 - t);
  return std::isfinite(v) ? v : a * (1 - t) + b * t;  // b - a overflowed: +-1e308
}

namespace {

void NumericProfile(const ColumnSample& s, ColumnProfile* c) {
  const std::vector<double>& v = s.values;
  for (double x : v) c->moments.Add(x);
  if (v.empty()) return;
  for (int i = 0; i <= kQuantiles; ++i) c->quantiles.push_back(Quantile(v, static_cast<double>(i) / kQuantiles));
  std::vector<double> distinct = v;
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  c->distinct = distinct.size();
  if (distinct.size() <= static_cast<size_t>(kMaxDiscreteValues)) {
    c->discrete = true;
    c->edges = distinct;
  } else {
    for (int i = 0; i <= kNumericBins; ++i) c->edges.push_back(Quantile(v, static_cast<double>(i) / kNumericBins));
    c->edges.erase(std::unique(c->edges.begin(), c->edges.end()), c->edges.end());
  }
  c->counts.assign(c->discrete ? c->edges.size() : c->edges.size() - 1, 0);
  for (double x : v) ++c->counts[c->NumericBin(x)];
}

void CategoricalProfile(const ColumnSample& s, ColumnProfile* c) {
  std::vector<std::pair<std::string, uint64_t>> by_count = s.categories;
  std::stable_sort(by_count.begin(), by_count.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  c->distinct = by_count.size();
  for (size_t i = 0; i < by_count.size(); ++i) {
    if (i < static_cast<size_t>(kTopCategories)) {
      c->categories.push_back(by_count[i].first);
      c->counts.push_back(by_count[i].second);
    } else {
      c->other += by_count[i].second;
    }
  }
  if (!s.categories_complete) {
    c->distinct = kMaxTrackedValues + 1;  // at least
    c->other = s.present();
    for (uint64_t n : c->counts) c->other -= n;
  }
}

}  // namespace

ColumnProfile MakeColumnProfile(const ColumnSample& s) {
  ColumnProfile c;
  c.name = s.name;
  c.kind = s.kind;
  c.rows = s.rows;
  c.missing = s.missing;
  c.infinite = s.infinite;
  if (s.kind == ColumnKind::kNumeric) {
    NumericProfile(s, &c);
  } else {
    CategoricalProfile(s, &c);
  }
  return c;
}

Profile MakeProfile(const std::vector<ColumnSample>& samples) {
  Profile p;
  for (const ColumnSample& s : samples) {
    p.rows = std::max(p.rows, s.rows);
    p.columns.push_back(MakeColumnProfile(s));
  }
  return p;
}

}  // namespace forja::monitor
