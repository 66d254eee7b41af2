// forja.yaml's triggers: read strictly with one-line errors; the scheduler's
// decisions: due times, catch-up after downtime, retries with backoff, observed
// changes, and the concurrency limits.
#include <gtest/gtest.h>

#include "forja/agent/schedule.h"
#include "forja/agent/triggers.h"

namespace forja::agent {
namespace {

Result<AgentSettings> Parse(const std::string& yaml) {
  auto root = config::ParseYaml(yaml, "forja.yaml");
  if (!root.ok()) return root.status();
  return ParseAgentSettings(root->Find("triggers"), root->Find("agent"), "forja.yaml");
}

std::string Error(const std::string& yaml) {
  auto s = Parse(yaml);
  return s.ok() ? "ok" : s.status().message();
}

Trigger Interval(const std::string& name, int64_t seconds, Catchup c = Catchup::kSkip) {
  Trigger t;
  t.name = name;
  t.kind = TriggerKind::kInterval;
  t.interval_s = seconds;
  t.catchup = c;
  return t;
}

TEST(Triggers, ReadsEveryKindAndTheAction) {
  auto s = Parse(R"(
agent:
  max_concurrent: 2
  poll: 30s
  on_stop: cancel
  notify: {webhook: "http://127.0.0.1:9/hook", on: [failure]}
triggers:
  nightly:
    cron: "0 3 * * *"
    tz: Europe/Berlin
    catchup: once
    retries: 2
    backoff: 1m
    overrides: [train.lr=0.1]
    register: {model: churn, path: model}
    promote: {to: staging}
  often: {interval: 15m, targets: [train], force: true}
  newdata: {data: data/train.csv, branch: main}
  pushed: {git: {remote: origin, branch: main}}
  drift: {alert: {model: churn, name: DataDrift}}
)");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->max_concurrent, 2);
  EXPECT_EQ(s->poll_s, 30);
  EXPECT_EQ(s->on_stop, OnStop::kCancel);
  EXPECT_EQ(s->webhook, "http://127.0.0.1:9/hook");
  EXPECT_TRUE(s->notify_failure);
  EXPECT_FALSE(s->notify_promotion);
  ASSERT_EQ(s->triggers.size(), 5u);
  const Trigger& n = s->triggers[0];
  EXPECT_EQ(n.Spec(), "cron 0 3 * * * (Europe/Berlin)");
  EXPECT_EQ(n.catchup, Catchup::kOnce);
  EXPECT_EQ(n.retries, 2);
  EXPECT_EQ(n.backoff_s, 60);
  EXPECT_EQ(n.action.overrides, std::vector<std::string>{"train.lr=0.1"});
  EXPECT_EQ(n.action.register_model, "churn");
  EXPECT_EQ(n.action.promote.to, "staging");
  EXPECT_EQ(n.origin, "forja.yaml:9");
  EXPECT_EQ(s->triggers[1].Spec(), "every 15m");
  EXPECT_TRUE(s->triggers[1].action.force);
  EXPECT_EQ(s->triggers[2].Spec(), "data data/train.csv on main");
  EXPECT_EQ(s->triggers[3].Spec(), "git origin main");
  EXPECT_EQ(s->triggers[4].Spec(), "alert model=churn name=DataDrift");
}

TEST(Triggers, MalformedTriggersGiveOneLineWithFileAndLine) {
  EXPECT_EQ(Error("triggers:\n  a: {cron: \"61 * * * *\"}\n"),
            "forja.yaml:2: triggers.a.cron: cron '61 * * * *': minute: 61 is out of range 0-59");
  EXPECT_EQ(Error("triggers:\n  a:\n    webhook: x\n"),
            "forja.yaml:3: triggers.a.webhook: unknown trigger kind or field (kinds: cron, interval, data, git, alert; "
            "fields: tz, branch, catchup, grace, retries, backoff, pipeline, targets, overrides, force, register, "
            "promote)");
  EXPECT_EQ(Error("triggers:\n  a: {interval: 15x}\n"),
            "forja.yaml:2: triggers.a.interval: '15x' is not a duration (e.g. 90s, 15m, 2h, 1d, 1h30m)");
  EXPECT_EQ(Error("triggers:\n  a: {interval: 10s}\n"), "forja.yaml:2: triggers.a.interval: must be at least 1m");
  EXPECT_EQ(Error("triggers:\n  a: {interval: 15m}\n  b: {interval: 15m}\n"),
            "forja.yaml:3: triggers.b: overlaps trigger a (forja.yaml:2): same interval and same pipeline run; remove one");
  EXPECT_EQ(Error("triggers:\n  a: {interval: 15m, cron: '@daily'}\n"),
            "forja.yaml:2: triggers.a: has both interval and cron; a trigger has one kind (make two triggers)");
  EXPECT_EQ(Error("triggers:\n  a: {retries: 1}\n"),
            "forja.yaml:2: triggers.a: says no kind: give one of cron, interval, data, git, alert");
  EXPECT_EQ(Error("triggers:\n  a: {cron: '@daily', tz: Mars/Base}\n"),
            "forja.yaml:2: triggers.a.tz: unknown time zone 'Mars/Base' (no /usr/share/zoneinfo/Mars/Base; use an IANA "
            "name such as Europe/Berlin)");
  EXPECT_EQ(Error("triggers:\n  a: {interval: 1h, catchup: always}\n"),
            "forja.yaml:2: triggers.a.catchup: 'always' is not skip or once");
  EXPECT_EQ(Error("triggers:\n  a: {interval: 1h, promote: {to: production}}\n"),
            "forja.yaml:2: triggers.a.promote: needs register: (promote moves the version the run registered)");
  EXPECT_EQ(Error("triggers:\n  a: {git: {remote: origin}}\n"),
            "forja.yaml:2: triggers.a.git: needs remote and branch, e.g. {remote: origin, branch: main}");
  EXPECT_EQ(Error("triggers:\n  a: {data: ../outside}\n"),
            "forja.yaml:2: triggers.a.data: must be a tracked path inside the workspace, e.g. data/train.csv");
  EXPECT_EQ(Error("triggers: [a, b]\n"), "forja.yaml:1: triggers: must be a mapping of trigger name to trigger");
  EXPECT_EQ(Error("agent: {notify: {webhook: 'ftp://x'}}\n"),
            "forja.yaml:1: agent.notify.webhook: must be an http:// or https:// URL");
  EXPECT_EQ(Error("agent: {notify: {on: [sometimes]}}\n"),
            "forja.yaml:1: agent.notify.on: 'sometimes' is not failure, promotion or success");
}

TEST(Triggers, OnePipelineHasOneSpelling) {
  auto s = Parse("triggers:\n  a: {interval: 1h, pipeline: ./sub/}\n  b: {interval: 2h, pipeline: sub}\n");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->triggers[0].action.pipeline, "sub");
  EXPECT_EQ(Error("triggers:\n  a: {interval: 1h, pipeline: ./sub/}\n  b: {interval: 1h, pipeline: sub}\n"),
            "forja.yaml:3: triggers.b: overlaps trigger a (forja.yaml:2): same interval and same pipeline run; remove one");
  EXPECT_EQ(Error("triggers:\n  a: {interval: 1h, pipeline: ../x}\n"),
            "forja.yaml:2: triggers.a.pipeline: must be a folder inside the workspace");
  EXPECT_EQ(s->triggers[1].action.pipeline, "sub");
  auto root = Parse("triggers:\n  a: {interval: 1h, pipeline: ./}\n");
  ASSERT_TRUE(root.ok()) << root.status().message();
  EXPECT_EQ(root->triggers[0].action.pipeline, ".");
}

// forja.yaml comes with a clone: every path it names goes through the one path validator.
TEST(Triggers, PathsAreCheckedAsUntrusted) {
  for (const char* p : {"a/../../b", ".forja/cache", ".git/hooks", "/etc", "-rf"}) {
    EXPECT_EQ(Error(std::string("triggers:\n  a: {data: '") + p + "'}\n"),
              "forja.yaml:2: triggers.a.data: must be a tracked path inside the workspace, e.g. data/train.csv")
        << p;
    EXPECT_EQ(Error(std::string("triggers:\n  a: {interval: 1h, pipeline: '") + p + "'}\n"),
              "forja.yaml:2: triggers.a.pipeline: must be a folder inside the workspace")
        << p;
    EXPECT_EQ(Error(std::string("triggers:\n  a: {interval: 1h, register: {model: m, path: '") + p + "'}}\n"),
              "forja.yaml:2: triggers.a.register.path: the package folder inside the workspace, e.g. model")
        << p;
  }
}

TEST(Triggers, DataOnARemote) {
  auto s = Parse("triggers:\n  r: {data: {remote: store}}\n");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->triggers[0].Spec(), "data on remote store");
  EXPECT_EQ(Error("triggers:\n  r: {data: {remote: store}, branch: main}\n"),
            "forja.yaml:2: triggers.r.branch: only data triggers on a tracked path take branch");
  EXPECT_EQ(Error("triggers:\n  r: {data: {bucket: x}}\n"), "forja.yaml:2: triggers.r.data.bucket: unknown field (known: remote)");
  EXPECT_EQ(Error("triggers:\n  r: {data: {}}\n"),
            "forja.yaml:2: triggers.r.data: needs remote: a forja remote's name, e.g. {remote: store}");
  EXPECT_EQ(Error("triggers:\n  r: {interval: 1h, branch: main}\n"),
            "forja.yaml:2: triggers.r.branch: only data triggers on a tracked path take branch");
}

TEST(Triggers, DuplicateNamesAreRefused) {
  std::string e = Error("triggers:\n  a: {interval: 15m}\n  a: {interval: 1h}\n");
  EXPECT_NE(e, "ok");
  EXPECT_NE(e.find("forja.yaml:3"), std::string::npos) << e;
}

TEST(Durations, ParseAndFormat) {
  EXPECT_EQ(*ParseDuration("90s"), 90);
  EXPECT_EQ(*ParseDuration("1h30m"), 5400);
  EXPECT_EQ(*ParseDuration("2d"), 172800);
  EXPECT_FALSE(ParseDuration("m").ok());
  EXPECT_FALSE(ParseDuration("15").ok());
  EXPECT_FALSE(ParseDuration("0s").ok());
  EXPECT_FALSE(ParseDuration("99999999999999999999s").ok());
  EXPECT_EQ(FormatDuration(900), "15m");
  EXPECT_EQ(FormatDuration(5400), "1h30m");
  EXPECT_EQ(FormatDuration(86400), "1d");
}

TEST(Schedule, IntervalFiresFromItsFirstSighting) {
  Trigger t = Interval("every", 900);
  TriggerState s;
  EXPECT_EQ(Advance(t, &s, 10000), "every: first seen; next due times count from now");
  EXPECT_FALSE(s.pending);
  EXPECT_EQ(*NextDue(t, s, s.last_due), 10900);
  EXPECT_EQ(Advance(t, &s, 10899), "");
  EXPECT_FALSE(s.pending);
  EXPECT_EQ(Advance(t, &s, 10930), "every: due: every 15m");  // 30 s late: within grace
  EXPECT_TRUE(s.pending);
  s.pending = false;  // started
  EXPECT_EQ(Advance(t, &s, 10930), "");  // consumed: not twice
  EXPECT_FALSE(s.pending);
  EXPECT_EQ(*NextDue(t, s, s.last_due), 11800);
}

TEST(Schedule, CatchupAfterDowntime) {
  const int64_t t0 = 1000000;
  Trigger skip = Interval("s", 900, Catchup::kSkip), once = Interval("o", 900, Catchup::kOnce);
  TriggerState a, b;
  Advance(skip, &a, t0);
  Advance(once, &b, t0);
  // Down for three hours: twelve due times missed, none within grace.
  EXPECT_EQ(Advance(skip, &a, t0 + 3 * 3600 + 300), "s: skipped missed due times (catchup: skip)");
  EXPECT_FALSE(a.pending);
  EXPECT_EQ(a.last_result, "skipped");
  EXPECT_EQ(Advance(once, &b, t0 + 3 * 3600 + 300),
            "o: due: every 15m (catch-up: due times missed while the agent was down)");
  EXPECT_TRUE(b.pending);
  // The next due time is the schedule's, not "now + interval".
  EXPECT_EQ(*NextDue(skip, a, a.last_due), t0 + 3 * 3600 + 900);
  // Missed times plus one on time: it fires (on time), saying earlier ones were missed.
  TriggerState c;
  Advance(skip, &c, t0);
  EXPECT_EQ(Advance(skip, &c, t0 + 3600 + 10), "s: due: every 15m (earlier due times missed)");
}

TEST(Schedule, CronTriggersUseTheirZone) {
  auto s = Parse("triggers:\n  n: {cron: '30 2 * * *', tz: Europe/Berlin}\n");
  ASSERT_TRUE(s.ok()) << s.status().message();
  const Trigger& t = s->triggers[0];
  TriggerState st;
  Advance(t, &st, 1774699200);                              // 2026-03-28T12:00:00Z
  EXPECT_EQ(*NextDue(t, st, st.last_due), 1774830600);      // 2026-03-30T00:30:00Z: the 29th's 02:30 never happens
  EXPECT_EQ(Advance(t, &st, 1774830600), "n: due: cron 30 2 * * * (Europe/Berlin)");
}

TEST(Schedule, RetriesBackOffThenGiveUp) {
  Trigger t = Interval("r", 3600);
  t.retries = 2;
  t.backoff_s = 30;
  TriggerState s;
  EXPECT_TRUE(AfterRun(t, &s, false, 1000));
  EXPECT_EQ(s.retry_at, 1030);
  EXPECT_EQ(Advance(t, &s, 1029), "r: first seen; next due times count from now");
  EXPECT_FALSE(s.pending);
  Advance(t, &s, 1030);
  EXPECT_TRUE(s.pending);
  EXPECT_EQ(s.pending_reason, "retry 1 of 2");
  s.pending = false;
  EXPECT_TRUE(AfterRun(t, &s, false, 2000));
  EXPECT_EQ(s.retry_at, 2060);  // doubled
  s.retry_at = 0;
  EXPECT_FALSE(AfterRun(t, &s, false, 3000));  // out of retries
  EXPECT_EQ(s.attempt, 0);
  EXPECT_EQ(s.retry_at, 0);
  EXPECT_TRUE(AfterRun(t, &s, false, 4000));
  EXPECT_FALSE(AfterRun(t, &s, true, 4100));  // success clears
  EXPECT_EQ(s.attempt, 0);
  EXPECT_EQ(s.retry_at, 0);
}

TEST(Schedule, ObservedChangesFireOnce) {
  Trigger t;
  t.name = "d";
  t.kind = TriggerKind::kData;
  t.data_path = "data/x";
  TriggerState s;
  EXPECT_EQ(Observe(t, &s, "aaaa", "pointer"), "d: baseline pointer aaaa");
  EXPECT_FALSE(s.pending);
  EXPECT_EQ(Observe(t, &s, "aaaa", "pointer"), "");
  EXPECT_EQ(Observe(t, &s, "bbbb", "pointer"), "d: due: data data/x: pointer aaaa -> bbbb");
  EXPECT_TRUE(s.pending);
  EXPECT_EQ(Advance(t, &s, 5), "");  // event triggers have no due times
  EXPECT_FALSE(NextDue(t, s, 0).has_value());
}

TEST(Schedule, StartableHonoursLimits) {
  std::vector<Trigger> ts = {Interval("a", 900), Interval("b", 1800), Interval("c", 3600)};
  ts[2].action.pipeline = "other";
  AgentState st;
  for (const auto& t : ts) st.triggers[t.name].pending = true;
  // One at a time in all.
  EXPECT_EQ(Startable(ts, st, 1), std::vector<size_t>{0});
  // a and b run the same pipeline: never together; c runs another.
  EXPECT_EQ(Startable(ts, st, 3), (std::vector<size_t>{0, 2}));
  // While a runs, b waits (coalesced) and a's next fire waits for a.
  RunRecord running;
  running.id = "r1";
  running.trigger = "a";
  running.pipeline = ".";
  st.running.push_back(running);
  EXPECT_EQ(Startable(ts, st, 3), std::vector<size_t>{2});
  EXPECT_EQ(Startable(ts, st, 1), std::vector<size_t>{});
}

}  // namespace
}  // namespace forja::agent
