#pragma once

#include <memory>

#include "forja/remote/remote.h"

namespace forja {

// A remote that is a folder: a local disk, or an NFS mount.
Result<std::unique_ptr<Remote>> OpenLocalRemote(const RemoteConfig& cfg, const std::string& path);

}  // namespace forja
