// The threads of forja predict: a reader cuts the input into chunks of whole lines (about
// 1 MiB, by pread), N scorers score them (scorer.h), and the writer, on the calling thread,
// appends their output to OUTPUT.partial in input order and records a checkpoint about once a
// second (checkpoint.h). A ChunkQueue hands the chunks along and holds at most 2N+2 of them,
// so memory is bounded by the chunk size whatever the file size.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "forja/batch/checkpoint.h"
#include "forja/batch/predict.h"
#include "forja/batch/scorer.h"
#include "forja/core/status.h"

namespace forja {
class Progress;
}

namespace forja::runtime {
class Model;
}

namespace forja::batch {

constexpr size_t kChunkBytes = 1 << 20;  // ~10,000 rows of 32 features; also the longest line

// What one run scores, and where its output goes.
struct ScoringRun {
  const PredictOptions& opts;
  const Plan& plan;
  runtime::Model& model;
  bool csv_in, csv_out;
  int input_fd;
  uint64_t end;        // this shard's rows start before this offset
  int output_fd;       // OUTPUT.partial, positioned at the checkpoint's output_bytes
  std::string partial, record;  // OUTPUT.partial and OUTPUT.progress
  Progress& progress;
};

// Scores the input from cp->offset (line cp->line) to run.end, appending to run.output_fd;
// `cp` follows the chunks written, and is saved about once a second. The skipped rows' messages
// go to `errors` (the first kMaxErrorsShown). A bad row without --on-error skip, a line over
// kChunkBytes, or a failed read, predict or write ends the run with that error.
Status RunScoringPipeline(const ScoringRun& run, Checkpoint* cp, std::vector<std::string>* errors);

// Writes all of `data` to `fd`.
Status WriteAll(int fd, std::string_view data);

}  // namespace forja::batch
