// Running independent work items on a few threads.
#pragma once

#include <cstddef>
#include <functional>

#include "forja/core/status.h"

namespace forja {

// The default number of workers: the number of cores (at least 1).
int DefaultJobs();

// Calls fn(i) for every i in [0, n) on up to `jobs` threads. Stops handing out
// work after the first failure and returns that failure.
Status ParallelFor(size_t n, int jobs, const std::function<Status(size_t)>& fn);

}  // namespace forja
