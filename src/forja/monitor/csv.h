// The CSV reader of reference and current data files (RFC 4180: a header row, commas, double
// quotes around cells that hold commas, quotes or line breaks, "" for a quote, LF, CRLF or CR
// line ends): ReadCsv streams a file in blocks parsed on every core; CsvReader and
// ReadCsvColumns read text in memory, row by row with the same rules and messages. It is
// monitor's own because batch, which also reads CSV, sits above monitor in the module table.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
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
// In one pass, on the calling thread.
Result<CsvColumns> ReadCsvColumns(std::string_view text);
Result<CsvColumns> ReadCsvFile(const std::string& path);

// How ReadCsv reads a file. It streams: the file is read in blocks of `block_bytes` (a block
// grows only to hold one row longer than that), each cut after its last complete row; `jobs`
// threads parse blocks into column builders of their own, merged at the end, and then finish
// (sort) the columns in parallel. Memory is the columns' values (8 bytes a number of a column
// with more than kMaxCountedNumbers distinct values; the counts of distinct values otherwise;
// at most kMaxTrackedValues strings a column), plus about 2 x jobs + 2 blocks and, while a
// column is sorted, two more arrays of its size per thread. Errors are those of a one-pass
// read: a file that fails in parallel (or whose category counts would depend on the order of
// its cells) is read again in one pass, which says where.
struct CsvReadOptions {
  // Columns read as the kind given (a current file read as the reference's kinds); the others
  // are typed by their own values.
  std::map<std::string, ColumnKind> kinds;
  // Read only these columns (others are skipped unparsed); empty: every column.
  std::vector<std::string> only;
  int jobs = 0;  // 0: one a core
  size_t block_bytes = size_t{4} << 20;
  std::function<void(uint64_t bytes)> on_bytes;  // called as blocks are parsed, for a meter
};
// Every column of the file (or options.only's), in file order.
Result<std::vector<ColumnSample>> ReadCsv(const std::string& path, const CsvReadOptions& options);

// Every column of a CSV file, typed by its own values (a reference).
Result<std::vector<ColumnSample>> ReadCsvSamples(const std::string& path);
// The named columns of a CSV file, each read as the kind given: a reference's columns, in the
// reference's order. Other columns of the file are ignored; one the file lacks is an error.
struct ColumnSpec {
  std::string name;
  ColumnKind kind;
};
Result<std::vector<ColumnSample>> ReadCsvSamples(const std::string& path, const std::vector<ColumnSpec>& columns);

// Whether a file holds nothing but spaces, tabs and line ends (read in blocks).
Result<bool> IsBlankFile(const std::string& path);

}  // namespace forja::monitor
