#include "forja/batch/scorer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>

#include "forja/batch/csv.h"
#include "forja/batch/jsonl.h"
#include "forja/runtime/model.h"

namespace forja::batch {

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

std::string CsvHeader(const Plan& plan, const runtime::Model& m) {
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

// ---- rows in -------------------------------------------------------------------------

void Scorer::Bad(Chunk* c, uint64_t line, const Status& st) {
  std::string msg = opts_.input + ":" + std::to_string(line) + ": " + st.message();
  if (!opts_.skip_errors) {
    c->status = Status::User(msg + "; fix the row, or pass --on-error skip");
    return;
  }
  c->skipped++;
  if (c->errors.size() < kMaxErrorsShown) c->errors.push_back(msg);
}

Status Scorer::ParseCsvRow(std::string_view line, Row* row) {
  RETURN_IF_ERROR(SplitCsv(line, &raw_, nullptr));
  if (raw_.size() != plan_.fields)
    return Status::User(std::to_string(raw_.size()) + " fields, the header has " + std::to_string(plan_.fields));
  for (size_t k = 0; k < plan_.inputs.size(); k++) {
    const InputPlan& p = plan_.inputs[k];
    for (size_t col : p.columns) {
      double v;
      std::string_view f = UnquoteCsv(raw_[col], &scratch_);
      if (!ParseNumber(f, &v))
        return Status::User("column '" + plan_.names[col] + "': '" + std::string(f.substr(0, 40)) + "' is not a number");
      values_[k].push_back(v);
    }
    if (p.matrix && p.columns.size() == 1) return Status::User("input '" + p.spec.name + "' needs a JSON array; use JSONL input");
  }
  for (size_t col : plan_.keep) row->kept.emplace_back(raw_[col]);
  return Status::Ok();
}

Status Scorer::ParseJsonlRow(std::string_view line, Row* row) {
  RETURN_IF_ERROR(ParseJsonlObject(line, &doc_));
  const JsonNode& object = doc_.root();
  for (size_t k = 0; k < plan_.inputs.size(); k++) {
    const InputPlan& p = plan_.inputs[k];
    if (p.matrix && p.columns.size() == 1 && plan_.names[p.columns[0]] == p.spec.name) {
      const JsonNode* a = JsonlMember(doc_, object, p.spec.name);
      if (!a || a->kind != JsonNode::kArray || static_cast<int64_t>(a->count) != p.width)
        return Status::User("field '" + p.spec.name + "': an array of " + std::to_string(p.width) + " numbers is needed");
      for (const JsonNode* v = doc_.First(*a); v; v = doc_.Next(*v)) {
        double d;
        RETURN_IF_ERROR(JsonlNumber(doc_, *v, p.spec.name, &d));
        values_[k].push_back(d);
      }
      continue;
    }
    for (size_t col : p.columns) {
      const std::string& name = plan_.names[col];
      const JsonNode* v = JsonlMember(doc_, object, name);
      double d = std::nan("");
      if (v) RETURN_IF_ERROR(JsonlNumber(doc_, *v, name, &d));
      values_[k].push_back(d);
    }
  }
  for (size_t col : plan_.keep) {
    const JsonNode* v = JsonlMember(doc_, object, plan_.names[col]);
    std::string& text = row->kept.emplace_back();
    if (v)
      AppendJsonlValue(doc_, *v, &text);
    else
      text = "null";
  }
  return Status::Ok();
}

// ---- predicting ----------------------------------------------------------------------

namespace {

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

}  // namespace

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
  if (!csv_out_) {
    keep_keys_.clear();
    output_keys_.clear();
    for (size_t k : plan_.keep) keep_keys_.push_back(JsonQuote(plan_.names[k]));
    for (const Tensor& t : outputs) output_keys_.push_back(JsonQuote(t.name));
  }
  for (int64_t r = 0; r < n; r++) {
    const Row& row = (*rows)[static_cast<size_t>(r)];
    if (csv_out_)
      AppendCsvLine(row, outputs, widths, r, out);
    else
      AppendJsonlLine(row, outputs, widths, r, out);
  }
  rows->clear();
  return Status::Ok();
}

// ---- lines out -----------------------------------------------------------------------

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

void Scorer::AppendCsvLine(const Row& row, const std::vector<Tensor>& outputs, const std::vector<int64_t>& widths,
                           int64_t r, std::string* out) {
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
  *out += '\n';
}

void Scorer::AppendJsonlLine(const Row& row, const std::vector<Tensor>& outputs, const std::vector<int64_t>& widths,
                             int64_t r, std::string* out) {
  *out += '{';
  bool first = true;
  auto key = [&](const std::string& quoted) {
    if (!first) *out += ',';
    first = false;
    *out += quoted;
    *out += ':';
  };
  for (size_t k = 0; k < plan_.keep.size(); k++) {
    key(keep_keys_[k]);
    if (csv_in_) {
      // A CSV cell that reads as a finite number is written as it is; anything else as a string.
      std::string_view f = UnquoteCsv(row.kept[k], &scratch_);
      double v;
      if (!f.empty() && ParseNumber(f, &v) && std::isfinite(v))
        *out += f;
      else
        AppendJsonString(out, f);
    } else {
      *out += row.kept[k];
    }
  }
  for (size_t o = 0; o < outputs.size(); o++) {
    key(output_keys_[o]);
    bool array = widths[o] > 1 || outputs[o].shape.size() > 1;
    if (array) *out += '[';
    for (int64_t c = 0; c < widths[o]; c++) {
      if (c) *out += ',';
      FormatValue(outputs[o], r * widths[o] + c, out);
    }
    if (array) *out += ']';
  }
  *out += "}\n";
}

// ---- a chunk -------------------------------------------------------------------------

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
    Status st = csv_in_ ? ParseCsvRow(l, &row) : ParseJsonlRow(l, &row);
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

}  // namespace forja::batch
