// forja.yaml's `stages:` section: fields, foreach and matrix expansion,
// interpolation against the composed configuration, repository paths.
//
// One idea, one file: a stage is parsed by one StageParser that expands foreach
// and matrix entries as it meets them (each copy is parsed again with its own
// `item` / `key` bound), so expansion, interpolation and the field checks share
// the parser's state and cannot be read apart; paths and durations are its helpers.
//
// Every error is one line naming the line and the field, and saying what to
// write instead. Strings without "${" never reach the resolver: a pipeline of
// a thousand stages parses in about a millisecond.
#include "forja/pipeline/stage.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <unordered_set>

#include "forja/config/hydra_runtime.h"
#include "forja/config/interpolation.h"
#include "forja/core/path.h"
#include "forja/data/pointer.h"
#include "forja/pipeline/dvc_yaml.h"

namespace forja::pipeline {

namespace {

using config::Node;

// The key under which a stage's value is placed in a copy of the
// configuration, to be resolved with the config module's own interpolation.
constexpr std::string_view kSlot = "__forja_stage_value__";

constexpr const char* kStageKeys =
    "cmd, wdir, deps, params, outs, metrics, plots, env, retries, timeout, resources, always_changed, desc, meta";
constexpr const char* kDvcStageKeys =
    "cmd, wdir, deps, params, outs, metrics, plots, vars, frozen, always_changed, desc, meta";

// A matrix or foreach that would make more stages than this is surely a mistake.
constexpr size_t kMaxExpansion = 100000;

// ---------------------------------------------------------------------------
// Messages

std::string Origin(const Node& n) { return n.origin().empty() ? "forja.yaml" : n.origin(); }

Status Bad(const Node& n, const std::string& field, const std::string& what) {
  return Status::User(Origin(n) + ": " + field + ": " + what);
}

// A key of forja.yaml in a field name (stages.train.outs): control
// characters escaped, so that the message stays on one line.
std::string Key(std::string_view k) {
  std::string q = Quote(k);
  return q.substr(1, q.size() - 2);
}

const char* KindPhrase(const Node& n) {
  switch (n.kind()) {
    case Node::Kind::kNull: return "nothing (null)";
    case Node::Kind::kBool: return "a bool";
    case Node::Kind::kInt: return "an int";
    case Node::Kind::kFloat: return "a float";
    case Node::Kind::kString: return "a string";
    case Node::Kind::kList: return "a list";
    case Node::Kind::kMap: return "a mapping";
  }
  return "a value";
}

// A scalar as text for a command, a path, an environment value or a stage
// name: as YAML writes it (true, 1.5). Inside a longer string, ${...} follows
// OmegaConf's rules instead (Python's str(): True), as the config module does.
std::optional<std::string> ScalarText(const Node& n) {
  switch (n.kind()) {
    case Node::Kind::kString: return n.as_string();
    case Node::Kind::kInt: return std::to_string(n.as_int());
    case Node::Kind::kFloat: return config::PythonFloatRepr(n.as_float());
    case Node::Kind::kBool: return std::string(n.as_bool() ? "true" : "false");
    case Node::Kind::kNull: return std::string("null");
    default: return std::nullopt;
  }
}

bool HasInterpolation(const Node& n) {
  if (n.is_string()) return n.has_interpolation();
  for (const Node& c : n.items())
    if (HasInterpolation(c)) return true;
  for (const auto& e : n.entries())
    if (HasInterpolation(e.second)) return true;
  return false;
}

// ---------------------------------------------------------------------------
// Interpolation

// Resolves stage values against the configuration plus `item` / `key` inside
// foreach and matrix stages (which hide the configuration's own item / key).
// The configuration is copied once, on the first "${".
class Interpolator {
 public:
  explicit Interpolator(const Node& cfg) : cfg_(cfg) {}

  void Bind(const Node& item, const Node* key) {
    bound_ = true;
    item_ = item;
    has_key_ = key != nullptr;
    if (key) key_ = *key;
    if (built_) ApplyBinding();
  }
  void Unbind() {
    bound_ = false;
    if (built_) ApplyBinding();
  }

  // dvc.yaml: DVC's ${...} (dvc_yaml.h) against `ctx` instead of the config
  // module's resolver against the configuration.
  void UseDvc(const Node* ctx) { dvc_ctx_ = ctx; }
  const Node* dvc_context() const { return dvc_ctx_; }

  // `value` with every interpolation in it resolved; `field` is the stage's
  // field (cmd, outs, foreach ...), which DVC's rules depend on. Errors read
  //   ${train.lrr}: key 'train.lrr' not found in the configuration
  // `lock`: ${hydra:...} per-run values as their own text (HydraLockView).
  Result<Node> Resolve(const Node& value, std::string_view field, bool lock = false) {
    if (dvc_ctx_) return DvcResolve(value, DvcScope{dvc_ctx_, bound_ ? &item_ : nullptr,
                                                    bound_ && has_key_ ? &key_ : nullptr}, field);
    if (lock && lock_cfg_) return ResolveLock(value);
    if (value.is_string()) {
      if (auto quick = Quick(value.as_string())) return std::move(*quick);
    }
    Build();
    root_.Set(std::string(kSlot), value);
    // ${hydra:...} is the run's (its output folder, new every run): fine in a
    // command or the environment, never in what forja caches or compares.
    bool hydra_ok = hydra_ && (field == "cmd" || field == "env");
    config::ResolveOptions ro;
    ro.hydra = hydra_ok ? (lock ? &hydra_lock_ : hydra_) : nullptr;
    auto r = config::ResolveValue(root_, kSlot, ro);
    if (!r.ok() && hydra_ && !hydra_ok && r.status().message().find("${hydra:...} reads") != std::string::npos)
      return Status::User("${hydra:...} cannot be used in " + std::string(field) +
                          ": Hydra's output folder is new every run, so forja could never find this stage "
                          "up to date; use ${hydra:...} in cmd or env, and give " + std::string(field) +
                          " a fixed path");
    if (!r.ok()) return Status::User(Clean(r.status().message()));
    return r;
  }

  // The run's hydra node for ${hydra:...} in cmd and env (null: none), and
  // the config resolved against its lock view (null: the config has no
  // ${hydra:...}), against which forja.lock's command is resolved.
  void UseHydra(const Node* hydra, const Node* lock_cfg) {
    hydra_ = hydra;
    if (hydra) hydra_lock_ = config::HydraLockView(*hydra);
    lock_cfg_ = hydra ? lock_cfg : nullptr;
  }
  bool has_hydra() const { return hydra_ != nullptr; }

 private:
  // `value` against the lock config, with item / key as bound now.
  Result<Node> ResolveLock(const Node& value) {
    if (!lock_built_) {
      lock_root_ = lock_cfg_->is_map() ? *lock_cfg_ : Node::Map();
      lock_built_ = true;
    }
    const Node* own_item = lock_cfg_->is_map() ? lock_cfg_->Find("item") : nullptr;
    const Node* own_key = lock_cfg_->is_map() ? lock_cfg_->Find("key") : nullptr;
    SetOrEraseIn(lock_root_, "item", bound_ ? &item_ : own_item);
    SetOrEraseIn(lock_root_, "key", bound_ && has_key_ ? &key_ : own_key);
    lock_root_.Set(std::string(kSlot), value);
    config::ResolveOptions ro;
    ro.hydra = &hydra_lock_;
    auto r = config::ResolveValue(lock_root_, kSlot, ro);
    if (!r.ok()) return Status::User(Clean(r.status().message()));
    return r;
  }

  static void SetOrEraseIn(Node& root, const char* name, const Node* v) {
    if (v) {
      root.Set(name, *v);
    } else {
      root.Erase(name);
    }
  }

  // The common case without the resolver (which parses the string and copies
  // the configuration): every "${...}" is a plain dotted key (a.b_c) naming a
  // scalar that has no interpolation itself. Anything else — resolvers,
  // relative keys, indexes, escapes, dicts and lists, "???", a missing key —
  // returns nothing and goes to the config module, which gives the same value
  // or the error message.
  std::optional<Node> Quick(const std::string& s) const {
    if (s.find('\\') != std::string::npos) return std::nullopt;
    std::string out;
    for (size_t i = 0;;) {
      size_t p = s.find("${", i);
      if (p == std::string::npos) {
        out.append(s, i, std::string::npos);
        return Node::String(std::move(out));
      }
      out.append(s, i, p - i);
      size_t e = s.find('}', p + 2);
      if (e == std::string::npos) return std::nullopt;
      const Node* v = Lookup(std::string_view(s).substr(p + 2, e - p - 2));
      if (!v || !v->is_scalar() || v->has_interpolation() || v->is_missing()) return std::nullopt;
      if (p == 0 && e + 1 == s.size()) return *v;  // "${a}": the value, with its type
      out += config::ScalarToString(*v);           // as OmegaConf: Python's str()
      i = e + 1;
    }
  }

  // The node a plain dotted key names, or null (also for any other key).
  const Node* Lookup(std::string_view key) const {
    const Node* cur = nullptr;
    for (size_t i = 0; i <= key.size();) {
      size_t j = std::min(key.find('.', i), key.size());
      std::string_view part = key.substr(i, j - i);
      if (part.empty() || (part[0] >= '0' && part[0] <= '9')) return nullptr;
      for (char c : part)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return nullptr;
      if (!cur && bound_ && part == "item") {
        cur = &item_;
      } else if (!cur && bound_ && has_key_ && part == "key") {
        cur = &key_;
      } else {
        const Node& in = cur ? *cur : cfg_;
        cur = in.is_map() ? in.Find(part) : nullptr;
        if (!cur) return nullptr;
      }
      i = j + 1;
    }
    return cur;
  }

  void Build() {
    if (built_) return;
    root_ = cfg_.is_map() ? cfg_ : Node::Map();
    if (const Node* i = root_.Find("item")) cfg_item_ = *i;
    if (const Node* k = root_.Find("key")) cfg_key_ = *k;
    built_ = true;
    ApplyBinding();
  }

  void SetOrErase(const char* name, const Node* v) {
    if (v) {
      root_.Set(name, *v);
    } else {
      root_.Erase(name);
    }
  }

  void ApplyBinding() {
    const Node* cfg_item = cfg_item_ ? &*cfg_item_ : nullptr;
    const Node* cfg_key = cfg_key_ ? &*cfg_key_ : nullptr;
    SetOrErase("item", bound_ ? &item_ : cfg_item);
    SetOrErase("key", bound_ && has_key_ ? &key_ : cfg_key);
  }

  // The resolver names the key it resolved ("at __forja_stage_value__.0");
  // the caller names the field instead.
  static std::string Clean(std::string m) {
    std::string at = " at " + std::string(kSlot);
    for (size_t p; (p = m.find(at)) != std::string::npos;) {
      size_t e = p + at.size();
      while (e < m.size() && m[e] != ':' && m[e] != ',' && m[e] != ' ') e++;
      m.erase(p, e - p);
    }
    if (m.starts_with("interpolation ${")) m.erase(0, 14);
    static const std::string kNotFound = "' not found";
    if (m.size() >= kNotFound.size() && m.compare(m.size() - kNotFound.size(), kNotFound.size(), kNotFound) == 0)
      m += " in the configuration";
    return m;
  }

  const Node& cfg_;
  bool built_ = false;
  Node root_;
  std::optional<Node> cfg_item_, cfg_key_;
  bool bound_ = false, has_key_ = false;
  Node item_, key_;
  const Node* dvc_ctx_ = nullptr;
  const Node* hydra_ = nullptr;
  Node hydra_lock_;
  const Node* lock_cfg_ = nullptr;
  bool lock_built_ = false;
  Node lock_root_;
};

// ---------------------------------------------------------------------------
// Paths

// `p`, relative to `wdir`, as a normalized repository-relative path ("" is the
// root). Lexical: symlinks are the business of the commands that touch files.
Result<std::string> RepoPath(const std::string& wdir, std::string_view p) {
  if (p.empty()) return Status::User("the path is empty; write a path relative to " +
                                     (wdir.empty() ? std::string("the repository root") : "wdir " + Quote(wdir)));
  if (p[0] == '/')
    return Status::User(Quote(p) + " is an absolute path; write it relative to " +
                        (wdir.empty() ? std::string("the repository root") : "wdir " + Quote(wdir)));
  std::vector<std::string_view> parts;
  auto add = [&](std::string_view s) {
    size_t i = 0;
    while (i <= s.size()) {
      size_t j = s.find('/', i);
      if (j == std::string_view::npos) j = s.size();
      std::string_view c = s.substr(i, j - i);
      if (c == "..") {
        if (parts.empty()) return false;
        parts.pop_back();
      } else if (!c.empty() && c != ".") {
        parts.push_back(c);
      }
      i = j + 1;
    }
    return true;
  };
  if (!add(wdir) || !add(p))
    return Status::User(Quote(p) + " is outside the repository; write a path inside it");
  std::string out;
  for (std::string_view c : parts) {
    if (!out.empty()) out += '/';
    out += c;
  }
  if (IsReservedPath(out) && !out.starts_with(".git") && !out.starts_with(".forja"))
    return Status::User(Quote(p) + ": " + Key(CheckUntrustedPath(out).message()) + "; write a path elsewhere");
  if (IsReservedPath(out))
    return Status::User(Quote(p) + " is inside " + (out.starts_with(".git") ? ".git" : ".forja") +
                        ", which belongs to " + (out.starts_with(".git") ? "git" : "forja") +
                        "; write a path elsewhere");
  return out;
}

// ---------------------------------------------------------------------------
// Durations and numbers

Result<double> ParseDurationText(std::string_view s) {
  double scale = 1;
  std::string_view num = s;
  if (s.ends_with("ms")) {
    scale = 0.001;
    num.remove_suffix(2);
  } else if (s.ends_with("s")) {
    num.remove_suffix(1);
  } else if (s.ends_with("m")) {
    scale = 60;
    num.remove_suffix(1);
  } else if (s.ends_with("h")) {
    scale = 3600;
    num.remove_suffix(1);
  }
  double v = 0;
  auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
  if (num.empty() || ec != std::errc() || end != num.data() + num.size() || !std::isfinite(v) || v < 0)
    return Status::User(Quote(s) + " is not a duration; write seconds (30) or 500ms, 30s, 10m, 2h");
  return v * scale;
}

// ---------------------------------------------------------------------------
// The parser

class StageParser {
 public:
  StageParser(const Node& cfg, const Node* hydra, const Node* lock_cfg) : cfg_(cfg), in_(cfg) {
    in_.UseHydra(hydra, lock_cfg);
  }
  // dvc.yaml's stages: DVC's ${...}, params, vars and frozen (dvc_yaml.h).
  StageParser(const DvcContext& ctx, const std::string& root, std::vector<std::string>* notices)
      : cfg_(ctx.values), in_(ctx.values), dvc_(&ctx), root_(root), notices_(notices) {
    in_.UseDvc(&ctx.values);
  }

  Status ParseAll(const Node& stages, std::vector<Stage>* out) {
    out->reserve(stages.entries().size());
    for (const auto& [name, body] : stages.entries()) RETURN_IF_ERROR(ParseEntry(name, body, out));
    return Status::Ok();
  }

 private:
  // One entry of `stages:`: a stage, or a foreach / matrix of them.
  Status ParseEntry(const std::string& name, const Node& body, std::vector<Stage>* out) {
    std::string field = "stages." + name;
    RETURN_IF_ERROR(CheckName(name, body));
    if (!body.is_map())
      return Bad(body, field,
                 std::string("expected a stage (a mapping with cmd, deps, outs ...), got ") + KindPhrase(body) +
                     "; write " + name + ": {cmd: <command>, deps: [...], outs: [...]}");
    const Node* foreach = body.Find("foreach");
    const Node* matrix = body.Find("matrix");
    if (foreach && matrix)
      return Bad(*matrix, field + ".matrix", "a stage has foreach or matrix, not both; split it in two stages");
    if (foreach) return ParseForeach(name, body, *foreach, out);
    if (const Node* d = body.Find("do"))
      return Bad(*d, field + ".do", "do without foreach; add foreach: [...] or move the fields of do up");
    if (matrix) return ParseMatrix(name, body, *matrix, out);
    Stage s;
    s.name = name;
    s.origin = Origin(body);
    RETURN_IF_ERROR(ParseBody(body, false, &s));
    return Add(std::move(s), out, body, field);
  }

  Status CheckName(const std::string& name, const Node& at) {
    bool ok = !name.empty();
    for (char c : name)
      ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '.' || c == '-');
    if (ok) return Status::Ok();
    return Bad(at, "stages." + Key(name),
               "stage names use letters, digits, '_', '.' and '-' ('@' names the stages of a foreach or "
               "matrix); rename the stage");
  }

  Status Add(Stage s, std::vector<Stage>* out, const Node& at, const std::string& field) {
    if (!names_.insert(s.name).second)
      return Bad(at, field, "two stages are named " + Quote(s.name) + "; make the foreach or matrix values distinct");
    out->push_back(std::move(s));
    return Status::Ok();
  }

  // foreach: [a, b] / {k: v} / "${a.list}", with the stage's fields under do:.
  Status ParseForeach(const std::string& name, const Node& body, const Node& foreach_node,
                      std::vector<Stage>* out) {
    std::string field = "stages." + name;
    for (const auto& [k, v] : body.entries())
      if (k != "foreach" && k != "do")
        return Bad(v, field + "." + Key(k),
                   "a foreach stage keeps its fields under do:; move " + Key(k) + " into do (or use matrix:)");
    const Node* body_do = body.Find("do");
    if (!body_do)
      return Bad(body, field, "foreach without do; write do: {cmd: ..., deps: [...]} with the stage's fields");
    if (!body_do->is_map())
      return Bad(*body_do, field + ".do",
                 std::string("expected the stage's fields (a mapping), got ") + KindPhrase(*body_do) +
                     "; write do: {cmd: ..., outs: [...]}");
    Node storage;
    ASSIGN_OR_RETURN(const Node* items, Resolved(foreach_node, field + ".foreach", &storage));
    const char* hint = "; write foreach: [a, b], foreach: {name: value}, or foreach: ${a.list.in.the.config}";
    if (!items->is_list() && !items->is_map())
      return Bad(foreach_node, field + ".foreach",
                 std::string("expected a list or a mapping, got ") + KindPhrase(*items) + hint);
    size_t n = items->is_list() ? items->items().size() : items->entries().size();
    if (n == 0) return Bad(foreach_node, field + ".foreach", std::string("is empty") + hint);
    // DVC names the stages of a list by index as soon as one value is a list or a mapping.
    bool by_index = dvc_ && items->is_list() &&
                    std::any_of(items->items().begin(), items->items().end(), [](const Node& v) { return !v.is_scalar(); });
    for (size_t i = 0; i < n; i++) {
      Stage s;
      s.origin = Origin(body);
      if (items->is_list()) {
        const Node& item = items->items()[i];
        s.name = name + "@" + (by_index ? std::to_string(i) : Suffix(item, i));
        in_.Bind(item, nullptr);
      } else {
        const auto& [k, item] = items->entries()[i];
        s.name = name + "@" + (NameSafe(k) ? k : std::to_string(i));
        Node key = Node::String(k);
        in_.Bind(item, &key);
      }
      Status st = ParseBody(*body_do, false, &s);
      in_.Unbind();
      RETURN_IF_ERROR(st);
      RETURN_IF_ERROR(Add(std::move(s), out, foreach_node, field + ".foreach"));
    }
    return Status::Ok();
  }

  // matrix: {a: [1, 2], b: [x, y]}: one stage per combination, item.a / item.b bound.
  Status ParseMatrix(const std::string& name, const Node& body, const Node& matrix_node,
                     std::vector<Stage>* out) {
    std::string field = "stages." + name + ".matrix";
    const char* hint = "; write matrix: {model: [a, b], lr: [0.1, 0.01]}";
    Node storage;
    ASSIGN_OR_RETURN(const Node* m, Resolved(matrix_node, field, &storage));
    if (!m->is_map() || m->entries().empty())
      return Bad(matrix_node, field,
                 std::string("expected a mapping of lists, got ") +
                     (m->is_map() ? "an empty mapping" : KindPhrase(*m)) + hint);
    size_t total = 1;
    for (const auto& [k, v] : m->entries()) {
      if (!v.is_list() || v.items().empty())
        return Bad(v, field + "." + Key(k),
                   std::string("expected a non-empty list of values, got ") +
                       (v.is_list() ? "an empty list" : KindPhrase(v)) + hint);
      total *= v.items().size();
      if (total > kMaxExpansion)
        return Bad(matrix_node, field,
                   "more than " + std::to_string(kMaxExpansion) + " combinations; make the lists shorter");
    }
    // An odometer over the lists, the last key turning fastest (itertools.product).
    std::vector<size_t> idx(m->entries().size(), 0);
    for (size_t done = 0; done < total; done++) {
      Node item = Node::Map();
      std::string suffix;
      for (size_t k = 0; k < idx.size(); k++) {
        const auto& [key, list] = m->entries()[k];
        const Node& v = list.items()[idx[k]];
        item.entries().emplace_back(key, v);
        if (k) suffix += '-';
        // DVC: a list or mapping value is named by its key and index (model0).
        suffix += dvc_ && !v.is_scalar() ? key + std::to_string(idx[k]) : Suffix(v, idx[k]);
      }
      Stage s;
      s.name = name + "@" + suffix;
      s.origin = Origin(body);
      Node key_node = Node::String(suffix);  // DVC binds key to the name's suffix in a matrix
      in_.Bind(item, dvc_ ? &key_node : nullptr);
      Status st = ParseBody(body, true, &s);
      in_.Unbind();
      RETURN_IF_ERROR(st);
      RETURN_IF_ERROR(Add(std::move(s), out, matrix_node, field));
      for (size_t k = idx.size(); k-- > 0;) {
        if (++idx[k] < m->entries()[k].second.items().size()) break;
        idx[k] = 0;
      }
    }
    return Status::Ok();
  }

  // Text usable in a stage name: printable, not empty, not too long.
  static bool NameSafe(std::string_view s) {
    if (s.empty() || s.size() > 100) return false;
    for (unsigned char c : s)
      if (c < 0x20 || c == 0x7f) return false;
    return true;
  }

  // A foreach / matrix value in a stage name: its text when it is a scalar,
  // else its index.
  std::string Suffix(const Node& v, size_t index) const {
    if (v.is_scalar()) {
      std::string t = dvc_ && v.is_null() ? "None" : *ScalarText(v);  // DVC's to_str is Python's str()
      if (NameSafe(t)) return t;
    }
    return std::to_string(index);
  }

  // A field's value with every interpolation in it resolved: `n` itself when
  // it has none, else a resolved copy in *storage. Each field is resolved
  // once, so the parsing below never meets "${" (an escaped "\${" has become
  // a literal "${").
  Result<const Node*> Resolved(const Node& n, const std::string& field, Node* storage) {
    if (!HasInterpolation(n)) return &n;
    auto r = in_.Resolve(n, std::string_view(field).substr(field.rfind('.') + 1));
    if (!r.ok()) return Bad(n, field, r.status().message());
    *storage = std::move(*r);
    Reorigin(*storage, n);
    return static_cast<const Node*>(storage);
  }

  // Gives every part of a resolved value the line of the part of the field it
  // came from: a value taken from the configuration is reported at the line
  // of forja.yaml that asked for it.
  static void Reorigin(Node& v, const Node& raw) {
    if (v.is_map() && raw.is_map() && v.entries().size() == raw.entries().size()) {
      v.set_origin(Origin(raw));
      for (size_t i = 0; i < v.entries().size(); i++) Reorigin(v.entries()[i].second, raw.entries()[i].second);
    } else if (v.is_list() && raw.is_list() && v.items().size() == raw.items().size()) {
      v.set_origin(Origin(raw));
      for (size_t i = 0; i < v.items().size(); i++) Reorigin(v.items()[i], raw.items()[i]);
    } else {
      v.SetOriginDeep(Origin(raw));
    }
  }

  // A mapping key that is a path (outs, params files): keys are not part of
  // the resolved value, so they are resolved on their own.
  Result<std::string> ResolvedKey(const std::string& key, const Node& at, const std::string& field) {
    if (key.find("${") == std::string::npos) return key;
    Node k = Node::String(key);
    k.set_origin(Origin(at));
    Node storage;
    ASSIGN_OR_RETURN(const Node* r, Resolved(k, field, &storage));
    return Text(*r, field, "a path", "write the path as a string");
  }

  // A path or a key: a string, or a number used as one (data/2024).
  Result<std::string> Text(const Node& n, const std::string& field, const char* what, const std::string& hint) {
    if (n.is_string()) return n.as_string();
    if (n.kind() == Node::Kind::kInt || n.kind() == Node::Kind::kFloat) return *ScalarText(n);
    return Bad(n, field, std::string("expected ") + what + ", got " + KindPhrase(n) + "; " + hint);
  }

  // The entries of a list field; a single string (or mapping) is one entry.
  Result<std::vector<const Node*>> Entries(const Node& n, const Node& at, const std::string& field,
                                           const std::string& hint) {
    std::vector<const Node*> out;
    if (n.is_list()) {
      out.reserve(n.items().size());
      for (const Node& c : n.items()) out.push_back(&c);
    } else if (n.is_string() || n.is_map()) {
      out.push_back(&n);
    } else if (!n.is_null()) {
      return Bad(at, field, std::string("expected a list, got ") + KindPhrase(n) + "; " + hint);
    }
    return out;
  }

  // The fields of one stage; `matrix`: the body also holds the matrix itself.
  Status ParseBody(const Node& body, bool matrix, Stage* s) {
    std::string field = "stages." + s->name + ".";
    Node storage;
    // wdir first: deps, outs and params files are relative to it.
    if (const Node* w = body.Find("wdir")) {
      ASSIGN_OR_RETURN(const Node* v, Resolved(*w, field + "wdir", &storage));
      ASSIGN_OR_RETURN(std::string wdir, Text(*v, field + "wdir", "a folder", "write wdir: src"));
      auto p = RepoPath("", wdir.empty() ? "." : wdir);
      if (!p.ok()) return Bad(*w, field + "wdir", p.status().message());
      s->wdir = std::move(*p);
    }
    // dvc.yaml: a stage's own vars, loaded relative to its wdir on top of the
    // document's (EntryDefinition.resolve_stage), for this stage only.
    std::optional<DvcContext> stage_ctx;
    const Node* outer = in_.dvc_context();
    struct Restore {
      Interpolator& in;
      const Node* ctx;
      ~Restore() { in.UseDvc(ctx); }
    } restore{in_, outer};
    if (const Node* vars = dvc_ ? body.Find("vars") : nullptr) {
      stage_ctx.emplace(*dvc_);
      stage_ctx->values = *outer;
      RETURN_IF_ERROR(LoadDvcVars(*vars, root_, s->wdir, field + "vars", &*stage_ctx));
      in_.UseDvc(&stage_ctx->values);
    }
    bool has_cmd = false;
    std::vector<Out> metrics, plots;
    for (const auto& [key, raw] : body.entries()) {
      std::string f = field + Key(key);
      // meta is free-form, for people (as in DVC); wdir is done; matrix is the caller's.
      if (key == "meta" || key == "wdir" || (matrix && key == "matrix") || (dvc_ && key == "vars")) continue;
      if (dvc_ && (key == "env" || key == "retries" || key == "timeout" || key == "resources"))
        return Bad(raw, f, "is a field of forja.yaml's stages, not of dvc.yaml (dvc repro would refuse it); "
                           "declare the stage in forja.yaml to use it");
      ASSIGN_OR_RETURN(const Node* v, Resolved(raw, f, &storage));
      if (key == "cmd") {
        has_cmd = true;
        RETURN_IF_ERROR(ParseCmd(*v, raw, f, s));
        RETURN_IF_ERROR(LockCmd(raw, f, s));
      } else if (key == "desc") {
        if (!v->is_string() && !v->is_null())
          return Bad(raw, f, std::string("expected a description (a string), got ") + KindPhrase(*v) +
                                 "; write desc: what the stage does");
      } else if (key == "deps") {
        RETURN_IF_ERROR(ParseDeps(*v, raw, f, s));
      } else if (key == "outs") {
        RETURN_IF_ERROR(ParseOuts(*v, raw, f, OutKind::kOut, s->wdir, &s->outs));
      } else if (key == "metrics") {
        RETURN_IF_ERROR(ParseOuts(*v, raw, f, OutKind::kMetrics, s->wdir, &metrics));
      } else if (key == "plots") {
        RETURN_IF_ERROR(ParseOuts(*v, raw, f, OutKind::kPlots, s->wdir, &plots));
      } else if (key == "params") {
        RETURN_IF_ERROR(dvc_ ? ParseDvcParams(*v, raw, f, s) : ParseParams(*v, raw, f, s));
      } else if (key == "env") {
        RETURN_IF_ERROR(ParseEnv(*v, raw, f, s));
      } else if (key == "retries") {
        RETURN_IF_ERROR(ParseRetries(*v, raw, f, &s->retries));
      } else if (key == "timeout") {
        ASSIGN_OR_RETURN(s->timeout_s, Duration(*v, raw, f, "timeout: 10m"));
      } else if (key == "resources") {
        RETURN_IF_ERROR(ParseResources(*v, raw, f, &s->resources));
      } else if (key == "always_changed") {
        ASSIGN_OR_RETURN(s->always_changed, Bool(*v, raw, f, "always_changed: true"));
      } else if (dvc_ && key == "frozen") {
        ASSIGN_OR_RETURN(s->frozen, Bool(*v, raw, f, "frozen: true"));
      } else {
        return Bad(raw, f, std::string("unknown key; a ") + (dvc_ ? "dvc.yaml " : "") + "stage has " +
                               (dvc_ ? kDvcStageKeys : kStageKeys) + " (and foreach with do, or matrix)");
      }
    }
    if (!has_cmd) return Bad(body, field + "cmd", "missing; every stage needs cmd: <the command to run>");
    for (auto* list : {&metrics, &plots})
      for (Out& o : *list) s->outs.push_back(std::move(o));
    return Status::Ok();
  }

  // In the functions below, `v` is the resolved value and `raw` the field as
  // written (its line is the one to report when `v` came from the config).

  Status ParseCmd(const Node& v, const Node& raw, const std::string& f, Stage* s) {
    const char* hint = "write cmd: python train.py, or a list of commands";
    auto one = [&](const Node& c, const Node& at, const char* what) -> Status {
      if (!c.is_string())
        return Bad(at, f, std::string("expected ") + what + ", got " + KindPhrase(c) + "; " + hint);
      if (c.as_string().find_first_not_of(" \t\n") == std::string::npos)
        return Bad(at, f, std::string(v.is_list() ? "a command is empty; " : "is empty; ") + hint);
      s->cmd.push_back(c.as_string());
      return Status::Ok();
    };
    if (!v.is_list()) return one(v, raw, "a command (a string) or a list of commands");
    if (v.items().empty()) return Bad(raw, f, std::string("the list is empty; ") + hint);
    for (const Node& e : v.items()) RETURN_IF_ERROR(one(e, e, "a command (a string)"));
    return Status::Ok();
  }

  // The command as forja.lock records it, when ${hydra:...} put a per-run
  // value (the output folder) in it: that value as written.
  Status LockCmd(const Node& raw, const std::string& f, Stage* s) {
    if (!in_.has_hydra() || dvc_ || !HasInterpolation(raw)) return Status::Ok();
    auto r = in_.Resolve(raw, "cmd", /*lock=*/true);
    if (!r.ok()) return Bad(raw, f, r.status().message());
    Stage view;
    RETURN_IF_ERROR(ParseCmd(*r, raw, f, &view));
    if (view.cmd != s->cmd) s->lock_cmd = std::move(view.cmd);
    return Status::Ok();
  }

  Status ParseDeps(const Node& v, const Node& raw, const std::string& f, Stage* s) {
    const std::string hint = "write deps: [data/raw, prepare.py]";
    ASSIGN_OR_RETURN(auto entries, Entries(v, raw, f, hint));
    for (const Node* e : entries) {
      ASSIGN_OR_RETURN(std::string p, Text(*e, f, "a path (a string)", hint));
      ASSIGN_OR_RETURN(std::string rel, Path(*e, f, s->wdir, p, "reads"));
      s->deps.push_back(Dep{std::move(rel), Origin(*e)});
    }
    return Status::Ok();
  }

  Result<std::string> Path(const Node& at, const std::string& f, const std::string& wdir, const std::string& p,
                           const char* verb) {
    auto rel = RepoPath(wdir, p);
    if (!rel.ok()) return Bad(at, f, rel.status().message());
    if (rel->empty())
      return Bad(at, f, Quote(p) + " is the whole repository; name the files and folders the stage " + verb);
    return rel;
  }

  // "path" or {path: {cache: bool, persist: bool}}.
  Status ParseOuts(const Node& v, const Node& raw, const std::string& f, OutKind kind, const std::string& wdir,
                   std::vector<Out>* outs) {
    std::string hint = "write " + f.substr(f.rfind('.') + 1) + ": [path, {path: {cache: false, persist: true}}]";
    ASSIGN_OR_RETURN(auto entries, Entries(v, raw, f, hint));
    for (const Node* e : entries) {
      Out o;
      o.kind = kind;
      o.origin = Origin(*e);
      std::string p;
      if (e->is_map()) {
        if (e->entries().size() != 1) return Bad(*e, f, "an entry is one path, with its options under it; " + hint);
        const auto& [path, opts] = e->entries()[0];
        ASSIGN_OR_RETURN(p, ResolvedKey(path, *e, f));
        RETURN_IF_ERROR(ParseOutOptions(opts, f + "." + Key(path), hint, &o));
      } else {
        ASSIGN_OR_RETURN(p, Text(*e, f, "a path (a string)", hint));
      }
      ASSIGN_OR_RETURN(o.path, Path(*e, f, wdir, p, "writes"));
      outs->push_back(std::move(o));
    }
    return Status::Ok();
  }

  Status ParseOutOptions(const Node& opts, const std::string& f, const std::string& hint, Out* o) {
    if (opts.is_null()) return Status::Ok();
    if (!opts.is_map())
      return Bad(opts, f, std::string("expected options (a mapping), got ") + KindPhrase(opts) + "; " + hint);
    for (const auto& [k, v] : opts.entries()) {
      if (k == "cache") {
        ASSIGN_OR_RETURN(o->cache, Bool(v, v, f + ".cache", "cache: false"));
      } else if (k == "persist") {
        ASSIGN_OR_RETURN(o->persist, Bool(v, v, f + ".persist", "persist: true"));
      } else if (o->kind == OutKind::kPlots && IsPlotOption(k)) {
        if (!o->plot.is_map()) o->plot = Node::Map();
        o->plot.Set(k, v);  // checked and drawn by forja plots (cli/cmd_plots.cc)
      } else if (dvc_ && DvcOutOption(k, v, o)) {
        // read (and ignored, with a notice when it changes what DVC would do)
      } else {
        return Bad(v, f + "." + Key(k), o->kind == OutKind::kPlots
                                            ? "unknown option; a plot has cache, persist, template, x, y, x_label, "
                                              "y_label and title"
                                            : "unknown option; an output has cache and persist");
      }
    }
    return Status::Ok();
  }

  // DVC's PLOT_PROPS (dvc/schema.py): the options of a plots: out.
  static bool IsPlotOption(const std::string& k) {
    return k == "template" || k == "x" || k == "y" || k == "x_label" || k == "y_label" || k == "title" ||
           k == "header";
  }

  // dvc.yaml's output options besides cache and persist (schema.py's
  // OUT_PSTAGE_DETAILED_SCHEMA and PLOT_PROPS): true when `k` is one of them.
  bool DvcOutOption(const std::string& k, const Node& v, Out* o) {
    static const std::unordered_set<std::string_view> kSilent = {
        "desc", "type", "labels", "meta",                                    // annotations, for people
        "template", "x", "y", "x_label", "y_label", "title", "header"};  // plot options on a non-plots out
    if (kSilent.count(k)) return true;
    if (k == "push") {  // honoured by forja push through forja.lock (runner.cc)
      if (v.kind() == Node::Kind::kBool) o->push = v.as_bool();
      return true;
    }
    if (k == "remote" && v.is_string() && IsRemoteName(v.as_string())) {
      o->remote = v.as_string();  // forja.lock keeps it; pull says so when forja.yaml lacks it
      return true;
    }
    if (k == "remote") {
      if (notices_) notices_->push_back(Origin(v) + ": remote: ignored (not a remote name: letters, digits, - _ .)");
      return true;
    }
    if (k == "checkpoint") {
      if (notices_) notices_->push_back(Origin(v) + ": " + k + ": ignored (forja has no per-output " + k + ")");
      return true;
    }
    return false;
  }

  // dvc.yaml's params (dvc/dependency/__init__.py, _merge_params): a key of
  // <wdir>/params.yaml, or {file: [keys]}; {file: } or {file: []} tracks the
  // whole file, and then its keys listed elsewhere are dropped.
  Status ParseDvcParams(const Node& v, const Node& raw, const std::string& f, Stage* s) {
    const std::string hint = "write params: [train.lr, {other.yaml: [seed]}, {all.yaml: }]";
    ASSIGN_OR_RETURN(auto entries, Entries(v, raw, f, hint));
    std::unordered_set<std::string> whole, added;
    for (const Node* e : entries)
      if (e->is_map())
        for (const auto& [file, keys] : e->entries())
          if (keys.is_null() || (keys.is_list() && keys.items().empty())) whole.insert(file);
    auto add_file = [&](const Node& at, const std::string& file) -> Result<std::string> {
      std::string lower = file;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower.ends_with(".toml") || lower.ends_with(".py"))
        return Bad(at, f, Quote(file) + " is a " + (lower.ends_with(".py") ? "Python" : "TOML") +
                              " params file; forja reads YAML and JSON ones: convert it to YAML");
      ASSIGN_OR_RETURN(std::string rel, Path(at, f, s->wdir, file, "reads"));
      if (whole.count(file) && added.insert(rel).second) s->params.push_back(Param{rel, "", Origin(at)});
      return rel;
    };
    for (const Node* e : entries) {
      if (e->is_map()) {
        for (const auto& [file_key, keys] : e->entries()) {
          ASSIGN_OR_RETURN(std::string file, ResolvedKey(file_key, *e, f));
          ASSIGN_OR_RETURN(std::string rel, add_file(*e, file));
          if (whole.count(file)) continue;
          std::string fk = f + "." + Key(file_key);
          if (!keys.is_list())
            return Bad(keys, fk, std::string("expected a list of keys, got ") + KindPhrase(keys) + "; " + hint);
          for (const Node& k : keys.items()) {
            ASSIGN_OR_RETURN(std::string key, Text(k, fk, "a key", hint));
            RETURN_IF_ERROR(CheckKey(k, f, key, hint));
            s->params.push_back(Param{rel, std::move(key), Origin(k)});
          }
        }
        continue;
      }
      ASSIGN_OR_RETURN(std::string key, Text(*e, f, "a key", hint));
      if (key.find(':') != std::string::npos)
        return Bad(*e, f, Quote(key) + ": in dvc.yaml a string is a key of params.yaml; for a key of another file write - " +
                              Key(key.substr(0, key.find(':'))) + ": [" + Key(key.substr(key.find(':') + 1)) + "]");
      RETURN_IF_ERROR(CheckKey(*e, f, key, hint));
      ASSIGN_OR_RETURN(std::string rel, add_file(*e, "params.yaml"));
      if (whole.count("params.yaml")) continue;
      s->params.push_back(Param{rel, std::move(key), Origin(*e)});
    }
    return Status::Ok();
  }

  // "key" (the configuration), "file.yaml:key", or {file.yaml: [keys]}.
  Status ParseParams(const Node& v, const Node& raw, const std::string& f, Stage* s) {
    const std::string hint = "write params: [train.lr, params.yaml:seed, {params.yaml: [a, b]}]";
    ASSIGN_OR_RETURN(auto entries, Entries(v, raw, f, hint));
    for (const Node* e : entries) {
      if (e->is_map()) {
        for (const auto& [file_key, keys] : e->entries()) {
          ASSIGN_OR_RETURN(std::string file, ResolvedKey(file_key, *e, f));
          RETURN_IF_ERROR(CheckParamsFile(*e, f, file, hint));
          ASSIGN_OR_RETURN(std::string rel, Path(*e, f, s->wdir, file, "reads"));
          std::string fk = f + "." + Key(file_key);
          ASSIGN_OR_RETURN(auto key_nodes, Entries(keys, keys, fk, hint));
          // (An empty value's line is the next one: report the entry's.)
          if (key_nodes.empty()) return Bad(keys.is_null() ? *e : keys, fk, "expected a list of keys; " + hint);
          for (const Node* k : key_nodes) {
            ASSIGN_OR_RETURN(std::string key, Text(*k, fk, "a key", hint));
            RETURN_IF_ERROR(CheckKey(*k, f, key, hint));
            s->params.push_back(Param{rel, std::move(key), Origin(*k)});
          }
        }
        continue;
      }
      ASSIGN_OR_RETURN(std::string text, Text(*e, f, "a key", hint));
      size_t colon = text.find(':');
      if (colon == std::string::npos) {
        RETURN_IF_ERROR(CheckKey(*e, f, text, hint));
        if (!cfg_.Select(text))
          return Bad(*e, f,
                     Quote(text) + " is not a key of the composed configuration" +
                         (cfg_.is_map() && !cfg_.entries().empty() ? "" : " (the project has none)") +
                         "; check the name (forja config show lists the keys), or write file.yaml:" + text +
                         " for a key of a file");
        s->params.push_back(Param{"", std::move(text), Origin(*e)});
        continue;
      }
      std::string file = text.substr(0, colon), key = text.substr(colon + 1);
      RETURN_IF_ERROR(CheckParamsFile(*e, f, file, hint));
      RETURN_IF_ERROR(CheckKey(*e, f, key, hint));
      ASSIGN_OR_RETURN(std::string rel, Path(*e, f, s->wdir, file, "reads"));
      s->params.push_back(Param{std::move(rel), std::move(key), Origin(*e)});
    }
    return Status::Ok();
  }

  Status CheckParamsFile(const Node& at, const std::string& f, const std::string& file, const std::string& hint) {
    if (file.ends_with(".yaml") || file.ends_with(".yml") || file.ends_with(".json")) return Status::Ok();
    return Bad(at, f, Quote(file) + " is not a .yaml, .yml or .json file; " + hint);
  }

  Status CheckKey(const Node& at, const std::string& f, const std::string& key, const std::string& hint) {
    bool ok = !key.empty() && key.front() != '.' && key.back() != '.' && key.find("..") == std::string::npos;
    for (char c : key) ok = ok && static_cast<unsigned char>(c) > ' ';
    if (ok) return Status::Ok();
    return Bad(at, f, Quote(key) + " is not a dotted key such as train.lr; " + hint);
  }

  Status ParseEnv(const Node& v, const Node& raw, const std::string& f, Stage* s) {
    const char* hint = "write env: {OMP_NUM_THREADS: \"1\"}";
    if (!v.is_map())
      return Bad(raw, f, std::string("expected a mapping of variables to values, got ") + KindPhrase(v) + "; " + hint);
    for (const auto& [name, value] : v.entries()) {
      bool ok = !name.empty() && !(name[0] >= '0' && name[0] <= '9');
      for (char c : name)
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
      if (!ok)
        return Bad(value, f, Quote(name) + " is not an environment variable name (letters, digits, '_'); " + hint);
      if (!value.is_scalar() || value.is_null())  // (an empty value's line is the next one)
        return Bad(value.is_null() ? v : value, f + "." + name, std::string("expected a value, got ") + KindPhrase(value) + "; " + hint);
      s->env.emplace_back(name, *ScalarText(value));
    }
    return Status::Ok();
  }

  // 3, or {count: 3, delay: 1s, backoff: 2, max_delay: 60s, jitter: 0.2}.
  Status ParseRetries(const Node& v, const Node& raw, const std::string& f, Retries* r) {
    const char* hint = "write retries: 3 or retries: {count: 3, delay: 10s, backoff: 2}";
    if (v.kind() == Node::Kind::kInt) return Count(v, raw, f, hint, &r->count);
    if (!v.is_map())
      return Bad(raw, f, std::string("expected a count or a mapping, got ") + KindPhrase(v) + "; " + hint);
    for (const auto& [k, e] : v.entries()) {
      std::string fk = f + "." + Key(k);
      if (k == "count") {
        if (e.kind() != Node::Kind::kInt)
          return Bad(e, fk, std::string("expected a number of retries, got ") + KindPhrase(e) + "; " + hint);
        RETURN_IF_ERROR(Count(e, e, fk, hint, &r->count));
      } else if (k == "delay") {
        ASSIGN_OR_RETURN(r->delay_s, Duration(e, e, fk, "retries: {delay: 10s}"));
      } else if (k == "max_delay") {
        ASSIGN_OR_RETURN(r->max_delay_s, Duration(e, e, fk, "retries: {max_delay: 5m}"));
      } else if (k == "backoff") {
        ASSIGN_OR_RETURN(r->backoff, Number(e, fk, 1, 1000, "a factor of at least 1", "retries: {backoff: 2}"));
      } else if (k == "jitter") {
        ASSIGN_OR_RETURN(r->jitter, Number(e, fk, 0, 1, "a fraction from 0 to 1", "retries: {jitter: 0.2}"));
      } else {
        return Bad(e, fk, "unknown key; retries has count, delay, backoff, max_delay and jitter");
      }
    }
    return Status::Ok();
  }

  // {cpus: 4, mem: 16G, gpus: 1, time: 2h, constraint: a100}: what a cluster executor requests.
  Status ParseResources(const Node& v, const Node& raw, const std::string& f, Resources* r) {
    const char* hint = "write resources: {cpus: 4, mem: 16G, gpus: 1, time: 2h, constraint: a100}";
    if (!v.is_map()) return Bad(raw, f, std::string("expected a mapping, got ") + KindPhrase(v) + "; " + hint);
    for (const auto& [k, e] : v.entries()) {
      std::string fk = f + "." + Key(k);
      if (k == "cpus" || k == "gpus") {
        if (e.kind() != Node::Kind::kInt || e.as_int() < (k == "cpus" ? 1 : 0) || e.as_int() > 100000)
          return Bad(e, fk, std::string("expected a whole number") + (k == "cpus" ? " of at least 1" : "") + "; " + hint);
        (k == "cpus" ? r->cpus : r->gpus) = static_cast<int>(e.as_int());
      } else if (k == "mem") {
        // Slurm's units: a number of megabytes, or digits with K, M, G or T.
        std::string m = e.kind() == Node::Kind::kInt && e.as_int() > 0 ? std::to_string(e.as_int()) + "M"
                        : e.is_string() ? e.as_string() : "";
        bool ok = m.size() >= 2 && m.size() <= 20 && std::string_view("KMGT").find(m.back()) != std::string_view::npos;
        for (size_t i = 0; ok && i + 1 < m.size(); i++) ok = m[i] >= '0' && m[i] <= '9';
        if (!ok) return Bad(e, fk, "expected an amount such as 512M or 16G (K, M, G, T), or megabytes; " + std::string(hint));
        r->mem = m;
      } else if (k == "time") {
        ASSIGN_OR_RETURN(r->time_s, Duration(e, e, fk, "resources: {time: 2h}"));
      } else if (k == "constraint") {
        bool ok = e.is_string() && !e.as_string().empty() && e.as_string()[0] != '-';
        if (ok)
          for (char c : e.as_string()) ok = ok && static_cast<unsigned char>(c) > ' ';
        if (!ok) return Bad(e, fk, "expected node features such as a100 or 'a100|h100' (no spaces); " + std::string(hint));
        r->constraint = e.as_string();
      } else {
        return Bad(e, fk, "unknown key; resources has cpus, mem, gpus, time and constraint");
      }
    }
    return Status::Ok();
  }

  Status Count(const Node& n, const Node& at, const std::string& f, const char* hint, int* out) {
    if (n.as_int() < 0 || n.as_int() > 1000)
      return Bad(at, f, std::to_string(n.as_int()) + " is not a number of retries from 0 to 1000; " + hint);
    *out = static_cast<int>(n.as_int());
    return Status::Ok();
  }

  Result<double> Number(const Node& n, const std::string& f, double lo, double hi, const char* what,
                        const char* example) {
    double x = 0;
    if (n.kind() == Node::Kind::kInt) {
      x = static_cast<double>(n.as_int());
    } else if (n.kind() == Node::Kind::kFloat) {
      x = n.as_float();
    } else {
      return Bad(n, f, std::string("expected ") + what + ", got " + KindPhrase(n) + "; write " + example);
    }
    if (!(x >= lo && x <= hi)) return Bad(n, f, *ScalarText(n) + " is not " + what + "; write " + example);
    return x;
  }

  // Seconds: a number, or "500ms", "30s", "10m", "2h".
  Result<double> Duration(const Node& n, const Node& at, const std::string& f, const char* example) {
    if (n.kind() == Node::Kind::kInt || n.kind() == Node::Kind::kFloat) {
      double x = n.kind() == Node::Kind::kInt ? static_cast<double>(n.as_int()) : n.as_float();
      if (!std::isfinite(x) || x < 0)
        return Bad(at, f, *ScalarText(n) + " is not a duration; write seconds (30) or 500ms, 30s, 10m, 2h");
      return x;
    }
    if (!n.is_string())
      return Bad(at, f, std::string("expected a duration, got ") + KindPhrase(n) + "; write " + example);
    auto d = ParseDurationText(n.as_string());
    if (!d.ok()) return Bad(at, f, d.status().message());
    return d;
  }

  Result<bool> Bool(const Node& n, const Node& at, const std::string& f, const char* example) {
    if (n.kind() != Node::Kind::kBool)
      return Bad(at, f, std::string("expected true or false, got ") + KindPhrase(n) + "; write " + example);
    return n.as_bool();
  }

  const Node& cfg_;
  Interpolator in_;
  std::unordered_set<std::string> names_;
  const DvcContext* dvc_ = nullptr;  // dvc.yaml's stages (the document's context)
  std::string root_;
  std::vector<std::string>* notices_ = nullptr;
};

// Words a shell gives a meaning to when they come first: exec'ing them
// directly would fail or do something else (as GNU make's list).
bool IsShellWord(std::string_view w) {
  static const std::unordered_set<std::string_view> kWords = {
      "!",     ".",      ":",        "[",      "{",      "}",      "alias",  "break", "case",  "cd",
      "continue", "do",  "done",     "elif",   "else",   "esac",   "eval",   "exec",  "exit",  "export",
      "fi",    "for",    "function", "getopts", "hash",  "if",     "read",   "readonly", "return", "set",
      "shift", "source", "test",     "then",   "times",  "trap",   "type",   "ulimit", "umask", "unset",
      "until", "wait",   "while"};
  return kWords.count(w) > 0;
}

}  // namespace

std::string Quote(std::string_view s) {
  std::string out = "'";
  for (unsigned char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "'";
}

std::string Stage::Script() const {
  std::string s;
  for (const auto& c : cmd) {
    if (!s.empty()) s += " && ";
    s += c;
  }
  return s;
}

Result<std::vector<Stage>> ParseStages(const config::Node& doc, const config::Node& cfg, const config::Node* hydra,
                                       const config::Node* lock_cfg) {
  std::vector<Stage> out;
  if (doc.is_null()) return out;
  if (!doc.is_map())
    return Status::User(Origin(doc) + ": expected a mapping of sections (stages:, config: ...), got " +
                        KindPhrase(doc) + "; see forja init's forja.yaml");
  const Node* stages = doc.Find("stages");
  if (!stages || stages->is_null()) return out;
  if (!stages->is_map())
    return Bad(*stages, "stages",
               std::string("expected a mapping of stage names to stages, got ") + KindPhrase(*stages) +
                   "; write stages: {train: {cmd: python train.py}}");
  StageParser parser(cfg, hydra, lock_cfg);
  RETURN_IF_ERROR(parser.ParseAll(*stages, &out));
  return out;
}

Result<std::vector<Stage>> ParseDvcStages(const config::Node& stages, const DvcContext& context,
                                          const std::string& root, std::vector<std::string>* notices) {
  std::vector<Stage> out;
  StageParser parser(context, root, notices);
  RETURN_IF_ERROR(parser.ParseAll(stages, &out));
  return out;
}

bool NeedsShell(const std::string& cmd) {
  if (cmd.find_first_of("'\"$|&;<>*?[~()`#\\\n\t\r") != std::string::npos) return true;
  // The first word: a shell keyword or builtin, or an assignment (VAR=1 cmd).
  size_t b = cmd.find_first_not_of(' ');
  if (b == std::string::npos) return true;
  size_t e = cmd.find(' ', b);
  std::string_view first = std::string_view(cmd).substr(b, e == std::string::npos ? std::string::npos : e - b);
  return first.find('=') != std::string_view::npos || IsShellWord(first);
}

}  // namespace forja::pipeline
