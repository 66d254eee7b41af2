// The scheduler's decisions, pure (no clock, no processes, no files): when a trigger
// is next due, what a moment in time makes pending (catch-up, retries), what an
// observed change makes pending, and which pending fires may start now under the
// limits. The agent (cli/cmd_agent.cc) carries them out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "forja/agent/state.h"
#include "forja/agent/triggers.h"

namespace forja::agent {

// A timed trigger's first due time strictly after `after`; nullopt for event triggers
// (and for a cron expression that never fires).
std::optional<int64_t> NextDue(const Trigger& t, const TriggerState& s, int64_t after);

// Brings a trigger up to `now`: a timed trigger seen for the first time takes `now` as
// its baseline (nothing fires for the past); a due time seen within `grace` fires; due
// times all older than that were missed (the agent was down) and fire once or are
// skipped by `catchup`; a scheduled retry whose time came fires. Returns a line for the
// log when something happened ("" otherwise). Due times up to `now` are consumed.
std::string Advance(const Trigger& t, TriggerState* s, int64_t now);

// An event trigger observed `token` (a pointer hash, a commit, an alert): the first
// observation is the baseline; a different token makes the trigger pending.
std::string Observe(const Trigger& t, TriggerState* s, const std::string& token, const std::string& what);

// After a run of `t` ended: ok clears retries; a failure schedules a retry after
// backoff * 2^(attempt-1) while attempts remain. True when a retry was scheduled.
bool AfterRun(const Trigger& t, TriggerState* s, bool ok, int64_t now);

// The pending triggers (by index into `triggers`) that may start now: at most
// `max_concurrent` runs at once in all, one run per trigger, and never two runs of one
// pipeline at once (a trigger whose pipeline is busy stays pending: coalesced).
std::vector<size_t> Startable(const std::vector<Trigger>& triggers, const AgentState& s, int max_concurrent);

}  // namespace forja::agent
