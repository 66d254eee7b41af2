// Live drift in forja serve (serve/monitoring.h): thread windows merged by the collector equal
// one window fed every row, the ring of buckets slides with time, an empty window's verdict,
// the signature mapped onto the profile, the per-column series cap, and monitoring: in forja.yaml.
#include "forja/serve/monitoring.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "forja/data/workspace.h"
#include "forja/monitor/sample.h"
#include "forja/serve/serve.h"

namespace forja::serve {
namespace {

using Clock = VersionMonitor::Clock;
using std::chrono::seconds;

// Columns a (numeric), b (numeric) and the prediction, from 2000 reference rows.
monitor::Profile TestProfile() {
  monitor::SampleBuilder a, b, p;
  for (int i = 0; i < 2000; ++i) {
    a.Add(std::to_string((i % 200) * 0.01));
    b.Add(std::to_string((i * 7 % 300) * 0.1));
    p.Add(std::to_string((i % 100) / 100.0));
  }
  return monitor::MakeProfile({*a.Finish("a"), *b.Finish("b"), *p.Finish(kPredictionColumn)});
}

std::vector<TensorSpec> Inputs() { return {{"features", "FP64", {-1, 2}}}; }
std::vector<TensorSpec> Outputs() { return {{"score", "FP32", {-1}}}; }

MonitorOptions Options(double window_s, double interval_s) {
  MonitorOptions o;
  o.window_s = window_s;
  o.interval_s = interval_s;
  return o;
}

std::unique_ptr<VersionMonitor> Make(MonitorOptions o, Clock::time_point t0, monitor::Profile profile = TestProfile()) {
  std::vector<std::string> notes;
  auto m = VersionMonitor::Create(std::move(profile), Inputs(), Outputs(), o, "", t0, &notes);
  EXPECT_TRUE(m.ok()) << m.status().message();
  EXPECT_TRUE(notes.empty()) << notes[0];
  return std::move(*m);
}

// `rows` rows: a = shift + row's value, b = row's value * 10, prediction 0.5.
void Request(VersionMonitor& m, int first, int rows, double shift = 0) {
  Tensor x{"features", "FP64", {rows, 2}, {}};
  Tensor y{"score", "FP32", {rows}, {}};
  for (int r = first; r < first + rows; ++r) {
    double v[2] = {shift + (r % 200) * 0.01, (r % 300) * 0.1};
    float p = 0.5f;
    x.data.append(reinterpret_cast<const char*>(v), sizeof v);
    y.data.append(reinterpret_cast<const char*>(&p), sizeof p);
  }
  m.Observe({x}, {y});
}

TEST(Monitoring, ThreadWindowsMergeToOneWindow) {
  auto t0 = Clock::now();
  auto m = Make(Options(60, 1), t0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) Request(*m, (t * 50 + i) * 10, 10);
    });
  // A collection while the threads write: nothing is lost or counted twice.
  m->Collect(t0 + std::chrono::milliseconds(500));
  for (auto& th : threads) th.join();
  m->Collect(t0 + seconds(1));
  auto snap = m->Snapshot();
  EXPECT_EQ(snap->rows, 2000u);

  // One window fed the same rows in one thread.
  monitor::Profile profile = TestProfile();
  monitor::Window one(profile);
  for (int r = 0; r < 2000; ++r) {
    one.AddNumber(0, (r % 200) * 0.01);
    one.AddNumber(1, (r % 300) * 0.1);
    one.AddNumber(2, 0.5);
  }
  std::vector<monitor::ColumnDrift> want = monitor::CompareWindow(one);
  ASSERT_EQ(snap->drift.columns.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const monitor::ColumnDrift& got = snap->drift.columns[i];
    EXPECT_EQ(got.current_n, want[i].current_n) << want[i].name;
    EXPECT_EQ(got.verdict, want[i].verdict) << want[i].name;
    EXPECT_EQ(got.method, want[i].method) << want[i].name;
    EXPECT_NEAR(got.score, want[i].score, 1e-9) << want[i].name;
    EXPECT_NEAR(got.psi, want[i].psi, 1e-9) << want[i].name;
  }
}

TEST(Monitoring, RingSlides) {
  auto t0 = Clock::now();
  auto m = Make(Options(3, 1), t0);  // three buckets of a second
  EXPECT_EQ(m->buckets(), 3u);
  EXPECT_FALSE(m->Due(t0));
  EXPECT_TRUE(m->Due(t0 + seconds(1)));
  Request(*m, 0, 10);
  m->Collect(t0 + seconds(1));
  EXPECT_EQ(m->Snapshot()->rows, 10u);
  Request(*m, 0, 5);
  m->Collect(t0 + seconds(2));
  EXPECT_EQ(m->Snapshot()->rows, 15u);
  m->Collect(t0 + seconds(3));
  EXPECT_EQ(m->Snapshot()->rows, 15u);
  m->Collect(t0 + seconds(4));  // the first second's 10 rows left the window
  EXPECT_EQ(m->Snapshot()->rows, 5u);
  Request(*m, 0, 7);
  m->Collect(t0 + seconds(100));  // a long pause empties every bucket but the head
  EXPECT_EQ(m->Snapshot()->rows, 7u);
  m->Collect(t0 + seconds(104));
  EXPECT_EQ(m->Snapshot()->rows, 0u);
}

TEST(Monitoring, LongWindowsKeepBoundedBuckets) {
  auto m = Make(Options(600, 1), Clock::now());
  EXPECT_EQ(m->buckets(), 60u);
  EXPECT_DOUBLE_EQ(m->bucket_seconds(), 10);
}

TEST(Monitoring, EmptyWindowIsNoDrift) {
  auto t0 = Clock::now();
  auto m = Make(Options(10, 1), t0);
  for (int pass = 0; pass < 2; ++pass) {  // before any collection, and after one with no traffic
    auto snap = m->Snapshot();
    EXPECT_EQ(snap->rows, 0u);
    EXPECT_EQ(snap->drift.tested, 0u);
    EXPECT_EQ(snap->drift.share, 0);
    EXPECT_FALSE(snap->drift.drift);
    for (const auto& c : snap->drift.columns) EXPECT_EQ(c.verdict, monitor::Verdict::kNoCurrent) << c.name;
    m->Collect(t0 + seconds(1));
  }
  std::string text;
  RenderMonitorMetrics({{"m", "1", m->Snapshot()}}, &text);
  EXPECT_NE(text.find("forja_model_window_rows{model=\"m\",version=\"1\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("forja_model_dataset_drifted{model=\"m\",version=\"1\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("forja_model_column_drifted{model=\"m\",version=\"1\",column=\"a\"} 0\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("forja_model_drift_score{"), std::string::npos) << "no score without values: " << text;
}

TEST(Monitoring, ShiftedColumnDrifts) {
  auto t0 = Clock::now();
  auto m = Make(Options(10, 1), t0);
  for (int i = 0; i < 20; ++i) Request(*m, i * 100, 100, /*shift=*/5);
  m->Collect(t0 + seconds(1));
  auto snap = m->Snapshot();
  EXPECT_TRUE(snap->drift.columns[0].drifted());
  EXPECT_FALSE(snap->drift.columns[1].drifted());
  std::string text;
  RenderMonitorMetrics({{"m", "1", snap}}, &text);
  EXPECT_NE(text.find("forja_model_column_drifted{model=\"m\",version=\"1\",column=\"a\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("forja_model_drift_score{model=\"m\",version=\"1\",column=\"a\",method=\"wasserstein\"}"), std::string::npos)
      << text;
  EXPECT_NE(text.find("forja_model_out_of_range_share{model=\"m\",version=\"1\",column=\"a\"} 1\n"), std::string::npos) << text;
}

TEST(Monitoring, MapsByNameAndPosition) {
  // Inputs by name (b, a as one-column tensors), the first output to the prediction.
  std::vector<std::string> notes;
  auto m = VersionMonitor::Create(TestProfile(), {{"b", "FP32", {-1}}, {"a", "INT64", {-1, 1}}}, Outputs(), Options(10, 1), "",
                                  Clock::now(), &notes);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_TRUE(notes.empty());
  // A wider tensor than the profile: the values past the profile's columns are not watched;
  // an output of two values per row does not feed __prediction__.
  notes.clear();
  m = VersionMonitor::Create(TestProfile(), {{"x", "FP32", {-1, 3}}}, {{"p", "FP32", {-1, 2}}}, Options(10, 1), "",
                             Clock::now(), &notes);
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_NE(notes[0].find("3 values per row"), std::string::npos) << notes[0];
  EXPECT_NE(notes[1].find("no tensor feeds (no drift verdict): __prediction__"), std::string::npos) << notes[1];
  // Nothing in common: the profile does not match.
  notes.clear();
  m = VersionMonitor::Create(TestProfile(), {{"x", "FP32", {-1}}}, {{"p", "FP32", {-1, 2}}}, Options(10, 1), "", Clock::now(),
                             &notes);
  EXPECT_FALSE(m.ok());
}

TEST(Monitoring, TargetAndPredictionColumnsOfForjaMonitorProfile) {
  // As forja monitor profile writes them: the target first in the file, a two-value output.
  monitor::SampleBuilder y, a, b, p0, p1;
  for (int i = 0; i < 100; ++i) {
    y.Add(i % 2 ? "1" : "0");
    a.Add(std::to_string(i));
    b.Add(std::to_string(i * 2));
    p0.Add(std::to_string(i / 100.0));
    p1.Add(std::to_string(1 - i / 100.0));
  }
  monitor::Profile profile = monitor::MakeProfile(
      {*y.Finish("y"), *a.Finish("a"), *b.Finish("b"), *p0.Finish("__prediction__.p_0"), *p1.Finish("__prediction__.p_1")});
  std::vector<std::string> notes;
  auto t0 = Clock::now();
  auto m = VersionMonitor::Create(profile, {{"x", "FP64", {-1, 2}}}, {{"p", "FP64", {-1, 2}}}, Options(10, 1), "y", t0, &notes);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_TRUE(notes.empty()) << notes[0];
  Tensor x{"x", "FP64", {1, 2}, {}}, out{"p", "FP64", {1, 2}, {}};
  double xv[2] = {5, 1000}, pv[2] = {0.25, 0.75};
  x.data.assign(reinterpret_cast<const char*>(xv), sizeof xv);
  out.data.assign(reinterpret_cast<const char*>(pv), sizeof pv);
  (*m)->Observe({x}, {out});
  (*m)->Collect(t0 + seconds(1));
  auto snap = (*m)->Snapshot();
  const auto& cols = snap->drift.columns;
  EXPECT_EQ(cols[0].verdict, monitor::Verdict::kNoCurrent);  // the target: no live values
  EXPECT_EQ(cols[1].current_n, 1u);
  EXPECT_EQ(cols[2].out_of_reference_share, 1);  // b = 1000 is past the reference's 198
  EXPECT_EQ(cols[3].current_n, 1u);
  EXPECT_EQ(cols[4].current_n, 1u);
  ASSERT_EQ(snap->shown.size(), 4u);  // not the target
  EXPECT_EQ(snap->shown[0], 3u);       // the prediction columns first
  EXPECT_EQ(snap->shown[1], 4u);
  EXPECT_EQ(snap->omitted, 0u);
}

TEST(Monitoring, SeriesCappedAtMaxColumns) {
  std::vector<monitor::ColumnSample> samples;
  for (int c = 0; c < 500; ++c) {
    monitor::SampleBuilder b;
    for (int i = 0; i < 100; ++i) b.Add(std::to_string(i * (c + 1)));
    samples.push_back(*b.Finish("c" + std::to_string(c)));
  }
  MonitorOptions o = Options(10, 1);
  o.max_columns = 20;
  std::vector<std::string> notes;
  auto t0 = Clock::now();
  auto m = VersionMonitor::Create(monitor::MakeProfile(samples), {{"x", "FP64", {-1, 500}}}, {}, o, "", t0, &notes);
  ASSERT_TRUE(m.ok());
  // Column 300 shifted: it drifts and gets a series although it is far past the first 20.
  Tensor x{"x", "FP64", {100, 500}, {}};
  for (int i = 0; i < 100; ++i)
    for (int c = 0; c < 500; ++c) {
      double v = i * (c + 1) + (c == 300 ? 1e6 : 0);
      x.data.append(reinterpret_cast<const char*>(&v), sizeof v);
    }
  (*m)->Observe({x}, {});
  (*m)->Collect(t0 + seconds(1));
  auto snap = (*m)->Snapshot();
  ASSERT_EQ(snap->shown.size(), 20u);
  EXPECT_EQ(snap->omitted, 480u);
  EXPECT_EQ(snap->shown[0], 300u);
  std::string text;
  RenderMonitorMetrics({{"m", "1", snap}}, &text);
  size_t series = 0;
  for (size_t at = 0; (at = text.find("\nforja_model_column_drifted{", at)) != std::string::npos; ++at) ++series;
  EXPECT_EQ(series, 20u);
  EXPECT_NE(text.find("forja_model_monitor_columns_omitted{model=\"m\",version=\"1\"} 480\n"), std::string::npos);
}

Result<MonitoringConfig> ParseMonitoring(const std::string& yaml) {
  ASSIGN_OR_RETURN(ForjaYaml doc, ParseForjaYaml(yaml, "forja.yaml"));
  ServeConfig cfg;
  RETURN_IF_ERROR(ServingConfigOf(doc, &cfg));
  return cfg.monitoring;
}

TEST(Monitoring, Config) {
  auto c = ParseMonitoring(
      "monitoring:\n"
      "  window: 10m\n"
      "  interval: 1s\n"
      "  max_columns: 50\n"
      "  drift_share: 0.3\n"
      "  alerts: {drift_for: 5m, error_rate: 0.01, p99_seconds: 0.25, no_traffic_for: 1h}\n"
      "  models:\n"
      "    churn: {window: 90, profile: p/churn.json}\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->defaults.window_s, 600);
  EXPECT_EQ(c->defaults.interval_s, 1);
  EXPECT_EQ(c->defaults.max_columns, 50);
  EXPECT_EQ(c->defaults.drift_share, 0.3);
  EXPECT_EQ(c->alerts.drift_for_s, 300);
  EXPECT_EQ(c->alerts.no_traffic_for_s, 3600);
  EXPECT_EQ(c->alerts.p99_seconds, 0.25);
  const MonitorOptions& churn = c->For("churn");
  EXPECT_EQ(churn.window_s, 90);
  EXPECT_EQ(churn.interval_s, 1);  // from the top level
  EXPECT_EQ(churn.profile, "p/churn.json");
  EXPECT_EQ(&c->For("other"), &c->defaults);

  auto bad = ParseMonitoring("monitoring:\n  window: 10m\n  windw: 5m\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("forja.yaml:3: monitoring.windw: unknown setting"), std::string::npos)
      << bad.status().message();
  bad = ParseMonitoring("monitoring:\n  interval: soon\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("monitoring.interval: 'soon' is not a duration"), std::string::npos)
      << bad.status().message();
  // forja.yaml may come from a cloned repository: a profile path outside the workspace is refused.
  for (const char* path : {"/etc/passwd", "../secret.json", "a/../../b.json", ".git/config"}) {
    bad = ParseMonitoring(std::string("monitoring:\n  models:\n    churn: {profile: '") + path + "'}\n");
    ASSERT_FALSE(bad.ok()) << path;
    EXPECT_NE(bad.status().message().find("forja.yaml:3: monitoring.models.churn.profile: "), std::string::npos)
        << bad.status().message();
    EXPECT_NE(bad.status().message().find("name a file inside the workspace"), std::string::npos)
        << bad.status().message();
  }
  bad = ParseMonitoring("monitoring:\n  models:\n    churn: {drift_share: 0.2}\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("monitoring.models.churn.drift_share: unknown setting"), std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace forja::serve
