#include "forja/rollout/controller.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include "forja/rollout/checks.h"

namespace forja::rollout {

namespace {

using Clock = std::chrono::steady_clock;

int64_t MsSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

std::string Secs(int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%gs", static_cast<double>(ms) / 1000);
  return buf;
}

constexpr int64_t kPollMs = 200;   // how often a step's application is checked
constexpr int64_t kWatchMs = 1000;  // how often, during an interval, servers and the store are re-read

// A step's end: why the loop stops early. `state` empty: go on.
struct Stop {
  std::string state, message;
  explicit operator bool() const { return !state.empty(); }
};

class Runner {
 public:
  Runner(meta::MetaStore& store, const Options& o, meta::Rollout r, MetricsSource& source, const Hooks& h)
      : store_(store), o_(o), r_(std::move(r)), source_(source), h_(h) {}

  meta::Rollout Go() {
    std::string passed;  // the last passed step's numbers, carried into the next record
    for (int w : o_.steps) {
      r_.weight = w;
      r_.state = "running";
      r_.message = "step " + std::to_string(w) + "%" + (passed.empty() ? "" : " (" + passed + ")");
      auto moved = store_.UpdateRollout(r_);
      if (!moved.ok()) return EndedElsewhere(moved.status());
      r_ = *moved;
      Say("step " + std::to_string(w) + "%: waiting for every server to apply it");
      std::map<std::string, VersionCounters> start;
      if (Stop s = AwaitApplied(w, &start)) return End(s);
      Say("step " + std::to_string(w) + "%: applied on " + std::to_string(start.size()) + " server(s); watching for " +
          Secs(o_.interval_ms));
      StepMetrics m;
      if (Stop s = Watch(start, &m)) return End(s);
      Verdict v = CheckStep(m, o_.thresholds);
      if (!v.pass)
        return End({"rolled_back", "step " + std::to_string(w) + "% failed " + v.check + ": " + v.message + "; route restored"});
      passed = "step " + std::to_string(w) + "% passed: " + Describe(m);
      Say(passed);
    }
    Status promoted = h_.promote ? h_.promote() : Status::Ok();
    if (!promoted.ok())
      return End({"rolled_back", "the promotion to " + o_.target + " failed, version " + std::to_string(o_.to_version) +
                                     " was not promoted: " + promoted.message() + "; route restored"});
    r_.state = "completed";
    r_.weight = 100;
    r_.message = "version " + std::to_string(o_.to_version) + (o_.target[0] == '@' ? " is now " : " is now in ") +
                 o_.target + "; " + passed;
    auto done = store_.UpdateRollout(r_);
    if (!done.ok()) {  // promoted already: say so, the record could not follow
      r_.message += " (the rollout record was not updated: " + done.status().message() + ")";
      return r_;
    }
    return *done;
  }

 private:
  void Say(const std::string& line) {
    if (h_.progress) h_.progress(line);
  }
  void Sleep(int64_t ms) {
    if (h_.sleep_ms) h_.sleep_ms(ms);
    else std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }
  Stop Stopped() {
    std::string why = h_.stop ? h_.stop() : "";
    if (why.empty()) return {};
    return {"aborted", "interrupted (" + why + "); route restored"};
  }

  // Reads every server; unreachable ones abort, a refused candidate rolls back.
  Stop ReadServers(std::vector<ServerView>* views) {
    auto read = source_.Read();
    if (!read.ok()) return {"aborted", read.status().message() + "; route restored"};
    for (const ServerView& v : *read)
      if (v.gauge.refused)
        return {"rolled_back", "server " + v.server + " refused version " + std::to_string(o_.to_version) +
                                   " (it failed to load; see that server's log); route restored"};
    *views = std::move(*read);
    return {};
  }

  Stop AwaitApplied(int w, std::map<std::string, VersionCounters>* start) {
    Clock::time_point t0 = Clock::now();
    int64_t next_touch = meta::kRolloutTouchMs;
    for (;;) {
      if (Stop s = Stopped()) return s;
      std::vector<ServerView> views;
      if (Stop s = ReadServers(&views)) return s;
      const ServerView* lagging = nullptr;
      for (const ServerView& v : views)
        if (v.gauge.weight != w) lagging = &v;
      if (!lagging) {
        for (const ServerView& v : views) (*start)[v.server] = v.candidate;
        return {};
      }
      if (MsSince(t0) >= o_.apply_timeout_ms)
        return {"rolled_back",
                "server " + lagging->server + " did not apply step " + std::to_string(w) + "% within " +
                    Secs(o_.apply_timeout_ms) + " (its forja_serve_rollout_weight is " +
                    (lagging->gauge.weight ? std::to_string(*lagging->gauge.weight) : "absent") +
                    "; does it follow " + o_.name + (o_.target[0] == '@' ? "" : "@") + o_.target +
                    " from this store?); route restored"};
      if (Stop s = StillOurs()) return s;
      if (MsSince(t0) >= next_touch) {  // a long --apply-timeout: show that its controller is alive
        next_touch += meta::kRolloutTouchMs;
        if (Stop s = Touch()) return s;
      }
      Sleep(kPollMs);
    }
  }

  Stop Touch() {
    auto touched = store_.UpdateRollout(r_);
    if (touched.ok()) r_ = *touched;
    else if (touched.status().code() == Code::kConflict) return {"elsewhere", ""};
    return {};
  }

  // Another process (forja rollout abort) ended the rollout: the store says so.
  Stop StillOurs() {
    auto now = store_.GetRollout(o_.name);
    if (!now.ok()) return {};  // a store hiccup is not an abort; the next step's update will tell
    if (now->id != r_.id || now->state != "running") return {"elsewhere", ""};
    return {};
  }

  Stop Watch(const std::map<std::string, VersionCounters>& start, StepMetrics* m) {
    Clock::time_point t0 = Clock::now();
    int64_t next_watch = kWatchMs, next_touch = meta::kRolloutTouchMs;
    std::vector<ServerView> views;
    for (;;) {
      int64_t left = o_.interval_ms - MsSince(t0);
      if (left <= 0) break;
      Sleep(std::min<int64_t>(left, kPollMs));
      if (Stop s = Stopped()) return s;
      if (MsSince(t0) >= next_watch) {
        next_watch += kWatchMs;
        if (Stop s = StillOurs()) return s;
        if (Stop s = ReadServers(&views)) return s;
      }
      if (MsSince(t0) >= next_touch) {  // a long step: show that its controller is alive
        next_touch += meta::kRolloutTouchMs;
        if (Stop s = Touch()) return s;
      }
    }
    if (Stop s = StillOurs()) return s;
    if (Stop s = ReadServers(&views)) return s;
    VersionCounters sum;
    for (const ServerView& v : views) {
      auto it = start.find(v.server);
      sum.Add(it == start.end() ? v.candidate : CounterDelta(it->second, v.candidate));
    }
    *m = Summarize(sum);
    return {};
  }

  // Ends the rollout at weight 0 (the servers drop the candidate's route), then waits a
  // little for them to show it, so the caller can say the route is restored.
  meta::Rollout End(const Stop& s) {
    if (s.state == "elsewhere") return EndedElsewhere(Status::Conflict("ended by another process"));
    r_.weight = 0;
    r_.state = s.state;
    r_.message = s.message;
    auto ended = store_.UpdateRollout(r_);
    if (!ended.ok()) return EndedElsewhere(ended.status());
    r_ = *ended;
    AwaitRestored();
    return r_;
  }

  void AwaitRestored() {
    Clock::time_point t0 = Clock::now();
    while (MsSince(t0) < o_.apply_timeout_ms) {
      auto read = source_.Read();
      if (!read.ok()) return;  // a server is gone: nothing to wait for
      bool clear = true;
      for (const ServerView& v : *read) clear = clear && !v.gauge.weight;
      if (clear) {
        Say("every server dropped the candidate's route");
        return;
      }
      Sleep(kPollMs);
    }
    Say("warning: a server still shows the candidate's route after " +
        Secs(o_.apply_timeout_ms));
  }

  // The record moved without us (forja rollout abort from another shell), or the store
  // refused the update: the store's record is the truth. A record still running as ours
  // (the update failed on its way) is set to weight 0 once more, so no server keeps the
  // candidate after this process is gone.
  meta::Rollout EndedElsewhere(const Status& why) {
    auto now = store_.GetRollout(o_.name);
    if (now.ok() && now->id == r_.id && now->state != "running") {
      AwaitRestored();
      return *now;
    }
    r_.weight = 0;
    r_.state = "aborted";
    r_.message = "the rollout record could not be updated: " + why.message();
    if (now.ok() && now->id == r_.id) {
      auto again = store_.UpdateRollout(r_);
      if (again.ok()) return *again;
      r_.message += "; it may still be running: end it with forja rollout abort " + o_.name;
    }
    return r_;
  }

  meta::MetaStore& store_;
  const Options& o_;
  meta::Rollout r_;
  MetricsSource& source_;
  const Hooks& h_;
};

}  // namespace

meta::Rollout Run(meta::MetaStore& store, const Options& o, meta::Rollout begun, MetricsSource& source,
                  const Hooks& hooks) {
  return Runner(store, o, std::move(begun), source, hooks).Go();
}

}  // namespace forja::rollout
