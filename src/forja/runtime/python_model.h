// The python runtime: a pool of worker processes, each running the package's
// python module and calling its predict function on batches sent over pipes.
#pragma once

#include <memory>

#include "forja/runtime/model.h"

namespace forja::runtime {

Result<std::unique_ptr<Model>> LoadPythonModel(const ModelSpec& spec);

}  // namespace forja::runtime
