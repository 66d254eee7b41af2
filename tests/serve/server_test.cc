// The model server over real loopback sockets, with LinearModel behind it.
#include "forja/serve/serve.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "test_model.h"

namespace forja::serve {
namespace {

namespace fs = std::filesystem;

struct Resp {
  int status = 0;
  std::string head, body;
  std::string Header(const std::string& name) const {  // name in lower case
    std::string lower = head;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t p = lower.find("\r\n" + name + ":");
    if (p == std::string::npos) return "";
    p += name.size() + 3;
    size_t e = head.find("\r\n", p);
    std::string v = head.substr(p, e - p);
    while (!v.empty() && v[0] == ' ') v.erase(0, 1);
    return v;
  }
};

// A keep-alive HTTP/1.1 client, enough for Content-Length answers.
class Conn {
 public:
  explicit Conn(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Conn() { ::close(fd_); }

  Resp Do(const std::string& method, const std::string& target, const std::string& body = "", const std::string& headers = "") {
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: t\r\n" + headers;
    if (method == "POST") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    req += "\r\n" + body;
    ::send(fd_, req.data(), req.size(), MSG_NOSIGNAL);
    Resp r;
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!Fill()) return r;
    r.head = buf_.substr(0, end + 2);
    buf_.erase(0, end + 4);
    r.status = std::atoi(r.head.c_str() + 9);
    size_t len = std::strtoull(r.Header("content-length").c_str(), nullptr, 10);
    while (buf_.size() < len)
      if (!Fill()) return Resp{};
    r.body = buf_.substr(0, len);
    buf_.erase(0, len);
    return r;
  }

 private:
  bool Fill() {
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }
  int fd_;
  std::string buf_;
};

// Refs are folder names under root; "m@live" is an alias the test moves by writing which
// folder it names into `alias`.
class TestResolver : public Resolver {
 public:
  TestResolver(std::string root, std::shared_ptr<std::string> alias) : root_(std::move(root)), alias_(std::move(alias)) {}
  Result<Resolved> Resolve(const std::string& ref) override {
    Resolved r;
    std::string dir = ref;
    if (ref.find('@') != std::string::npos) {
      std::lock_guard<std::mutex> lock(mu);
      dir = *alias_;
      r.moving = true;
    }
    r.name = ref.substr(0, ref.find_first_of("@/"));
    r.version = dir.substr(dir.rfind('v') + 1);
    r.dir = root_ + "/" + dir;
    r.key = dir;
    return r;
  }
  // "m@live" takes part in the rollout the test sets in `rollout` (reload.cc).
  Result<RolloutStep> Rollout(const std::string& ref) override {
    std::lock_guard<std::mutex> lock(mu);
    return ref.find('@') != std::string::npos ? rollout : RolloutStep{};
  }
  static std::mutex mu;
  static RolloutStep rollout;

 private:
  std::string root_;
  std::shared_ptr<std::string> alias_;
};
std::mutex TestResolver::mu;
RolloutStep TestResolver::rollout;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("forja-serve-test-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    // m/v1 adds 0, m/v2 adds 100, m/v3 is corrupt; s/v1 is slow.
    for (const char* d : {"m/v1", "m/v2", "m/v3", "s/v1"}) {
      fs::create_directories(root_ / d);
      std::ofstream(root_ / d / "model.yaml") << "format: 1\nflavor: xgboost\nmodel: model.json\nsignature:\n"
                                                 "  inputs: [{name: features, datatype: FP32, shape: [-1, 3]}]\n"
                                                 "  outputs: [{name: y, datatype: FP32, shape: [-1]}]\n";
      std::ofstream(root_ / d / "model.json") << d;
    }
    alias_ = std::make_shared<std::string>("m/v1");
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(root_);
  }

  void Start(ServeConfig cfg = {}) {
    cfg.port = 0;
    cfg.io_threads = 2;
    cfg.poll_interval_s = 0;  // the tests poll by hand
    if (cfg.targets.empty()) cfg.targets = {{"m/v1"}};
    MoveRollout({});
    Loader loader = [this](const runtime::ModelSpec& spec) -> Result<std::unique_ptr<runtime::Model>> {
      loads_++;
      std::ifstream f(spec.dir + "/" + spec.model_file);
      std::string what((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      if (what == "m/v3") return Status::User(spec.dir + "/model.json: not a model (corrupt)");
      if (what == "s/v1") return std::unique_ptr<runtime::Model>(new LinearModel(0, 20000));
      return std::unique_ptr<runtime::Model>(new LinearModel(what == "m/v2" ? 100 : 0));
    };
    auto s = ModelServer::Start(cfg, std::make_unique<TestResolver>(root_.string(), alias_), loader);
    ASSERT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(*s);
  }
  void MoveAlias(const std::string& dir) {
    std::lock_guard<std::mutex> lock(TestResolver::mu);
    *alias_ = dir;
  }
  // What the registry says of m@live's rollout now (id 0: none running).
  void MoveRollout(RolloutStep step) {
    std::lock_guard<std::mutex> lock(TestResolver::mu);
    TestResolver::rollout = std::move(step);
  }

  static std::string OneRow(float a, float b = 0, float c = 0) {
    return R"({"id": "q1", "inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 3], "data": [)" +
           std::to_string(a) + "," + std::to_string(b) + "," + std::to_string(c) + "]}]}";
  }

  // The serving reports the server makes (cfg.report), as (instance, JSON). Members, not a
  // test's locals: the reporter thread runs until TearDown stops the server, after those are gone.
  void CollectReports(ServeConfig* cfg) {
    cfg->report = [this](const std::string& instance, const std::string& json) {
      std::lock_guard<std::mutex> lock(reports_mu_);
      reports_.emplace_back(instance, json);
      return Status::Ok();
    };
  }
  std::string LatestReport() {
    std::lock_guard<std::mutex> lock(reports_mu_);
    return reports_.empty() ? "" : reports_.back().second;
  }

  fs::path root_;
  std::shared_ptr<std::string> alias_;
  std::mutex reports_mu_;
  std::vector<std::pair<std::string, std::string>> reports_;
  std::unique_ptr<ModelServer> server_;
  std::atomic<int> loads_{0};
};

TEST_F(ServerTest, HealthMetadataReady) {
  Start();
  Conn c(server_->port());
  EXPECT_EQ(c.Do("GET", "/v2/health/live").status, 200);
  EXPECT_EQ(c.Do("GET", "/v2/health/ready").status, 200);
  auto meta = c.Do("GET", "/v2");
  EXPECT_NE(meta.body.find("\"binary_tensor_data\""), std::string::npos);
  auto m = c.Do("GET", "/v2/models/m");
  ASSERT_EQ(m.status, 200) << m.body;
  EXPECT_EQ(m.body.substr(0, 84), R"({"name":"m","versions":["1"],"platform":"xgboost","inputs":[{"name":"features","data)");
  EXPECT_NE(m.body.find(R"("outputs":[{"name":"y","datatype":"FP32","shape":[-1]}])"), std::string::npos);
  EXPECT_EQ(c.Do("GET", "/v2/models/m/versions/1").status, 200);
  EXPECT_EQ(c.Do("GET", "/v2/models/m/ready").status, 200);
  EXPECT_EQ(c.Do("GET", "/v2/models/m/versions/1/ready").status, 200);
  EXPECT_EQ(c.Do("GET", "/v2/models/m/versions/9/ready").status, 404);
  auto nf = c.Do("GET", "/v2/models/nope");
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nf.body, R"({"error":"model 'nope' is not served"})");
  EXPECT_EQ(c.Do("GET", "/ping").status, 200);
  EXPECT_EQ(c.Do("GET", "/health").status, 200);
  EXPECT_EQ(c.Do("GET", "/version").status, 200);
  EXPECT_EQ(c.Do("GET", "/v2/models/m/infer").status, 405);
}

TEST_F(ServerTest, InferJsonAndBinary) {
  Start();
  Conn c(server_->port());
  auto r = c.Do("POST", "/v2/models/m/infer", OneRow(1, 2, 3), "X-Request-Id: abc-1\r\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"model_name":"m","model_version":"1","id":"q1","outputs":[{"name":"y","datatype":"FP32","shape":[1],"data":[14]}]})");
  EXPECT_EQ(r.Header("x-request-id"), "abc-1");
  EXPECT_EQ(r.Header("forja-model-version"), "m/1");
  EXPECT_EQ(c.Do("POST", "/v2/models/m/versions/1/infer", OneRow(1)).status, 200);
  EXPECT_EQ(c.Do("POST", "/v2/models/m/versions/2/infer", OneRow(1)).status, 404);
  EXPECT_FALSE(c.Do("GET", "/v2/health/live").Header("x-request-id").empty());

  float x[6] = {1, 0, 0, 0, 1, 0};
  std::string json = R"({"inputs":[{"name":"features","datatype":"FP32","shape":[2,3],"parameters":{"binary_data_size":24}}],)"
                     R"("parameters":{"binary_data_output":true}})";
  std::string body = json + std::string(reinterpret_cast<char*>(x), sizeof x);
  auto b = c.Do("POST", "/v2/models/m/infer", body, "Inference-Header-Content-Length: " + std::to_string(json.size()) + "\r\n");
  ASSERT_EQ(b.status, 200) << b.body;
  size_t hl = std::strtoull(b.Header("inference-header-content-length").c_str(), nullptr, 10);
  ASSERT_GT(hl, 0u);
  ASSERT_EQ(b.body.size(), hl + 8);
  float y[2];
  std::memcpy(y, b.body.data() + hl, 8);
  EXPECT_EQ(y[0], 1);
  EXPECT_EQ(y[1], 2);
}

TEST_F(ServerTest, BadRequestsAre4xxAndTheServerGoesOn) {
  ServeConfig cfg;
  cfg.max_rows = 4;
  Start(cfg);
  Conn c(server_->port());
  auto r = c.Do("POST", "/v2/models/m/infer", "{\"inputs\": [");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body.rfind("{\"error\":\"malformed JSON at byte", 0), 0u) << r.body;
  r = c.Do("POST", "/v2/models/m/infer", R"({"inputs": [{"name": "features", "datatype": "INT64", "shape": [1, 3], "data": [1,2,3]}]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("input 'features': datatype INT64"), std::string::npos);
  r = c.Do("POST", "/v2/models/m/infer", R"({"inputs": [{"name": "features", "datatype": "FP32", "shape": [5, 3], "data": [1,2,3,1,2,3,1,2,3,1,2,3,1,2,3]}]})");
  EXPECT_EQ(r.status, 413);
  r = c.Do("POST", "/v2/models/m/infer", OneRow(-999));  // the model refuses it
  EXPECT_EQ(r.status, 400);
  r = c.Do("POST", "/invocations", "{\"instances\": [[1,2]]}", "Content-Type: application/json\r\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\"error_code\":\"BAD_REQUEST\""), std::string::npos);
  EXPECT_EQ(c.Do("POST", "/v2/models/m/infer", OneRow(1)).status, 200);
  EXPECT_EQ(c.Do("GET", "/nope").status, 404);
}

TEST_F(ServerTest, Invocations) {
  Start();
  Conn c(server_->port());
  auto r = c.Do("POST", "/invocations", R"({"dataframe_split": {"columns": ["a","b","c"], "data": [[1,0,0],[0,1,0]]}})",
                "Content-Type: application/json\r\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"predictions":[1,2]})");
  r = c.Do("POST", "/invocations", "a,b,c\n0,0,1\n", "Content-Type: text/csv\r\n");
  EXPECT_EQ(r.body, R"({"predictions":[3]})");
  EXPECT_EQ(r.Header("forja-model-version"), "m/1");
}

TEST_F(ServerTest, FullQueueIs503) {
  ServeConfig cfg;
  cfg.targets = {{"s/v1"}};
  cfg.batching.max_batch_size = 1;
  cfg.batching.max_queue = 2;
  Start(cfg);
  std::atomic<int> ok{0}, busy{0}, other{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 12; t++)
    ts.emplace_back([&] {
      Conn c(server_->port());
      int s = c.Do("POST", "/v2/models/s/infer", OneRow(1)).status;
      (s == 200 ? ok : s == 503 ? busy : other)++;
    });
  for (auto& t : ts) t.join();
  EXPECT_GT(ok.load(), 0);
  EXPECT_GT(busy.load(), 0);
  EXPECT_EQ(other.load(), 0);
  Conn c(server_->port());
  auto m = c.Do("GET", "/metrics");
  EXPECT_NE(m.body.find(R"(forja_serve_requests_total{model="s",version="1",code="503"})"), std::string::npos) << m.body;
}

TEST_F(ServerTest, HotReloadUnderLoadLosesNothing) {
  ServeConfig cfg;
  cfg.targets = {{"m@live"}};
  Start(cfg);
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0}, v1{0}, v2{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 8; t++)
    ts.emplace_back([&] {
      Conn c(server_->port());
      while (!stop) {
        auto r = c.Do("POST", "/v2/models/m/infer", OneRow(1));
        if (r.status != 200) {
          failed++;
          continue;
        }
        ok++;
        std::string v = r.Header("forja-model-version");
        // The answer must come from the version the header names.
        bool from_v2 = r.body.find("\"data\":[101]") != std::string::npos;
        if (v == "m/2" && from_v2) v2++;
        else if (v == "m/1" && !from_v2) v1++;
        else failed++;
      }
    });
  for (const char* dir : {"m/v2", "m/v3", "m/v1", "m/v2"}) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    MoveAlias(dir);
    server_->PollOnce();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop = true;
  for (auto& t : ts) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(v1.load(), 0);
  EXPECT_GT(v2.load(), 0);
  auto loaded = server_->Loaded();
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].substr(0, 3), "m/2");
  Conn c(server_->port());
  auto m = c.Do("GET", "/metrics").body;
  EXPECT_NE(m.find(R"(forja_serve_reloads_total{model="m",outcome="switched"} 3)"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(forja_serve_reloads_total{model="m",outcome="refused"} 1)"), std::string::npos);
  EXPECT_NE(m.find(R"(forja_serve_model_info{model="m",version="2",ref="m@live",platform="xgboost",role="primary"} 1)"), std::string::npos);
}

// A rollout toward m@live: its candidate answers the rollout's share of the route, each step
// moves it, a candidate that cannot load is refused once, and completion hands the route the
// candidate already loaded.
TEST_F(ServerTest, RolloutCanaryFollowsTheRegistry) {
  ServeConfig cfg;
  cfg.targets = {{"m@live"}};
  Start(cfg);
  Conn c(server_->port());
  auto split = [&](const std::string& path, int n) {
    std::map<std::string, int> by;
    for (int i = 0; i < n; i++) {
      auto r = c.Do("POST", path, path.ends_with("/invocations") ? R"({"inputs": [[1, 0, 0]]})" : OneRow(1),
                    path.ends_with("/invocations") ? "Content-Type: application/json\r\n" : "");
      EXPECT_EQ(r.status, 200) << r.body;
      std::string v = r.Header("forja-model-version");
      // The answer comes from the version the header names (m/2 adds 100).
      EXPECT_EQ(r.body.find("101") != std::string::npos, v == "m/2") << v << " " << r.body;
      by[v]++;
    }
    return by;
  };
  auto metrics = [&] { return c.Do("GET", "/metrics").body; };
  const std::string gauge = R"(forja_serve_rollout_weight{model="m",version="2",rollout="7"})";

  MoveRollout({7, "2", "m/v2", 25});
  server_->PollOnce();
  auto by = split("/v2/models/m/infer", 40);
  EXPECT_NEAR(by["m/2"], 10, 2);  // spread evenly: a quarter of 40, not a run of luck
  EXPECT_EQ(by["m/1"] + by["m/2"], 40);
  const int first = by["m/2"];
  std::string m = metrics();
  EXPECT_NE(m.find(gauge + " 25\n"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(forja_serve_requests_total{model="m",version="2",code="200"} )" + std::to_string(first) + "\n"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(forja_serve_model_info{model="m",version="2",ref="m@live",platform="xgboost",role="canary"} 1)"),
            std::string::npos);
  // Both versions answer when named.
  EXPECT_EQ(c.Do("POST", "/v2/models/m/versions/2/infer", OneRow(1)).Header("forja-model-version"), "m/2");
  EXPECT_EQ(c.Do("POST", "/v2/models/m/versions/1/infer", OneRow(1)).Header("forja-model-version"), "m/1");

  MoveRollout({7, "2", "m/v2", 50});  // the next step: the same loaded candidate, more traffic
  server_->PollOnce();
  by = split("/invocations", 40);
  EXPECT_NEAR(by["m/2"], 20, 2);
  const int second = by["m/2"];
  EXPECT_NE(metrics().find(gauge + " 50\n"), std::string::npos);
  EXPECT_EQ(loads_.load(), 2);

  // Completed: the alias names the candidate, the rollout no longer runs; the route takes
  // the canary's version without loading it again, and the gauge is gone.
  MoveAlias("m/v2");
  MoveRollout({});
  server_->PollOnce();
  by = split("/v2/models/m/infer", 10);
  EXPECT_EQ(by["m/2"], 10);
  EXPECT_EQ(loads_.load(), 2);
  m = metrics();
  EXPECT_EQ(m.find("forja_serve_rollout_weight{"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(forja_serve_reloads_total{model="m",outcome="switched"} 1)"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(forja_serve_requests_total{model="m",version="2",code="200"} )" +
                       std::to_string(first + 1 + second + 10) + "\n"), std::string::npos) << m;
  EXPECT_EQ(c.Do("POST", "/v2/models/m/versions/1/infer", OneRow(1)).status, 404);

  // A candidate that fails to load is refused once per rollout: the route stays on m/2.
  MoveRollout({8, "3", "m/v3", 10});
  server_->PollOnce();
  server_->PollOnce();
  EXPECT_EQ(loads_.load(), 3);
  by = split("/v2/models/m/infer", 10);
  EXPECT_EQ(by["m/2"], 10);
  m = metrics();
  EXPECT_NE(m.find(R"(forja_serve_rollout_refused{model="m",version="3",rollout="8"} 1)"), std::string::npos) << m;
  EXPECT_EQ(m.find("forja_serve_rollout_weight{"), std::string::npos);

  // Rolled back (weight 0, then not running): the canary is dropped.
  MoveRollout({9, "1", "m/v1", 10});
  server_->PollOnce();
  EXPECT_NEAR(split("/v2/models/m/infer", 40)["m/1"], 4, 1);
  MoveRollout({9, "1", "m/v1", 0});
  server_->PollOnce();
  EXPECT_EQ(split("/v2/models/m/infer", 10)["m/2"], 10);
  EXPECT_EQ(metrics().find("forja_serve_rollout_weight{"), std::string::npos);
  EXPECT_EQ(c.Do("POST", "/v2/models/m/versions/1/infer", OneRow(1)).status, 404);
}

TEST_F(ServerTest, RouteSplitShadowAndPredictionLog) {
  ServeConfig cfg;
  cfg.targets = {{"m/v1", 75}, {"m/v2", 25}, {"m@live", 100, true}};
  MoveAlias("m/v2");
  cfg.log.dir = (root_ / "predictions").string();
  cfg.log.sample = 1;
  Start(cfg);
  Conn c(server_->port());
  int v1 = 0, v2 = 0;
  for (int i = 0; i < 40; i++) {
    auto r = c.Do("POST", "/v2/models/m/infer", OneRow(1), "X-Request-Id: req-" + std::to_string(i) + "\r\n");
    ASSERT_EQ(r.status, 200);
    (r.Header("forja-model-version") == "m/1" ? v1 : v2)++;
  }
  EXPECT_NEAR(v1, 30, 2);  // interleaved, not 75 in a row then 25
  EXPECT_NEAR(v2, 10, 2);
  auto f = c.Do("POST", "/v2/models/m/feedback", R"({"request_id": "req-3", "label": 1})");
  EXPECT_EQ(f.status, 200) << f.body;
  EXPECT_EQ(c.Do("POST", "/v2/models/m/feedback", R"({"label": 1})").status, 400);
  server_->Shutdown();
  server_.reset();  // flushes the log
  std::string preds, feedback;
  for (auto& e : fs::directory_iterator(root_ / "predictions")) {
    std::ifstream in(e.path());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    (e.path().filename().string().rfind("feedback", 0) == 0 ? feedback : preds) += text;
  }
  auto count = [](const std::string& s, const std::string& what) {
    size_t n = 0;
    for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) n++;
    return n;
  };
  EXPECT_EQ(count(preds, "\n"), 80u);  // 40 answers and 40 shadow predictions
  EXPECT_EQ(count(preds, "\"shadow\":true"), 40u);
  EXPECT_EQ(count(preds, "\"request_id\":\"req-7\""), 2u);
  EXPECT_NE(preds.find(R"("inputs":{"features":[[1,0,0]]},"outputs":{"y":[1]})"), std::string::npos) << preds.substr(0, 400);
  EXPECT_NE(feedback.find(R"("request_id":"req-3")"), std::string::npos) << feedback;
  EXPECT_NE(feedback.find(R"("label":1)"), std::string::npos);
}

// The serving report (report.cc) the web UI's serving page shows: handed to the sink with the
// instance id, it names each route with its weight and version, the shadow, and per version its
// role, requests, errors and latency quantiles.
TEST_F(ServerTest, ServingReportNamesRoutesTrafficAndLatency) {
  ServeConfig cfg;
  cfg.targets = {{"m/v1", 75}, {"m/v2", 25}, {"m@live", 100, true}};
  MoveAlias("m/v2");
  cfg.report_interval_s = 0.05;
  cfg.instance = "test-1";
  CollectReports(&cfg);
  Start(cfg);
  Conn c(server_->port());
  for (int i = 0; i < 20; i++) ASSERT_EQ(c.Do("POST", "/v2/models/m/infer", OneRow(1)).status, 200);
  EXPECT_EQ(c.Do("POST", "/v2/models/m/infer", "{not json").status, 400);
  // Wait for a report made after the traffic (the first is made as the server starts).
  nlohmann::json last;
  for (int tries = 0; tries < 600; tries++) {
    if (std::string r = LatestReport(); !r.empty()) last = nlohmann::json::parse(r);
    uint64_t answered = 0;
    for (const auto& v : last.value("models", nlohmann::json::array())[0].value("versions", nlohmann::json::array()))
      if (v["role"] == "primary") answered += v["requests"].get<uint64_t>() - v["client_errors"].get<uint64_t>();
    if (answered == 20) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  {
    std::lock_guard<std::mutex> lock(reports_mu_);
    ASSERT_FALSE(reports_.empty());
    EXPECT_EQ(reports_.back().first, "test-1");
  }
  EXPECT_EQ(last["interval_s"], 0.05);
  ASSERT_EQ(last["models"].size(), 1u);
  const auto& m = last["models"][0];
  EXPECT_EQ(m["name"], "m");
  EXPECT_EQ(m["routes"], nlohmann::json::parse(R"([{"ref":"m/v1","weight":75,"version":"1","canary":null},
                                                   {"ref":"m/v2","weight":25,"version":"2","canary":null}])"));
  EXPECT_EQ(m["shadow"], nlohmann::json::parse(R"({"ref":"m@live","version":"2"})"));
  std::map<std::string, nlohmann::json> by;
  for (const auto& v : m["versions"]) by[v["version"].get<std::string>() + "/" + v["role"].get<std::string>()] = v;
  ASSERT_EQ(by.size(), 3u) << m.dump();
  const auto& v1 = by["1/primary"];
  const auto& v2 = by["2/primary"];
  EXPECT_EQ(v1["requests"].get<int>() + v2["requests"].get<int>(), 21);  // the bad body reached a version too
  EXPECT_EQ(v1["errors"].get<int>() + v2["errors"].get<int>(), 0);
  EXPECT_EQ(v1["client_errors"].get<int>() + v2["client_errors"].get<int>(), 1);
  EXPECT_EQ(by["2/shadow"]["ref"], "m@live");
  for (const char* q : {"p50", "p95", "p99"}) {
    ASSERT_TRUE(v1["latency_s"][q].is_number()) << v1.dump();
    EXPECT_GT(v1["latency_s"][q].get<double>(), 0);
  }
  EXPECT_LE(v1["latency_s"]["p50"].get<double>(), v1["latency_s"]["p99"].get<double>());
  ASSERT_TRUE(v1["traffic"].is_array() && !v1["traffic"].empty()) << v1.dump();  // (t, req/s) of each report
  EXPECT_LE(v1["traffic"].size(), 60u);
  EXPECT_EQ(v1["traffic"].back()[1], v1["req_per_s"]);
  EXPECT_TRUE(v1["drift"].is_null());    // no reference profile
  EXPECT_FALSE(v1["staleness"]["stale"].get<bool>());
}

// A running rollout's canary in the report: on the route it splits, and as a version of its own.
TEST_F(ServerTest, ServingReportShowsARolloutsCanary) {
  ServeConfig cfg;
  cfg.targets = {{"m@live"}};
  cfg.report_interval_s = 0.05;
  CollectReports(&cfg);
  Start(cfg);
  MoveRollout({7, "2", "m/v2", 25});
  server_->PollOnce();
  nlohmann::json m;
  for (int tries = 0; tries < 600; tries++) {
    if (std::string r = LatestReport(); !r.empty()) m = nlohmann::json::parse(r)["models"][0];
    if (m.is_object() && !m["routes"][0]["canary"].is_null()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(m.is_object());
  EXPECT_EQ(m["routes"], nlohmann::json::parse(R"([{"ref":"m@live","weight":100,"version":"1",
                                                    "canary":{"version":"2","weight":25,"rollout":7}}])"));
  std::set<std::string> roles;
  for (const auto& v : m["versions"]) roles.insert(v["version"].get<std::string>() + "/" + v["role"].get<std::string>());
  EXPECT_EQ(roles, (std::set<std::string>{"1/primary", "2/canary"}));
}

// Quality from feedback with the prediction log off (serve/quality.h): y = 1 + 2 + 3 = 6 for
// the first request, labeled 7; the second (y = 1) labeled 1; unknown ids and wrong labels are
// answered per item and counted, never in the numbers.
TEST_F(ServerTest, FeedbackJoinsWithTheLogOff) {
  ServeConfig cfg;
  cfg.monitoring.defaults.interval_s = 0.1;
  Start(cfg);
  Conn c(server_->port());
  auto a = c.Do("POST", "/v2/models/m/infer", OneRow(1, 1, 1), "X-Request-Id: fb-1\r\n");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.Header("x-request-id"), "fb-1");
  ASSERT_EQ(c.Do("POST", "/v2/models/m/infer", OneRow(1), "X-Request-Id: fb-2\r\n").status, 200);
  auto f = c.Do("POST", "/v2/models/m/feedback",
                R"([{"request_id": "fb-1", "label": 7}, {"request_id": "fb-2", "label": [1]}, {"request_id": "nope", "label": 1},)"
                R"( {"request_id": "fb-1", "label": 9}])");
  EXPECT_EQ(f.status, 200) << f.body;
  EXPECT_NE(f.body.find(R"({"request_id":"fb-1","result":"joined"},{"request_id":"fb-2","result":"joined"},)"
                        R"({"request_id":"nope","result":"unknown_request_id")"),
            std::string::npos)
      << f.body;
  EXPECT_NE(f.body.find(R"("joined":2,"recorded":0})"), std::string::npos) << f.body;
  EXPECT_NE(f.body.find(R"({"request_id":"fb-1","result":"duplicate")"), std::string::npos) << f.body;
  EXPECT_EQ(c.Do("POST", "/v2/models/m/feedback", R"({"request_id": "fb-1"})").status, 400);
  EXPECT_EQ(c.Do("POST", "/v2/models/m/feedback", R"([])").status, 400);
  // The collector publishes within a few intervals; no timing is asserted, only the numbers.
  std::string metrics;
  for (int i = 0; i < 200 && metrics.find("forja_model_quality_window_labels{model=\"m\",version=\"1\"} 2\n") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    metrics = c.Do("GET", "/metrics").body;
  }
  EXPECT_NE(metrics.find("forja_model_quality{model=\"m\",version=\"1\",metric=\"mae\"} 0.5\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("forja_model_quality{model=\"m\",version=\"1\",metric=\"rmse\"} 0.7071067812\n"), std::string::npos);
  EXPECT_NE(metrics.find("forja_model_quality{model=\"m\",version=\"1\",metric=\"mape\"} 0.07142857143\n"), std::string::npos);
  EXPECT_NE(metrics.find("forja_model_feedback_labels_total{model=\"m\",version=\"1\",result=\"joined\"} 2\n"), std::string::npos);
  EXPECT_NE(metrics.find("forja_model_feedback_labels_total{model=\"m\",version=\"1\",result=\"duplicate\"} 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("forja_model_feedback_labels_total{model=\"m\",version=\"\",result=\"unknown_request_id\"} 1\n"),
            std::string::npos);
  EXPECT_EQ(metrics.find("forja_model_quality_estimated{"), std::string::npos);  // a regressor: no estimate
}

TEST_F(ServerTest, ConfigFromForjaYaml) {
  std::string path = (root_ / "forja.yaml").string();
  std::ofstream(path) << "stages: {}\nserving:\n  max_batch_size: 8\n  models:\n    m: {workers: 2}\n"
                         "  prediction_log: {sample: 0.5}\n";
  ServeConfig cfg;
  ASSERT_TRUE(LoadServingConfig(path, &cfg).ok());
  EXPECT_EQ(cfg.batching.max_batch_size, 8);
  EXPECT_EQ(cfg.models["m"].max_batch_size, 8);
  EXPECT_EQ(cfg.models["m"].workers, 2);
  EXPECT_EQ(cfg.log.sample, 0.5);
  std::ofstream(path) << "serving:\n  models:\n    m:\n      max_batch: 8\n";
  Status st = LoadServingConfig(path, &cfg);
  EXPECT_NE(st.message().find("forja.yaml:4: serving.models.m.max_batch: unknown setting"), std::string::npos) << st.message();
  std::ofstream(path) << "serving:\n  prediction_log: {sample: 2}\n";
  st = LoadServingConfig(path, &cfg);
  EXPECT_NE(st.message().find("forja.yaml:2: serving.prediction_log.sample: must be between 0 and 1"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace forja::serve
