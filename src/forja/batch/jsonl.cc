#include "forja/batch/jsonl.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <utility>

#include <nlohmann/json.hpp>

#include "forja/batch/csv.h"
#include "forja/core/utf8.h"

namespace forja::batch {

namespace {

bool IsInteger(std::string_view raw) { return raw.find_first_of(".eE") == std::string_view::npos; }

// An integer token as nlohmann-json kept it: an int64 when negative, else a uint64 (so "-0" is
// 0). False when it is not an integer or does not fit; then it was a double.
template <typename F>
bool WithInteger(std::string_view raw, F&& use) {
  if (!IsInteger(raw)) return false;
  const char* end = raw.data() + raw.size();
  if (raw[0] == '-') {
    int64_t i = 0;
    auto r = std::from_chars(raw.data(), end, i);
    if (r.ec != std::errc() || r.ptr != end) return false;
    use(i);
  } else {
    uint64_t u = 0;
    auto r = std::from_chars(raw.data(), end, u);
    if (r.ec != std::errc() || r.ptr != end) return false;
    use(u);
  }
  return true;
}

// A number token's value as nlohmann-json read it. False when it overflows a double (1e400),
// which nlohmann-json refused; 1e-400 underflows to 0 and is fine.
bool NumberValue(std::string_view raw, double* out) {
  if (WithInteger(raw, [&](auto i) { *out = static_cast<double>(i); })) return true;
  if (std::from_chars(raw.data(), raw.data() + raw.size(), *out).ec == std::errc()) return true;
  // from_chars refuses underflow as well as overflow; strtod tells them apart (rare: no hurry).
  double d = std::strtod(std::string(raw).c_str(), nullptr);
  if (!std::isfinite(d)) return false;
  *out = d;
  return true;
}

uint32_t Hex4(std::string_view s, size_t i) {
  uint32_t v = 0;
  for (size_t k = 0; k < 4; k++) {
    char c = s[i + k];
    v = v * 16 + static_cast<uint32_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  return v;
}

// Whether each \u escape of a surrogate in a string's raw text is half of a whole pair
// (JsonDoc has checked that every escape is complete).
bool PairedSurrogates(std::string_view raw) {
  for (size_t i = 0; i < raw.size(); i++) {
    if (raw[i] != '\\') continue;
    if (raw[++i] != 'u') continue;
    uint32_t cp = Hex4(raw, i + 1);
    i += 4;  // the last hex digit
    if (cp >= 0xDC00 && cp <= 0xDFFF) return false;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (i + 6 >= raw.size() || raw[i + 1] != '\\' || raw[i + 2] != 'u') return false;
      uint32_t lo = Hex4(raw, i + 3);
      if (lo < 0xDC00 || lo > 0xDFFF) return false;
      i += 6;
    }
  }
  return true;
}

// What nlohmann-json refused that JsonDoc takes: half a surrogate pair, a number past a double.
bool NlohmannAccepts(const JsonDoc& doc, const JsonNode& n) {
  if (n.key_escaped && !PairedSurrogates(n.key)) return false;
  switch (n.kind) {
    case JsonNode::kString:
      return !n.escaped || PairedSurrogates(n.raw);
    case JsonNode::kNumber: {
      // Without an exponent, fewer than 309 digits stay below DBL_MAX.
      double d;
      bool may_overflow = n.raw.size() > 308 || n.raw.find_first_of("eE") != std::string_view::npos;
      return !may_overflow || NumberValue(n.raw, &d);
    }
    case JsonNode::kArray:
    case JsonNode::kObject:
      for (const JsonNode* c = doc.First(n); c; c = doc.Next(*c))
        if (!NlohmannAccepts(doc, *c)) return false;
      return true;
    default:
      return true;
  }
}

}  // namespace

Status ParseJsonlObject(std::string_view line, JsonDoc* doc) {
  // nlohmann-json skipped a byte order mark, and took a NUL byte for the end of the text.
  if (line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
  line = line.substr(0, line.find('\0'));
  Status st = IsValidUtf8(line) ? doc->Parse(line) : Status::User("invalid UTF-8");
  if (!st.ok()) {
    const std::string& m = st.message();
    const std::string deep = "nested too deep";  // JsonDoc's words for its depth limit
    if (m.size() >= deep.size() && m.compare(m.size() - deep.size(), deep.size(), deep) == 0)
      return Status::User("not a JSON object (nested more than " + std::to_string(JsonDoc::kMaxDepth) + " deep)");
    return Status::User("not a JSON object");
  }
  if (doc->root().kind != JsonNode::kObject || !NlohmannAccepts(*doc, doc->root()))
    return Status::User("not a JSON object");
  return Status::Ok();
}

const JsonNode* JsonlMember(const JsonDoc& doc, const JsonNode& object, std::string_view key) {
  const JsonNode* found = nullptr;
  for (const JsonNode* c = doc.First(object); c; c = doc.Next(*c))
    if (c->key_escaped ? JsonKey(*c) == key : c->key == key) found = c;
  return found;
}

std::vector<std::string> JsonlKeys(const JsonDoc& doc, const JsonNode& object) {
  std::vector<std::string> keys;
  for (const JsonNode* c = doc.First(object); c; c = doc.Next(*c)) keys.push_back(JsonKey(*c));
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

Status JsonlNumber(const JsonDoc& doc, const JsonNode& v, const std::string& field, double* out) {
  switch (v.kind) {
    case JsonNode::kNumber:
      NumberValue(v.raw, out);  // one that overflows was refused with the row
      return Status::Ok();
    case JsonNode::kNull:
      *out = std::nan("");
      return Status::Ok();
    case JsonNode::kString:
      if (v.escaped ? ParseNumber(JsonString(v), out) : ParseNumber(v.raw, out)) return Status::Ok();
      break;
    default:
      break;
  }
  // A list or object is not written out: it may hold a great deal.
  std::string shown;
  if (v.kind == JsonNode::kArray) {
    shown = "[...]";
  } else if (v.kind == JsonNode::kObject) {
    shown = "{...}";
  } else {
    AppendJsonlValue(doc, v, &shown);
    shown = ValidUtf8(shown, 40);
  }
  return Status::User("field '" + field + "': " + shown + " is not a number");
}

void AppendJsonlValue(const JsonDoc& doc, const JsonNode& v, std::string* out) {
  switch (v.kind) {
    case JsonNode::kNull: out->append("null"); return;
    case JsonNode::kFalse: out->append("false"); return;
    case JsonNode::kTrue: out->append("true"); return;
    case JsonNode::kString:
      if (v.escaped)
        AppendJsonString(out, JsonString(v));
      else
        AppendJsonString(out, v.raw);
      return;
    case JsonNode::kNumber: {
      char buf[24];
      auto write = [&](auto i) { out->append(buf, std::to_chars(buf, buf + sizeof buf, i).ptr); };
      if (WithInteger(v.raw, write)) return;
      double d = 0;
      NumberValue(v.raw, &d);
      // nlohmann-json's shortest digits and layout (100.0, 1e+300), as kept values always had.
      out->append(nlohmann::json(d).dump());
      return;
    }
    case JsonNode::kArray: {
      out->push_back('[');
      for (const JsonNode* c = doc.First(v); c; c = doc.Next(*c)) {
        if (c != doc.First(v)) out->push_back(',');
        AppendJsonlValue(doc, *c, out);
      }
      out->push_back(']');
      return;
    }
    case JsonNode::kObject: {
      // Sorted by key; of a repeated key, the last (a stable sort keeps it last among equals).
      std::vector<std::pair<std::string, const JsonNode*>> members;
      for (const JsonNode* c = doc.First(v); c; c = doc.Next(*c)) members.emplace_back(JsonKey(*c), c);
      std::stable_sort(members.begin(), members.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      out->push_back('{');
      bool first = true;
      for (size_t i = 0; i < members.size(); i++) {
        if (i + 1 < members.size() && members[i + 1].first == members[i].first) continue;
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(out, members[i].first);
        out->push_back(':');
        AppendJsonlValue(doc, *members[i].second, out);
      }
      out->push_back('}');
      return;
    }
  }
}

}  // namespace forja::batch
