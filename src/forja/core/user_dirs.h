// The per-user folder for what forja keeps outside a workspace (downloaded model
// packages, the prediction log of forja serve run outside a workspace).
#pragma once

#include <string>

#include "forja/core/status.h"

namespace forja {

// $XDG_CACHE_HOME/forja, else $HOME/.cache/forja, else /tmp/forja-<uid>; made
// (mode 0700) when missing. Refused unless it is a real folder (not a symlink)
// owned by this user that no one else can write; the /tmp fallback, in a folder
// everyone shares, must also be closed to everyone else (mode 0700).
Result<std::string> UserCacheDir();

}  // namespace forja
