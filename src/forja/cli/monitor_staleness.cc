#include "forja/cli/monitor_staleness.h"

#include <nlohmann/json.hpp>

#include "forja/core/path.h"
#include "forja/data/workspace.h"
#include "forja/meta/store.h"
#include "forja/registry/registry.h"
#include "forja/serve/monitoring_config.h"

namespace forja {

namespace {

std::optional<int64_t> Known(int64_t ms) { return ms > 0 ? std::optional<int64_t>(ms) : std::nullopt; }

// The section's thresholds for the model, read as forja serve reads them.
Result<monitor::StalenessThresholds> ThresholdsFor(const std::string& model) {
  ASSIGN_OR_RETURN(auto ws, Workspace::OpenIfAny(CurrentDir()));
  serve::MonitoringConfig cfg;
  if (ws) {
    ASSIGN_OR_RETURN(ForjaYaml doc, ReadForjaYaml(ws->root()));
    RETURN_IF_ERROR(serve::MonitoringConfigOf(doc, &cfg));
  }
  return cfg.For(model).staleness;
}

}  // namespace

Result<StalenessReport> MakeStalenessReport(meta::MetaStore& store, const meta::ModelVersion& v, const std::string& ref) {
  StalenessReport r;
  r.label = v.name + "/" + std::to_string(v.version);
  r.ref = ref;
  ASSIGN_OR_RETURN(registry::ModelRef parsed, registry::ParseModelRef(ref));
  ASSIGN_OR_RETURN(r.facts, registry::GatherStalenessFacts(store, v, parsed));
  ASSIGN_OR_RETURN(r.thresholds, ThresholdsFor(v.name));
  int64_t now = meta::NowMs();
  r.input.model_age_s = monitor::AgeSeconds(Known(r.facts.trained_ms), now);
  r.input.data_age_s = monitor::AgeSeconds(r.facts.data_ms, now);
  r.input.since_promotion_s = monitor::AgeSeconds(Known(r.facts.promoted_ms), now);
  r.verdict = monitor::JudgeStaleness(r.input, r.thresholds);
  return r;
}

std::vector<std::string> StalenessText(const StalenessReport& r) {
  std::vector<std::string> out{"Staleness of " + r.label + (r.ref == r.label ? "" : " (as " + r.ref + ")") + ":"};
  for (const std::string& line :
       monitor::StalenessLines(r.input, r.thresholds, r.verdict, {r.facts.trained_from, r.facts.data_from, r.facts.promoted_from}))
    out.push_back("  " + line);
  for (const std::string& note : r.facts.notes) out.push_back("  note: " + note);
  return out;
}

std::string StalenessMarkdown(const StalenessReport& r) {
  std::string md = "\n### Staleness of " + r.label + "\n\n```\n";
  std::vector<std::string> lines = StalenessText(r);
  for (size_t i = 1; i < lines.size(); ++i) md += lines[i].substr(2) + "\n";
  return md + "```\n";
}

nlohmann::json StalenessJson(const StalenessReport& r) {
  using nlohmann::json;
  auto value = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  auto limit = [](double s) { return s > 0 ? json(s) : json(nullptr); };
  json reasons = json::array();
  for (size_t i = 0; i < monitor::kStaleReasons; ++i)
    if (r.verdict.reasons[i]) reasons.push_back(monitor::StaleReasonName(static_cast<monitor::StaleReason>(i)));
  return {{"model", r.facts.model},
          {"version", std::to_string(r.facts.version)},
          {"ref", r.ref},
          {"stale", r.verdict.stale},
          {"reasons", reasons},
          {"model_age_seconds", value(r.input.model_age_s)},
          {"training_data_age_seconds", value(r.input.data_age_s)},
          {"since_promotion_seconds", value(r.input.since_promotion_s)},
          {"trained_from", r.facts.trained_from},
          {"data_from", r.facts.data_ms ? json(r.facts.data_from) : json(nullptr)},
          {"promoted_from", r.facts.promoted_from},
          {"thresholds",
           {{"max_model_age", limit(r.thresholds.max_model_age_s)},
            {"max_data_age", limit(r.thresholds.max_data_age_s)},
            {"max_since_promotion", limit(r.thresholds.max_since_promotion_s)}}},
          {"notes", r.facts.notes}};
}

}  // namespace forja
