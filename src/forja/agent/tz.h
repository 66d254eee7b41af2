// Time zones for cron triggers, from the system's tz database (/usr/share/zoneinfo,
// read by the C library). A local wall-clock time maps to zero instants (skipped by
// a spring-forward), one, or two (repeated by a fall-back).
#pragma once

#include <cstdint>
#include <string>

#include "forja/core/status.h"

namespace forja::agent {

class TimeZone {
 public:
  // "UTC" (or "") needs no file; any other name must be an IANA name with a file under
  // the zoneinfo folder (FORJA_ZONEINFO or /usr/share/zoneinfo). Hostile names (.., a
  // leading /, odd bytes) are refused.
  static Result<TimeZone> Load(const std::string& name);

  const std::string& name() const { return name_; }
  bool utc() const { return name_.empty() || name_ == "UTC"; }

  // Seconds east of UTC at `utc_seconds`.
  int64_t OffsetAt(int64_t utc_seconds) const;

  enum class Kind { kNone, kUnique, kAmbiguous };
  struct Mapping {
    Kind kind = Kind::kNone;
    int64_t first = 0;   // the earlier instant (kUnique, kAmbiguous)
    int64_t second = 0;  // the later one (kAmbiguous)
  };
  // `local_seconds`: a wall-clock time counted as if it were UTC seconds since the epoch.
  Mapping ToUtc(int64_t local_seconds) const;

 private:
  std::string name_;
};

// Days since 1970-01-01 for a civil date, and back (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d);

}  // namespace forja::agent
