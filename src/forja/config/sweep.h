// Internals of sweeps shared by override.cc and sweep.cc: the seeded shuffle,
// fnmatch for glob(), and parsing a rendered sweep value back. The public API
// (ExpandSweep, ExpandSweeps) is declared in override.h.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

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
