// Deterministic fault injection for the crash tests (as LevelDB's fault-injection
// tests do): CrashPoint("add.before_pointer") kills the process with SIGKILL right
// there when the environment variable FORJA_CRASH_AT names that point ("NAME" for
// its first hit, "NAME:N" for its Nth, counted across threads). A test can then
// crash exactly between two steps instead of after a guessed sleep.
//
// The variable is read once; unset, a point costs one predictable branch, so the
// points are in every build and the crash tests run the binary users get. The
// points and where they sit: docs/architecture.md, "Durability and crashes".
#pragma once

#include <string_view>

namespace forja {

namespace crash_point_internal {
bool Armed() noexcept;
void Hit(std::string_view name) noexcept;
}  // namespace crash_point_internal

inline void CrashPoint(std::string_view name) noexcept {
  static const bool armed = crash_point_internal::Armed();
  if (armed) [[unlikely]]
    crash_point_internal::Hit(name);
}

}  // namespace forja
