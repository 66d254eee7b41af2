#include "forja/cli/model_spec.h"

#include "forja/core/path.h"
#include "forja/registry/package.h"

namespace forja {

Result<runtime::ModelSpec> ModelSpecFor(const std::string& package_dir) {
  ASSIGN_OR_RETURN(registry::ModelPackage pkg, registry::LoadPackage(package_dir));
  runtime::ModelSpec spec;
  spec.dir = package_dir;
  spec.flavor = pkg.flavor;
  spec.model_file = pkg.model_file;
  spec.inputs = pkg.inputs;
  spec.outputs = pkg.outputs;
  spec.python_module = pkg.python_module;
  spec.python_function = pkg.python_function;
  return spec;
}

}  // namespace forja
