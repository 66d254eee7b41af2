#include "forja/remote/remote.h"

#include "forja/remote/local_remote.h"
#include "forja/remote/s3_config.h"
#include "forja/remote/s3_remote.h"

namespace forja {

Result<std::unique_ptr<Remote>> OpenRemote(const RemoteConfig& cfg) {
  const std::string& url = cfg.url;
  if (url.rfind("s3://", 0) == 0) return OpenS3Remote(cfg);
  if (url.rfind("file://", 0) == 0) return OpenLocalRemote(cfg, url.substr(7));
  if (!url.empty() && url[0] == '/') return OpenLocalRemote(cfg, url);
  return Status::User("remote '" + cfg.name + "': url '" + url +
                      "' is not supported; use an absolute path, file:///path or s3://bucket/prefix");
}

Status ValidateRemoteConfig(const RemoteConfig& cfg) {
  if (cfg.url.rfind("s3://", 0) == 0) return ParseS3Config(cfg).status();
  return OpenRemote(cfg).status();
}

}  // namespace forja
