#include "forja/pipeline/metric_files.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <utility>

#include "forja/cas/cache.h"
#include "forja/cas/manifest.h"
#include "forja/cas/walk.h"
#include "forja/config/yaml_fast.h"
#include "forja/core/fs.h"
#include "forja/core/git.h"
#include "forja/pipeline/params.h"
#include "forja/pipeline/project.h"

namespace forja::pipeline {

using config::Node;

namespace {

// JSON's non-finite numbers, as Python's json module writes them.
void JsonSpecials(Node& n) {
  if (n.is_map()) {
    for (auto& [k, v] : n.entries()) JsonSpecials(v);
  } else if (n.is_list()) {
    for (auto& v : n.items()) JsonSpecials(v);
  } else if (n.is_string()) {
    const std::string& s = n.as_string();
    if (s == "NaN") n = Node::Float(std::nan(""));
    else if (s == "Infinity") n = Node::Float(HUGE_VAL);
    else if (s == "-Infinity") n = Node::Float(-HUGE_VAL);
  }
}

bool IsNumber(const Node& n) { return n.kind() == Node::Kind::kInt || n.kind() == Node::Kind::kFloat; }
double AsDouble(const Node& n) {
  return n.kind() == Node::Kind::kInt ? static_cast<double>(n.as_int()) : n.as_float();
}

bool SameValue(const Node& a, const Node& b) {
  if (IsNumber(a) && IsNumber(b)) {
    if (a.kind() == Node::Kind::kInt && b.kind() == Node::Kind::kInt) return a.as_int() == b.as_int();
    double x = AsDouble(a), y = AsDouble(b);
    return x == y || (std::isnan(x) && std::isnan(y));
  }
  return a == b;
}

std::optional<Node> Change(const Node& old_v, const Node& new_v) {
  if (!IsNumber(old_v) || !IsNumber(new_v)) return std::nullopt;
  if (old_v.kind() == Node::Kind::kInt && new_v.kind() == Node::Kind::kInt) {
    int64_t d;
    if (!__builtin_sub_overflow(new_v.as_int(), old_v.as_int(), &d)) return Node::Int(d);
  }
  // 15 significant digits drop the noise of binary fractions (0.9 - 0.8 = 0.09999999999999998).
  double d = AsDouble(new_v) - AsDouble(old_v);
  if (std::isfinite(d)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.15g", d);
    d = std::strtod(buf, nullptr);
  }
  return Node::Float(d);
}

std::string ShortHash(const Oid& oid) { return "sha256:" + oid.Hex().substr(0, 12); }

// A one-line answer of git without its line end.
std::string Chomp(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

// --- metrics files -------------------------------------------------------------

void FlattenMetrics(const Node& node, const std::string& prefix, std::vector<Metric>* out) {
  auto join = [&](const std::string& k) { return prefix.empty() ? k : prefix + "." + k; };
  if (node.is_map()) {
    for (const auto& [k, v] : node.entries()) FlattenMetrics(v, join(k), out);
  } else if (node.is_list()) {
    for (size_t i = 0; i < node.items().size(); i++) FlattenMetrics(node.items()[i], join(std::to_string(i)), out);
  } else {
    Node v = node;
    v.set_origin("");
    out->push_back({prefix, std::move(v)});
  }
}

Result<std::vector<Metric>> ParseMetrics(std::string_view text, const std::string& name) {
  auto doc = config::ParseConfigYaml(text, name);
  if (!doc.ok()) {
    std::string m = doc.status().message();
    size_t at = m.find(": malformed YAML: ");
    if (name.ends_with(".json") && at != std::string::npos) m.replace(at, 18, ": malformed JSON: ");
    return Status::User(m);
  }
  std::vector<Metric> out;
  if (doc->is_null()) return out;  // an empty file
  if (!doc->is_map() && !doc->is_list())
    return Status::User(name + ": expected a mapping of metrics (JSON or YAML), got a " + doc->KindName() +
                        "; write e.g. {\"loss\": 0.25}");
  if (name.ends_with(".json")) JsonSpecials(*doc);
  FlattenMetrics(*doc, "", &out);
  return out;
}

bool IsMetricsFileName(std::string_view path) {
  return path.ends_with(".json") || path.ends_with(".yaml") || path.ends_with(".yml");
}

std::vector<MetricOut> LockMetricOuts(const Lock& lock) {
  std::vector<MetricOut> out;
  for (const LockStage& s : lock.stages)
    for (const LockFile& f : s.outs) {
      if (!f.metric) continue;
      if (std::any_of(out.begin(), out.end(), [&](const MetricOut& m) { return m.path == f.path; })) continue;
      out.push_back({f.path, f.is_dir, f.cache, f.oid});
    }
  return out;
}

Result<std::vector<MetricOut>> WorkspaceMetricOuts(const std::string& root, std::string* warning) {
  auto project = LoadProject(root, {});
  if (project.ok()) {
    std::vector<MetricOut> out;
    for (const Stage& s : project->dag.stages)
      for (const Out& o : s.outs) {
        if (o.kind != OutKind::kMetrics) continue;
        if (std::any_of(out.begin(), out.end(), [&](const MetricOut& m) { return m.path == o.path; })) continue;
        MetricOut m;
        m.path = o.path;
        m.cache = o.cache;
        out.push_back(std::move(m));
      }
    for (const std::string& p : project->dvc_metrics)  // dvc.yaml's top-level metrics:
      if (std::none_of(out.begin(), out.end(), [&](const MetricOut& m) { return m.path == p; }))
        out.push_back(MetricOut{p, false, false, {}});
    return out;
  }
  auto lock = forja::ReadLock(root);
  if (!lock.ok()) return project.status();
  std::vector<MetricOut> out = LockMetricOuts(*lock);
  if (out.empty()) return project.status();
  if (warning) *warning = project.status().message() + " (showing the metrics files forja.lock lists)";
  return out;
}

Result<std::vector<MetricsFile>> ReadWorkspaceMetrics(const std::string& root, const std::vector<std::string>& paths) {
  std::vector<MetricsFile> out;
  auto read_one = [&](const std::string& rel) -> Status {
    ASSIGN_OR_RETURN(std::string text, ReadFile(root + "/" + rel));
    ASSIGN_OR_RETURN(auto metrics, ParseMetrics(text, rel));
    out.push_back({rel, std::move(metrics), false});
    return Status::Ok();
  };
  for (const std::string& rel : paths) {
    std::string abs = rel.empty() ? root : root + "/" + rel;
    struct stat st;
    if (::stat(abs.c_str(), &st) != 0) {
      if (errno != ENOENT && errno != ENOTDIR) return Status::FromErrno(rel, errno);
      out.push_back({rel, {}, true});
      continue;
    }
    if (!S_ISDIR(st.st_mode)) {
      RETURN_IF_ERROR(read_one(rel));
      continue;
    }
    ASSIGN_OR_RETURN(auto entries, WalkTree(abs));
    for (const WalkEntry& e : entries) {
      std::string sub = rel.empty() ? e.path : rel + "/" + e.path;
      if (!IsMetricsFileName(sub) || sub.starts_with(".git/") || sub.starts_with(".forja/")) continue;
      RETURN_IF_ERROR(read_one(sub));
    }
  }
  return out;
}

// --- git revisions -------------------------------------------------------------

Result<GitRevision> GitRevision::Open(const std::string& root, const std::string& rev) {
  GitRevision g;
  g.root_ = root;
  g.name_ = rev;
  ASSIGN_OR_RETURN(ProcessResult top, RunGit(root, {"rev-parse", "--show-prefix"}));
  if (top.exit_code != 0) {
    if (top.err.find("not a git repository") != std::string::npos)
      return Status::User("'" + root +
                          "' is not in a git repository; comparing with a revision needs git history "
                          "(git init, then commit)");
    return Status::User("git rev-parse failed: " + GitReason(top.err));
  }
  g.prefix_ = Chomp(top.out);
  auto unknown = Status::User("unknown revision " + Quote(rev) + "; use a commit, branch or tag");
  if (rev.empty() || rev[0] == '-' || rev.find_first_of("\n\r") != std::string::npos) return unknown;
  ASSIGN_OR_RETURN(ProcessResult r,
                   RunGit(root, {"rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{commit}"}));
  if (r.exit_code != 0) {
    if (rev == "HEAD") {
      ASSIGN_OR_RETURN(ProcessResult any, RunGit(root, {"rev-list", "-n", "1", "--all"}));
      if (any.exit_code == 0 && Chomp(any.out).empty())
        return Status::User("the git repository has no commits yet, so there is nothing to compare with; "
                            "commit first (git add ... && git commit)");
    }
    return unknown;
  }
  g.commit_ = Chomp(r.out);
  return g;
}

Result<std::vector<std::optional<std::string>>> GitRevision::ReadFiles(const std::vector<std::string>& rels) const {
  std::vector<std::optional<std::string>> out(rels.size());
  std::vector<std::string> names;
  std::vector<size_t> asked;  // indexes of rels sent to git
  for (size_t i = 0; i < rels.size(); i++) {
    if (rels[i].find_first_of("\n\r") != std::string::npos) continue;  // cannot be named on a batch line
    names.push_back(commit_ + ":" + prefix_ + rels[i]);
    asked.push_back(i);
  }
  ASSIGN_OR_RETURN(CatFileBatch batch, CatFileBatch::Run(root_, names));
  for (size_t i : asked) {
    ASSIGN_OR_RETURN(CatFileBatch::Object o, batch.Next());
    if (o.type == "blob") out[i] = std::string(o.content);
  }
  return out;
}

Result<std::vector<std::string>> GitRevision::ListFiles(const std::string& rel_dir) const {
  ASSIGN_OR_RETURN(std::string listed, GitOutput(root_, {"ls-tree", "-r", "-z", "--name-only", "--full-tree", commit_,
                                                         "--", prefix_ + rel_dir + "/"}));
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < listed.size()) {
    size_t z = listed.find('\0', pos);
    if (z == std::string::npos) z = listed.size();
    std::string full = listed.substr(pos, z - pos);
    pos = z + 1;
    if (full.starts_with(prefix_)) out.push_back(full.substr(prefix_.size()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<Lock> GitRevision::ReadLock() const {
  ASSIGN_OR_RETURN(auto files, ReadFiles({std::string(kLockName)}));
  if (!files[0]) return Lock{};
  return ParseLock(*files[0], name_ + ":" + std::string(kLockName));
}

Result<std::vector<MetricsFile>> ReadRevisionMetrics(const GitRevision& rev, const std::vector<MetricOut>& outs,
                                                     const Cache* cache) {
  auto not_cached = [&](const std::string& path, const Oid& oid) {
    return Status::NotFound("metrics file '" + path + "' of " + rev.name() + " (" + ShortHash(oid) +
                            ") is not in the cache; run forja pull");
  };
  auto from_cache = [&](const Oid& oid) -> std::optional<std::string> {
    if (!cache || !cache->Has(oid)) return std::nullopt;
    auto r = cache->Read(oid);
    if (!r.ok()) return std::nullopt;
    return std::move(*r);
  };
  auto parse = [&](const std::string& path, const std::string& text) -> Result<MetricsFile> {
    ASSIGN_OR_RETURN(auto metrics, ParseMetrics(text, rev.name() + ":" + path));
    return MetricsFile{path, std::move(metrics), false};
  };

  // Files versioned in git, in one batch.
  std::vector<std::string> git_paths;
  for (const MetricOut& o : outs)
    if (!o.cache && !o.is_dir) git_paths.push_back(o.path);
  ASSIGN_OR_RETURN(auto git_texts, rev.ReadFiles(git_paths));

  std::vector<MetricsFile> out;
  size_t gi = 0;
  for (const MetricOut& o : outs) {
    if (!o.is_dir) {
      std::optional<std::string> text;
      if (!o.cache) text = std::move(git_texts[gi++]);
      if (!text) text = from_cache(o.oid);
      if (!text) {
        if (o.cache) return not_cached(o.path, o.oid);
        return Status::NotFound("metrics file '" + o.path + "' is in neither " + rev.name() +
                                " nor the cache (forja.lock there says cache: false: it should have been committed "
                                "with forja.lock); compare with another revision");
      }
      ASSIGN_OR_RETURN(MetricsFile f, parse(o.path, *text));
      out.push_back(std::move(f));
      continue;
    }
    // A folder: its manifest from the cache, else (cache: false) the tree in git.
    if (auto manifest = from_cache(o.oid)) {
      ASSIGN_OR_RETURN(auto entries, ParseManifest(*manifest, ObjectKey(o.oid)));
      for (const ManifestEntry& e : entries) {
        std::string path = o.path + "/" + e.path;
        if (!IsMetricsFileName(path)) continue;
        auto text = from_cache(e.oid);
        if (!text) return not_cached(path, e.oid);
        ASSIGN_OR_RETURN(MetricsFile f, parse(path, *text));
        out.push_back(std::move(f));
      }
      continue;
    }
    if (o.cache) return not_cached(o.path, o.oid);
    ASSIGN_OR_RETURN(auto listed, rev.ListFiles(o.path));
    std::vector<std::string> paths;
    for (auto& p : listed)
      if (IsMetricsFileName(p)) paths.push_back(std::move(p));
    ASSIGN_OR_RETURN(auto texts, rev.ReadFiles(paths));
    for (size_t i = 0; i < paths.size(); i++) {
      if (!texts[i]) continue;
      ASSIGN_OR_RETURN(MetricsFile f, parse(paths[i], *texts[i]));
      out.push_back(std::move(f));
    }
  }
  return out;
}

// --- diffs ---------------------------------------------------------------------

std::vector<MetricDiff> DiffMetrics(const std::vector<MetricsFile>& old_files,
                                    const std::vector<MetricsFile>& new_files, bool all) {
  std::map<std::pair<std::string, std::string>, const Node*> old_index;
  for (const MetricsFile& f : old_files)
    for (const Metric& m : f.metrics) old_index.emplace(std::make_pair(f.path, m.key), &m.value);
  std::map<std::pair<std::string, std::string>, bool> seen;
  std::vector<MetricDiff> out;
  auto add = [&](MetricDiff d) {
    if (d.old_value && d.new_value) {
      d.changed = !SameValue(*d.old_value, *d.new_value);
      d.change = Change(*d.old_value, *d.new_value);
    } else {
      d.changed = true;
    }
    if (d.changed || all) out.push_back(std::move(d));
  };
  for (const MetricsFile& f : new_files)
    for (const Metric& m : f.metrics) {
      auto key = std::make_pair(f.path, m.key);
      if (!seen.emplace(key, true).second) continue;
      MetricDiff d{f.path, m.key, std::nullopt, m.value, std::nullopt, false};
      auto it = old_index.find(key);
      if (it != old_index.end()) d.old_value = *it->second;
      add(std::move(d));
    }
  for (const MetricsFile& f : old_files)
    for (const Metric& m : f.metrics) {
      if (!seen.emplace(std::make_pair(f.path, m.key), true).second) continue;
      add(MetricDiff{f.path, m.key, m.value, std::nullopt, std::nullopt, false});
    }
  return out;
}

std::vector<LockParams> MergeParams(const std::vector<std::vector<LockParams>>& per_stage) {
  std::vector<LockParams> out;
  for (const auto& stage : per_stage)
    for (const LockParams& lp : stage) {
      auto it = std::find_if(out.begin(), out.end(), [&](const LockParams& o) { return o.source == lp.source; });
      if (it == out.end()) {
        out.push_back({lp.source, {}});
        it = out.end() - 1;
      }
      for (const LockParam& p : lp.values)
        if (std::none_of(it->values.begin(), it->values.end(), [&](const LockParam& q) { return q.key == p.key; }))
          it->values.push_back(p);
    }
  return out;
}

Result<std::vector<MetricsFile>> ReadRevisionDvcMetrics(const GitRevision& rev, const std::string& root,
                                                        const std::vector<MetricOut>& known) {
  auto project = LoadProject(root, {});
  std::vector<std::string> paths;
  if (project.ok())
    for (const std::string& p : project->dvc_metrics)
      if (std::none_of(known.begin(), known.end(), [&](const MetricOut& m) { return m.path == p; })) paths.push_back(p);
  ASSIGN_OR_RETURN(auto texts, rev.ReadFiles(paths));
  std::vector<MetricsFile> out;
  for (size_t i = 0; i < paths.size(); i++) {
    if (!texts[i]) continue;
    ASSIGN_OR_RETURN(auto metrics, ParseMetrics(*texts[i], rev.name() + ":" + paths[i]));
    out.push_back({paths[i], std::move(metrics), false});
  }
  return out;
}

Result<std::vector<LockParams>> ReadRevisionDvcParams(const GitRevision& rev, const Project& project) {
  std::vector<std::string> paths;
  for (const Param& p : project.dvc_params) paths.push_back(p.file);
  ASSIGN_OR_RETURN(auto texts, rev.ReadFiles(paths));
  std::vector<LockParams> out;
  for (size_t i = 0; i < paths.size(); i++) {
    if (!texts[i]) continue;
    ASSIGN_OR_RETURN(config::Node doc, config::ParseConfigYaml(*texts[i], rev.name() + ":" + paths[i]));
    if (!doc.is_map()) continue;
    LockParams lp{paths[i], {}};
    for (const auto& [k, v] : doc.entries()) lp.values.push_back({k, config::ToJson(v, 0)});
    out.push_back(std::move(lp));
  }
  return out;
}

std::vector<LockParams> LockParamsOf(const Lock& lock) {
  std::vector<std::vector<LockParams>> per_stage;
  for (const LockStage& s : lock.stages) per_stage.push_back(s.params);
  return MergeParams(per_stage);
}

Result<std::vector<LockParams>> CurrentParams(const Project& project) {
  ParamReader reader(project);
  std::vector<std::vector<LockParams>> per_stage;
  for (const Stage& s : project.dag.stages) {
    ASSIGN_OR_RETURN(auto values, reader.Values(s));
    per_stage.push_back(std::move(values));
  }
  if (!project.dvc_params.empty()) {  // dvc.yaml's top-level params: files, read whole
    Stage top;
    top.name = "(dvc.yaml params)";
    top.params = project.dvc_params;
    ASSIGN_OR_RETURN(auto values, reader.Values(top));
    per_stage.push_back(std::move(values));
  }
  return MergeParams(per_stage);
}

std::vector<ParamDiff> DiffParams(const std::vector<LockParams>& old_params, const std::vector<LockParams>& new_params,
                                  bool all) {
  // Compared leaf by leaf, as DVC's params diff does: a stage that reads a whole group
  // (params: [model]) shows model.depth 3 -> 5, not the two mappings.
  auto leaves = [](const std::vector<LockParams>& in) {
    std::vector<LockParams> out;
    for (const LockParams& lp : in) {
      LockParams flat{lp.source, {}};
      for (const LockParam& p : lp.values) {
        if (p.value_json.empty() || p.value_json[0] != '{') {  // a scalar or list: as the lock has it
          flat.values.push_back(p);
          continue;
        }
        for (auto& [k, v] : FlattenParam(p.key, p.value_json)) flat.values.push_back({k, std::move(v)});
      }
      out.push_back(std::move(flat));
    }
    return out;
  };
  const std::vector<LockParams> old_leaves = leaves(old_params), new_leaves = leaves(new_params);
  std::map<std::pair<std::string, std::string>, const std::string*> old_index;
  for (const LockParams& lp : old_leaves)
    for (const LockParam& p : lp.values) old_index.emplace(std::make_pair(lp.source, p.key), &p.value_json);
  std::map<std::pair<std::string, std::string>, bool> seen;
  std::vector<ParamDiff> out;
  auto add = [&](ParamDiff d) {
    d.changed = !d.old_json || !d.new_json || *d.old_json != *d.new_json;
    if (d.changed || all) out.push_back(std::move(d));
  };
  for (const LockParams& lp : new_leaves)
    for (const LockParam& p : lp.values) {
      auto key = std::make_pair(lp.source, p.key);
      if (!seen.emplace(key, true).second) continue;
      ParamDiff d{lp.source, p.key, std::nullopt, p.value_json, false};
      auto it = old_index.find(key);
      if (it != old_index.end()) d.old_json = *it->second;
      add(std::move(d));
    }
  for (const LockParams& lp : old_leaves)
    for (const LockParam& p : lp.values) {
      if (!seen.emplace(std::make_pair(lp.source, p.key), true).second) continue;
      add(ParamDiff{lp.source, p.key, p.value_json, std::nullopt, false});
    }
  return out;
}

// --- formatting ----------------------------------------------------------------

namespace {

std::string FormatFloat(double v, int precision) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (precision < 0 || std::fabs(v) >= 1e16) return config::PythonFloatRepr(v);
  char buf[512];
  std::snprintf(buf, sizeof buf, "%.*f", precision, v);
  std::string s = buf;
  if (s.find_first_of("123456789") == std::string::npos) {
    if (v == 0) return "0.0";
    std::snprintf(buf, sizeof buf, "%.*g", std::max(precision, 1), v);  // would round to 0: significant digits
    return buf;
  }
  if (s.find('.') == std::string::npos) return s + ".0";
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s += '0';
  return s;
}

}  // namespace

std::string FormatValue(const Node& value, int precision) {
  switch (value.kind()) {
    case Node::Kind::kNull: return "null";
    case Node::Kind::kBool: return value.as_bool() ? "true" : "false";
    case Node::Kind::kInt: return std::to_string(value.as_int());
    case Node::Kind::kFloat: return FormatFloat(value.as_float(), precision);
    case Node::Kind::kString: return value.as_string();
    case Node::Kind::kList:
    case Node::Kind::kMap: return config::ToJson(value, 0);
  }
  return "";
}

std::string FormatChange(const Node& change, int precision) {
  if (!IsNumber(change)) return FormatValue(change, precision);
  double v = AsDouble(change);
  if (v == 0) return "0";
  std::string s = FormatValue(change, precision);
  return v > 0 ? "+" + s : s;
}

std::string FormatParam(const std::string& value_json) {
  if (!value_json.empty() && value_json[0] == '"') {
    std::string s;
    std::string_view rest;
    if (ParseQuoted(value_json, &s, &rest) && rest.empty()) return s;
  }
  return value_json;
}

}  // namespace forja::pipeline
