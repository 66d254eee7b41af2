// What an S3 remote is configured with: its url and options, and the
// credentials found the way aws-cli finds them. Kept apart from the transport
// so the rules are tested without a server.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "forja/core/status.h"
#include "forja/remote/remote.h"
#include "forja/remote/sigv4.h"

namespace forja {

struct S3Config {
  std::string bucket;
  std::string prefix;     // without leading or trailing '/'; may be empty
  std::string endpoint;   // "scheme://authority", no trailing '/'; option, else
                          // AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, else AWS's
  std::string scheme;     // "http" or "https"
  std::string authority;  // "host[:port]" of the endpoint
  std::string region;
  std::string profile;
  bool profile_from_option = false;  // `profile` was set on the remote itself
  bool virtual_host = false;         // bucket.host/key instead of host/bucket/key
  int tries = 5;
  uint64_t multipart_threshold = 64ull << 20;
  uint64_t multipart_chunk = 16ull << 20;
  std::string ca_bundle;  // AWS_CA_BUNDLE, as aws-cli reads it
  SigV4Credentials local_keys;  // from .forja/config.local (access_key_id, ...); empty when unset
};

// Parses cfg.url ("s3://bucket/prefix") and cfg.options. User errors name the
// remote and the offending option.
Result<S3Config> ParseS3Config(const RemoteConfig& cfg);

// "64MiB", "5M", "1048576" ... (binary units; a bare number is bytes).
Result<uint64_t> ParseByteSize(std::string_view text);

struct S3Credentials {
  SigV4Credentials keys;
  std::string source;  // "AWS_ACCESS_KEY_ID" or "profile 'x' in /root/.aws/credentials"
};

// .forja/config.local's access_key_id / secret_access_key first; then the environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), unless the remote names a profile; then the profile's section of
// AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials.
Result<S3Credentials> LoadS3Credentials(const std::string& remote_name, const S3Config& cfg);

// The key = value pairs of `[section]` (or `[profile section]`) of an INI text;
// NotFound when the section is absent.
Result<KeyValues> IniSection(std::string_view text, std::string_view section);

}  // namespace forja
