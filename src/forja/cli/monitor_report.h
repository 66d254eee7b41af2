// How `forja monitor report` shows a drift report (cmd_monitor.cc computes it with monitor's
// drift.h): a table for a terminal, a Markdown table that fits a pull-request comment, and one
// self-contained HTML page (no script, no network) with the verdict table and, per column,
// the reference and current histograms overlaid as inline SVG.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "forja/cli/table.h"
#include "forja/monitor/drift.h"
#include "forja/monitor/window.h"

namespace forja {

struct DriftReport {
  std::string reference, current;  // as the user named them
  bool exact = false;              // exact values compared (a CSV reference), else the profile's bins
  uint64_t reference_rows = 0, current_rows = 0;
  // Reference columns the current data lacks that are left out: the prediction and the target.
  std::vector<std::string> skipped;
  monitor::DatasetDrift drift;
};

// Column | Kind | Method | Score | Threshold | Drift | Missing (ref -> cur) | Out of range.
Table DriftTable(const DriftReport& report);
// "Dataset drift: 3 of 5 tested columns drifted (60%, threshold 50%)" or "No dataset drift: ...".
std::string DriftVerdict(const DriftReport& report);
// A heading, the verdict and the table, in GitHub Markdown.
std::string RenderDriftMarkdown(const DriftReport& report);
// The page; `current` holds the current data counted on the reference profile's bins
// (current.profile() is the reference), in the order of report.drift.columns.
std::string RenderDriftHtml(const DriftReport& report, const monitor::Window& current);

}  // namespace forja
