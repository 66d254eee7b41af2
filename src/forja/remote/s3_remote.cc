// Placeholder until the S3 remote lands.
#include "forja/remote/s3_remote.h"

namespace forja {

Result<std::unique_ptr<Remote>> OpenS3Remote(const RemoteConfig& cfg) {
  return Status::User("remote '" + cfg.name + "': S3 remotes are not built yet");
}

}  // namespace forja
