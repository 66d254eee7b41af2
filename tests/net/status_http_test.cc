// The one Status -> HTTP table both servers answer with (net/status_http.h).
#include "forja/net/status_http.h"

#include <gtest/gtest.h>

namespace forja::net {
namespace {

TEST(StatusHttp, EveryCodeHasItsStatus) {
  EXPECT_EQ(HttpStatusFor(Status::Ok()), 200);
  EXPECT_EQ(HttpStatusFor(Status::User("x")), 400);
  EXPECT_EQ(HttpStatusFor(Status::Usage("x")), 400);
  EXPECT_EQ(HttpStatusFor(Status::Exists("x")), 400);  // MLflow's RESOURCE_ALREADY_EXISTS
  EXPECT_EQ(HttpStatusFor(Status::Unauthenticated("x")), 401);
  EXPECT_EQ(HttpStatusFor(Status::Denied("x")), 403);
  EXPECT_EQ(HttpStatusFor(Status::NotFound("x")), 404);
  EXPECT_EQ(HttpStatusFor(Status::Refused("x")), 409);
  EXPECT_EQ(HttpStatusFor(Status::Conflict("x")), 503);
  EXPECT_EQ(HttpStatusFor(Status::Remote("x")), 503);
  EXPECT_EQ(HttpStatusFor(Status::Unavailable("x")), 503);
  EXPECT_EQ(HttpStatusFor(Status::DeadlineExceeded("x")), 504);
  EXPECT_EQ(HttpStatusFor(Status::Corrupt("x")), 500);
  EXPECT_EQ(HttpStatusFor(Status::Io("x")), 500);
  EXPECT_EQ(HttpStatusFor(Status::Internal("x")), 500);
}

// A client's mistake is never a 5xx: MLflow's clients retry those for a minute.
TEST(StatusHttp, ClientMistakesAre4xx) {
  for (Code c : {Code::kUser, Code::kUsage, Code::kNotFound, Code::kExists, Code::kDenied, Code::kUnauthenticated,
                 Code::kRefused}) {
    int s = HttpStatusFor(c);
    EXPECT_TRUE(s >= 400 && s < 500) << static_cast<int>(c) << " -> " << s;
  }
}

}  // namespace
}  // namespace forja::net
