// The prediction log as CSV for forja monitor report (log_reader.h). The log is
// forja serve's, but a folder anyone can write into: every line is checked (UTF-8, depth,
// shapes) and a bad one is an error naming its file and line, never a silently wrong row.
#include "forja/monitor/log_reader.h"

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

namespace forja::monitor {

namespace {

using nlohmann::json;

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

// One line's tensors onto the columns (the header comment's rules; `index`: column name ->
// position, made once); rows appended to `out`.
Status AppendRows(const json& line, const std::vector<std::string>& columns, const std::map<std::string, size_t>& index,
                  const std::vector<size_t>& features, std::string* out, uint64_t* rows_out) {
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

LogCsvWriter::LogCsvWriter(const LogSelection& sel, const Profile& profile) : sel_(sel) {
  for (const auto& c : profile.columns) {
    if (c.name == sel.target) continue;
    if (!IsPredictionColumn(c.name)) features_.push_back(columns_.size());
    index_[c.name] = columns_.size();
    columns_.push_back(c.name);
  }
  for (size_t i = 0; i < columns_.size(); ++i) csv_ += (i ? "," : "") + CsvName(columns_[i]);
  csv_ += '\n';
}

Status LogCsvWriter::AddText(std::string_view text, const std::string& name) {
  const double cutoff = sel_.since_s > 0 ? sel_.now_s - sel_.since_s : -INFINITY;
  size_t start = 0, lineno = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, (nl == std::string_view::npos ? text.size() : nl) - start);
    start = nl == std::string_view::npos ? text.size() : nl + 1;
    ++lineno;
    if (line.empty()) continue;
    const std::string where = name + ":" + std::to_string(lineno);
    RETURN_IF_ERROR(limits::CheckJsonText(line, where));
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return Status::User(where + ": not a JSON object");
    auto str = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : ""; };
    if (str("model") != sel_.model || str("version") != sel_.version) {
      ++extract_.skipped;
      continue;
    }
    if (!j.contains("time") || !j["time"].is_number()) return Status::User(where + ": no 'time'");
    if (j["time"].get<double>() < cutoff) continue;
    // Inputs named like a profile column are not positional features: the signature does not
    // change, so the first line decides.
    if (!pruned_ && j.contains("inputs") && j["inputs"].is_object()) {
      std::vector<size_t> kept;
      for (size_t fi : features_)
        if (!j["inputs"].contains(columns_[fi])) kept.push_back(fi);
      features_ = kept;
      pruned_ = true;
    }
    ++extract_.lines;
    if (Status st = AppendRows(j, columns_, index_, features_, &csv_, &extract_.rows); !st.ok())
      return Status::User(where + ": " + st.message());
  }
  return Status::Ok();
}

Result<LogExtract> PredictionLogToCsv(const std::string& dir, const LogSelection& sel, const Profile& profile,
                                      const std::string& out) {
  LogCsvWriter writer(sel, profile);
  ASSIGN_OR_RETURN(std::vector<std::string> files, LogFiles(dir));
  for (const std::string& f : files) {
    const std::string path = JoinPath(dir, f);
    ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    RETURN_IF_ERROR(writer.AddText(text, path));
  }
  RETURN_IF_ERROR(WriteFileAtomic(out, writer.csv()));
  return writer.extract();
}

}  // namespace forja::monitor
