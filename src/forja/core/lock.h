// The workspace lock: two writing commands never interleave. The lock is an
// flock on .forja/lock (released by the kernel when a holder dies, even by
// kill -9); the file's text says who holds it.
#pragma once

#include <string>

#include "forja/core/fs.h"
#include "forja/core/status.h"

namespace forja {

class FileLock {
 public:
  // Takes the lock at `path` for `what` (e.g. "forja add data"). When held by
  // another process: waits if `wait`, otherwise fails naming the holder.
  static Result<FileLock> Acquire(const std::string& path, const std::string& what, bool wait);
  FileLock(FileLock&&) = default;

 private:
  explicit FileLock(Fd fd) : fd_(std::move(fd)) {}
  Fd fd_;
};

}  // namespace forja
