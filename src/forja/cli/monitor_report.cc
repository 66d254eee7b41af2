#include "forja/cli/monitor_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "forja/cli/cli.h"
#include "forja/core/strings.h"

namespace forja {

namespace {

using monitor::ColumnDrift;
using monitor::ColumnKind;
using monitor::ColumnProfile;
using monitor::ColumnWindow;
using monitor::Verdict;

// "12.5%", "<0.1%" for a small share that is not 0, "-" for NaN (no rows).
std::string Percent(double share) {
  if (std::isnan(share)) return "-";
  if (share > 0 && share < 0.001) return "<0.1%";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", share * 100);
  std::string s = buf;
  if (s.ends_with(".0%")) s.erase(s.size() - 3, 2);
  return s;
}

std::string Number(double v) { return std::isnan(v) ? "-" : FormatNumber(v); }

std::string VerdictText(const ColumnDrift& c) {
  switch (c.verdict) {
    case Verdict::kDrift: return "DRIFT";
    case Verdict::kNoDrift: return "no";
    case Verdict::kNotTested: return "not tested (text)";
    case Verdict::kNoReference: return "no reference values";
    case Verdict::kNoCurrent: return "no current values";
  }
  return "?";
}

// "ks (p-value)" for the tests decided by a p-value, the distance's name otherwise.
std::string MethodText(const ColumnDrift& c) {
  if (c.method == monitor::Method::kNone) return "-";
  bool p_value = c.method == monitor::Method::kKs || c.method == monitor::Method::kChiSquare ||
                 c.method == monitor::Method::kZ;
  return std::string(monitor::MethodName(c.method)) + (p_value ? " (p-value)" : "");
}

// One bar of a histogram: the reference's and the current data's count of a bin or category.
struct Bar {
  std::string label;
  uint64_t reference = 0, current = 0;
  double lo = NAN, hi = NAN;  // a continuous bin's values; NaN for a value or category
  double x0 = 0, x1 = 0;      // where it is drawn
};

// At most this many category bars; the rest are folded into "other".
constexpr size_t kMaxCategoryBars = 30;

std::vector<Bar> Bars(const ColumnProfile& r, const ColumnWindow& w) {
  std::vector<Bar> bars;
  if (r.kind == ColumnKind::kNumeric) {
    if (w.below) bars.push_back({"below the reference minimum", 0, w.below});
    for (size_t i = 0; i < r.counts.size(); ++i) {
      std::string label = r.discrete ? FormatNumber(r.edges[i])
                                     : "[" + FormatNumber(r.edges[i]) + ", " + FormatNumber(r.edges[i + 1]) +
                                           (i + 2 == r.edges.size() ? "]" : ")");
      Bar bar{label, r.counts[i], i < w.counts.size() ? w.counts[i] : 0};
      if (!r.discrete) bar.lo = r.edges[i], bar.hi = r.edges[i + 1];
      bars.push_back(bar);
    }
    if (w.above) bars.push_back({"above the reference maximum", 0, w.above});
    if (w.other) bars.push_back({"values the reference does not have", 0, w.other});
    return bars;
  }
  Bar other{"other", r.other, w.other};
  for (size_t i = 0; i < r.counts.size(); ++i) {
    uint64_t current = i < w.counts.size() ? w.counts[i] : 0;
    if (i < kMaxCategoryBars) {
      bars.push_back({r.categories[i], r.counts[i], current});
    } else {
      other.reference += r.counts[i];
      other.current += current;
    }
  }
  if (other.reference || other.current) bars.push_back(other);
  return bars;
}

// Places the bars across `width`: continuous bins by their value range, so that each bar's area
// is its share as in a histogram (the values outside the range in slots at the ends); values and
// categories side by side in equal slots.
void Place(std::vector<Bar>* bars, double width) {
  size_t first = bars->size(), last = 0;
  for (size_t i = 0; i < bars->size(); ++i)
    if (!std::isnan((*bars)[i].lo)) first = std::min(first, i), last = i;
  double lo = first < bars->size() ? (*bars)[first].lo : 0, hi = first < bars->size() ? (*bars)[last].hi : 0;
  if (first == bars->size() || !(hi > lo)) {  // no continuous bins: equal slots
    double step = width / static_cast<double>(bars->size());
    for (size_t i = 0; i < bars->size(); ++i) (*bars)[i].x0 = step * static_cast<double>(i), (*bars)[i].x1 = step * static_cast<double>(i + 1);
    return;
  }
  const double slot = 24;
  double left = slot * static_cast<double>(first), right = width - slot * static_cast<double>(bars->size() - 1 - last);
  for (size_t i = 0; i < bars->size(); ++i) {
    Bar& b = (*bars)[i];
    if (i < first) {
      b.x0 = slot * static_cast<double>(i), b.x1 = b.x0 + slot;
    } else if (i > last) {
      b.x0 = right + slot * static_cast<double>(i - last - 1), b.x1 = b.x0 + slot;
    } else {
      b.x0 = left + (b.lo - lo) / (hi - lo) * (right - left);
      b.x1 = left + (b.hi - lo) / (hi - lo) * (right - left);
    }
  }
}

// The two distributions overlaid (each side's shares), in SVG.
std::string Histogram(const ColumnProfile& r, const ColumnWindow& w) {
  std::vector<Bar> bars = Bars(r, w);
  if (bars.empty()) return "<p class=\"none\">No values to draw.</p>\n";
  const double width = 640, height = 150, plot = 130;
  Place(&bars, width);
  double ref_total = 0, cur_total = 0;
  for (const Bar& b : bars) ref_total += static_cast<double>(b.reference), cur_total += static_cast<double>(b.current);
  auto share = [](uint64_t n, double total) { return total > 0 ? static_cast<double>(n) / total : 0.0; };
  // Height is share per pixel of width (at least 2 pixels, so a sliver of a bin stays in scale).
  auto density = [](double s, const Bar& b) { return s / std::max(b.x1 - b.x0, 2.0); };
  double top = 0;
  for (const Bar& b : bars)
    top = std::max({top, density(share(b.reference, ref_total), b), density(share(b.current, cur_total), b)});
  if (top <= 0) top = 1;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + FormatNumber(width) + "\" height=\"" +
                    FormatNumber(height + 18) + "\" role=\"img\">\n";
  char buf[256];
  for (const Bar& b : bars) {
    double rs = share(b.reference, ref_total), cs = share(b.current, cur_total);
    double rh = density(rs, b) / top * plot, ch = density(cs, b) / top * plot, bw = std::max(b.x1 - b.x0 - 1, 0.5);
    svg += "<g><title>" + XmlEscape(b.label) + ": reference " + Percent(rs) + ", current " + Percent(cs) + "</title>";
    std::snprintf(buf, sizeof buf,
                  "<rect class=\"ref\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/>"
                  "<rect class=\"cur\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/></g>\n",
                  b.x0, height - rh, bw, rh, b.x0, height - ch, bw, ch);
    svg += buf;
  }
  std::snprintf(buf, sizeof buf, "<line x1=\"0\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" class=\"axis\"/>\n", height,
                width, height);
  svg += buf;
  const std::string y = FormatNumber(height + 14);
  if (r.kind == ColumnKind::kNumeric && !r.edges.empty()) {
    // The reference's minimum and maximum under where they are drawn.
    double x0 = 0, x1 = width;
    for (const Bar& b : bars) {
      if (b.label == FormatNumber(r.edges.front()) || (!std::isnan(b.lo) && b.lo == r.edges.front())) x0 = b.x0;
      if (b.label == FormatNumber(r.edges.back()) || (!std::isnan(b.hi) && b.hi == r.edges.back())) x1 = b.x1;
    }
    svg += "<text x=\"" + FormatNumber(x0) + "\" y=\"" + y + "\">" + XmlEscape(FormatNumber(r.edges.front())) +
           "</text><text x=\"" + FormatNumber(x1) + "\" y=\"" + y + "\" text-anchor=\"end\">" +
           XmlEscape(FormatNumber(r.edges.back())) + "</text>\n";
  } else {
    svg += "<text x=\"0\" y=\"" + y + "\">" + std::to_string(bars.size()) +
           " categories, most frequent first (hover for names)</text>\n";
  }
  return svg + "</svg>\n";
}

constexpr char kStyle[] =
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:72em}"
    "table{border-collapse:collapse;font-size:14px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
    "tr.drift td{background:#fde2e1}.verdict{font-size:18px;font-weight:bold}.verdict.drift{color:#b3261e}"
    ".verdict.ok{color:#1b5e20}section{margin:1.5em 0}h3 span{font-weight:normal;color:#666;font-size:14px}"
    "rect.ref{fill:#1f77b4;opacity:.45}rect.cur{fill:#ff7f0e;opacity:.45}line.axis{stroke:#999}"
    "svg text{font-size:11px;fill:#555}.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}"
    ".legend .ref{background:#1f77b4;opacity:.45}.legend .cur{background:#ff7f0e;opacity:.45}";

}  // namespace

Table DriftTable(const DriftReport& report) {
  Table t;
  t.header = {"Column", "Kind", "Method", "Score", "Threshold", "Drift", "Missing (ref -> cur)", "Out of range"};
  for (const ColumnDrift& c : report.drift.columns) {
    t.rows.push_back({c.name, monitor::KindName(c.kind), MethodText(c), c.tested() ? Number(c.score) : "-",
                      c.method == monitor::Method::kNone ? "-" : FormatNumber(c.threshold), VerdictText(c),
                      Percent(c.reference_missing_share) + " -> " + Percent(c.current_missing_share),
                      Percent(c.out_of_reference_share)});
  }
  return t;
}

std::string DriftVerdict(const DriftReport& report) {
  const monitor::DatasetDrift& d = report.drift;
  if (d.tested == 0) {
    return std::string("No dataset drift: no column could be tested") +
           (report.current_rows == 0 ? " (the current data has no rows)" : "");
  }
  return std::string(d.drift ? "Dataset drift: " : "No dataset drift: ") + std::to_string(d.drifted) + " of " +
         std::to_string(d.tested) + " tested columns drifted (" + Percent(d.share) + ", threshold 50%)";
}

std::string RenderDriftMarkdown(const DriftReport& report) {
  auto code = [](std::string s) {
    std::replace(s.begin(), s.end(), '`', '\'');
    return "`" + s + "`";
  };
  std::string md = std::string("### Drift report: ") + (report.drift.drift ? "drift" : "no drift") + "\n\n";
  md += "Reference " + code(report.reference) + " (" + std::to_string(report.reference_rows) + " rows), current " +
        code(report.current) + " (" + std::to_string(report.current_rows) + " rows); " +
        (report.exact ? "exact values compared" : "compared on the reference profile's bins") + ".\n\n";
  md += "**" + DriftVerdict(report) + "**\n\n";
  md += RenderMarkdown(DriftTable(report));
  if (!report.skipped.empty()) {
    md += "\nNot compared (the current data has no such column):";
    for (const std::string& s : report.skipped) md += " " + code(s);
    md += "\n";
  }
  return md;
}

std::string RenderDriftHtml(const DriftReport& report, const monitor::Window& current) {
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Drift report: " +
                     XmlEscape(report.current) + "</title>\n<style>" + kStyle + "</style></head><body>\n";
  html += "<h1>Drift report</h1>\n<p class=\"verdict " + std::string(report.drift.drift ? "drift" : "ok") + "\">" +
          XmlEscape(DriftVerdict(report)) + "</p>\n";
  html += "<p>Reference <code>" + XmlEscape(report.reference) + "</code> (" + std::to_string(report.reference_rows) +
          " rows), current <code>" + XmlEscape(report.current) + "</code> (" + std::to_string(report.current_rows) +
          " rows); " + (report.exact ? "exact values compared" : "compared on the reference profile's bins") +
          ". Methods and thresholds are those of Evidently's DataDriftPreset.</p>\n";
  Table t = DriftTable(report);
  html += "<table><tr>";
  for (const std::string& h : t.header) html += "<th>" + XmlEscape(h) + "</th>";
  html += "</tr>\n";
  for (size_t i = 0; i < t.rows.size(); ++i) {
    html += report.drift.columns[i].drifted() ? "<tr class=\"drift\">" : "<tr>";
    for (const std::string& cell : t.rows[i]) html += "<td>" + XmlEscape(cell) + "</td>";
    html += "</tr>\n";
  }
  html += "</table>\n";
  if (!report.skipped.empty()) {
    html += "<p>Not compared (the current data has no such column):";
    for (const std::string& s : report.skipped) html += " <code>" + XmlEscape(s) + "</code>";
    html += "</p>\n";
  }
  html += "<h2>Columns</h2>\n<p class=\"legend\">Share of each side's values per bin:<span class=\"ref\"></span>"
          "reference<span class=\"cur\"></span>current</p>\n";
  const monitor::Profile& profile = current.profile();
  for (size_t i = 0; i < report.drift.columns.size(); ++i) {
    const ColumnDrift& c = report.drift.columns[i];
    html += "<section><h3>" + XmlEscape(c.name) + " <span>" + monitor::KindName(c.kind) + " · " +
            XmlEscape(MethodText(c)) + " · " + XmlEscape(VerdictText(c)) + "</span></h3>\n";
    if (i < current.size() && profile.columns[i].name == c.name) html += Histogram(profile.columns[i], current.column(i));
    html += "</section>\n";
  }
  return html + "</body></html>\n";
}

}  // namespace forja
