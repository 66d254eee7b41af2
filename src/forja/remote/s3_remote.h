#pragma once

#include <memory>

#include "forja/remote/remote.h"

namespace forja {

// A remote in an S3-compatible object store: url s3://bucket/prefix; objects at
// <prefix>/sha256/<2 hex>/<62 hex>. Options (RemoteConfig::options):
//   endpoint             http(s)://host[:port]; default AWS_ENDPOINT_URL_S3 or
//                        AWS_ENDPOINT_URL, else https://s3.<region>.amazonaws.com
//   region               default AWS_REGION, AWS_DEFAULT_REGION, the profile's region
//                        in ~/.aws/config, else us-east-1
//   profile              section of ~/.aws/credentials; default AWS_PROFILE, else default
//   addressing           path | virtual; default path with an endpoint, virtual without
//                        (path for bucket names that cannot be host names)
//   retries              tries per request in all (default 5)
//   multipart_threshold  objects this large go up in parts (default 64MiB, >= 5MiB)
//   multipart_chunk      part size (default 16MiB, >= 5MiB)
// Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
// unless the remote sets `profile`; then the profile in AWS_SHARED_CREDENTIALS_FILE
// or ~/.aws/credentials. AWS_CA_BUNDLE names extra trusted CAs.
// FORJA_S3_RETRY_BASE_MS sets the first backoff in ms (200).
Result<std::unique_ptr<Remote>> OpenS3Remote(const RemoteConfig& cfg);

}  // namespace forja
