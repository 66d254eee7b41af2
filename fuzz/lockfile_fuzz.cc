// Fuzzes ParseLock, the parser of forja.lock (git-versioned, merged by git and
// edited by hand, so its text comes from anyone who can push).
//
// Invariants, beyond "no crash":
//  - a failure is a user error whose message starts with "forja.lock";
//  - a success serializes to text that parses back to the same serialization
//    (what forja writes, it reads), with stages sorted by name and unique.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "forja/data/lockfile.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto lock = forja::ParseLock(text, "forja.lock");
  if (!lock.ok()) {
    FUZZ_CHECK(lock.status().code() == forja::Code::kUser, lock.status().message());
    FUZZ_CHECK(forja::fuzz::StartsWith(lock.status().message(), "forja.lock"), lock.status().message());
    return 0;
  }
  for (size_t i = 1; i < lock->stages.size(); i++)
    FUZZ_CHECK(lock->stages[i - 1].name < lock->stages[i].name, lock->stages[i].name);
  std::string once = forja::SerializeLock(*lock);
  auto again = forja::ParseLock(once, "forja.lock");
  FUZZ_CHECK(again.ok(), again.status().message() + "\n" + once);
  FUZZ_CHECK(forja::SerializeLock(*again) == once, once);
  return 0;
}
