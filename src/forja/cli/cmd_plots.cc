// forja plots show / diff: the plots the pipeline declares, drawn as SVG and one
// self-contained HTML page (plots module; docs/plots.md).
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "forja/cas/cache.h"
#include "forja/cas/manifest.h"
#include "forja/cli/cli.h"
#include "forja/config/node.h"
#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/core/path.h"
#include "forja/pipeline/dvc_yaml.h"
#include "forja/pipeline/metric_files.h"
#include "forja/pipeline/project.h"
#include "forja/plots/plots.h"

namespace forja {

namespace {

using json = nlohmann::ordered_json;
using config::Node;
using plots::PlotSpec;

constexpr const char* kWorkspace = "workspace";

struct Args {
  std::vector<std::string> words;  // show: targets; diff: revisions
  std::vector<std::string> targets;  // diff --targets
  std::string out_dir = "plots";
  bool as_json = false, svg_only = false, html_only = false;
  std::string template_name, x, y, title, x_label, y_label;
};

// --- definitions -------------------------------------------------------------

Status Bad(const Node& at, const std::string& field, const std::string& what) {
  return Status::User((at.origin().empty() ? std::string("forja.yaml") : at.origin()) + ": " + field + ": " + what);
}

// A file named inside a plot definition: repository-relative, through the path validator.
Result<std::string> RepoFile(const Node& at, const std::string& field, const std::string& p) {
  std::string out;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string part = p.substr(i, j - i);
    if (!part.empty() && part != ".") out += (out.empty() ? "" : "/") + part;
    i = j + 1;
  }
  Status st = p.starts_with("/") ? Status::User("'" + p + "' is absolute") : CheckUntrustedPath(out);
  if (!st.ok()) return Bad(at, field, st.message() + "; name a file inside the repository");
  return out;
}

Result<std::string> Text(const Node& v, const std::string& field) {
  if (v.is_string()) return v.as_string();
  if (v.is_scalar() && !v.is_null()) return config::ScalarToString(v);
  return Bad(v, field, std::string("expected a string, got a ") + v.KindName());
}

// x or y: "field", [fields] (y only), or {file: field | [fields]}.
Status Fields(const Node& v, const std::string& field, bool allow_list, std::vector<plots::FieldRef>* out) {
  if (v.is_map()) {
    for (const auto& [file, cols] : v.entries()) {
      ASSIGN_OR_RETURN(std::string rel, RepoFile(v, field + "." + file, file));
      if (cols.is_list()) {
        for (const Node& c : cols.items()) {
          ASSIGN_OR_RETURN(std::string col, Text(c, field + "." + file));
          out->push_back({rel, col});
        }
      } else {
        ASSIGN_OR_RETURN(std::string col, Text(cols, field + "." + file));
        out->push_back({rel, col});
      }
    }
    return Status::Ok();
  }
  if (v.is_list()) {
    if (!allow_list) return Bad(v, field, "expected a field or {file: field}, got a list");
    for (const Node& c : v.items()) {
      ASSIGN_OR_RETURN(std::string col, Text(c, field));
      out->push_back({"", col});
    }
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(std::string col, Text(v, field));
  out->push_back({"", col});
  return Status::Ok();
}

// A plot's options (DVC's PLOT_PROPS) into a spec.
Status ApplyProps(const Node& props, const std::string& field, PlotSpec* spec) {
  if (props.is_null()) return Status::Ok();
  if (!props.is_map())
    return Bad(props, field, std::string("expected plot options (template, x, y, x_label, y_label, title), got a ") +
                                 props.KindName());
  for (const auto& [k, v] : props.entries()) {
    std::string f = field + "." + k;
    if (k == "template") {
      ASSIGN_OR_RETURN(spec->template_name, Text(v, f));
      if (!plots::IsKnownTemplate(spec->template_name))
        return Bad(v, f, "unknown template '" + spec->template_name + "'; forja draws linear, simple, scatter, "
                         "smooth, confusion, confusion_normalized, bar_horizontal, bar_horizontal_sorted");
    } else if (k == "x") {
      RETURN_IF_ERROR(Fields(v, f, false, &spec->x));
    } else if (k == "y") {
      RETURN_IF_ERROR(Fields(v, f, true, &spec->y));
    } else if (k == "x_label") {
      ASSIGN_OR_RETURN(spec->x_label, Text(v, f));
    } else if (k == "y_label") {
      ASSIGN_OR_RETURN(spec->y_label, Text(v, f));
    } else if (k == "title") {
      ASSIGN_OR_RETURN(spec->title, Text(v, f));
    } else if (k == "header") {
      if (v.kind() != Node::Kind::kBool) return Bad(v, f, std::string("expected true or false, got a ") + v.KindName());
      spec->header = v.as_bool();
    } else if (k != "cache" && k != "persist" && k != "desc" && k != "type" && k != "labels" && k != "meta" &&
               k != "push" && k != "remote") {
      return Bad(v, f, "unknown plot option; a plot has template, x, y, x_label, y_label, title and header");
    }
  }
  return Status::Ok();
}

// A top-level plots: list (forja.yaml's or dvc.yaml's): "file" or {id: options}.
Status TopLevelSpecs(const std::vector<const Node*>& entries, const std::string& section,
                     std::vector<PlotSpec>* out) {
  for (size_t i = 0; i < entries.size(); i++) {
    const Node& e = *entries[i];
    std::string f = section + "[" + std::to_string(i) + "]";
    PlotSpec spec;
    spec.origin = e.origin();
    if (e.is_map() && e.entries().size() == 1) {
      const auto& [id, props] = e.entries()[0];
      ASSIGN_OR_RETURN(spec.id, RepoFile(e, f, id));
      RETURN_IF_ERROR(ApplyProps(props, f + "." + id, &spec));
    } else if (e.is_string()) {
      ASSIGN_OR_RETURN(spec.id, RepoFile(e, f, e.as_string()));
    } else {
      return Bad(e, f, std::string("expected a file or {id: {x, y, template}}, got a ") + e.KindName());
    }
    out->push_back(std::move(spec));
  }
  return Status::Ok();
}

// Every plot the project declares: stages' plots: outs, then forja.yaml's
// top-level plots:, then dvc.yaml's. A later definition of the same id replaces
// an earlier one (the top level says more than a bare out).
Result<std::vector<PlotSpec>> ProjectSpecs(const pipeline::Project& project) {
  std::vector<PlotSpec> specs;
  for (const auto& stage : project.dag.stages)
    for (const auto& o : stage.outs) {
      if (o.kind != pipeline::OutKind::kPlots) continue;
      PlotSpec spec;
      spec.id = o.path;
      spec.origin = o.origin;
      RETURN_IF_ERROR(ApplyProps(o.plot, "stages." + stage.name + ".plots." + o.path, &spec));
      specs.push_back(std::move(spec));
    }
  std::vector<PlotSpec> top;
  if (const Node* p = project.forja_yaml.is_map() ? project.forja_yaml.Find("plots") : nullptr; p && !p->is_null()) {
    if (!p->is_list()) return Bad(*p, "plots", std::string("expected a list of plots, got a ") + p->KindName());
    std::vector<const Node*> entries;
    for (const Node& e : p->items()) entries.push_back(&e);
    RETURN_IF_ERROR(TopLevelSpecs(entries, "plots", &top));
  }
  if (project.from_dvc_yaml) {
    ASSIGN_OR_RETURN(auto dvc, pipeline::ReadDvcYaml(project.root));
    std::vector<const Node*> entries;
    for (const Node& e : dvc.plot_defs) entries.push_back(&e);
    RETURN_IF_ERROR(TopLevelSpecs(entries, "plots", &top));
  }
  for (auto& t : top) {
    auto same = std::find_if(specs.begin(), specs.end(), [&](const PlotSpec& s) { return s.id == t.id; });
    if (same != specs.end()) *same = std::move(t);
    else specs.push_back(std::move(t));
  }
  return specs;
}

// --- reading files, in the workspace and at revisions --------------------------

struct FileSource {
  std::string name;  // "workspace" or the revision as typed
  std::function<Result<std::optional<std::string>>(const std::string&, size_t)> read;
  std::function<Result<std::vector<std::string>>(const std::string&)> list;  // files under a folder
};

Result<std::optional<std::string>> ReadWorkspaceFile(const std::string& root, const std::string& rel, size_t max) {
  ASSIGN_OR_RETURN(std::string safe, ResolveInRepo(root, root, rel));  // no symlink out of the repository
  std::string path = root + "/" + safe;
  if (!IsFile(path)) return std::optional<std::string>();
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && static_cast<size_t>(st.st_size) > max)
    return Status::User(rel + ": " + std::to_string(st.st_size) + " bytes; a plot reads at most " +
                        std::to_string(max));
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return std::optional<std::string>(std::move(text));
}

std::vector<std::string> ListWorkspaceDir(const std::string& root, const std::string& rel) {
  std::vector<std::string> out;
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::path(root) / rel;
  if (std::filesystem::is_symlink(dir, ec) || !std::filesystem::is_directory(dir, ec)) return out;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec))
      out.push_back(rel + "/" + std::filesystem::relative(it->path(), dir, ec).generic_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A revision's file: from git, else from the cache by the hash its forja.lock records.
class RevisionFiles {
 public:
  static Result<std::unique_ptr<RevisionFiles>> Open(const std::string& root, const std::string& rev) {
    ASSIGN_OR_RETURN(auto r, pipeline::GitRevision::Open(root, rev));
    ASSIGN_OR_RETURN(auto lock, r.ReadLock());
    auto self = std::unique_ptr<RevisionFiles>(new RevisionFiles(std::move(r), std::move(lock)));
    if (IsDir(root + "/.forja/cache"))
      self->cache_ = std::make_unique<Cache>(root + "/.forja/cache", std::vector<LinkType>{LinkType::kCopy});
    return self;
  }

  Result<std::optional<std::string>> Read(const std::string& rel, size_t max) {
    ASSIGN_OR_RETURN(auto texts, rev_.ReadFiles({rel}));
    std::optional<std::string> text = std::move(texts[0]);
    if (!text) {
      ASSIGN_OR_RETURN(text, FromCache(rel));
    }
    if (text && text->size() > max)
      return Status::User(rev_.name() + ":" + rel + ": " + std::to_string(text->size()) +
                          " bytes; a plot reads at most " + std::to_string(max));
    return text;
  }

  Result<std::vector<std::string>> List(const std::string& rel) { return rev_.ListFiles(rel); }

 private:
  RevisionFiles(pipeline::GitRevision rev, Lock lock) : rev_(std::move(rev)), lock_(std::move(lock)) {}

  Result<std::optional<std::string>> FromCache(const std::string& rel) {
    for (const auto& stage : lock_.stages)
      for (const auto& o : stage.outs) {
        if (!o.is_dir && o.path == rel) return Object(rel, o.oid);
        if (o.is_dir && rel.starts_with(o.path + "/")) {
          ASSIGN_OR_RETURN(auto manifest, Object(o.path, o.oid));
          if (!manifest) return manifest;
          ASSIGN_OR_RETURN(auto entries, ParseManifest(*manifest, ObjectKey(o.oid)));
          for (const auto& e : entries)
            if (o.path + "/" + e.path == rel) return Object(rel, e.oid);
          return std::optional<std::string>();
        }
      }
    return std::optional<std::string>();
  }

  Result<std::optional<std::string>> Object(const std::string& rel, const Oid& oid) {
    if (!cache_ || !cache_->Has(oid))
      return Status::NotFound("'" + rel + "' of " + rev_.name() + " is not in the cache; run forja pull");
    ASSIGN_OR_RETURN(std::string bytes, cache_->Read(oid));
    return std::optional<std::string>(std::move(bytes));
  }

  pipeline::GitRevision rev_;
  Lock lock_;
  std::unique_ptr<Cache> cache_;
};

// --- the command ----------------------------------------------------------------

bool Matches(const PlotSpec& spec, const std::string& target) {
  if (spec.id == target || spec.id.starts_with(target + "/")) return true;
  for (const auto& f : plots::SpecFiles(spec))
    if (f == target) return true;
  return false;
}

// Options given on the command line apply to every plot shown.
Status ApplyCommandLine(const Args& a, PlotSpec* spec) {
  if (!a.template_name.empty()) {
    if (!plots::IsKnownTemplate(a.template_name))
      return Status::Usage("--template " + a.template_name + ": unknown; forja draws linear, simple, scatter, smooth, "
                           "confusion, confusion_normalized, bar_horizontal, bar_horizontal_sorted");
    spec->template_name = a.template_name;
  }
  if (!a.x.empty()) spec->x = {{"", a.x}};
  if (!a.y.empty()) spec->y = {{"", a.y}};
  if (!a.title.empty()) spec->title = a.title;
  if (!a.x_label.empty()) spec->x_label = a.x_label;
  if (!a.y_label.empty()) spec->y_label = a.y_label;
  return Status::Ok();
}

// The specs to draw: the project's, narrowed to `targets`; a target no
// definition names is drawn as a plot of its own (a file, or a folder of them).
Result<std::vector<PlotSpec>> SelectSpecs(const std::string& root, const std::vector<std::string>& targets,
                                          const Args& a) {
  ASSIGN_OR_RETURN(auto project, pipeline::LoadProject(root, {}));
  ASSIGN_OR_RETURN(auto all, ProjectSpecs(project));
  std::vector<PlotSpec> out;
  if (targets.empty()) {
    out = std::move(all);
  } else {
    for (const auto& t : targets) {
      ASSIGN_OR_RETURN(std::string rel, ResolveInRepo(root, CurrentDir(), t));
      bool found = false;
      for (const auto& s : all)
        if (Matches(s, rel)) out.push_back(s), found = true;
      if (!found) {
        PlotSpec spec;
        spec.id = rel;
        out.push_back(std::move(spec));
      }
    }
  }
  for (auto& s : out) RETURN_IF_ERROR(ApplyCommandLine(a, &s));
  return out;
}

// A spec whose id is a folder becomes one spec per data or image file inside it
// (in any source).
std::vector<PlotSpec> ExpandFolders(const std::vector<PlotSpec>& specs, std::vector<FileSource>& sources) {
  std::vector<PlotSpec> out;
  for (const auto& s : specs) {
    std::set<std::string> files;
    if (s.y.empty() && plots::FormatOf(s.id) == plots::DataFormat::kUnknown)
      for (auto& src : sources) {
        auto listed = src.list(s.id);
        if (!listed.ok()) continue;
        for (auto& f : *listed)
          if (plots::FormatOf(f) != plots::DataFormat::kUnknown) files.insert(f);
      }
    if (files.empty()) {
      out.push_back(s);
      continue;
    }
    for (const auto& f : files) {
      PlotSpec one = s;
      one.id = f;
      out.push_back(std::move(one));
    }
  }
  return out;
}

json Cell(const std::string& text) {
  double v;
  if (plots::ParseNumber(text, &v)) return v;
  return text;
}

std::string Sanitized(std::string_view s) {
  std::string name = plots::SvgFileName(s);
  return name.substr(0, name.size() - 4);
}

int Render(const Args& a, const std::string& root, std::vector<FileSource> sources,
           const std::vector<std::string>& targets) {
  auto selected = SelectSpecs(root, targets, a);
  if (!selected.ok()) return Fail(selected.status());
  std::vector<PlotSpec> specs = ExpandFolders(*selected, sources);
  if (specs.empty()) {
    LogInfo("No plots: declare a stage's plots in forja.yaml (plots: [{eval/loss.csv: {x: epoch, y: loss}}]), "
            "list them under a top-level plots:, or name files: forja plots show FILE");
    if (a.as_json) OutJson(json{{"plots", json::array()}});
    return 0;
  }
  // Every data file, parsed once per source; without its header row when a plot reading it says header: false.
  std::set<std::string> headerless;
  for (const auto& spec : specs)
    if (!spec.header)
      for (const auto& f : plots::SpecFiles(spec)) headerless.insert(f);
  std::vector<plots::RevisionData> revisions;
  for (auto& src : sources) {
    plots::RevisionData rd;
    rd.rev = src.name;
    for (const auto& spec : specs) {
      if (plots::IsImageSpec(spec)) continue;
      for (const auto& f : plots::SpecFiles(spec)) {
        if (rd.files.count(f)) continue;
        auto text = src.read(f, plots::kMaxDataBytes);
        if (!text.ok()) return Fail(text.status());
        if (!*text) continue;
        std::string name = sources.size() > 1 && src.name != kWorkspace ? src.name + ":" + f : f;
        auto table = plots::ParseData(**text, name, plots::FormatOf(f), !headerless.count(f));
        if (!table.ok()) return Fail(table.status());
        rd.files.emplace(f, std::move(*table));
      }
    }
    revisions.push_back(std::move(rd));
  }

  Status made = MakeDirs(a.out_dir);
  if (!made.ok()) return Fail(made);
  std::vector<plots::PageItem> page;
  json listed = json::array();
  std::set<std::string> used_names;
  auto unique_name = [&](std::string name) {
    std::string base = name, ext;
    if (auto dot = name.rfind('.'); dot != std::string::npos) base = name.substr(0, dot), ext = name.substr(dot);
    for (int i = 2; used_names.count(name); i++) name = base + "-" + std::to_string(i) + ext;
    used_names.insert(name);
    return name;
  };
  for (const auto& spec : specs) {
    plots::PageItem item;
    item.heading = spec.id;
    if (plots::IsImageSpec(spec)) {
      json revs = json::array();
      for (auto& src : sources) {
        auto bytes = src.read(spec.id, plots::kMaxImageBytes);
        if (!bytes.ok()) return Fail(bytes.status());
        if (!*bytes) continue;
        std::string file = a.out_dir + "/" + unique_name(Sanitized(src.name) + "_" + Sanitized(spec.id));
        if (!a.html_only) {
          Status w = WriteFileAtomic(file, **bytes);
          if (!w.ok()) return Fail(w);
        }
        revs.push_back(json{{"rev", src.name}, {"bytes", (*bytes)->size()}, {"file", a.html_only ? json() : json(file)}});
        item.images.push_back({src.name, plots::ImageMime(spec.id), std::move(**bytes)});
      }
      if (item.images.empty())
        return Fail(Status::User((spec.origin.empty() ? "" : spec.origin + ": ") + "plot '" + spec.id +
                                 "': the image does not exist" + (sources.size() > 1 ? " in any revision compared" : "") +
                                 "; run the stage that writes it"));
      listed.push_back(json{{"id", spec.id}, {"image", true}, {"revisions", revs}});
      page.push_back(std::move(item));
      continue;
    }
    auto plot = plots::BuildPlot(spec, revisions);
    if (!plot.ok()) return Fail(plot.status());
    item.svg = plots::RenderSvg(*plot);
    std::string svg_file = a.out_dir + "/" + unique_name(plots::SvgFileName(spec.id));
    if (!a.html_only) {
      Status w = WriteFileAtomic(svg_file, item.svg);
      if (!w.ok()) return Fail(w);
    }
    json series = json::array();
    for (const auto& s : plot->series) {
      json points = json::array();
      for (size_t i = 0; i < s.xs.size(); i++) points.push_back(json{{"x", Cell(s.xs[i])}, {"y", Cell(s.ys[i])}});
      series.push_back(json{{"name", s.name}, {"rev", s.rev}, {"file", s.file}, {"x", s.x_field}, {"y", s.y_field},
                            {"points", std::move(points)}});
    }
    listed.push_back(json{{"id", spec.id},
                          {"template", plot->template_name},
                          {"title", plot->title},
                          {"x_label", plot->x_label},
                          {"y_label", plot->y_label},
                          {"svg", a.html_only ? json() : json(svg_file)},
                          {"series", std::move(series)}});
    page.push_back(std::move(item));
  }
  std::string index = a.out_dir + "/index.html";
  if (!a.svg_only) {
    std::string title = "forja plots";
    if (sources.size() > 1) {
      title += ":";
      for (const auto& s : sources) title += " " + s.name;
    }
    Status w = WriteFileAtomic(index, plots::RenderHtml(title, page));
    if (!w.ok()) return Fail(w);
  }
  if (a.as_json) {
    OutJson(json{{"output", a.out_dir}, {"html", a.svg_only ? json() : json(index)}, {"plots", std::move(listed)}});
  } else {
    Out(a.svg_only ? a.out_dir : index);
  }
  return 0;
}

FileSource WorkspaceSource(const std::string& root) {
  return FileSource{kWorkspace,
                    [root](const std::string& rel, size_t max) { return ReadWorkspaceFile(root, rel, max); },
                    [root](const std::string& rel) -> Result<std::vector<std::string>> {
                      return ListWorkspaceDir(root, rel);
                    }};
}

Result<FileSource> RevisionSource(const std::string& root, const std::string& rev) {
  ASSIGN_OR_RETURN(auto files, RevisionFiles::Open(root, rev));
  std::shared_ptr<RevisionFiles> shared(std::move(files));
  return FileSource{rev, [shared](const std::string& rel, size_t max) { return shared->Read(rel, max); },
                    [shared](const std::string& rel) { return shared->List(rel); }};
}

int DoShow(const Args& a) {
  auto root = pipeline::FindWorkspaceRoot(CurrentDir());
  if (!root.ok()) return Fail(root.status());
  return Render(a, *root, {WorkspaceSource(*root)}, a.words);
}

int DoDiff(const Args& a) {
  auto root = pipeline::FindWorkspaceRoot(CurrentDir());
  if (!root.ok()) return Fail(root.status());
  std::vector<std::string> revs = a.words;
  if (revs.empty()) revs.push_back("HEAD");
  std::vector<FileSource> sources;
  for (const auto& r : revs) {
    auto src = RevisionSource(*root, r);
    if (!src.ok()) return Fail(src.status());
    sources.push_back(std::move(*src));
  }
  if (revs.size() == 1) sources.push_back(WorkspaceSource(*root));
  return Render(a, *root, std::move(sources), a.targets);
}

void AddOutputOptions(CLI::App* c, Args* a) {
  c->add_option("-o,--out", a->out_dir, "The folder to write index.html and the SVG files to (default: plots)")
      ->type_name("DIR");
  c->add_flag("--json", a->as_json,
              "Print JSON instead of the path: {output, html, plots: [{id, template, title, x_label, y_label,\n"
              "svg, series: [{name, rev, file, x, y, points: [{x, y}]}]}, {id, image: true, revisions}]}");
  auto* s = c->add_flag("--svg-only", a->svg_only, "Write the SVG files (and images) only, no index.html");
  auto* h = c->add_flag("--html-only", a->html_only, "Write index.html only (the charts are inline in it)");
  s->excludes(h);
  c->add_option("-t,--template", a->template_name,
                "Draw every plot shown with this template: linear, simple, scatter, smooth, confusion,\n"
                "confusion_normalized, bar_horizontal, bar_horizontal_sorted")
      ->type_name("NAME");
  c->add_option("-x", a->x, "The field on the x axis of every plot shown (default: the plot's x, else step)")
      ->type_name("FIELD");
  c->add_option("-y", a->y, "The field on the y axis (default: the plot's y, else the file's last field)")
      ->type_name("FIELD");
  c->add_option("--title", a->title, "The title of every plot shown")->type_name("TEXT");
  c->add_option("--x-label", a->x_label, "The x axis label")->type_name("TEXT");
  c->add_option("--y-label", a->y_label, "The y axis label")->type_name("TEXT");
}

const char kPlotsHelp[] =
    "Plots are the plots: outs of the pipeline's stages (forja.yaml, or dvc.yaml when forja.yaml\n"
    "has no stages), with their options, and the entries of a top-level plots: list in forja.yaml\n"
    "and in dvc.yaml, as DVC writes them:\n"
    "  stages:\n"
    "    train:\n"
    "      plots: [{eval/loss.csv: {x: epoch, y: loss, title: Loss}}, eval/confusion.png]\n"
    "  plots:\n"
    "    - roc: {template: simple, x: fpr, y: {eval/roc.json: tpr}}\n"
    "    - eval/cm.csv: {template: confusion, x: actual, y: predicted}\n"
    "Data files are CSV, TSV, JSON or YAML (a list of objects, or an object holding such lists);\n"
    "images (.png .jpg .jpeg .gif .svg) are shown as they are. Without x, x is the step (the\n"
    "row's index); without y, y is the file's last field. Templates: linear (default), simple,\n"
    "scatter, smooth, confusion, confusion_normalized, bar_horizontal, bar_horizontal_sorted; an\n"
    "x of fpr with a y of tpr is drawn as a ROC curve, recall with precision as a PR curve.\n"
    "The page and the SVG files need no network: no script, inline CSS, images as data: URIs.\n"
    "A malformed file, a field a file lacks or an unknown template is an error naming the file\n"
    "(and line) or the definition's forja.yaml / dvc.yaml line. Details: docs/plots.md.\n";

}  // namespace

void RegisterPlotsCommands(CLI::App& app, GlobalOptions& g, Action* action) {
  (void)g;
  auto* plots = app.add_subcommand("plots", "Draw the pipeline's plots (SVG and one HTML page), or compare revisions");
  plots->require_subcommand(1);
  plots->footer(std::string(kPlotsHelp) + "\n" + kExitCodesHelp);
  {
    auto* c = plots->add_subcommand("show", "Draw the workspace's plots into plots/index.html and plots/*.svg");
    auto a = std::make_shared<Args>();
    c->add_option("targets", a->words,
                  "Plots to draw: a plot's id or file, or a data or image file (or a folder of them) that\n"
                  "no definition names (default: every plot the project declares)")
        ->type_name("TARGET");
    AddOutputOptions(c, a.get());
    c->footer(std::string(kPlotsHelp) +
              "Prints the path of index.html (with --svg-only, the folder).\n"
              "  forja plots show\n"
              "  forja plots show eval/loss.csv -o report --json\n"
              "  forja plots show eval/imp.csv -t bar_horizontal_sorted -x importance -y feature\n\n" +
              kExitCodesHelp);
    c->callback([a, action] { *action = [a] { return DoShow(*a); }; });
  }
  {
    auto* c = plots->add_subcommand("diff", "Overlay the plots of git revisions (and the workspace) in one chart each");
    auto a = std::make_shared<Args>();
    c->add_option("revisions", a->words,
                  "Commits, branches or tags. None: HEAD and the workspace; one: that revision and the\n"
                  "workspace; two or more: those revisions only")
        ->type_name("REV");
    c->add_option("--targets", a->targets, "Only these plots (ids or files)")->type_name("TARGET");
    AddOutputOptions(c, a.get());
    c->footer(std::string(kPlotsHelp) +
              "The plot definitions are the workspace's; each revision's files are read from git, or\n"
              "from the forja cache by the hash the revision's forja.lock records (forja pull fetches\n"
              "what is missing). Each revision is one series (one panel for a confusion matrix), named\n"
              "by the revision as typed, or 'workspace'; a file a revision lacks gives no series for it.\n"
              "  forja plots diff               # HEAD vs the workspace\n"
              "  forja plots diff main          # main vs the workspace\n"
              "  forja plots diff v1 v2 --json  # two revisions\n\n" +
              kExitCodesHelp);
    c->callback([a, action] { *action = [a] { return DoDiff(*a); }; });
  }
}

}  // namespace forja
