// AWS Signature Version 4 for S3 requests sent with an Authorization header.
// Pure functions of their inputs (the time is passed in), so the signer is
// tested against AWS's published examples without a server.
#pragma once

#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace forja {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

struct SigV4Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // empty unless temporary credentials
};

struct SigV4Request {
  std::string method;          // GET, PUT, ...
  std::string path;            // decoded: "/bucket/sha256/ab/cd..."; encoded when signed
  KeyValues query;             // decoded names and values; order does not matter
  KeyValues headers;           // every header to sign, host included; any case
  std::string payload_sha256;  // hex SHA-256 of the body (never UNSIGNED-PAYLOAD for PUT)
};

// RFC 3986 encoding as AWS wants it: unreserved characters (A-Z a-z 0-9 - _ . ~)
// stay, everything else becomes %XX (upper case); '/' stays when `keep_slash`.
std::string UriEncode(std::string_view s, bool keep_slash);

// "name=value&..." with both encoded and sorted by name, then value. Used for
// the URL as well, so what is signed is exactly what is sent.
std::string CanonicalQuery(const KeyValues& query);

// The canonical request (task 1 of the spec); `signed_headers` receives the
// ';'-joined lower-case header names.
std::string CanonicalRequest(const SigV4Request& req, std::string* signed_headers);

// "20130524T000000Z".
std::string AmzDate(std::time_t t);

// The value of the Authorization header. `amz_date` must equal the request's
// x-amz-date header.
std::string SigV4Authorization(const SigV4Request& req, const SigV4Credentials& creds,
                               const std::string& region, const std::string& service,
                               const std::string& amz_date);

std::string HexSha256(std::string_view data);
// Raw 32-byte HMAC-SHA256.
std::string HmacSha256(std::string_view key, std::string_view data);
std::string ToHex(std::string_view bytes);

}  // namespace forja
