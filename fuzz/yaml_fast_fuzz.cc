// Fuzzes the YAML fast path of config files (forja/config/yaml_fast.h) against
// ParseYaml (yaml-cpp), which it stands in for.
//
// Input: the text of a config file.
// Invariants, beyond "no crash, no hang":
//  - when ParseYamlFast answers, ParseYaml succeeds on the same text and gives
//    the same tree: kinds, values, key order and origins ("name:line");
//  - ParseConfigYaml's errors are user errors, on one line.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "forja/config/yaml_fast.h"
#include "fuzz_check.h"

namespace {

using forja::config::Node;
using forja::fuzz::Show;

std::string Diff(const Node& a, const Node& b, const std::string& path) {
  if (a.kind() != b.kind()) return path + ": kind " + a.KindName() + " vs " + b.KindName();
  if (a.origin() != b.origin()) return path + ": origin " + a.origin() + " vs " + b.origin();
  if (a.is_scalar()) return a == b ? "" : path + ": value";
  if (a.is_list()) {
    if (a.items().size() != b.items().size()) return path + ": list size";
    for (size_t i = 0; i < a.items().size(); i++) {
      std::string d = Diff(a.items()[i], b.items()[i], path + "." + std::to_string(i));
      if (!d.empty()) return d;
    }
    return "";
  }
  if (a.entries().size() != b.entries().size()) return path + ": map size";
  for (size_t i = 0; i < a.entries().size(); i++) {
    if (a.entries()[i].first != b.entries()[i].first) return path + ": key order";
    std::string d = Diff(a.entries()[i].second, b.entries()[i].second, path + "." + a.entries()[i].first);
    if (!d.empty()) return d;
  }
  return "";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1 << 16) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto fast = forja::config::ParseYamlFast(text, "f.yaml");
  if (fast) {
    auto slow = forja::config::ParseYaml(text, "f.yaml");
    FUZZ_CHECK(slow.ok(), "fast path accepted " + Show(text) + "; yaml-cpp: " + slow.status().message());
    std::string d = Diff(*fast, *slow, "");
    FUZZ_CHECK(d.empty(), d + " in " + Show(text));
  }
  auto r = forja::config::ParseConfigYaml(text, "f.yaml");
  if (!r.ok()) {
    FUZZ_CHECK(r.status().code() == forja::Code::kUser, r.status().message());
    FUZZ_CHECK(r.status().message().find('\n') == std::string::npos, Show(r.status().message()));
  }
  return 0;
}
