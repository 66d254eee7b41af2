// fuzz-libs: forja_agent
// Fuzzes what forja agent reads: cron expressions, forja.yaml's triggers: and agent:
// sections, and its own state file (.forja/agent/state.json, which a crash or a
// person may have damaged).
//
// Input: the first byte picks the parser (0: a cron expression, 1: a forja.yaml, 2: a
// state file); the rest is the text.
//
// Invariants, beyond "no crash":
//  - every error is one line; cron's start with "cron", forja.yaml's with "forja.yaml:";
//    a state file's is a Corrupt error naming the file;
//  - a parsed cron expression's next fire time (UTC) is after the start and matches it;
//  - a parsed state file saves and reads back to the same text.
#include <time.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "forja/agent/cron.h"
#include "forja/agent/state.h"
#include "forja/agent/triggers.h"
#include "forja/config/node.h"
#include "forja/config/yaml_fast.h"
#include "fuzz_check.h"

namespace {

using forja::fuzz::Show;
using forja::fuzz::StartsWith;

void OneLine(const forja::Status& st, const std::string& text) {
  FUZZ_CHECK(st.message().find('\n') == std::string::npos, st.message() + " from " + Show(text));
}

void Cron(const std::string& text) {
  auto spec = forja::agent::ParseCron(text);
  if (!spec.ok()) {
    OneLine(spec.status(), text);
    FUZZ_CHECK(StartsWith(spec.status().message(), "cron"), spec.status().message());
    return;
  }
  auto utc = forja::agent::TimeZone::Load("UTC");
  const int64_t after = 1796000000;
  auto next = forja::agent::NextFire(*spec, *utc, after);
  if (!next) return;
  FUZZ_CHECK(*next > after, Show(text));
  time_t t = static_cast<time_t>(*next);
  struct tm tm {};
  gmtime_r(&t, &tm);
  FUZZ_CHECK(spec->minutes.test(static_cast<size_t>(tm.tm_min)) && spec->hours.test(static_cast<size_t>(tm.tm_hour)) &&
                 spec->months.test(static_cast<size_t>(tm.tm_mon + 1)),
             Show(text));
}

void Yaml(const std::string& text) {
  auto root = forja::config::ParseConfigYaml(text, "forja.yaml");
  if (!root.ok() || !root->is_map()) return;
  auto s = forja::agent::ParseAgentSettings(root->Find("triggers"), root->Find("agent"), "forja.yaml");
  if (!s.ok()) {
    OneLine(s.status(), text);
    FUZZ_CHECK(StartsWith(s.status().message(), "forja.yaml"), s.status().message());
    return;
  }
  for (const auto& t : s->triggers) {
    FUZZ_CHECK(!t.name.empty(), Show(text));
    FUZZ_CHECK(t.kind != forja::agent::TriggerKind::kInterval || t.interval_s >= 60, Show(text));
    FUZZ_CHECK(t.action.promote.to.empty() || !t.action.register_model.empty(), Show(text));
  }
}

void State(const std::string& text) {
  auto s = forja::agent::StateFromJson(text, "state.json");
  if (!s.ok()) {
    OneLine(s.status(), text);
    FUZZ_CHECK(s.status().code() == forja::Code::kCorrupt, s.status().message());
    FUZZ_CHECK(StartsWith(s.status().message(), "state.json: "), s.status().message());
    return;
  }
  std::string once = forja::agent::StateToJson(*s);
  auto again = forja::agent::StateFromJson(once, "state.json");
  FUZZ_CHECK(again.ok(), once);
  FUZZ_CHECK(forja::agent::StateToJson(*again) == once, once);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: Cron(text); break;
    case 1: Yaml(text); break;
    default: State(text); break;
  }
  return 0;
}
