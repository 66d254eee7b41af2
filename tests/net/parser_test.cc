// RequestParser: every framing rule, the limits, and incremental feeding.
#include <gtest/gtest.h>

#include <string>

#include "forja/net/http_parser.h"

namespace forja::net {
namespace {

struct Parsed {
  ParseStatus status = ParseStatus::kNeedMore;
  int http_status = 0;
  std::string message;
  size_t consumed = 0;
  Request req;
};

// Feeds `text` at once.
Parsed ParseAll(std::string_view text, ParserLimits limits = {}) {
  RequestParser p(limits);
  Parsed out;
  ParseResult r = p.Parse(text, out.req);
  out.status = r.status;
  out.http_status = r.http_status;
  out.message = r.message;
  out.consumed = r.consumed;
  return out;
}

// Feeds `text` `step` bytes at a time, keeping unconsumed bytes as the server does.
Parsed ParseInSteps(std::string_view text, size_t step, ParserLimits limits = {}) {
  RequestParser p(limits);
  Parsed out;
  std::string held;
  size_t fed = 0;
  while (true) {
    size_t n = std::min(step, text.size() - fed);
    held.append(text.substr(fed, n));
    fed += n;
    ParseResult r = p.Parse(held, out.req);
    held.erase(0, r.consumed);
    out.consumed += r.consumed;
    out.status = r.status;
    out.http_status = r.http_status;
    out.message = r.message;
    if (r.status != ParseStatus::kNeedMore || fed == text.size()) return out;
  }
}

int ErrorOf(std::string_view text, ParserLimits limits = {}) {
  Parsed p = ParseAll(text, limits);
  EXPECT_EQ(p.status, ParseStatus::kError) << text;
  return p.http_status;
}

TEST(Parser, SimpleGet) {
  std::string text = "GET /api/2.0/runs%20x/get?run_id=1&b=%20 HTTP/1.1\r\nHost: example\r\n"
                     "X-Thing:   spaced value \t\r\n\r\n";
  Parsed p = ParseAll(text);
  ASSERT_EQ(p.status, ParseStatus::kDone) << p.message;
  EXPECT_EQ(p.consumed, text.size());
  EXPECT_EQ(p.req.method, "GET");
  EXPECT_EQ(p.req.target, "/api/2.0/runs%20x/get?run_id=1&b=%20");
  EXPECT_EQ(p.req.path, "/api/2.0/runs x/get");
  EXPECT_EQ(p.req.query, "run_id=1&b=%20");
  ASSERT_EQ(p.req.headers.size(), 2u);
  EXPECT_EQ(p.req.headers[0].first, "host");
  EXPECT_EQ(p.req.Header("x-thing"), "spaced value");
  EXPECT_EQ(p.req.Header("absent"), "");
  EXPECT_TRUE(p.req.keep_alive);
  EXPECT_EQ(p.req.minor_version, 1);
  EXPECT_TRUE(p.req.body.empty());
}

TEST(Parser, QueryParams) {
  Parsed p = ParseAll("GET /x?a=1&b=two+words&a=%32&c&e=&%61%62=k HTTP/1.1\r\n\r\n");
  ASSERT_EQ(p.status, ParseStatus::kDone);
  EXPECT_EQ(p.req.Param("a"), "1");
  EXPECT_EQ(p.req.Params("a"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(p.req.Param("b"), "two words");
  EXPECT_TRUE(p.req.HasParam("c"));
  EXPECT_EQ(p.req.Param("c"), "");
  EXPECT_TRUE(p.req.HasParam("e"));
  EXPECT_FALSE(p.req.HasParam("zz"));
  EXPECT_EQ(p.req.Param("ab"), "k");
  Parsed bad = ParseAll("GET /x?p=100%&q=%zz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(bad.req.Param("p"), "100%");  // a stray '%' is literal
  EXPECT_EQ(bad.req.Param("q"), "%zz");
}

TEST(Parser, PathRules) {
  EXPECT_EQ(ErrorOf("GET /a/../b HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET /a/%2e%2e/b HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET /a/%2E%2E HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET /.. HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET /a%00b HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET /a%zz HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET /a%2 HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET a/b HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("OPTIONS * HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET http://h/x HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET /a\x7f HTTP/1.1\r\n\r\n"), 400);
  for (const char* ok : {"/a..b", "/..a/b", "/a/..b/", "/a/.", "/%2e/x"}) {
    Parsed p = ParseAll(std::string("GET ") + ok + " HTTP/1.1\r\n\r\n");
    EXPECT_EQ(p.status, ParseStatus::kDone) << ok << ": " << p.message;
  }
  // '..' in the query is not a path segment; '+' in a path is not a space.
  Parsed q = ParseAll("GET /a+b?x=/../ HTTP/1.1\r\n\r\n");
  ASSERT_EQ(q.status, ParseStatus::kDone);
  EXPECT_EQ(q.req.path, "/a+b");
}

TEST(Parser, Versions) {
  Parsed p10 = ParseAll("GET / HTTP/1.0\r\n\r\n");
  ASSERT_EQ(p10.status, ParseStatus::kDone);
  EXPECT_EQ(p10.req.minor_version, 0);
  EXPECT_FALSE(p10.req.keep_alive);
  Parsed p10ka = ParseAll("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  EXPECT_TRUE(p10ka.req.keep_alive);
  Parsed p11c = ParseAll("GET / HTTP/1.1\r\nConnection: foo, CLOSE\r\n\r\n");
  EXPECT_FALSE(p11c.req.keep_alive);
  EXPECT_EQ(ErrorOf("GET / HTTP/2.0\r\n\r\n"), 505);
  EXPECT_EQ(ErrorOf("GET / HTTP/1.2\r\n\r\n"), 505);
  EXPECT_EQ(ErrorOf("GET / HTTP/0.9\r\n\r\n"), 505);
  EXPECT_EQ(ErrorOf("GET / HTTP/1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET / http/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET / HTTP/1.1 \r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET /\r\n\r\n"), 400);
}

TEST(Parser, RequestLine) {
  EXPECT_EQ(ParseAll("M-SEARCH.x~ / HTTP/1.1\r\n\r\n").req.method, "M-SEARCH.x~");
  EXPECT_EQ(ErrorOf("GET  / HTTP/1.1\r\n\r\n"), 400);  // two spaces
  EXPECT_EQ(ErrorOf("G(T / HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf(" GET / HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET /\r HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET / HTTP/1.1\rX\r\n\r\n"), 400);
}

TEST(Parser, HeaderSyntax) {
  EXPECT_EQ(ErrorOf("GET / HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET / HTTP/1.1\r\nA: 1\r\n\tfolded\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET / HTTP/1.1\r\nA : 1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET / HTTP/1.1\r\nNoColon\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET / HTTP/1.1\r\n: v\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET / HTTP/1.1\r\nA: x\ry\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf(std::string("GET / HTTP/1.1\r\nA: x\0y\r\n\r\n", 27)), 400);
  EXPECT_EQ(ErrorOf("GET / HTTP/1.1\r\nA: x\x01y\r\n\r\n"), 400);
  Parsed p = ParseAll("GET / HTTP/1.1\r\nCoNtEnT-TyPe: text/plain\r\nA:\r\nB: tab\tinside\r\nC: \xc3\xa9\r\n\r\n");
  ASSERT_EQ(p.status, ParseStatus::kDone) << p.message;
  EXPECT_EQ(p.req.Header("content-type"), "text/plain");
  EXPECT_EQ(p.req.Header("a"), "");
  EXPECT_EQ(p.req.Header("b"), "tab\tinside");
  EXPECT_EQ(p.req.Header("c"), "\xc3\xa9");  // obs-text is allowed in values
}

TEST(Parser, BareLfAndLeadingEmptyLines) {
  Parsed p = ParseAll("\r\n\nGET /x HTTP/1.1\nHost: h\nContent-Length: 2\n\nok");
  ASSERT_EQ(p.status, ParseStatus::kDone) << p.message;
  EXPECT_EQ(p.req.path, "/x");
  EXPECT_EQ(p.req.Header("host"), "h");
  EXPECT_EQ(p.req.body, "ok");
}

TEST(Parser, ContentLength) {
  std::string two = "POST /e HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\nhelloGET";
  Parsed p = ParseAll(two);
  ASSERT_EQ(p.status, ParseStatus::kDone);
  EXPECT_EQ(p.req.body, "hello");
  EXPECT_EQ(p.consumed, two.size() - 3);  // "GET" is the next request's
  EXPECT_EQ(ParseAll("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\nhello").req.body, "hello");
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nContent-Length: 5x\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nContent-Length: \r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"), 413);
  Parsed need = ParseAll("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_EQ(need.status, ParseStatus::kNeedMore);
  EXPECT_EQ(need.consumed, std::string("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc").size());
}

TEST(Parser, BodyLimitWithoutTheBody) {
  ParserLimits limits;
  limits.max_body_bytes = 100;
  Parsed p = ParseAll("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", limits);
  EXPECT_EQ(p.status, ParseStatus::kError);
  EXPECT_EQ(p.http_status, 413);
  EXPECT_EQ(ParseAll("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n", limits).status, ParseStatus::kNeedMore);
}

// The server decides on the head before the body: kHead consumes exactly the head, the
// next call reads the body; LimitBody lowers this request's limit only.
TEST(Parser, PauseAfterHeadAndLimitBody) {
  RequestParser p;
  p.set_pause_after_head(true);
  Request req;
  std::string head = "POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\n";
  std::string data = head + "hel";
  ParseResult r = p.Parse(data, req);
  ASSERT_EQ(r.status, ParseStatus::kHead);
  EXPECT_EQ(r.consumed, head.size());
  EXPECT_TRUE(req.body.empty());
  EXPECT_EQ(p.body_remaining(), 5u);
  EXPECT_FALSE(p.body_within(3));
  EXPECT_TRUE(p.body_within(5));
  EXPECT_EQ(p.LimitBody(5).status, ParseStatus::kNeedMore);
  r = p.Parse("hello", req);
  ASSERT_EQ(r.status, ParseStatus::kDone);
  EXPECT_EQ(req.body, "hello");
  // The next request (after Reset by kDone) pauses again and has the full limit back.
  ASSERT_EQ(p.Parse("POST /b HTTP/1.1\r\nContent-Length: 6\r\n\r\n", req).status, ParseStatus::kHead);
  ParseResult over = p.LimitBody(5);
  EXPECT_EQ(over.status, ParseStatus::kError);
  EXPECT_EQ(over.http_status, 413);
  // Chunked: the limit applies as chunks arrive.
  RequestParser q;
  q.set_pause_after_head(true);
  ASSERT_EQ(q.Parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", req).status, ParseStatus::kHead);
  EXPECT_TRUE(q.chunked());
  EXPECT_FALSE(q.body_within(1000));
  EXPECT_EQ(q.LimitBody(4).status, ParseStatus::kNeedMore);
  ParseResult c = q.Parse("3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", req);
  EXPECT_EQ(c.status, ParseStatus::kError);
  EXPECT_EQ(c.http_status, 413);
}

TEST(Parser, Smuggling) {
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"), 501);
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501);
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n"), 501);
  Parsed p = ParseAll("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked \r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  ASSERT_EQ(p.status, ParseStatus::kDone) << p.message;
  EXPECT_EQ(p.req.body, "abc");
  // HTTP/1.0 with Transfer-Encoding: parsed, but the connection closes after it.
  Parsed p10 = ParseAll("POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  ASSERT_EQ(p10.status, ParseStatus::kDone);
  EXPECT_FALSE(p10.req.keep_alive);
}

TEST(Parser, Chunked) {
  const std::string head = "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  auto body = [&](std::string chunks) {
    Parsed p = ParseAll(head + chunks);
    EXPECT_EQ(p.status, ParseStatus::kDone) << chunks << ": " << p.message;
    EXPECT_EQ(p.consumed, head.size() + chunks.size()) << chunks;
    return p.req.body;
  };
  EXPECT_EQ(body("4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n"), "Wikipedia");
  EXPECT_EQ(body("4;name=value;x\r\nWiki\r\nA \r\n0123456789\r\n0\r\n\r\n"), "Wiki0123456789");
  EXPECT_EQ(body("4\r\nWiki\r\n0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n"), "Wiki");
  EXPECT_EQ(body("4\nWiki\n0\n\n"), "Wiki");  // bare LF everywhere
  EXPECT_EQ(body("004\r\nWiki\r\n000\r\n\r\n"), "Wiki");
  EXPECT_EQ(body("0\r\n\r\n"), "");
  auto error = [&](std::string chunks) { return ErrorOf(head + chunks); };
  EXPECT_EQ(error("zz\r\n"), 400);
  EXPECT_EQ(error(";ext\r\n"), 400);
  EXPECT_EQ(error("4\r\nWikiX\r\n"), 400);
  EXPECT_EQ(error("4\rX"), 400);
  EXPECT_EQ(error("4\r\nWiki\rX"), 400);
  EXPECT_EQ(error("4;a\x01\r\n"), 400);
  EXPECT_EQ(error("0\r\n folded\r\n\r\n"), 400);
  EXPECT_EQ(error("0\r\nA: b\rc\r\n\r\n"), 400);
  EXPECT_EQ(error("ffffffffffffffffffff\r\n"), 413);
  ParserLimits limits;
  limits.max_body_bytes = 8;
  EXPECT_EQ(ErrorOf(head + "9\r\n", limits), 413);  // before the chunk's data arrives
  EXPECT_EQ(ErrorOf(head + "5\r\n12345\r\n4\r\n", limits), 413);  // the total
  EXPECT_EQ(ParseAll(head + "4\r\n1234\r\n4\r\n5678\r\n0\r\n\r\n", limits).req.body, "12345678");
  limits = ParserLimits();
  limits.max_header_bytes = 64;
  EXPECT_EQ(ErrorOf(head.substr(0, 0) + "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" +
                        "X: " + std::string(80, 'a') + "\r\n\r\n",
                    limits),
            431);  // trailers have a limit too
}

TEST(Parser, ExpectContinue) {
  RequestParser p;
  Request req;
  std::string head = "POST /e HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n";
  ParseResult r = p.Parse(head, req);
  EXPECT_EQ(r.status, ParseStatus::kNeedMore);
  EXPECT_EQ(r.consumed, head.size());
  EXPECT_TRUE(p.head_complete());
  EXPECT_TRUE(p.expect_continue());
  r = p.Parse("abc", req);
  EXPECT_EQ(r.status, ParseStatus::kDone);
  EXPECT_FALSE(p.expect_continue());
  EXPECT_EQ(req.body, "abc");

  RequestParser p10;
  p10.Parse("POST /e HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", req);
  EXPECT_FALSE(p10.expect_continue());  // HTTP/1.0 clients do not wait for it

  ParserLimits limits;
  limits.max_body_bytes = 2;
  RequestParser small(limits);
  r = small.Parse(head, req);
  EXPECT_EQ(r.status, ParseStatus::kError);  // 413 at once, not 100 Continue
  EXPECT_EQ(r.http_status, 413);
}

TEST(Parser, HeadLimits) {
  ParserLimits limits;
  limits.max_header_bytes = 64;
  std::string line = "GET /" + std::string(100, 'a') + " HTTP/1.1\r\n\r\n";
  EXPECT_EQ(ErrorOf(line, limits), 414);
  EXPECT_EQ(ParseInSteps(line, 7, limits).http_status, 414);
  std::string headers = "GET / HTTP/1.1\r\nA: " + std::string(60, 'b') + "\r\n\r\n";
  EXPECT_EQ(ErrorOf(headers, limits), 431);
  EXPECT_EQ(ParseInSteps(headers, 5, limits).http_status, 431);
  // Exactly at the limit is fine; one byte over is not.
  std::string exact = "GET / HTTP/1.1\r\nA: " + std::string(64 - 23, 'c') + "\r\n\r\n";
  ASSERT_EQ(exact.size(), 64u);
  EXPECT_EQ(ParseAll(exact, limits).status, ParseStatus::kDone);
  std::string over = "GET / HTTP/1.1\r\nA: " + std::string(64 - 22, 'c') + "\r\n\r\n";
  EXPECT_EQ(ErrorOf(over, limits), 431);
  // Short of the limit and incomplete: wait.
  EXPECT_EQ(ParseAll("GET / HTTP/1.1\r\nA: b", limits).status, ParseStatus::kNeedMore);
  EXPECT_EQ(ParseAll("", limits).status, ParseStatus::kNeedMore);
}

TEST(Parser, Pipelined) {
  std::string a = "GET /a HTTP/1.1\r\n\r\n";
  std::string b = "POST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi";
  std::string c = "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n";
  std::string all = a + b + c + "GET /d";
  RequestParser p;
  std::vector<std::string> paths;
  size_t off = 0;
  while (true) {
    Request req;
    ParseResult r = p.Parse(std::string_view(all).substr(off), req);
    off += r.consumed;
    if (r.status != ParseStatus::kDone) {
      EXPECT_EQ(r.status, ParseStatus::kNeedMore);
      break;
    }
    paths.push_back(req.path + ":" + req.body);
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"/a:", "/b:hi", "/c:x"}));
  EXPECT_EQ(off, all.size() - 6);
}

TEST(Parser, ByteByByteEqualsAtOnce) {
  std::string texts[] = {
      "GET /x?y=1 HTTP/1.1\r\nHost: h\r\nX-Request-Id: abc\r\n\r\n",
      "POST /e HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world",
      "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nT: 1\r\n\r\n",
      "GET /bad HTTP/1.1\r\nA : b\r\n\r\n",
      "\r\n\r\nGET / HTTP/1.0\n\n",
  };
  for (const std::string& t : texts) {
    Parsed once = ParseAll(t);
    for (size_t step : {1, 2, 3, 7}) {
      Parsed split = ParseInSteps(t, step);
      EXPECT_EQ(split.status, once.status) << t;
      EXPECT_EQ(split.http_status, once.http_status) << t;
      EXPECT_EQ(split.req.path, once.req.path) << t;
      EXPECT_EQ(split.req.body, once.req.body) << t;
      EXPECT_EQ(split.req.headers, once.req.headers) << t;
      if (once.status == ParseStatus::kDone) {
        EXPECT_EQ(split.consumed, once.consumed) << t;
      }
    }
  }
}

TEST(Parser, RequestId) {
  EXPECT_EQ(ParseAll("GET / HTTP/1.1\r\nX-Request-Id: my-id.42\r\n\r\n").req.request_id, "my-id.42");
  EXPECT_EQ(ParseAll("GET / HTTP/1.1\r\nX-Request-Id: has space\r\n\r\n").req.request_id, "");
  EXPECT_EQ(ParseAll("GET / HTTP/1.1\r\nX-Request-Id: " + std::string(129, 'a') + "\r\n\r\n").req.request_id, "");
  EXPECT_EQ(ParseAll("GET / HTTP/1.1\r\nX-Request-Id: " + std::string(128, 'a') + "\r\n\r\n").req.request_id.size(), 128u);
  EXPECT_EQ(ParseAll("GET / HTTP/1.1\r\nX-Request-Id: \xc3\xa9\r\n\r\n").req.request_id, "");
}

TEST(Parser, ErrorsAreSticky) {
  RequestParser p;
  Request req;
  ParseResult r = p.Parse("BAD\r\n\r\n", req);
  EXPECT_EQ(r.status, ParseStatus::kError);
  r = p.Parse("GET / HTTP/1.1\r\n\r\n", req);
  EXPECT_EQ(r.status, ParseStatus::kError);
  EXPECT_EQ(r.http_status, 400);
  EXPECT_FALSE(r.message.empty());
}

TEST(Parser, ReusedRequestIsCleared) {
  RequestParser p;
  Request req;
  ASSERT_EQ(p.Parse("POST /a?q=1 HTTP/1.1\r\nA: 1\r\nX-Request-Id: r1\r\nContent-Length: 1\r\n\r\nx", req).status,
            ParseStatus::kDone);
  ASSERT_EQ(p.Parse("GET /b HTTP/1.1\r\n\r\n", req).status, ParseStatus::kDone);
  EXPECT_EQ(req.path, "/b");
  EXPECT_EQ(req.query, "");
  EXPECT_TRUE(req.headers.empty());
  EXPECT_EQ(req.body, "");
  EXPECT_EQ(req.request_id, "");
}

TEST(Parser, SerializeRoundTrip) {
  Parsed p = ParseAll("POST /c%20d?x=1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\nA: b\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  ASSERT_EQ(p.status, ParseStatus::kDone);
  std::string again = SerializeRequest(p.req);
  Parsed q = ParseAll(again);
  ASSERT_EQ(q.status, ParseStatus::kDone) << again;
  EXPECT_EQ(q.req.path, "/c d");
  EXPECT_EQ(q.req.body, "abc");
  EXPECT_EQ(q.req.Header("a"), "b");
  EXPECT_EQ(q.consumed, again.size());
}

}  // namespace
}  // namespace forja::net
