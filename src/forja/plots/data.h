// Reading the data files a plot draws: CSV, TSV, JSON and YAML series, as DVC
// reads them (dvc/render/converter/vega.py, get_datapoints).
//
//   CSV / TSV   a header row, then one row per datapoint (quotes as RFC 4180)
//   JSON / YAML a list of objects, or an object whose lists of objects (found
//               at any depth, in order) are the datapoints; several lists are
//               merged by index, as DVC merges them
//
// Every file is outside input: its size, rows, columns and nesting go through
// the limits below, and every error is one line naming the file (and its line
// where there is one).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "forja/core/status.h"

namespace forja::plots {

inline constexpr size_t kMaxDataBytes = 64u << 20;  // a data file
inline constexpr size_t kMaxImageBytes = 16u << 20; // an image file, inlined as a data: URI
inline constexpr size_t kMaxRows = 200000;          // datapoints in one file
inline constexpr size_t kMaxColumns = 1000;         // fields of one datapoint
inline constexpr size_t kMaxYamlNodes = 4000000;    // values after YAML aliases are expanded

enum class DataFormat { kCsv, kTsv, kJson, kYaml, kImage, kUnknown };

// By the file name's extension (case-insensitive): .csv .tsv .json .yaml .yml;
// .png .jpg .jpeg .gif .svg are images.
DataFormat FormatOf(std::string_view path);

// One file's datapoints: the fields in first-seen order and one row of cells per
// datapoint (a cell is the value's text: numbers as written, "" for null or absent).
struct DataTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;

  // The column's index, or -1.
  int Find(std::string_view column) const;
};

// Parses `text` in `format` (not kImage / kUnknown). `name` starts every error:
// "eval/loss.csv:4: 3 fields, the header has 2". With `header` false (DVC's
// header: false) a CSV or TSV has no header row and its columns are named
// "0", "1", ... as DVC names them.
Result<DataTable> ParseData(std::string_view text, const std::string& name, DataFormat format, bool header = true);

// A number written in a cell ("0.5", "-1e3", "3"), or false. No inf or nan.
bool ParseNumber(std::string_view text, double* out);

}  // namespace forja::plots
