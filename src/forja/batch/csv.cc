#include "forja/batch/csv.h"

#include <charconv>
#include <cmath>

namespace forja::batch {

Status SplitCsv(std::string_view line, std::vector<std::string_view>* raw, std::vector<std::string>* unquoted) {
  raw->clear();
  if (unquoted) unquoted->clear();
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t i = 0;
  while (true) {
    size_t start = i;
    if (i < line.size() && line[i] == '"') {
      std::string value;
      i++;
      while (true) {
        if (i >= line.size()) return Status::User("a quoted field is not closed on its line (rows must be one line each)");
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += line[i++];
      }
      if (i < line.size() && line[i] != ',') return Status::User("text after a closing quote");
      raw->push_back(line.substr(start, i - start));
      if (unquoted) unquoted->push_back(std::move(value));
    } else {
      size_t comma = line.find(',', i);
      size_t end = comma == std::string_view::npos ? line.size() : comma;
      raw->push_back(line.substr(start, end - start));
      if (unquoted) unquoted->emplace_back(line.substr(start, end - start));
      i = end;
    }
    if (i >= line.size()) break;
    i++;  // the comma
  }
  return Status::Ok();
}

std::string_view UnquoteCsv(std::string_view f, std::string* scratch) {
  if (f.size() < 2 || f.front() != '"') return f;
  scratch->clear();
  for (size_t i = 1; i + 1 < f.size(); i++) {
    *scratch += f[i];
    if (f[i] == '"') i++;
  }
  return *scratch;
}

bool ParseNumber(std::string_view s, double* out) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty() || s == "NA" || s == "null" || s == "None") {
    *out = std::nan("");
    return true;
  }
  if (s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace forja::batch
