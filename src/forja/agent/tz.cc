#include "forja/agent/tz.h"

#include <sys/stat.h>
#include <time.h>

#include <cctype>
#include <cstdlib>
#include <mutex>
#include <utility>

namespace forja::agent {
namespace {

// The C library reads a zone through the TZ variable, which is process state: every
// conversion takes this lock, sets TZ, converts, and puts TZ back.
std::mutex tz_mu;

std::string ZoneinfoDir() {
  const char* env = std::getenv("FORJA_ZONEINFO");
  return env && *env ? env : "/usr/share/zoneinfo";
}

bool SafeZoneName(const std::string& n) {
  if (n.empty() || n.size() > 64 || n[0] == '/' || n[0] == '-') return false;
  for (char c : n)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '+' || c == '-')) return false;
  return n.find("..") == std::string::npos && n.find("//") == std::string::npos;
}

class TzScope {
 public:
  explicit TzScope(const std::string& zone_path) : lock_(tz_mu) {
    const char* old = std::getenv("TZ");
    had_ = old != nullptr;
    if (had_) old_ = old;
    setenv("TZ", (":" + zone_path).c_str(), 1);
    tzset();
  }
  ~TzScope() {
    if (had_) setenv("TZ", old_.c_str(), 1);
    else unsetenv("TZ");
    tzset();
  }
  TzScope(const TzScope&) = delete;
  TzScope& operator=(const TzScope&) = delete;

 private:
  std::lock_guard<std::mutex> lock_;
  bool had_ = false;
  std::string old_;
};

}  // namespace

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

Result<TimeZone> TimeZone::Load(const std::string& name) {
  TimeZone tz;
  tz.name_ = name;
  if (tz.utc()) return tz;
  if (!SafeZoneName(name)) return Status::User("tz: '" + name + "' is not a time zone name (e.g. Europe/Berlin, UTC)");
  struct stat st;
  std::string path = ZoneinfoDir() + "/" + name;
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return Status::User("tz: unknown time zone '" + name + "' (no " + path + "; use an IANA name such as Europe/Berlin)");
  return tz;
}

namespace {
int64_t GmtOff(int64_t utc_seconds) {  // under a TzScope
  time_t t = static_cast<time_t>(utc_seconds);
  struct tm tm {};
  if (!localtime_r(&t, &tm)) return 0;
  return tm.tm_gmtoff;
}
}  // namespace

int64_t TimeZone::OffsetAt(int64_t utc_seconds) const {
  if (utc()) return 0;
  TzScope scope(ZoneinfoDir() + "/" + name_);
  return GmtOff(utc_seconds);
}

TimeZone::Mapping TimeZone::ToUtc(int64_t local) const {
  Mapping m;
  if (utc()) return {Kind::kUnique, local, local};
  // The offsets a day either side bound every offset in effect at `local` (zones change
  // offset at most once in two days); each candidate instant is kept when it maps back.
  TzScope scope(ZoneinfoDir() + "/" + name_);  // one scope: tzset reads the file once
  int64_t offs[2] = {GmtOff(local - 86400), GmtOff(local + 86400)};
  int64_t found[2];
  int n = 0;
  for (int i = 0; i < 2; ++i) {
    if (i == 1 && offs[1] == offs[0]) break;
    int64_t u = local - offs[i];
    if (GmtOff(u) == offs[i]) found[n++] = u;
  }
  if (n == 0) return m;
  if (n == 1) return {Kind::kUnique, found[0], found[0]};
  if (found[0] > found[1]) std::swap(found[0], found[1]);
  return {Kind::kAmbiguous, found[0], found[1]};
}

}  // namespace forja::agent
