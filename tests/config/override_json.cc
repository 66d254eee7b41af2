// A helper for the checks against Hydra (diff_overrides.py). Reads one JSON
// value per line on stdin and prints one line of JSON for each:
//   "a=1"                                  -> forja's canonical JSON of the parse,
//                                             or {"error": "..."}
//   {"overrides": [...], "options": {...}} -> {"jobs": [[...], ...]} from
//                                             SweepJobOverrides, or {"error": "..."}
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "forja/config/override.h"
#include "forja/config/sweep.h"

namespace {

nlohmann::json Sweep(const nlohmann::json& in) {
  using forja::config::Override;
  std::vector<std::string> texts = in.at("overrides").get<std::vector<std::string>>();
  auto parsed = forja::config::ParseOverrides(texts);
  if (!parsed.ok()) return {{"error", parsed.status().message()}};
  std::map<std::string, std::vector<std::string>> options;
  if (in.contains("options")) options = in.at("options").get<decltype(options)>();
  auto jobs = forja::config::SweepJobOverrides(
      *parsed, [&](const std::string& group) -> forja::Result<std::vector<std::string>> {
        return options[group];
      });
  if (!jobs.ok()) return {{"error", jobs.status().message()}};
  nlohmann::json out = nlohmann::json::array();
  for (const std::vector<Override>& job : *jobs) {
    nlohmann::json j = nlohmann::json::array();
    for (const Override& o : job) j.push_back(o.input);
    out.push_back(j);
  }
  return {{"jobs", out}};
}

}  // namespace

int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    nlohmann::json in = nlohmann::json::parse(line);
    if (in.is_object()) {
      std::cout << Sweep(in).dump() << "\n";
    } else {
      auto o = forja::config::ParseOverride(in.get<std::string>());
      if (o.ok()) {
        std::cout << forja::config::OverrideToJson(*o) << "\n";
      } else {
        std::cout << nlohmann::json({{"error", o.status().message()}}).dump() << "\n";
      }
    }
    std::cout.flush();
  }
  return 0;
}
