// Drawing a Plot as SVG, and the HTML page around the charts. No script, no
// external reference: every chart is self-contained.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "forja/core/utf8.h"
#include "forja/plots/plots.h"

namespace forja::plots {

namespace {

// Tableau 10, as Vega draws DVC's plots.
const char* const kColors[] = {"#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b",
                               "#eeca3b", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac"};
const char* Color(size_t i) { return kColors[i % 10]; }

constexpr double kWidth = 720, kPlotHeight = 360;
constexpr double kLeft = 80, kRight = 30, kTop = 46, kAxisBottom = 56, kLegendRow = 20;

std::string Num(double v) {  // coordinates: 2 decimals, no "-0"
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

std::string TickLabel(double v, double step) {
  if (std::fabs(v) < step * 1e-9) v = 0;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// Axis bounds and a step of 1, 2 or 5 times a power of ten, about 5 ticks.
struct Scale {
  double lo = 0, hi = 1, step = 0.2;
  double px0 = 0, px1 = 1;  // pixels for lo and hi
  double At(double v) const { return px0 + (v - lo) / (hi - lo) * (px1 - px0); }
};

Scale NiceScale(double lo, double hi, double px0, double px1, bool exact = false) {
  if (!(hi > lo)) {
    double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad, hi += pad;
  }
  double raw = (hi - lo) / 5;
  double mag = std::pow(10, std::floor(std::log10(raw)));
  double norm = raw / mag;
  double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  Scale s;
  s.step = step;
  s.lo = exact ? lo : std::floor(lo / step) * step;
  s.hi = exact ? hi : std::ceil(hi / step) * step;
  s.px0 = px0, s.px1 = px1;
  return s;
}

struct Svg {
  std::string out;
  void Text(double x, double y, std::string_view text, std::string_view attrs = "") {
    out += "<text x=\"" + Num(x) + "\" y=\"" + Num(y) + "\"" + (attrs.empty() ? "" : " ") + std::string(attrs) + ">" +
           XmlEscape(text) + "</text>\n";
  }
  void Line(double x1, double y1, double x2, double y2, std::string_view attrs) {
    out += "<line x1=\"" + Num(x1) + "\" y1=\"" + Num(y1) + "\" x2=\"" + Num(x2) + "\" y2=\"" + Num(y2) + "\" " +
           std::string(attrs) + "/>\n";
  }
};

std::string Header(double w, double h, const Plot& plot) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Num(w) +
         "\" height=\"" + Num(h) + "\" viewBox=\"0 0 " + Num(w) + " " + Num(h) +
         "\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\" data-template=\"" +
         XmlEscape(plot.template_name) + "\">\n<title>" + XmlEscape(plot.title) + "</title>\n" +
         "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
}

// The legend below the chart, wrapped to the width; returns its height.
double Legend(Svg* svg, const std::vector<std::string>& names, double top, bool swatch_lines) {
  double x = kLeft, y = top;
  for (size_t i = 0; i < names.size(); i++) {
    double w = 26 + 7.0 * static_cast<double>(std::min<size_t>(names[i].size(), 60));
    if (x + w > kWidth - kRight && x > kLeft) x = kLeft, y += kLegendRow;
    if (swatch_lines) svg->Line(x, y - 4, x + 16, y - 4, std::string("stroke=\"") + Color(i) + "\" stroke-width=\"2.5\"");
    else svg->out += "<rect x=\"" + Num(x) + "\" y=\"" + Num(y - 10) + "\" width=\"12\" height=\"12\" fill=\"" + Color(i) + "\"/>\n";
    svg->Text(x + 21, y, names[i].size() > 60 ? names[i].substr(0, 57) + "..." : names[i], "class=\"legend\"");
    x += w + 12;
  }
  return y - top + kLegendRow;
}

size_t LegendRows(const std::vector<std::string>& names) {
  double x = kLeft;
  size_t rows = 1;
  for (const auto& n : names) {
    double w = 26 + 7.0 * static_cast<double>(std::min<size_t>(n.size(), 60));
    if (x + w > kWidth - kRight && x > kLeft) x = kLeft, rows++;
    x += w + 12;
  }
  return rows;
}

std::vector<std::string> Names(const Plot& plot) {
  std::vector<std::string> out;
  for (const auto& s : plot.series) out.push_back(s.name);
  return out;
}

void Axes(Svg* svg, const Plot& plot, const Scale& xs, const Scale* ys, const std::vector<std::string>* y_categories,
          const std::vector<std::string>* x_categories, const std::vector<double>* x_cat_pos) {
  double bottom = kTop + kPlotHeight;
  svg->out += "<g class=\"axes\" stroke=\"#888\">\n";
  svg->Line(kLeft, bottom, kWidth - kRight, bottom, "stroke=\"#888\"");
  svg->Line(kLeft, kTop, kLeft, bottom, "stroke=\"#888\"");
  svg->out += "</g>\n<g class=\"ticks\" fill=\"#333\">\n";
  if (x_categories) {
    for (size_t i = 0; i < x_categories->size(); i++)
      svg->Text((*x_cat_pos)[i], bottom + 16, (*x_categories)[i], "text-anchor=\"middle\"");
  } else {
    for (double v = xs.lo; v <= xs.hi + xs.step * 1e-6; v += xs.step) {
      svg->Line(xs.At(v), bottom, xs.At(v), bottom + 5, "stroke=\"#888\"");
      svg->Text(xs.At(v), bottom + 18, TickLabel(v, xs.step), "text-anchor=\"middle\"");
    }
  }
  if (ys) {
    for (double v = ys->lo; v <= ys->hi + ys->step * 1e-6; v += ys->step) {
      svg->Line(kLeft, ys->At(v), kWidth - kRight, ys->At(v), "stroke=\"#eee\"");
      svg->Text(kLeft - 8, ys->At(v) + 4, TickLabel(v, ys->step), "text-anchor=\"end\"");
    }
  }
  (void)y_categories;
  svg->out += "</g>\n";
  svg->Text(kWidth / 2, 24, plot.title, "class=\"title\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\"");
  svg->Text((kLeft + kWidth - kRight) / 2, bottom + 40, plot.x_label, "class=\"x-label\" text-anchor=\"middle\"");
  svg->Text(18, kTop + kPlotHeight / 2, plot.y_label,
            "class=\"y-label\" text-anchor=\"middle\" transform=\"rotate(-90 18 " + Num(kTop + kPlotHeight / 2) + ")\"");
}

// --- lines, points, smooth -------------------------------------------------------

std::string RenderXY(const Plot& plot) {
  // x is numeric when every x cell of every series is; else categories in first-seen order.
  bool numeric_x = true;
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  std::vector<std::string> cats;
  std::map<std::string, size_t> cat_index;
  for (const auto& s : plot.series)
    for (size_t i = 0; i < s.xs.size(); i++) {
      double v;
      if (ParseNumber(s.xs[i], &v)) x_lo = std::min(x_lo, v), x_hi = std::max(x_hi, v);
      else numeric_x = false;
      if (cat_index.emplace(s.xs[i], cats.size()).second) cats.push_back(s.xs[i]);
      if (ParseNumber(s.ys[i], &v)) y_lo = std::min(y_lo, v), y_hi = std::max(y_hi, v);
    }
  if (!std::isfinite(x_lo)) x_lo = 0, x_hi = 1;
  if (!std::isfinite(y_lo)) y_lo = 0, y_hi = 1;
  bool roc = false, unit = false;
  if (!plot.series.empty()) {
    const Series& s0 = plot.series[0];
    roc = s0.x_field == "fpr" && s0.y_field == "tpr";
    unit = roc || (s0.x_field == "recall" && s0.y_field == "precision");
  }
  if (unit) x_lo = std::min(x_lo, 0.0), x_hi = std::max(x_hi, 1.0), y_lo = std::min(y_lo, 0.0), y_hi = std::max(y_hi, 1.0);
  double bottom = kTop + kPlotHeight;
  Scale xs = NiceScale(x_lo, x_hi, kLeft + 10, kWidth - kRight - 10);
  Scale ys = NiceScale(y_lo, y_hi, bottom, kTop);
  std::vector<double> cat_pos;
  if (!numeric_x) {
    double span = (kWidth - kRight - kLeft) / static_cast<double>(std::max<size_t>(cats.size(), 1));
    for (size_t i = 0; i < cats.size(); i++) cat_pos.push_back(kLeft + span * (static_cast<double>(i) + 0.5));
  }
  auto names = Names(plot);
  double height = bottom + kAxisBottom + static_cast<double>(LegendRows(names)) * kLegendRow + 10;
  Svg svg;
  svg.out = Header(kWidth, height, plot);
  Axes(&svg, plot, xs, &ys, nullptr, numeric_x ? nullptr : &cats, &cat_pos);
  if (roc) svg.Line(xs.At(0), ys.At(0), xs.At(1), ys.At(1), "class=\"chance\" stroke=\"#aaa\" stroke-dasharray=\"4 4\"");
  for (size_t k = 0; k < plot.series.size(); k++) {
    const Series& s = plot.series[k];
    std::vector<std::pair<double, double>> pts;
    for (size_t i = 0; i < s.xs.size(); i++) {
      double x, y;
      if (!ParseNumber(s.ys[i], &y)) continue;
      if (numeric_x) {
        if (!ParseNumber(s.xs[i], &x)) continue;
        x = xs.At(x);
      } else {
        x = cat_pos[cat_index[s.xs[i]]];
      }
      pts.emplace_back(x, ys.At(y));
    }
    svg.out += "<g class=\"series\" data-name=\"" + XmlEscape(s.name) + "\" data-rev=\"" + XmlEscape(s.rev) +
               "\" data-points=\"" + std::to_string(pts.size()) + "\">\n<title>" + XmlEscape(s.name) + "</title>\n";
    std::string color = Color(k);
    if (plot.kind == ChartKind::kLine || plot.kind == ChartKind::kSmooth) {
      std::vector<std::pair<double, double>> line = pts;
      if (plot.kind == ChartKind::kSmooth && pts.size() > 2) {
        // A centered moving average over about a twentieth of the points
        // (DVC's smooth template has a slider; a static chart picks one width).
        size_t half = std::max<size_t>(1, pts.size() / 40);
        std::vector<double> prefix(pts.size() + 1, 0);  // sums, so the average is O(1) per point
        for (size_t i = 0; i < pts.size(); i++) prefix[i + 1] = prefix[i] + pts[i].second;
        for (size_t i = 0; i < pts.size(); i++) {
          size_t a = i > half ? i - half : 0, b = std::min(pts.size() - 1, i + half);
          line[i].second = (prefix[b + 1] - prefix[a]) / static_cast<double>(b - a + 1);
        }
      }
      std::string points;
      for (const auto& [x, y] : line) points += (points.empty() ? "" : " ") + Num(x) + "," + Num(y);
      svg.out += "<polyline fill=\"none\" stroke=\"" + color + "\" stroke-width=\"2\" points=\"" + points + "\"/>\n";
    }
    if (plot.kind != ChartKind::kLine || pts.size() == 1) {
      std::string opacity = plot.kind == ChartKind::kSmooth ? "0.35" : "0.85";
      for (const auto& [x, y] : pts)
        svg.out += "<circle cx=\"" + Num(x) + "\" cy=\"" + Num(y) + "\" r=\"2.5\" fill=\"" + color +
                   "\" fill-opacity=\"" + opacity + "\"/>\n";
    }
    svg.out += "</g>\n";
  }
  Legend(&svg, names, bottom + kAxisBottom + 8, true);
  svg.out += "</svg>\n";
  return svg.out;
}

// --- horizontal bars ---------------------------------------------------------------

std::string RenderBars(const Plot& plot) {
  // y holds the categories, x the values (DVC's bar_horizontal).
  std::vector<std::string> cats;
  std::map<std::string, size_t> cat_index;
  double lo = 0, hi = 0;
  for (const auto& s : plot.series)
    for (size_t i = 0; i < s.ys.size(); i++) {
      if (cat_index.emplace(s.ys[i], cats.size()).second) cats.push_back(s.ys[i]);
      double v;
      if (ParseNumber(s.xs[i], &v)) lo = std::min(lo, v), hi = std::max(hi, v);
    }
  if (plot.sorted && !plot.series.empty()) {
    std::map<std::string, double> first;
    const Series& s0 = plot.series[0];
    for (size_t i = 0; i < s0.ys.size(); i++) {
      double v = 0;
      if (ParseNumber(s0.xs[i], &v)) first[s0.ys[i]] = v;
    }
    std::stable_sort(cats.begin(), cats.end(), [&](const auto& a, const auto& b) { return first[a] > first[b]; });
    for (size_t i = 0; i < cats.size(); i++) cat_index[cats[i]] = i;
  }
  double band = std::max(14.0, std::min(40.0, 360.0 / static_cast<double>(std::max<size_t>(cats.size(), 1))));
  double plot_h = band * static_cast<double>(std::max<size_t>(cats.size(), 1));
  double left = 160, bottom = kTop + plot_h;
  Scale xs = NiceScale(lo, hi, left, kWidth - kRight);
  auto names = Names(plot);
  double height = bottom + kAxisBottom + static_cast<double>(LegendRows(names)) * kLegendRow + 10;
  Svg svg;
  svg.out = Header(kWidth, height, plot);
  svg.Line(left, kTop, left, bottom, "stroke=\"#888\"");
  svg.Line(left, bottom, kWidth - kRight, bottom, "stroke=\"#888\"");
  for (double v = xs.lo; v <= xs.hi + xs.step * 1e-6; v += xs.step) {
    svg.Line(xs.At(v), kTop, xs.At(v), bottom, "stroke=\"#eee\"");
    svg.Text(xs.At(v), bottom + 18, TickLabel(v, xs.step), "text-anchor=\"middle\"");
  }
  for (size_t i = 0; i < cats.size(); i++)
    svg.Text(left - 8, kTop + band * (static_cast<double>(i) + 0.5) + 4,
             cats[i].size() > 24 ? cats[i].substr(0, 21) + "..." : cats[i], "text-anchor=\"end\"");
  double sub = (band - 4) / static_cast<double>(std::max<size_t>(plot.series.size(), 1));
  for (size_t k = 0; k < plot.series.size(); k++) {
    const Series& s = plot.series[k];
    svg.out += "<g class=\"series\" data-name=\"" + XmlEscape(s.name) + "\" data-rev=\"" + XmlEscape(s.rev) +
               "\" data-points=\"" + std::to_string(s.xs.size()) + "\">\n<title>" + XmlEscape(s.name) + "</title>\n";
    for (size_t i = 0; i < s.xs.size(); i++) {
      double v = 0;
      if (!ParseNumber(s.xs[i], &v)) continue;
      double y = kTop + band * static_cast<double>(cat_index[s.ys[i]]) + 2 + sub * static_cast<double>(k);
      double x0 = xs.At(std::min(0.0, v)), x1 = xs.At(std::max(0.0, v));
      svg.out += "<rect x=\"" + Num(x0) + "\" y=\"" + Num(y) + "\" width=\"" + Num(x1 - x0) + "\" height=\"" +
                 Num(sub) + "\" fill=\"" + Color(k) + "\"><title>" + XmlEscape(s.ys[i] + ": " + s.xs[i]) +
                 "</title></rect>\n";
    }
    svg.out += "</g>\n";
  }
  svg.Text(kWidth / 2, 24, plot.title, "class=\"title\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\"");
  svg.Text((left + kWidth - kRight) / 2, bottom + 40, plot.x_label, "class=\"x-label\" text-anchor=\"middle\"");
  svg.Text(14, kTop - 10, plot.y_label, "class=\"y-label\"");
  Legend(&svg, names, bottom + kAxisBottom + 8, false);
  svg.out += "</svg>\n";
  return svg.out;
}

// --- confusion matrices --------------------------------------------------------------

bool NumericLess(const std::string& a, const std::string& b) {
  double x, y;
  bool nx = ParseNumber(a, &x), ny = ParseNumber(b, &y);
  if (nx && ny) return x < y;
  if (nx != ny) return nx;
  return a < b;
}

// One heatmap per series (revision), side by side: x = actual across, y = predicted down.
std::string RenderConfusion(const Plot& plot) {
  std::set<std::string> label_set;
  for (const auto& s : plot.series)
    for (size_t i = 0; i < s.xs.size(); i++) label_set.insert(s.xs[i]), label_set.insert(s.ys[i]);
  std::vector<std::string> labels(label_set.begin(), label_set.end());
  std::sort(labels.begin(), labels.end(), NumericLess);
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < labels.size(); i++) index[labels[i]] = i;
  size_t n = labels.size();  // 0 when no series has a datapoint: empty panels
  double cell = std::max(18.0, std::min(48.0, 320.0 / static_cast<double>(std::max<size_t>(n, 1))));
  double panel = cell * static_cast<double>(std::max<size_t>(n, 1)), gap = 70, left = 110, top = kTop + 24;
  double width = std::max(kWidth, left + (panel + gap) * static_cast<double>(plot.series.size()));
  double height = top + panel + 70;
  Svg svg;
  svg.out = Header(width, height, plot);
  svg.Text(width / 2, 24, plot.title, "class=\"title\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\"");
  for (size_t k = 0; k < plot.series.size(); k++) {
    const Series& s = plot.series[k];
    std::vector<std::vector<double>> counts(n, std::vector<double>(n, 0));
    for (size_t i = 0; i < s.xs.size(); i++) counts[index[s.xs[i]]][index[s.ys[i]]] += 1;
    double max = 0;
    std::vector<double> col_total(n, 0);
    for (size_t a = 0; a < n; a++)
      for (size_t p = 0; p < n; p++) col_total[a] += counts[a][p];
    std::vector<std::vector<double>> value = counts;
    for (size_t a = 0; a < n; a++)
      for (size_t p = 0; p < n; p++) {
        if (plot.normalized) value[a][p] = col_total[a] > 0 ? counts[a][p] / col_total[a] : 0;
        max = std::max(max, value[a][p]);
      }
    double x0 = left + (panel + gap) * static_cast<double>(k);
    svg.out += "<g class=\"series\" data-name=\"" + XmlEscape(s.name) + "\" data-rev=\"" + XmlEscape(s.rev) +
               "\" data-points=\"" + std::to_string(s.xs.size()) + "\">\n<title>" + XmlEscape(s.name) + "</title>\n";
    if (plot.series.size() > 1) svg.Text(x0 + panel / 2, top - 22, s.name, "class=\"panel\" text-anchor=\"middle\"");
    for (size_t a = 0; a < n; a++)
      for (size_t p = 0; p < n; p++) {
        double share = max > 0 ? value[a][p] / max : 0;
        int r = static_cast<int>(255 - share * (255 - 0x4c)), g = static_cast<int>(255 - share * (255 - 0x78)),
            b = static_cast<int>(255 - share * (255 - 0xa8));
        char fill[16];
        std::snprintf(fill, sizeof fill, "#%02x%02x%02x", r, g, b);
        double cx = x0 + cell * static_cast<double>(a), cy = top + cell * static_cast<double>(p);
        svg.out += "<rect class=\"cell\" x=\"" + Num(cx) + "\" y=\"" + Num(cy) + "\" width=\"" + Num(cell) +
                   "\" height=\"" + Num(cell) + "\" fill=\"" + fill + "\" stroke=\"#fff\" data-actual=\"" +
                   XmlEscape(labels[a]) + "\" data-predicted=\"" + XmlEscape(labels[p]) + "\"/>\n";
        char text[32];
        if (plot.normalized) std::snprintf(text, sizeof text, "%.2f", value[a][p]);
        else std::snprintf(text, sizeof text, "%.0f", value[a][p]);
        if (cell >= 18)
          svg.Text(cx + cell / 2, cy + cell / 2 + 4, text,
                   std::string("class=\"count\" text-anchor=\"middle\" fill=\"") + (share > 0.5 ? "#fff" : "#222") + "\"");
      }
    for (size_t i = 0; i < n; i++) {
      std::string l = labels[i].size() > 14 ? labels[i].substr(0, 11) + "..." : labels[i];
      svg.Text(x0 + cell * (static_cast<double>(i) + 0.5), top + panel + 16, l, "text-anchor=\"middle\"");
      if (k == 0) svg.Text(x0 - 6, top + cell * (static_cast<double>(i) + 0.5) + 4, l, "text-anchor=\"end\"");
    }
    svg.Text(x0 + panel / 2, top + panel + 38, plot.x_label, "class=\"x-label\" text-anchor=\"middle\"");
    svg.out += "</g>\n";
  }
  svg.Text(16, top + panel / 2, plot.y_label,
           "class=\"y-label\" text-anchor=\"middle\" transform=\"rotate(-90 16 " + Num(top + panel / 2) + ")\"");
  svg.out += "</svg>\n";
  return svg.out;
}

}  // namespace

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t n = Utf8CharLength(text, i);
    if (n == 0 || (c < 0x20 && c != '\t' && c != '\n') ||
        (n == 3 && c == 0xef && uint8_t(text[i + 1]) == 0xbf && uint8_t(text[i + 2]) >= 0xbe)) {
      out += "\xef\xbf\xbd";  // not allowed in XML 1.0 (or not UTF-8)
      i += n ? n : 1;
      continue;
    }
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.append(text.data() + i, n);
    }
    i += n;
  }
  return out;
}

std::string RenderSvg(const Plot& plot) {
  switch (plot.kind) {
    case ChartKind::kConfusion: return RenderConfusion(plot);
    case ChartKind::kBar: return RenderBars(plot);
    default: return RenderXY(plot);
  }
}

std::string RenderHtml(const std::string& title, const std::vector<PageItem>& items) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + XmlEscape(title) +
      "</title>\n<style>\nbody{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#222}\n"
      "section{margin:0 0 32px}\nh2{font-size:16px;font-family:monospace}\n"
      "figure{display:inline-block;margin:0 16px 16px 0}\nfigure img{max-width:640px;border:1px solid #ddd}\n"
      "svg{max-width:100%;height:auto}\n</style>\n</head>\n<body>\n<h1>" +
      XmlEscape(title) + "</h1>\n";
  for (const auto& item : items) {
    out += "<section>\n<h2>" + XmlEscape(item.heading) + "</h2>\n";
    if (!item.svg.empty()) {
      std::string_view svg = item.svg;
      if (svg.starts_with("<?xml")) svg.remove_prefix(svg.find('\n') + 1);  // not allowed inside HTML
      out += svg;
    }
    for (const auto& img : item.images)
      out += "<figure><img alt=\"" + XmlEscape(item.heading) + "\" src=\"data:" + img.mime + ";base64," +
             Base64(img.bytes) + "\"/><figcaption>" + XmlEscape(img.rev) + "</figcaption></figure>\n";
    out += "</section>\n";
  }
  return out + "</body>\n</html>\n";
}

}  // namespace forja::plots
