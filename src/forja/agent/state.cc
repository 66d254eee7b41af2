#include "forja/agent/state.h"

#include <nlohmann/json.hpp>

#include "forja/core/fs.h"

namespace forja::agent {
namespace {

using nlohmann::json;

json RunJson(const RunRecord& r) {
  return {{"id", r.id},           {"trigger", r.trigger}, {"reason", r.reason},   {"pipeline", r.pipeline},
          {"pid", r.pid},         {"pid_start", r.pid_start}, {"started", r.started}, {"ended", r.ended},
          {"result", r.result},   {"detail", r.detail},   {"run_id", r.run_id},   {"version", r.version}};
}

RunRecord RunFrom(const json& j) {
  RunRecord r;
  r.id = j.at("id").get<std::string>();
  r.trigger = j.at("trigger").get<std::string>();
  r.reason = j.value("reason", "");
  r.pipeline = j.value("pipeline", ".");
  r.pid = j.value("pid", 0);
  r.pid_start = j.value("pid_start", uint64_t{0});
  r.started = j.value("started", int64_t{0});
  r.ended = j.value("ended", int64_t{0});
  r.result = j.value("result", "");
  r.detail = j.value("detail", "");
  r.run_id = j.value("run_id", "");
  r.version = j.value("version", "");
  return r;
}

}  // namespace

void AgentState::Finish(RunRecord r) {
  for (auto it = running.begin(); it != running.end(); ++it)
    if (it->id == r.id) {
      running.erase(it);
      break;
    }
  history.push_back(std::move(r));
  if (history.size() > kHistory) history.erase(history.begin(), history.end() - kHistory);
}

std::string StateToJson(const AgentState& s) {
  json j;
  j["version"] = 1;
  json& t = j["triggers"] = json::object();
  for (const auto& [name, ts] : s.triggers)
    t[name] = {{"anchor", ts.anchor},         {"last_due", ts.last_due},     {"has_seen", ts.has_seen},
               {"seen", ts.seen},             {"pending", ts.pending},       {"pending_reason", ts.pending_reason},
               {"attempt", ts.attempt},       {"retry_at", ts.retry_at},     {"last_start", ts.last_start},
               {"last_end", ts.last_end},     {"last_result", ts.last_result}, {"last_detail", ts.last_detail}};
  j["running"] = json::array();
  for (const auto& r : s.running) j["running"].push_back(RunJson(r));
  j["history"] = json::array();
  for (const auto& r : s.history) j["history"].push_back(RunJson(r));
  return j.dump(1) + "\n";
}

Result<AgentState> StateFromJson(const std::string& text, const std::string& file) {
  json j = json::parse(text, nullptr, false);
  const std::string fix = "; move it away to start the agent afresh (triggers then take a new baseline)";
  if (j.is_discarded() || !j.is_object()) return Status::Corrupt(file + ": not a JSON object" + fix);
  try {
    if (j.value("version", 0) != 1) return Status::Corrupt(file + ": unknown state version" + fix);
    AgentState s;
    for (const auto& [name, v] : j.at("triggers").items()) {
      TriggerState ts;
      ts.anchor = v.value("anchor", int64_t{0});
      ts.last_due = v.value("last_due", int64_t{0});
      ts.has_seen = v.value("has_seen", false);
      ts.seen = v.value("seen", "");
      ts.pending = v.value("pending", false);
      ts.pending_reason = v.value("pending_reason", "");
      ts.attempt = v.value("attempt", 0);
      ts.retry_at = v.value("retry_at", int64_t{0});
      ts.last_start = v.value("last_start", int64_t{0});
      ts.last_end = v.value("last_end", int64_t{0});
      ts.last_result = v.value("last_result", "");
      ts.last_detail = v.value("last_detail", "");
      s.triggers[name] = ts;
    }
    for (const auto& r : j.at("running")) s.running.push_back(RunFrom(r));
    for (const auto& r : j.at("history")) s.history.push_back(RunFrom(r));
    return s;
  } catch (const json::exception& e) {
    return Status::Corrupt(file + ": " + e.what() + fix);
  }
}

Result<AgentState> LoadState(const std::string& dir) {
  std::string path = dir + "/state.json";
  if (!Exists(path)) return AgentState{};
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return StateFromJson(text, path);
}

Status SaveState(const std::string& dir, const AgentState& s) {
  RETURN_IF_ERROR(MakeDirs(dir));
  return WriteFileAtomic(dir + "/state.json", StateToJson(s));
}

}  // namespace forja::agent
