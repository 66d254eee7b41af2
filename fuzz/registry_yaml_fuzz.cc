// fuzz-libs: forja_registry
// Fuzzes what the registry reads from users: model.yaml (a package's manifest,
// checked by `forja models register`), promotion gates, and the `models:`
// policy section of forja.yaml.
//
// Input: the first byte picks the parser (0: model.yaml, 1: one gate, 2: a
// forja.yaml with a models: section); the rest is the text.
//
// Invariants, beyond "no crash":
//  - a failure is a user error naming where: "model.yaml:...", "forja.yaml:...",
//    or the gate's origin and "gate '<text>'";
//  - a parsed package has a flavor, at least one input, and every tensor a name
//    and a canonical datatype; a parsed gate has one of the six operators.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "forja/config/node.h"
#include "forja/config/yaml_fast.h"
#include "forja/registry/gates.h"
#include "forja/registry/package.h"
#include "fuzz_check.h"

namespace {

using forja::fuzz::Show;
using forja::fuzz::StartsWith;

void CheckUserError(const forja::Status& st, std::string_view prefix, std::string_view text) {
  FUZZ_CHECK(st.code() == forja::Code::kUser, st.message() + " from " + Show(text));
  FUZZ_CHECK(StartsWith(st.message(), prefix), st.message() + " from " + Show(text));
}

void Package(const std::string& text) {
  auto p = forja::registry::ParsePackageYaml(text, "model.yaml");
  if (!p.ok()) return CheckUserError(p.status(), "model.yaml", text);
  FUZZ_CHECK(p->flavor == "xgboost" || p->flavor == "python", p->flavor);
  FUZZ_CHECK(!p->inputs.empty(), Show(text));
  for (const auto* list : {&p->inputs, &p->outputs})
    for (const auto& t : *list) {
      FUZZ_CHECK(!t.name.empty(), Show(text));
      FUZZ_CHECK(forja::registry::CanonicalDatatype(t.datatype) == t.datatype, t.datatype);
    }
}

void Gate(const std::string& text) {
  auto g = forja::registry::ParseGate(text, "forja.yaml:3");
  if (!g.ok()) return CheckUserError(g.status(), "forja.yaml:3: gate '", text);
  static const std::set<std::string> kOps = {">=", ">", "<=", "<", "==", "!="};
  FUZZ_CHECK(kOps.count(g->op) == 1, g->op + " from " + Show(text));
}

void Policies(const std::string& text) {
  auto root = forja::config::ParseConfigYaml(text, "forja.yaml");
  if (!root.ok()) return CheckUserError(root.status(), "forja.yaml", text);
  const forja::config::Node* models = root->is_map() ? root->Find("models") : nullptr;
  auto p = forja::registry::ParsePolicies(models, "forja.yaml");
  if (!p.ok()) return CheckUserError(p.status(), "forja.yaml", text);
  for (const auto& [name, policy] : p->models)
    for (const auto& [target, gates] : policy.gates) {
      FUZZ_CHECK(!forja::registry::NormalizeTarget(target).empty(), target);
      (void)p->GatesFor(name, target);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: Package(text); break;
    case 1: Gate(text); break;
    default: Policies(text); break;
  }
  return 0;
}
