#include "forja/config/compose.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <unordered_map>

#include "forja/config/py_values.h"
#include "forja/config/sweep.h"
#include "forja/core/fs.h"
#include "forja/core/strings.h"

namespace forja::config {

namespace {

std::string Quoted(const Override& o) { return "override '" + o.input + "'"; }

constexpr size_t kMaxJobs = 1000000;


const char* DictOrList(const Node& n) { return n.is_map() ? "dict" : "list"; }

// ---- merge (OmegaConf.merge for untyped configs) --------------------------------

enum class MergeFail { kNone, kNotInStruct, kTypeMismatch };

struct MergeState {
  const Node* root = nullptr;  // the whole config, for dereferencing an interpolation
  bool struct_mode = false;    // a key missing in the destination is an error
  MergeFail fail = MergeFail::kNone;
  std::string key;     // the full key where it failed
  std::string detail;  // what failed
  std::string origin;  // where the value that could not be merged comes from
};

std::string JoinKey(const std::string& path, const std::string& k) { return path.empty() ? k : path + "." + k; }

bool MergeValue(Node& d, Node&& s, std::string& path, MergeState& st);

bool MergeMaps(Node& d, Node&& s, std::string& path, MergeState& st) {
  for (auto& [k, v] : s.entries()) {
    Node* x = d.Find(k);
    if (!x) {
      if (st.struct_mode) {
        st.fail = MergeFail::kNotInStruct;
        st.key = JoinKey(path, k);
        return false;
      }
      d.entries().emplace_back(k, std::move(v));
      continue;
    }
    size_t len = path.size();
    if (!path.empty()) path += '.';
    path += k;
    bool ok = MergeValue(*x, std::move(v), path, st);
    path.resize(len);
    if (!ok) return false;
  }
  return true;
}

bool Mismatch(const Node& d, const Node& s, const std::string& path, MergeState& st) {
  st.fail = MergeFail::kTypeMismatch;
  st.key = path;
  st.origin = s.origin();
  st.detail = std::string("cannot merge a ") + DictOrList(s) + " into a " + DictOrList(d) + " at '" + path + "'";
  if (!d.origin().empty()) st.detail += std::string(" (the ") + DictOrList(d) + " is from " + d.origin() + ")";
  return false;
}

bool MergeValue(Node& d, Node&& s, std::string& path, MergeState& st) {
  if (s.is_missing()) return true;  // ??? never replaces a value
  if (d.is_map()) {
    if (s.is_map()) return MergeMaps(d, std::move(s), path, st);
    if (s.is_list()) return Mismatch(d, s, path, st);
    d = std::move(s);
    return true;
  }
  if (d.is_list()) {
    if (s.is_map()) return Mismatch(d, s, path, st);
    d = std::move(s);
    return true;
  }
  // An interpolation that points at a dict or list is replaced by (a copy of)
  // what it points at, and merged into, as OmegaConf does.
  if ((s.is_map() || s.is_list()) && d.has_interpolation() && st.root) {
    auto target = ResolveValue(*st.root, path);
    if (target.ok() && (target->is_map() || target->is_list())) {
      d = std::move(*target);
      return MergeValue(d, std::move(s), path, st);
    }
  }
  d = std::move(s);
  return true;
}

// ---- Python's equality, for `~key=value` ---------------------------------------

bool IsNumber(const Node& n) {
  return n.kind() == Node::Kind::kBool || n.kind() == Node::Kind::kInt || n.kind() == Node::Kind::kFloat;
}
double AsDouble(const Node& n) {
  if (n.kind() == Node::Kind::kBool) return n.as_bool() ? 1 : 0;
  if (n.kind() == Node::Kind::kInt) return static_cast<double>(n.as_int());
  return n.as_float();
}

bool PyEq(const Node& a, const Node& b) {
  if (IsNumber(a) && IsNumber(b)) {
    if (a.kind() != Node::Kind::kFloat && b.kind() != Node::Kind::kFloat)
      return (a.kind() == Node::Kind::kBool ? a.as_bool() : a.as_int()) ==
             (b.kind() == Node::Kind::kBool ? b.as_bool() : b.as_int());
    return AsDouble(a) == AsDouble(b);
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Node::Kind::kNull: return true;
    case Node::Kind::kString: return a.as_string() == b.as_string();
    case Node::Kind::kList:
      if (a.items().size() != b.items().size()) return false;
      for (size_t i = 0; i < a.items().size(); i++)
        if (!PyEq(a.items()[i], b.items()[i])) return false;
      return true;
    case Node::Kind::kMap:
      if (a.entries().size() != b.entries().size()) return false;
      for (const auto& [k, v] : a.entries()) {
        const Node* o = b.Find(k);
        if (!o || !PyEq(v, *o)) return false;
      }
      return true;
    default: return false;
  }
}

// ---- applying overrides ---------------------------------------------------------

std::vector<std::string> SplitKey(const std::string& key) { return PySplit(key, '.'); }

std::optional<size_t> ListIndex(const std::string& part) {
  size_t idx = 0;
  auto r = std::from_chars(part.data(), part.data() + part.size(), idx);
  if (part.empty() || r.ec != std::errc() || r.ptr != part.data() + part.size()) return std::nullopt;
  return idx;
}

// OmegaConf.select(cfg, key, throw_on_missing=False): the value, resolved; null
// when absent, null or ???.
Result<std::optional<Node>> SelectResolved(const Node& cfg, const std::string& key, const ResolveOptions& ro) {
  const Node* n = cfg.Select(key);
  if (!n || n->is_null() || n->is_missing()) return std::optional<Node>();
  if (!n->has_interpolation() && n->is_scalar()) return std::optional<Node>(*n);
  ASSIGN_OR_RETURN(Node v, ResolveValue(cfg, key, ro));
  if (v.is_null() || v.is_missing()) return std::optional<Node>();
  return std::optional<Node>(std::move(v));
}

class OverrideApplier {
 public:
  OverrideApplier(Node& cfg, const ResolveOptions& ro) : cfg_(cfg), ro_(ro) {}

  Status Apply(const Override& o) {
    std::string where = Quoted(o);
    if (o.package) {
      return Status::User(where + ": '" + o.key + "' is not a config group (no folder " + o.key +
                          "/ in the config folder), so '@" + *o.package + "' has no meaning; forja config groups "
                          "lists the groups");
    }
    const std::string& key = o.key;
    Node value;
    if (o.value) {
      value = o.value->node();
      value.SetOriginDeep(where);
    }
    switch (o.op) {
      case Override::Op::kDelete: return Delete(o, where, value);
      case Override::Op::kAdd: {
        auto existing = SelectResolved(cfg_, key, ro_);
        if (!existing.ok())
          return Status::User(where + ": cannot read '" + key + "': " + existing.status().message());
        if (*existing && value.is_scalar()) {
          std::string rest = o.input.substr(1);
          return Status::User(where + ": Could not append to config: an item is already at '" + key +
                              "'; to change it use " + rest + ", or ++" + rest + " to add or change");
        }
        return Update(o, where, std::move(value), true);
      }
      case Override::Op::kForceAdd: return Update(o, where, std::move(value), true);
      case Override::Op::kChange: return Update(o, where, std::move(value), false);
    }
    return Status::Ok();
  }

 private:
  Status Delete(const Override& o, const std::string& where, const Node& value) {
    const std::string& key = o.key;
    auto current = SelectResolved(cfg_, key, ro_);
    if (!current.ok())
      return Status::User(where + ": Could not delete '" + key + "': its value cannot be read (" +
                          current.status().message() + "); set it instead, e.g. " + key + "=null");
    if (!*current) {
      const Node* raw = cfg_.Select(key);
      return Status::User(where + ": Could not delete '" + key + "': the key is not in the config" +
                          (raw ? std::string(" (its value is ") + (raw->is_null() ? "null" : "???") +
                                     ", which counts as absent)"
                               : "") +
                          "; forja config show lists the keys");
    }
    if (o.value && !value.is_null() && !PyEq(value, **current)) {
      return Status::User(where + ": Could not delete '" + key + "': its value is " + PyStr(**current) + ", not " +
                          PyStr(value) + "; write ~" + key + " to delete it whatever its value");
    }
    size_t dot = key.rfind('.');
    Node* parent = dot == std::string::npos ? &cfg_ : cfg_.Select(key.substr(0, dot));
    std::string last = dot == std::string::npos ? key : key.substr(dot + 1);
    if (parent && parent->is_map()) {
      parent->Erase(last);
    } else if (parent && parent->is_list()) {
      auto idx = ListIndex(last);
      if (idx && *idx < parent->items().size()) parent->items().erase(parent->items().begin() + *idx);
    }
    return Status::Ok();
  }

  Status NotFound(const Override& o, const std::string& where, const std::string& missing) {
    std::string msg = where + ": Could not override '" + o.key + "': ";
    if (missing == o.key) msg += "the key is not in the config";
    else msg += "'" + missing + "' is not in the config";
    return Status::User(msg + "; to add it use +" + o.input);
  }

  Status MergeFailed(const std::string& where, const std::string& what) {
    return Status::User(where + ": Error merging override: " + what);
  }

  // OmegaConf.update(cfg, key, value, merge=True, force_add=force) on a
  // struct config.
  Status Update(const Override& o, const std::string& where, Node value, bool force) {
    std::vector<std::string> parts = SplitKey(o.key);
    Node* root = &cfg_;
    std::string path;
    for (size_t i = 0; i + 1 < parts.size(); i++) {
      const std::string& k = parts[i];
      path = JoinKey(path, k);
      Node* next = nullptr;
      if (root->is_map()) {
        next = root->Find(k);
        if (!next || !(next->is_map() || next->is_list())) {
          if (!next && !force) return NotFound(o, where, path);
          next = &root->Set(k, Node::Map());
          next->set_origin(where);
        }
      } else {
        auto idx = ListIndex(k);
        if (!idx) return MergeFailed(where, "'" + k + "' in '" + path + "' is not a list index");
        if (*idx >= root->items().size())
          return MergeFailed(where, "list index " + k + " is out of range at '" + path + "' (the list has " +
                                        std::to_string(root->items().size()) + " items)");
        next = &root->items()[*idx];
        if (!(next->is_map() || next->is_list())) {
          *next = Node::Map();
          next->set_origin(where);
        }
      }
      root = next;
    }
    const std::string& last = parts.back();
    std::string full = JoinKey(path, last);
    std::optional<size_t> idx;
    if (root->is_list()) {
      idx = ListIndex(last);
      if (!idx) return MergeFailed(where, "'" + last + "' is not a list index ('" + path + "' is a list)");
    }
    if (value.is_map() || value.is_list()) {
      Node* child = nullptr;
      if (root->is_map()) child = root->Find(last);
      else if (*idx < root->items().size()) child = &root->items()[*idx];
      if (child && (child->is_map() || child->is_list())) {
        MergeState st;
        st.root = &cfg_;
        st.struct_mode = !force;
        if (!MergeValue(*child, std::move(value), full, st)) {
          if (st.fail == MergeFail::kNotInStruct) return NotFound(o, where, st.key);
          return MergeFailed(where, st.detail);
        }
        return Status::Ok();
      }
    }
    if (root->is_map()) {
      if (!force && !root->Find(last)) return NotFound(o, where, full);
      root->Set(last, std::move(value));
    } else {
      if (*idx >= root->items().size())
        return MergeFailed(where, "list index " + last + " is out of range at '" + full + "' (the list has " +
                                      std::to_string(root->items().size()) + " items)");
      root->items()[*idx] = std::move(value);
    }
    return Status::Ok();
  }

  Node& cfg_;
  const ResolveOptions& ro_;
};

// ---- explain --------------------------------------------------------------------

// What one config (at its package) does to `key`: sets it, or replaces an
// ancestor of it with a non-container.
void RecordConfigStep(const Node& content, const ResultDefault& rd, const std::string& key,
                      std::vector<Step>* history) {
  std::string what = rd.config_path + (rd.primary ? " (primary config)" : "") +
                     (rd.package.empty() ? "" : " (package " + rd.package + ")");
  if (const Node* n = content.Select(key)) {
    history->push_back(Step{n->origin().empty() ? rd.file : n->origin(), what, *n});
    return;
  }
  std::vector<std::string> parts = SplitKey(key);
  std::string prefix;
  for (size_t i = 0; i + 1 < parts.size(); i++) {
    prefix = JoinKey(prefix, parts[i]);
    const Node* n = content.Select(prefix);
    if (!n) return;
    if (!n->is_map() && !n->is_list()) {
      history->push_back(Step{n->origin().empty() ? rd.file : n->origin(), what + ", replacing " + prefix, *n});
      return;
    }
  }
}

bool Related(const std::string& a, const std::string& b) {
  if (a == b) return true;
  if (a.size() > b.size()) return IsUnder(a, b, '.');
  return b.size() > a.size() && IsUnder(b, a, '.');
}

// When resolution fails, finds the first value that cannot be resolved, so the
// error can name its file and line.
void FindUnresolvable(const Node& root, const Node& n, std::string& path, const ResolveOptions& ro,
                      std::string* origin) {
  if (!origin->empty()) return;
  if (n.is_map()) {
    for (const auto& [k, v] : n.entries()) {
      size_t len = path.size();
      path = JoinKey(path, k);
      FindUnresolvable(root, v, path, ro, origin);
      path.resize(len);
      if (!origin->empty()) return;
    }
  } else if (n.is_list()) {
    for (size_t i = 0; i < n.items().size(); i++) {
      size_t len = path.size();
      path = JoinKey(path, std::to_string(i));
      FindUnresolvable(root, n.items()[i], path, ro, origin);
      path.resize(len);
      if (!origin->empty()) return;
    }
  } else if (n.has_interpolation()) {
    if (!ResolveValue(root, path, ro).ok()) *origin = n.origin().empty() ? "?" : n.origin();
  }
}

bool MentionsHydraResolver(const Node& n) {
  if (n.is_map()) {
    for (const auto& e : n.entries())
      if (MentionsHydraResolver(e.second)) return true;
  } else if (n.is_list()) {
    for (const Node& x : n.items())
      if (MentionsHydraResolver(x)) return true;
  } else if (n.is_string()) {
    return n.as_string().find("hydra:") != std::string::npos && n.has_interpolation();
  }
  return false;
}

// Takes the configs' `hydra:` section out of cfg and builds the hydra node
// from it, the hydra overrides and what the composition chose.
Status MakeHydraNode(const ComposeOptions& opts, Composed& c, const DefaultsList& dl,
                     const std::vector<Override>& hydra_overrides, const ResolveOptions& ro, Node& cfg) {
  Node user_hydra;
  if (Node* h = cfg.Find("hydra")) user_hydra = std::move(*h);
  cfg.Erase("hydra");
  c.uses_hydra = !hydra_overrides.empty() || !dl.hydra_choices.empty() ||
                 (user_hydra.is_map() && !user_hydra.entries().empty()) || MentionsHydraResolver(cfg);
  HydraInputs in;
  in.user_hydra = &user_hydra;
  in.task_overrides = c.OverrideTexts();
  for (const Override& o : c.overrides) in.override_keys.push_back(o.key);
  in.user_choices = &dl.choices;
  in.hydra_choices = dl.hydra_choices;
  in.config_name = opts.config_name;
  std::vector<std::string> ignored = IgnoredHydraSections(&user_hydra);
  for (const auto& [group, option] : dl.hydra_choices) ignored.push_back(group + ": " + option);
  for (const Override& o : hydra_overrides) {
    if (o.key.starts_with("hydra/")) {
      std::string option = o.value && o.value->node().is_string() ? o.value->node().as_string() : "null";
      in.hydra_choices.emplace_back(o.key, option);
      ignored.push_back(o.input);
    }
    in.hydra_overrides.push_back(&o);
  }
  HydraRunInfo run = opts.hydra_run;
  if (opts.multirun) run.multirun = true;
  ASSIGN_OR_RETURN(Node hydra, BuildHydraNode(in, run));
  // Resolved beside the config, as Hydra has it; then kept apart.
  cfg.Set("hydra", std::move(hydra));
  Status st = FinishHydraNode(cfg, ro, run.output_base);
  c.hydra = std::move(*cfg.Find("hydra"));
  cfg.Erase("hydra");
  RETURN_IF_ERROR(st);
  NoteIgnoredHydra(ignored);
  return Status::Ok();
}

}  // namespace

std::string Composed::Origin(std::string_view key) const {
  const Node* n = config.Select(key);
  return n ? n->origin() : "";
}

std::vector<std::string> Composed::OverrideTexts() const {
  std::vector<std::string> out;
  out.reserve(overrides.size());
  for (const auto& o : overrides) out.push_back(o.input);
  return out;
}

Result<Node> Composed::Get(std::string_view key) const {
  const Node* n = config.Select(key);
  if (!n) return Status::User("'" + std::string(key) + "' is not in the composed config; forja config show lists the keys");
  std::string where = n->origin().empty() ? std::string(key) : n->origin();
  if (n->is_missing())
    return Status::User(where + ": " + std::string(key) + " is missing (\?\?\?); set it with an override such as " +
                        std::string(key) + "=VALUE");
  if (resolved || (!n->has_interpolation() && n->is_scalar())) return *n;
  auto v = ResolveValue(config, key, HydraResolveOptions());
  if (!v.ok()) return Status::User(where + ": " + v.status().message());
  return std::move(*v);
}

namespace {
Status WrongType(const Composed& c, std::string_view key, const Node& v, const char* want) {
  const Node* n = c.config.Select(key);
  std::string where = n && !n->origin().empty() ? n->origin() : std::string(key);
  return Status::User(where + ": " + std::string(key) + " is a " + v.KindName() + " (" + PyRepr(v) + "), not " + want);
}
}  // namespace

Result<int64_t> Composed::GetInt(std::string_view key) const {
  ASSIGN_OR_RETURN(Node v, Get(key));
  if (v.kind() != Node::Kind::kInt) return WrongType(*this, key, v, "an int");
  return v.as_int();
}

Result<double> Composed::GetFloat(std::string_view key) const {
  ASSIGN_OR_RETURN(Node v, Get(key));
  if (v.kind() == Node::Kind::kInt) return static_cast<double>(v.as_int());
  if (v.kind() != Node::Kind::kFloat) return WrongType(*this, key, v, "a float");
  return v.as_float();
}

Result<bool> Composed::GetBool(std::string_view key) const {
  ASSIGN_OR_RETURN(Node v, Get(key));
  if (v.kind() != Node::Kind::kBool) return WrongType(*this, key, v, "a bool");
  return v.as_bool();
}

Result<std::string> Composed::GetString(std::string_view key) const {
  ASSIGN_OR_RETURN(Node v, Get(key));
  if (!v.is_string()) return WrongType(*this, key, v, "a string");
  return v.as_string();
}

Result<Composed> Compose(const ComposeOptions& opts) {
  Composed c;
  ASSIGN_OR_RETURN(std::vector<Override> parsed, ParseOverrides(opts.overrides));
  std::vector<Override> hydra_overrides;  // Hydra's own settings, apart from the app's (Hydra's overrides.hydra)
  for (Override& o : parsed) {
    if (!o.is_hydra_override()) {
      c.overrides.push_back(std::move(o));
      continue;
    }
    RETURN_IF_ERROR(CheckHydraOverride(o));
    hydra_overrides.push_back(std::move(o));
  }
  for (const Override& o : c.overrides) {
    if (o.is_sweep() && !opts.multirun) {
      std::string eq = o.KeyElement();
      if (std::holds_alternative<ChoiceSweep>(o.value->v) && std::get<ChoiceSweep>(o.value->v).simple_form) {
        std::string text = o.input.substr(o.input.find('=') + 1);
        return Status::User(Quoted(o) + ": ambiguous value: a,b is a sweep, which only a multirun expands "
                            "(forja config show -m); for a list write " + eq + "=[" + text +
                            "], for a string quote it: " + eq + "='" + text + "'");
      }
      return Status::User(Quoted(o) + ": a sweep requires -m (forja config show -m lists its jobs)");
    }
  }

  ConfigTree tree(opts.config_dir);
  ASSIGN_OR_RETURN(DefaultsList dl, BuildDefaultsList(tree, opts.config_name, c.overrides, opts.multirun));

  Node cfg = Node::Map();
  cfg.set_origin(tree.FileName(opts.config_name));
  std::string path;
  // A config used once (the usual case) is moved into the result, not copied.
  std::unordered_map<std::string, int> uses;
  for (const ResultDefault& rd : dl.defaults) uses[rd.config_path]++;
  for (const ResultDefault& rd : dl.defaults) {
    ASSIGN_OR_RETURN(const ConfigFile* f, tree.Load(rd.config_path));
    if (!f) return Status::Internal("config " + rd.config_path + " vanished while composing");
    Node content = --uses[rd.config_path] == 0 ? tree.TakeConfig(rd.config_path) : f->config;
    if (!rd.package.empty()) {
      std::vector<std::string> parts = SplitKey(rd.package);
      for (size_t i = parts.size(); i-- > 0;) {
        Node wrap = Node::Map();
        wrap.set_origin(f->file);
        wrap.entries().emplace_back(parts[i], std::move(content));
        content = std::move(wrap);
      }
    } else if (!content.is_map()) {
      return Status::User(f->file + ": this config is a list; it can only be placed in a package "
                          "(e.g. '- " + rd.config_path.substr(0, rd.config_path.rfind('/') + 1) +
                          "...@name'), not merged at the top level");
    }
    if (!opts.explain_key.empty()) RecordConfigStep(content, rd, opts.explain_key, &c.history);
    MergeState st;
    st.root = &cfg;
    path.clear();
    if (!MergeMaps(cfg, std::move(content), path, st))
      return Status::User((st.origin.empty() ? f->file : st.origin) + ": " + st.detail +
                          "; make both the same type, or delete the key first");
  }

  OverrideApplier applier(cfg, opts.resolve_options);
  for (const Override* o : dl.config_overrides) {
    RETURN_IF_ERROR(applier.Apply(*o));
    if (!opts.explain_key.empty() && Related(o->key, opts.explain_key)) {
      Step s;
      s.where = Quoted(*o);
      if (o->is_delete()) {
        s.what = "deleted";
      } else {
        s.what = o->is_add() ? "added" : o->is_force_add() ? "added or changed" : "changed";
        if (const Node* n = cfg.Select(opts.explain_key)) s.value = *n;
      }
      c.history.push_back(std::move(s));
    }
  }
  // Hydra's own settings: compose() leaves them out of the config, and so does
  // forja; they make the hydra node, resolved against the config.
  ResolveOptions ro = opts.resolve_options;
  if (!ro.now) ro.now = std::chrono::system_clock::now();  // one time for run.dir and the config's ${now:}
  RETURN_IF_ERROR(MakeHydraNode(opts, c, dl, hydra_overrides, ro, cfg));
  if (opts.hydra_lock_view) c.hydra = HydraLockView(c.hydra);
  ro.hydra = &c.hydra;

  if (opts.resolve) {
    Status st = ResolveAll(cfg, ro);
    if (!st.ok()) {
      std::string origin, p;
      FindUnresolvable(cfg, cfg, p, ro, &origin);
      return Status(st.code(), (origin.empty() ? tree.FileName(opts.config_name) : origin) + ": " + st.message());
    }
    c.resolved = true;
  }
  c.config = std::move(cfg);
  c.choices = std::move(dl.choices);
  c.defaults = std::move(dl.defaults);
  return c;
}

std::vector<std::string> SweepJobs::Job(size_t job) const {
  std::vector<std::string> out;
  out.reserve(width);
  for (size_t i = 0; i < width; i++) out.push_back(texts[Row(job)[i]]);
  return out;
}

Result<SweepJobs> ExpandSweepJobs(const std::vector<std::string>& overrides, const std::string& config_dir,
                                  uint64_t seed) {
  ASSIGN_OR_RETURN(std::vector<Override> parsed, ParseOverrides(overrides));
  // Hydra's BasicSweeper keys the overrides by their key element: a repeated
  // key replaces the earlier value in its place.
  std::vector<Override> unique;
  std::unordered_map<std::string, size_t> index;
  for (Override& o : parsed) {
    if (o.is_hydra_override()) RETURN_IF_ERROR(CheckHydraOverride(o));  // a job keeps it, as Hydra's do
    auto [it, fresh] = index.emplace(o.KeyElement(), unique.size());
    if (fresh) unique.push_back(std::move(o));
    else unique[it->second] = std::move(o);
  }
  ConfigTree tree(config_dir);
  GroupOptionsFn options = [&](const std::string& group) -> Result<std::vector<std::string>> {
    return tree.Options(group);
  };
  // Each override's texts, as Hydra gives them to its jobs: one for a plain
  // override, one per value for a sweep (expanded on its own, a product of
  // one), so every text is made and checked once, not once per job.
  SweepJobs out;
  std::vector<std::vector<uint32_t>> values(unique.size());  // per override: indexes into out.texts
  for (size_t i = 0; i < unique.size(); i++) {
    const Override& o = unique[i];
    if (!o.is_sweep()) {  // Hydra's "{key}={value as str}"; a bare ~key gets =null
      values[i].push_back(static_cast<uint32_t>(out.texts.size()));
      out.texts.push_back(o.KeyElement() + "=" + (o.value ? FormatValue(*o.value) : std::string("null")));
      continue;
    }
    ASSIGN_OR_RETURN(auto jobs, SweepJobOverrides({unique[i]}, options, seed + i));
    for (auto& job : jobs) {
      values[i].push_back(static_cast<uint32_t>(out.texts.size()));
      out.texts.push_back(std::move(job[0].input));
    }
  }
  out.width = unique.size();
  out.count = 1;
  for (const auto& v : values) {
    if (v.empty()) {
      out.count = 0;
      return out;
    }
    if (out.count > kMaxJobs / v.size())
      return Status::User("the sweep has more than " + std::to_string(kMaxJobs) +
                          " jobs; split it into smaller sweeps");
    out.count *= v.size();
  }
  // The cartesian product, the last override varying fastest.
  out.table.resize(out.count * out.width);
  std::vector<size_t> at(out.width, 0);
  uint32_t* row = out.table.data();
  for (size_t j = 0; j < out.count; j++, row += out.width) {
    for (size_t i = 0; i < out.width; i++) row[i] = values[i][at[i]];
    for (size_t i = out.width; i-- > 0;) {
      if (++at[i] < values[i].size()) break;
      at[i] = 0;
    }
  }
  return out;
}

Result<std::vector<std::vector<std::string>>> SweepJobTexts(const std::vector<std::string>& overrides,
                                                            const std::string& config_dir, uint64_t seed) {
  ASSIGN_OR_RETURN(SweepJobs sweep, ExpandSweepJobs(overrides, config_dir, seed));
  std::vector<std::vector<std::string>> out;
  out.reserve(sweep.count);
  for (size_t j = 0; j < sweep.count; j++) out.push_back(sweep.Job(j));
  return out;
}

Result<std::vector<GroupInfo>> ListGroups(const std::string& config_dir) {
  ConfigTree tree(config_dir);
  if (!tree.RootExists())
    return Status::User(config_dir + ": the config folder does not exist; create it, pass --config-dir DIR, "
                        "or set config.root in forja.yaml");
  std::vector<GroupInfo> out;
  for (const std::string& g : tree.AllGroups()) out.push_back(GroupInfo{g, tree.Options(g)});
  return out;
}

Status WriteRunRecord(const Composed& composed, const std::string& run_dir) {
  Node config = composed.config;
  if (!composed.resolved) RETURN_IF_ERROR(ResolveAll(config, composed.HydraResolveOptions()));
  Node overrides = Node::List();
  for (const auto& o : composed.overrides) overrides.items().push_back(Node::String(o.input));
  Node choices = Node::Map();
  for (const auto& ch : composed.choices)
    choices.Set(ch.key, ch.option ? Node::String(*ch.option) : Node::Null());
  RETURN_IF_ERROR(MakeDirs(run_dir));
  RETURN_IF_ERROR(WriteFileAtomic(JoinPath(run_dir, "config.yaml"), ToYaml(config)));
  RETURN_IF_ERROR(WriteFileAtomic(JoinPath(run_dir, "overrides.yaml"), ToYaml(overrides)));
  RETURN_IF_ERROR(WriteFileAtomic(JoinPath(run_dir, "choices.yaml"), ToYaml(choices)));
  return Status::Ok();
}

}  // namespace forja::config
