// The S3 remote against a real S3 server (s3rver, started by tests/lib/s3rver.sh),
// with Debian's aws cli as an independent witness of what landed where.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

#include "forja/core/fs.h"
#include "forja/core/parallel.h"
#include "forja/core/subprocess.h"
#include "forja/remote/s3_remote.h"

namespace forja {
namespace {

const std::string kLib = std::string(FORJA_SOURCE_DIR) + "/tests/lib/s3rver.sh";
const char kBucket[] = "forja-test";

// What s3rver_start exported; the server runs for the whole test program.
struct Server {
  std::string endpoint, vhost_endpoint, pid, dir, log;
};
Server g_server;

std::string Shell(const std::string& script, int* code = nullptr) {
  auto r = RunProcess({"bash", "-c", script});
  if (!r.ok()) return "cannot run bash: " + r.status().message();
  if (code) *code = r->exit_code;
  return r->out + r->err;
}

// Starts s3rver once per test program, on first use, so the tests that need no
// server (and --gtest_list_tests) do not pay for it.
void StartServer() {
  static bool tried = false;
  if (tried) return;
  tried = true;
  int code = -1;
  std::string out = Shell("export S3RVER_OWNER_PID=" + std::to_string(::getpid()) +
                              "; source '" + kLib + "' && s3rver_start " + kBucket +
                              " forja-other >&2 && echo \"@@ $S3_ENDPOINT $S3RVER_PID "
                              "$S3RVER_DIR $S3RVER_LOG $S3_VHOST_ENDPOINT\"",
                          &code);
  size_t at = out.find("@@ ");
  if (code != 0 || at == std::string::npos) {
    ADD_FAILURE() << "s3rver did not start (run scripts/setup?):\n" << out;
    return;
  }
  std::istringstream in(out.substr(at + 3));
  in >> g_server.endpoint >> g_server.pid >> g_server.dir >> g_server.log >>
      g_server.vhost_endpoint;
}

// The account s3rver_start exports to shell tests (set per test: other tests
// in this program change these variables).
void UseServerAccount() {
  ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
  ::setenv("AWS_DEFAULT_REGION", "us-east-1", 1);
  ::setenv("AWS_REGION", "us-east-1", 1);
  ::unsetenv("AWS_SESSION_TOKEN");
  ::unsetenv("AWS_PROFILE");
  ::unsetenv("AWS_SHARED_CREDENTIALS_FILE");
}

class StopServer : public ::testing::Environment {
 public:
  void TearDown() override {
    if (g_server.pid.empty()) return;
    Shell("source '" + kLib + "'; S3RVER_PID=" + g_server.pid + " S3RVER_DIR='" + g_server.dir +
          "' s3rver_stop");
  }
};

const auto* const g_env = ::testing::AddGlobalTestEnvironment(new StopServer);

std::string TempDir() {
  char tmpl[] = "/tmp/forja-s3-test-XXXXXX";
  return ::mkdtemp(tmpl);
}

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(&s[i], &v, std::min<size_t>(8, n - i));
  }
  return s;
}

// Runs Debian's aws cli (never a pyenv shim) against the test server.
std::string Aws(const std::string& args, int* code = nullptr) {
  return Shell("/usr/bin/aws --endpoint-url " + g_server.endpoint + " " + args, code);
}

// Number of requests s3rver has answered so far: it logs one line per response,
// ending in "<time>ms <length>" (colored, and with the start of the line cut).
size_t RequestsServed() {
  static const std::regex kResponse(R"(\d+(\.\d+)?m?s (\d+(\.\d+)?[kmg]?b|-)\s*$)");
  std::ifstream in(g_server.log);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    line = std::regex_replace(line, std::regex("\x1b\\[[0-9;]*m"), "");
    if (std::regex_search(line, kResponse)) n++;
  }
  return n;
}

class S3RemoteTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { StartServer(); }

  void SetUp() override {
    ASSERT_FALSE(g_server.endpoint.empty()) << "no s3rver";
    UseServerAccount();
    dir_ = TempDir();
    // A prefix of its own per test, so tests never see each other's objects.
    prefix_ = std::string("t/") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  void TearDown() override { RemoveTree(dir_).ok(); }

  std::unique_ptr<Remote> Open(std::map<std::string, std::string> options = {},
                               const std::string& bucket = kBucket) {
    options.emplace("endpoint", g_server.endpoint);
    auto r = OpenS3Remote({"store", "s3://" + bucket + "/" + prefix_, options});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? std::move(*r) : nullptr;
  }

  // Writes `data` to a local file; returns its oid.
  Oid MakeFile(const std::string& name, const std::string& data) {
    std::ofstream(dir_ + "/" + name, std::ios::binary) << data;
    return Sha256::Of(data);
  }

  std::string GetBytes(Remote* r, const Oid& oid, Status* st) {
    std::string path = dir_ + "/get-" + oid.Hex();
    Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644));
    *st = r->Get(oid, fd.get());
    return ReadFile(path).ok() ? *ReadFile(path) : "";
  }

  std::string Key(const Oid& oid) const { return prefix_ + "/" + ObjectKey(oid); }

  std::string dir_, prefix_;
};

TEST_F(S3RemoteTest, PutGetHasListRemove) {
  auto r = Open();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->Describe(), "s3://forja-test/" + prefix_ + " (" + g_server.endpoint + ")");
  Oid a = MakeFile("a", "hello s3\n");
  Oid b = MakeFile("b", "");  // empty objects are objects too
  Oid absent = Sha256::Of("never stored");
  ASSERT_TRUE(r->Put(a, dir_ + "/a", 9).ok());
  Status st = r->Put(b, dir_ + "/b", 0);
  ASSERT_TRUE(st.ok()) << st.message();

  auto has = r->Has({a, absent, b}, 4);
  ASSERT_TRUE(has.ok()) << has.status().message();
  EXPECT_EQ(*has, (std::vector<bool>{true, false, true}));

  EXPECT_EQ(GetBytes(r.get(), a, &st), "hello s3\n");
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(GetBytes(r.get(), b, &st), "");
  EXPECT_TRUE(st.ok()) << st.message();

  auto list = r->List();
  ASSERT_TRUE(list.ok()) << list.status().message();
  std::sort(list->begin(), list->end());
  std::vector<Oid> want{a, b};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(*list, want);

  ASSERT_TRUE(r->Remove(a).ok());
  EXPECT_EQ(*r->Has({a, b}, 2), (std::vector<bool>{false, true}));
}

TEST_F(S3RemoteTest, GetTruncatesWhatTheFdHeld) {
  auto r = Open();
  ASSERT_TRUE(r);
  Oid a = MakeFile("a", "short");
  ASSERT_TRUE(r->Put(a, dir_ + "/a", 5).ok());
  std::string path = dir_ + "/partial";
  Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644));
  ASSERT_EQ(::write(fd.get(), "left over from a failed try", 27), 27);
  ASSERT_TRUE(r->Get(a, fd.get()).ok());
  EXPECT_EQ(*ReadFile(path), "short");
}

TEST_F(S3RemoteTest, GetOfAMissingObjectIsNotFound) {
  auto r = Open();
  ASSERT_TRUE(r);
  Status st;
  GetBytes(r.get(), Sha256::Of("nothing"), &st);
  EXPECT_EQ(st.code(), Code::kNotFound) << st.message();
  EXPECT_NE(st.message().find(ObjectKey(Sha256::Of("nothing"))), std::string::npos);
}

TEST_F(S3RemoteTest, ObjectsAreWhereAwsCliFindsThem) {
  auto r = Open();
  ASSERT_TRUE(r);
  std::string data = RandomBytes(100000, 1);
  Oid oid = MakeFile("x", data);
  ASSERT_TRUE(r->Put(oid, dir_ + "/x", data.size()).ok());

  int code = -1;
  std::string out = Aws(std::string("s3api head-object --bucket ") + kBucket + " --key " + Key(oid), &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("\"ContentLength\": 100000"), std::string::npos) << out;

  std::string hex = oid.Hex();
  out = Aws(std::string("s3 ls s3://") + kBucket + "/" + prefix_ + "/sha256/" + hex.substr(0, 2) + "/", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find(hex.substr(2)), std::string::npos) << out;

  std::string copy = dir_ + "/aws-copy";
  out = Aws(std::string("s3 cp --quiet s3://") + kBucket + "/" + Key(oid) + " " + copy, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(Shell("sha256sum " + copy + " | cut -d' ' -f1"), hex + "\n");
}

TEST_F(S3RemoteTest, ReadsWhatAwsCliWrote) {
  auto r = Open();
  ASSERT_TRUE(r);
  Oid oid = MakeFile("y", "written by aws\n");
  int code = -1;
  std::string out = Aws("s3 cp --quiet " + dir_ + "/y s3://" + kBucket + "/" + Key(oid), &code);
  ASSERT_EQ(code, 0) << out;
  // A stray key under sha256/ that is not an object name must be skipped.
  Aws("s3 cp --quiet " + dir_ + "/y s3://" + kBucket + "/" + prefix_ + "/sha256/README", &code);
  auto list = r->List();
  ASSERT_TRUE(list.ok()) << list.status().message();
  EXPECT_EQ(*list, std::vector<Oid>{oid});
  Status st;
  EXPECT_EQ(GetBytes(r.get(), oid, &st), "written by aws\n");
  EXPECT_TRUE(st.ok()) << st.message();
}

TEST_F(S3RemoteTest, QuarantineMovesTheObjectAside) {
  auto r = Open();
  ASSERT_TRUE(r);
  Oid oid = MakeFile("q", "suspicious bytes");
  ASSERT_TRUE(r->Put(oid, dir_ + "/q", 16).ok());
  Status st = r->Quarantine(oid);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(*r->Has({oid}, 1), std::vector<bool>{false});
  EXPECT_TRUE(r->List()->empty());
  int code = -1;
  std::string out = Aws(std::string("s3 cp --quiet s3://") + kBucket + "/" + prefix_ +
                            "/quarantine/" + oid.Hex() + " -",
                        &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "suspicious bytes");
  Status missing = r->Quarantine(Sha256::Of("absent"));
  EXPECT_EQ(missing.code(), Code::kNotFound);
  EXPECT_NE(missing.message().find(Key(Sha256::Of("absent"))), std::string::npos)
      << missing.message();
}

TEST_F(S3RemoteTest, MultipartPutRoundTripsByteExact) {
  auto r = Open({{"multipart_threshold", "5MiB"}, {"multipart_chunk", "5MiB"}});
  ASSERT_TRUE(r);
  std::string data = RandomBytes((12 << 20) + 12345, 2);  // 3 parts, the last one short
  Oid oid = MakeFile("big", data);
  Status st = r->Put(oid, dir_ + "/big", data.size());
  ASSERT_TRUE(st.ok()) << st.message();
  std::string got = GetBytes(r.get(), oid, &st);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data);
  // s3rver logs each part it stores: three parts went up, not one PUT.
  std::string log = *ReadFile(g_server.log);
  EXPECT_NE(log.find("Stored part 3 of"), std::string::npos);
  EXPECT_EQ(log.find("Stored part 4 of"), std::string::npos);
  int code = -1;
  std::string out = Aws(std::string("s3api head-object --bucket ") + kBucket + " --key " + Key(oid), &code);
  EXPECT_NE(out.find("\"ContentType\": \"application/octet-stream\""), std::string::npos) << out;
  std::string copy = dir_ + "/aws-big";
  Aws(std::string("s3 cp --quiet s3://") + kBucket + "/" + Key(oid) + " " + copy, &code);
  EXPECT_EQ(Shell("sha256sum " + copy + " | cut -d' ' -f1"), oid.Hex() + "\n");
}

TEST_F(S3RemoteTest, MultipartRefusesAFileThatNoLongerMatchesItsOid) {
  auto r = Open({{"multipart_threshold", "5MiB"}});
  ASSERT_TRUE(r);
  std::string data = RandomBytes(6 << 20, 3);
  Oid wrong = Sha256::Of("something else");
  MakeFile("big", data);
  Status st = r->Put(wrong, dir_ + "/big", data.size());
  EXPECT_EQ(st.code(), Code::kCorrupt) << st.message();
  EXPECT_EQ(*r->Has({wrong}, 1), std::vector<bool>{false});
}

TEST_F(S3RemoteTest, HasOverManyOidsListsInsteadOfProbing) {
  auto r = Open();
  ASSERT_TRUE(r);
  // More than one listing page (1000 keys), so continuation tokens are followed.
  const size_t kStored = 1100;
  std::vector<Oid> stored(kStored);
  for (size_t i = 0; i < kStored; i++) stored[i] = MakeFile("f" + std::to_string(i), std::to_string(i));
  Status st = ParallelFor(kStored, 8, [&](size_t i) {
    return r->Put(stored[i], dir_ + "/f" + std::to_string(i), std::to_string(i).size());
  });
  ASSERT_TRUE(st.ok()) << st.message();

  std::vector<Oid> query = stored;
  for (int i = 0; i < 300; i++) query.push_back(Sha256::Of("absent " + std::to_string(i)));
  size_t before = RequestsServed();
  auto has = r->Has(query, 8);
  size_t requests = RequestsServed() - before;
  ASSERT_TRUE(has.ok()) << has.status().message();
  for (size_t i = 0; i < query.size(); i++) EXPECT_EQ((*has)[i], i < kStored) << i;
  // One page of shard 00 to size the remote, then the 2 pages of the listing.
  EXPECT_EQ(requests, 3u) << "Has should list, not HEAD " << query.size() << " keys";

  auto list = r->List();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), kStored);
}

TEST_F(S3RemoteTest, ConcurrentUseFromManyThreads) {
  auto r = Open();
  ASSERT_TRUE(r);
  const size_t n = 64;
  std::vector<Oid> oids(n);
  for (size_t i = 0; i < n; i++) oids[i] = MakeFile("c" + std::to_string(i), RandomBytes(5000 + i, i));
  ASSERT_TRUE(ParallelFor(n, 8, [&](size_t i) {
                return r->Put(oids[i], dir_ + "/c" + std::to_string(i), 5000 + i);
              }).ok());
  std::atomic<int> bad{0};
  ASSERT_TRUE(ParallelFor(n, 8, [&](size_t i) {
                Status st;
                if (GetBytes(r.get(), oids[i], &st) != RandomBytes(5000 + i, i) || !st.ok()) bad++;
                return Status::Ok();
              }).ok());
  EXPECT_EQ(bad.load(), 0);
}

TEST_F(S3RemoteTest, ProfileFromACredentialsFile) {
  std::string creds = dir_ + "/credentials";
  std::ofstream(creds) << "[default]\naws_access_key_id=nobody\naws_secret_access_key=x\n"
                          "[s3rver]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n";
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", creds.c_str(), 1);
  auto r = Open({{"profile", "s3rver"}});
  ::unsetenv("AWS_SHARED_CREDENTIALS_FILE");
  ASSERT_TRUE(r);
  auto list = r->List();
  EXPECT_TRUE(list.ok()) << list.status().message();
}

TEST_F(S3RemoteTest, WrongAccessKeyGetsTheCredentialsMessage) {
  // s3rver checks the access key id but not SigV4 signatures, so a wrong
  // secret cannot be caught here; an unknown key id gives the same 403 path.
  ::setenv("AWS_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG", 1);
  auto r = Open();
  ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  ASSERT_TRUE(r);
  auto list = r->List();
  EXPECT_EQ(list.status().code(), Code::kRemote);
  EXPECT_NE(list.status().message().find(
                "remote 'store': S3 refused the credentials (403 InvalidAccessKeyId: "),
            std::string::npos)
      << list.status().message();
  EXPECT_NE(list.status().message().find(
                "check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the profile"),
            std::string::npos);
  Oid a = MakeFile("a", "x");
  Status st = r->Put(a, dir_ + "/a", 1);
  EXPECT_NE(st.message().find("S3 refused the credentials"), std::string::npos) << st.message();
  auto has = r->Has({a}, 1);  // HEAD: no error document, only the status
  EXPECT_NE(has.status().message().find("S3 refused the credentials (403"), std::string::npos)
      << has.status().message();
}

TEST_F(S3RemoteTest, MissingBucketSaysCreateItFirst) {
  auto r = Open({}, "no-such-bucket");
  ASSERT_TRUE(r);
  std::string want = "remote 'store': bucket 'no-such-bucket' does not exist at " +
                     g_server.endpoint + "; create it first";
  auto list = r->List();
  EXPECT_EQ(list.status().code(), Code::kRemote);
  EXPECT_EQ(list.status().message(), want);
  Oid a = MakeFile("a", "x");
  EXPECT_EQ(r->Put(a, dir_ + "/a", 1).message(), want);
}

TEST_F(S3RemoteTest, VirtualHostAddressing) {
  // <bucket>.s3.localhost: curl resolves *.localhost to loopback by itself.
  auto r = Open({{"endpoint", g_server.vhost_endpoint}, {"addressing", "virtual"}});
  ASSERT_TRUE(r);
  Oid oid = MakeFile("v", "by host name");
  Status st = r->Put(oid, dir_ + "/v", 12);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(GetBytes(r.get(), oid, &st), "by host name");
  EXPECT_EQ(*r->List(), std::vector<Oid>{oid});
  int code = -1;
  Aws(std::string("s3api head-object --bucket ") + kBucket + " --key " + Key(oid), &code);
  EXPECT_EQ(code, 0);  // the same object a path-style client sees
}

TEST(S3Open, UnreachableServerFailsAfterTheRetries) {
  ::setenv("AWS_ACCESS_KEY_ID", "AKIDFAKE", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
  ::setenv("FORJA_S3_RETRY_BASE_MS", "1", 1);
  // Port 9 (discard) has no listener here: every connect is refused at once.
  auto r = OpenS3Remote({"store", "s3://b/p", {{"endpoint", "http://127.0.0.1:9"}}});
  ASSERT_TRUE(r.ok());
  auto list = (*r)->List();
  EXPECT_EQ(list.status().code(), Code::kRemote);
  EXPECT_EQ(list.status().message(),
            "remote 'store': cannot reach http://127.0.0.1:9 (Couldn't connect to server) after "
            "5 tries");
  auto three = OpenS3Remote({"store", "s3://b/p", {{"endpoint", "http://127.0.0.1:9"},
                                                   {"retries", "3"}}});
  std::string path = "/tmp/forja-s3-unreachable-" + std::to_string(::getpid());
  Fd fd(::open(path.c_str(), O_RDWR | O_CREAT, 0644));
  Status st = (*three)->Get(Sha256::Of("x"), fd.get());
  EXPECT_NE(st.message().find("after 3 tries"), std::string::npos) << st.message();
  ::unlink(path.c_str());
  ::unsetenv("FORJA_S3_RETRY_BASE_MS");
}

TEST(S3Open, NoCredentialsIsAUserErrorSayingWhatToSet) {
  std::string key = std::getenv("AWS_ACCESS_KEY_ID") ? std::getenv("AWS_ACCESS_KEY_ID") : "";
  std::string secret = std::getenv("AWS_SECRET_ACCESS_KEY") ? std::getenv("AWS_SECRET_ACCESS_KEY") : "";
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
  auto r = OpenRemote({"store", "s3://b/p", {}});
  ::unsetenv("AWS_SHARED_CREDENTIALS_FILE");
  ::setenv("AWS_ACCESS_KEY_ID", key.c_str(), 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", secret.c_str(), 1);
  EXPECT_EQ(r.status().code(), Code::kUser);
  EXPECT_NE(r.status().message().find("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
            std::string::npos)
      << r.status().message();
}

TEST(S3Open, UnknownOptionIsNamed) {
  auto r = OpenRemote({"store", "s3://b/p", {{"regoin", "eu-west-1"}}});
  EXPECT_EQ(r.status().code(), Code::kUser);
  EXPECT_NE(r.status().message().find("'regoin'"), std::string::npos);
}

}  // namespace
}  // namespace forja
