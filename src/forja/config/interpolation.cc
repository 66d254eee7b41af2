// Resolving interpolations as OmegaConf 2.3 does (see interpolation.h): the
// values of node interpolations, string interpolation, relative keys, the
// resolvers, cycles named, "???" propagated as OmegaConf.resolve() does. The
// grammar is parsed by interpolation_parser.{h,cc}. One idea, one file: the
// Resolver's walk, memo and cycle check are shared by every resolver and by
// ResolveAll/ResolveValue, so they stay together.
#include "forja/config/interpolation.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "forja/config/hydra_runtime.h"
#include "forja/config/interpolation_parser.h"
#include "forja/config/py_values.h"
#include "forja/core/log.h"

namespace forja::config {
namespace omegaconf {
namespace {

// How long a chain of interpolations (a -> b -> c ...) may be: far beyond real
// configs, it keeps hostile input from exhausting the stack.
constexpr int kMaxChain = 200;

// A key used as a list index, read as OmegaConf reads it (Python's int()); an
// int too big for 64 bits is past the end of any list.
std::optional<int64_t> ListIndex(std::string_view s) {
  int64_t v = 0;
  switch (PyIntFromString(s, &v)) {
    case PyIntParse::kOk: return v;
    case PyIntParse::kTooBig: return INT64_MAX;
    case PyIntParse::kNotAnInt: break;
  }
  return std::nullopt;
}

// OmegaConf's split_key: "a.b[c].d" -> a, b, c, d (the key has no leading dots).
std::vector<std::string> SplitKey(std::string_view key) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < key.size() && key[i] == '.') i++;
  size_t head_start = 0;
  while (i < key.size() && key[i] != '.' && key[i] != '[') i++;
  // The head "(\.)*[^.[]*" split on dots.
  std::string_view head = key.substr(head_start, i);
  size_t p = 0;
  while (true) {
    size_t d = head.find('.', p);
    parts.emplace_back(head.substr(p, d == std::string_view::npos ? std::string_view::npos : d - p));
    if (d == std::string_view::npos) break;
    p = d + 1;
  }
  if (i == key.size()) return parts;
  if (key[i] == '[' && parts.back().empty()) parts.pop_back();
  // Then "\.([^.[]*)|\[(.*?)\]" found repeatedly.
  while (i < key.size()) {
    if (key[i] == '.') {
      size_t j = i + 1;
      while (j < key.size() && key[j] != '.' && key[j] != '[') j++;
      parts.emplace_back(key.substr(i + 1, j - i - 1));
      i = j;
    } else if (key[i] == '[') {
      size_t j = i + 1;
      while (j < key.size() && key[j] != ']' && key[j] != '\n') j++;
      if (j < key.size() && key[j] == ']') {
        parts.emplace_back(key.substr(i + 1, j - i - 1));
        i = j + 1;
      } else {
        i++;
      }
    } else {
      i++;
    }
  }
  return parts;
}

// Python's datetime.now().strftime(pattern) for a naive local time.
Result<std::string> PyStrftime(const std::string& pattern, std::chrono::system_clock::time_point tp) {
  if (pattern.find('\0') != std::string::npos) return Status::User("the pattern holds a NUL character");
  using namespace std::chrono;
  auto secs = time_point_cast<seconds>(tp);
  if (secs > tp) secs -= seconds(1);
  long micros = static_cast<long>(duration_cast<microseconds>(tp - secs).count());
  std::time_t t = system_clock::to_time_t(secs);
  std::tm tm{};
  localtime_r(&t, &tm);
  std::string fmt;
  for (size_t i = 0; i < pattern.size(); i++) {
    if (pattern[i] == '%' && i + 1 < pattern.size()) {
      char c = pattern[++i];
      if (c == 'f') {
        char b[32];
        std::snprintf(b, sizeof b, "%06ld", micros);
        fmt += b;
      } else if (c != 'z' && c != 'Z') {  // a naive time has no zone: both are empty
        fmt += '%';
        fmt += c;
      }
    } else {
      fmt += pattern[i];
    }
  }
  if (fmt.empty()) return std::string();
  for (size_t cap = 256; cap <= (1u << 20); cap *= 4) {
    std::string buf(cap, '\0');
    size_t n = std::strftime(buf.data(), cap, fmt.c_str(), &tm);
    if (n > 0) return buf.substr(0, n);
    if (cap > fmt.size() * 64) break;  // it must really be empty
  }
  return std::string();
}

// ===================================================================================
// Resolution
// ===================================================================================

// Where a node sits: the node, its key, and where its parent sits (shared, so
// that a child's place costs one small allocation, not a copy of the path).
struct Place {
  const Node* node;
  std::string key;
  std::shared_ptr<const Place> parent;
};

struct Loc {
  std::shared_ptr<const Place> p;

  static Loc Root(const Node* root) { return Loc{std::make_shared<const Place>(Place{root, "", nullptr})}; }
  const Node* node() const { return p->node; }
  bool is_root() const { return !p->parent; }
  Loc Child(const Node* n, std::string key) const {
    return Loc{std::make_shared<const Place>(Place{n, std::move(key), p})};
  }
  Loc Parent() const { return Loc{p->parent}; }
  // The same place holding another node (a resolver's new dict or list).
  Loc Holding(const Node* n) const { return Loc{std::make_shared<const Place>(Place{n, p->key, p->parent})}; }
  // Whether `n` is this node's parent, grandparent, ... or the root.
  bool InsideOf(const Node* n) const {
    for (const Place* q = p->parent.get(); q; q = q->parent.get())
      if (q->node == n) return true;
    return false;
  }
  std::string FullKey() const {
    if (is_root()) return "(root)";
    std::vector<const std::string*> keys;
    for (const Place* q = p.get(); q->parent; q = q->parent.get()) keys.push_back(&q->key);
    std::string out;
    for (auto it = keys.rbegin(); it != keys.rend(); ++it) {
      if (!out.empty()) out += '.';
      out += **it;
    }
    return out;
  }
  // This place's key followed by more[from...]: "a.b" + {c, d} -> "a.b.c.d".
  std::string KeyWith(const std::vector<std::string>& more, size_t from) const {
    std::string out = is_root() ? "" : FullKey();
    for (size_t i = from; i < more.size(); i++) {
      if (!out.empty()) out += '.';
      out += more[i];
    }
    return out;
  }
};

// A resolved value: a reference to a dict or list of the tree (resolved only
// when it is materialized), or a plain value.
struct RV {
  bool is_ref = false;
  Loc ref;
  Node val;
  std::vector<std::string> via;  // the interpolations followed to reach `ref`

  static RV Ref(Loc l) {
    RV r;
    r.is_ref = true;
    r.ref = std::move(l);
    return r;
  }
  static RV Val(Node n) {
    RV r;
    r.val = std::move(n);
    return r;
  }
};

struct Memo {
  Status status;
  bool missing = false;
  RV rv;
};

std::string OverrideHint(const std::string& key) {
  return "set it with an override such as " + key + "=VALUE";
}

class Resolver {
 public:
  Resolver(const Node& root, const ResolveOptions& options) : root_(root), opts_(options) {
    now_ = options.now ? *options.now : std::chrono::system_clock::now();
  }

  Loc RootLoc() const { return Loc::Root(&root_); }

  // A fully resolved copy of the dict or list at `loc`. Interpolations that
  // need a "???" become "???". `keep` remembers the copy (for a dict or list
  // that interpolations refer to, maybe more than once).
  Result<Node> Materialize(const Loc& loc, bool keep = false) {
    const Node* n = loc.node();
    auto cached = done_.find(n);
    if (cached != done_.end()) return cached->second;
    if (active_.count(n)) return Cycle(loc);
    Enter(loc);
    Node out = n->is_map() ? Node::Map() : Node::List();
    out.set_origin(n->origin());
    Status st;
    if (n->is_map()) {
      out.entries().reserve(n->entries().size());
      for (const auto& [k, child] : n->entries()) {
        auto v = ResolveChild(loc.Child(&child, k));
        if (!v.ok()) {
          st = v.status();
          break;
        }
        out.entries().emplace_back(k, std::move(*v));
      }
    } else {
      out.items().reserve(n->items().size());
      for (size_t i = 0; i < n->items().size(); i++) {
        auto v = ResolveChild(loc.Child(&n->items()[i], std::to_string(i)));
        if (!v.ok()) {
          st = v.status();
          break;
        }
        out.items().push_back(std::move(*v));
      }
    }
    Leave(n);
    if (!st.ok()) return st;
    if (keep) done_.emplace(n, out);
    return out;
  }

  // Resolves every interpolation under the dict or list at `loc`, recording the
  // values in `out` (the tree itself is not changed: the caller writes them).
  Status Collect(const Loc& loc, std::vector<std::pair<const Node*, Node>>* out) {
    const Node* n = loc.node();
    Enter(loc);
    Status st;
    auto visit = [&](const Node* child, std::string key) -> Status {
      if (child->is_map() || child->is_list()) return Collect(loc.Child(child, std::move(key)), out);
      if (!child->has_interpolation()) return Status::Ok();
      auto v = ResolveChild(loc.Child(child, std::move(key)));
      if (!v.ok()) return v.status();
      out->emplace_back(child, std::move(*v));
      return Status::Ok();
    };
    if (n->is_map()) {
      for (const auto& [k, child] : n->entries())
        if (!(st = visit(&child, k)).ok()) break;
    } else {
      for (size_t i = 0; i < n->items().size(); i++)
        if (!(st = visit(&n->items()[i], std::to_string(i))).ok()) break;
    }
    Leave(n);
    return st;
  }

  // The value at a path from the root, for ResolveValue.
  Result<Node> ValueAt(std::string_view path) {
    Loc root = RootLoc();
    if (path.empty()) {
      if (root_.is_map() || root_.is_list()) return Materialize(root);
      return root_;
    }
    std::string key(path);
    std::vector<std::string> parts = SplitKey(key);
    Loc cur = root;
    for (size_t i = 0; i < parts.size(); i++) {
      const Node* c = cur.node();
      std::string part = parts[i];
      const Node* child = Lookup(c, &part);
      if (c->is_list() && !ListIndex(parts[i]))
        return Err("key '" + cur.KeyWith(parts, i) + "' not found: " + cur.FullKey() +
                   " is a list, and '" + Show(parts[i]) + "' is not an index");
      if (!child) return Err("key '" + cur.KeyWith(parts, i) + "' not found");
      Loc cl = cur.Child(child, part);
      if (child->is_missing()) {
        std::string k = cl.FullKey();
        return Err(k + ": missing mandatory value (???" "); " + OverrideHint(k));
      }
      auto rv = Deref(cl);
      if (!rv.ok()) return rv.status();
      if (i + 1 == parts.size()) return Plain(*rv);
      if (!rv->is_ref)
        return Err("key '" + cur.KeyWith(parts, i) + "' not found: " + cl.FullKey() + " is " +
                   PyTypeName(rv->val) + ", not a dict or list");
      cur = rv->ref;
    }
    return Err("key '" + key + "' not found");
  }

 private:
  Status Err(std::string msg) {
    err_missing_ = false;
    return Status::User(std::move(msg));
  }
  Status ErrMissing(std::string msg) {
    err_missing_ = true;
    return Status::User(std::move(msg));
  }

  void Enter(const Loc& loc) {
    active_.insert(loc.node());
    stack_.push_back(loc);
  }
  void Leave(const Node* n) {
    active_.erase(n);
    stack_.pop_back();
  }
  // `loc` is being resolved already: the cycle is the stack from there on.
  Status Cycle(const Loc& loc) {
    std::string msg = "interpolation cycle: ";
    size_t i = 0;
    while (i < stack_.size() && stack_[i].node() != loc.node()) i++;
    for (; i < stack_.size(); i++) msg += stack_[i].FullKey() + " -> ";
    return Err(msg + loc.FullKey());
  }

  // A value of the tree, resolved (a dict or list: a resolved copy).
  Result<Node> ResolveChild(const Loc& loc) {
    const Node* n = loc.node();
    if (n->is_map() || n->is_list()) return Materialize(loc);
    if (!n->has_interpolation()) return *n;
    auto rv = Deref(loc);
    if (!rv.ok()) {
      if (err_missing_) {  // as OmegaConf.resolve(): it needs a "???", so it is "???"
        Node m = Node::String("???");
        m.set_origin(n->origin());
        return m;
      }
      return rv.status();
    }
    if (rv->is_ref) {
      Enter(loc);  // so that a cycle through the copy names this key
      auto copy = Materialize(rv->ref, true);
      Leave(n);
      if (copy.ok()) copy->set_origin(n->origin());
      return copy;
    }
    Node v = std::move(rv->val);
    v.set_origin(n->origin());
    return v;
  }

  Result<Node> Plain(const RV& rv) {
    if (rv.is_ref) return Materialize(rv.ref, true);
    return rv.val;
  }

  // The value of the node at `loc`: an interpolation is resolved (once), a
  // dict or list is a reference to itself, anything else is itself.
  Result<RV> Deref(const Loc& loc) {
    const Node* n = loc.node();
    if (n->is_map() || n->is_list()) return RV::Ref(loc);
    if (!n->has_interpolation()) return RV::Val(*n);
    auto it = memo_.find(n);
    if (it != memo_.end()) {
      if (!it->second.status.ok()) {
        err_missing_ = it->second.missing;
        return it->second.status;
      }
      return it->second.rv;
    }
    if (active_.count(n)) return Cycle(loc);
    if (chain_ >= kMaxChain)
      return Err("interpolation at " + loc.FullKey() + ": more than " + std::to_string(kMaxChain) +
                 " interpolations lead to one another");
    Result<RV> r = Status::Internal("unset");
    const std::string& text = n->as_string();
    Text parsed;
    SyntaxError err;
    if (!ParseConfigValue(text, &parsed, &err)) {
      r = Err(MalformedMessage(loc.FullKey(), text, err));
    } else {
      Enter(loc);
      chain_++;
      r = EvalText(parsed, loc);
      chain_--;
      Leave(n);
    }
    Memo m;
    if (r.ok()) {
      m.rv = *r;
      if (m.rv.is_ref) m.rv.via.insert(m.rv.via.begin(), loc.FullKey());
    } else {
      m.status = r.status();
      m.missing = err_missing_;
    }
    auto& stored = memo_.emplace(n, std::move(m)).first->second;
    if (!stored.status.ok()) {
      err_missing_ = stored.missing;
      return stored.status;
    }
    return stored.rv;
  }

  Result<RV> EvalText(const Text& t, const Loc& at) {
    if (t.size() == 1 && t[0].interp) return EvalInterp(*t[0].interp, at);
    return Concat(t, at);
  }

  Result<RV> Concat(const Text& t, const Loc& at) {
    std::string s;
    for (const Seg& seg : t) {
      if (!seg.interp) {
        s += seg.lit;
        continue;
      }
      auto rv = EvalInterp(*seg.interp, at);
      if (!rv.ok()) return rv.status();
      s += rv->is_ref ? PyRepr(*rv->ref.node()) : PyStr(rv->val);
    }
    return RV::Val(Node::String(std::move(s)));
  }

  std::string Where(const Interp& in, const Loc& at) const {
    return "interpolation " + Show(in.src) + " at " + at.FullKey();
  }

  // A nested interpolation used as (part of) a key or a resolver name.
  Result<std::string> KeyString(const Interp& part, const Interp& in, const Loc& at, const char* what) {
    auto rv = EvalInterp(part, at);
    if (!rv.ok()) return rv.status();
    if (rv->is_ref || !rv->val.is_string())
      return Err(Where(in, at) + ": " + Show(part.src) + " is used as " + what +
                 ", so it must give a string, but it gives " +
                 (rv->is_ref ? std::string(rv->ref.node()->is_map() ? "a dict" : "a list")
                             : "the " + std::string(PyTypeName(rv->val)) + " " +
                                   Show(PyStr(rv->val))));
    return rv->val.as_string();
  }

  Result<RV> EvalInterp(const Interp& in, const Loc& at) {
    if (!in.resolver) {
      std::string key;
      if (in.key_static) {
        key = in.key_text;
      } else {
        for (const KeyPart& p : in.key) {
          if (!p.interp) {
            key += p.lit;
            continue;
          }
          auto s = KeyString(*p.interp, in, at, "a key");
          if (!s.ok()) return s.status();
          key += *s;
        }
      }
      return NodeInterp(in, key, at);
    }
    std::string name;
    for (const KeyPart& p : in.name) {
      if (&p != &in.name.front()) name += '.';
      if (!p.interp) {
        name += p.lit;
        continue;
      }
      auto s = KeyString(*p.interp, in, at, "a resolver name");
      if (!s.ok()) return s.status();
      name += *s;
    }
    std::vector<RV> args;
    args.reserve(in.args.size());
    for (const Elem& e : in.args) {
      auto rv = EvalElem(e, at);
      if (!rv.ok()) return rv.status();
      args.push_back(std::move(*rv));
    }
    return CallResolver(in, name, args, at);
  }

  Result<RV> EvalElem(const Elem& e, const Loc& at) {
    switch (e.kind) {
      case Elem::Kind::kEmpty: return RV::Val(Node::String(""));
      case Elem::Kind::kConst: return RV::Val(e.value);
      case Elem::Kind::kSingle: return EvalInterp(*e.segs[0].interp, at);
      case Elem::Kind::kText:
      case Elem::Kind::kQuoted: return Concat(e.segs, at);
      case Elem::Kind::kList: {
        Node list = Node::List();
        for (const Elem& item : e.items) {
          auto rv = EvalElem(item, at);
          if (!rv.ok()) return rv.status();
          auto v = Plain(*rv);
          if (!v.ok()) return v.status();
          list.items().push_back(std::move(*v));
        }
        return RV::Val(std::move(list));
      }
      case Elem::Kind::kDict: {
        Node map = Node::Map();
        for (size_t i = 0; i < e.items.size(); i++) {
          const std::string& k = e.keys[i];
          auto rv = EvalElem(e.items[i], at);
          if (!rv.ok()) return rv.status();
          auto v = Plain(*rv);
          if (!v.ok()) return v.status();
          map.Set(k, std::move(*v));  // a repeated key keeps its place, takes the last value
        }
        return RV::Val(std::move(map));
      }
    }
    return Err("bad element");
  }

  // The dict or list to start a key from: the root, or for ".x" the dict/list
  // holding the value, for "..x" its parent, and so on. Strips the dots.
  Result<Loc> KeyBase(std::string* key, const Loc& at, const Interp& in) {
    if (key->empty() || (*key)[0] != '.') return RootLoc();
    Loc base = at.Parent();
    size_t dots = 1;
    while (dots < key->size() && (*key)[dots] == '.') {
      if (base.is_root())
        return Err(Where(in, at) + ": '" + Show(*key) + "' goes above the root (" +
                   std::to_string(dots + 1) + " dots from " + at.FullKey() + ")");
      base = base.Parent();
      dots++;
    }
    key->erase(0, dots);
    return base;
  }

  const Node* Lookup(const Node* c, std::string* part) {
    if (c->is_map()) return c->Find(*part);
    if (!c->is_list()) return nullptr;
    auto idx = ListIndex(*part);
    if (!idx || *idx < 0 || static_cast<uint64_t>(*idx) >= c->items().size()) return nullptr;
    *part = std::to_string(*idx);
    return &c->items()[static_cast<size_t>(*idx)];
  }

  struct Found {
    bool found = false;
    bool missing = false;  // not found because a "???" is in the way (non-strict walks)
    RV rv;
  };

  // Walks `key` from the dict/list `base` as OmegaConf's _select_impl does:
  // each step is resolved if it is an interpolation. `strict` is node
  // interpolation (missing values and non-containers are errors); otherwise
  // (oc.select) they are "not found".
  Result<Found> Walk(const Loc& base, const std::string& key, bool strict, const Interp& in,
                     const Loc& at) {
    if (key.empty()) return Found{true, false, RV::Ref(base)};
    std::vector<std::string> parts = SplitKey(key);
    Loc cur = base;
    for (size_t i = 0; i < parts.size(); i++) {
      const Node* c = cur.node();
      std::string part = parts[i];
      if (c->is_list() && !ListIndex(part))
        return Err(Where(in, at) + ": " + cur.FullKey() + " is a list, and '" + Show(part) +
                   "' is not an index");
      const Node* child = Lookup(c, &part);
      if (!child) {
        if (!strict) return Found{};
        return Err(Where(in, at) + ": key '" + Show(cur.KeyWith(parts, i)) + "' not found");
      }
      Loc cl = cur.Child(child, part);
      bool last = i + 1 == parts.size();
      if (child->is_missing()) {
        if (!strict) return Found{false, last, RV()};
        std::string k = cl.FullKey();
        return ErrMissing(k + ": missing mandatory value (???" "), read by " + Show(in.src) + " at " +
                          at.FullKey() + "; " + OverrideHint(k));
      }
      auto rv = Deref(cl);
      if (!rv.ok()) return rv.status();
      if (last) return Found{true, false, std::move(*rv)};
      if (!rv->is_ref) {
        if (!strict) return Found{};
        return Err(Where(in, at) + ": " + cl.FullKey() + " is " + PyTypeName(rv->val) +
                   ", not a dict or list, so it has no key '" + Show(parts[i + 1]) + "'");
      }
      cur = rv->ref;
    }
    return Found{};
  }

  Result<RV> NodeInterp(const Interp& in, std::string key, const Loc& at) {
    auto base = KeyBase(&key, at, in);
    if (!base.ok()) return base.status();
    auto f = Walk(*base, key, true, in, at);
    if (!f.ok()) return f.status();
    RV& rv = f->rv;
    if (rv.is_ref) {
      // OmegaConf refuses a reference to a dict or list that holds the value.
      const Node* target = rv.ref.node();
      if (at.InsideOf(target)) {
        std::string msg = "interpolation cycle: " + at.FullKey() + " -> ";
        for (const auto& v : rv.via) msg += v + " -> ";
        return Err(msg + rv.ref.FullKey() + ", which contains " + at.FullKey());
      }
    }
    return std::move(rv);
  }

  // ---- resolvers ----------------------------------------------------------------------

  Status Arity(const Interp& in, const Loc& at, const std::string& name, size_t got, size_t lo,
               size_t hi) {
    if (got >= lo && got <= hi) return Status::Ok();
    std::string want = lo == hi ? std::to_string(lo) : std::to_string(lo) + " or " + std::to_string(hi);
    return Err(Where(in, at) + ": " + name + " takes " + want + " argument" + (hi == 1 ? "" : "s") +
               ", not " + std::to_string(got));
  }

  Result<std::string> StringArg(const Interp& in, const Loc& at, const std::string& name,
                                const RV& rv, const char* what) {
    if (!rv.is_ref && rv.val.is_string()) return rv.val.as_string();
    std::string got = rv.is_ref ? (rv.ref.node()->is_map() ? "a dict" : "a list")
                                : "the " + std::string(PyTypeName(rv.val)) + " " + Show(PyStr(rv.val));
    return Err(Where(in, at) + ": " + name + " needs " + what + " as a string, not " + got);
  }

  // Where a resolver's new dict or list sits: where the interpolation is.
  Loc Make(Node n, const Loc& at) {
    arena_.push_back(std::move(n));
    return at.Holding(&arena_.back());
  }

  // An absolute or relative key for oc.select and friends (non-dot keys are from the root).
  Result<Found> Select(const Interp& in, const Loc& at, std::string key, bool strict) {
    auto base = KeyBase(&key, at, in);
    if (!base.ok()) return base.status();
    return Walk(*base, key, strict, in, at);
  }

  Result<RV> CallResolver(const Interp& in, const std::string& name, std::vector<RV>& args,
                          const Loc& at) {
    size_t n = args.size();
    if (name == "oc.env") {
      RETURN_IF_ERROR(Arity(in, at, name, n, 1, 2));
      ASSIGN_OR_RETURN(std::string var, StringArg(in, at, name, args[0], "the variable name"));
      std::optional<std::string> v;
      if (opts_.getenv) {
        v = opts_.getenv(var);
      } else if (var.find('\0') == std::string::npos) {
        if (const char* e = std::getenv(var.c_str())) v = e;
      }
      if (v) return RV::Val(Node::String(*v));
      if (n == 2) {
        const RV& d = args[1];
        if (!d.is_ref && d.val.is_null()) return RV::Val(Node::Null());
        return RV::Val(Node::String(d.is_ref ? PyRepr(*d.ref.node()) : PyStr(d.val)));
      }
      return Err(Where(in, at) + ": environment variable '" + Show(var) +
                 "' is not set and has no default (write ${oc.env:" + Show(var) + ",DEFAULT})");
    }
    if (name == "oc.select") {
      RETURN_IF_ERROR(Arity(in, at, name, n, 1, 2));
      ASSIGN_OR_RETURN(std::string key, StringArg(in, at, name, args[0], "the key"));
      ASSIGN_OR_RETURN(Found f, Select(in, at, key, false));
      if (f.found) return std::move(f.rv);
      if (n == 2) return std::move(args[1]);
      return RV::Val(Node::Null());
    }
    if (name == "oc.decode") {
      RETURN_IF_ERROR(Arity(in, at, name, n, 1, 1));
      if (!args[0].is_ref && args[0].val.is_null()) return RV::Val(Node::Null());
      ASSIGN_OR_RETURN(std::string text, StringArg(in, at, name, args[0], "its input"));
      Elem e;
      SyntaxError err;
      if (!ParseSingleElement(text, &e, &err))
        return Err(Where(in, at) + ": oc.decode cannot decode \"" + Show(text) + "\": column " +
                   std::to_string(err.column) + ": " + err.what);
      return EvalElem(e, at);
    }
    if (name == "now") {
      RETURN_IF_ERROR(Arity(in, at, name, n, 1, 1));
      ASSIGN_OR_RETURN(std::string pattern, StringArg(in, at, name, args[0], "the pattern"));
      auto s = PyStrftime(pattern, now_);
      if (!s.ok()) return Err(Where(in, at) + ": now: " + s.status().message());
      return RV::Val(Node::String(std::move(*s)));
    }
    if (name == "hydra" && !opts_.hydra)
      return Err(Where(in, at) + ": ${hydra:...} reads Hydra's runtime config, which only a composed config has "
                 "(conf/ through forja config show, forja run, @forja.main); here there is none");
    if (name == "hydra") {
      RETURN_IF_ERROR(Arity(in, at, name, n, 1, 1));
      ASSIGN_OR_RETURN(std::string key, StringArg(in, at, name, args[0], "the key"));
      Node v = HydraSelect(*opts_.hydra, key);
      if (v.is_map() || v.is_list()) return RV::Ref(Make(std::move(v), at));
      return RV::Val(std::move(v));
    }
    if (name == "oc.create") {
      RETURN_IF_ERROR(Arity(in, at, name, n, 1, 1));
      const RV& a = args[0];
      if (a.is_ref) return RV::Ref(Make(*a.ref.node(), at));
      if (a.val.is_null()) return RV::Val(Node::Null());
      if (a.val.is_map() || a.val.is_list()) return RV::Ref(Make(a.val, at));
      if (a.val.is_string()) {
        // As OmegaConf.create(str): YAML text; empty gives {}, a string s gives {s: None}.
        auto y = ParseYaml(a.val.as_string(), "oc.create");
        if (!y.ok())
          return Err(Where(in, at) + ": oc.create: " + Show(y.status().message()));
        if (y->is_null()) return RV::Ref(Make(Node::Map(), at));
        if (y->is_string()) return RV::Ref(Make(Node::Map({{y->as_string(), Node::Null()}}), at));
        if (y->is_map() || y->is_list()) return RV::Ref(Make(std::move(*y), at));
      }
      return Err(Where(in, at) + ": oc.create needs a dict, a list or YAML text of one, not " +
                 Show(a.val.is_string() ? a.val.as_string() : PyStr(a.val)));
    }
    if (name == "oc.deprecated") {
      RETURN_IF_ERROR(Arity(in, at, name, n, 1, 2));
      ASSIGN_OR_RETURN(std::string key, StringArg(in, at, name, args[0], "the key"));
      std::string message = "'$OLD_KEY' is deprecated. Change your code and config to use '$NEW_KEY'";
      if (n == 2) {
        ASSIGN_OR_RETURN(message, StringArg(in, at, name, args[1], "the message"));
      }
      ASSIGN_OR_RETURN(Found f, Select(in, at, key, false));
      if (f.missing) f = Found{true, false, RV::Val(Node::String("???"))};  // as OmegaConf
      if (!f.found)
        return Err(Where(in, at) + ": oc.deprecated: key '" + Show(key) + "' not found");
      std::string new_key = f.rv.is_ref ? f.rv.ref.FullKey() : key;
      for (auto [from, to] : {std::pair<std::string, std::string>{"OLD_KEY", at.FullKey()},
                              std::pair<std::string, std::string>{"NEW_KEY", new_key}}) {
        for (const std::string& pat : {"${" + from + "}", "$" + from}) {
          size_t p = 0;
          while ((p = message.find(pat, p)) != std::string::npos) {
            message.replace(p, pat.size(), to);
            p += to.size();
          }
        }
      }
      LogWarn(message);
      return std::move(f.rv);
    }
    if (name == "oc.dict.keys" || name == "oc.dict.values") {
      RETURN_IF_ERROR(Arity(in, at, name, n, 1, 1));
      ASSIGN_OR_RETURN(std::string key, StringArg(in, at, name, args[0], "the key"));
      auto f = Select(in, at, key, true);
      if (!f.ok()) return Err(f.status().message());  // a "???" here is an error, not "???"
      if (!f->rv.is_ref || !f->rv.ref.node()->is_map())
        return Err(Where(in, at) + ": " + name + " needs a dict, but '" + Show(key) + "' is " +
                   (f->rv.is_ref ? "a list" : std::string("a ") + PyTypeName(f->rv.val)));
      Node list = Node::List();
      const Node* dict = f->rv.ref.node();
      if (name == "oc.dict.keys") {
        for (const auto& e : dict->entries()) list.items().push_back(Node::String(e.first));
        return RV::Val(std::move(list));
      }
      // As OmegaConf: a list of "${key.k}" placed where the interpolation is.
      std::string prefix = key[0] == '.' ? "." + key : key;
      for (const auto& e : dict->entries())
        list.items().push_back(Node::String("${" + prefix + "." + e.first + "}"));
      return RV::Ref(Make(std::move(list), at));
    }
    return Err(Where(in, at) + ": unknown resolver '" + Show(name) +
               "' (known: now, oc.create, oc.decode, oc.deprecated, oc.dict.keys, "
               "oc.dict.values, oc.env, oc.select)");
  }

  const Node& root_;
  const ResolveOptions& opts_;
  std::chrono::system_clock::time_point now_;
  std::unordered_map<const Node*, Memo> memo_;          // resolved interpolations
  std::unordered_map<const Node*, Node> done_;          // materialized dicts and lists
  std::unordered_set<const Node*> active_;              // being resolved now
  std::vector<Loc> stack_;                              // the same, in order
  std::deque<Node> arena_;                              // dicts and lists made by resolvers
  bool err_missing_ = false;  // the last error is "a value needed is ???"
  int chain_ = 0;
};

}  // namespace
}  // namespace omegaconf

Status ResolveAll(Node& root, const ResolveOptions& options) {
  if (!root.is_map() && !root.is_list()) return Status::Ok();
  // Resolve everything against the unchanged tree, then write the values of the
  // interpolations in place (only strings are replaced: no other node moves).
  std::vector<std::pair<const Node*, Node>> values;
  {
    omegaconf::Resolver r(root, options);
    RETURN_IF_ERROR(r.Collect(r.RootLoc(), &values));
  }
  for (auto& [node, value] : values) *const_cast<Node*>(node) = std::move(value);
  return Status::Ok();
}

Result<Node> ResolveValue(const Node& root, std::string_view path, const ResolveOptions& options) {
  omegaconf::Resolver r(root, options);
  return r.ValueAt(path);
}


Status CheckInterpolationSyntax(std::string_view value, std::string_view where) {
  if (value.find("${") == std::string_view::npos) return Status::Ok();
  omegaconf::Text t;
  omegaconf::SyntaxError err;
  if (!omegaconf::ParseConfigValue(value, &t, &err))
    return Status::User(omegaconf::MalformedMessage(where, value, err));
  return Status::Ok();
}

}  // namespace forja::config
