// The staleness part of `forja monitor report --reference NAME/VERSION|NAME@ALIAS`: the registry's
// facts about the version (registry/staleness_facts.h), its ages now and the verdict against
// forja.yaml's monitoring.staleness (monitor/staleness.h), in text, Markdown and JSON. The
// offline report has no live drift trend nor feedback: those two reasons are forja serve's.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "forja/core/status.h"
#include "forja/monitor/staleness.h"
#include "forja/registry/staleness_facts.h"

namespace forja::meta {
class MetaStore;
struct ModelVersion;
}  // namespace forja::meta

namespace forja {

struct StalenessReport {
  std::string label, ref;  // "churn/3", and how it was named ("churn@production")
  registry::StalenessFacts facts;
  monitor::StalenessThresholds thresholds;
  monitor::StalenessInput input;
  monitor::StalenessVerdict verdict;
};

// The version `v` that `ref` named, judged now with the thresholds of the workspace around the
// current directory (defaults outside one; a broken forja.yaml is an error).
Result<StalenessReport> MakeStalenessReport(meta::MetaStore& store, const meta::ModelVersion& v, const std::string& ref);

std::vector<std::string> StalenessText(const StalenessReport& r);
std::string StalenessMarkdown(const StalenessReport& r);
nlohmann::json StalenessJson(const StalenessReport& r);

}  // namespace forja
