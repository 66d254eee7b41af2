#include "forja/agent/cron.h"

#include <cctype>
#include <string_view>
#include <vector>

namespace forja::agent {
namespace {

const char* const kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                   "jul", "aug", "sep", "oct", "nov", "dec"};
const char* const kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

struct Field {
  const char* name;
  int lo, hi;
  const char* const* names;  // null, or names for lo.. (months from 1, days from 0)
  int name_count;
};

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) {
      out.emplace_back(s.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

Result<int> Value(const Field& f, const std::string& tok) {
  if (tok.empty()) return Status::User(std::string(f.name) + ": empty value");
  if (std::isdigit(static_cast<unsigned char>(tok[0]))) {
    if (tok.find_first_not_of("0123456789") != std::string::npos)
      return Status::User(std::string(f.name) + ": '" + tok + "' is not a number");
    if (tok.size() > 3) return Status::User(std::string(f.name) + ": '" + tok + "' is out of range " +
                                            std::to_string(f.lo) + "-" + std::to_string(f.hi));
    int v = 0;
    for (char c : tok) v = v * 10 + (c - '0');
    if (v < f.lo || v > f.hi)
      return Status::User(std::string(f.name) + ": " + tok + " is out of range " + std::to_string(f.lo) + "-" +
                          std::to_string(f.hi));
    return v;
  }
  if (f.names) {
    std::string low;
    for (char c : tok) low += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (int i = 0; i < f.name_count; ++i)
      if (low == f.names[i]) return (f.lo == 1 ? 1 : 0) + i;
  }
  return Status::User(std::string(f.name) + ": '" + tok + "' is not a number" +
                      (f.names ? std::string(" or a name (") + f.names[0] + ", " + f.names[1] + ", ...)" : ""));
}

// One field into `bits` (bit i = value i); `star` says it began with '*'.
template <size_t N>
Status ParseField(const Field& f, const std::string& text, std::bitset<N>* bits, bool* star) {
  *star = !text.empty() && text[0] == '*';
  for (const std::string& part : Split(text, ',')) {
    std::string range = part;
    int step = 1;
    if (size_t slash = part.find('/'); slash != std::string::npos) {
      range = part.substr(0, slash);
      std::string s = part.substr(slash + 1);
      if (s.empty() || s.size() > 3 || s.find_first_not_of("0123456789") != std::string::npos || std::stoi(s) == 0)
        return Status::User(std::string(f.name) + ": step '" + s + "' must be a number from 1");
      step = std::stoi(s);
    }
    int lo, hi;
    if (range == "*") {
      lo = f.lo;
      hi = f.hi;
    } else if (size_t dash = range.find('-'); dash != std::string::npos) {
      ASSIGN_OR_RETURN(lo, Value(f, range.substr(0, dash)));
      ASSIGN_OR_RETURN(hi, Value(f, range.substr(dash + 1)));
      if (hi < lo) return Status::User(std::string(f.name) + ": range '" + range + "' runs backwards");
    } else {
      ASSIGN_OR_RETURN(lo, Value(f, range));
      // "5/15" means 5-max/15, as cronie reads it.
      hi = part.find('/') != std::string::npos ? f.hi : lo;
    }
    for (int v = lo; v <= hi; v += step) bits->set(static_cast<size_t>(v == 7 && N == 7 ? 0 : v));
  }
  return Status::Ok();
}

std::string Macro(const std::string& m) {
  if (m == "@yearly" || m == "@annually") return "0 0 1 1 *";
  if (m == "@monthly") return "0 0 1 * *";
  if (m == "@weekly") return "0 0 * * 0";
  if (m == "@daily" || m == "@midnight") return "0 0 * * *";
  if (m == "@hourly") return "0 * * * *";
  return "";
}

bool DayMatches(const CronSpec& s, int64_t days, unsigned dom) {
  int wd = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
  bool dom_ok = s.days.test(dom), dow_ok = s.weekdays.test(static_cast<size_t>(wd));
  if (!s.dom_star && !s.dow_star) return dom_ok || dow_ok;
  return dom_ok && dow_ok;
}

}  // namespace

Result<CronSpec> ParseCron(const std::string& input) {
  std::string text = input;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.erase(0, 1);
  if (text.size() > 200) return Status::User("cron: expression too long");
  for (char c : text)  // the text is quoted in errors, which stay one line
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
      return Status::User("cron: control characters in the expression; write it on one line");
  std::string expanded = text;
  if (!text.empty() && text[0] == '@') {
    expanded = Macro(text);
    if (expanded.empty())
      return Status::User("cron: unknown macro '" + text +
                          "' (known: @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually)");
  }
  std::vector<std::string> fields;
  std::string cur;
  for (char c : expanded) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!cur.empty()) fields.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) fields.push_back(cur);
  if (fields.size() != 5)
    return Status::User("cron: '" + text + "' has " + std::to_string(fields.size()) +
                        " fields; expected 5 (minute hour day-of-month month day-of-week) or a macro like @daily");
  static const Field kFields[] = {{"minute", 0, 59, nullptr, 0},
                                  {"hour", 0, 23, nullptr, 0},
                                  {"day-of-month", 1, 31, nullptr, 0},
                                  {"month", 1, 12, kMonthNames, 12},
                                  {"day-of-week", 0, 7, kDayNames, 7}};
  CronSpec s;
  s.text = text;
  bool star;
  auto wrap = [&](Status st) { return Status::User("cron '" + text + "': " + st.message()); };
  if (Status st = ParseField(kFields[0], fields[0], &s.minutes, &star); !st.ok()) return wrap(st);
  if (Status st = ParseField(kFields[1], fields[1], &s.hours, &star); !st.ok()) return wrap(st);
  if (Status st = ParseField(kFields[2], fields[2], &s.days, &s.dom_star); !st.ok()) return wrap(st);
  if (Status st = ParseField(kFields[3], fields[3], &s.months, &star); !st.ok()) return wrap(st);
  std::bitset<8> dow;
  if (Status st = ParseField(kFields[4], fields[4], &dow, &s.dow_star); !st.ok()) return wrap(st);
  for (size_t i = 0; i < 8; ++i)
    if (dow.test(i)) s.weekdays.set(i == 7 ? 0 : i);
  return s;
}

std::optional<int64_t> NextFire(const CronSpec& s, const TimeZone& tz, int64_t after) {
  // Walk local calendar days from the day `after` falls on (in local time, less a day
  // for the offset's reach), and in each matching day its matching times in order.
  int64_t local_after = after + tz.OffsetAt(after);
  int64_t day = (local_after >= 0 ? local_after : local_after - 86399) / 86400 - 1;
  for (int64_t end = day + 366 * 30; day < end; ++day) {
    int64_t y;
    unsigned m, d;
    CivilFromDays(day, &y, &m, &d);
    if (!s.months.test(m) || !DayMatches(s, day, d)) continue;
    for (int h = 0; h < 24; ++h) {
      if (!s.hours.test(static_cast<size_t>(h))) continue;
      for (int mi = 0; mi < 60; ++mi) {
        if (!s.minutes.test(static_cast<size_t>(mi))) continue;
        TimeZone::Mapping map = tz.ToUtc(day * 86400 + h * 3600 + mi * 60);
        if (map.kind == TimeZone::Kind::kNone) continue;  // skipped by a spring-forward
        if (map.first > after) return map.first;          // a repeated time: its first occurrence only
      }
    }
  }
  return std::nullopt;
}

}  // namespace forja::agent
