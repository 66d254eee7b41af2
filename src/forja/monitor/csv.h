// A small CSV reader for reference and current data files (RFC 4180: a header row, commas,
// double quotes around cells that hold commas, quotes or line breaks, "" for a quote, LF or
// CRLF line ends). It is monitor's own because batch, which also reads CSV, sits above monitor
// in the module table.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "forja/core/status.h"
#include "forja/monitor/sample.h"

namespace forja::monitor {

// Splits `text` into rows of cells. Each row must have as many cells as the header; errors
// name the line: "line 7: 3 cells, the header has 4".
class CsvReader {
 public:
  explicit CsvReader(std::string_view text) : text_(text) {}
  // The next row into *cells (their text decoded); false at the end of the text.
  Result<bool> Next(std::vector<std::string>* cells);
  size_t line() const { return line_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  size_t line_ = 0;
};

// A CSV file's columns: their names in file order and the cells of each.
struct CsvColumns {
  std::vector<std::string> names;
  std::vector<SampleBuilder> columns;
  uint64_t rows = 0;
};
Result<CsvColumns> ReadCsvColumns(std::string_view text);
Result<CsvColumns> ReadCsvFile(const std::string& path);

// Every column of a CSV file, typed by its own values (a reference).
Result<std::vector<ColumnSample>> ReadCsvSamples(const std::string& path);
// The named columns of a CSV file, each read as the kind given: a reference's columns, in the
// reference's order. Other columns of the file are ignored; one the file lacks is an error.
struct ColumnSpec {
  std::string name;
  ColumnKind kind;
};
Result<std::vector<ColumnSample>> ReadCsvSamples(const std::string& path, const std::vector<ColumnSpec>& columns);

}  // namespace forja::monitor
