// Plots as DVC's `plots:` declares them, drawn as SVG without any script
// (docs/plots.md). A plot is a definition (PlotSpec: the template and which
// fields of which files are x and y) and, per revision, the data files it
// reads; BuildPlot pairs them into series, RenderSvg draws them, RenderHtml
// puts charts and images on one self-contained page.
//
// DVC's rules (dvc/render/converter/vega.py) kept here:
//   y: "loss" | [loss, acc] | {file.csv: loss, other.json: [a, b]}
//      absent: the last field of the plot's own file
//   x: "epoch" | {file.csv: epoch}; absent: "step", the datapoint's index
//   a plain x with a y mapping applies to every y file
//   labels: x_label / y_label, else the field when there is one, else x / y
// Templates: linear, simple (lines), scatter (points), smooth (points and a
// moving average), confusion and confusion_normalized (a heatmap of x = actual
// against y = predicted, counts or shares of each actual row),
// bar_horizontal and bar_horizontal_sorted (x = value, y = category).
// An x of fpr with a y of tpr (ROC) or recall with precision (PR) draws on
// [0, 1] x [0, 1]; ROC adds the chance diagonal.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "forja/core/status.h"
#include "forja/plots/data.h"

namespace forja::plots {

inline constexpr size_t kMaxClasses = 200;  // distinct labels of a confusion matrix
inline constexpr size_t kMaxBars = 2000;    // categories of a bar chart

struct FieldRef {
  std::string file;  // repository-relative; "" = the plot's id
  std::string field;
};

struct PlotSpec {
  std::string id;      // a data or image file, or a name (then y names files)
  std::string origin;  // "forja.yaml:12", for errors
  std::string template_name;  // "" = linear
  std::vector<FieldRef> x;    // empty: the step (index)
  std::vector<FieldRef> y;    // empty: the last field of the id's file
  std::string x_label, y_label, title;
  bool header = true;  // false: its CSV / TSV files have no header row (columns "0", "1", ...)
};

// The template names DVC ships, and whether `name` is one.
const std::vector<std::string>& TemplateNames();
bool IsKnownTemplate(std::string_view name);

// The files a spec reads (the id for an image, or the y and x files), each once.
std::vector<std::string> SpecFiles(const PlotSpec& spec);
bool IsImageSpec(const PlotSpec& spec);

// One revision's files: path -> table (a path that is absent there is missing).
struct RevisionData {
  std::string rev;  // "workspace", "HEAD~1"
  std::map<std::string, DataTable> files;
};

enum class ChartKind { kLine, kScatter, kSmooth, kConfusion, kBar };

struct Series {
  std::string name;  // the legend: the parts that tell series apart
  std::string rev, file, x_field, y_field;
  std::vector<std::string> xs, ys;  // cells as written
};

struct Plot {
  std::string id, title, template_name, x_label, y_label;
  ChartKind kind = ChartKind::kLine;
  bool normalized = false;  // confusion_normalized
  bool sorted = false;      // bar_horizontal_sorted
  std::vector<Series> series;
};

// Pairs the spec with each revision's data. A field a file lacks is an error
// naming file and field and the fields it has; a file absent from every
// revision is an error; absent from some, it gives no series for them.
Result<Plot> BuildPlot(const PlotSpec& spec, const std::vector<RevisionData>& revisions);

// The plot as one standalone SVG document (with its XML declaration).
std::string RenderSvg(const Plot& plot);

// One item of the HTML page: a chart's SVG, or an image's bytes.
struct PageItem {
  std::string heading;  // the plot's id
  std::string svg;      // inline SVG (RenderSvg's), or
  struct Image {
    std::string rev, mime, bytes;
  };
  std::vector<Image> images;
};

// One self-contained HTML page: inline CSS and SVG, images as data: URIs, no script.
std::string RenderHtml(const std::string& title, const std::vector<PageItem>& items);

// Text for XML and HTML: & < > " ' escaped; control characters other than tab
// and newline, and invalid UTF-8, become U+FFFD (XML 1.0 forbids them).
std::string XmlEscape(std::string_view text);

// A file name for a plot's SVG: the id with / and other unsafe bytes as '_', + ".svg".
std::string SvgFileName(std::string_view id);

std::string ImageMime(std::string_view path);
std::string Base64(std::string_view bytes);

}  // namespace forja::plots
