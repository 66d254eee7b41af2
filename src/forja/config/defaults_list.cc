// A line-by-line reading of Hydra 1.3's defaults list algorithm
// (hydra/_internal/defaults_list.py and hydra/core/default_element.py), so that
// the same tree gives the same list, the same choices in the same order, and
// fails in the same cases. Like Hydra, a config's defaults are processed last
// entry first (that is what lets a later entry's `override` reach an earlier
// group), and the result is read back in list order.
#include "forja/config/defaults_list.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "forja/config/interpolation.h"
#include "forja/config/py_values.h"
#include "forja/core/strings.h"

namespace forja::config {

namespace {

std::string Replace(std::string s, char from, char to) {
  std::replace(s.begin(), s.end(), from, to);
  return s;
}

std::string Quoted(const std::string& where) { return "override '" + where + "'"; }

// A default element: Hydra's ConfigDefault (`- extras/common`, `- _self_`) or
// GroupDefault (`- db: mysql`).
struct Default {
  enum class Value { kName, kNull, kList };

  bool group = false;
  std::string path;  // ConfigDefault.path, or GroupDefault.group; may start with '/'
  Value value = Value::kName;
  std::string name;                  // the option (GroupDefault with kName)
  std::vector<std::string> options;  // GroupDefault with kList
  std::optional<std::string> package;
  std::optional<std::string> package_header;
  bool optional = false;
  bool override_ = false;
  bool external_append = false;
  bool primary = false;
  bool deleted = false;
  std::string parent_base_dir;
  std::string parent_package;
  std::string where;  // "conf/config.yaml:3" or "override '+db=x'"

  static Default Self(std::string where) {
    Default d;
    d.path = "_self_";
    d.where = std::move(where);
    return d;
  }

  bool IsSelf() const { return group ? (value == Value::kName && name == "_self_") : path == "_self_"; }
  bool IsName() const { return !group || value != Value::kList; }

  void UpdateParent(const std::string& base_dir, const std::string& pkg) {
    parent_base_dir = base_dir;
    parent_package = pkg;
    if (package && package->find("_group_") != std::string::npos) {
      std::string p = *package;
      std::string def = DefaultPackage();
      for (size_t at = p.find("_group_"); at != std::string::npos; at = p.find("_group_", at + def.size()))
        p.replace(at, 7, def);
      package = "_global_." + p;
    }
  }

  void SetPackageHeader(const std::string& header) {
    // A header is always absolute.
    if (header != "_global_" && !header.starts_with("_global_."))
      package_header = header.empty() ? "_global_" : "_global_." + header;
    else
      package_header = header;
  }

  // Python's get_name(): null for a GroupDefault set to null; "None" appears in
  // config paths the way Python's f-strings print it.
  std::optional<std::string> Name() const {
    if (group) {
      if (value == Value::kNull) return std::nullopt;
      return name;
    }
    size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
  }
  std::string NameText() const { return Name().value_or("None"); }

  std::string GroupPath() const {
    if (group) {
      bool absolute = !path.empty() && path[0] == '/';
      std::string g = absolute ? path.substr(1) : path;
      if (parent_base_dir.empty() || absolute) return g;
      return parent_base_dir + "/" + g;
    }
    bool absolute = !path.empty() && path[0] == '/';
    std::string p = absolute ? path.substr(1) : path;
    size_t slash = p.rfind('/');
    std::string g = slash == std::string::npos ? "" : p.substr(0, slash);
    if (absolute) return g;
    if (parent_base_dir.empty()) return g;
    return g.empty() ? parent_base_dir : parent_base_dir + "/" + g;
  }

  std::string ConfigPath() const {
    if (group) return GroupPath() + "/" + NameText();
    bool absolute = !path.empty() && path[0] == '/';
    std::string p = absolute ? path.substr(1) : path;
    if (absolute || parent_base_dir.empty()) return p;
    return parent_base_dir + "/" + p;
  }

  std::string RelativeGroupPath() const {
    std::string p = !path.empty() && path[0] == '/' ? path.substr(1) : path;
    if (group) return p;
    size_t slash = p.rfind('/');
    return slash == std::string::npos ? "" : p.substr(0, slash);
  }

  std::string DefaultPackage() const { return Replace(GroupPath(), '/', '.'); }

  std::optional<std::string> GetPackage(bool use_header = true) const {
    if (!package && use_header) return package_header;
    return package;
  }

  std::string FinalPackage(bool use_header = true) const {
    std::optional<std::string> p = GetPackage(use_header);
    std::string pkg = p ? *p : Replace(RelativeGroupPath(), '/', '.');
    std::string ret;
    if (parent_package.empty()) ret = pkg;
    else if (pkg.empty()) ret = parent_package;
    else ret = parent_package + "." + pkg;
    size_t lgi = ret.rfind("_global_");
    if (lgi == std::string::npos) return ret;
    size_t start = lgi + 9;  // past "_global_."
    return start >= ret.size() ? "" : ret.substr(start);
  }

  std::string OverrideKey() const {
    std::string def = DefaultPackage();
    std::string fin = FinalPackage(false);
    std::string key = GroupPath();
    if (def != fin) key += "@" + (fin.empty() ? std::string("_global_") : fin);
    return key;
  }

  bool IsInterpolation() const {
    if (group) return IsName() && value == Value::kName && name.find("${") != std::string::npos;
    return ConfigPath().find("${") != std::string::npos;
  }

  bool IsMissing() const {
    if (group && !IsName()) return false;
    std::optional<std::string> n = Name();
    return n && *n == "???";
  }
};

// A group choice from an override: a name, null, or a list of names.
struct ChoiceValue {
  Default::Value kind = Default::Value::kName;
  std::string name;
  std::vector<std::string> options;

  void ApplyTo(Default& d) const {
    d.value = kind;
    d.name = name;
    d.options = options;
  }
  std::string Text() const {
    if (kind == Default::Value::kNull) return "null";
    if (kind == Default::Value::kName) return name;
    return "[" + Join(options, ",") + "]";
  }
};

ChoiceValue ValueOf(const Default& d) {
  ChoiceValue v;
  v.kind = d.value;
  v.name = d.name;
  v.options = d.options;
  return v;
}

// Hydra's `Overrides`: the group overrides of the command line and of the
// `override` entries met so far, the choices made, and the deletions.
class OverrideState {
 public:
  Status Init(ConfigTree& tree, const std::vector<Override>& overrides) {
    for (const Override& o : overrides) {
      if (o.is_sweep()) continue;
      const Node* value = o.value ? &o.value->node() : nullptr;
      bool is_dict = value && value->is_map();
      if (is_dict || !tree.IsGroup(o.key)) {
        config_overrides.push_back(&o);
        continue;
      }
      std::string where = Quoted(o.input);
      std::string key = o.key + (o.package ? "@" + *o.package : "");
      if (o.is_force_add())
        return Status::User(where + ": force-add of config groups is not supported; use +" + key +
                            "=OPTION to add the group or " + key + "=OPTION to change it");
      if (o.is_delete()) {
        Deletion del;
        del.where = where;
        if (value && !value->is_null()) {
          if (!value->is_string())
            return Status::User(where + ": the option of a config group to delete must be a string; write ~" + key +
                                " or ~" + key + "=OPTION");
          del.name = value->as_string();
        }
        if (!deletions_.count(key)) deletion_order_.push_back(key);
        deletions_[key] = std::move(del);
        continue;
      }
      ChoiceValue cv;
      if (value && value->is_string()) {
        cv.name = value->as_string();
      } else if (value && value->is_list()) {
        cv.kind = Default::Value::kList;
        for (const Node& item : value->items()) {
          if (!item.is_string())
            return Status::User(where + ": the options of config group '" + o.key +
                                "' must be names (got a " + PyTypeName(item) + "); e.g. " + key + "=[a,b]");
          cv.options.push_back(item.as_string());
        }
      } else {
        return Status::User(where + ": a config group override must be a string or a list (got " +
                            (value ? PyTypeName(*value) : std::string("nothing")) + "); e.g. " + key +
                            "=OPTION, with an option of: " + Join(tree.Options(o.key), ", "));
      }
      if (o.is_add()) {
        Default d;
        d.group = true;
        d.path = o.key;
        d.package = o.package;
        if (d.package && *d.package == "_here_") d.package = "";
        cv.ApplyTo(d);
        d.external_append = true;
        d.where = where;
        appends.push_back(std::move(d));
      } else {
        Meta m;
        m.value = std::move(cv);
        m.external = true;
        m.where = where;
        if (!overrides_.count(key)) override_order_.push_back(key);
        overrides_[key] = std::move(m);
      }
    }
    return Status::Ok();
  }

  // An `override` entry of a defaults list; the command line and entries met
  // earlier win.
  void AddOverride(const std::string& containing, const Default& d) {
    std::string key = d.OverrideKey();
    if (overrides_.count(key)) return;
    Meta m;
    m.value = ValueOf(d);
    m.containing = containing;
    m.where = d.where;
    override_order_.push_back(key);
    overrides_[key] = std::move(m);
  }

  bool IsOverridden(const Default& d) const { return d.group && overrides_.count(d.OverrideKey()); }

  void ApplyOverride(Default& d) {
    auto it = overrides_.find(d.OverrideKey());
    if (it == overrides_.end()) return;
    it->second.value.ApplyTo(d);
    it->second.used = true;
    d.where = it->second.where;
  }

  Status SetKnownChoice(const Default& d) {
    if (!d.group) return Status::Ok();
    std::string key = d.OverrideKey();
    auto it = known_index_.find(key);
    if (it == known_index_.end()) {
      known_index_.emplace(key, known.size());
      known.push_back(Choice{key, d.Name()});
      known_where_.push_back(d.where);
    } else {
      const std::optional<std::string>& prev = known[it->second].option;
      if (d.Name() != prev) {
        std::string p = prev.value_or("null");
        return Status::User(d.where + ": Multiple values for " + key + ": " + d.NameText() + " here and " + p +
                            " from " + known_where_[it->second] +
                            "; name a group once in the defaults lists, and to change a choice made elsewhere "
                            "write 'override " + key + ": " + d.NameText() + "' (or " + key + "=" + d.NameText() +
                            " on the command line)");
      }
    }
    per_group_[d.GroupPath()].insert(key);
    return Status::Ok();
  }

  bool IsDeleted(const Default& d) const {
    if (!d.group) return false;
    auto it = deletions_.find(d.OverrideKey());
    if (it == deletions_.end()) return false;
    return !it->second.name || (d.Name() && *it->second.name == *d.Name());
  }

  void Delete(Default& d) {
    d.deleted = true;
    deletions_[d.OverrideKey()].used = true;
  }

  Status EnsureOverridesUsed() const {
    for (const std::string& key : override_order_) {
      const Meta& m = overrides_.at(key);
      if (m.used) continue;
      std::string group = key.substr(0, key.find('@'));
      auto it = per_group_.find(group);
      std::vector<std::string> choices;
      if (it != per_group_.end()) choices.assign(it->second.begin(), it->second.end());
      std::string msg = "Could not override '" + key + "'";
      if (choices.size() > 1) msg += "; did you mean to override one of " + Join(choices, ", ") + "?";
      else if (choices.size() == 1) msg += "; did you mean to override " + choices[0] + "?";
      else msg += ": no match in the defaults list";
      if (m.external) {
        msg += (choices.empty() ? "; to append to the defaults list use +" : " To append to the defaults list use +") +
               key + "=" + m.value.Text();
      } else {
        msg += "; an override entry can only change a group that a defaults list names (in '" + m.containing +
               "' or a config it includes)";
      }
      return Status::User(m.where + ": " + msg);
    }
    return Status::Ok();
  }

  Status EnsureDeletionsUsed() const {
    for (const std::string& key : deletion_order_) {
      const Deletion& d = deletions_.at(key);
      if (d.used) continue;
      std::string desc = d.name ? key + "=" + *d.name : key;
      return Status::User(d.where + ": Could not delete '" + desc +
                          "': no match in the defaults list; forja config show lists the choices");
    }
    return Status::Ok();
  }

  // Hydra's own groups (hydra_runtime.h); the first met wins, as in AddOverride.
  void AddHydraChoice(const std::string& group, const std::string& option) {
    for (const auto& c : hydra_choices)
      if (c.first == group) return;
    hydra_choices.emplace_back(group, option);
  }

  std::vector<Default> appends;
  std::vector<const Override*> config_overrides;
  std::vector<std::pair<std::string, std::string>> hydra_choices;
  std::vector<Choice> known;

 private:
  struct Meta {
    ChoiceValue value;
    bool external = false;
    std::string containing;
    bool used = false;
    std::string where;
  };
  struct Deletion {
    std::optional<std::string> name;
    bool used = false;
    std::string where;
  };
  std::vector<std::string> override_order_;
  std::unordered_map<std::string, Meta> overrides_;
  std::unordered_map<std::string, size_t> known_index_;
  std::vector<std::string> known_where_;
  std::unordered_map<std::string, std::set<std::string>> per_group_;
  std::vector<std::string> deletion_order_;
  std::unordered_map<std::string, Deletion> deletions_;
};

// "db@pkg:pkg2" -> {"db", "pkg"} (Hydra 1.3 ignores the part after ':').
std::pair<std::string, std::optional<std::string>> SplitGroup(const std::string& s) {
  size_t at = s.find('@');
  if (at == std::string::npos) return {s, std::nullopt};
  std::string pkg = s.substr(at + 1);
  size_t colon = pkg.find(':');
  if (colon != std::string::npos) pkg = pkg.substr(0, colon);
  return {s.substr(0, at), pkg};
}

class Builder {
 public:
  Builder(ConfigTree& tree, OverrideState& st, bool skip_missing)
      : tree_(tree), st_(st), skip_missing_(skip_missing) {}

  // Expands `node` and appends the configs it stands for, in order.
  Status Expand(Default& node, const Default* parent, bool is_root, bool interpolated,
                std::vector<ResultDefault>* out) {
    if (is_root) {
      node.UpdateParent("", "");
      ASSIGN_OR_RETURN(const ConfigFile* f, tree_.Load(node.ConfigPath()));
      if (!f) return NotFound(node, parent);
    }
    if (!node.IsMissing()) {
      ASSIGN_OR_RETURN(const ConfigFile* f, tree_.Load(node.ConfigPath()));
      if (f && f->package_header) node.SetPackageHeader(*f->package_header);
    }
    if (st_.IsDeleted(node)) {
      st_.Delete(node);
      return Status::Ok();
    }
    RETURN_IF_ERROR(st_.SetKnownChoice(node));
    if (!node.Name()) return Status::Ok();
    if (node.ConfigPath().ends_with("???")) {
      if (skip_missing_) return Status::Ok();
      if (node.group) {
        std::string key = node.OverrideKey();
        return Status::User(node.where + ": You must specify '" + key + "', e.g. " + key +
                            "=<OPTION>; available options: " + Join(tree_.Options(node.GroupPath()), ", "));
      }
      return Status::User(node.where + ": a config entry cannot be ??? ('" + node.ConfigPath() +
                          "'); name a config");
    }
    std::string path = node.ConfigPath();
    ASSIGN_OR_RETURN(const ConfigFile* f, tree_.Load(path));
    if (!f) {
      if (node.optional) {
        node.deleted = true;
        return Status::Ok();
      }
      return NotFound(node, parent);
    }
    if (stack_.size() >= kMaxDepth)
      return Status::User(node.where + ": defaults lists nested more than " + std::to_string(kMaxDepth) +
                          " deep (at " + path + "); flatten them");
    if (std::find(stack_.begin(), stack_.end(), path) != stack_.end()) {
      std::string cycle;
      for (auto it = std::find(stack_.begin(), stack_.end(), path); it != stack_.end(); ++it) cycle += *it + " -> ";
      return Status::User(node.where + ": cycle in the defaults lists: " + cycle + path +
                          "; remove one of these entries");
    }

    std::vector<Default> defaults;
    if (f->has_defaults) RETURN_IF_ERROR(ParseDefaults(*f, &defaults));
    bool self_added = false;
    if (!defaults.empty() || (is_root && !st_.appends.empty())) {
      ASSIGN_OR_RETURN(self_added, ValidateSelf(node, *f, &defaults));
    }
    if (is_root) defaults.insert(defaults.end(), st_.appends.begin(), st_.appends.end());
    RETURN_IF_ERROR(UpdateOverrides(&defaults, node, interpolated));

    // Children, last entry first (kept in that order; read back reversed).
    struct Child {
      bool is_self = false;
      bool deferred = false;
      size_t index = 0;
      std::vector<ResultDefault> results;
    };
    std::vector<Child> children;
    stack_.push_back(path);
    const std::string group_path = node.GroupPath();
    const std::string final_package = node.FinalPackage();
    for (size_t i = defaults.size(); i-- > 0;) {
      Default& d = defaults[i];
      if (d.IsSelf()) {
        d.UpdateParent(node.parent_base_dir, node.GetPackage().value_or(""));
        Child c;
        c.is_self = true;
        children.push_back(std::move(c));
        continue;
      }
      if (d.override_) continue;
      d.UpdateParent(group_path, final_package);
      if (st_.IsOverridden(d)) st_.ApplyOverride(d);
      if (d.group && d.value == Default::Value::kList) {
        for (size_t j = d.options.size(); j-- > 0;) {
          const std::string& item = d.options[j];
          if (item.find("${") != std::string::npos)
            return Status::User(d.where + ": interpolation is not supported in a list of options ('" + item +
                                "'); name the options");
          Default c;
          c.path = d.path + "/" + item;
          c.package = d.package;
          c.optional = d.optional;
          c.where = d.where;
          c.UpdateParent(group_path, final_package);
          Child ch;
          RETURN_IF_ERROR(Expand(c, &node, false, interpolated, &ch.results));
          children.push_back(std::move(ch));
        }
        continue;
      }
      if (d.IsInterpolation()) {
        Child ch;
        ch.deferred = true;
        ch.index = i;
        children.push_back(std::move(ch));
        continue;
      }
      Child ch;
      RETURN_IF_ERROR(Expand(d, &node, false, interpolated, &ch.results));
      children.push_back(std::move(ch));
    }

    // Interpolated entries are expanded once every other choice is known.
    bool any_deferred = false;
    for (const Child& c : children) any_deferred |= c.deferred;
    if (any_deferred) {
      Node known = InterpolationMap(defaults, self_added);
      for (Child& c : children) {
        if (!c.deferred) continue;
        Default& d = defaults[c.index];
        RETURN_IF_ERROR(ResolveInterpolation(d, known));
        d.UpdateParent(group_path, final_package);
        RETURN_IF_ERROR(Expand(d, &node, false, true, &c.results));
      }
    }
    stack_.pop_back();

    if (children.empty()) {
      EmitLeaf(node, parent, out);
      return Status::Ok();
    }
    for (auto it = children.rbegin(); it != children.rend(); ++it) {
      if (it->is_self) {
        ResultDefault r;
        r.config_path = path;
        r.is_self = true;
        r.parent = parent ? parent->ConfigPath() : "";
        r.package = node.FinalPackage();
        r.primary = node.primary;
        r.override_key = node.group ? node.OverrideKey() : "";
        r.where = node.where;
        out->push_back(std::move(r));
      } else {
        for (auto& r : it->results) out->push_back(std::move(r));
      }
    }
    return Status::Ok();
  }

  // A node without children stands for itself (unless deleted, skipped or null).
  void EmitLeaf(const Default& node, const Default* parent, std::vector<ResultDefault>* out) {
    if (node.deleted || node.IsMissing() || !node.Name()) return;
    ResultDefault r;
    r.config_path = node.ConfigPath();
    r.parent = parent ? parent->ConfigPath() : "";
    r.package = node.FinalPackage();
    r.override_key = node.group ? node.OverrideKey() : "";
    r.primary = node.primary;
    r.where = node.where;
    out->push_back(std::move(r));
  }

 private:
  Status NotFound(const Default& node, const Default* parent) {
    std::string path = node.ConfigPath();
    if (node.primary) {
      return Status::User(tree_.FileName(path) + ": Cannot find primary config '" + path +
                          "'; pass --config-name NAME (configs here: " +
                          Join(tree_.Options(""), ", ") + ")");
    }
    std::string where = node.where.empty() && parent ? tree_.FileName(parent->ConfigPath()) : node.where;
    if (node.group) {
      std::string group = node.GroupPath();
      std::vector<std::string> options = tree_.Options(group);
      std::string msg = where + ": Could not find '" + path + "'";
      if (!options.empty()) return Status::User(msg + "; available options in '" + group + "': " + Join(options, ", "));
      if (tree_.IsGroup(group)) return Status::User(msg + "; the config group '" + group + "' has no options yet");
      std::vector<std::string> groups = tree_.AllGroups();
      return Status::User(msg + "; there is no config group '" + group + "' in " + tree_.root() +
                          (groups.empty() ? "" : " (groups: " + Join(groups, ", ") + ")"));
    }
    return Status::User(where + ": Could not load '" + path + "': " + tree_.FileName(path) + " does not exist");
  }

  Status ParseDefaults(const ConfigFile& f, std::vector<Default>* out) {
    const Node& list = f.defaults;
    if (!list.is_list()) {
      return Status::User((list.origin().empty() ? f.file : list.origin()) + ": Invalid defaults list in '" +
                          f.config_path + "', defaults must be a list (got " +
                          // Hydra's own word for a dict here
                          (list.is_map() ? "mapping" : PyTypeName(list)) +
                          "); write one entry per line: '- db: mysql'");
    }
    out->reserve(list.items().size() + 1 + st_.appends.size());
    for (const Node& item : list.items()) {
      Default d;
      d.where = item.origin().empty() ? f.file : item.origin();
      if (item.is_map()) {
        if (item.entries().size() != 1) {
          return Status::User(d.where + ": " +
                              (item.entries().empty() ? "Missing group name in default item"
                                                      : "Too many keys in default item {" + ItemKeys(item) + "}") +
                              "; write one '- group: option' per entry");
        }
        const auto& [key, value] = item.entries()[0];
        auto [group_kw, package] = SplitGroup(key);
        // Keywords: "optional db", "override /db", "optional override db".
        std::vector<std::string> words = PySplit(group_kw, ' ');
        d.group = true;
        d.path = words.back();
        for (size_t i = 0; i + 1 < words.size(); i++) {
          if (words[i] == "optional") d.optional = true;
          else if (words[i] == "override") d.override_ = true;
          else break;
        }
        if (d.path.empty() || d.path == "/")
          return Status::User(d.where + ": missing group name in default item '" + key + "'");
        if (value.is_null()) {
          d.value = Default::Value::kNull;
        } else if (value.is_string()) {
          d.name = value.as_string();
        } else if (value.is_list()) {
          d.value = Default::Value::kList;
          for (const Node& v : value.items()) {
            if (!v.is_string())
              return Status::User(d.where + ": Unsupported item value in defaults: " + PyTypeName(v) +
                                  ", nested list items must be strings; write option names");
            d.options.push_back(v.as_string());
          }
        } else {
          return Status::User(d.where + ": Unsupported item value in defaults: " + PyTypeName(value) +
                              ". Supported: string or list; quote an option name that looks like a number");
        }
        d.package = package;
      } else if (item.is_string()) {
        auto [path, package] = SplitGroup(item.as_string());
        d.path = path;
        d.package = package;
        if (path == "_self_" && package)
          return Status::User(d.where + ": _self_@PACKAGE is not supported; write _self_");
      } else {
        return Status::User(d.where + ": Unsupported type in defaults: " + PyTypeName(item) +
                            "; write '- group: option', '- config' or '- _self_'");
      }
      if (d.package && *d.package == "_here_") d.package = "";
      out->push_back(std::move(d));
    }
    return Status::Ok();
  }

  static std::string ItemKeys(const Node& item) {
    std::vector<std::string> keys;
    for (const auto& e : item.entries()) keys.push_back(e.first);
    return Join(keys, ", ");
  }

  // _self_ at most once; added at the end when absent (Hydra >= 1.1).
  Result<bool> ValidateSelf(const Default& node, const ConfigFile&, std::vector<Default>* defaults) {
    bool has_self = false, has_non_override = false;
    for (const Default& d : *defaults) {
      if (!d.override_) has_non_override = true;
      if (d.IsSelf()) {
        if (has_self)
          return Status::User(d.where + ": Duplicate _self_ defined in " + node.ConfigPath() +
                              "; keep one _self_ entry");
        has_self = true;
      }
    }
    if ((!has_self && has_non_override) || defaults->empty()) defaults->push_back(Default::Self(node.where));
    return !has_self;
  }

  Status UpdateOverrides(std::vector<Default>* defaults, const Default& node, bool interpolated) {
    bool seen_override = false;
    const Default* last = nullptr;
    const std::string group_path = node.GroupPath();
    const std::string final_package = node.FinalPackage();
    for (Default& d : *defaults) {
      if (d.IsSelf()) continue;
      d.UpdateParent(group_path, final_package);
      if (seen_override && !(d.override_ || d.external_append)) {
        return Status::User(d.where + ": Override '" + last->OverrideKey() + " : " + last->NameText() +
                            "' is defined before '" + d.OverrideKey() + ": " + d.NameText() + "' in " +
                            node.ConfigPath() + "; overrides must be at the end of the defaults list");
      }
      if (d.group && d.override_) {
        seen_override = true;
        last = &d;
        if (interpolated)
          return Status::User(d.where + ": " + node.ConfigPath() +
                              ": defaults list overrides are not allowed in the subtree of an interpolated config "
                              "group (override " + d.OverrideKey() + "=" + d.NameText() + ")");
        // `override hydra/launcher: joblib` and the like configure Hydra's own
        // runtime, which forja does not have: nothing to do.
        if (d.GroupPath().starts_with("hydra/")) {
          st_.AddHydraChoice(d.GroupPath(), d.NameText() == "None" ? "null" : d.NameText());
          continue;
        }
        st_.AddOverride(node.ConfigPath(), d);
      }
    }
    return Status::Ok();
  }

  // What an interpolation in a defaults list can name: the choices so far and
  // this list's entries (`defaults`).
  Node InterpolationMap(const std::vector<Default>& defaults, bool self_added) const {
    Node m = Node::Map();
    for (const Choice& c : st_.known) m.Set(c.key, c.option ? Node::String(*c.option) : Node::Null());
    Node list = Node::List();
    for (const Default& d : defaults) {
      if (self_added && d.IsSelf()) continue;
      if (!d.group) {
        list.items().push_back(Node::String(d.ConfigPath()));
      } else {
        Node v;
        if (d.value == Default::Value::kName) v = Node::String(d.name);
        else if (d.value == Default::Value::kList) {
          v = Node::List();
          for (const auto& o : d.options) v.items().push_back(Node::String(o));
        }
        list.items().push_back(Node::Map({{d.OverrideKey(), std::move(v)}}));
      }
    }
    m.Set("defaults", std::move(list));
    return m;
  }

  Status ResolveInterpolation(Default& d, const Node& known) {
    std::string val = d.group ? d.name : d.ConfigPath();
    if (d.group && val.starts_with("${defaults.")) {
      size_t p = val.find("${defaults.");
      if (p + 12 < val.size() && isdigit(static_cast<unsigned char>(val[p + 11])) && val[p + 12] == '.')
        return Status::User(d.where + ": '" + d.OverrideKey() + "=" + val +
                            "' uses the interpolation form of Hydra 1.0, which is not supported; use ${group} "
                            "to name a group's choice");
    }
    Node root = known;
    root.Set("_dummy_", Node::String(val));
    auto r = ResolveValue(root, "_dummy_");
    if (!r.ok() || !r->is_string()) {
      std::vector<std::string> keys;
      for (const auto& e : known.entries())
        if (e.first != "defaults") keys.push_back(e.first);
      return Status::User(d.where + ": Error resolving interpolation '" + val + "'" +
                          (keys.empty() ? "" : "; possible interpolation keys: " + Join(keys, ", ")));
    }
    if (d.group) d.name = r->as_string();
    else d.path = r->as_string();
    return Status::Ok();
  }

  ConfigTree& tree_;
  OverrideState& st_;
  bool skip_missing_;
  std::vector<std::string> stack_;  // configs being expanded, for cycle detection
  static constexpr size_t kMaxDepth = 200;
};

}  // namespace

Result<DefaultsList> BuildDefaultsList(ConfigTree& tree, const std::string& config_name,
                                       const std::vector<Override>& overrides, bool skip_missing) {
  if (!tree.RootExists())
    return Status::User(tree.root() + ": the config folder does not exist; create it, pass --config-dir DIR, "
                        "or set config.root in forja.yaml");
  OverrideState st;
  RETURN_IF_ERROR(st.Init(tree, overrides));
  Default primary;
  primary.path = config_name;
  primary.primary = true;
  primary.where = tree.FileName(config_name);
  Builder b(tree, st, skip_missing);
  DefaultsList out;
  RETURN_IF_ERROR(b.Expand(primary, nullptr, true, false, &out.defaults));

  std::unordered_map<std::string, size_t> seen;
  for (const ResultDefault& r : out.defaults) {
    if (r.is_self || r.override_key.empty()) continue;
    if (!seen.emplace(r.override_key, 0).second)
      return Status::User(r.where + ": " + r.override_key +
                          " appears more than once in the final defaults list; name each group once");
  }
  RETURN_IF_ERROR(st.EnsureOverridesUsed());
  RETURN_IF_ERROR(st.EnsureDeletionsUsed());
  for (ResultDefault& r : out.defaults) r.file = tree.FileName(r.config_path);
  out.choices = std::move(st.known);
  out.config_overrides = std::move(st.config_overrides);
  out.hydra_choices = std::move(st.hydra_choices);
  return out;
}

}  // namespace forja::config
