// dvc.yaml (dvc_yaml.h): its top level, the vars context and DVC's ${...}.
//
// Each rule follows DVC 3.67's own code, named where it is used:
// dvc/parsing/__init__.py (the document, vars, foreach/matrix), context.py
// (merging vars, selecting keys), interpolate.py (the ${} grammar and how
// values become text). Stage fields are stage.cc's (ParseDvcStages).
#include "forja/pipeline/dvc_yaml.h"

#include <algorithm>

#include "forja/config/yaml_fast.h"
#include "forja/core/fs.h"
#include "forja/core/git.h"
#include "forja/core/path.h"

namespace forja::pipeline {

namespace {

using config::Node;
using Strings = std::vector<std::string>;

constexpr const char* kTopKeys = "stages, vars, params, metrics, plots, artifacts, datasets";

std::string Origin(const Node& n) { return n.origin().empty() ? "dvc.yaml" : n.origin(); }

Status Bad(const Node& n, const std::string& field, const std::string& what) {
  return Status::User(Origin(n) + ": " + field + ": " + what);
}

bool HasDollarBrace(const Node& n) {
  if (n.is_string()) return n.as_string().find("${") != std::string::npos;
  for (const Node& c : n.items())
    if (HasDollarBrace(c)) return true;
  for (const auto& [k, v] : n.entries())
    if (k.find("${") != std::string::npos || HasDollarBrace(v)) return true;
  return false;
}

// A relative path made lexical: "a/./b/../c" gives "a/c", "" is the root, and
// a path that climbs out starts with "..".
std::string NormalizeRelative(std::string_view p) {
  std::vector<std::string_view> parts;
  for (size_t i = 0; i <= p.size();) {
    size_t j = std::min(p.find('/', i), p.size());
    std::string_view c = p.substr(i, j - i);
    if (c == "..") {
      if (parts.empty() || parts.back() == "..") parts.push_back(c);
      else parts.pop_back();
    } else if (!c.empty() && c != ".") {
      parts.push_back(c);
    }
    i = j + 1;
  }
  std::string out;
  for (auto c : parts) out += (out.empty() ? "" : "/") + std::string(c);
  return out;
}

// ---------------------------------------------------------------------------
// ${...}: interpolate.py

// Text from dvc.yaml in a message: control characters escaped (one line).
std::string Shown(std::string_view s) {
  std::string q = Quote(s);
  return q.substr(1, q.size() - 2);
}

// The parts of a key: a.b[0].c gives a, b, 0, c (KEYCRE's inner text, parsed
// as `word (.word | [word])*` where a word has no '.', '[' or ']').
Result<std::vector<std::string>> KeyParts(std::string_view inner) {
  std::vector<std::string> parts;
  auto bad = [&] {
    return Status::User("${" + Shown(inner) + "}: not a key; write ${name}, ${a.b} or ${a[0]}");
  };
  size_t i = 0;
  auto word = [&](std::string* w) {
    size_t j = inner.find_first_of(".[]", i);
    if (j == std::string_view::npos) j = inner.size();
    std::string_view t = inner.substr(i, j - i);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    if (t.empty()) return false;
    *w = std::string(t);
    i = j;
    return true;
  };
  std::string w;
  if (!word(&w)) return bad();
  parts.push_back(w);
  while (i < inner.size()) {
    char c = inner[i++];
    if (!word(&w)) return bad();
    if (c == '[') {
      if (i >= inner.size() || inner[i] != ']') return bad();
      i++;
    } else if (c != '.') {
      return bad();
    }
    parts.push_back(w);
  }
  return parts;
}

Result<const Node*> Select(std::string_view inner, const DvcScope& scope) {
  ASSIGN_OR_RETURN(auto parts, KeyParts(inner));
  const Node* cur = nullptr;
  for (size_t i = 0; i < parts.size(); i++) {
    const std::string& p = parts[i];
    if (i == 0 && p == "item" && scope.item) {
      cur = scope.item;
      continue;
    }
    if (i == 0 && p == "key" && scope.key) {
      cur = scope.key;
      continue;
    }
    const Node& in = cur ? *cur : *scope.ctx;
    const Node* next = nullptr;
    if (in.is_map()) {
      next = in.Find(p);
    } else if (in.is_list() && !p.empty() && p.size() < 10 &&
               std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      size_t idx = std::stoul(p);
      if (idx < in.items().size()) next = &in.items()[idx];
    }
    if (!next) {
      std::string key = Shown(inner);
      if (i > 0 && in.is_scalar())
        return Status::User("${" + key + "}: '" + Shown(parts[i - 1]) + "' is a value, it has no '" + Shown(p) + "'");
      return Status::User("${" + key + "}: '" + key +
                          "' is not defined; the names come from params.yaml, vars: and item / key in foreach "
                          "and matrix stages");
    }
    cur = next;
  }
  return cur;
}

// Python's shlex.quote, as DVC quotes strings it unpacks into a command.
std::string ShellQuote(const std::string& s) {
  if (s.empty()) return "''";
  bool safe = std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("@%+=:,./-_").find(static_cast<char>(c)) != std::string_view::npos;
  });
  if (safe) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\"'\"'") : std::string(1, c);
  return out + "'";
}

// to_str for a scalar: Python's str(), except booleans (true / false).
std::string ScalarStr(const Node& v) {
  switch (v.kind()) {
    case Node::Kind::kBool: return v.as_bool() ? "true" : "false";
    case Node::Kind::kString: return v.as_string();
    default: return config::ScalarToString(v);  // 1, 1.0, 1e-05, None
  }
}

void FlattenDict(const Node& n, const std::string& prefix, std::vector<std::pair<std::string, const Node*>>* out) {
  for (const auto& [k, v] : n.entries()) {
    std::string key = prefix.empty() ? k : prefix + "." + k;
    if (v.is_map() && !v.entries().empty()) {
      FlattenDict(v, key, out);
    } else {
      out->emplace_back(key, &v);
    }
  }
}

// to_str for a mapping in cmd: --key value, with DVC's defaults (parsing.bool:
// store_true, parsing.list: nargs).
Result<std::string> DictStr(const Node& n, const std::string& expr) {
  std::vector<std::pair<std::string, const Node*>> flat;
  FlattenDict(n, "", &flat);
  std::string out;
  for (const auto& [k, v] : flat) {
    if (v->kind() == Node::Kind::kBool) {
      if (v->as_bool()) out += "--" + k + " ";
    } else if (v->is_string()) {
      out += "--" + k + " " + ShellQuote(v->as_string()) + " ";
    } else if (v->is_list()) {
      for (size_t i = 0; i < v->items().size(); i++) {
        const Node& e = v->items()[i];
        if (!e.is_scalar())
          return Status::User("${" + Shown(expr) + "}: cannot unpack the nested list in '" + Shown(k) + "'");
        std::string t = e.is_string() ? ShellQuote(e.as_string()) : ScalarStr(e);
        out += i ? t + " " : "--" + k + " " + t + " ";
      }
    } else if (v->is_map()) {
      out += "--" + k + " {} ";  // an empty mapping, as Python prints it
    } else {
      out += "--" + k + " " + ScalarStr(*v) + " ";
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// validate_value: a list or a mapping may be the whole value only in foreach
// and matrix; a mapping may also be unpacked in cmd.
Status CheckType(const Node& v, const std::string& expr, std::string_view field) {
  if (v.is_scalar()) return Status::Ok();
  if (field == "foreach" || field == "matrix") return Status::Ok();
  if (v.is_map() && field == "cmd") return Status::Ok();
  return Status::User("${" + Shown(expr) + "}: cannot interpolate a " + std::string(v.is_map() ? "mapping" : "list") +
                      " here (only in cmd, where a mapping becomes --key value, and in foreach and matrix)");
}

void Unescape(std::string* s) {
  for (size_t p = 0; (p = s->find("\\${", p)) != std::string::npos; p += 2) s->erase(p, 1);
}

Result<Node> ResolveString(const std::string& s, const DvcScope& scope, std::string_view field) {
  struct Match {
    size_t start, end;  // [start, end) of ${...}
    std::string inner;
  };
  std::vector<Match> matches;
  for (size_t p = 0; (p = s.find("${", p)) != std::string::npos;) {
    if (p > 0 && s[p - 1] == '\\') {
      p += 2;
      continue;
    }
    size_t e = s.find('}', p + 2);
    if (e == std::string::npos) break;  // KEYCRE needs the closing brace: the text stays as it is
    matches.push_back({p, e + 1, s.substr(p + 2, e - p - 2)});
    p = e + 1;
  }
  if (matches.size() == 1 && matches[0].start == 0 && matches[0].end == s.size()) {
    ASSIGN_OR_RETURN(const Node* v, Select(matches[0].inner, scope));
    RETURN_IF_ERROR(CheckType(*v, matches[0].inner, field));
    return *v;
  }
  std::string out;
  size_t at = 0;
  for (const Match& m : matches) {
    ASSIGN_OR_RETURN(const Node* v, Select(m.inner, scope));
    RETURN_IF_ERROR(CheckType(*v, m.inner, field));
    out.append(s, at, m.start - at);
    if (v->is_map()) {
      ASSIGN_OR_RETURN(std::string d, DictStr(*v, m.inner));
      out += d;
    } else if (v->is_list()) {
      return Status::User("${" + Shown(m.inner) + "}: cannot put a list inside a string; use it alone (foreach: ${" +
                          Shown(m.inner) + "})");
    } else {
      out += ScalarStr(*v);
    }
    at = m.end;
  }
  out.append(s, at, std::string::npos);
  Unescape(&out);
  return Node::String(std::move(out));
}

// ---------------------------------------------------------------------------
// vars: context.py

// DVC's loaders are chosen by the file's suffix, YAML for any other.
Status CheckLoadable(const Node& at, const std::string& field, const std::string& path, const char* what) {
  std::string lower = path;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  const char* kind = lower.ends_with(".toml") ? "TOML" : lower.ends_with(".py") ? "Python" : nullptr;
  if (!kind) return Status::Ok();
  return Bad(at, field,
             Quote(path) + " is a " + kind + " " + what + " file; forja reads YAML and JSON ones: convert it to " +
                 Shown(path.substr(0, path.rfind('.'))) + ".yaml");
}

// _merge: mappings merge key by key; any other name defined twice is an error.
Status MergeInto(Node& into, const Node& update, const std::string& path, const std::string& source) {
  for (const auto& [k, v] : update.entries()) {
    std::string key = path.empty() ? k : path + "." + k;
    Node* have = into.Find(k);
    if (have && have->is_map() && v.is_map()) {
      RETURN_IF_ERROR(MergeInto(*have, v, key, source));
    } else if (have) {
      return Status::User("cannot redefine " + Quote(key) + " from " + source +
                          ": it is already defined (by params.yaml or an earlier vars entry)");
    } else {
      into.Set(k, v);
    }
  }
  return Status::Ok();
}

// merge_from: "file.yaml" or "file.yaml:k1,k2", relative to wdir.
Status MergeFile(const Node& at, const std::string& field, const std::string& item, const std::string& root,
                 const std::string& wdir, DvcContext* ctx) {
  size_t colon = item.find(':');
  std::string file = item.substr(0, colon);
  std::optional<std::vector<std::string>> keys;
  if (colon != std::string::npos) {
    std::vector<std::string> ks;
    for (size_t i = colon + 1; i <= item.size();) {
      size_t j = std::min(item.find(',', i), item.size());
      if (j > i) ks.push_back(item.substr(i, j - i));
      i = j + 1;
    }
    if (!ks.empty()) keys = std::move(ks);
  }
  std::string rel = wdir.empty() ? file : wdir + "/" + file;
  std::string norm = NormalizeRelative(rel);
  if (file.empty() || norm.empty() || norm == ".." || norm.starts_with("../") || file[0] == '/')
    return Bad(at, field, Quote(item) + " is not a file inside the repository; write vars: [params.yaml]");
  if (auto it = ctx->imports.find(norm); it != ctx->imports.end()) {
    if (!keys && !it->second) return Status::Ok();  // the whole file again: allowed
    bool clash = !keys || !it->second;
    if (keys && it->second)
      for (const auto& k : *keys) clash |= std::count(it->second->begin(), it->second->end(), k) > 0;
    if (clash)
      return Bad(at, field, "cannot load " + Quote(item) + ": " + norm + " is already loaded" +
                                (it->second ? " in part" : "") + " (DVC refuses it too)");
  }
  RETURN_IF_ERROR(CheckLoadable(at, field, file, "vars"));
  std::string abs = root + "/" + norm;
  if (IsDir(abs)) return Bad(at, field, Quote(norm) + " is a folder; vars: names files");
  auto text = ReadFile(abs);
  if (!text.ok()) return Bad(at, field, "cannot read " + Quote(norm) + ": " + Shown(text.status().message()));
  auto doc = config::ParseConfigYaml(*text, norm);
  if (!doc.ok()) return Bad(at, field, Shown(doc.status().message()));
  if (!doc->is_map())
    return Bad(at, field, "expected a mapping in " + Quote(norm) + ", got a " + doc->KindName());
  Node data = Node::Map();
  if (keys) {
    for (const auto& k : *keys) {
      const Node* v = doc->Find(k);
      if (!v) return Bad(at, field, "could not find " + Quote(k) + " in " + Quote(norm));
      data.Set(k, *v);
    }
  } else {
    data = std::move(*doc);
  }
  auto merged = MergeInto(ctx->values, data, "", Quote(item));
  if (!merged.ok()) return Bad(at, field, merged.message());
  auto& imp = ctx->imports[norm];
  if (keys) {
    if (!imp) imp.emplace();
    imp->insert(imp->end(), keys->begin(), keys->end());
  } else {
    imp.reset();
  }
  return Status::Ok();
}

}  // namespace

Status LoadDvcVars(const Node& vars, const std::string& root, const std::string& wdir, const std::string& field,
                   DvcContext* ctx) {
  if (vars.is_null()) return Status::Ok();
  const char* hint = "write vars: [params.yaml, config.yaml:train, {seed: 1}]";
  if (!vars.is_list()) return Bad(vars, field, std::string("expected a list, got a ") + vars.KindName() + "; " + hint);
  for (size_t i = 0; i < vars.items().size(); i++) {
    const Node& v = vars.items()[i];
    std::string f = field + "[" + std::to_string(i) + "]";
    if (HasDollarBrace(v)) return Bad(v, f, "${...} is not allowed in vars (DVC does not interpolate them)");
    if (v.is_string()) {
      RETURN_IF_ERROR(MergeFile(v, f, v.as_string(), root, wdir, ctx));
    } else if (v.is_map()) {
      auto merged = MergeInto(ctx->values, v, "", f);
      if (!merged.ok()) return Bad(v, f, merged.message());
    } else {
      return Bad(v, f, std::string("expected a file name or a mapping, got a ") + v.KindName() + "; " + hint);
    }
  }
  return Status::Ok();
}

Result<Node> DvcResolve(const Node& value, const DvcScope& scope, std::string_view field) {
  if (value.is_string()) {
    if (value.as_string().find("${") == std::string::npos) return value;
    ASSIGN_OR_RETURN(Node r, ResolveString(value.as_string(), scope, field));
    r.set_origin(value.origin());
    return r;
  }
  if (value.is_list()) {
    Node out = Node::List();
    out.set_origin(value.origin());
    for (const Node& c : value.items()) {
      ASSIGN_OR_RETURN(Node r, DvcResolve(c, scope, field));
      out.items().push_back(std::move(r));
    }
    return out;
  }
  if (value.is_map()) {
    Node out = Node::Map();
    out.set_origin(value.origin());
    for (const auto& [k, v] : value.entries()) {
      std::string key = k;
      if (k.find("${") != std::string::npos) {
        ASSIGN_OR_RETURN(Node rk, ResolveString(k, scope, field));
        if (!rk.is_scalar()) return Status::User("${...} in the key " + Quote(k) + " names a list or a mapping");
        key = ScalarStr(rk);
      }
      ASSIGN_OR_RETURN(Node r, DvcResolve(v, scope, field));
      out.entries().emplace_back(std::move(key), std::move(r));
    }
    return out;
  }
  return value;
}

Result<DvcYaml> ParseDvcYaml(const Node& doc, const std::string& root) {
  DvcYaml out;
  if (doc.is_null()) return out;
  if (!doc.is_map())
    return Status::User(Origin(doc) + ": expected a mapping (stages:, vars:, metrics: ...), got a " + doc.KindName());
  static const Strings kKnown = {"stages", "vars", "params", "metrics", "plots", "artifacts", "datasets"};
  for (const auto& [k, v] : doc.entries()) {
    if (std::find(kKnown.begin(), kKnown.end(), k) == kKnown.end())
      return Bad(v, Quote(k).substr(1, Quote(k).size() - 2), std::string("unknown key; dvc.yaml has ") + kTopKeys);
  }
  // The context: params.yaml beside dvc.yaml when it exists, then vars (DataResolver.__init__).
  DvcContext ctx;
  Node default_params = Node::String("params.yaml");
  default_params.set_origin(Origin(doc));
  if (IsFile(root + "/params.yaml")) RETURN_IF_ERROR(MergeFile(default_params, "params.yaml", "params.yaml", root, "", &ctx));
  if (const Node* vars = doc.Find("vars")) RETURN_IF_ERROR(LoadDvcVars(*vars, root, "", "vars", &ctx));
  if (const Node* stages = doc.Find("stages"); stages && !stages->is_null()) {
    if (!stages->is_map())
      return Bad(*stages, "stages",
                 std::string("expected a mapping of stage names to stages, got a ") + stages->KindName());
    ASSIGN_OR_RETURN(out.stages, ParseDvcStages(*stages, ctx, root, &out.notices));
  }
  DvcScope scope{&ctx.values, nullptr, nullptr};
  // metrics, params and plots: lists, resolved with the context (TopDefinition).
  auto paths = [&](const char* section, bool allow_maps, std::vector<std::pair<std::string, const Node*>>* got) -> Status {
    const Node* raw = doc.Find(section);
    if (!raw || raw->is_null()) return Status::Ok();
    if (!raw->is_list())
      return Bad(*raw, section, std::string("expected a list of files, got a ") + raw->KindName() + "; write " +
                                    section + ": [eval/metrics.json]");
    for (size_t i = 0; i < raw->items().size(); i++) {
      const Node& e = raw->items()[i];
      std::string f = std::string(section) + "[" + std::to_string(i) + "]";
      auto r = DvcResolve(e, scope, section);
      if (!r.ok()) return Bad(e, f, r.status().message());
      std::string p;
      if (r->is_string()) {
        p = r->as_string();
      } else if (allow_maps && r->is_map() && r->entries().size() == 1) {
        p = r->entries()[0].first;  // a plot: {file or id: {x, y, template ...}}
      } else {
        return Bad(e, f, std::string("expected a file name, got a ") + r->KindName());
      }
      if (p.empty() || p[0] == '/' || NormalizeRelative(p).starts_with("..") || NormalizeRelative(p).empty())
        return Bad(e, f, Quote(p) + " is not a file inside the repository");
      got->emplace_back(NormalizeRelative(p), &e);
    }
    return Status::Ok();
  };
  std::vector<std::pair<std::string, const Node*>> got;
  RETURN_IF_ERROR(paths("metrics", false, &got));
  for (auto& [p, n] : got) out.metrics.push_back(p);
  got.clear();
  RETURN_IF_ERROR(paths("params", false, &got));
  for (auto& [p, n] : got) {
    RETURN_IF_ERROR(CheckLoadable(*n, "params", p, "params"));
    out.params.push_back(Param{p, "", Origin(*n)});
  }
  got.clear();
  RETURN_IF_ERROR(paths("plots", true, &got));
  for (auto& [p, n] : got) {
    out.plots.push_back(p);
    auto def = DvcResolve(*n, scope, "plots");  // resolved once already, by paths()
    out.plot_defs.push_back(def.ok() ? *std::move(def) : *n);
  }
  if (const Node* a = doc.Find("artifacts"))
    out.notices.push_back(Origin(*a) +
                          ": artifacts: ignored; forja's model registry does not read them (forja models register)");
  if (const Node* d = doc.Find("datasets"))
    out.notices.push_back(Origin(*d) + ": datasets: ignored; forja does not read DVC datasets");
  // A notice about a foreach or matrix template comes once per stage made: say it once.
  Strings unique;
  for (auto& n : out.notices)
    if (std::find(unique.begin(), unique.end(), n) == unique.end()) unique.push_back(std::move(n));
  out.notices = std::move(unique);
  return out;
}

namespace {

// DVC reads every dvc.yaml of the repository; forja reads the root one only.
// Rather than run part of a pipeline, a dvc.yaml elsewhere that git tracks is
// refused (git's index answers in milliseconds; a folder outside git is not asked).
Status RefuseOtherDvcYaml(const std::string& root) {
  auto r = RunGit(root, {"ls-files", "-z", "--cached", "--", ":(glob)**/dvc.yaml"});
  if (!r.ok() || r->exit_code != 0) return Status::Ok();
  for (size_t i = 0; i < r->out.size();) {
    size_t j = std::min(r->out.find('\0', i), r->out.size());
    std::string path = r->out.substr(i, j - i);
    i = j + 1;
    if (path.empty() || path == "dvc.yaml") continue;
    std::string dir = path.substr(0, path.size() - std::string_view("/dvc.yaml").size());
    return Status::User(Quote(path).substr(1, Quote(path).size() - 2) +
                        ": forja reads only the dvc.yaml at the workspace root (DVC reads every one); move its "
                        "stages into dvc.yaml with wdir: " + Shown(dir) + " (and paths relative to it)");
  }
  return Status::Ok();
}

}  // namespace

Result<DvcYaml> ReadDvcYaml(const std::string& root) {
  RETURN_IF_ERROR(RefuseOtherDvcYaml(root));
  ASSIGN_OR_RETURN(std::string text, ReadFile(root + "/dvc.yaml"));
  ASSIGN_OR_RETURN(Node doc, config::ParseConfigYaml(text, "dvc.yaml"));
  return ParseDvcYaml(doc, root);
}

}  // namespace forja::pipeline
