#include "forja/batch/predict.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/core/progress.h"
#include "forja/core/sha256.h"
#include "forja/core/tensor.h"
#include "forja/core/utf8.h"
#include "forja/runtime/model.h"

namespace forja::batch {

namespace {

using Json = nlohmann::json;

constexpr size_t kChunkBytes = 1 << 20;  // ~10,000 rows of 32 features
constexpr size_t kMaxErrorsShown = 10;

int64_t MonotonicMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string FormatOf(const std::string& given, const std::string& path) {
  if (!given.empty()) return given;
  auto ends = [&](const char* s) {
    size_t n = std::strlen(s);
    return path.size() >= n && path.compare(path.size() - n, n, s) == 0;
  };
  return ends(".jsonl") || ends(".ndjson") || ends(".json") ? "jsonl" : "csv";
}

// ---- CSV fields ---------------------------------------------------------------

// Splits one line (without its newline) into fields, unquoting "..." fields
// ("" inside is a quote). `raw` gets each field as written, for copying to CSV.
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

std::string_view Unquote(std::string_view f, std::string* scratch) {
  if (f.size() < 2 || f.front() != '"') return f;
  scratch->clear();
  for (size_t i = 1; i + 1 < f.size(); i++) {
    *scratch += f[i];
    if (f[i] == '"') i++;
  }
  return *scratch;
}

// A number as CSV and JSON write them; empty, "NA" and "null" are missing (NaN), as pandas reads them.
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

// ---- the mapping from input columns to model inputs ------------------------------

struct InputPlan {
  TensorSpec spec;
  int64_t width = 1;            // features per row (1 for a column input)
  bool matrix = false;          // [-1, width]: several columns, or one JSON array
  std::vector<size_t> columns;  // CSV: field indices; JSONL: indices into names
};

struct Plan {
  std::vector<std::string> names;  // the input's columns (CSV header, or first JSON object's keys)
  std::vector<InputPlan> inputs;
  std::vector<size_t> keep;        // indices into names
  size_t fields = 0;               // CSV: fields per row
};

Status MakePlan(const std::vector<std::string>& names, const PredictOptions& o, const runtime::Model& m,
                const std::string& where, Plan* plan) {
  plan->names = names;
  plan->fields = names.size();
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < names.size(); i++) index.emplace(names[i], i);
  for (const std::string& k : o.keep) {
    auto it = index.find(k);
    if (it == index.end()) return Status::User(where + ": --keep " + k + ": no such column");
    plan->keep.push_back(it->second);
  }
  for (const std::string& k : o.exclude)
    if (!index.count(k)) return Status::User(where + ": --exclude " + k + ": no such column");
  const auto& specs = m.inputs();
  if (specs.empty()) return Status::User("the model declares no inputs");
  bool one_matrix = specs.size() == 1 && specs[0].shape.size() == 2;
  for (const TensorSpec& s : specs) {
    if (DatatypeSize(s.datatype) == 0 || s.datatype == "FP16")
      return Status::User("input '" + s.name + "' is " + s.datatype + "; forja predict reads numeric inputs only");
    InputPlan p;
    p.spec = s;
    auto named = index.find(s.name);
    if (one_matrix && named == index.end()) {
      // Every column that is not excluded is a feature, in file order.
      p.matrix = true;
      for (size_t i = 0; i < names.size(); i++)
        if (std::find(o.exclude.begin(), o.exclude.end(), names[i]) == o.exclude.end()) p.columns.push_back(i);
      p.width = static_cast<int64_t>(p.columns.size());
      int64_t want = s.shape[1];
      if (want > 0 && p.width != want)
        return Status::User(where + ": " + std::to_string(p.width) + " feature columns, but input '" + s.name +
                            "' takes " + std::to_string(want) + "; leave columns out with --exclude COLUMN");
    } else {
      if (named == index.end())
        return Status::User(where + ": no column '" + s.name + "' for the model's input of that name");
      p.columns.push_back(named->second);
      if (s.shape.size() == 2) {
        p.matrix = true;  // a JSON array per row
        p.width = s.shape[1];
        if (p.width <= 0) return Status::User("input '" + s.name + "': a matrix input needs a fixed width");
      }
    }
    plan->inputs.push_back(std::move(p));
  }
  return Status::Ok();
}

// ---- one chunk: parse, predict, format ---------------------------------------------

struct Chunk {
  uint64_t seq = 0;
  uint64_t offset = 0, end = 0;  // input bytes [offset, end)
  uint64_t line = 0;             // the first row's line number
  uint64_t end_line = 0;         // the line number after the chunk
  std::string text;
  // Filled by a worker:
  std::string out;
  uint64_t rows = 0, skipped = 0;
  std::vector<std::string> errors;
  Status status;
};

class Scorer {
 public:
  Scorer(const Plan& plan, const PredictOptions& o, runtime::Model& m, bool csv_in, bool csv_out)
      : plan_(plan), opts_(o), model_(m), csv_in_(csv_in), csv_out_(csv_out) {}

  void Score(Chunk* c);
  static std::string CsvHeader(const Plan& plan, const runtime::Model& m);

 private:
  struct Row {
    uint64_t line;
    std::vector<std::string> kept;  // CSV: raw fields; JSONL: JSON values
  };
  Status ParseRow(std::string_view line, Row* row);
  Status Flush(std::vector<Row>* rows, std::string* out);
  void FormatValue(const Tensor& t, int64_t i, std::string* out);
  void Bad(Chunk* c, uint64_t line, const Status& st);

  const Plan& plan_;
  const PredictOptions& opts_;
  runtime::Model& model_;
  bool csv_in_, csv_out_;
  std::vector<std::vector<double>> values_;  // per input: rows * width
  std::vector<std::string_view> raw_;
  std::string scratch_;
  std::vector<size_t> sizes_;  // values_ sizes before the row being parsed
};

void Scorer::Bad(Chunk* c, uint64_t line, const Status& st) {
  std::string msg = opts_.input + ":" + std::to_string(line) + ": " + st.message();
  if (!opts_.skip_errors) {
    c->status = Status::User(msg + "; fix the row, or pass --on-error skip");
    return;
  }
  c->skipped++;
  if (c->errors.size() < kMaxErrorsShown) c->errors.push_back(msg);
}

Status Scorer::ParseRow(std::string_view line, Row* row) {
  const size_t n_inputs = plan_.inputs.size();
  if (csv_in_) {
    RETURN_IF_ERROR(SplitCsv(line, &raw_, nullptr));
    if (raw_.size() != plan_.fields)
      return Status::User(std::to_string(raw_.size()) + " fields, the header has " + std::to_string(plan_.fields));
    for (size_t k = 0; k < n_inputs; k++) {
      const InputPlan& p = plan_.inputs[k];
      for (size_t col : p.columns) {
        double v;
        std::string_view f = Unquote(raw_[col], &scratch_);
        if (!ParseNumber(f, &v))
          return Status::User("column '" + plan_.names[col] + "': '" + std::string(f.substr(0, 40)) + "' is not a number");
        values_[k].push_back(v);
      }
      if (p.matrix && p.columns.size() == 1) return Status::User("input '" + p.spec.name + "' needs a JSON array; use JSONL input");
    }
    for (size_t col : plan_.keep) row->kept.emplace_back(raw_[col]);
    return Status::Ok();
  }
  Json j = Json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::User("not a JSON object");
  auto number = [&](const Json& v, const std::string& field, double* out) -> Status {
    if (v.is_number()) {
      *out = v.get<double>();
    } else if (v.is_null()) {
      *out = std::nan("");
    } else if (!v.is_string() || !ParseNumber(v.get_ref<const std::string&>(), out)) {
      // A list or object is not dumped: dump() recurses, and a row may nest 100,000 deep.
      std::string shown = v.is_array() ? "[...]" : v.is_object() ? "{...}" : ValidUtf8(v.dump(), 40);
      return Status::User("field '" + field + "': " + shown + " is not a number");
    }
    return Status::Ok();
  };
  for (size_t k = 0; k < n_inputs; k++) {
    const InputPlan& p = plan_.inputs[k];
    if (p.matrix && p.columns.size() == 1 && plan_.names[p.columns[0]] == p.spec.name) {
      auto it = j.find(p.spec.name);
      if (it == j.end() || !it->is_array() || static_cast<int64_t>(it->size()) != p.width)
        return Status::User("field '" + p.spec.name + "': an array of " + std::to_string(p.width) + " numbers is needed");
      for (const Json& v : *it) {
        double d;
        RETURN_IF_ERROR(number(v, p.spec.name, &d));
        values_[k].push_back(d);
      }
      continue;
    }
    for (size_t col : p.columns) {
      const std::string& name = plan_.names[col];
      auto it = j.find(name);
      double d = std::nan("");
      if (it != j.end()) RETURN_IF_ERROR(number(*it, name, &d));
      values_[k].push_back(d);
    }
  }
  for (size_t col : plan_.keep) {
    auto it = j.find(plan_.names[col]);
    row->kept.push_back(it == j.end() ? "null" : it->dump());
  }
  return Status::Ok();
}

template <typename T>
void Pack(const std::vector<double>& v, std::string* data) {
  data->resize(v.size() * sizeof(T));
  T* out = reinterpret_cast<T*>(data->data());
  for (size_t i = 0; i < v.size(); i++) out[i] = static_cast<T>(v[i]);
}

void PackAs(const std::string& dt, const std::vector<double>& v, std::string* data) {
  if (dt == "FP32") return Pack<float>(v, data);
  if (dt == "FP64") return Pack<double>(v, data);
  if (dt == "INT64") return Pack<int64_t>(v, data);
  if (dt == "INT32") return Pack<int32_t>(v, data);
  if (dt == "INT16") return Pack<int16_t>(v, data);
  if (dt == "INT8") return Pack<int8_t>(v, data);
  if (dt == "UINT64") return Pack<uint64_t>(v, data);
  if (dt == "UINT32") return Pack<uint32_t>(v, data);
  if (dt == "UINT16") return Pack<uint16_t>(v, data);
  Pack<uint8_t>(v, data);  // UINT8, BOOL
}

template <typename T>
void AppendNumber(T v, std::string* out) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) {
    out->append("0");
    return;
  }
  out->append(buf, p);
}

void Scorer::FormatValue(const Tensor& t, int64_t i, std::string* out) {
  const char* d = t.data.data();
  auto finite = [&](double v) {
    if (std::isfinite(v)) return false;
    out->append(csv_out_ ? (std::isnan(v) ? "" : (v > 0 ? "inf" : "-inf")) : "null");
    return true;
  };
  const std::string& dt = t.datatype;
  if (dt == "FP32") {
    float v;
    std::memcpy(&v, d + i * 4, 4);
    if (!finite(v)) AppendNumber(v, out);
  } else if (dt == "FP64") {
    double v;
    std::memcpy(&v, d + i * 8, 8);
    if (!finite(v)) AppendNumber(v, out);
  } else if (dt == "INT64") {
    int64_t v;
    std::memcpy(&v, d + i * 8, 8);
    AppendNumber(v, out);
  } else if (dt == "INT32") {
    int32_t v;
    std::memcpy(&v, d + i * 4, 4);
    AppendNumber(v, out);
  } else if (dt == "BOOL" || dt == "UINT8") {
    AppendNumber(static_cast<int>(static_cast<uint8_t>(d[i])), out);
  } else {
    out->append(csv_out_ ? "" : "null");  // a datatype batch output does not write
  }
}

Status Scorer::Flush(std::vector<Row>* rows, std::string* out) {
  if (rows->empty()) return Status::Ok();
  const int64_t n = static_cast<int64_t>(rows->size());
  std::vector<Tensor> inputs(plan_.inputs.size()), outputs;
  for (size_t k = 0; k < plan_.inputs.size(); k++) {
    const InputPlan& p = plan_.inputs[k];
    Tensor& t = inputs[k];
    t.name = p.spec.name;
    t.datatype = p.spec.datatype;
    t.shape = p.spec.shape.size() == 2 ? std::vector<int64_t>{n, p.width} : std::vector<int64_t>{n};
    PackAs(t.datatype, values_[k], &t.data);
    values_[k].clear();
  }
  Status st = model_.Predict(inputs, &outputs);
  if (!st.ok()) return st.Wrap("predicting rows " + std::to_string((*rows)[0].line) + "-" +
                               std::to_string(rows->back().line));
  std::vector<int64_t> widths;
  for (const Tensor& t : outputs) {
    if (t.shape.empty() || t.shape[0] != n)
      return Status::Internal("output '" + t.name + "' has " + std::to_string(t.shape.empty() ? 0 : t.shape[0]) +
                              " rows for " + std::to_string(n));
    int64_t w = 1;
    for (size_t d = 1; d < t.shape.size(); d++) w *= t.shape[d];
    widths.push_back(w);
  }
  // JSON keys quoted once per batch, not per row.
  std::vector<std::string> keep_keys, output_keys;
  if (!csv_out_) {
    for (size_t k : plan_.keep) keep_keys.push_back(Json(plan_.names[k]).dump());
    for (const Tensor& t : outputs) output_keys.push_back(Json(t.name).dump());
  }
  for (int64_t r = 0; r < n; r++) {
    const Row& row = (*rows)[static_cast<size_t>(r)];
    if (csv_out_) {
      bool first = true;
      auto sep = [&] {
        if (!first) *out += ',';
        first = false;
      };
      for (const std::string& k : row.kept) {
        sep();
        *out += k;  // CSV: the field as written; JSONL input: its JSON text
      }
      for (size_t o = 0; o < outputs.size(); o++)
        for (int64_t c = 0; c < widths[o]; c++) {
          sep();
          FormatValue(outputs[o], r * widths[o] + c, out);
        }
    } else {
      *out += '{';
      bool first = true;
      auto key = [&](const std::string& quoted) {
        if (!first) *out += ',';
        first = false;
        *out += quoted;
        *out += ':';
      };
      for (size_t k = 0; k < plan_.keep.size(); k++) {
        key(keep_keys[k]);
        if (csv_in_) {
          std::string_view f = Unquote(row.kept[k], &scratch_);
          double v;
          if (!f.empty() && ParseNumber(f, &v) && std::isfinite(v))
            *out += f;
          else
            *out += Json(std::string(f)).dump();
        } else {
          *out += row.kept[k];
        }
      }
      for (size_t o = 0; o < outputs.size(); o++) {
        key(output_keys[o]);
        if (widths[o] > 1 || outputs[o].shape.size() > 1) *out += '[';
        for (int64_t c = 0; c < widths[o]; c++) {
          if (c) *out += ',';
          FormatValue(outputs[o], r * widths[o] + c, out);
        }
        if (widths[o] > 1 || outputs[o].shape.size() > 1) *out += ']';
      }
      *out += '}';
    }
    *out += '\n';
  }
  rows->clear();
  return Status::Ok();
}

void Scorer::Score(Chunk* c) {
  values_.assign(plan_.inputs.size(), {});
  std::vector<Row> rows;
  rows.reserve(std::min<size_t>(opts_.batch_size, 65536));
  std::string_view text = c->text;
  uint64_t line = c->line;
  size_t pos = 0;
  while (pos < text.size() && c->status.ok()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view l = text.substr(pos, end - pos);
    pos = end + 1;
    uint64_t this_line = line++;
    if (l.empty() || l == "\r") continue;  // blank lines are not rows
    Row row;
    row.line = this_line;
    // A bad row must not leave half its values behind.
    sizes_.clear();
    for (const auto& v : values_) sizes_.push_back(v.size());
    Status st = ParseRow(l, &row);
    if (!st.ok()) {
      for (size_t k = 0; k < values_.size(); k++) values_[k].resize(sizes_[k]);
      Bad(c, this_line, st);
      continue;
    }
    rows.push_back(std::move(row));
    c->rows++;
    if (rows.size() >= opts_.batch_size) c->status = Flush(&rows, &c->out);
  }
  if (c->status.ok()) c->status = Flush(&rows, &c->out);
  c->text.clear();
  c->text.shrink_to_fit();
}

std::string Scorer::CsvHeader(const Plan& plan, const runtime::Model& m) {
  std::string h;
  auto add = [&](const std::string& name) {
    if (!h.empty()) h += ',';
    h += name;
  };
  for (size_t k : plan.keep) add(plan.names[k]);
  for (const TensorSpec& o : m.outputs()) {
    int64_t w = 1;
    for (size_t d = 1; d < o.shape.size(); d++) w *= std::max<int64_t>(o.shape[d], 1);
    if (o.shape.size() <= 1) {
      add(o.name);
    } else {
      for (int64_t c = 0; c < w; c++) add(o.name + "_" + std::to_string(c));
    }
  }
  return h + "\n";
}

// ---- reading ---------------------------------------------------------------------

Status PreadAll(int fd, uint64_t offset, size_t n, std::string* out) {
  out->resize(n);
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, out->data() + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("reading", errno);
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  out->resize(got);
  return Status::Ok();
}

// The offset just after the first newline at or after `from` (or `limit`).
Result<uint64_t> NextLineStart(int fd, uint64_t from, uint64_t limit) {
  std::string buf;
  while (from < limit) {
    RETURN_IF_ERROR(PreadAll(fd, from, std::min<uint64_t>(1 << 16, limit - from), &buf));
    if (buf.empty()) break;
    size_t nl = buf.find('\n');
    if (nl != std::string::npos) return from + nl + 1;
    from += buf.size();
  }
  return limit;
}

Result<uint64_t> CountLines(int fd, uint64_t end) {
  std::string buf;
  uint64_t n = 0;
  for (uint64_t at = 0; at < end;) {
    RETURN_IF_ERROR(PreadAll(fd, at, std::min<uint64_t>(1 << 20, end - at), &buf));
    if (buf.empty()) break;
    n += static_cast<uint64_t>(std::count(buf.begin(), buf.end(), '\n'));
    at += buf.size();
  }
  return n;
}

// ---- the resume record -----------------------------------------------------------

struct Checkpoint {
  std::string fingerprint;
  uint64_t offset = 0, output_bytes = 0, line = 0, rows = 0, skipped = 0;

  std::string Serialize() const {
    return "forja-predict 1\nfingerprint " + fingerprint + "\noffset " + std::to_string(offset) + "\noutput_bytes " +
           std::to_string(output_bytes) + "\nline " + std::to_string(line) + "\nrows " + std::to_string(rows) +
           "\nskipped " + std::to_string(skipped) + "\n";
  }
  static std::optional<Checkpoint> Parse(const std::string& text) {
    Checkpoint c;
    std::map<std::string, std::string> kv;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) return std::nullopt;  // a torn record is no record
      std::string l = text.substr(pos, nl - pos);
      pos = nl + 1;
      size_t sp = l.find(' ');
      if (sp == std::string::npos) return std::nullopt;
      kv[l.substr(0, sp)] = l.substr(sp + 1);
    }
    if (kv["forja-predict"] != "1") return std::nullopt;
    c.fingerprint = kv["fingerprint"];
    auto num = [&](const char* k, uint64_t* v) {
      const std::string& s = kv[k];
      return std::from_chars(s.data(), s.data() + s.size(), *v).ec == std::errc() && !s.empty();
    };
    if (!num("offset", &c.offset) || !num("output_bytes", &c.output_bytes) || !num("line", &c.line) ||
        !num("rows", &c.rows) || !num("skipped", &c.skipped))
      return std::nullopt;
    return c;
  }
};

std::string Fingerprint(const PredictOptions& o, const struct stat& st, const std::string& in_fmt,
                        const std::string& out_fmt) {
  std::string s = o.input + '\0' + std::to_string(st.st_size) + '\0' + std::to_string(st.st_ino) + '\0' +
                  std::to_string(st.st_mtim.tv_sec) + '.' + std::to_string(st.st_mtim.tv_nsec) + '\0' + in_fmt +
                  '\0' + out_fmt + '\0' + std::to_string(o.shard) + '/' + std::to_string(o.shards) + '\0' +
                  o.model_id + '\0' + (o.skip_errors ? "skip" : "fail");
  for (const auto& k : o.keep) s += "\0keep " + k;
  for (const auto& k : o.exclude) s += "\0exclude " + k;
  return Sha256::Of(s).Hex();
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t w = ::write(fd, data.data(), data.size());
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("writing the output", errno);
    }
    data.remove_prefix(static_cast<size_t>(w));
  }
  return Status::Ok();
}

// ---- the pipeline: a reader, N workers, an ordered writer --------------------------

class Pipeline {
 public:
  explicit Pipeline(size_t max_in_flight) : max_(max_in_flight) {}

  // Reader: blocks while too many chunks are in flight. False once stopped.
  bool Submit(std::unique_ptr<Chunk> c) {
    std::unique_lock<std::mutex> lock(mu_);
    space_.wait(lock, [&] { return in_flight_ < max_ || stopped_; });
    if (stopped_) return false;
    in_flight_++;
    todo_.push_back(std::move(c));
    work_.notify_one();
    return true;
  }
  void CloseInput() {
    std::lock_guard<std::mutex> lock(mu_);
    input_done_ = true;
    work_.notify_all();
    ready_.notify_all();  // the writer may be waiting past the last chunk
  }
  // Workers: the next chunk to score, or null at the end.
  std::unique_ptr<Chunk> Take() {
    std::unique_lock<std::mutex> lock(mu_);
    work_.wait(lock, [&] { return !todo_.empty() || input_done_ || stopped_; });
    if (stopped_ || todo_.empty()) return nullptr;
    auto c = std::move(todo_.front());
    todo_.pop_front();
    return c;
  }
  void Done(std::unique_ptr<Chunk> c) {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t seq = c->seq;
    done_.emplace(seq, std::move(c));
    ready_.notify_all();
  }
  // Writer: chunk `seq`, or null when stopped or past the last one.
  std::unique_ptr<Chunk> Next(uint64_t seq) {
    std::unique_lock<std::mutex> lock(mu_);
    ready_.wait(lock, [&] { return done_.count(seq) || stopped_ || (input_done_ && in_flight_ == 0); });
    auto it = done_.find(seq);
    if (it == done_.end()) return nullptr;
    auto c = std::move(it->second);
    done_.erase(it);
    in_flight_--;
    space_.notify_one();
    ready_.notify_all();
    return c;
  }
  void Stop() {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    work_.notify_all();
    space_.notify_all();
    ready_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable space_, work_, ready_;
  std::deque<std::unique_ptr<Chunk>> todo_;
  std::map<uint64_t, std::unique_ptr<Chunk>> done_;
  size_t in_flight_ = 0, max_;
  bool input_done_ = false, stopped_ = false;
};

}  // namespace

Result<PredictReport> RunPredict(const PredictOptions& o, runtime::Model& model) {
  const std::string in_fmt = FormatOf(o.input_format, o.input);
  const std::string out_fmt = FormatOf(o.output_format, o.output);
  if (in_fmt != "csv" && in_fmt != "jsonl") return Status::User("--input-format: use csv or jsonl");
  if (out_fmt != "csv" && out_fmt != "jsonl") return Status::User("--output-format: use csv or jsonl");
  if (o.shards < 1 || o.shard < 0 || o.shard >= o.shards) return Status::User("--shard: use i/n with 0 <= i < n");
  const bool csv_in = in_fmt == "csv", csv_out = out_fmt == "csv";

  Fd in;
  {
    int fd = ::open(o.input.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::User(o.input + ": " + std::strerror(errno));
    in = Fd(fd);
  }
  struct stat st {};
  if (::fstat(in.get(), &st) != 0 || !S_ISREG(st.st_mode)) return Status::User(o.input + ": not a regular file");
  const uint64_t size = static_cast<uint64_t>(st.st_size);

  // The column names: CSV's header, or the first JSON object's keys.
  std::string first;
  RETURN_IF_ERROR(PreadAll(in.get(), 0, std::min<uint64_t>(size, 1 << 20), &first));
  size_t nl = first.find('\n');
  if (nl == std::string::npos && first.size() == (1u << 20)) return Status::User(o.input + ":1: a first line over 1 MiB");
  std::string head = first.substr(0, nl == std::string::npos ? first.size() : nl);
  if (head.empty()) return Status::User(o.input + ":1: empty; " + (csv_in ? "a header row is needed" : "no rows"));
  std::vector<std::string> names;
  if (csv_in) {
    std::vector<std::string_view> raw;
    Status s = SplitCsv(head, &raw, &names);
    if (!s.ok()) return Status::User(o.input + ":1: header: " + s.message());
  } else {
    Json j = Json::parse(head, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return Status::User(o.input + ":1: not a JSON object");
    for (auto it = j.begin(); it != j.end(); ++it) names.push_back(it.key());
  }
  Plan plan;
  RETURN_IF_ERROR(MakePlan(names, o, model, o.input + ":1", &plan));

  // This shard's rows start in [lo, hi).
  const uint64_t data_start = csv_in ? (nl == std::string::npos ? size : nl + 1) : 0;
  const uint64_t span = size - data_start;
  uint64_t lo = data_start + span * static_cast<uint64_t>(o.shard) / static_cast<uint64_t>(o.shards);
  uint64_t hi = data_start + span * static_cast<uint64_t>(o.shard + 1) / static_cast<uint64_t>(o.shards);
  if (lo > data_start) {
    ASSIGN_OR_RETURN(lo, NextLineStart(in.get(), lo - 1, size));
  }
  if (hi < size && hi > data_start) {
    ASSIGN_OR_RETURN(hi, NextLineStart(in.get(), hi - 1, size));
  }
  if (hi < lo) hi = lo;

  // Resume or start over.
  const std::string partial = o.output + ".partial", record = o.output + ".progress";
  const std::string fingerprint = Fingerprint(o, st, in_fmt, out_fmt);
  PredictReport report;
  Checkpoint cp;
  cp.fingerprint = fingerprint;
  cp.offset = lo;
  {
    auto text = ReadFile(record);
    std::optional<Checkpoint> prev = text.ok() ? Checkpoint::Parse(*text) : std::nullopt;
    struct stat pst {};
    if (prev && prev->fingerprint == fingerprint && ::stat(partial.c_str(), &pst) == 0 &&
        static_cast<uint64_t>(pst.st_size) >= prev->output_bytes && prev->offset >= lo && prev->offset <= hi) {
      cp = *prev;
      report.resumed_rows = cp.rows;
      report.resumed_line = cp.line;
    } else if (text.ok()) {
      LogInfo("forja predict: " + record + " is from another input, model or options; starting over");
    }
  }
  if (report.resumed_line == 0) {
    ASSIGN_OR_RETURN(uint64_t lines_before, CountLines(in.get(), lo));
    cp.line = lines_before + 1;
  }
  Fd out;
  {
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (report.resumed_line ? 0 : O_TRUNC);
    int fd = ::open(partial.c_str(), flags, 0644);
    if (fd < 0) return Status::FromErrno("opening " + partial, errno);
    out = Fd(fd);
  }
  if (report.resumed_line) {
    if (::ftruncate(out.get(), static_cast<off_t>(cp.output_bytes)) != 0) return Status::FromErrno("truncating " + partial, errno);
    if (::lseek(out.get(), static_cast<off_t>(cp.output_bytes), SEEK_SET) < 0) return Status::FromErrno("seeking " + partial, errno);
  } else if (csv_out) {
    std::string h = Scorer::CsvHeader(plan, model);
    RETURN_IF_ERROR(WriteAll(out.get(), h));
    cp.output_bytes = h.size();
  }

  const int jobs = o.jobs > 0 ? o.jobs : std::max(1u, std::thread::hardware_concurrency());
  Pipeline pipe(static_cast<size_t>(2 * jobs + 2));
  Progress progress("Scoring " + Basename(o.input), 0, o.progress ? hi - lo : 0);
  if (report.resumed_line) progress.Add(cp.rows, cp.offset - lo);

  std::vector<std::thread> workers;
  for (int w = 0; w < jobs; w++)
    workers.emplace_back([&] {
      Scorer scorer(plan, o, model, csv_in, csv_out);
      while (auto c = pipe.Take()) {
        scorer.Score(c.get());
        pipe.Done(std::move(c));
      }
    });

  // The writer runs here; the reader on its own thread.
  Status read_status;
  std::thread reader([&] {
    uint64_t at = cp.offset, line = cp.line, seq = 0;
    while (at < hi) {
      auto c = std::make_unique<Chunk>();
      c->seq = seq++;
      c->offset = at;
      c->line = line;
      Status s = PreadAll(in.get(), at, std::min<uint64_t>(kChunkBytes, hi - at), &c->text);
      if (s.ok() && c->text.empty()) s = Status::Io(o.input + " shrank while being read");
      if (!s.ok()) {
        read_status = s;
        pipe.Stop();
        break;
      }
      if (at + c->text.size() < hi) {  // end on a whole line
        size_t last = c->text.rfind('\n');
        if (last == std::string::npos) {
          read_status = Status::User(o.input + ":" + std::to_string(line) + ": a line over 1 MiB");
          pipe.Stop();
          break;
        }
        c->text.resize(last + 1);
      }
      at += c->text.size();
      c->end = at;
      line += static_cast<uint64_t>(std::count(c->text.begin(), c->text.end(), '\n'));
      c->end_line = line;
      if (!pipe.Submit(std::move(c))) break;
    }
    pipe.CloseInput();
  });

  Status status;
  // How often the resume record is written (tests shorten it to catch a kill mid-run).
  const char* every_env = std::getenv("FORJA_PREDICT_CHECKPOINT_MS");
  const int64_t every_ms = every_env && *every_env ? std::atoll(every_env) : 1000;
  int64_t last_checkpoint = MonotonicMs();
  for (uint64_t seq = 0;; seq++) {
    auto c = pipe.Next(seq);
    if (!c) break;
    if (!c->status.ok()) {
      status = c->status;
      pipe.Stop();
      break;
    }
    for (auto& e : c->errors)
      if (report.errors.size() < kMaxErrorsShown) report.errors.push_back(std::move(e));
    status = WriteAll(out.get(), c->out);
    if (!status.ok()) {
      pipe.Stop();
      break;
    }
    cp.offset = c->end;
    cp.output_bytes += c->out.size();
    cp.line = c->end_line;
    cp.rows += c->rows;
    cp.skipped += c->skipped;
    progress.Add(c->rows, c->end - c->offset);
    if (MonotonicMs() - last_checkpoint >= every_ms) {
      if (::fdatasync(out.get()) != 0) {
        status = Status::FromErrno("syncing " + partial, errno);
        pipe.Stop();
        break;
      }
      status = WriteFileAtomic(record, cp.Serialize());
      if (!status.ok()) {
        pipe.Stop();
        break;
      }
      last_checkpoint = MonotonicMs();
    }
  }
  reader.join();
  for (auto& w : workers) w.join();
  if (status.ok()) status = read_status;
  if (!status.ok()) {
    if (status.code() == Code::kUser) {  // a bad row or input: nothing to resume
      out.Reset();
      (void)RemoveFile(partial);
      (void)RemoveFile(record);
    }
    return status;
  }
  if (::fsync(out.get()) != 0) return Status::FromErrno("syncing " + partial, errno);
  out.Reset();
  if (::rename(partial.c_str(), o.output.c_str()) != 0) return Status::FromErrno("renaming " + partial, errno);
  (void)RemoveFile(record);
  RETURN_IF_ERROR(FsyncDir(Dirname(o.output)));
  report.rows = cp.rows;
  report.skipped = cp.skipped;
  return report;
}

}  // namespace forja::batch
