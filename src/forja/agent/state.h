// The agent's memory, .forja/agent/state.json: per trigger its last fire and what it
// last saw, the runs in flight (with their pids), and a short history. Written whole
// and atomically (temp + fsync + rename) after every change, so a killed agent leaves
// either the state before a step or the state after it, never half of one.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "forja/core/status.h"

namespace forja::agent {

struct TriggerState {
  int64_t anchor = 0;    // when the agent first saw a timed trigger (interval's origin)
  int64_t last_due = 0;  // due times up to here are consumed (fired or skipped)
  bool has_seen = false;
  std::string seen;      // event triggers: the last observed pointer hash, commit, alert
  bool pending = false;  // a fire waits for a free slot
  std::string pending_reason;
  int attempt = 0;       // failed tries of the current fire
  int64_t retry_at = 0;  // 0 = no retry scheduled
  int64_t last_start = 0, last_end = 0;
  std::string last_result;  // ok, failed, interrupted, cancelled, skipped
  std::string last_detail;
};

struct RunRecord {
  std::string id;       // "20261206T224500-nightly"
  std::string trigger;
  std::string reason;   // why it fired
  std::string pipeline;
  int pid = 0;          // 0 while starting
  uint64_t pid_start = 0;  // the child's start time in clock ticks (/proc/PID/stat), against pid reuse
  int64_t started = 0, ended = 0;
  std::string result;   // "" while running; ok, failed, interrupted, cancelled
  std::string detail;   // one line: exit code, run id, version, gate refusal
  std::string run_id;   // the tracking store's run
  std::string version;  // the registered version
};

struct AgentState {
  std::map<std::string, TriggerState> triggers;
  std::vector<RunRecord> running;
  std::vector<RunRecord> history;  // newest last, at most kHistory
  static constexpr size_t kHistory = 200;

  void Finish(RunRecord r);  // moves `r` out of running into history
};

std::string StateToJson(const AgentState& s);
// Hostile-input safe: a damaged file is a Corrupt error naming it.
Result<AgentState> StateFromJson(const std::string& text, const std::string& file);

// <dir>/state.json; a missing file is a fresh state.
Result<AgentState> LoadState(const std::string& dir);
Status SaveState(const std::string& dir, const AgentState& s);

}  // namespace forja::agent
