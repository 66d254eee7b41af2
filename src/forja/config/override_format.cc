// Writing overrides back: FormatValue and FormatOverride (Hydra's text, or a
// lossless one that parses back to the same values), and the canonical JSON
// of a parse (OverrideToJson, the format of tests/config/overrides.jsonl).
#include <algorithm>
#include <string>

#include "forja/config/override.h"
#include "forja/config/override_lexer.h"
#include "forja/config/py_values.h"
#include "forja/core/json.h"

namespace forja::config {

namespace {

// Whether `text` (an escaped unquoted string) parses back as that string: only
// primitive tokens, and not one INT/FLOAT/BOOL/NULL token on its own.
bool ReadsBackAsString(std::string_view text, bool dict_key) {
  std::string with_key = "x=" + std::string(text);
  bool value_mode_error = false;
  std::vector<hydra::Token> toks = hydra::Lex(with_key, &value_mode_error);
  // toks: ID "x", EQUAL, ..., EOF
  if (toks.size() < 4 || toks.back().type != hydra::Tok::kEof) return false;
  for (size_t k = 2; k + 1 < toks.size(); k++)
    if (!(dict_key ? hydra::InDictKey(toks[k].type) : hydra::InPrimitive(toks[k].type)) ||
        toks[k].type == hydra::Tok::kWs)
      return false;
  if (toks.size() == 4) {
    hydra::Tok t = toks[2].type;
    if (t == hydra::Tok::kInt || t == hydra::Tok::kFloat || t == hydra::Tok::kBool || t == hydra::Tok::kNull)
      return false;
  }
  return true;
}

std::string ExactString(const std::string& s) {
  std::string esc = hydra::EscapeSpecial(s);
  if (!s.empty() && ReadsBackAsString(esc, false)) return esc;
  return hydra::WithQuotes(s, '\'');
}

// Dict keys come from the parse, where they are typed ("1", "true", "1.5" are
// an int, a bool, a float); their escaped text reads back to the same key.
std::string ExactKey(const std::string& k) { return hydra::EscapeSpecial(k); }

std::string ExactText(const Node& n) {
  switch (n.kind()) {
    case Node::Kind::kNull: return "null";
    case Node::Kind::kBool: return n.as_bool() ? "true" : "false";
    case Node::Kind::kInt:
    case Node::Kind::kFloat: return ScalarToString(n);
    case Node::Kind::kString: return ExactString(n.as_string());
    default: return ContainerText(n, ",", ":", ExactKey, ExactText);
  }
}

std::string ItemText(const Element& e, Style style) {
  return style == Style::kHydra ? e.text : ExactText(e.node);
}

std::string WithTags(const std::vector<std::string>& tags, std::string sweep) {
  if (tags.empty()) return sweep;
  std::string out = "tag(";
  for (const std::string& t : tags) out += ExactString(t) + ",";
  return out + sweep + ")";
}

std::string ChoiceText(const ChoiceSweep& c, Style style) {
  std::string body;
  for (size_t k = 0; k < c.items.size(); k++) {
    if (k) body += ',';
    body += ItemText(c.items[k], style);
  }
  std::string s;
  if (c.items.empty()) {
    // Only functions make an empty choice: shuffle() and what wraps it.
    s = c.simple_form ? (c.shuffle ? "shuffle()" : "str(shuffle())")
                      : (c.shuffle ? "choice(shuffle())" : "str(choice(shuffle()))");
  } else if (!c.simple_form) {
    s = "choice(" + body + ")";
    if (c.shuffle) s = "shuffle(" + s + ")";
  } else if (c.shuffle) {
    s = "shuffle(" + body + ")";
  } else if (c.tags.empty()) {
    s = body;
  } else {
    // tag() needs one function call for the sweep; a simple form with tags
    // comes from a cast (all items one type) or from sort().
    Node::Kind kind = c.items[0].node.kind();
    bool same = std::all_of(c.items.begin(), c.items.end(),
                            [&](const Element& e) { return e.node.kind() == kind; });
    const char* cast = !same ? nullptr
                       : kind == Node::Kind::kInt ? "int"
                       : kind == Node::Kind::kFloat ? "float"
                       : kind == Node::Kind::kBool ? "bool"
                       : kind == Node::Kind::kString ? "str" : nullptr;
    if (cast) {
      s = std::string(cast) + "(" + body + ")";
    } else {
      bool descending = false;
      for (size_t k = 1; k < c.items.size(); k++) {
        auto num = [](const Node& n) -> long double {
          return n.kind() == Node::Kind::kBool ? n.as_bool()
                 : n.kind() == Node::Kind::kInt ? static_cast<long double>(n.as_int()) : n.as_float();
        };
        if (num(c.items[k].node) < num(c.items[k - 1].node)) descending = true;
      }
      s = "sort(" + body + (descending ? ",reverse=true)" : ")");
    }
  }
  return WithTags(c.tags, s);
}

}  // namespace

std::string FormatValue(const Value& value, Style style) {
  if (const auto* e = std::get_if<Element>(&value.v)) {
    if (style == Style::kHydra) return e->text;
    // At the top, an empty string needs no quotes ("key=" is "").
    if (e->node.is_string() && e->node.as_string().empty()) return "";
    return ExactText(e->node);
  }
  if (const auto* c = std::get_if<ChoiceSweep>(&value.v)) return ChoiceText(*c, style);
  if (const auto* r = std::get_if<RangeSweep>(&value.v)) {
    std::string s =
        "range(" + ScalarToString(r->start) + "," + ScalarToString(r->stop) + "," + ScalarToString(r->step) + ")";
    if (r->shuffle) s = "shuffle(" + s + ")";
    return WithTags(r->tags, s);
  }
  if (const auto* iv = std::get_if<IntervalSweep>(&value.v)) {
    std::string s = "interval(" + ScalarToString(iv->start) + "," + ScalarToString(iv->end) + ")";
    if (iv->start.kind() == Node::Kind::kInt) s = "int(" + s + ")";
    return WithTags(iv->tags, s);
  }
  const auto& g = std::get<GlobSweep>(value.v);
  auto list = [](const std::vector<std::string>& v) {
    std::string out = "[";
    for (size_t k = 0; k < v.size(); k++) out += (k ? "," : "") + ExactString(v[k]);
    return out + "]";
  };
  return "glob(" + list(g.include) + "," + list(g.exclude) + ")";
}

std::string FormatOverride(const Override& o, Style style) {
  std::string out = o.KeyElement();
  if (o.value) out += "=" + FormatValue(*o.value, style);
  return out;
}

// ---- canonical JSON ---------------------------------------------------------------------

namespace {

void JsonNode(const Node& n, std::string* out) {
  switch (n.kind()) {
    case Node::Kind::kNull: *out += "null"; break;
    case Node::Kind::kBool: *out += n.as_bool() ? "true" : "false"; break;
    case Node::Kind::kInt: *out += std::to_string(n.as_int()); break;
    case Node::Kind::kFloat: *out += "{\"float\":\"" + PythonFloatRepr(n.as_float()) + "\"}"; break;
    case Node::Kind::kString: AppendJsonString(out, n.as_string()); break;
    case Node::Kind::kList:
      *out += '[';
      for (size_t k = 0; k < n.items().size(); k++) {
        if (k) *out += ',';
        JsonNode(n.items()[k], out);
      }
      *out += ']';
      break;
    case Node::Kind::kMap:
      *out += "{\"dict\":[";
      for (size_t k = 0; k < n.entries().size(); k++) {
        if (k) *out += ',';
        *out += '[';
        AppendJsonString(out, n.entries()[k].first);
        *out += ',';
        JsonNode(n.entries()[k].second, out);
        *out += ']';
      }
      *out += "]}";
      break;
  }
}

void JsonElement(const Element& e, bool with_text, std::string* out) {
  *out += "{\"elem\":";
  JsonNode(e.node, out);
  if (with_text) {
    *out += ",\"str\":";
    AppendJsonString(out, e.text);
  }
  *out += '}';
}

void JsonStrings(const std::vector<std::string>& v, std::string* out) {
  *out += '[';
  for (size_t k = 0; k < v.size(); k++) {
    if (k) *out += ',';
    AppendJsonString(out, v[k]);
  }
  *out += ']';
}

void JsonValue(const Value& value, bool with_text, std::string* out) {
  if (const auto* e = std::get_if<Element>(&value.v)) {
    JsonElement(*e, with_text, out);
  } else if (const auto* c = std::get_if<ChoiceSweep>(&value.v)) {
    *out += "{\"choice\":[";
    for (size_t k = 0; k < c->items.size(); k++) {
      if (k) *out += ',';
      JsonElement(c->items[k], with_text, out);
    }
    *out += std::string("],\"shuffle\":") + (c->shuffle ? "true" : "false") +
            ",\"simple\":" + (c->simple_form ? "true" : "false") + ",\"tags\":";
    JsonStrings(c->tags, out);
    *out += '}';
  } else if (const auto* r = std::get_if<RangeSweep>(&value.v)) {
    *out += "{\"range\":[";
    JsonNode(r->start, out);
    *out += ',';
    JsonNode(r->stop, out);
    *out += ',';
    JsonNode(r->step, out);
    *out += std::string("],\"shuffle\":") + (r->shuffle ? "true" : "false") + ",\"tags\":";
    JsonStrings(r->tags, out);
    *out += '}';
  } else if (const auto* iv = std::get_if<IntervalSweep>(&value.v)) {
    *out += "{\"interval\":[";
    JsonNode(iv->start, out);
    *out += ',';
    JsonNode(iv->end, out);
    *out += "],\"tags\":";
    JsonStrings(iv->tags, out);
    *out += '}';
  } else {
    const auto& g = std::get<GlobSweep>(value.v);
    *out += "{\"glob\":{\"exclude\":";
    JsonStrings(g.exclude, out);
    *out += ",\"include\":";
    JsonStrings(g.include, out);
    *out += "}}";
  }
}

}  // namespace

std::string OverrideToJson(const Override& o, bool with_text) {
  static const char* kOps[] = {"change", "add", "force_add", "delete"};
  std::string out = "{\"key\":";
  AppendJsonString(&out, o.key);
  out += ",\"op\":\"" + std::string(kOps[static_cast<int>(o.op)]) + "\",\"package\":";
  if (o.package) AppendJsonString(&out, *o.package);
  else out += "null";
  if (o.value) {
    out += ",\"value\":";
    JsonValue(*o.value, with_text, &out);
  }
  return out + "}";
}

}  // namespace forja::config
