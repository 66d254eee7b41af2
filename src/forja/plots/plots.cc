#include "forja/plots/plots.h"

#include <algorithm>
#include <set>

namespace forja::plots {

namespace {

const std::vector<std::string> kTemplates = {"linear",    "simple",         "scatter",        "smooth",
                                             "confusion", "confusion_normalized", "bar_horizontal",
                                             "bar_horizontal_sorted"};

constexpr const char* kStep = "step";

std::string Where(const PlotSpec& spec) {
  return (spec.origin.empty() ? std::string() : spec.origin + ": ") + "plot '" + spec.id + "'";
}

std::string FieldList(const DataTable& t) {
  std::string out;
  for (const auto& c : t.columns) out += (out.empty() ? "" : ", ") + c;
  return out;
}

const DataTable* FileAt(const RevisionData& rev, const std::string& file) {
  auto it = rev.files.find(file);
  return it == rev.files.end() ? nullptr : &it->second;
}

Status NoField(const PlotSpec& spec, const RevisionData& rev, const std::string& file, const std::string& field,
               const DataTable& t) {
  return Status::User(Where(spec) + ": " + file + " (" + rev.rev + ") has no field '" + field + "'; its fields: " +
                      FieldList(t));
}

ChartKind KindOf(const std::string& name) {
  if (name == "scatter") return ChartKind::kScatter;
  if (name == "smooth") return ChartKind::kSmooth;
  if (name.starts_with("confusion")) return ChartKind::kConfusion;
  if (name.starts_with("bar_horizontal")) return ChartKind::kBar;
  return ChartKind::kLine;
}

// y as DVC infers it when absent: the last field of the id's file in the first
// revision that has it.
Result<std::vector<FieldRef>> Ys(const PlotSpec& spec, const std::vector<RevisionData>& revisions) {
  std::vector<FieldRef> ys = spec.y;
  for (auto& y : ys)
    if (y.file.empty()) y.file = spec.id;
  if (!ys.empty()) return ys;
  for (const auto& rev : revisions)
    if (const DataTable* t = FileAt(rev, spec.id)) {
      if (t->columns.empty()) break;
      return std::vector<FieldRef>{{spec.id, t->columns.back()}};
    }
  return Status::User(Where(spec) + ": " + spec.id + " does not exist" +
                      (revisions.size() == 1 ? "" : " in any revision compared") +
                      "; run the stage that writes it, or name the files with y: {file.csv: field}");
}

// The x of each y: none (the step), one for all, or one per y (paired in order).
Result<std::vector<FieldRef>> Xs(const PlotSpec& spec, const std::vector<FieldRef>& ys) {
  std::vector<FieldRef> xs;
  for (const auto& y : ys) {
    if (spec.x.empty()) {
      xs.push_back({"", kStep});
    } else if (spec.x.size() == 1) {
      xs.push_back({spec.x[0].file.empty() ? y.file : spec.x[0].file, spec.x[0].field});
    } else if (spec.x.size() == ys.size()) {
      const FieldRef& x = spec.x[xs.size()];
      xs.push_back({x.file.empty() ? y.file : x.file, x.field});
    } else {
      return Status::User(Where(spec) + ": x names " + std::to_string(spec.x.size()) + " fields and y " +
                          std::to_string(ys.size()) + "; give one x for all, or one per y");
    }
  }
  return xs;
}

// Legend names: only the parts that differ between series.
void NameSeries(std::vector<Series>* series) {
  std::set<std::string> revs, files, fields;
  for (const auto& s : *series) revs.insert(s.rev), files.insert(s.file), fields.insert(s.y_field);
  for (auto& s : *series) {
    std::string name;
    auto add = [&](const std::string& part) { name += (name.empty() ? "" : ", ") + part; };
    if (revs.size() > 1) add(s.rev);
    if (files.size() > 1) add(s.file);
    if (fields.size() > 1 || name.empty()) add(s.y_field);
    s.name = name;
  }
}

// A confusion matrix draws classes squared cells, bars one band per category:
// both are bounded so that a hostile file cannot make a gigabyte of SVG.
Status CheckCategories(const PlotSpec& spec, const Plot& plot) {
  if (plot.kind != ChartKind::kConfusion && plot.kind != ChartKind::kBar) return Status::Ok();
  std::set<std::string> seen;
  for (const auto& s : plot.series) {
    for (const auto& y : s.ys) seen.insert(y);
    if (plot.kind == ChartKind::kConfusion)
      for (const auto& x : s.xs) seen.insert(x);
  }
  size_t max = plot.kind == ChartKind::kConfusion ? kMaxClasses : kMaxBars;
  if (seen.size() <= max) return Status::Ok();
  return Status::User(Where(spec) + ": " + std::to_string(seen.size()) +
                      (plot.kind == ChartKind::kConfusion ? " classes; a confusion matrix draws at most "
                                                          : " categories; a bar chart draws at most ") +
                      std::to_string(max) + " (is x or y the right field?)");
}

}  // namespace

const std::vector<std::string>& TemplateNames() { return kTemplates; }

bool IsKnownTemplate(std::string_view name) {
  return std::find(kTemplates.begin(), kTemplates.end(), name) != kTemplates.end();
}

bool IsImageSpec(const PlotSpec& spec) { return spec.y.empty() && FormatOf(spec.id) == DataFormat::kImage; }

std::vector<std::string> SpecFiles(const PlotSpec& spec) {
  std::vector<std::string> out;
  auto add = [&](const std::string& f) {
    if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
  };
  if (spec.y.empty()) add(spec.id);
  for (const auto& y : spec.y) add(y.file.empty() ? spec.id : y.file);
  for (const auto& x : spec.x)
    if (!x.file.empty()) add(x.file);
  return out;
}

Result<Plot> BuildPlot(const PlotSpec& spec, const std::vector<RevisionData>& revisions) {
  Plot plot;
  plot.id = spec.id;
  plot.template_name = spec.template_name.empty() ? "linear" : spec.template_name;
  if (!IsKnownTemplate(plot.template_name))
    return Status::User(Where(spec) + ": unknown template '" + plot.template_name + "'; forja draws linear, simple, "
                        "scatter, smooth, confusion, confusion_normalized, bar_horizontal, bar_horizontal_sorted");
  plot.kind = KindOf(plot.template_name);
  plot.normalized = plot.template_name == "confusion_normalized";
  plot.sorted = plot.template_name == "bar_horizontal_sorted";
  plot.title = spec.title.empty() ? spec.id : spec.title;
  ASSIGN_OR_RETURN(auto ys, Ys(spec, revisions));
  ASSIGN_OR_RETURN(auto xs, Xs(spec, ys));
  for (const auto& rev : revisions) {
    for (size_t i = 0; i < ys.size(); i++) {
      const DataTable* yt = FileAt(rev, ys[i].file);
      if (!yt) continue;
      int yc = yt->Find(ys[i].field);
      if (yc < 0) return NoField(spec, rev, ys[i].file, ys[i].field, *yt);
      Series s{"", rev.rev, ys[i].file, xs[i].field, ys[i].field, {}, {}};
      const DataTable* xt = nullptr;
      int xc = -1;
      if (!xs[i].file.empty()) {
        xt = FileAt(rev, xs[i].file);
        if (!xt)
          return Status::User(Where(spec) + ": x file " + xs[i].file + " does not exist in " + rev.rev);
        xc = xt->Find(xs[i].field);
        if (xc < 0) return NoField(spec, rev, xs[i].file, xs[i].field, *xt);
      }
      size_t n = xt ? std::min(xt->rows.size(), yt->rows.size()) : yt->rows.size();
      for (size_t r = 0; r < n; r++) {
        s.xs.push_back(xt ? xt->rows[r][static_cast<size_t>(xc)] : std::to_string(r));
        s.ys.push_back(yt->rows[r][static_cast<size_t>(yc)]);
      }
      plot.series.push_back(std::move(s));
    }
  }
  if (plot.series.empty()) {
    std::string files;
    for (const auto& y : ys) files += (files.empty() ? "" : ", ") + y.file;
    return Status::User(Where(spec) + ": " + files + " does not exist" +
                        (revisions.size() == 1 ? "" : " in any revision compared") + "; run the stage that writes it");
  }
  RETURN_IF_ERROR(CheckCategories(spec, plot));
  NameSeries(&plot.series);
  std::set<std::string> xf, yf;
  for (const auto& s : plot.series) xf.insert(s.x_field), yf.insert(s.y_field);
  plot.x_label = !spec.x_label.empty() ? spec.x_label : xf.size() == 1 ? *xf.begin() : "x";
  plot.y_label = !spec.y_label.empty() ? spec.y_label : yf.size() == 1 ? *yf.begin() : "y";
  return plot;
}

std::string SvgFileName(std::string_view id) {
  std::string out;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    out += ok ? c : '_';
  }
  while (!out.empty() && out[0] == '.') out[0] = '_';
  if (out.empty()) out = "plot";
  if (out.size() > 120) out.resize(120);
  return out + ".svg";
}

std::string ImageMime(std::string_view path) {
  std::string p(path);
  for (char& c : p) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (p.ends_with(".png")) return "image/png";
  if (p.ends_with(".gif")) return "image/gif";
  if (p.ends_with(".svg")) return "image/svg+xml";
  return "image/jpeg";
}

std::string Base64(std::string_view bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    if (i + 1 < bytes.size()) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace forja::plots
