#include "forja/remote/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

#include "forja/core/sha256.h"
#include "forja/core/strings.h"

namespace forja {

namespace {

// Header values are signed trimmed, with inner runs of spaces collapsed.
std::string TrimValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace

std::string ToHex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string HexSha256(std::string_view data) { return Sha256::Of(data).Hex(); }

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string UriEncode(std::string_view s, bool keep_slash) { return PercentEncode(s, keep_slash ? "/" : ""); }

std::string CanonicalQuery(const KeyValues& query) {
  std::vector<std::pair<std::string, std::string>> enc;
  enc.reserve(query.size());
  for (const auto& [k, v] : query) enc.emplace_back(UriEncode(k, false), UriEncode(v, false));
  std::sort(enc.begin(), enc.end());
  std::string out;
  for (const auto& [k, v] : enc) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

std::string CanonicalRequest(const SigV4Request& req, std::string* signed_headers) {
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [k, v] : req.headers) headers.emplace_back(ToLowerAscii(k), TrimValue(v));
  std::sort(headers.begin(), headers.end());
  std::string canonical_headers, names;
  for (const auto& [k, v] : headers) {
    canonical_headers += k + ":" + v + "\n";
    if (!names.empty()) names += ';';
    names += k;
  }
  if (signed_headers) *signed_headers = names;
  std::string path = req.path.empty() ? "/" : req.path;
  return req.method + "\n" + UriEncode(path, true) + "\n" + CanonicalQuery(req.query) + "\n" +
         canonical_headers + "\n" + names + "\n" + req.payload_sha256;
}

std::string AmzDate(std::time_t t) {
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string SigV4Authorization(const SigV4Request& req, const SigV4Credentials& creds,
                               const std::string& region, const std::string& service,
                               const std::string& amz_date) {
  std::string signed_headers;
  std::string canonical = CanonicalRequest(req, &signed_headers);
  std::string day = amz_date.substr(0, 8);
  std::string scope = day + "/" + region + "/" + service + "/aws4_request";
  std::string to_sign =
      "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + HexSha256(canonical);
  std::string key = HmacSha256("AWS4" + creds.secret_key, day);
  key = HmacSha256(key, region);
  key = HmacSha256(key, service);
  key = HmacSha256(key, "aws4_request");
  return "AWS4-HMAC-SHA256 Credential=" + creds.access_key + "/" + scope +
         ",SignedHeaders=" + signed_headers + ",Signature=" + ToHex(HmacSha256(key, to_sign));
}

}  // namespace forja
