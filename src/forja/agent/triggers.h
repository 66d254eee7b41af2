// forja.yaml's `triggers:` (what starts a pipeline run without a person) and
// `agent:` (the agent's own settings: limits, polling, notifications), read strictly:
// every error is one line "forja.yaml:<line>: triggers.<name>.<field>: <what>".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "forja/agent/cron.h"
#include "forja/agent/tz.h"
#include "forja/config/node.h"
#include "forja/core/status.h"

namespace forja::agent {

enum class TriggerKind { kCron, kInterval, kData, kGit, kAlert };
const char* KindName(TriggerKind k);

enum class Catchup { kSkip, kOnce };

// What a fire does: `forja run` of the workspace (or of `pipeline`, a folder of it
// holding its own forja.yaml), then optionally register and promote through the gates.
// `promote` is a target as `forja models promote --to` takes it; a later rollout step
// would be another way to carry out the same PromoteAction.
struct PromoteAction {
  std::string to;  // "" = no promotion
};
struct Action {
  std::string pipeline = ".";
  std::vector<std::string> targets;
  std::vector<std::string> overrides;  // Hydra overrides, key=value
  bool force = false;                  // forja run --force
  std::string register_model;          // "" = no registration
  std::string register_path;           // the package folder the pipeline writes
  PromoteAction promote;
};

struct Trigger {
  std::string name;
  std::string origin;  // forja.yaml:<line>
  TriggerKind kind = TriggerKind::kInterval;
  // cron
  CronSpec cron;
  std::string tz_name;  // "" = UTC
  // interval
  int64_t interval_s = 0;
  // data: a tracked path's pointer in the workspace, or on `branch` (through git)
  std::string data_path;
  std::string branch;
  // data on a remote: the set of objects on the forja remote of that name changed
  // (someone pushed); listed in full at each poll
  std::string data_remote;
  // git: a branch of a remote (a name git knows, or a URL)
  std::string git_remote;
  // alert: filters on what forja server recorded
  std::string alert_model, alert_name;
  Catchup catchup = Catchup::kSkip;
  int64_t grace_s = 60;  // a due time older than this when seen is "missed"
  int retries = 0;
  int64_t backoff_s = 30;
  Action action;

  bool timed() const { return kind == TriggerKind::kCron || kind == TriggerKind::kInterval; }
  std::string Spec() const;  // "cron 0 3 * * * (Europe/Berlin)", "every 15m", ...
};

enum class OnStop { kWait, kCancel };

struct AgentSettings {
  int max_concurrent = 1;  // runs at once across every trigger
  int64_t poll_s = 60;     // how often data, git and alert triggers look
  OnStop on_stop = OnStop::kWait;
  std::string webhook;     // notifications; "" = none
  bool notify_failure = true, notify_promotion = true, notify_success = false;
  std::vector<Trigger> triggers;
};

// "15m", "90s", "2h", "1d", "1h30m": seconds. Errors say what is accepted.
Result<int64_t> ParseDuration(const std::string& text);
std::string FormatDuration(int64_t seconds);

// `triggers` and `agent` are forja.yaml's nodes (null when absent); `file` names the file.
Result<AgentSettings> ParseAgentSettings(const config::Node* triggers, const config::Node* agent,
                                         const std::string& file);

}  // namespace forja::agent
