// forja predict's resume record, OUTPUT.progress: where to go on from after the last chunk
// written (the input offset, the size OUTPUT.partial had then, the line number, the counts),
// and a fingerprint of what was being scored. The writer syncs the partial output before it
// replaces the record atomically (temp file, rename), so a record never counts output the
// partial file could lose in a crash. A record that is torn, from another input, model or
// options, or counting more output than the partial file holds is not used: the run starts over.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <optional>
#include <string>

#include "forja/batch/predict.h"
#include "forja/core/status.h"

namespace forja::batch {

struct Checkpoint {
  std::string fingerprint;
  uint64_t offset = 0, output_bytes = 0, line = 0, rows = 0, skipped = 0;

  // "forja-predict 1\nfingerprint ...\noffset ...\n...": one "key value" line each.
  std::string Serialize() const;
  // Null for anything Serialize did not write whole.
  static std::optional<Checkpoint> Parse(const std::string& text);
};

// What a record must match to be resumed: the input (path, size, inode, mtime), the formats,
// the shard, the model and the options that change the output.
std::string Fingerprint(const PredictOptions& o, const struct stat& input, const std::string& in_fmt,
                        const std::string& out_fmt);

// The record at `record` if this run may go on from it: its fingerprint is `fingerprint`,
// `partial` holds at least the output it counts, and its offset is in this shard's [lo, hi].
// A record that exists but does not qualify is logged ("starting over") and ignored.
std::optional<Checkpoint> LoadCheckpoint(const std::string& record, const std::string& partial,
                                         const std::string& fingerprint, uint64_t lo, uint64_t hi);

// Syncs the partial output (`partial_fd`, named `partial` in errors), then replaces `record`.
Status SaveCheckpoint(int partial_fd, const std::string& partial, const std::string& record, const Checkpoint& cp);

}  // namespace forja::batch
