// Fuzzes ParseProjectConfig, the parser of forja.yaml (versioned in git, so its
// text comes from anyone who can push to the repository).
//
// Invariants, beyond "no crash":
//  - no exception escapes (the parser reports every problem as a Status);
//  - a failure is a user error "forja.yaml:<line>[:<col>]: ..." or
//    "forja.yaml: default_remote ...";
//  - a success has a non-empty list of link types ending with copy, remotes
//    that all have a url, and a default_remote that is empty or one of them.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include "forja/data/workspace.h"
#include "fuzz_check.h"

namespace {

using forja::fuzz::Show;

const std::string kName = "forja.yaml";

void CheckError(const forja::Status& st) {
  const std::string& m = st.message();
  FUZZ_CHECK(st.code() == forja::Code::kUser, m);
  FUZZ_CHECK(forja::fuzz::StartsWith(m, kName + ":"), m);
  std::string_view rest = std::string_view(m).substr(kName.size() + 1);
  if (forja::fuzz::StartsWith(rest, " default_remote '")) return;
  size_t i = 0;
  while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') i++;
  FUZZ_CHECK(i > 0 && i < rest.size() && rest[i] == ':', m);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  forja::Result<forja::ProjectConfig> parsed = forja::Status::Internal("not run");
  try {
    parsed = forja::ParseProjectConfig(text, kName);
  } catch (const std::exception& e) {
    forja::fuzz::Fail(__FILE__, __LINE__, "no exception escapes ParseProjectConfig",
                      std::string("exception: ") + e.what() + " for " + Show(text));
  }
  if (!parsed.ok()) {
    CheckError(parsed.status());
    return 0;
  }
  const forja::ProjectConfig& cfg = *parsed;
  FUZZ_CHECK(!cfg.link_types.empty(), Show(text));
  FUZZ_CHECK(cfg.link_types.back() == forja::LinkType::kCopy, Show(text));
  for (const auto& r : cfg.remotes) FUZZ_CHECK(!r.url.empty(), r.name + " in " + Show(text));
  FUZZ_CHECK(cfg.default_remote.empty() || cfg.FindRemote(cfg.default_remote) != nullptr,
             cfg.default_remote);
  return 0;
}
