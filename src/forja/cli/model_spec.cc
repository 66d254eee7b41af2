#include "forja/cli/model_spec.h"

#include "forja/registry/package.h"
#include "forja/serve/serve.h"

namespace forja {

Result<runtime::ModelSpec> ModelSpecFor(const std::string& package_dir) {
  ASSIGN_OR_RETURN(registry::ModelPackage pkg, registry::LoadPackage(package_dir));
  return serve::SpecFor(pkg, package_dir);
}

}  // namespace forja
