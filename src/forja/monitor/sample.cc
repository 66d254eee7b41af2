#include "forja/monitor/sample.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

#include "forja/core/json.h"
#include "forja/core/utf8.h"

namespace forja::monitor {

bool IsMissingCell(std::string_view cell) {
  if (cell.empty()) return true;
  if (cell.size() > 8) return false;
  switch (cell[0]) {  // the first characters of the spellings below
    case '#': case '-': case '1': case '<': case 'N': case 'n': break;
    default: return false;
  }
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

namespace {

// Plain decimals ("-12.375": digits, at most one point) of at most 15 digits and 22 decimals,
// the usual cells of a data file: the digits are an exact double and so is the power of ten,
// so one division rounds correctly (Clinger's fast path, which from_chars also takes, with
// more checks on the way). False for anything else.
bool ParsePlainDecimal(const char* p, const char* end, double* out) {
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                      1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  uint64_t m = 0;  // wraps past 19 digits, which the count below refuses
  unsigned d;
  const char* start = p;
  while (p < end && (d = static_cast<unsigned char>(*p) - '0') <= 9) m = m * 10 + d, ++p;
  ptrdiff_t digits = p - start, decimals = 0;
  if (p < end && *p == '.') {
    const char* fraction = ++p;
    while (p < end && (d = static_cast<unsigned char>(*p) - '0') <= 9) m = m * 10 + d, ++p;
    decimals = p - fraction;
    digits += decimals;
  }
  if (p != end || digits == 0 || digits > 15) return false;
  *out = static_cast<double>(m) / kPow10[decimals];
  return true;
}

}  // namespace

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
  if (double v; ParsePlainDecimal(begin, end, &v)) {
    *out = negative ? -v : v;
    return true;
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

namespace {

// MurmurHash3's finalizer: bit patterns of numbers of a few decimals differ in structured ways.
inline size_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  return static_cast<size_t>(h ^ (h >> 33));
}

}  // namespace

bool SampleBuilder::NumberTable::Add(double v, uint64_t n) {
  if (keys.empty()) keys.assign(64, 0), counts.assign(64, 0);
  const uint64_t key = std::bit_cast<uint64_t>(v) + 1;  // NaN never gets here: no pattern is ~0
  const size_t mask = keys.size() - 1;
  for (size_t i = Mix(key) & mask;; i = (i + 1) & mask) {
    if (keys[i] == key) {
      counts[i] += n;
      return true;
    }
    if (keys[i] == 0) break;
  }
  if (size == kMaxCountedNumbers) return false;
  if (2 * (size + 1) > keys.size()) {  // at most half full: twice the slots
    NumberTable bigger;
    bigger.keys.assign(2 * keys.size(), 0);
    bigger.counts.assign(2 * keys.size(), 0);
    ForEach([&](double x, uint64_t c) { bigger.Add(x, c); });
    *this = std::move(bigger);
  }
  const size_t mask2 = keys.size() - 1;
  size_t i = Mix(key) & mask2;
  while (keys[i] != 0) i = (i + 1) & mask2;
  keys[i] = key, counts[i] = n, ++size;
  return true;
}

void SampleBuilder::SpillTable() {
  spilled_ = true;
  values_.reserve(std::min<uint64_t>(expected_rows_, kMaxColumnValues));
  table_.ForEach([&](double v, uint64_t n) { values_.insert(values_.end(), n, v); });
  table_ = NumberTable();
}

void SampleBuilder::AddNumber(double v, uint64_t n) {
  finite_ += n;
  if (!spilled_) {
    if (table_.Add(v, n)) return;
    SpillTable();
  }
  if (n == 1) {
    values_.push_back(v);
  } else {
    values_.insert(values_.end(), n, v);
  }
}

void SampleBuilder::Add(std::string_view cell) {
  ++rows_;
  double v;
  // A number first: no NA spelling reads as one (the NaN spellings parse as NaN, refused).
  if (all_number_ && ParseNumber(cell, &v)) {
    if (!hinted_) {
      all_bool_ = false;
      all_int_ = all_int_ && IsInteger(cell);
    }
    if (std::isinf(v)) {
      ++(v > 0 ? positive_infinite_ : negative_infinite_);
    } else if (finite_ >= kMaxColumnValues) {
      too_many_values_ = true;  // Finish says so; memory stays bounded
    } else {
      AddNumber(v, 1);
    }
    return;  // strings are counted only once a cell is not a number
  }
  if (IsMissingCell(cell)) {
    ++missing_;
    all_int_ = all_bool_ = false;  // pandas: a column with NA is neither int64 nor bool
    return;
  }
  all_bool_ = all_bool_ && IsBool(cell);
  if (all_number_) {
    all_number_ = all_int_ = false;
    first_non_number_ = ValidUtf8(cell, 64);
    first_non_number_row_ = rows_;
    NumbersToStrings();
  }
  if (hinted_ && hint_ == ColumnKind::kNumeric) return;  // Finish refuses the column anyway
  CountString(cell, 1);
}

void SampleBuilder::NumbersToStrings() {
  if (hinted_ && hint_ == ColumnKind::kNumeric) return;
  for (const auto& [key, n] : NumberCounts()) CountString(key, n);
}

void SampleBuilder::Merge(SampleBuilder&& other) {
  if (other.rows_ == 0) return;
  if (rows_ == 0) {
    *this = std::move(other);
    return;
  }
  auto has_numbers = [](const SampleBuilder& b) {
    return b.all_number_ && (b.positive_infinite_ + b.negative_infinite_ > 0 || b.finite_ > 0);
  };
  // Numbers counted as category keys on one side and as text on the other would depend on the
  // order of the cells: ReadCsv reads such a file again in one pass.
  if ((has_numbers(*this) && !other.all_number_) || (has_numbers(other) && !all_number_)) order_dependent_ = true;
  order_dependent_ = order_dependent_ || other.order_dependent_;
  if (all_number_ && !other.all_number_) {
    first_non_number_ = std::move(other.first_non_number_);
    first_non_number_row_ = rows_ + other.first_non_number_row_;
  }
  rows_ += other.rows_;
  missing_ += other.missing_;
  positive_infinite_ += other.positive_infinite_;
  negative_infinite_ += other.negative_infinite_;
  too_many_values_ = too_many_values_ || other.too_many_values_;
  all_int_ = all_int_ && other.all_int_;
  all_bool_ = all_bool_ && other.all_bool_;
  if (all_number_ && other.all_number_) {
    if (other.spilled_) {
      if (!spilled_) SpillTable();
      values_.reserve(values_.size() + other.values_.size());  // exactly: no doubling
      values_.insert(values_.end(), other.values_.begin(), other.values_.end());
      finite_ += other.finite_;
    } else {
      other.table_.ForEach([&](double v, uint64_t n) { AddNumber(v, n); });
    }
    if (finite_ > kMaxColumnValues) too_many_values_ = true;
    return;
  }
  if (all_number_) {
    all_number_ = false;
    NumbersToStrings();
  }
  if (other.all_number_) other.NumbersToStrings();
  all_number_ = false;
  if (!other.strings_complete_) {
    strings_complete_ = false;
    strings_.clear();
    recent_.entries.clear();
  }
  for (const auto& [key, n] : other.strings_) CountString(key, n);
}

namespace {

// A cheap hash of a cell: its length, first and last 8 bytes.
size_t QuickHash(std::string_view s) {
  uint64_t a = 0, b = 0;
  if (s.size() >= 8) {
    std::memcpy(&a, s.data(), 8);
    std::memcpy(&b, s.data() + s.size() - 8, 8);
  } else if (!s.empty()) {
    std::memcpy(&a, s.data(), s.size());
  }
  uint64_t h = (a * 0x9E3779B97F4A7C15ull) ^ (b * 0xC2B2AE3D27D4EB4Full) ^ (s.size() * 0x165667B19E3779F9ull);
  return static_cast<size_t>(h >> 56);  // 0..255
}

}  // namespace

void SampleBuilder::CountString(std::string_view cell, uint64_t n) {
  if (!strings_complete_) return;
  const size_t slot = QuickHash(cell);
  if (!recent_.entries.empty()) {
    RecentStrings::Entry& e = recent_.entries[slot];
    if (e.count && e.key == cell) {  // a key of strings_: valid UTF-8
      *e.count += n;
      return;
    }
  }
  if (!IsValidUtf8(cell)) return CountString(ValidUtf8(cell), n);
  auto it = strings_.find(cell);
  if (it == strings_.end()) {
    if (strings_.size() >= kMaxTrackedValues) {
      strings_complete_ = false;
      strings_.clear();
      recent_.entries.clear();
      return;
    }
    it = strings_.emplace(std::string(cell), 0).first;
  }
  it->second += n;
  if (recent_.entries.empty()) recent_.entries.resize(256);
  recent_.entries[slot] = {it->first, &it->second};
}

std::map<std::string, uint64_t> SampleBuilder::NumberCounts() const {
  std::map<std::string, uint64_t> counts;
  if (spilled_) {
    for (double v : values_) ++counts[NumberKey(v)];
  } else {
    table_.ForEach([&](double v, uint64_t n) { counts[NumberKey(v)] += n; });
  }
  double inf = std::numeric_limits<double>::infinity();
  if (positive_infinite_) counts[NumberKey(inf)] += positive_infinite_;
  if (negative_infinite_) counts[NumberKey(-inf)] += negative_infinite_;
  return counts;
}

ColumnKind SampleBuilder::DetectKind() const {
  if (all_number_) {
    if (all_int_ && missing_ == 0 && rows_ > 0) {
      if (spilled_) return ColumnKind::kNumeric;  // more than kMaxCountedNumbers values
      size_t distinct = table_.size;
      bool zero = false, negative_zero = false;  // one value, two bit patterns
      table_.ForEach([&](double v, uint64_t) {
        if (v == 0) (std::signbit(v) ? negative_zero : zero) = true;
      });
      if (zero && negative_zero) --distinct;
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

Result<ColumnSample> SampleBuilder::Finish(std::string name) const& {
  return SampleBuilder(*this).Build(std::move(name), DetectKind());
}
Result<ColumnSample> SampleBuilder::Finish(std::string name, ColumnKind kind) const& {
  return SampleBuilder(*this).Build(std::move(name), kind);
}
Result<ColumnSample> SampleBuilder::Finish(std::string name) && {
  ColumnKind kind = DetectKind();
  return Build(std::move(name), kind);
}
Result<ColumnSample> SampleBuilder::Finish(std::string name, ColumnKind kind) && {
  return Build(std::move(name), kind);
}

Result<ColumnSample> SampleBuilder::Build(std::string name, ColumnKind kind) {
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
    if (spilled_) {
      s.values = std::move(values_);
      SortValues(&s.values);
    } else {
      std::vector<std::pair<double, uint64_t>> distinct;
      distinct.reserve(table_.size);
      table_.ForEach([&](double v, uint64_t n) { distinct.emplace_back(v, n); });
      std::sort(distinct.begin(), distinct.end());
      uint64_t total = 0;
      for (const auto& d : distinct) total += d.second;
      s.values.reserve(total);
      for (const auto& [v, n] : distinct) s.values.insert(s.values.end(), n, v);
    }
    return s;
  }
  // Numbers as categories: one key per value, as pandas compares values, not spellings.
  std::map<std::string, uint64_t> counts = all_number_ ? NumberCounts() : std::map<std::string, uint64_t>();
  if (!all_number_) counts.insert(strings_.begin(), strings_.end());
  s.categories.assign(counts.begin(), counts.end());
  s.categories_complete = strings_complete_ || all_number_;
  return s;
}

namespace {

// Doubles as unsigned keys in the same order: negatives have every bit flipped, the others the
// sign bit set.
inline uint64_t OrderKey(double v) {
  uint64_t b = std::bit_cast<uint64_t>(v);
  return b & (uint64_t{1} << 63) ? ~b : b | (uint64_t{1} << 63);
}
inline double FromOrderKey(uint64_t k) {
  return std::bit_cast<double>(k & (uint64_t{1} << 63) ? k & ~(uint64_t{1} << 63) : ~k);
}

}  // namespace

namespace {

// Sorts keys by key - lo, least significant 11-bit digit first (2,048 buckets stay in cache),
// over `bits` bits; a pass whose digit is the same in every key is skipped. The result ends
// in *a; *b is scratch of the same size.
void RadixSort(std::vector<uint64_t>* a, std::vector<uint64_t>* b, uint64_t lo, int bits) {
  constexpr int kBits = 11;
  constexpr size_t kBuckets = size_t{1} << kBits;
  const size_t n = a->size();
  const int passes = (bits + kBits - 1) / kBits;
  std::vector<uint32_t> count(static_cast<size_t>(passes) * kBuckets, 0);
  for (uint64_t k : *a)
    for (int d = 0; d < passes; ++d) ++count[d * kBuckets + (((k - lo) >> (kBits * d)) & (kBuckets - 1))];
  for (int d = 0; d < passes; ++d) {
    uint32_t* c = count.data() + d * kBuckets;
    const int shift = kBits * d;
    if (c[(((*a)[0] - lo) >> shift) & (kBuckets - 1)] == n) continue;
    uint32_t sum = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      uint32_t x = c[i];
      c[i] = sum;
      sum += x;
    }
    uint64_t* out = b->data();
    for (uint64_t k : *a) out[c[((k - lo) >> shift) & (kBuckets - 1)]++] = k;
    a->swap(*b);
  }
}

// Values that are all decimals of at most K digits after the point (most columns of a data
// file) sort as the integers v x 10^K, in a few passes over their range instead of six over
// 64 bits. Each value must come back bit for bit from its integer (m / 10^K rounds correctly,
// as the parser did); false, with nothing changed, when one does not.
bool SortAsScaledIntegers(std::vector<double>* values, std::vector<uint64_t>* a, std::vector<uint64_t>* b) {
  static constexpr double kPow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12};
  constexpr double kLimit = 4503599627370496.0;  // 2^52: integers and their halves are exact
  std::vector<double>& v = *values;
  const size_t n = v.size();
  auto scaled = [&](double x, double p, int64_t* m) {
    double s = x * p;
    if (!(std::abs(s) < kLimit)) return false;
    *m = static_cast<int64_t>(s < 0 ? s - 0.5 : s + 0.5);
    return std::bit_cast<uint64_t>(static_cast<double>(*m) / p) == std::bit_cast<uint64_t>(x);
  };
  int k = -1;  // the decimals of a sample of the values
  for (int d = 0; d < 13 && k < 0; ++d) {
    bool all = true;
    for (size_t i = 0; i < 64 && all; ++i) {
      int64_t m;
      all = scaled(v[i * (n - 1) / 63], kPow10[d], &m);
    }
    if (all) k = d;
  }
  if (k < 0) return false;
  const double p = kPow10[k];
  int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
  for (size_t i = 0; i < n; ++i) {
    int64_t m;
    if (!scaled(v[i], p, &m)) return false;
    (*a)[i] = static_cast<uint64_t>(m);
    lo = std::min(lo, m), hi = std::max(hi, m);
  }
  uint64_t range = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  RadixSort(a, b, static_cast<uint64_t>(lo), range == 0 ? 0 : 64 - std::countl_zero(range));
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<double>(static_cast<int64_t>((*a)[i])) / p;
  return true;
}

}  // namespace

void SortValues(std::vector<double>* values) {
  const size_t n = values->size();
  if (n < 4096) {
    std::sort(values->begin(), values->end());
    return;
  }
  // The thread's scratch arrays, kept for its next column: fresh pages would each be faulted in.
  thread_local std::vector<uint64_t> a, b;
  a.resize(n);
  b.resize(n);
  if (n <= std::numeric_limits<uint32_t>::max() && SortAsScaledIntegers(values, &a, &b)) {
    // sorted as integers
  } else {
    // Any doubles: their order keys over all 64 bits.
    for (size_t i = 0; i < n; ++i) a[i] = OrderKey((*values)[i]);
    RadixSort(&a, &b, 0, 64);
    for (size_t i = 0; i < n; ++i) (*values)[i] = FromOrderKey(a[i]);
  }
  if (a.capacity() > (size_t{8} << 20)) a = {}, b = {};  // at most 2 x 64 MiB kept
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
  // Distinct values of the sorted column, without copying it; the first few kept.
  std::vector<double> first_distinct;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0 && v[i] == v[i - 1]) continue;
    ++c->distinct;
    if (first_distinct.size() <= static_cast<size_t>(kMaxDiscreteValues)) first_distinct.push_back(v[i]);
  }
  if (c->distinct <= static_cast<uint64_t>(kMaxDiscreteValues)) {
    c->discrete = true;
    c->edges = first_distinct;
  } else {
    for (int i = 0; i <= kNumericBins; ++i) c->edges.push_back(Quantile(v, static_cast<double>(i) / kNumericBins));
    c->edges.erase(std::unique(c->edges.begin(), c->edges.end()), c->edges.end());
  }
  // Every value is in a bin (the edges come from the values): bin by bin, with binary searches.
  const std::vector<double>& e = c->edges;
  auto lower = [&](double x) { return static_cast<uint64_t>(std::lower_bound(v.begin(), v.end(), x) - v.begin()); };
  if (c->discrete) {
    for (size_t i = 0; i < e.size(); ++i)
      c->counts.push_back((i + 1 < e.size() ? lower(e[i + 1]) : v.size()) - lower(e[i]));
  } else {
    for (size_t i = 0; i + 1 < e.size(); ++i)
      c->counts.push_back((i + 2 == e.size() ? v.size() : lower(e[i + 1])) - lower(e[i]));
  }
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
