// Running a child process (posix_spawn) and capturing what it prints.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "forja/core/fs.h"
#include "forja/core/status.h"

namespace forja {

struct ProcessResult {
  int exit_code = -1;  // -signal when killed by a signal
  std::string out;     // standard output
  std::string err;     // standard error
};

// Runs argv[0] (searched on PATH) in `cwd` ("" = current) with `input` on its
// standard input, and waits. Fails only when the process cannot be started.
Result<ProcessResult> RunProcess(const std::vector<std::string>& argv, const std::string& cwd = "",
                                 const std::string& input = "");

// A pidfd for a child (pollable: readable once it exits), or an invalid Fd where
// the kernel has no pidfd_open.
Fd OpenPidfd(pid_t pid);

}  // namespace forja
