// Tables as the CLI prints them: columns of text for a terminal, or a GitHub
// Markdown table for a pull request comment; and the tables of `forja metrics`
// and `forja params`.
#pragma once

#include <string>
#include <vector>

#include "forja/pipeline/metric_files.h"

namespace forja {

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

// Columns padded to their widest cell, two spaces apart, no trailing spaces.
// Control characters in cells are escaped (\n, \t, \x01).
std::string RenderText(const Table& table);
// A GitHub Markdown table (padded; '|' in cells escaped), for PR comments.
std::string RenderMarkdown(const Table& table);
// Prints RenderText(table) on standard output, without a trailing blank line.
void PrintText(const Table& table);

// Path | Metric | Value.
Table MetricsShowTable(const std::vector<pipeline::MetricsFile>& files, int precision);
// Path | Metric | <rev> | workspace | Change; "-" for an absent value or change.
Table MetricsDiffTable(const std::vector<pipeline::MetricDiff>& diffs, const std::string& rev, int precision);
// Path | Param | <rev> | workspace.
Table ParamsDiffTable(const std::vector<pipeline::ParamDiff>& diffs, const std::string& rev);

}  // namespace forja
