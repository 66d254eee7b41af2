// fuzz-libs: forja_rollout
// Fuzzes what forja rollout reads from outside: a server's /metrics text (Prometheus
// exposition format) and the options a user types.
//
// Input: the first byte picks the parser (0: metrics text; 1: --steps; 2: a duration;
// 3: a share; 4: --min-quality; 5: a base URL); the rest is the text.
//
// Invariants, beyond "no crash":
//  - every error is one line; the metrics text's start with "metrics text";
//  - a parsed sample's name is a Prometheus metric name, and the candidate's numbers
//    from it summarize without a crash (Describe is one line);
//  - parsed steps are 1..100 and strictly increasing; a duration is 1 ms..7 days; a
//    share is 0..1; a base URL starts with http:// or https:// and has no '?'.
#include <cstddef>
#include <cstdint>
#include <string>

#include "forja/rollout/metrics.h"
#include "forja/rollout/options.h"
#include "fuzz_check.h"

namespace {

using forja::fuzz::Show;
using forja::fuzz::StartsWith;
namespace r = forja::rollout;

void OneLine(const forja::Status& st, const std::string& text) {
  FUZZ_CHECK(st.message().find('\n') == std::string::npos && st.message().find('\r') == std::string::npos,
             st.message() + " from " + Show(text));
}

bool MetricName(const std::string& n) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); i++) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

void Metrics(const std::string& text) {
  auto s = r::ParsePromText(text);
  if (!s.ok()) {
    OneLine(s.status(), text);
    FUZZ_CHECK(StartsWith(s.status().message(), "metrics text"), s.status().message());
    return;
  }
  for (const r::Sample& x : *s) FUZZ_CHECK(MetricName(x.name), Show(x.name));
  r::VersionCounters c = r::ExtractVersion(*s, "m", "1");
  r::RolloutGauge g = r::ExtractRollout(*s, "m", "1", "7");
  FUZZ_CHECK(!g.weight || (*g.weight >= 0 && *g.weight <= 100), Show(text));
  std::string line = r::Describe(r::Summarize(r::CounterDelta(r::VersionCounters{}, c)));
  FUZZ_CHECK(line.find('\n') == std::string::npos, line);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0: Metrics(text); break;
    case 1: {
      auto s = r::ParseSteps(text);
      if (!s.ok()) { OneLine(s.status(), text); break; }
      FUZZ_CHECK(!s->empty(), Show(text));
      for (size_t i = 0; i < s->size(); i++)
        FUZZ_CHECK((*s)[i] >= 1 && (*s)[i] <= 100 && (i == 0 || (*s)[i] > (*s)[i - 1]), Show(text));
      break;
    }
    case 2: {
      auto d = r::ParseDurationMs(text, "--interval");
      if (!d.ok()) { OneLine(d.status(), text); break; }
      FUZZ_CHECK(*d >= 1 && *d <= 7 * 24 * 3600000LL, Show(text));
      break;
    }
    case 3: {
      auto v = r::ParseShare(text, "--max-error-rate");
      if (!v.ok()) { OneLine(v.status(), text); break; }
      FUZZ_CHECK(*v >= 0 && *v <= 1, Show(text));
      break;
    }
    case 4: {
      auto q = r::ParseQualityMin(text);
      if (!q.ok()) OneLine(q.status(), text);
      else FUZZ_CHECK(!q->metric.empty(), Show(text));
      break;
    }
    case 5: {
      auto u = r::ParseBaseUrl(text, "--server");
      if (!u.ok()) { OneLine(u.status(), text); break; }
      FUZZ_CHECK((StartsWith(*u, "http://") || StartsWith(*u, "https://")) && u->find('?') == std::string::npos, Show(text));
      break;
    }
  }
  return 0;
}
