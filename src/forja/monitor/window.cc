#include "forja/monitor/window.h"

#include <algorithm>
#include <cmath>

#include "forja/core/utf8.h"

#include "forja/monitor/sample.h"

namespace forja::monitor {

void ColumnWindow::Merge(const ColumnWindow& o) {
  rows += o.rows;
  missing += o.missing;
  infinite += o.infinite;
  invalid += o.invalid;
  below += o.below;
  above += o.above;
  other += o.other;
  if (counts.size() < o.counts.size()) counts.resize(o.counts.size(), 0);
  for (size_t i = 0; i < o.counts.size(); ++i) counts[i] += o.counts[i];
  if (gaps.size() < o.gaps.size()) gaps.resize(o.gaps.size(), 0);
  for (size_t i = 0; i < o.gaps.size(); ++i) gaps[i] += o.gaps[i];
  moments.Merge(o.moments);
}

void ColumnWindow::AddFinite(const ColumnProfile& reference, double value) {
  moments.Add(value);
  int bin = reference.NumericBin(value);
  if (bin >= 0) {
    ++counts[bin];
  } else if (bin == -1) {
    ++below;
  } else if (bin == -2) {
    ++above;
  } else {
    ++other;
    int gap = reference.Gap(value);
    if (gap >= 0) {
      if (gaps.size() < reference.GapCount()) gaps.resize(reference.GapCount(), 0);
      ++gaps[gap];
    }
  }
}

ColumnWindow CountSample(const ColumnProfile& ref, const ColumnSample& cur) {
  ColumnWindow w;
  w.rows = cur.rows;
  w.missing = cur.missing;
  w.infinite = cur.infinite;
  w.counts.assign(ref.counts.size(), 0);
  w.gaps.assign(ref.GapCount(), 0);
  if (ref.kind == ColumnKind::kNumeric) {
    if (cur.kind != ColumnKind::kNumeric) w.invalid = cur.present();  // words: not numbers
    for (double v : cur.values) w.AddFinite(ref, v);
    return w;
  }
  auto count = [&](const std::string& value, uint64_t n) {
    int i = ref.CategoryIndex(value);
    (i >= 0 ? w.counts[i] : w.other) += n;
  };
  for (const auto& [value, n] : cur.categories) count(value, n);
  for (double v : cur.values) count(NumberKey(v), 1);  // a column read as numbers
  if (!cur.categories_complete) w.other = cur.present();
  return w;
}

Window::Window(const Profile& profile) : profile_(&profile) {
  columns_.resize(profile.columns.size());
  category_index_.resize(profile.columns.size());
  for (size_t i = 0; i < profile.columns.size(); ++i) {
    const ColumnProfile& c = profile.columns[i];
    columns_[i].counts.assign(c.counts.size(), 0);
    columns_[i].gaps.assign(c.GapCount(), 0);
    for (size_t k = 0; k < c.categories.size(); ++k) category_index_[i].emplace(c.categories[k], static_cast<int>(k));
  }
}

void Window::AddNumber(size_t column, double value) {
  ColumnWindow& w = columns_[column];
  const ColumnProfile& c = profile_->columns[column];
  ++w.rows;
  if (std::isnan(value)) {
    ++w.missing;
    return;
  }
  if (c.kind != ColumnKind::kNumeric) {
    --w.rows;  // counted again by AddCell
    AddCell(column, NumberKey(value));
    return;
  }
  if (std::isinf(value)) {
    ++w.infinite;
    return;
  }
  w.AddFinite(c, value);
}

void Window::AddCell(size_t column, std::string_view cell) {
  const ColumnProfile& c = profile_->columns[column];
  if (IsMissingCell(cell)) {
    AddMissing(column);
    return;
  }
  if (c.kind == ColumnKind::kNumeric) {
    double v;
    if (ParseNumber(cell, &v)) {
      AddNumber(column, v);
    } else {
      ++columns_[column].rows;
      ++columns_[column].invalid;
    }
    return;
  }
  ColumnWindow& w = columns_[column];
  ++w.rows;
  const auto& index = category_index_[column];
  auto it = index.find(cell);
  if (it == index.end()) {
    // "01" and "1.0" are the category "1" in a column of numbers; bytes that are not UTF-8
    // were counted as U+FFFD in the reference (sample.h).
    double v;
    if (ParseNumber(cell, &v)) {
      it = index.find(NumberKey(v));
    } else if (!IsValidUtf8(cell)) {
      it = index.find(ValidUtf8(cell));
    }
  }
  if (it != index.end()) {
    ++w.counts[it->second];
  } else {
    ++w.other;
  }
}

void Window::AddMissing(size_t column) {
  ++columns_[column].rows;
  ++columns_[column].missing;
}

void Window::AddRow(const std::vector<std::string_view>& cells) {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (i < cells.size()) {
      AddCell(i, cells[i]);
    } else {
      AddMissing(i);
    }
  }
}

Status Window::Merge(const Window& other) {
  if (other.profile_ != profile_) return Status::Internal("merging windows of different profiles");
  for (size_t i = 0; i < columns_.size(); ++i) columns_[i].Merge(other.columns_[i]);
  return Status::Ok();
}

void Window::Clear() {
  for (ColumnWindow& w : columns_) {
    std::vector<uint64_t> counts = std::move(w.counts), gaps = std::move(w.gaps);
    std::fill(counts.begin(), counts.end(), 0);
    std::fill(gaps.begin(), gaps.end(), 0);
    w = ColumnWindow();
    w.counts = std::move(counts);
    w.gaps = std::move(gaps);
  }
}

}  // namespace forja::monitor
