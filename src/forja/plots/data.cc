#include "forja/plots/data.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cmath>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "forja/core/limits.h"
#include "forja/core/utf8.h"

namespace forja::plots {

namespace {

using json = nlohmann::ordered_json;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status TooBig(const std::string& name, size_t n, const char* unit, size_t max) {
  return Status::User(name + ": " + std::to_string(n) + " " + unit + "; a plot reads at most " + std::to_string(max));
}

// --- CSV / TSV -----------------------------------------------------------------

// Splits delimited text into records (RFC 4180 quotes; CRLF or LF). Each record
// carries the line it starts on.
class DelimitedReader {
 public:
  DelimitedReader(std::string_view text, char sep, const std::string& name) : text_(text), sep_(sep), name_(name) {}

  // The next record into *fields; false at the end.
  Result<bool> Next(std::vector<std::string>* fields, size_t* line) {
    fields->clear();
    if (pos_ >= text_.size()) return false;
    *line = line_;
    std::string cell;
    bool quoted = false, was_quoted = false;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (quoted) {
        if (c == '"') {
          if (pos_ < text_.size() && text_[pos_] == '"') cell += '"', pos_++;
          else quoted = false;
        } else {
          if (c == '\n') line_++;
          cell += c;
        }
        continue;
      }
      if (c == '"' && cell.empty() && !was_quoted) {
        quoted = was_quoted = true;
      } else if (c == sep_) {
        RETURN_IF_ERROR(Push(fields, &cell, &was_quoted));
      } else if (c == '\n' || c == '\r') {
        if (c == '\r' && pos_ < text_.size() && text_[pos_] == '\n') pos_++;
        line_++;
        RETURN_IF_ERROR(Push(fields, &cell, &was_quoted));
        return true;
      } else if (was_quoted) {
        return Status::User(name_ + ":" + std::to_string(line_) + ": text after a closing quote; quote the whole field");
      } else {
        cell += c;
      }
    }
    if (quoted) return Status::User(name_ + ":" + std::to_string(*line) + ": a quoted field is never closed");
    RETURN_IF_ERROR(Push(fields, &cell, &was_quoted));
    return true;
  }

 private:
  Status Push(std::vector<std::string>* fields, std::string* cell, bool* was_quoted) {
    if (fields->size() >= kMaxColumns) return TooBig(name_ + ":" + std::to_string(line_), fields->size() + 1, "fields", kMaxColumns);
    fields->push_back(std::move(*cell));
    cell->clear();
    *was_quoted = false;
    return Status::Ok();
  }

  std::string_view text_;
  char sep_;
  const std::string& name_;
  size_t pos_ = 0;
  size_t line_ = 1;
};

Result<DataTable> ParseDelimited(std::string_view text, const std::string& name, char sep, bool header) {
  DataTable t;
  DelimitedReader reader(text, sep, name);
  std::vector<std::string> fields;
  size_t line = 0;
  ASSIGN_OR_RETURN(bool any, reader.Next(&fields, &line));
  if (!header) {
    if (!any) return t;
    for (size_t i = 0; i < fields.size(); i++) t.columns.push_back(std::to_string(i));
    if (!(fields.size() == 1 && fields[0].empty())) t.rows.push_back(std::move(fields));
    fields = {};
  } else if (!any || (fields.size() == 1 && fields[0].empty())) {
    return Status::User(name + ":1: no header row; the first line names the columns (step,loss)");
  }
  for (auto& f : fields) {
    if (std::find(t.columns.begin(), t.columns.end(), f) != t.columns.end())
      return Status::User(name + ":1: column '" + f + "' is named twice");
    t.columns.push_back(std::move(f));
  }
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader.Next(&fields, &line));
    if (!more) break;
    if (fields.size() == 1 && fields[0].empty()) continue;  // a blank line
    if (fields.size() != t.columns.size())
      return Status::User(name + ":" + std::to_string(line) + ": " + std::to_string(fields.size()) +
                          " fields, the header has " + std::to_string(t.columns.size()));
    if (t.rows.size() >= kMaxRows) return TooBig(name, t.rows.size() + 1, "rows", kMaxRows);
    t.rows.push_back(std::move(fields));
    fields = {};
  }
  return t;
}

// --- JSON / YAML -----------------------------------------------------------------

// _lists: the document itself when it is a list, else every list found in
// its values (depth first, in order).
void Lists(const json& blob, std::vector<const json*>* out) {
  if (blob.is_array()) {
    out->push_back(&blob);
    return;
  }
  if (!blob.is_object()) return;
  for (const auto& [k, v] : blob.items()) {
    if (v.is_object()) Lists(v, out);
    else if (v.is_array()) out->push_back(&v);
  }
}

// _is_datapoints: every item an object, all with the first one's keys.
bool IsDatapoints(const json& list) {
  if (list.empty()) return false;
  for (const auto& item : list)
    if (!item.is_object()) return false;
  std::vector<std::string> first;
  for (const auto& [k, v] : list[0].items()) first.push_back(k);
  std::sort(first.begin(), first.end());
  for (const auto& item : list) {
    for (const auto& [k, v] : item.items())
      if (!std::binary_search(first.begin(), first.end(), k)) return false;
  }
  return true;
}

Result<std::string> CellText(const json& v, const std::string& name, size_t index, const std::string& key) {
  switch (v.type()) {
    case json::value_t::string: return v.get<std::string>();
    case json::value_t::null: return std::string();
    case json::value_t::boolean: return std::string(v.get<bool>() ? "true" : "false");
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return v.dump();
    default:
      return Status::User(name + ": datapoint " + std::to_string(index) + " field '" + key + "' is " +
                          (v.is_array() ? "a list" : "an object") + "; a plot's values are numbers or strings");
  }
}

Result<DataTable> FromDocument(const json& doc, const std::string& name) {
  if (!doc.is_array() && !doc.is_object())
    return Status::User(name + ": expected a list of datapoints ([{\"step\": 0, \"loss\": 1.5}, ...]) or an object "
                               "holding one, got a single value");
  std::vector<const json*> lists;
  Lists(doc, &lists);
  DataTable t;
  std::unordered_map<std::string, size_t> index;
  for (const json* list : lists) {
    if (!IsDatapoints(*list)) continue;
    if (list->size() > kMaxRows) return TooBig(name, list->size(), "datapoints", kMaxRows);
    for (size_t i = 0; i < list->size(); i++) {
      if (t.rows.size() <= i) t.rows.emplace_back(t.columns.size());
      for (const auto& [k, v] : (*list)[i].items()) {
        auto it = index.find(k);
        if (it == index.end()) {
          if (t.columns.size() >= kMaxColumns) return TooBig(name, t.columns.size() + 1, "fields", kMaxColumns);
          it = index.emplace(k, t.columns.size()).first;
          t.columns.push_back(k);
          for (auto& row : t.rows) row.resize(t.columns.size());
        }
        ASSIGN_OR_RETURN(t.rows[i][it->second], CellText(v, name, i, k));
      }
    }
  }
  if (t.columns.empty())
    return Status::User(name + ": no list of datapoints (objects with the same fields) in the document; write "
                               "[{\"step\": 0, \"loss\": 1.5}, ...]");
  return t;
}

Result<json> YamlToJson(const YAML::Node& n, const std::string& name, size_t depth, size_t* count) {
  if (++*count > kMaxYamlNodes) return TooBig(name, *count, "values (after aliases)", kMaxYamlNodes);
  if (depth > limits::kMaxJsonDepth)
    return Status::User(name + ": nested more than " + std::to_string(limits::kMaxJsonDepth) + " levels deep");
  switch (n.Type()) {
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : n) {
        ASSIGN_OR_RETURN(json v, YamlToJson(item, name, depth + 1, count));
        out.push_back(std::move(v));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : n) {
        if (!kv.first.IsScalar()) return Status::User(name + ":" + std::to_string(kv.first.Mark().line + 1) + ": a key that is not a scalar");
        ASSIGN_OR_RETURN(json v, YamlToJson(kv.second, name, depth + 1, count));
        out[kv.first.Scalar()] = std::move(v);
      }
      return out;
    }
    case YAML::NodeType::Scalar: return json(n.Scalar());
    default: return json(nullptr);
  }
}

Result<DataTable> ParseJson(std::string_view text, const std::string& name) {
  RETURN_IF_ERROR(limits::CheckJsonText(text, name));
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    std::string what = e.what();
    if (auto p = what.find("parse error"); p != std::string::npos) what = what.substr(p);
    return Status::User(name + ": not valid JSON: " + what);
  }
  return FromDocument(doc, name);
}

Result<DataTable> ParseYaml(std::string_view text, const std::string& name) {
  if (FindInvalidUtf8(text) != std::string_view::npos) return Status::User(name + ": not valid UTF-8");
  YAML::Node doc;
  try {
    doc = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Status::User(name + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  size_t count = 0;
  ASSIGN_OR_RETURN(json j, YamlToJson(doc, name, 0, &count));
  return FromDocument(j, name);
}

}  // namespace

int DataTable::Find(std::string_view column) const {
  for (size_t i = 0; i < columns.size(); i++)
    if (columns[i] == column) return static_cast<int>(i);
  return -1;
}

DataFormat FormatOf(std::string_view path) {
  std::string p = Lower(path);
  auto ends = [&](std::string_view ext) { return p.ends_with(ext); };
  if (ends(".csv")) return DataFormat::kCsv;
  if (ends(".tsv")) return DataFormat::kTsv;
  if (ends(".json")) return DataFormat::kJson;
  if (ends(".yaml") || ends(".yml")) return DataFormat::kYaml;
  if (ends(".png") || ends(".jpg") || ends(".jpeg") || ends(".gif") || ends(".svg")) return DataFormat::kImage;
  return DataFormat::kUnknown;
}

namespace {

// A message on one line: control characters (from the parser's quote of the
// input, or a file name) escaped as \n, \x01 ...
std::string OneLine(std::string_view m) {
  std::string out;
  for (char c : m) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else out += c;
  }
  return out;
}

Result<DataTable> ParseAny(std::string_view text, const std::string& name, DataFormat format, bool header);

}  // namespace

Result<DataTable> ParseData(std::string_view text, const std::string& name, DataFormat format, bool header) {
  auto t = ParseAny(text, name, format, header);
  if (!t.ok()) return Status(t.status().code(), OneLine(t.status().message()));
  return t;
}

namespace {

Result<DataTable> ParseAny(std::string_view text, const std::string& name, DataFormat format, bool header) {
  if (text.size() > kMaxDataBytes) return TooBig(name, text.size(), "bytes", kMaxDataBytes);
  switch (format) {
    case DataFormat::kCsv: return ParseDelimited(text, name, ',', header);
    case DataFormat::kTsv: return ParseDelimited(text, name, '\t', header);
    case DataFormat::kJson: return ParseJson(text, name);
    case DataFormat::kYaml: return ParseYaml(text, name);
    default:
      return Status::User(name + ": not a data file forja plots reads (.csv, .tsv, .json, .yaml, .yml) or an image "
                                 "(.png, .jpg, .jpeg, .gif, .svg)");
  }
}

}  // namespace

bool ParseNumber(std::string_view text, double* out) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.empty()) return false;
  if (text.front() == '+') text.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

}  // namespace forja::plots
