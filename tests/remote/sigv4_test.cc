// The signer against AWS's published examples ("Signature Calculations for the
// Authorization Header: Transferring Payload in a Single Chunk", S3 API
// reference), plus the small parsers the S3 remote relies on. No server needed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "forja/core/subprocess.h"
#include "forja/remote/s3_config.h"
#include "forja/remote/s3_xml.h"
#include "forja/remote/sigv4.h"

namespace forja {
namespace {

const SigV4Credentials kExampleKeys{"AKIAIOSFODNN7EXAMPLE",
                                    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const char kEmpty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const char kDate[] = "20130524T000000Z";

std::string Sign(const SigV4Request& req) {
  return SigV4Authorization(req, kExampleKeys, "us-east-1", "s3", kDate);
}

TEST(SigV4, AwsExampleGetObject) {
  SigV4Request req{"GET", "/test.txt", {}, {}, kEmpty};
  req.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                 {"Range", "bytes=0-9"},
                 {"x-amz-content-sha256", kEmpty},
                 {"x-amz-date", kDate}};
  std::string signed_headers;
  EXPECT_EQ(CanonicalRequest(req, &signed_headers),
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:" + std::string(kEmpty) + "\nx-amz-date:20130524T000000Z\n\n"
            "host;range;x-amz-content-sha256;x-amz-date\n" + kEmpty);
  EXPECT_EQ(HexSha256(CanonicalRequest(req, nullptr)),
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(Sign(req),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, AwsExamplePutObjectEncodesThePath) {
  std::string payload = HexSha256("Welcome to Amazon S3.");
  ASSERT_EQ(payload, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SigV4Request req{"PUT", "/test$file.text", {}, {}, payload};
  req.headers = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                 {"Host", "examplebucket.s3.amazonaws.com"},
                 {"x-amz-date", kDate},
                 {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                 {"x-amz-content-sha256", payload}};
  EXPECT_EQ(HexSha256(CanonicalRequest(req, nullptr)),
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_NE(CanonicalRequest(req, nullptr).find("\n/test%24file.text\n"), std::string::npos);
  EXPECT_EQ(Sign(req),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"
            "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, AwsExampleGetBucketLifecycleHasAnEmptyQueryValue) {
  SigV4Request req{"GET", "/", {{"lifecycle", ""}}, {}, kEmpty};
  req.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                 {"x-amz-date", kDate},
                 {"x-amz-content-sha256", kEmpty}};
  EXPECT_EQ(Sign(req).substr(Sign(req).find("Signature=") + 10),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4, AwsExampleListObjectsSortsTheQuery) {
  SigV4Request req{"GET", "/", {{"prefix", "J"}, {"max-keys", "2"}}, {}, kEmpty};
  req.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                 {"x-amz-date", kDate},
                 {"x-amz-content-sha256", kEmpty}};
  EXPECT_EQ(CanonicalQuery(req.query), "max-keys=2&prefix=J");
  EXPECT_EQ(Sign(req).substr(Sign(req).find("Signature=") + 10),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, UriEncodeFollowsAwsRules) {
  EXPECT_EQ(UriEncode("a-b_c.d~e/f g+h=i&", true), "a-b_c.d~e/f%20g%2Bh%3Di%26");
  EXPECT_EQ(UriEncode("p/sha256/", false), "p%2Fsha256%2F");
  EXPECT_EQ(UriEncode("\xc3\xa9", true), "%C3%A9");
  EXPECT_EQ(CanonicalQuery({{"b", "2"}, {"a", "x/y"}, {"uploads", ""}}),
            "a=x%2Fy&b=2&uploads=");
  EXPECT_EQ(AmzDate(1369353600), "20130524T000000Z");
}

// botocore (vendored in Debian's awscli) signs the same request: an independent
// implementation agreeing on a path-style request with a tricky query and key.
TEST(SigV4, AgreesWithBotocore) {
  if (::access("/usr/lib/python3/dist-packages/awscli/botocore/auth.py", R_OK) != 0)
    GTEST_SKIP() << "Debian's awscli is not installed";
  std::string token = "1/abc+def==";
  SigV4Request req{"GET", "/my-bucket/", {}, {}, kEmpty};
  req.query = {{"list-type", "2"}, {"prefix", "data set/sha256/"}, {"continuation-token", token}};
  req.headers = {{"host", "127.0.0.1:4568"}, {"x-amz-date", kDate},
                 {"x-amz-content-sha256", kEmpty}};
  std::string ours = Sign(req);
  std::string py = R"PY(
import sys
sys.path.insert(0, '/usr/lib/python3/dist-packages')
import awscli  # makes the vendored botocore importable as botocore
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
r = AWSRequest(method='GET', url='http://127.0.0.1:4568/my-bucket/?' + sys.argv[1])
r.headers['x-amz-date'] = '20130524T000000Z'
r.headers['x-amz-content-sha256'] = sys.argv[2]
r.context['timestamp'] = '20130524T000000Z'
a = S3SigV4Auth(Credentials('AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'), 's3', 'us-east-1')
cr = a.canonical_request(r)
sts = a.string_to_sign(r, cr)
print(a.signature(sts, r))
)PY";
  auto res = RunProcess({"/usr/bin/python3", "-c", py, CanonicalQuery(req.query), kEmpty});
  ASSERT_TRUE(res.ok()) << res.status().message();
  ASSERT_EQ(res->exit_code, 0) << res->err;
  std::string theirs = res->out.substr(0, res->out.find_last_not_of("\n") + 1);
  EXPECT_EQ(ours.substr(ours.find("Signature=") + 10), theirs);
}

TEST(S3Xml, FindsValuesAndDecodesEntities) {
  std::string xml =
      "<?xml version=\"1.0\"?><ListBucketResult><IsTruncated>true</IsTruncated>"
      "<Contents><Key>a&amp;b</Key><Size>1</Size></Contents>"
      "<Contents><Key>c&#x2F;d&#47;e</Key></Contents><KeyCount>2</KeyCount>"
      "<NextContinuationToken>t&lt;1&gt;</NextContinuationToken><Empty/></ListBucketResult>";
  EXPECT_EQ(XmlValues(xml, "Key"), (std::vector<std::string>{"a&b", "c/d/e"}));
  EXPECT_EQ(XmlValue(xml, "IsTruncated"), "true");
  EXPECT_EQ(XmlValue(xml, "KeyCount"), "2");
  EXPECT_EQ(XmlValue(xml, "NextContinuationToken"), "t<1>");
  EXPECT_EQ(XmlValue(xml, "Missing"), "");
  EXPECT_TRUE(XmlHas(xml, "Empty"));
  EXPECT_FALSE(XmlHas(xml, "Error"));
}

TEST(S3Xml, ReadsAnErrorDocument) {
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>NoSuchBucket</Code>\n"
      "  <Message>The specified bucket does not exist</Message>\n</Error>";
  EXPECT_TRUE(XmlHas(xml, "Error"));
  EXPECT_EQ(XmlValue(xml, "Code"), "NoSuchBucket");
  EXPECT_EQ(XmlValue(xml, "Message"), "The specified bucket does not exist");
}

// Clears the AWS_* variables a developer's shell may carry, for the test's length.
class CleanAwsEnv : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : kVars) {
      if (const char* old = std::getenv(v)) saved_.emplace_back(v, old);
      ::unsetenv(v);
    }
    dir_ = ::mkdtemp(tmpl_);
    ::setenv("HOME", dir_.c_str(), 1);
  }
  void TearDown() override {
    for (const char* v : kVars) ::unsetenv(v);
    for (const auto& [k, v] : saved_) ::setenv(k.c_str(), v.c_str(), 1);
    RunProcess({"rm", "-rf", dir_}).status().ok();
  }
  void WriteFile(const std::string& rel, const std::string& text) {
    RunProcess({"mkdir", "-p", dir_ + "/.aws"}).status().ok();
    std::ofstream(dir_ + "/" + rel) << text;
  }
  static constexpr const char* kVars[] = {
      "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
      "AWS_PROFILE",       "AWS_REGION",            "AWS_DEFAULT_REGION",
      "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "HOME",
      "AWS_ENDPOINT_URL",  "AWS_ENDPOINT_URL_S3"};
  std::vector<std::pair<std::string, std::string>> saved_;
  char tmpl_[32] = "/tmp/forja-s3cfg-XXXXXX";
  std::string dir_;
};

TEST_F(CleanAwsEnv, DefaultsFollowAwsCli) {
  auto c = ParseS3Config({"store", "s3://bkt/some/prefix/", {}});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->bucket, "bkt");
  EXPECT_EQ(c->prefix, "some/prefix");
  EXPECT_EQ(c->region, "us-east-1");
  EXPECT_EQ(c->endpoint, "https://s3.us-east-1.amazonaws.com");
  EXPECT_TRUE(c->virtual_host);
  EXPECT_EQ(c->tries, 5);
  EXPECT_EQ(c->multipart_threshold, 64u << 20);
  EXPECT_EQ(c->multipart_chunk, 16u << 20);

  ::setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
  auto d = ParseS3Config({"store", "s3://bkt", {{"endpoint", "http://127.0.0.1:9/"},
                                                {"multipart_threshold", "5MiB"},
                                                {"retries", "2"}}});
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->prefix, "");
  EXPECT_EQ(d->region, "eu-west-1");
  EXPECT_EQ(d->endpoint, "http://127.0.0.1:9");
  EXPECT_FALSE(d->virtual_host);
  EXPECT_EQ(d->tries, 2);
  EXPECT_EQ(d->multipart_threshold, 5u << 20);
}

TEST_F(CleanAwsEnv, EndpointFromTheEnvironmentLikeAwsCli) {
  ::setenv("AWS_ENDPOINT_URL", "http://minio.local:9000", 1);
  auto c = ParseS3Config({"s", "s3://b", {}});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->endpoint, "http://minio.local:9000");
  EXPECT_FALSE(c->virtual_host);
  ::setenv("AWS_ENDPOINT_URL_S3", "https://s3.example.com", 1);
  EXPECT_EQ(ParseS3Config({"s", "s3://b", {}})->endpoint, "https://s3.example.com");
  EXPECT_EQ(ParseS3Config({"s", "s3://b", {{"endpoint", "http://x:1"}}})->endpoint, "http://x:1");
  ::setenv("AWS_ENDPOINT_URL_S3", "s3.example.com", 1);
  auto bad = ParseS3Config({"s", "s3://b", {}});
  EXPECT_NE(bad.status().message().find("AWS_ENDPOINT_URL_S3"), std::string::npos);
}

TEST_F(CleanAwsEnv, RegionFromTheProfileInAwsConfig) {
  WriteFile(".aws/config", "[default]\nregion = ap-south-1\n[profile dev]\nregion=eu-north-1\n");
  EXPECT_EQ(ParseS3Config({"s", "s3://b", {}})->region, "ap-south-1");
  EXPECT_EQ(ParseS3Config({"s", "s3://b", {{"profile", "dev"}}})->region, "eu-north-1");
}

TEST_F(CleanAwsEnv, BadOptionsAreUserErrorsNamingThem) {
  auto unknown = ParseS3Config({"store", "s3://b/p", {{"endpiont", "http://x"}}});
  EXPECT_EQ(unknown.status().code(), Code::kUser);
  EXPECT_NE(unknown.status().message().find("unknown option 'endpiont'"), std::string::npos);
  auto small = ParseS3Config({"store", "s3://b/p", {{"multipart_chunk", "1MiB"}}});
  EXPECT_EQ(small.status().code(), Code::kUser);
  EXPECT_NE(small.status().message().find("multipart_chunk"), std::string::npos);
  EXPECT_EQ(ParseS3Config({"store", "s3://b", {{"addressing", "dns"}}}).status().code(),
            Code::kUser);
  EXPECT_EQ(ParseS3Config({"store", "s3://b", {{"endpoint", "127.0.0.1:9"}}}).status().code(),
            Code::kUser);
  EXPECT_EQ(ParseS3Config({"store", "s3:///p", {}}).status().code(), Code::kUser);
  EXPECT_EQ(ParseByteSize("16MiB").value(), 16u << 20);
  EXPECT_EQ(ParseByteSize("1g").value(), 1u << 30);
  EXPECT_FALSE(ParseByteSize("12 parsecs").ok());
}

TEST_F(CleanAwsEnv, CredentialsFromEnvironmentThenProfile) {
  S3Config cfg = *ParseS3Config({"store", "s3://b", {}});
  auto none = LoadS3Credentials("store", cfg);
  EXPECT_EQ(none.status().code(), Code::kUser);
  EXPECT_NE(none.status().message().find("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
            std::string::npos);

  WriteFile(".aws/credentials",
            "# comment\n[default]\naws_access_key_id = AKDEFAULT\naws_secret_access_key=SDEF\n"
            "\n[ci]\r\naws_access_key_id=AKCI\r\naws_secret_access_key = SCI\r\n"
            "aws_session_token = TOK\r\n");
  auto def = LoadS3Credentials("store", cfg);
  ASSERT_TRUE(def.ok()) << def.status().message();
  EXPECT_EQ(def->keys.access_key, "AKDEFAULT");
  EXPECT_EQ(def->keys.secret_key, "SDEF");

  ::setenv("AWS_PROFILE", "ci", 1);
  auto ci = LoadS3Credentials("store", *ParseS3Config({"store", "s3://b", {}}));
  ASSERT_TRUE(ci.ok()) << ci.status().message();
  EXPECT_EQ(ci->keys.access_key, "AKCI");
  EXPECT_EQ(ci->keys.session_token, "TOK");

  ::setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "SENV", 1);
  EXPECT_EQ(LoadS3Credentials("store", cfg)->keys.access_key, "AKENV");
  // A profile named on the remote itself wins, like aws --profile.
  auto named = LoadS3Credentials("store", *ParseS3Config({"store", "s3://b", {{"profile", "ci"}}}));
  EXPECT_EQ(named->keys.access_key, "AKCI");
  auto missing =
      LoadS3Credentials("store", *ParseS3Config({"store", "s3://b", {{"profile", "nope"}}}));
  EXPECT_EQ(missing.status().code(), Code::kUser);
  EXPECT_NE(missing.status().message().find("[nope]"), std::string::npos);

  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  EXPECT_EQ(LoadS3Credentials("store", cfg).status().code(), Code::kUser);
}

}  // namespace
}  // namespace forja
