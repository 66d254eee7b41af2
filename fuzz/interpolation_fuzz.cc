// Fuzzes the interpolation parser and resolver (forja/config/interpolation.h):
// config values come from YAML files and command-line overrides.
//
// Input: the text of one value, `v`, set verbatim (any bytes) in a small fixed
// config whose other keys give interpolations something to reach: scalars of
// each type, a "???", a list, a dict with relative interpolations, and `r`,
// which refers back to `v` (so `v` can close cycles). The environment and the
// clock are fixed.
//
// Invariants, beyond "no crash, no hang" (cycles, deep nesting):
//  - every failure is a user error, one line;
//  - CheckInterpolationSyntax fails exactly when resolving `v` reports it as
//    malformed ("malformed interpolation at v, column N ..." with N inside the
//    text);
//  - ResolveAll and ResolveValue("v") agree: equal values, or ResolveAll gives
//    "???" where ResolveValue fails on a missing value; and the other keys of
//    the fixed config keep their known values;
//  - ResolveAll is deterministic (a second run gives the same tree).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "forja/config/interpolation.h"
#include "forja/config/node.h"
#include "fuzz_check.h"

namespace {

using forja::config::Node;
using forja::fuzz::Show;

Node FixedConfig(std::string v) {
  Node d = Node::Map({{"x", Node::Int(1)}, {"y", Node::String("${.x}")}, {"z", Node::String("${..s}")}});
  Node l = Node::List({Node::Int(1), Node::String("two"), Node::Map({{"x", Node::Float(3.5)}})});
  return Node::Map({
      {"v", Node::String(std::move(v))},
      {"a", Node::Int(1)},
      {"s", Node::String("text")},
      {"f", Node::Float(1e-5)},
      {"b", Node::Bool(true)},
      {"n", Node::Null()},
      {"m", Node::String("???")},
      {"l", std::move(l)},
      {"d", std::move(d)},
      {"k", Node::String("a")},
      {"r", Node::String("${v}")},
  });
}

forja::config::ResolveOptions Options() {
  forja::config::ResolveOptions o;
  o.getenv = [](const std::string& name) -> std::optional<std::string> {
    if (name == "HOME") return std::string("/home/fuzz");
    if (name == "N") return std::string("42");
    if (name == "I") return std::string("${a}");
    return std::nullopt;
  };
  o.now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  return o;
}

void CheckError(const forja::Status& st, const std::string& input) {
  FUZZ_CHECK(st.code() == forja::Code::kUser, st.message() + " for " + Show(input));
  FUZZ_CHECK(!st.message().empty(), Show(input));
  FUZZ_CHECK(st.message().find('\n') == std::string::npos, st.message());
}

bool IsMissingError(const forja::Status& st) {
  return st.message().find(": missing mandatory value (???") != std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  const auto options = Options();
  const Node original = FixedConfig(input);

  forja::Status syntax = forja::config::CheckInterpolationSyntax(input, "v");
  if (!syntax.ok()) CheckError(syntax, input);

  auto value = forja::config::ResolveValue(original, "v", options);
  if (!value.ok()) CheckError(value.status(), input);
  const std::string malformed = "malformed interpolation at v, column ";
  bool reported_malformed = !value.ok() && forja::fuzz::StartsWith(value.status().message(), malformed);
  FUZZ_CHECK(reported_malformed == !syntax.ok(),
             "syntax: " + syntax.message() + " / resolve: " +
                 (value.ok() ? std::string("ok") : value.status().message()));
  if (!syntax.ok()) {
    size_t col = std::stoul(syntax.message().substr(malformed.size()));
    FUZZ_CHECK(col >= 1 && col <= input.size() + 1, syntax.message());
  }

  Node all = original;
  forja::Status st = forja::config::ResolveAll(all, options);
  if (!st.ok()) {
    CheckError(st, input);
    FUZZ_CHECK(all == original, "a failed ResolveAll changed the tree");
    return 0;
  }
  const Node* v = all.Find("v");
  FUZZ_CHECK(v != nullptr, "v is gone");
  if (value.ok()) {
    FUZZ_CHECK(*v == *value, forja::config::ToJson(*v, 0) + " vs " + forja::config::ToJson(*value, 0));
  } else {
    FUZZ_CHECK(IsMissingError(value.status()) && v->is_missing(),
               value.status().message() + " but ResolveAll gives " + forja::config::ToJson(*v, 0));
  }
  FUZZ_CHECK(all.Find("a") && *all.Find("a") == Node::Int(1), "a changed");
  FUZZ_CHECK(all.Find("m") && all.Find("m")->is_missing(), "m changed");
  const Node* d = all.Find("d");
  FUZZ_CHECK(d && d->Find("y") && *d->Find("y") == Node::Int(1), "d.y");
  FUZZ_CHECK(d->Find("z") && *d->Find("z") == Node::String("text"), "d.z");
  // r is ${v}: the same value, unless v's value is a container holding r's
  // parent... which is the root, refused as a cycle; so always the same.
  FUZZ_CHECK(all.Find("r") && *all.Find("r") == *v, "r differs from v");

  Node again = original;
  forja::Status st2 = forja::config::ResolveAll(again, options);
  FUZZ_CHECK(st2.ok() && again == all, "ResolveAll is not deterministic");
  return 0;
}
