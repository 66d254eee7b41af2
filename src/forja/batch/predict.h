// Batch prediction: `forja predict` scores a CSV or JSONL file with a model and
// writes one output row per input row, in input order.
//
// Design, and why:
//  - Streamed in chunks of whole lines (about 1 MiB): a reader thread cuts the
//    input, N workers parse, predict and format chunks, a writer puts them back
//    in order. At most 2N+2 chunks are in flight, so memory is bounded whatever
//    the file size.
//  - Resumable: the output grows in OUTPUT.partial; about once a second the
//    writer fsyncs it and records (input offset, output size, line) in
//    OUTPUT.progress, atomically. A rerun with the same input, model and options
//    truncates the partial output to the recorded size and goes on from there.
//    OUTPUT itself appears only when everything is written (rename), so a crash
//    never leaves a half-written OUTPUT.
//  - Sharding by bytes: shard i of n takes the rows that start in the i-th n-th
//    of the file (after the header), so n machines split one file without
//    coordinating; each row belongs to exactly one shard.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "forja/core/status.h"

namespace forja::runtime {
class Model;
}

namespace forja::batch {

struct PredictOptions {
  std::string input, output;
  std::string input_format, output_format;  // "csv" or "jsonl"; "" = from the extension
  size_t batch_size = 4096;                 // rows per predict call
  int jobs = 0;                             // worker threads; 0 = one per core
  int shard = 0, shards = 1;                // --shard i/n (0-based i)
  bool skip_errors = false;                 // --on-error skip (else fail)
  std::vector<std::string> keep;            // input columns copied to the output, first
  std::vector<std::string> exclude;         // input columns that are not features
  std::string model_id;                     // names the model in the resume record
  bool progress = true;                     // a meter on a terminal
};

struct PredictReport {
  uint64_t rows = 0;          // rows written (this run and the resumed part)
  uint64_t skipped = 0;       // bad rows left out (--on-error skip)
  uint64_t resumed_rows = 0;  // rows that a previous run had written already
  uint64_t resumed_line = 0;  // the input line it resumed at (0: started fresh)
  std::vector<std::string> errors;  // the first bad rows, "file:line: what"
};

Result<PredictReport> RunPredict(const PredictOptions& opts, runtime::Model& model);

}  // namespace forja::batch
