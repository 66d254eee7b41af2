#include "forja/core/crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace forja::crash_point_internal {

namespace {

struct Target {
  std::string name;
  long nth = 1;
  std::atomic<long> hits{0};
};

// FORJA_CRASH_AT=NAME or NAME:N. A suffix that is not a positive number stays part
// of the name, which then never matches: the test sees no crash and fails loudly.
Target* Parse() {
  const char* env = std::getenv("FORJA_CRASH_AT");
  if (env == nullptr || *env == '\0') return nullptr;
  auto* t = new Target;  // lives until the process dies (often by this very target)
  t->name = env;
  size_t colon = t->name.rfind(':');
  if (colon != std::string::npos && colon + 1 < t->name.size()) {
    char* end = nullptr;
    long n = std::strtol(t->name.c_str() + colon + 1, &end, 10);
    if (*end == '\0' && n > 0) {
      t->nth = n;
      t->name.resize(colon);
    }
  }
  return t;
}

Target* Get() {
  static Target* target = Parse();
  return target;
}

void Say(std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(STDERR_FILENO, s.data(), s.size());
    if (n <= 0) return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

bool Armed() noexcept { return Get() != nullptr; }

void Hit(std::string_view name) noexcept {
  Target* t = Get();
  if (t == nullptr || name != t->name) return;
  if (t->hits.fetch_add(1) + 1 != t->nth) return;
  // As kill -9 from outside: no destructors, no atexit, no buffered output.
  Say("forja: crash point ");
  Say(name);
  Say(" reached (FORJA_CRASH_AT); killing this process\n");
  ::kill(::getpid(), SIGKILL);
  ::_exit(137);
}

}  // namespace forja::crash_point_internal
