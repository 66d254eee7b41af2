// Scoring one chunk of input lines, on one thread: each line is parsed (CSV fields or a JSONL
// object) into the model's input tensors, predicted in batches of --batch-size rows, and
// written as output lines (CSV or JSONL), kept columns first. The Plan, made once from the
// column names, says which columns feed which model input. A bad row becomes "FILE:LINE: what":
// the chunk's error, or with --on-error skip a skipped row.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "forja/batch/predict.h"
#include "forja/core/json.h"
#include "forja/core/status.h"
#include "forja/core/tensor.h"

namespace forja::runtime {
class Model;
}

namespace forja::batch {

constexpr size_t kMaxErrorsShown = 10;  // skipped rows named in the report

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

// Maps the columns `names` to the model's inputs: a column per input of that name, or, for a
// model with one matrix input named by no column, every column not --exclude'd, in order.
// Errors start with `where` ("FILE:1").
Status MakePlan(const std::vector<std::string>& names, const PredictOptions& o, const runtime::Model& m,
                const std::string& where, Plan* plan);

// The CSV output's header line: the kept columns, then each output (NAME_0, NAME_1, ... for
// the elements of a matrix output).
std::string CsvHeader(const Plan& plan, const runtime::Model& m);

// Input lines [offset, end) of the file, and what scoring them gave.
struct Chunk {
  uint64_t seq = 0;
  uint64_t offset = 0, end = 0;  // input bytes [offset, end)
  uint64_t line = 0;             // the first row's line number
  uint64_t end_line = 0;         // the line number after the chunk
  std::string text;
  // Filled by Scorer::Score:
  std::string out;
  uint64_t rows = 0, skipped = 0;
  std::vector<std::string> errors;  // skipped rows, the first kMaxErrorsShown
  Status status;
};

class Scorer {
 public:
  Scorer(const Plan& plan, const PredictOptions& o, runtime::Model& m, bool csv_in, bool csv_out)
      : plan_(plan), opts_(o), model_(m), csv_in_(csv_in), csv_out_(csv_out) {}

  // Scores c->text into c->out (and frees the text). Blank lines are not rows.
  void Score(Chunk* c);

 private:
  struct Row {
    uint64_t line;
    std::vector<std::string> kept;  // CSV: raw fields; JSONL: JSON values
  };
  Status ParseCsvRow(std::string_view line, Row* row);
  Status ParseJsonlRow(std::string_view line, Row* row);
  Status Flush(std::vector<Row>* rows, std::string* out);
  void AppendCsvLine(const Row& row, const std::vector<Tensor>& outputs, const std::vector<int64_t>& widths,
                     int64_t r, std::string* out);
  void AppendJsonlLine(const Row& row, const std::vector<Tensor>& outputs, const std::vector<int64_t>& widths,
                       int64_t r, std::string* out);
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
  JsonDoc doc_;                // JSONL: the row being parsed
  std::vector<std::string> keep_keys_, output_keys_;  // JSONL output: keys quoted once a batch
};

}  // namespace forja::batch
