#pragma once

#include <memory>

#include "forja/remote/remote.h"

namespace forja {

// A remote in an S3-compatible object store: url s3://bucket/prefix, options
// endpoint (default https://s3.<region>.amazonaws.com), region (default
// us-east-1), profile, addressing (path|virtual), retries.
Result<std::unique_ptr<Remote>> OpenS3Remote(const RemoteConfig& cfg);

}  // namespace forja
