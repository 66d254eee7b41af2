#include "forja/agent/schedule.h"

#include <algorithm>
#include <set>

namespace forja::agent {

std::optional<int64_t> NextDue(const Trigger& t, const TriggerState& s, int64_t after) {
  if (t.kind == TriggerKind::kInterval) {
    int64_t anchor = s.anchor ? s.anchor : after;
    if (after < anchor) return anchor + t.interval_s;
    return anchor + ((after - anchor) / t.interval_s + 1) * t.interval_s;
  }
  if (t.kind == TriggerKind::kCron) {
    auto tz = TimeZone::Load(t.tz_name);
    if (!tz.ok()) return std::nullopt;  // checked when forja.yaml was read
    return NextFire(t.cron, *tz, after);
  }
  return std::nullopt;
}

std::string Advance(const Trigger& t, TriggerState* s, int64_t now) {
  std::string log;
  if (s->retry_at && now >= s->retry_at && !s->pending) {
    s->retry_at = 0;
    s->pending = true;
    s->pending_reason = "retry " + std::to_string(s->attempt) + " of " + std::to_string(t.retries);
    log = t.name + ": " + s->pending_reason;
  }
  if (!t.timed()) return log;
  if (!s->anchor) {
    s->anchor = s->last_due = now;
    return t.name + ": first seen; next due times count from now";
  }
  auto first = NextDue(t, *s, s->last_due);
  if (!first || *first > now) return log;
  auto recent = NextDue(t, *s, std::max(s->last_due, now - t.grace_s - 1));
  s->last_due = now;  // every due time up to now is consumed here, fired or skipped
  if (s->pending) return log;  // already waiting: one pending fire covers these due times
  if (recent && *recent <= now) {
    s->pending = true;
    s->pending_reason = t.Spec() + (*first < *recent ? " (earlier due times missed)" : "");
  } else if (t.catchup == Catchup::kOnce) {
    s->pending = true;
    s->pending_reason = t.Spec() + " (catch-up: due times missed while the agent was down)";
  } else {
    s->last_result = "skipped";
    s->last_detail = "due times missed while the agent was down (catchup: skip)";
    return t.name + ": skipped missed due times (catchup: skip)";
  }
  return t.name + ": due: " + s->pending_reason;
}

std::string Observe(const Trigger& t, TriggerState* s, const std::string& token, const std::string& what) {
  if (!s->has_seen) {
    s->has_seen = true;
    s->seen = token;
    return t.name + ": baseline " + what + " " + (token.empty() ? "(none)" : token.substr(0, 12));
  }
  if (token == s->seen) return "";
  std::string from = s->seen.empty() ? "(none)" : s->seen.substr(0, 12);
  s->seen = token;
  s->pending = true;
  s->pending_reason = t.Spec() + ": " + what + " " + from + " -> " + (token.empty() ? "(none)" : token.substr(0, 12));
  return t.name + ": due: " + s->pending_reason;
}

bool AfterRun(const Trigger& t, TriggerState* s, bool ok, int64_t now) {
  if (ok) {
    s->attempt = 0;
    s->retry_at = 0;
    return false;
  }
  s->attempt++;
  if (s->attempt > t.retries) {
    s->attempt = 0;
    return false;
  }
  int64_t wait = t.backoff_s;
  for (int i = 1; i < s->attempt && wait < 86400; ++i) wait *= 2;
  s->retry_at = now + std::min<int64_t>(wait, 86400);
  return true;
}

std::vector<size_t> Startable(const std::vector<Trigger>& triggers, const AgentState& s, int max_concurrent) {
  std::vector<size_t> out;
  std::set<std::string> busy_pipelines, busy_triggers;
  for (const RunRecord& r : s.running) {
    busy_pipelines.insert(r.pipeline);
    busy_triggers.insert(r.trigger);
  }
  size_t slots = s.running.size() >= static_cast<size_t>(max_concurrent) ? 0 : max_concurrent - s.running.size();
  for (size_t i = 0; i < triggers.size() && out.size() < slots; ++i) {
    const Trigger& t = triggers[i];
    auto it = s.triggers.find(t.name);
    if (it == s.triggers.end() || !it->second.pending) continue;
    if (busy_triggers.count(t.name) || busy_pipelines.count(t.action.pipeline)) continue;
    busy_pipelines.insert(t.action.pipeline);
    busy_triggers.insert(t.name);
    out.push_back(i);
  }
  return out;
}

}  // namespace forja::agent
