// The S3 remote against a scripted server: retries, what is and is not retried,
// the messages users see, and what goes on the wire (payload hashes, aborts).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>

#include "forja/core/fs.h"
#include "forja/remote/s3_remote.h"
#include "forja/remote/sigv4.h"
#include "fake_s3.h"

namespace forja {
namespace {

using testing::FakeReply;
using testing::FakeRequest;
using testing::FakeS3;

const char kEmptyList[] =
    "<?xml version=\"1.0\"?><ListBucketResult><IsTruncated>false</IsTruncated>"
    "</ListBucketResult>";

class S3FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/forja-s3-faults-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    ::setenv("AWS_ACCESS_KEY_ID", "AKIDFAKE", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    ::unsetenv("AWS_SESSION_TOKEN");
    ::setenv("FORJA_S3_RETRY_BASE_MS", "1", 1);
  }
  void TearDown() override {
    ::unsetenv("FORJA_S3_RETRY_BASE_MS");
    RemoveTree(dir_).ok();
  }

  std::unique_ptr<Remote> Open(const FakeS3& server,
                               std::map<std::string, std::string> options = {}) {
    options.emplace("endpoint", server.endpoint());
    auto r = OpenS3Remote({"store", "s3://bkt/pre", options});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? std::move(*r) : nullptr;
  }

  std::string dir_;
};

TEST_F(S3FaultTest, SlowDownAndServerErrorsAreRetried) {
  FakeS3 server([](const FakeRequest&, int i) {
    if (i == 0) return FakeS3::Error(503, "SlowDown", "Please reduce your request rate.");
    if (i == 1) return FakeS3::Error(500, "InternalError", "We encountered an internal error.");
    if (i == 2) return FakeReply{429, ""};
    return FakeReply{200, kEmptyList};
  });
  auto r = Open(server);
  auto list = r->List();
  ASSERT_TRUE(list.ok()) << list.status().message();
  EXPECT_EQ(server.requests().size(), 4u);
  EXPECT_EQ(server.requests()[0].target, "/bkt?list-type=2&prefix=pre%2Fsha256%2F");
}

TEST_F(S3FaultTest, PersistentSlowDownGivesUpWithOneMessage) {
  FakeS3 server([](const FakeRequest&, int) {
    return FakeS3::Error(503, "SlowDown", "Please reduce your request rate.");
  });
  auto r = Open(server, {{"retries", "3"}});
  Status st = r->Remove(Sha256::Of("x"));
  EXPECT_EQ(st.code(), Code::kRemote);
  EXPECT_EQ(st.message(), "remote 'store': S3 kept failing DELETE s3://bkt/pre/" +
                              ObjectKey(Sha256::Of("x")) +
                              " (503 SlowDown: Please reduce your request rate.) after 3 tries");
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST_F(S3FaultTest, RefusedSignatureIsNotRetriedAndSaysWhatToCheck) {
  FakeS3 server([](const FakeRequest&, int) {
    return FakeS3::Error(403, "SignatureDoesNotMatch",
                         "The request signature we calculated does not match the signature "
                         "you provided. Check your key and signing method.");
  });
  auto r = Open(server);
  auto list = r->List();
  EXPECT_EQ(list.status().code(), Code::kRemote);
  EXPECT_EQ(list.status().message(),
            "remote 'store': S3 refused the credentials (403 SignatureDoesNotMatch: The request "
            "signature we calculated does not match the signature you provided. Check your key "
            "and signing method.); check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the profile "
            "(these came from the environment (AWS_ACCESS_KEY_ID))");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(S3FaultTest, WrongRegionNamesTheRightOne) {
  FakeS3 server([](const FakeRequest&, int) {
    FakeReply r = FakeS3::Error(301, "PermanentRedirect",
                                "The bucket you are attempting to access must be addressed "
                                "using the specified endpoint.");
    r.headers = {{"x-amz-bucket-region", "eu-west-1"}};
    return r;
  });
  auto r = Open(server);
  EXPECT_EQ(r->List().status().message(),
            "remote 'store': bucket 'bkt' is in region 'eu-west-1', not 'us-east-1'; set the "
            "remote's region option to eu-west-1");
  // HEAD gets no error document: the header alone must do.
  EXPECT_NE(r->Has({Sha256::Of("x")}, 1).status().message().find("region 'eu-west-1'"),
            std::string::npos);
}

TEST_F(S3FaultTest, GetRetryAfterACutConnectionStartsTheFileOver) {
  const std::string object = "the whole object, all of it";
  FakeS3 server([&](const FakeRequest&, int i) {
    FakeReply r{200, i == 0 ? object.substr(0, 10) : object};
    r.cut = i == 0;
    return r;
  });
  auto r = Open(server);
  std::string path = dir_ + "/dl";
  Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644));
  Status st = r->Get(Sha256::Of(object), fd.get());
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(*ReadFile(path), object);
}

TEST_F(S3FaultTest, PutSignsTheRealPayloadHash) {
  FakeS3 server([](const FakeRequest&, int) { return FakeReply{200, ""}; });
  auto r = Open(server);
  std::string data = "payload bytes";
  std::ofstream(dir_ + "/f") << data;
  Oid oid = Sha256::Of(data);
  ASSERT_TRUE(r->Put(oid, dir_ + "/f", data.size()).ok());
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "PUT");
  EXPECT_EQ(reqs[0].target, "/bkt/pre/" + ObjectKey(oid));
  EXPECT_EQ(reqs[0].headers["x-amz-content-sha256"], oid.Hex());
  EXPECT_EQ(reqs[0].body_size, data.size());
  EXPECT_NE(reqs[0].headers["authorization"].find(
                "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date"),
            std::string::npos)
      << reqs[0].headers["authorization"];
}

TEST_F(S3FaultTest, FailedMultipartUploadIsAborted) {
  FakeS3 server([](const FakeRequest& req, int) {
    if (req.method == "POST")
      return FakeReply{200, "<InitiateMultipartUploadResult><UploadId>U-1</UploadId>"
                            "</InitiateMultipartUploadResult>"};
    if (req.method == "PUT") return FakeS3::Error(403, "AccessDenied", "Access Denied");
    return FakeReply{204, ""};
  });
  auto r = Open(server, {{"multipart_threshold", "5MiB"}, {"multipart_chunk", "5MiB"}});
  std::string data((6 << 20) + 1, 'x');
  std::ofstream(dir_ + "/big") << data;
  Oid oid = Sha256::Of(data);
  Status st = r->Put(oid, dir_ + "/big", data.size());
  EXPECT_NE(st.message().find("S3 refused the credentials (403 AccessDenied: Access Denied)"),
            std::string::npos)
      << st.message();
  auto reqs = server.requests();
  ASSERT_GE(reqs.size(), 3u);
  EXPECT_EQ(reqs.front().target, "/bkt/pre/" + ObjectKey(oid) + "?uploads=");
  EXPECT_EQ(reqs.back().method, "DELETE");
  EXPECT_EQ(reqs.back().target, "/bkt/pre/" + ObjectKey(oid) + "?uploadId=U-1");
  // Each part is signed with its own hash, never UNSIGNED-PAYLOAD.
  const size_t kPart = 5 << 20;
  for (const auto& q : reqs) {
    if (q.method != "PUT") continue;
    bool first = q.target.find("partNumber=1&") != std::string::npos;
    std::string_view part = std::string_view(data).substr(first ? 0 : kPart, first ? kPart : std::string::npos);
    EXPECT_EQ(q.headers.at("x-amz-content-sha256"), HexSha256(part)) << q.target;
  }
}

// The ListObjectsV2 page a fake bucket holding `keys` gives for `req`.
std::string ListPage(const FakeRequest& req, const std::vector<std::string>& keys) {
  size_t at = req.target.find("prefix=");
  std::string prefix = req.target.substr(at + 7, req.target.find('&', at) - at - 7);
  for (size_t p; (p = prefix.find("%2F")) != std::string::npos;) prefix.replace(p, 3, "/");
  std::string xml = "<ListBucketResult><IsTruncated>false</IsTruncated>";
  for (const auto& k : keys)
    if (k.rfind(prefix, 0) == 0) xml += "<Contents><Key>" + k + "</Key></Contents>";
  return xml + "</ListBucketResult>";
}

std::vector<Oid> ManyOids(size_t n, const std::string& salt) {
  std::vector<Oid> v;
  for (size_t i = 0; i < n; i++) v.push_back(Sha256::Of(salt + std::to_string(i)));
  return v;
}

TEST_F(S3FaultTest, HasProbesAHugeRemoteInsteadOfListingIt) {
  // Shard 00 alone fills page after page: listing everything would cost more
  // requests than a HEAD per oid, so after a few pages Has switches to HEAD.
  FakeS3 server([](const FakeRequest& req, int) {
    if (req.method == "HEAD") return FakeReply{404, ""};
    return FakeReply{200, "<ListBucketResult><IsTruncated>true</IsTruncated>"
                          "<NextContinuationToken>more</NextContinuationToken>"
                          "</ListBucketResult>"};
  });
  auto r = Open(server);
  auto has = r->Has(ManyOids(1001, "huge"), 8);
  ASSERT_TRUE(has.ok()) << has.status().message();
  size_t lists = 0, heads = 0;
  for (const auto& q : server.requests()) (q.method == "HEAD" ? heads : lists)++;
  EXPECT_EQ(lists, 4u);  // ceil(1001 / 256) pages of shard 00
  EXPECT_EQ(heads, 1001u);
}

TEST_F(S3FaultTest, HasListsTheTouchedShardsOfAMidSizedRemote) {
  std::vector<std::string> keys;
  std::vector<Oid> stored = ManyOids(600, "stored");
  for (const Oid& o : stored) keys.push_back("pre/" + ObjectKey(o));
  // 100 keys in shard 00 suggest ~25600 objects: 26 pages in one listing.
  for (int i = 0; i < 100; i++) {
    std::string hex = Sha256::Of("filler" + std::to_string(i)).Hex();
    keys.push_back("pre/sha256/00/" + hex.substr(2));
  }
  FakeS3 server([&](const FakeRequest& req, int) {
    if (req.method == "HEAD") return FakeReply{404, ""};
    return FakeReply{200, ListPage(req, keys)};
  });
  auto r = Open(server);
  std::vector<Oid> query = ManyOids(500, "absent");
  query.insert(query.end(), stored.begin(), stored.end());
  auto has = r->Has(query, 8);
  ASSERT_TRUE(has.ok()) << has.status().message();
  for (size_t i = 0; i < query.size(); i++) EXPECT_EQ((*has)[i], i >= 500) << i;
  auto reqs = server.requests();
  std::set<std::string> targets;
  for (const auto& q : reqs) {
    EXPECT_EQ(q.method, "GET");
    targets.insert(q.target);
  }
  EXPECT_LE(reqs.size(), 257u);  // the estimate, then one page per shard
  EXPECT_EQ(targets.size() + 1, reqs.size());  // shard 00 is listed twice, the rest once
}

TEST_F(S3FaultTest, CompleteThatFailsInsideA200IsAnError) {
  FakeS3 server([](const FakeRequest& req, int) {
    if (req.method == "POST" && req.target.find("uploads=") != std::string::npos)
      return FakeReply{200, "<InitiateMultipartUploadResult><UploadId>U-2</UploadId>"
                            "</InitiateMultipartUploadResult>"};
    if (req.method == "PUT") return FakeReply{200, "", {{"ETag", "\"abc\""}}};
    if (req.method == "POST")  // S3 may fail a completion after sending 200
      return FakeS3::Error(200, "InvalidPart", "One or more of the specified parts could not be found.");
    return FakeReply{204, ""};
  });
  auto r = Open(server, {{"multipart_threshold", "5MiB"}});
  std::string data(5 << 20, 'y');
  std::ofstream(dir_ + "/big") << data;
  Status st = r->Put(Sha256::Of(data), dir_ + "/big", data.size());
  EXPECT_EQ(st.code(), Code::kRemote);
  EXPECT_NE(st.message().find("200 InvalidPart"), std::string::npos) << st.message();
  EXPECT_EQ(server.requests().back().method, "DELETE");
}

}  // namespace
}  // namespace forja
