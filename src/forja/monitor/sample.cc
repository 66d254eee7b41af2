#include "forja/monitor/sample.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "forja/core/json.h"

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
        ++infinite_;
      } else {
        values_.push_back(v);
      }
    } else {
      all_number_ = all_int_ = false;
      first_non_number_ = std::string(cell.substr(0, 64));
      first_non_number_row_ = rows_;
    }
  }
  if (strings_complete_) {
    auto it = strings_.find(std::string(cell));
    if (it != strings_.end()) {
      ++it->second;
    } else if (strings_.size() < kMaxTrackedValues) {
      strings_.emplace(std::string(cell), 1);
    } else {
      strings_complete_ = false;
      strings_.clear();
    }
  }
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
  if (kind == ColumnKind::kNumeric) {
    if (!all_number_) {
      return Status::User("column '" + s.name + "', row " + std::to_string(first_non_number_row_) + ": '" +
                          first_non_number_ + "' is not a number, and the column is numeric");
    }
    if (values_.size() > kMaxColumnValues) {
      return Status::User("column '" + s.name + "': more than " + std::to_string(kMaxColumnValues) +
                          " values (profiles hold every value of a numeric column)");
    }
    s.infinite = infinite_;
    s.values = values_;
    std::sort(s.values.begin(), s.values.end());
    return s;
  }
  std::map<std::string, uint64_t> counts;
  if (all_number_) {
    // Numbers as categories: one key per value, as pandas compares values, not spellings.
    for (double v : values_) ++counts[NumberKey(v)];
    for (const auto& [cell, n] : strings_) {
      double v;
      if (ParseNumber(cell, &v) && std::isinf(v)) counts[cell] += n;
    }
  } else {
    counts.insert(strings_.begin(), strings_.end());
  }
  s.categories.assign(counts.begin(), counts.end());
  s.categories_complete = strings_complete_ || all_number_;
  return s;
}

double Quantile(const std::vector<double>& sorted, double q) {
  double pos = q * static_cast<double>(sorted.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  double frac = pos - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
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
