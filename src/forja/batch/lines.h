// The input file as lines, read with pread so the reader, the shard bounds and the line
// counts share one descriptor without a file position: reading at an offset, the start of
// the next line (where a shard or a chunk begins), and counting lines (the line number a
// shard or a resumed run starts at, so messages name true lines).
#pragma once

#include <cstdint>
#include <string>

#include "forja/core/status.h"

namespace forja::batch {

// Up to `n` bytes at `offset`; fewer at the end of the file.
Status PreadAll(int fd, uint64_t offset, size_t n, std::string* out);

// The offset just after the first newline at or after `from`, or `limit` if there is none before it.
Result<uint64_t> NextLineStart(int fd, uint64_t from, uint64_t limit);

// The number of newlines in the file's first `end` bytes.
Result<uint64_t> CountLines(int fd, uint64_t end);

}  // namespace forja::batch
