#include "forja/config/node.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "forja/config/py_values.h"
#include "forja/core/json.h"

namespace forja::config {

// ---- construction and access ------------------------------------------------

Node Node::Bool(bool v) {
  Node n;
  n.kind_ = Kind::kBool;
  n.bool_ = v;
  return n;
}
Node Node::Int(int64_t v) {
  Node n;
  n.kind_ = Kind::kInt;
  n.int_ = v;
  return n;
}
Node Node::Float(double v) {
  Node n;
  n.kind_ = Kind::kFloat;
  n.float_ = v;
  return n;
}
Node Node::String(std::string v) {
  Node n;
  n.kind_ = Kind::kString;
  n.str_ = std::move(v);
  return n;
}
Node Node::List(std::vector<Node> items) {
  Node n;
  n.kind_ = Kind::kList;
  n.list_ = std::move(items);
  return n;
}
Node Node::Map(std::vector<Entry> entries) {
  Node n;
  n.kind_ = Kind::kMap;
  n.map_ = std::move(entries);
  return n;
}

bool Node::has_interpolation() const {
  return kind_ == Kind::kString && str_.find("${") != std::string::npos;
}

Node* Node::Find(std::string_view key) {
  for (auto& e : map_)
    if (e.first == key) return &e.second;
  return nullptr;
}
const Node* Node::Find(std::string_view key) const {
  for (const auto& e : map_)
    if (e.first == key) return &e.second;
  return nullptr;
}

Node& Node::Set(std::string key, Node value) {
  if (Node* n = Find(key)) {
    *n = std::move(value);
    return *n;
  }
  map_.emplace_back(std::move(key), std::move(value));
  return map_.back().second;
}

bool Node::Erase(std::string_view key) {
  for (auto it = map_.begin(); it != map_.end(); ++it) {
    if (it->first == key) {
      map_.erase(it);
      return true;
    }
  }
  return false;
}

namespace {
template <typename N>
N* SelectImpl(N* node, std::string_view path) {
  if (path.empty()) return node;
  size_t i = 0;
  while (node && i <= path.size()) {
    size_t j = path.find('.', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (node->is_map()) {
      node = node->Find(part);
    } else if (node->is_list()) {
      size_t idx = 0;
      auto r = std::from_chars(part.data(), part.data() + part.size(), idx);
      if (r.ec != std::errc() || r.ptr != part.data() + part.size() || idx >= node->items().size())
        return nullptr;
      node = &node->items()[idx];
    } else {
      return nullptr;
    }
    i = j + 1;
  }
  return node;
}
}  // namespace

Node* Node::Select(std::string_view path) { return SelectImpl(this, path); }
const Node* Node::Select(std::string_view path) const { return SelectImpl(this, path); }

void Node::SetOriginDeep(const std::string& o) {
  origin_ = o;
  for (auto& n : list_) n.SetOriginDeep(o);
  for (auto& e : map_) e.second.SetOriginDeep(o);
}

bool Node::operator==(const Node& o) const {
  if (kind_ != o.kind_) return false;
  switch (kind_) {
    case Kind::kNull: return true;
    case Kind::kBool: return bool_ == o.bool_;
    case Kind::kInt: return int_ == o.int_;
    case Kind::kFloat: return float_ == o.float_ || (std::isnan(float_) && std::isnan(o.float_));
    case Kind::kString: return str_ == o.str_;
    case Kind::kList: return list_ == o.list_;
    case Kind::kMap: return map_ == o.map_;
  }
  return false;
}

const char* Node::KindName() const {
  switch (kind_) {
    case Kind::kNull: return "null";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return "str";
    case Kind::kList: return "list";
    case Kind::kMap: return "dict";
  }
  return "?";
}

// ---- YAML 1.1 typing of plain scalars, as OmegaConf's loader does it ---------------

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsYamlBool(std::string_view s, bool* v) {
  static const char* const kTrue[] = {"yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"};
  static const char* const kFalse[] = {"no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"};
  for (const char* t : kTrue)
    if (s == t) return *v = true;
  for (const char* f : kFalse)
    if (s == f) {
      *v = false;
      return true;
    }
  return false;
}

bool IsYamlNull(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

// Consumes [set]* starting at i; returns the new index.
template <typename Pred>
size_t Span(std::string_view s, size_t i, Pred p) {
  while (i < s.size() && p(s[i])) i++;
  return i;
}

// ":[0-5]?[0-9]" repeated at least once (sexagesimal groups).
size_t SexagesimalGroups(std::string_view s, size_t i, std::vector<int>* parts) {
  size_t start = i;
  while (i < s.size() && s[i] == ':') {
    size_t j = i + 1;
    if (j < s.size() && IsDigit(s[j])) {
      int v = s[j] - '0';
      j++;
      if (j < s.size() && IsDigit(s[j]) && s[j - 1] <= '5') {
        v = v * 10 + (s[j] - '0');
        j++;
      }
      if (parts) parts->push_back(v);
      i = j;
    } else {
      break;
    }
  }
  return i == start ? std::string::npos : i;
}

bool IsYamlInt(std::string_view s, int64_t* v) {
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  std::string_view body = s.substr(i);
  if (body.empty()) return false;
  auto finish = [&](std::string digits, int base) {
    if (digits.empty()) return false;
    errno = 0;
    char* end = nullptr;
    long long x = std::strtoll(digits.c_str(), &end, base);
    if (*end || errno) return false;
    *v = neg ? -x : x;
    return true;
  };
  // 0b[0-1_]+
  if (body.size() > 2 && body[0] == '0' && body[1] == 'b') {
    if (Span(body, 2, [](char c) { return c == '0' || c == '1' || c == '_'; }) != body.size()) return false;
    return finish(WithoutUnderscores(body.substr(2)), 2);
  }
  // 0x[0-9a-fA-F_]+
  if (body.size() > 2 && body[0] == '0' && body[1] == 'x') {
    if (Span(body, 2, [](char c) { return isxdigit(static_cast<unsigned char>(c)) || c == '_'; }) != body.size())
      return false;
    return finish(WithoutUnderscores(body.substr(2)), 16);
  }
  if (body == "0") return finish("0", 10);
  // 0[0-7_]+ (octal)
  if (body[0] == '0') {
    if (Span(body, 1, [](char c) { return (c >= '0' && c <= '7') || c == '_'; }) != body.size()) return false;
    std::string d = WithoutUnderscores(body.substr(1));
    return finish(d.empty() ? "0" : d, 8);
  }
  if (body[0] < '1' || body[0] > '9') return false;
  size_t j = Span(body, 1, [](char c) { return IsDigit(c) || c == '_'; });
  if (j == body.size()) return finish(WithoutUnderscores(body), 10);
  // [1-9][0-9_]*(:[0-5]?[0-9])+ (base 60)
  std::vector<int> parts;
  size_t k = SexagesimalGroups(body, j, &parts);
  if (k != body.size()) return false;
  errno = 0;
  long long head = std::strtoll(WithoutUnderscores(body.substr(0, j)).c_str(), nullptr, 10);
  if (errno) return false;
  int64_t x = head;
  for (int p : parts) {
    if (__builtin_mul_overflow(x, 60, &x) || __builtin_add_overflow(x, p, &x)) return false;
  }
  *v = neg ? -x : x;
  return true;
}

// Digits then (_digits)*: OmegaConf's "[0-9]+(?:_[0-9]+)*".
size_t StrictDigits(std::string_view s, size_t i) {
  size_t j = Span(s, i, IsDigit);
  if (j == i) return std::string::npos;
  while (j < s.size() && s[j] == '_') {
    size_t k = Span(s, j + 1, IsDigit);
    if (k == j + 1) return j;  // the '_' is not followed by digits: stop before it
    j = k;
  }
  return j;
}

// [eE][-+]?[0-9]+ (sign optional when `sign_optional`).
size_t Exponent(std::string_view s, size_t i, bool sign_optional) {
  if (i >= s.size() || (s[i] != 'e' && s[i] != 'E')) return std::string::npos;
  i++;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) i++;
  else if (!sign_optional) return std::string::npos;
  size_t j = Span(s, i, IsDigit);
  return j == i ? std::string::npos : j;
}

// The union of PyYAML's YAML 1.1 float pattern and the one OmegaConf adds.
bool MatchesYamlFloat(std::string_view s) {
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return true;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) i++;
  std::string_view r = s.substr(i);
  if (r == ".inf" || r == ".Inf" || r == ".INF") return true;
  auto exp_to_end = [&](size_t j, bool sign_optional) {
    if (j == s.size()) return true;
    size_t e = Exponent(s, j, sign_optional);
    return e == s.size();
  };
  if (i < s.size() && IsDigit(s[i])) {
    // PyYAML: [0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?  and  [0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*
    size_t j = Span(s, i, [](char c) { return IsDigit(c) || c == '_'; });
    if (j < s.size() && s[j] == '.') {
      size_t k = Span(s, j + 1, [](char c) { return IsDigit(c) || c == '_'; });
      if (exp_to_end(k, false)) return true;
    }
    size_t sx = SexagesimalGroups(s, j, nullptr);
    if (sx != std::string::npos && sx < s.size() && s[sx] == '.' &&
        Span(s, sx + 1, [](char c) { return IsDigit(c) || c == '_'; }) == s.size())
      return true;
    // OmegaConf: [0-9]+(_[0-9]+)*\.[0-9_]*([eE][-+]?[0-9]+)?  and  [0-9]+(_[0-9]+)*[eE][-+]?[0-9]+
    size_t d = StrictDigits(s, i);
    if (d != std::string::npos) {
      if (d < s.size() && s[d] == '.') {
        size_t k = Span(s, d + 1, [](char c) { return IsDigit(c) || c == '_'; });
        if (exp_to_end(k, true)) return true;
      } else if (d < s.size() && Exponent(s, d, true) == s.size()) {
        return true;
      }
    }
    return false;
  }
  // Unsigned ".5": PyYAML \.[0-9_]+([eE][-+][0-9]+)?  and  OmegaConf \.[0-9]+(_[0-9]+)*([eE][-+][0-9]+)?
  if (i == 0 && s.size() > 1 && s[0] == '.') {
    size_t k = Span(s, 1, [](char c) { return IsDigit(c) || c == '_'; });
    if (k > 1 && exp_to_end(k, false)) return true;
  }
  return false;
}

double ParseYamlFloat(std::string_view s) {
  std::string t = WithoutUnderscores(s);
  for (auto& c : t) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  double sign = 1;
  std::string_view r = t;
  if (!r.empty() && (r[0] == '+' || r[0] == '-')) {
    if (r[0] == '-') sign = -1;
    r.remove_prefix(1);
  }
  if (r == ".inf") return sign * INFINITY;
  if (r == ".nan") return NAN;
  if (r.find(':') != std::string_view::npos) {
    double x = 0;
    size_t i = 0;
    while (true) {
      size_t j = r.find(':', i);
      if (j == std::string_view::npos) {
        x = x * 60 + std::strtod(std::string(r.substr(i)).c_str(), nullptr);
        break;
      }
      x = x * 60 + std::strtod(std::string(r.substr(i, j - i)).c_str(), nullptr);
      i = j + 1;
    }
    return sign * x;
  }
  return sign * std::strtod(std::string(r).c_str(), nullptr);
}

}  // namespace

Node TypePlainScalar(std::string_view text) {
  if (IsYamlNull(text)) return Node::Null();
  bool b;
  if (IsYamlBool(text, &b)) return Node::Bool(b);
  int64_t i;
  if (IsYamlInt(text, &i)) return Node::Int(i);
  if (MatchesYamlFloat(text)) return Node::Float(ParseYamlFloat(text));
  return Node::String(std::string(text));
}

// ---- YAML in ----------------------------------------------------------------------

namespace {

Status YamlError(const std::string& name, const YAML::Mark& m, const std::string& what) {
  return Status::User(name + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1) +
                      ": " + what);
}

Result<Node> Convert(const YAML::Node& y, const std::string& name) {
  Node out;
  std::string origin = name + ":" + std::to_string(y.Mark().line + 1);
  switch (y.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      break;
    case YAML::NodeType::Scalar: {
      const std::string& tag = y.Tag();
      if (tag == "?") out = TypePlainScalar(y.Scalar());
      else if (tag == "!" || tag == "tag:yaml.org,2002:str") out = Node::String(y.Scalar());
      else if (tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float" ||
               tag == "tag:yaml.org,2002:bool" || tag == "tag:yaml.org,2002:null") {
        out = TypePlainScalar(y.Scalar());
      } else {
        return YamlError(name, y.Mark(), "unsupported tag '" + tag + "'");
      }
      break;
    }
    case YAML::NodeType::Sequence: {
      out = Node::List();
      for (const auto& item : y) {
        ASSIGN_OR_RETURN(Node n, Convert(item, name));
        out.items().push_back(std::move(n));
      }
      break;
    }
    case YAML::NodeType::Map: {
      out = Node::Map();
      for (const auto& kv : y) {
        if (!kv.first.IsScalar()) return YamlError(name, kv.first.Mark(), "keys must be plain names");
        std::string key = kv.first.Scalar();
        if (out.Find(key)) return YamlError(name, kv.first.Mark(), "found duplicate key " + key);
        ASSIGN_OR_RETURN(Node n, Convert(kv.second, name));
        out.entries().emplace_back(std::move(key), std::move(n));
      }
      break;
    }
  }
  out.set_origin(origin);
  return out;
}

}  // namespace

Result<Node> ParseYaml(std::string_view text, const std::string& name) {
  YAML::Node y;
  try {
    y = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return YamlError(name, e.mark, "malformed YAML: " + e.msg);
  }
  try {
    return Convert(y, name);
  } catch (const YAML::Exception& e) {
    return YamlError(name, e.mark, e.msg);
  }
}

// ---- output -----------------------------------------------------------------------

namespace {

// Python's repr() of a float: shortest round-trip digits; scientific when the
// decimal exponent is < -4 or >= 16.
std::string PythonFloatImpl(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, r.ptr);  // e.g. "-1.2345e+02"
  size_t e = sci.find('e');
  int exp = std::atoi(sci.c_str() + e + 1);
  std::string mant = sci.substr(0, e);
  bool neg = mant[0] == '-';
  if (neg) mant.erase(0, 1);
  std::string digits;
  for (char c : mant)
    if (c != '.') digits += c;
  std::string out = neg ? "-" : "";
  if (exp < -4 || exp >= 16) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    return out + eb;
  }
  if (exp < 0) return out + "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  size_t point = static_cast<size_t>(exp) + 1;
  if (digits.size() <= point) return out + digits + std::string(point - digits.size(), '0') + ".0";
  return out + digits.substr(0, point) + "." + digits.substr(point);
}

// Python's float() would accept it (OmegaConf's dumper quotes such strings).
bool PythonParsesAsNumber(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n"), e = s.find_last_not_of(" \t\n");
  if (b == std::string::npos) return false;
  std::string t;
  for (size_t i = b; i <= e; i++) {
    char c = s[i];
    if (c == '_') {
      if (i == b || i == e || !IsDigit(s[i - 1]) || !IsDigit(s[i + 1])) return false;
      continue;
    }
    t += static_cast<char>(tolower(static_cast<unsigned char>(c)));
  }
  std::string_view r = t;
  if (!r.empty() && (r[0] == '+' || r[0] == '-')) r.remove_prefix(1);
  if (r == "inf" || r == "infinity" || r == "nan") return true;
  if (r.find_first_of("0123456789") == std::string_view::npos) return false;
  if (r.find_first_not_of("0123456789.e+-") != std::string_view::npos) return false;
  char* end = nullptr;
  std::strtod(t.c_str(), &end);
  return *end == '\0';
}

// Whether a string must be quoted in YAML so it reads back as the same string.
bool NeedsQuotes(const std::string& s) {
  if (s.empty()) return true;
  Node typed = TypePlainScalar(s);
  if (typed.kind() != Node::Kind::kString) return true;
  if (s == "y" || s == "Y" || s == "n" || s == "N" || PythonParsesAsNumber(s)) return true;
  if (s == "=") return true;  // PyYAML reads a plain = as its tag:yaml.org,2002:value (Hydra's kv_sep)
  if (s.front() == ' ' || s.back() == ' ') return true;
  static const std::string kStart = "-?:,[]{}#&*!|>'\"%@`";
  if (kStart.find(s.front()) != std::string::npos) {
    // "-x", ":x", "?x" are plain when followed by a non-space; keep it simple and quote.
    return true;
  }
  if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos) return true;
  if (s.back() == ':') return true;
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  return false;
}

std::string DoubleQuoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\x%02x", static_cast<unsigned char>(c));
          out += b;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string YamlString(const std::string& s) {
  if (!NeedsQuotes(s)) return s;
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return DoubleQuoted(s);
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "''";
    else out += c;
  }
  return out + "'";
}

std::string YamlScalar(const Node& n) {
  switch (n.kind()) {
    case Node::Kind::kNull: return "null";
    case Node::Kind::kBool: return n.as_bool() ? "true" : "false";
    case Node::Kind::kInt: return std::to_string(n.as_int());
    case Node::Kind::kFloat: {
      double v = n.as_float();
      if (std::isnan(v)) return ".nan";
      if (std::isinf(v)) return v > 0 ? ".inf" : "-.inf";
      // PyYAML writes 1e-05 as 1.0e-05 so that YAML 1.1 reads it back as a float.
      std::string f = PythonFloatRepr(v);
      size_t e = f.find('e');
      if (e != std::string::npos && f.find('.') == std::string::npos) f.insert(e, ".0");
      return f;
    }
    case Node::Kind::kString: return YamlString(n.as_string());
    default: return "";
  }
}

bool IsEmptyCollection(const Node& n) {
  return (n.is_map() && n.entries().empty()) || (n.is_list() && n.items().empty());
}

void EmitYaml(const Node& n, int indent, std::string* out);

// A value after "key:" or "- ".
void EmitValue(const Node& v, int indent, bool in_list, std::string* out) {
  if (v.is_map() && !v.entries().empty()) {
    if (in_list) {
      // "- a: 1\n  b: 2": the first key shares the dash's line.
      std::string sub;
      EmitYaml(v, indent + 2, &sub);
      *out += " " + sub.substr(static_cast<size_t>(indent + 2));
    } else {
      *out += "\n";
      EmitYaml(v, indent + 2, out);
    }
  } else if (v.is_list() && !v.items().empty()) {
    *out += "\n";
    // PyYAML does not indent a list under a mapping key, but does inside a list.
    EmitYaml(v, in_list ? indent + 2 : indent, out);
  } else if (IsEmptyCollection(v)) {
    *out += v.is_map() ? " {}\n" : " []\n";
  } else {
    *out += " " + YamlScalar(v) + "\n";
  }
}

void EmitYaml(const Node& n, int indent, std::string* out) {
  std::string pad(static_cast<size_t>(indent), ' ');
  if (n.is_map()) {
    for (const auto& [k, v] : n.entries()) {
      *out += pad + YamlString(k) + ":";
      EmitValue(v, indent, false, out);
    }
  } else if (n.is_list()) {
    for (const auto& item : n.items()) {
      *out += pad + "-";
      EmitValue(item, indent, true, out);
    }
  }
}


void EmitJson(const Node& n, int indent, int level, std::string* out) {
  std::string nl = indent > 0 ? "\n" : "";
  std::string pad(static_cast<size_t>(indent * (level + 1)), ' ');
  std::string close_pad(static_cast<size_t>(indent * level), ' ');
  std::string sep = indent > 0 ? ": " : ":";
  switch (n.kind()) {
    case Node::Kind::kNull: *out += "null"; return;
    case Node::Kind::kBool: *out += n.as_bool() ? "true" : "false"; return;
    case Node::Kind::kInt: *out += std::to_string(n.as_int()); return;
    case Node::Kind::kFloat: {
      double v = n.as_float();
      if (std::isnan(v) || std::isinf(v)) AppendJsonString(out, PythonFloatRepr(v));
      else *out += PythonFloatRepr(v);
      return;
    }
    case Node::Kind::kString: AppendJsonString(out, n.as_string()); return;
    case Node::Kind::kList: {
      if (n.items().empty()) {
        *out += "[]";
        return;
      }
      *out += "[" + nl;
      for (size_t i = 0; i < n.items().size(); i++) {
        *out += pad;
        EmitJson(n.items()[i], indent, level + 1, out);
        *out += (i + 1 < n.items().size() ? "," : "") + nl;
      }
      *out += close_pad + "]";
      return;
    }
    case Node::Kind::kMap: {
      if (n.entries().empty()) {
        *out += "{}";
        return;
      }
      *out += "{" + nl;
      for (size_t i = 0; i < n.entries().size(); i++) {
        *out += pad;
        AppendJsonString(out, n.entries()[i].first);
        *out += sep;
        EmitJson(n.entries()[i].second, indent, level + 1, out);
        *out += (i + 1 < n.entries().size() ? "," : "") + nl;
      }
      *out += close_pad + "}";
      return;
    }
  }
}

}  // namespace

std::string ToYaml(const Node& node) {
  if (node.is_map() && node.entries().empty()) return "{}\n";
  if (node.is_list() && node.items().empty()) return "[]\n";
  if (node.is_scalar()) return YamlScalar(node) + "\n";
  std::string out;
  EmitYaml(node, 0, &out);
  return out;
}

std::string ToJson(const Node& node, int indent) {
  std::string out;
  if (indent < 0) indent = 0;
  EmitJson(node, indent, 0, &out);
  return out;
}

std::string PythonFloatRepr(double v) { return PythonFloatImpl(v); }

std::string ScalarToString(const Node& n) {
  switch (n.kind()) {
    case Node::Kind::kNull: return "None";
    case Node::Kind::kBool: return n.as_bool() ? "True" : "False";
    case Node::Kind::kInt: return std::to_string(n.as_int());
    case Node::Kind::kFloat: return PythonFloatRepr(n.as_float());
    case Node::Kind::kString: return n.as_string();
    default: return "";
  }
}

// ---- merge ------------------------------------------------------------------------

void Merge(Node& dst, const Node& src) {
  if (!dst.is_map() || !src.is_map()) {
    dst = src;
    return;
  }
  for (const auto& [k, v] : src.entries()) {
    Node* existing = dst.Find(k);
    if (existing) Merge(*existing, v);
    else dst.Set(k, v);
  }
}

}  // namespace forja::config
