#include "forja/core/strings.h"
#include "forja/remote/s3_config.h"

#include <cctype>
#include <cstdlib>
#include <set>

#include "forja/core/fs.h"

namespace forja {

namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kMinPart = 5 * kMiB;         // S3's smallest part but the last
constexpr uint64_t kMaxPart = 5 * 1024 * kMiB;  // and its largest

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string HomeFile(const char* env_override, const char* relative) {
  std::string f = Env(env_override);
  if (!f.empty()) return f;
  std::string home = Env("HOME");
  return home.empty() ? "" : home + "/" + relative;
}

// A bucket name that can be a DNS label of the endpoint's host (and match a
// wildcard certificate): otherwise virtual-host addressing cannot work.
bool DnsCompatible(const std::string& b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '-'))
      return false;
  return b.front() != '-' && b.back() != '-';
}

Status ParseUrl(const RemoteConfig& cfg, S3Config* out) {
  std::string rest = cfg.url.substr(5);  // after "s3://"
  size_t slash = rest.find('/');
  out->bucket = rest.substr(0, slash);
  std::string prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  while (!prefix.empty() && prefix.front() == '/') prefix.erase(0, 1);
  out->prefix = prefix;
  if (out->bucket.empty())
    return Status::User("remote '" + cfg.name + "': url '" + cfg.url +
                        "' has no bucket; write s3://bucket/prefix");
  return Status::Ok();
}

Status ParseEndpoint(const std::string& name, const std::string& value, S3Config* out) {
  std::string ep = value;
  while (!ep.empty() && ep.back() == '/') ep.pop_back();
  size_t sep = ep.find("://");
  std::string scheme = sep == std::string::npos ? "" : ToLowerAscii(ep.substr(0, sep));
  if (scheme != "http" && scheme != "https")
    return Status::User("remote '" + name + "': endpoint '" + value +
                        "' must start with http:// or https://");
  std::string authority = ep.substr(sep + 3);
  if (authority.empty() || authority.find('/') != std::string::npos)
    return Status::User("remote '" + name + "': endpoint '" + value +
                        "' must be scheme://host[:port] without a path");
  out->scheme = scheme;
  out->authority = ToLowerAscii(authority);
  out->endpoint = scheme + "://" + out->authority;
  return Status::Ok();
}

Result<int> ParseTries(const std::string& name, const std::string& v) {
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < 0 || n > 100)
    return Status::User("remote '" + name + "': retries '" + v +
                        "' must be a whole number from 0 to 100");
  return static_cast<int>(n < 1 ? 1 : n);  // "0 retries" still means one try
}

Status ParseSizeOption(const std::string& name, const std::string& key, const std::string& v,
                       uint64_t* out) {
  Result<uint64_t> n = ParseByteSize(v);
  if (!n.ok() || *n < kMinPart || *n > kMaxPart)
    return Status::User("remote '" + name + "': " + key + " '" + v +
                        "' must be a size from 5MiB to 5GiB (e.g. 64MiB)");
  *out = *n;
  return Status::Ok();
}

// The region the profile in ~/.aws/config (or AWS_CONFIG_FILE) names, if any.
std::string ProfileRegion(const std::string& profile) {
  std::string path = HomeFile("AWS_CONFIG_FILE", ".aws/config");
  if (path.empty()) return "";
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) return "";
  Result<KeyValues> kv = IniSection(*text, profile);
  if (!kv.ok()) return "";
  for (const auto& [k, v] : *kv)
    if (k == "region") return v;
  return "";
}

Status ApplyOptions(const RemoteConfig& cfg, S3Config* out, bool* addressing_set) {
  static const std::set<std::string> kKnown = {"endpoint",         "region",
                                               "profile",          "addressing",
                                               "retries",          "multipart_threshold",
                                               "multipart_chunk"};
  for (const auto& [key, value] : EffectiveOptions(cfg)) {
    if (IsCredentialOption(key)) {
      // Only .forja/config.local can hold them (forja.yaml's are refused when it is read).
      if (key == "access_key_id") out->local_keys.access_key = value;
      else if (key == "secret_access_key") out->local_keys.secret_key = value;
      else if (key == "session_token") out->local_keys.session_token = value;
      else return Status::User("remote '" + cfg.name + "': option '" + key + "' is not an S3 credential "
                               "(known: access_key_id, secret_access_key, session_token)");
      continue;
    }
    if (!kKnown.count(key))
      return Status::User("remote '" + cfg.name + "': unknown option '" + key +
                          "' for an S3 remote (known: endpoint, region, profile, addressing, "
                          "retries, multipart_threshold, multipart_chunk)");
    if (key == "endpoint") {
      RETURN_IF_ERROR(ParseEndpoint(cfg.name, value, out));
    } else if (key == "region") {
      out->region = value;
    } else if (key == "profile") {
      out->profile = value;
      out->profile_from_option = true;
    } else if (key == "addressing") {
      if (value != "path" && value != "virtual")
        return Status::User("remote '" + cfg.name + "': addressing '" + value +
                            "' must be 'path' or 'virtual'");
      out->virtual_host = value == "virtual";
      *addressing_set = true;
    } else if (key == "retries") {
      ASSIGN_OR_RETURN(out->tries, ParseTries(cfg.name, value));
    } else if (key == "multipart_threshold") {
      RETURN_IF_ERROR(ParseSizeOption(cfg.name, key, value, &out->multipart_threshold));
    } else {
      RETURN_IF_ERROR(ParseSizeOption(cfg.name, key, value, &out->multipart_chunk));
    }
  }
  return Status::Ok();
}

Status ApplyDefaults(const RemoteConfig& cfg, bool addressing_set, S3Config* out) {
  if (out->profile.empty()) out->profile = Env("AWS_PROFILE");
  if (out->profile.empty()) out->profile = "default";
  if (out->region.empty()) out->region = Env("AWS_REGION");
  if (out->region.empty()) out->region = Env("AWS_DEFAULT_REGION");
  if (out->region.empty()) out->region = ProfileRegion(out->profile);
  if (out->region.empty()) out->region = "us-east-1";
  bool custom_endpoint = EffectiveOptions(cfg).count("endpoint") > 0;
  // aws-cli (>= 2.13) reads these too, so one variable points both at a MinIO.
  for (const char* var : {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}) {
    if (custom_endpoint || Env(var).empty()) continue;
    Status st = ParseEndpoint(cfg.name, Env(var), out);
    if (!st.ok()) return Status::User(st.message() + " (it comes from " + var + ")");
    custom_endpoint = true;
  }
  if (!custom_endpoint) {
    out->scheme = "https";
    out->authority = "s3." + out->region + ".amazonaws.com";
    out->endpoint = "https://" + out->authority;
  }
  // MinIO and friends usually serve buckets under the path; AWS prefers hosts.
  if (!addressing_set) out->virtual_host = !custom_endpoint && DnsCompatible(out->bucket);
  out->ca_bundle = Env("AWS_CA_BUNDLE");
  return Status::Ok();
}

}  // namespace

Result<uint64_t> ParseByteSize(std::string_view text) {
  std::string t(Trim(text));
  size_t i = 0;
  while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) i++;
  if (i == 0 || i > 15) return Status::User("'" + t + "' is not a size");
  uint64_t n = std::stoull(t.substr(0, i));
  std::string unit = ToLowerAscii(Trim(t.substr(i)));
  uint64_t mult = 0;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib") mult = 1ull << 10;
  else if (unit == "m" || unit == "mb" || unit == "mib") mult = 1ull << 20;
  else if (unit == "g" || unit == "gb" || unit == "gib") mult = 1ull << 30;
  if (mult == 0) return Status::User("'" + t + "' has an unknown unit; use KiB, MiB or GiB");
  if (n > UINT64_MAX / mult) return Status::User("'" + t + "' is too large");
  return n * mult;
}

Result<S3Config> ParseS3Config(const RemoteConfig& cfg) {
  S3Config out;
  RETURN_IF_ERROR(ParseUrl(cfg, &out));
  bool addressing_set = false;
  RETURN_IF_ERROR(ApplyOptions(cfg, &out, &addressing_set));
  RETURN_IF_ERROR(ApplyDefaults(cfg, addressing_set, &out));
  return out;
}

Result<KeyValues> IniSection(std::string_view text, std::string_view section) {
  KeyValues out;
  bool in = false, found = false;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string line(Trim(text.substr(pos, nl - pos)));
    pos = nl + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      std::string name(Trim(line.substr(1, line.size() - 2)));
      // ~/.aws/config spells non-default sections "[profile name]".
      if (name.starts_with("profile ")) name = Trim(name.substr(8));
      in = name == section;
      found = found || in;
      continue;
    }
    size_t eq = line.find('=');
    if (!in || eq == std::string::npos) continue;
    out.emplace_back(ToLowerAscii(Trim(line.substr(0, eq))), Trim(line.substr(eq + 1)));
  }
  if (!found) return Status::NotFound("no section [" + std::string(section) + "]");
  return out;
}

Result<S3Credentials> LoadS3Credentials(const std::string& name, const S3Config& cfg) {
  S3Credentials c;
  // .forja/config.local first: set for this remote on this clone, as DVC's config.local.
  if (!cfg.local_keys.access_key.empty() || !cfg.local_keys.secret_key.empty()) {
    if (cfg.local_keys.access_key.empty() || cfg.local_keys.secret_key.empty())
      return Status::User("remote '" + name + "': access_key_id and secret_access_key must be set together in " +
                          kLocalConfigName + "; only one of them is");
    c.keys = cfg.local_keys;
    c.source = kLocalConfigName;
    return c;
  }
  std::string id = Env("AWS_ACCESS_KEY_ID"), secret = Env("AWS_SECRET_ACCESS_KEY");
  // An explicit profile on the remote wins over the environment, as --profile does.
  if (!cfg.profile_from_option && (!id.empty() || !secret.empty())) {
    if (id.empty() || secret.empty())
      return Status::User("remote '" + name + "': AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                          "must be set together; only one of them is");
    c.keys = {id, secret, Env("AWS_SESSION_TOKEN")};
    c.source = "the environment (AWS_ACCESS_KEY_ID)";
    return c;
  }
  std::string path = HomeFile("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
  std::string hint = "remote '" + name +
                     "': no S3 credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                     "or put aws_access_key_id and aws_secret_access_key in section [" +
                     cfg.profile + "] of " + (path.empty() ? "~/.aws/credentials" : path) +
                     " (the profile comes from the remote's profile option or AWS_PROFILE)";
  if (path.empty() || !Exists(path)) return Status::User(hint);
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  Result<KeyValues> kv = IniSection(text, cfg.profile);
  if (!kv.ok()) return Status::User(hint);
  for (const auto& [k, v] : *kv) {
    if (k == "aws_access_key_id") c.keys.access_key = v;
    if (k == "aws_secret_access_key") c.keys.secret_key = v;
    if (k == "aws_session_token") c.keys.session_token = v;
  }
  if (c.keys.access_key.empty() || c.keys.secret_key.empty()) return Status::User(hint);
  c.source = "profile '" + cfg.profile + "' in " + path;
  return c;
}

}  // namespace forja
