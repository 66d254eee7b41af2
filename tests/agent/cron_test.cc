// Cron expressions: parsing (with the one-line errors a user sees) and next fire times,
// in UTC and across daylight-saving changes in zones of the system tz database.
#include <time.h>

#include <random>

#include <gtest/gtest.h>

#include "forja/agent/cron.h"
#include "forja/agent/tz.h"

namespace forja::agent {
namespace {

int64_t At(const char* iso) {  // "2026-03-29T02:30:00Z"
  struct tm tm {};
  EXPECT_NE(strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm), nullptr) << iso;
  return static_cast<int64_t>(timegm(&tm));
}

std::string Iso(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Next(const std::string& expr, const std::string& zone, const char* after) {
  auto spec = ParseCron(expr);
  EXPECT_TRUE(spec.ok()) << spec.status().message();
  auto tz = TimeZone::Load(zone);
  EXPECT_TRUE(tz.ok()) << tz.status().message();
  auto n = NextFire(*spec, *tz, At(after));
  return n ? Iso(*n) : "never";
}

std::string ParseError(const std::string& expr) {
  auto spec = ParseCron(expr);
  return spec.ok() ? "ok" : spec.status().message();
}

TEST(Cron, FieldsRangesStepsListsAndNames) {
  auto s = ParseCron("*/15 9-17/2 * jan,jul mon-fri");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_TRUE(s->minutes.test(0) && s->minutes.test(15) && s->minutes.test(30) && s->minutes.test(45));
  EXPECT_EQ(s->minutes.count(), 4u);
  EXPECT_EQ(s->hours.count(), 5u);  // 9 11 13 15 17
  EXPECT_TRUE(s->hours.test(17) && !s->hours.test(10));
  EXPECT_TRUE(s->months.test(1) && s->months.test(7) && s->months.count() == 2);
  EXPECT_EQ(s->weekdays.count(), 5u);
  EXPECT_FALSE(s->weekdays.test(0));
  auto sun = ParseCron("0 0 * * 7");  // 7 is Sunday too
  ASSERT_TRUE(sun.ok());
  EXPECT_TRUE(sun->weekdays.test(0));
  auto from = ParseCron("5/20 * * * *");  // 5, 25, 45
  ASSERT_TRUE(from.ok());
  EXPECT_EQ(from->minutes.count(), 3u);
  EXPECT_TRUE(from->minutes.test(45));
}

TEST(Cron, Macros) {
  EXPECT_EQ(Next("@hourly", "UTC", "2026-01-01T10:20:00Z"), "2026-01-01T11:00:00Z");
  EXPECT_EQ(Next("@daily", "UTC", "2026-01-01T10:20:00Z"), "2026-01-02T00:00:00Z");
  EXPECT_EQ(Next("@midnight", "UTC", "2026-01-01T10:20:00Z"), "2026-01-02T00:00:00Z");
  EXPECT_EQ(Next("@weekly", "UTC", "2026-01-01T10:20:00Z"), "2026-01-04T00:00:00Z");  // a Sunday
  EXPECT_EQ(Next("@monthly", "UTC", "2026-01-01T10:20:00Z"), "2026-02-01T00:00:00Z");
  EXPECT_EQ(Next("@yearly", "UTC", "2026-01-01T10:20:00Z"), "2027-01-01T00:00:00Z");
  EXPECT_EQ(Next("@annually", "UTC", "2026-01-01T00:00:00Z"), "2027-01-01T00:00:00Z");
}

TEST(Cron, ErrorsSayWhichFieldAndWhy) {
  EXPECT_EQ(ParseError("61 * * * *"), "cron '61 * * * *': minute: 61 is out of range 0-59");
  EXPECT_EQ(ParseError("* 24 * * *"), "cron '* 24 * * *': hour: 24 is out of range 0-23");
  EXPECT_EQ(ParseError("* * 0 * *"), "cron '* * 0 * *': day-of-month: 0 is out of range 1-31");
  EXPECT_EQ(ParseError("* * * 13 *"), "cron '* * * 13 *': month: 13 is out of range 1-12");
  EXPECT_EQ(ParseError("* * * * 8"), "cron '* * * * 8': day-of-week: 8 is out of range 0-7");
  EXPECT_EQ(ParseError("* * * *"),
            "cron: '* * * *' has 4 fields; expected 5 (minute hour day-of-month month day-of-week) or a macro like @daily");
  EXPECT_EQ(ParseError("@every"),
            "cron: unknown macro '@every' (known: @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually)");
  EXPECT_EQ(ParseError("30-10 * * * *"), "cron '30-10 * * * *': minute: range '30-10' runs backwards");
  EXPECT_EQ(ParseError("*/0 * * * *"), "cron '*/0 * * * *': minute: step '0' must be a number from 1");
  EXPECT_EQ(ParseError("x * * * *"), "cron 'x * * * *': minute: 'x' is not a number");
  EXPECT_EQ(ParseError("0 0 * foo *"), "cron '0 0 * foo *': month: 'foo' is not a number or a name (jan, feb, ...)");
  EXPECT_EQ(ParseError("1abc * * * *"), "cron '1abc * * * *': minute: '1abc' is not a number");
  EXPECT_EQ(ParseError("1,,2 * * * *"), "cron '1,,2 * * * *': minute: empty value");
  EXPECT_EQ(ParseError("99999 * * * *"), "cron '99999 * * * *': minute: '99999' is out of range 0-59");
  EXPECT_EQ(ParseError(""), "cron: '' has 0 fields; expected 5 (minute hour day-of-month month day-of-week) or a macro like @daily");
}

TEST(Cron, NextFireInUtc) {
  EXPECT_EQ(Next("*/15 * * * *", "UTC", "2026-01-01T00:00:00Z"), "2026-01-01T00:15:00Z");
  EXPECT_EQ(Next("*/15 * * * *", "UTC", "2026-01-01T00:14:59Z"), "2026-01-01T00:15:00Z");
  EXPECT_EQ(Next("* * * * *", "UTC", "2026-12-31T23:59:00Z"), "2027-01-01T00:00:00Z");
  EXPECT_EQ(Next("0 9-17/2 * * mon-fri", "UTC", "2026-01-02T17:00:00Z"), "2026-01-05T09:00:00Z");  // Fri -> Mon
}

TEST(Cron, DayOfMonthAndDayOfWeekAreOredWhenBothRestricted) {
  // Jan 2 2026 is a Friday: with both fields restricted, the 13th or any Friday.
  EXPECT_EQ(Next("0 0 13 * fri", "UTC", "2026-01-01T00:00:00Z"), "2026-01-02T00:00:00Z");
  EXPECT_EQ(Next("0 0 13 * fri", "UTC", "2026-01-09T00:00:00Z"), "2026-01-13T00:00:00Z");
  EXPECT_EQ(Next("0 0 13 * *", "UTC", "2026-01-01T00:00:00Z"), "2026-01-13T00:00:00Z");
  EXPECT_EQ(Next("0 0 * * fri", "UTC", "2026-01-03T00:00:00Z"), "2026-01-09T00:00:00Z");
  // A field starting with '*' is not a restriction: odd days AND Fridays.
  EXPECT_EQ(Next("0 0 */2 * fri", "UTC", "2026-01-01T00:00:00Z"), "2026-01-09T00:00:00Z");
}

TEST(Cron, LeapDaysAndImpossibleDates) {
  EXPECT_EQ(Next("0 12 29 2 *", "UTC", "2026-01-01T00:00:00Z"), "2028-02-29T12:00:00Z");
  EXPECT_EQ(Next("0 12 29 2 *", "UTC", "2028-02-29T12:00:00Z"), "2032-02-29T12:00:00Z");
  EXPECT_EQ(Next("0 0 31 * *", "UTC", "2026-01-31T00:00:00Z"), "2026-03-31T00:00:00Z");  // no Feb 31
  EXPECT_EQ(Next("0 0 30 2 *", "UTC", "2026-01-01T00:00:00Z"), "never");
  // 2100 is not a leap year: Feb 29 2096, then 2104.
  EXPECT_EQ(Next("0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z"), "2104-02-29T00:00:00Z");
}

TEST(Cron, SpringForwardSkipsTheMissingTime) {
  // Europe/Berlin 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that day.
  EXPECT_EQ(Next("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z"), "2026-03-30T00:30:00Z");
  EXPECT_EQ(Next("30 2 * * *", "Europe/Berlin", "2026-03-27T12:00:00Z"), "2026-03-28T01:30:00Z");  // CET
  EXPECT_EQ(Next("0 3 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z"), "2026-03-29T01:00:00Z");   // CEST
  // Every 30 minutes across the gap: 01:30 CET, then 03:00 CEST.
  EXPECT_EQ(Next("*/30 * * * *", "Europe/Berlin", "2026-03-29T00:30:00Z"), "2026-03-29T01:00:00Z");
  // America/New_York 2026-03-08: 02:00 EST -> 03:00 EDT.
  EXPECT_EQ(Next("0 9 * * *", "America/New_York", "2026-03-07T15:00:00Z"), "2026-03-08T13:00:00Z");
  EXPECT_EQ(Next("15 2 8 3 *", "America/New_York", "2026-03-01T00:00:00Z"), "2027-03-08T07:15:00Z");
}

TEST(Cron, FallBackRunsTheRepeatedTimeOnce) {
  // Europe/Berlin 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice
  // (00:30Z and 01:30Z) and fires at the first only.
  EXPECT_EQ(Next("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z"), "2026-10-25T00:30:00Z");
  EXPECT_EQ(Next("30 2 * * *", "Europe/Berlin", "2026-10-25T00:30:00Z"), "2026-10-26T01:30:00Z");
  EXPECT_EQ(Next("30 2 * * *", "Europe/Berlin", "2026-10-25T01:00:00Z"), "2026-10-26T01:30:00Z");
  // Lord Howe moves by half an hour: 02:00 DST-end -> 01:30 (2026-04-05), 01:45 repeats.
  EXPECT_EQ(Next("45 1 * * *", "Australia/Lord_Howe", "2026-04-04T12:00:00Z"), "2026-04-04T14:45:00Z");
}

// Does the wall-clock time `local` (seconds, as if UTC) match the spec? Written from the
// cron rules directly, not through NextFire.
bool Matches(const CronSpec& s, int64_t local) {
  time_t t = static_cast<time_t>(local);
  struct tm tm {};
  gmtime_r(&t, &tm);
  bool dom = s.days.test(static_cast<size_t>(tm.tm_mday)), dow = s.weekdays.test(static_cast<size_t>(tm.tm_wday));
  bool day = (!s.dom_star && !s.dow_star) ? (dom || dow) : (dom && dow);
  return s.minutes.test(static_cast<size_t>(tm.tm_min)) && s.hours.test(static_cast<size_t>(tm.tm_hour)) &&
         s.months.test(static_cast<size_t>(tm.tm_mon + 1)) && day;
}

// Random expressions and start times: NextFire's answer is the first minute, scanning
// one by one, whose wall-clock time matches and is that time's first occurrence.
TEST(Cron, NextFireAgreesWithAMinuteByMinuteScan) {
  std::mt19937 rng(15);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto field = [&](int lo, int hi, bool allow_star) {
    switch (pick(allow_star ? 0 : 1, 3)) {
      case 0: return std::string("*");
      case 1: return std::to_string(pick(lo, hi));
      case 2: { int a = pick(lo, hi), b = pick(a, hi); return std::to_string(a) + "-" + std::to_string(b) + "/" + std::to_string(pick(1, 5)); }
      default: return std::to_string(pick(lo, hi)) + "," + std::to_string(pick(lo, hi));
    }
  };
  for (const char* zone : {"UTC", "Europe/Berlin", "America/New_York"}) {
    auto tz = TimeZone::Load(zone);
    ASSERT_TRUE(tz.ok());
    for (int i = 0; i < 60; ++i) {
      std::string expr = field(0, 59, false) + " " + field(0, 23, true) + " " + (pick(0, 3) ? "*" : field(1, 31, false)) +
                         " * " + (pick(0, 2) ? "*" : field(0, 6, false));
      auto spec = ParseCron(expr);
      ASSERT_TRUE(spec.ok()) << expr << ": " << spec.status().message();
      // Start near a DST change half the time (late March, late October 2026).
      int64_t base = pick(0, 1) ? At("2026-03-27T00:00:00Z") : At("2026-10-23T00:00:00Z");
      int64_t after = base + pick(0, 3 * 86400);
      auto next = NextFire(*spec, *tz, after);
      int64_t scan = (after / 60 + 1) * 60, limit = after + 12 * 86400;
      for (; scan <= limit; scan += 60) {
        int64_t local = scan + tz->OffsetAt(scan);
        if (Matches(*spec, local) && tz->ToUtc(local).first == scan) break;
      }
      if (scan > limit) {
        EXPECT_TRUE(!next || *next > limit) << zone << " " << expr << " after " << Iso(after);
      } else {
        ASSERT_TRUE(next.has_value()) << zone << " " << expr;
        EXPECT_EQ(Iso(*next), Iso(scan)) << zone << " " << expr << " after " << Iso(after);
      }
    }
  }
}

TEST(Cron, HostileInputIsRefusedNotCrashedOn) {
  std::mt19937 rng(7);
  const std::string alphabet = "0123456789*/-,@ abcxyzJANsun\t\n";
  for (int i = 0; i < 3000; ++i) {
    std::string s;
    int n = std::uniform_int_distribution<int>(0, 40)(rng);
    for (int k = 0; k < n; ++k) s += alphabet[std::uniform_int_distribution<size_t>(0, alphabet.size() - 1)(rng)];
    auto spec = ParseCron(s);
    if (spec.ok()) {
      auto tz = TimeZone::Load("UTC");
      (void)NextFire(*spec, *tz, 1796000000);
    } else {
      EXPECT_EQ(spec.status().message().find('\n'), std::string::npos) << s;
    }
  }
  EXPECT_FALSE(ParseCron(std::string(300, '*')).ok());
}

TEST(TimeZoneTest, MapsLocalTimesAndRefusesBadNames) {
  auto tz = TimeZone::Load("Europe/Berlin");
  ASSERT_TRUE(tz.ok());
  EXPECT_EQ(tz->OffsetAt(At("2026-01-15T12:00:00Z")), 3600);
  EXPECT_EQ(tz->OffsetAt(At("2026-07-15T12:00:00Z")), 7200);
  EXPECT_EQ(tz->ToUtc(At("2026-03-29T02:30:00Z")).kind, TimeZone::Kind::kNone);
  auto amb = tz->ToUtc(At("2026-10-25T02:30:00Z"));
  EXPECT_EQ(amb.kind, TimeZone::Kind::kAmbiguous);
  EXPECT_EQ(Iso(amb.first), "2026-10-25T00:30:00Z");
  EXPECT_EQ(Iso(amb.second), "2026-10-25T01:30:00Z");
  EXPECT_EQ(TimeZone::Load("Mars/Olympus").status().message(),
            "tz: unknown time zone 'Mars/Olympus' (no /usr/share/zoneinfo/Mars/Olympus; use an IANA name such as "
            "Europe/Berlin)");
  EXPECT_EQ(TimeZone::Load("../../etc/passwd").status().message(),
            "tz: '../../etc/passwd' is not a time zone name (e.g. Europe/Berlin, UTC)");
  EXPECT_FALSE(TimeZone::Load("/etc/localtime").ok());
  EXPECT_TRUE(TimeZone::Load("UTC").ok());
}

TEST(TimeZoneTest, CivilDays) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  int64_t y;
  unsigned m, d;
  CivilFromDays(DaysFromCivil(2028, 2, 29), &y, &m, &d);
  EXPECT_EQ(y, 2028);
  EXPECT_EQ(m, 2u);
  EXPECT_EQ(d, 29u);
}

}  // namespace
}  // namespace forja::agent
