// The runtime's view of a model package folder (registry/package.h -> runtime/model.h).
#pragma once

#include <string>

#include "forja/core/status.h"
#include "forja/runtime/model.h"

namespace forja {

Result<runtime::ModelSpec> ModelSpecFor(const std::string& package_dir);

}  // namespace forja
