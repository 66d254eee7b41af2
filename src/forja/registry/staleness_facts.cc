#include "forja/registry/staleness_facts.h"

#include "forja/core/strings.h"

#include <map>

#include "forja/meta/store.h"
#include "forja/registry/registry.h"

namespace forja::registry {

namespace {

// A hostile or huge lineage must not make a scrape's facts take forever: beyond these, the
// rest is left out (and said).
constexpr size_t kMaxInputs = 1000;
constexpr size_t kMaxProducers = 1000;

std::string Short(const std::string& run_id) { return run_id.substr(0, 8); }

// When a run ended, else started; empty when neither is known.
std::optional<int64_t> RunTime(const meta::RunInfo& r, std::string* which) {
  if (r.end_time && *r.end_time > 0) {
    if (which) *which = "end";
    return *r.end_time;
  }
  if (r.start_time > 0) {
    if (which) *which = "start";
    return r.start_time;
  }
  return std::nullopt;
}

// Lineage cannot tell a stage's code from its data; a file name can, often enough to pick which
// of several equally old inputs to name.
bool LooksLikeCode(const std::string& path) {
  static const char* const kCode[] = {".py", ".sh", ".r", ".jl", ".ipynb", ".js", ".ts", ".go", ".rs", ".c",
                                      ".cc", ".cpp", ".h", ".hpp", ".java", ".scala", ".rb", ".pl", ".lua"};
  std::string lower = ToLowerAscii(path);
  for (const char* ext : kCode)
    if (lower.ends_with(ext)) return true;
  return false;
}

// The run's lineage inputs into facts->data_ms / data_from (the header's rule). `start` is the
// training run's start, the time of inputs no earlier run produced.
Status GatherData(meta::MetaStore& store, const meta::RunInfo& run, StalenessFacts* facts) {
  ASSIGN_OR_RETURN(std::vector<meta::LineageItem> lineage, store.GetLineage(run.run_id));
  std::optional<int64_t> start = run.start_time > 0 ? std::optional<int64_t>(run.start_time) : RunTime(run, nullptr);
  size_t inputs = 0;
  std::map<std::string, std::optional<int64_t>> producer_times;  // run id -> its end (else start), read once
  bool data_is_code = false;  // facts->data_from names source code
  for (const meta::LineageItem& in : lineage) {
    if (in.direction != "input") continue;
    if (++inputs > kMaxInputs) {
      facts->notes.push_back("run " + Short(run.run_id) + " has more than " + std::to_string(kMaxInputs) +
                             " lineage inputs; the rest are not dated");
      break;
    }
    std::optional<int64_t> made;  // the first earlier run's end (else start) that produced these bytes
    std::string made_by;
    if (start && !in.hash.empty()) {
      ASSIGN_OR_RETURN(auto found, store.FindLineage(in.hash));
      size_t seen = 0;
      for (const auto& [rid, item] : found) {
        if (item.direction != "output" || rid == run.run_id) continue;
        if (++seen > kMaxProducers) break;
        auto it = producer_times.find(rid);
        if (it == producer_times.end()) {
          auto producer = store.GetRun(rid);
          std::optional<int64_t> t;
          if (producer.ok()) t = RunTime(producer->info, nullptr);
          else if (producer.status().code() != Code::kNotFound) return producer.status();
          it = producer_times.emplace(rid, t).first;
        }
        if (it->second && *it->second <= *start && (!made || *it->second < *made)) {
          made = it->second;
          made_by = rid;
        }
      }
    }
    std::optional<int64_t> t = made ? made : start;
    // Of inputs equally old, the one named is data rather than the stage's code when there is one.
    bool better = t && (!facts->data_ms || *t < *facts->data_ms ||
                        (*t == *facts->data_ms && data_is_code && !LooksLikeCode(in.path)));
    if (better) {
      facts->data_ms = t;
      facts->data_from = in.path + (made ? ", made by run " + Short(made_by) : ", as old as the training run");
      data_is_code = LooksLikeCode(in.path);
    }
  }
  // Only code came in (a pipeline whose first stage makes its data): the data is the run's own.
  if (data_is_code && facts->data_ms == start)
    facts->data_from = "as old as the training run, whose lineage inputs are all code (" +
                       facts->data_from.substr(0, facts->data_from.find(',')) + ", ...)";
  if (inputs == 0) facts->notes.push_back("run " + Short(run.run_id) + " has no lineage input: the training data's age is unknown");
  else if (!facts->data_ms) facts->notes.push_back("run " + Short(run.run_id) + " has no start time: the training data's age is unknown");
  return Status::Ok();
}

// Whether history entry `t` moved the version to where `ref` serves it.
bool MovedToServed(const meta::Transition& t, const ModelRef& ref) {
  if (!ref.alias.empty()) return t.kind == "alias" && t.to == "@" + ref.alias;
  if (!ref.stage.empty()) return t.kind == "stage" && t.to == ref.stage;
  if (t.kind == "alias") return true;
  return t.kind == "stage" && t.to != "None" && t.to != "Archived";
}

Status GatherPromotion(meta::MetaStore& store, const meta::ModelVersion& v, const ModelRef& ref, StalenessFacts* facts) {
  ASSIGN_OR_RETURN(std::vector<meta::Transition> history, store.History(v.name, v.version));
  const meta::Transition* moved = nullptr;
  const meta::Transition* registered = nullptr;
  for (const meta::Transition& t : history) {  // oldest first: the last match is the latest
    if (t.version != v.version || t.time <= 0) continue;
    if (MovedToServed(t, ref)) moved = &t;
    if (t.kind == "registered") registered = &t;
  }
  if (moved) {
    facts->promoted_ms = moved->time;
    facts->promoted_from = "moved to " + moved->to;
  } else {
    facts->promoted_ms = registered ? registered->time : v.creation_timestamp;
    facts->promoted_from = "registration";
  }
  return Status::Ok();
}

}  // namespace

Result<StalenessFacts> GatherStalenessFacts(meta::MetaStore& store, const meta::ModelVersion& v, const ModelRef& ref) {
  StalenessFacts facts;
  facts.model = v.name;
  facts.version = v.version;
  facts.trained_ms = v.creation_timestamp;
  facts.trained_from = "registration";
  if (v.run_id.empty()) {
    facts.notes.push_back("registered without a run: trained at its registration, training data's age unknown");
  } else {
    auto run = store.GetRun(v.run_id);
    if (!run.ok() && run.status().code() != Code::kNotFound && run.status().code() != Code::kUser)
      return run.status();
    if (!run.ok()) {
      facts.notes.push_back("its run " + v.run_id + " is not in the store (" + run.status().message() +
                            "): trained at its registration, training data's age unknown");
    } else {
      std::string which;
      if (auto t = RunTime(run->info, &which)) {
        facts.trained_ms = *t;
        facts.trained_from = "run " + Short(v.run_id) + "'s " + which;
      } else {
        facts.notes.push_back("run " + Short(v.run_id) + " has no start or end time: trained at its registration");
      }
      RETURN_IF_ERROR(GatherData(store, run->info, &facts));
    }
  }
  RETURN_IF_ERROR(GatherPromotion(store, v, ref, &facts));
  return facts;
}

}  // namespace forja::registry
