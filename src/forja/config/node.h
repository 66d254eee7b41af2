// A configuration value as OmegaConf models it: null, bool, int, float, string,
// list, or an insertion-ordered mapping. Strings may hold interpolations
// ("${a.b}") and the mandatory marker "???"; both are resolved later.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "forja/core/status.h"

namespace forja::config {

class Node {
 public:
  enum class Kind { kNull, kBool, kInt, kFloat, kString, kList, kMap };
  using Entry = std::pair<std::string, Node>;

  Node() = default;
  static Node Null() { return Node(); }
  static Node Bool(bool v);
  static Node Int(int64_t v);
  static Node Float(double v);
  static Node String(std::string v);
  static Node List(std::vector<Node> items = {});
  static Node Map(std::vector<Entry> entries = {});

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_map() const { return kind_ == Kind::kMap; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_scalar() const { return kind_ != Kind::kList && kind_ != Kind::kMap; }
  // "???": a value that must be given before it is read.
  bool is_missing() const { return kind_ == Kind::kString && str_ == "???"; }
  bool has_interpolation() const;

  bool as_bool() const { return bool_; }
  int64_t as_int() const { return int_; }
  double as_float() const { return float_; }
  const std::string& as_string() const { return str_; }
  std::vector<Node>& items() { return list_; }
  const std::vector<Node>& items() const { return list_; }
  std::vector<Entry>& entries() { return map_; }
  const std::vector<Entry>& entries() const { return map_; }

  // Mapping access. Find returns null when absent; Set replaces or appends.
  Node* Find(std::string_view key);
  const Node* Find(std::string_view key) const;
  Node& Set(std::string key, Node value);
  bool Erase(std::string_view key);

  // Dotted-path access ("a.b.0.c"; list indexes are numbers). Null when absent.
  Node* Select(std::string_view path);
  const Node* Select(std::string_view path) const;

  // Where the value came from, for `forja config explain` (e.g. "conf/db/mysql.yaml:3").
  const std::string& origin() const { return origin_; }
  void set_origin(std::string o) { origin_ = std::move(o); }
  // Sets the origin of this node and everything under it.
  void SetOriginDeep(const std::string& o);

  bool operator==(const Node& o) const;
  bool operator!=(const Node& o) const { return !(*this == o); }

  // A short name of the kind: "null", "bool", "int", "float", "str", "list", "dict".
  const char* KindName() const;

 private:
  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  int64_t int_ = 0;
  double float_ = 0;
  std::string str_;
  std::vector<Node> list_;
  std::vector<Entry> map_;
  std::string origin_;
};

// Parses YAML text with OmegaConf's typing (YAML 1.1 plain scalars: yes/no/on/off
// are bools, 0x10 and 010 are ints, 1e-3 is a float, ~ is null). Errors read
// "<name>:<line>:<col>: <what>". Origins are set to "<name>:<line>".
Result<Node> ParseYaml(std::string_view text, const std::string& name);

// Types one plain (unquoted) YAML scalar the way OmegaConf's loader does.
Node TypePlainScalar(std::string_view text);

// OmegaConf.to_yaml's layout: block style, keys in insertion order.
std::string ToYaml(const Node& node);
// JSON with keys in insertion order; nan/inf as strings "nan", "inf", "-inf".
std::string ToJson(const Node& node, int indent = 2);
// A scalar as Python str() prints it (OmegaConf string interpolation): "1.0", "1e-05",
// "True", "None".
std::string ScalarToString(const Node& node);

// Python's repr() of a float: "1.0", "1e-05", "inf", "nan".
std::string PythonFloatRepr(double v);

// A structural merge: mappings merge key by key, anything else is replaced by
// `src`. (Composition applies OmegaConf's full rules in compose.cc.)
void Merge(Node& dst, const Node& src);

}  // namespace forja::config
