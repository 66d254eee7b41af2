#include "forja/core/redact.h"
#include "forja/core/strings.h"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <vector>

namespace forja {

namespace {

constexpr char kMask[] = "***";

// Parameter names whose values are secrets, in URIs and in libpq strings.
bool SecretKey(std::string_view key) {
  std::string k = ToLowerAscii(key);
  return k == "password" || k == "sslpassword" || k == "passwd" || k == "pass" || k == "secret" ||
         k == "secret_access_key" || k == "aws_secret_access_key" || k == "session_token" ||
         k == "aws_session_token" || k == "token" || k == "access_token" || k == "x-amz-signature" ||
         k == "x-amz-security-token" || k == "signature" || k == "sig";
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '%' && i + 2 < s.size() && Hex(s[i + 1]) >= 0 && Hex(s[i + 2]) >= 0) {
      out += static_cast<char>(Hex(s[i + 1]) * 16 + Hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The "key=value" pairs of a query string in order, empty ones too, so that
// joining them with '&' gives the query back.
std::vector<std::string> QueryPairs(const std::string& query) {
  std::vector<std::string> out;
  for (size_t i = 0; i <= query.size();) {
    size_t amp = std::min(query.find('&', i), query.size());
    out.push_back(query.substr(i, amp - i));
    i = amp + 1;
  }
  return out;
}

// Whether a query pair's (percent-decoded) key names a secret; its value starts at *value_at.
bool IsSecretPair(const std::string& pair, size_t* value_at) {
  size_t eq = pair.find('=');
  if (eq == std::string::npos || !SecretKey(PercentDecode(pair.substr(0, eq)))) return false;
  *value_at = eq + 1;
  return true;
}

// The parts of "scheme://userinfo@host/path?query#fragment" that matter here.
struct UriParts {
  bool has_authority = false;
  size_t auth_begin = 0, auth_end = 0;  // [begin, end) of the authority
  size_t at = std::string::npos;        // the last '@' inside the authority
  size_t query = std::string::npos;     // the '?'
  size_t query_end = std::string::npos; // the '#' or the end
};

UriParts Split(const std::string& uri) {
  UriParts p;
  size_t sep = uri.find("://");
  size_t qs = uri.find('?');
  if (sep != std::string::npos && (qs == std::string::npos || sep < qs)) {
    p.has_authority = true;
    p.auth_begin = sep + 3;
    p.auth_end = uri.find_first_of("/?#", p.auth_begin);
    if (p.auth_end == std::string::npos) p.auth_end = uri.size();
    size_t at = uri.rfind('@', p.auth_end == 0 ? 0 : p.auth_end - 1);
    if (at != std::string::npos && at >= p.auth_begin && at < p.auth_end) p.at = at;
  }
  size_t from = p.has_authority ? p.auth_end : 0;
  p.query = uri.find('?', from);
  if (p.query != std::string::npos) {
    p.query_end = uri.find('#', p.query);
    if (p.query_end == std::string::npos) p.query_end = uri.size();
  }
  return p;
}

// One key=value token of a libpq string: [key_begin, key_end), [val_begin, val_end) in the text.
struct KvToken {
  std::string key, value;
  size_t val_begin = 0, val_end = 0;
};

// libpq's conninfo grammar: key = value, the value bare (ending at white space) or
// single-quoted; a backslash escapes the next character in both.
bool ParseKeyValues(const std::string& s, std::vector<KvToken>* out, std::string* error) {
  size_t i = 0;
  auto space = [&](size_t j) { return j < s.size() && std::isspace(static_cast<unsigned char>(s[j])); };
  while (true) {
    while (space(i)) i++;
    if (i >= s.size()) return true;
    KvToken t;
    size_t k = i;
    while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_')) i++;
    t.key = s.substr(k, i - k);
    while (space(i)) i++;
    if (t.key.empty() || i >= s.size() || s[i] != '=') {
      if (error) *error = "expected keyword=value at character " + std::to_string(k + 1);
      return false;
    }
    i++;
    while (space(i)) i++;
    t.val_begin = i;
    if (i < s.size() && s[i] == '\'') {
      i++;
      bool closed = false;
      while (i < s.size()) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          t.value += s[i + 1];
          i += 2;
        } else if (s[i] == '\'') {
          closed = true;
          i++;
          break;
        } else {
          t.value += s[i++];
        }
      }
      if (!closed) {
        if (error) *error = "unterminated quoted value of '" + t.key + "'";
        return false;
      }
    } else {
      while (i < s.size() && !space(i)) {
        if (s[i] == '\\' && i + 1 < s.size()) i++;
        t.value += s[i++];
      }
    }
    t.val_end = i;
    out->push_back(std::move(t));
  }
}

// The secrets a URI (or libpq string) holds, as written and percent-decoded.
std::vector<std::string> SecretsOf(const std::string& uri) {
  std::vector<std::string> out;
  auto add = [&](const std::string& v) {
    if (v.empty()) return;
    out.push_back(v);
    std::string d = PercentDecode(v);
    if (d != v) out.push_back(d);
  };
  if (IsLibpqKeyValue(uri)) {
    std::vector<KvToken> kvs;
    ParseKeyValues(uri, &kvs, nullptr);
    for (const auto& t : kvs)
      if (SecretKey(t.key)) add(t.value);
    return out;
  }
  UriParts p = Split(uri);
  if (p.at != std::string::npos) {
    std::string info = uri.substr(p.auth_begin, p.at - p.auth_begin);
    size_t colon = info.find(':');
    bool s3 = ToLowerAscii(uri.substr(0, 5)) == "s3://";
    if (colon != std::string::npos) add(info.substr(colon + 1));
    if (s3) add(colon == std::string::npos ? info : info.substr(0, colon));
  }
  if (p.query != std::string::npos) {
    for (const auto& kv : QueryPairs(uri.substr(p.query + 1, p.query_end - p.query - 1))) {
      size_t value_at;
      if (IsSecretPair(kv, &value_at)) add(kv.substr(value_at));
    }
  }
  return out;
}

}  // namespace

bool IsLibpqKeyValue(const std::string& text) {
  if (text.find("://") != std::string::npos) return false;
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) i++;
  size_t k = i;
  while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_')) i++;
  if (i == k) return false;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) i++;
  return i < text.size() && text[i] == '=';
}

std::string RedactUri(const std::string& uri) {
  if (IsLibpqKeyValue(uri)) {
    std::vector<KvToken> kvs;
    std::string out = uri;
    ParseKeyValues(uri, &kvs, nullptr);  // a malformed tail keeps the pairs before it
    for (auto it = kvs.rbegin(); it != kvs.rend(); ++it)
      if (SecretKey(it->key)) out.replace(it->val_begin, it->val_end - it->val_begin, kMask);
    return out;
  }
  UriParts p = Split(uri);
  std::string out;
  size_t pos = 0;
  if (p.at != std::string::npos) {
    std::string info = uri.substr(p.auth_begin, p.at - p.auth_begin);
    size_t colon = info.find(':');
    bool s3 = ToLowerAscii(uri.substr(0, 5)) == "s3://";
    std::string shown = s3 ? kMask : colon == std::string::npos ? info : info.substr(0, colon) + ":" + kMask;
    out += uri.substr(0, p.auth_begin) + shown;
    pos = p.at;
  }
  if (p.query == std::string::npos) return out + uri.substr(pos);
  out += uri.substr(pos, p.query + 1 - pos);
  std::vector<std::string> pairs = QueryPairs(uri.substr(p.query + 1, p.query_end - p.query - 1));
  for (size_t i = 0; i < pairs.size(); i++) {
    size_t value_at;
    if (IsSecretPair(pairs[i], &value_at)) pairs[i] = pairs[i].substr(0, value_at) + kMask;
    if (i > 0) out += '&';
    out += pairs[i];
  }
  return out + uri.substr(p.query_end);
}

std::string RedactSecretsOf(const std::string& text, const std::string& uri) {
  std::string out = text;
  auto replace_all = [&](const std::string& from, const std::string& to) {
    if (from.empty() || from == to) return;
    for (size_t at = out.find(from); at != std::string::npos; at = out.find(from, at + to.size()))
      out.replace(at, from.size(), to);
  };
  replace_all(uri, RedactUri(uri));
  for (const auto& s : SecretsOf(uri)) replace_all(s, kMask);
  return out;
}

bool HasCredentials(const std::string& uri) { return !SecretsOf(uri).empty() || RedactUri(uri) != uri; }

bool LibpqKeyValueToUri(const std::string& text, std::string* uri, std::string* error) {
  std::vector<KvToken> kvs;
  if (!ParseKeyValues(text, &kvs, error)) return false;
  std::string out = "postgresql://";
  char sep = '?';
  for (const auto& t : kvs) {
    out += sep;
    sep = '&';
    out += t.key + "=" + PercentEncode(t.value);
  }
  *uri = out;
  return true;
}

}  // namespace forja
