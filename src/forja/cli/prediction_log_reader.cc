// The prediction log as CSV for forja monitor report (prediction_log_reader.h). The log is
// forja serve's, but a folder anyone can write into: every line is checked (UTF-8, depth,
// shapes) and a bad one is an error naming its file and line, never a silently wrong row.
#include "forja/cli/prediction_log_reader.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "forja/core/fs.h"
#include "forja/core/limits.h"
#include "forja/monitor/profile.h"

namespace forja {

namespace {

using nlohmann::json;
using monitor::kPredictionColumn;

// The log's files, oldest first (their names start with the time they were opened).
Result<std::vector<std::string>> LogFiles(const std::string& dir) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) {
    if (errno == ENOENT) return std::vector<std::string>();
    return Status::FromErrno("reading the prediction log folder " + dir, errno);
  }
  std::vector<std::string> files;
  while (dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (name.starts_with("predictions-") && name.ends_with(".jsonl")) files.push_back(name);
  }
  std::sort(files.begin(), files.end());
  return files;
}

// A cell as CSV: numbers exactly, strings quoted when they must be, null and NaN empty.
std::string Cell(const json& v) {
  if (v.is_number()) {
    double d = v.get<double>();
    if (std::isnan(d)) return "";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", d);
    return buf;
  }
  if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
  if (!v.is_string()) return "";
  const std::string& s = v.get_ref<const std::string&>();
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string CsvName(const std::string& name) { return Cell(json(name)); }

// One line's tensors onto the columns (the header comment's rules); rows appended to `out`.
Status AppendRows(const json& line, const std::vector<std::string>& columns, const std::vector<size_t>& features,
                  std::string* out, uint64_t* rows_out) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < columns.size(); ++i) index[columns[i]] = i;
  const json* inputs = line.contains("inputs") ? &line["inputs"] : nullptr;
  const json* outputs = line.contains("outputs") ? &line["outputs"] : nullptr;
  if (!inputs || !inputs->is_object() || !outputs || !outputs->is_object())
    return Status::User("no 'inputs' and 'outputs' objects");
  // Rows: the first dimension every tensor shares.
  int64_t rows = -1;
  for (const json* group : {inputs, outputs})
    for (const auto& [name, t] : group->items()) {
      if (!t.is_array()) return Status::User("tensor '" + name + "' is not a list");
      if (rows >= 0 && static_cast<int64_t>(t.size()) != rows)
        return Status::User("tensor '" + name + "' has " + std::to_string(t.size()) + " rows, another " +
                            std::to_string(rows));
      rows = static_cast<int64_t>(t.size());
    }
  if (rows <= 0) return Status::Ok();
  std::vector<std::vector<const json*>> cells(static_cast<size_t>(rows), std::vector<const json*>(columns.size()));
  // Writes tensor t's value k of each row into column col (k < 0: the row's one value).
  auto feed = [&](const json& t, int k, size_t col) -> Status {
    for (int64_t r = 0; r < rows; ++r) {
      const json& row = t[static_cast<size_t>(r)];
      if (k < 0) {
        cells[r][col] = &row;
      } else {
        if (!row.is_array() || static_cast<int>(row.size()) <= k) return Status::User("a row of a tensor is too short");
        cells[r][col] = &row[static_cast<size_t>(k)];
      }
    }
    return Status::Ok();
  };
  auto width = [](const json& t) { return t.empty() || !t[0].is_array() ? 0 : static_cast<int>(t[0].size()); };
  size_t next_feature = 0;
  for (const auto& [name, t] : inputs->items()) {
    int w = width(t);
    auto named = index.find(name);
    if (w == 0 && named != index.end()) {
      RETURN_IF_ERROR(feed(t, -1, named->second));
      continue;
    }
    for (int k = 0; k < std::max(w, 1); ++k) {
      if (next_feature >= features.size()) return Status::User("input '" + name + "' has more values than the profile has features");
      RETURN_IF_ERROR(feed(t, w == 0 ? -1 : k, features[next_feature++]));
    }
  }
  bool first = true;
  for (const auto& [name, t] : outputs->items()) {
    int w = width(t);
    for (int k = 0; k < std::max(w, 1); ++k) {
      std::string col = std::string(kPredictionColumn) +
                        (w == 0 ? (first ? "" : "." + name) : "." + name + "_" + std::to_string(k));
      auto it = index.find(col);
      if (it != index.end()) RETURN_IF_ERROR(feed(t, w == 0 ? -1 : k, it->second));
    }
    first = false;
  }
  for (const auto& row : cells) {
    for (size_t c = 0; c < row.size(); ++c) {
      if (c) out->push_back(',');
      if (row[c]) out->append(Cell(*row[c]));
    }
    out->push_back('\n');
  }
  *rows_out += static_cast<uint64_t>(rows);
  return Status::Ok();
}

}  // namespace

Result<double> ParseSince(const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  std::string unit = end ? end : "";
  double scale = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : 0;
  if (end == text.c_str() || scale == 0 || !(v > 0) || !std::isfinite(v))
    return Status::Usage("--since takes a duration such as 90s, 30m, 24h or 7d, not '" + text + "'");
  return v * scale;
}

Result<LogExtract> PredictionLogToCsv(const LogSelection& sel, const monitor::Profile& profile, const std::string& out) {
  std::vector<std::string> columns;
  std::vector<size_t> features;
  for (const auto& c : profile.columns) {
    if (c.name == sel.target) continue;
    if (!monitor::IsPredictionColumn(c.name)) features.push_back(columns.size());
    columns.push_back(c.name);
  }
  std::string csv;
  for (size_t i = 0; i < columns.size(); ++i) csv += (i ? "," : "") + CsvName(columns[i]);
  csv += '\n';
  // Inputs named like a profile column are not positional features: drop them from the list
  // once, from the first line that names them (the signature does not change).
  LogExtract x;
  ASSIGN_OR_RETURN(std::vector<std::string> files, LogFiles(sel.dir));
  const double cutoff = sel.since_s > 0 ? sel.now_s - sel.since_s : -INFINITY;
  bool pruned = false;
  for (const std::string& f : files) {
    const std::string path = JoinPath(sel.dir, f);
    ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    size_t start = 0, lineno = 0;
    while (start < text.size()) {
      size_t nl = text.find('\n', start);
      std::string_view line(text.data() + start, (nl == std::string::npos ? text.size() : nl) - start);
      start = nl == std::string::npos ? text.size() : nl + 1;
      ++lineno;
      if (line.empty()) continue;
      const std::string where = path + ":" + std::to_string(lineno);
      RETURN_IF_ERROR(limits::CheckJsonText(line, where));
      json j = json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object()) return Status::User(where + ": not a JSON object");
      auto str = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : ""; };
      if (str("model") != sel.model || str("version") != sel.version) {
        ++x.skipped;
        continue;
      }
      if (!j.contains("time") || !j["time"].is_number()) return Status::User(where + ": no 'time'");
      if (j["time"].get<double>() < cutoff) continue;
      if (!pruned && j.contains("inputs") && j["inputs"].is_object()) {
        std::vector<size_t> kept;
        for (size_t fi : features)
          if (!j["inputs"].contains(columns[fi])) kept.push_back(fi);
        features = kept;
        pruned = true;
      }
      ++x.lines;
      if (Status st = AppendRows(j, columns, features, &csv, &x.rows); !st.ok())
        return Status::User(where + ": " + st.message());
    }
  }
  RETURN_IF_ERROR(WriteFileAtomic(out, csv));
  return x;
}

}  // namespace forja
