// core/redact.h: the one rule for secrets in URIs (issue 11, finding 10).
#include "forja/core/redact.h"

#include <gtest/gtest.h>

namespace forja {
namespace {

TEST(RedactUri, HidesPasswordsKeepsTheRest) {
  EXPECT_EQ(RedactUri("postgresql://user:pw@host:5432/db"), "postgresql://user:***@host:5432/db");
  EXPECT_EQ(RedactUri("postgresql://user@host/db"), "postgresql://user@host/db");
  EXPECT_EQ(RedactUri("postgresql://u:p%40ss@h/db?sslmode=require&password=x"),
            "postgresql://u:***@h/db?sslmode=require&password=***");
  EXPECT_EQ(RedactUri("s3://AKIA:SECRET@bucket/prefix"), "s3://***@bucket/prefix");
  EXPECT_EQ(RedactUri("s3://bucket/prefix"), "s3://bucket/prefix");
  EXPECT_EQ(RedactUri("http://u:p@127.0.0.1:9000"), "http://u:***@127.0.0.1:9000");
  EXPECT_EQ(RedactUri("http://h/?X-Amz-Signature=abc#frag"), "http://h/?X-Amz-Signature=***#frag");
  EXPECT_EQ(RedactUri("sqlite:////abs/path.db"), "sqlite:////abs/path.db");
  EXPECT_EQ(RedactUri("/mnt/store"), "/mnt/store");
}

TEST(RedactUri, LibpqKeyValueStrings) {
  EXPECT_TRUE(IsLibpqKeyValue("host=h dbname=d"));
  EXPECT_TRUE(IsLibpqKeyValue("  host = h"));
  EXPECT_FALSE(IsLibpqKeyValue("postgresql://h/d?host=x"));
  EXPECT_FALSE(IsLibpqKeyValue("relative/path.db"));
  EXPECT_EQ(RedactUri("host=h password=secret dbname=d"), "host=h password=*** dbname=d");
  EXPECT_EQ(RedactUri("host=h password='a \\' b' dbname=d"), "host=h password=*** dbname=d");
  std::string uri, error;
  ASSERT_TRUE(LibpqKeyValueToUri("host=h port=5 dbname=d password='a b&c'", &uri, &error)) << error;
  EXPECT_EQ(uri, "postgresql://?host=h&port=5&dbname=d&password=a%20b%26c");
  EXPECT_FALSE(LibpqKeyValueToUri("host=h password='unterminated", &uri, &error));
  EXPECT_EQ(error.find("unterminated quoted value of 'password'"), 0u);
}

TEST(RedactUri, CredentialsAndScrubbing) {
  EXPECT_TRUE(HasCredentials("s3://KEY:SECRET@bucket/p"));
  EXPECT_TRUE(HasCredentials("s3://KEY@bucket/p"));
  EXPECT_TRUE(HasCredentials("http://u:p@host"));
  EXPECT_TRUE(HasCredentials("host=h password=x"));
  EXPECT_FALSE(HasCredentials("postgresql://user@host/db"));
  EXPECT_FALSE(HasCredentials("s3://bucket/prefix"));
  EXPECT_FALSE(HasCredentials("http://127.0.0.1:9000"));
  std::string uri = "postgresql://u:hunter22@h/db";
  EXPECT_EQ(RedactSecretsOf("opening " + uri + ": bad password hunter22", uri),
            "opening postgresql://u:***@h/db: bad password ***");
}

}  // namespace
}  // namespace forja
