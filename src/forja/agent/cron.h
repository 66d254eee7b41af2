// Cron expressions: the standard five fields (minute hour day-of-month month
// day-of-week) with ranges, steps, lists and names, and the @hourly-style macros; the
// next fire time in a time zone, pure and deterministic.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>

#include "forja/agent/tz.h"
#include "forja/core/status.h"

namespace forja::agent {

struct CronSpec {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days;     // 1..31
  std::bitset<13> months;   // 1..12
  std::bitset<7> weekdays;  // 0 = Sunday (7 is read as 0)
  // Vixie cron's rule: when both day fields are restricted (neither starts with '*'),
  // a day matches when either does; otherwise both must.
  bool dom_star = true, dow_star = true;
  std::string text;  // as written
};

// Errors are one line saying which field is wrong and why (no file: callers add it).
Result<CronSpec> ParseCron(const std::string& text);

// The first fire time strictly after `after_utc` (seconds), or nullopt when none exists
// in the next 30 years (e.g. "0 0 30 2 *"). A wall-clock time a spring-forward skips
// does not fire (cronie's choice for fixed times); a time a fall-back repeats fires
// once, at its first occurrence.
std::optional<int64_t> NextFire(const CronSpec& spec, const TimeZone& tz, int64_t after_utc);

}  // namespace forja::agent
