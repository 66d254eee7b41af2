#include "forja/serve/staleness.h"

#include <cstdio>

#include "forja/core/log.h"
#include "forja/core/prometheus.h"
#include "forja/meta/store.h"
#include "forja/registry/registry.h"
#include "forja/registry/staleness_facts.h"
#include "forja/serve/monitoring.h"

namespace forja::serve {

namespace {

// Seconds to the millisecond the facts hold.
std::string Seconds(double s) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

}  // namespace

monitor::StalenessInput StalenessInputOf(const StaleVersion& v, int64_t now_ms, std::chrono::steady_clock::time_point now) {
  monitor::StalenessInput in;
  if (v.facts) {
    in.model_age_s = monitor::AgeSeconds(v.facts->trained_ms > 0 ? std::optional<int64_t>(v.facts->trained_ms) : std::nullopt, now_ms);
    in.data_age_s = monitor::AgeSeconds(v.facts->data_ms, now_ms);
    in.since_promotion_s =
        monitor::AgeSeconds(v.facts->promoted_ms > 0 ? std::optional<int64_t>(v.facts->promoted_ms) : std::nullopt, now_ms);
  }
  if (v.snapshot) {
    const auto& since = v.snapshot->drifted_since;
    in.drifted_for_s = since && now > *since ? std::chrono::duration<double>(now - *since).count() : 0.0;
  }
  in.quality_below = v.quality_below;
  return in;
}

void RenderStalenessMetrics(const std::vector<StaleVersion>& versions, int64_t now_ms,
                            std::chrono::steady_clock::time_point now, std::string* out) {
  if (versions.empty()) return;
  constexpr auto Label = &PromRegistry::Label;
  std::vector<monitor::StalenessInput> inputs;
  for (const StaleVersion& v : versions) inputs.push_back(StalenessInputOf(v, now_ms, now));
  auto labels = [&](const StaleVersion& v) { return Label("model", v.model) + "," + Label("version", v.version); };
  auto family = [&](const char* name, const char* help) {
    *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n";
  };
  // One line per version whose value is known.
  auto ages = [&](const char* name, const char* help, std::optional<double> monitor::StalenessInput::*field) {
    family(name, help);
    for (size_t i = 0; i < versions.size(); ++i)
      if (const auto& age = inputs[i].*field) *out += std::string(name) + "{" + labels(versions[i]) + "} " + Seconds(*age) + "\n";
  };
  ages("forja_model_age_seconds", "Seconds since the version was trained (its run's end, else start, else its registration).",
       &monitor::StalenessInput::model_age_s);
  ages("forja_model_training_data_age_seconds",
       "Seconds since the version's oldest training input was made (from the run's lineage).",
       &monitor::StalenessInput::data_age_s);
  ages("forja_model_since_promotion_seconds",
       "Seconds since the version was moved to the stage or alias it is served through (else registered).",
       &monitor::StalenessInput::since_promotion_s);
  ages("forja_model_dataset_drifted_seconds", "Seconds the version's dataset has drifted without a break (0: not drifting).",
       &monitor::StalenessInput::drifted_for_s);
  std::vector<monitor::StalenessVerdict> verdicts;
  for (size_t i = 0; i < versions.size(); ++i) verdicts.push_back(monitor::JudgeStaleness(inputs[i], versions[i].thresholds));
  family("forja_model_stale", "1 when the version is stale for any reason (forja_model_stale_reason), else 0.");
  for (size_t i = 0; i < versions.size(); ++i)
    *out += "forja_model_stale{" + labels(versions[i]) + "} " + (verdicts[i].stale ? "1" : "0") + "\n";
  family("forja_model_stale_reason",
         "1 when this reason makes the version stale (model_age, data_age, since_promotion, drift, quality), else 0.");
  for (size_t i = 0; i < versions.size(); ++i)
    for (size_t r = 0; r < monitor::kStaleReasons; ++r)
      *out += "forja_model_stale_reason{" + labels(versions[i]) + "," +
              Label("reason", monitor::StaleReasonName(static_cast<monitor::StaleReason>(r))) + "} " +
              (verdicts[i].reasons[r] ? "1" : "0") + "\n";
}

std::shared_ptr<const registry::StalenessFacts> LoadStalenessFacts(meta::MetaStore& store, const std::string& ref,
                                                                   const std::string& name, int64_t version,
                                                                   std::set<std::string>* said) {
  const std::string label = name + "/" + std::to_string(version);
  auto parsed = registry::ParseModelRef(ref);
  if (!parsed.ok()) return nullptr;
  // The version resolved (not the reference again: it may have moved since).
  auto v = store.GetModelVersion(name, version);
  Result<registry::StalenessFacts> facts = v.ok() ? registry::GatherStalenessFacts(store, *v, *parsed) : v.status();
  auto once = [&](const std::string& line) { return said->insert(line).second; };
  if (!facts.ok()) {
    std::string line = "serve: the age of " + label + " is not known: " + facts.status().message();
    if (once(line)) LogWarn(line);
    return nullptr;
  }
  for (const std::string& note : facts->notes)
    if (std::string line = "serve: staleness of " + label + ": " + note; once(line)) LogInfo(line);
  return std::make_shared<const registry::StalenessFacts>(std::move(*facts));
}

}  // namespace forja::serve
