#include "forja/remote/remote.h"

#include "forja/remote/local_remote.h"
#include "forja/remote/s3_config.h"
#include "forja/remote/s3_remote.h"

#include <set>

#include "forja/core/redact.h"

namespace forja {

bool IsCredentialOption(const std::string& key) {
  static const std::set<std::string> kSecrets = {"access_key_id", "secret_access_key", "session_token", "password",
                                                 "token"};
  return kSecrets.count(key) > 0;
}

Status RefuseVersionedCredentials(const RemoteConfig& rc, const std::string& where) {
  auto refuse = [&](const std::string& field) {
    return Status::User(where + "remotes." + rc.name + "." + field +
                        ": credentials do not belong in forja.yaml (it is versioned); keep them in " +
                        kLocalConfigName + " (forja remote modify --local " + rc.name +
                        " secret_access_key VALUE, likewise access_key_id), in the environment "
                        "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), or in an AWS profile (-o profile=NAME)");
  };
  if (HasCredentials(rc.url)) return refuse("url");
  for (const auto& [k, v] : rc.options)
    if (IsCredentialOption(k) || HasCredentials(v)) return refuse(k);
  return Status::Ok();
}

std::map<std::string, std::string> EffectiveOptions(const RemoteConfig& rc) {
  auto out = rc.options;
  for (const auto& [k, v] : rc.local_options) out[k] = v;
  return out;
}

Result<std::unique_ptr<Remote>> OpenRemote(const RemoteConfig& cfg) {
  RETURN_IF_ERROR(RefuseVersionedCredentials(cfg, ""));
  const std::string& url = cfg.url;
  if (url.starts_with("s3://")) return OpenS3Remote(cfg);
  if (url.starts_with("file://")) return OpenLocalRemote(cfg, url.substr(7));
  if (!url.empty() && url[0] == '/') return OpenLocalRemote(cfg, url);
  return Status::User("remote '" + cfg.name + "': url '" + url +
                      "' is not supported; use an absolute path, file:///path or s3://bucket/prefix");
}

Status ValidateRemoteConfig(const RemoteConfig& cfg) {
  RETURN_IF_ERROR(RefuseVersionedCredentials(cfg, ""));
  if (cfg.url.starts_with("s3://")) return ParseS3Config(cfg).status();
  return OpenRemote(cfg).status();
}

}  // namespace forja
