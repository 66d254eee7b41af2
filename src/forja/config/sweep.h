// Sweeps expanded as Hydra 1.3's BasicSweeper expands them (sweep.cc): the
// values one sweep stands for, and the overrides of each job of a multirun.
// Below, in namespace sweep, what the override parser shares with them: the
// seeded shuffle and fnmatch for glob().
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "forja/config/node.h"
#include "forja/config/override.h"
#include "forja/core/status.h"

namespace forja::config {

// The options of a config group, for glob(); Hydra passes them sorted.
using GroupOptionsFn = std::function<Result<std::vector<std::string>>(const std::string& group)>;

// The values a sweep stands for, in order: each is the Node Hydra's job gets
// (the element's text parsed again). A plain element gives itself. shuffle()
// uses a generator seeded with `seed`, so the same seed gives the same order.
// interval() cannot be listed (an error says so); glob() needs the options.
Result<std::vector<Node>> SweepValues(const Value& value, const std::vector<std::string>& group_options = {},
                                      uint64_t seed = 0);

// Hydra's BasicSweeper: one list of overrides per job, the cartesian product
// of the sweeps in the order given (the last override varies fastest). Like
// Hydra, an override whose KeyElement() repeats an earlier one replaces it in
// place. Each job override is parsed from the text Hydra gives the job
// (Override::input, e.g. "db=mysql", "~a=null"), which is also how
// `forja config show -m` prints it. At most 1,000,000 jobs.
Result<std::vector<std::vector<Override>>> SweepJobOverrides(const std::vector<Override>& overrides,
                                                             const GroupOptionsFn& group_options = {},
                                                             uint64_t seed = 0);

}  // namespace forja::config

namespace forja::config::sweep {

// splitmix64: small, fast, and the same on every platform (std::shuffle's
// algorithm is not specified, so forja does not use it).
inline uint64_t NextRandom(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Uniform in [0, n), without modulo bias.
inline uint64_t RandomBelow(uint64_t* state, uint64_t n) {
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  for (;;) {
    uint64_t r = NextRandom(state);
    if (r < limit) return r % n;
  }
}

// Fisher-Yates, from the back.
template <typename T>
void Shuffle(std::vector<T>* v, uint64_t* state) {
  for (size_t i = v->size(); i > 1; i--) std::swap((*v)[i - 1], (*v)[RandomBelow(state, i)]);
}

// Python's fnmatch.fnmatchcase(name, pattern) on POSIX: * ? [seq] [!seq], the
// rest literal, matched by characters (UTF-8 decoded).
bool FnMatch(std::string_view name, std::string_view pattern);

}  // namespace forja::config::sweep
