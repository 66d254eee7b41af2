#include "forja/cli/table.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string_view>

namespace forja {

using pipeline::FormatChange;
using pipeline::FormatParam;
using pipeline::FormatValue;
using pipeline::MetricDiff;
using pipeline::MetricsFile;
using pipeline::ParamDiff;

namespace {

// Code points, for column widths.
size_t Width(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) n++;
  return n;
}

std::string EscapeCell(std::string_view s, bool markdown) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else if (markdown && c == '|') {
      out += "\\|";
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::vector<std::vector<std::string>> EscapedRows(const Table& t, bool markdown) {
  std::vector<std::vector<std::string>> rows;
  rows.reserve(t.rows.size() + 1);
  for (const auto* r : {&t.header}) {
    std::vector<std::string> row;
    for (const auto& c : *r) row.push_back(EscapeCell(c, markdown));
    rows.push_back(std::move(row));
  }
  for (const auto& r : t.rows) {
    std::vector<std::string> row;
    for (size_t i = 0; i < t.header.size(); i++) row.push_back(i < r.size() ? EscapeCell(r[i], markdown) : "");
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<size_t> Widths(const std::vector<std::vector<std::string>>& rows, size_t min) {
  std::vector<size_t> w(rows.empty() ? 0 : rows[0].size(), min);
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); i++) w[i] = std::max(w[i], Width(r[i]));
  return w;
}

}  // namespace

std::string RenderText(const Table& table) {
  auto rows = EscapedRows(table, false);
  auto w = Widths(rows, 0);
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); i++) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(w[i] - Width(r[i]) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string RenderMarkdown(const Table& table) {
  auto rows = EscapedRows(table, true);
  auto w = Widths(rows, 3);
  std::string out;
  auto emit = [&](const std::vector<std::string>& r) {
    std::string line = "|";
    for (size_t i = 0; i < r.size(); i++) line += " " + r[i] + std::string(w[i] - Width(r[i]), ' ') + " |";
    out += line + "\n";
  };
  emit(rows[0]);
  std::string sep = "|";
  for (size_t x : w) sep += std::string(x + 2, '-') + "|";
  out += sep + "\n";
  for (size_t i = 1; i < rows.size(); i++) emit(rows[i]);
  return out;
}

void PrintText(const Table& table) {
  std::string text = RenderText(table);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  text += '\n';
  std::fwrite(text.data(), 1, text.size(), stdout);
}

Table MetricsShowTable(const std::vector<MetricsFile>& files, int precision) {
  Table t{{"Path", "Metric", "Value"}, {}};
  for (const MetricsFile& f : files)
    for (const pipeline::Metric& m : f.metrics) t.rows.push_back({f.path, m.key, FormatValue(m.value, precision)});
  return t;
}

Table MetricsDiffTable(const std::vector<MetricDiff>& diffs, const std::string& rev, int precision) {
  Table t{{"Path", "Metric", rev, "workspace", "Change"}, {}};
  auto value = [&](const std::optional<config::Node>& v) { return v ? FormatValue(*v, precision) : std::string("-"); };
  for (const MetricDiff& d : diffs)
    t.rows.push_back({d.path, d.key, value(d.old_value), value(d.new_value),
                      d.change ? FormatChange(*d.change, precision) : std::string("-")});
  return t;
}

Table ParamsDiffTable(const std::vector<ParamDiff>& diffs, const std::string& rev) {
  Table t{{"Path", "Param", rev, "workspace"}, {}};
  auto value = [](const std::optional<std::string>& v) { return v ? FormatParam(*v) : std::string("-"); };
  for (const ParamDiff& d : diffs) t.rows.push_back({d.source, d.key, value(d.old_json), value(d.new_json)});
  return t;
}

}  // namespace forja
