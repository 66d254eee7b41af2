#include "forja/monitor/csv.h"

#include <algorithm>

#include "forja/core/fs.h"
#include "forja/core/utf8.h"

namespace forja::monitor {

Result<bool> CsvReader::Next(std::vector<std::string>* cells) {
  cells->clear();
  if (pos_ >= text_.size()) return false;
  ++line_;
  size_t start_line = line_;
  std::string cell;
  bool quoted = false, was_quoted = false;
  while (pos_ < text_.size()) {
    char c = text_[pos_++];
    if (quoted) {
      if (c == '"') {
        if (pos_ < text_.size() && text_[pos_] == '"') {
          cell.push_back('"');
          ++pos_;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line_;
        cell.push_back(c);
      }
      continue;
    }
    if (c == '"') {
      if (!cell.empty() || was_quoted) {
        return Status::User("line " + std::to_string(line_) + ": a quote inside an unquoted cell");
      }
      quoted = was_quoted = true;
    } else if (c == ',') {
      cells->push_back(std::move(cell));
      cell.clear();
      was_quoted = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
      break;
    } else if (was_quoted) {
      return Status::User("line " + std::to_string(line_) + ": text after a closing quote");
    } else {
      cell.push_back(c);
    }
  }
  if (quoted) return Status::User("line " + std::to_string(start_line) + ": a quoted cell is never closed");
  cells->push_back(std::move(cell));
  return true;
}

Result<CsvColumns> ReadCsvColumns(std::string_view text) {
  CsvReader reader(text);
  CsvColumns out;
  std::vector<std::string> cells;
  ASSIGN_OR_RETURN(bool has_header, reader.Next(&cells));
  if (!has_header || (cells.size() == 1 && cells[0].empty())) return Status::User("no header row");
  out.names = cells;
  out.columns.resize(cells.size());
  for (size_t i = 0; i < out.names.size(); ++i) {
    if (out.names[i].empty()) return Status::User("line 1: column " + std::to_string(i + 1) + " has no name");
    if (!IsValidUtf8(out.names[i])) {
      return Status::User("line 1: the name of column " + std::to_string(i + 1) + " is not UTF-8");
    }
    for (size_t j = 0; j < i; ++j) {
      if (out.names[j] == out.names[i]) return Status::User("line 1: column '" + out.names[i] + "' appears twice");
    }
  }
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader.Next(&cells));
    if (!more) break;
    if (cells.size() == 1 && cells[0].empty()) continue;  // a blank line, as pandas skips them
    if (cells.size() != out.names.size()) {
      return Status::User("line " + std::to_string(reader.line()) + ": " + std::to_string(cells.size()) +
                          " cells, the header has " + std::to_string(out.names.size()));
    }
    for (size_t i = 0; i < cells.size(); ++i) out.columns[i].Add(cells[i]);
    ++out.rows;
  }
  return out;
}

Result<CsvColumns> ReadCsvFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  Result<CsvColumns> columns = ReadCsvColumns(text);
  if (!columns.ok()) return columns.status().Wrap(path);
  return columns;
}

Result<std::vector<ColumnSample>> ReadCsvSamples(const std::string& path) {
  ASSIGN_OR_RETURN(CsvColumns csv, ReadCsvFile(path));
  std::vector<ColumnSample> samples;
  for (size_t i = 0; i < csv.names.size(); ++i) {
    Result<ColumnSample> s = csv.columns[i].Finish(csv.names[i]);
    if (!s.ok()) return s.status().Wrap(path);
    samples.push_back(std::move(*s));
  }
  return samples;
}

Result<std::vector<ColumnSample>> ReadCsvSamples(const std::string& path, const std::vector<ColumnSpec>& columns) {
  ASSIGN_OR_RETURN(CsvColumns csv, ReadCsvFile(path));
  std::vector<ColumnSample> samples;
  for (const ColumnSpec& c : columns) {
    size_t i = std::find(csv.names.begin(), csv.names.end(), c.name) - csv.names.begin();
    if (i == csv.names.size()) return Status::User(path + ": no column '" + c.name + "'");
    Result<ColumnSample> s = csv.columns[i].Finish(c.name, c.kind);
    if (!s.ok()) return s.status().Wrap(path);
    samples.push_back(std::move(*s));
  }
  return samples;
}

}  // namespace forja::monitor
