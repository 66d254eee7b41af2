// Interpolation as OmegaConf 2.3 resolves it: "${a.b}", relative "${..x}",
// list indexes "${a.0}" / "${a[0]}", string interpolation ("${a}/${b}.csv"),
// nested interpolation ("${oc.env:${x}}"), escapes ("\${...}"), and the
// resolvers oc.env, oc.select, oc.decode, oc.create, oc.deprecated,
// oc.dict.keys, oc.dict.values and Hydra's now and hydra.
//
// The grammar is OmegaConf's (omegaconf/grammar/OmegaConfGrammar{Lexer,Parser}.g4),
// parsed by hand; resolver arguments are typed as OmegaConf types them
// (null, bool, int, float, quoted and unquoted strings, lists, dicts).
//
// A whole-value interpolation ("${a}") keeps the type of what it points to; a
// reference to a dict or list gives a resolved copy of it. Anything else is a
// string, with each interpolation converted as Python's str() does (True, None,
// 1e-05, "{'a': 1}"). A resolver's string result is final: it is not resolved
// again, even if it contains "${".
//
// Every error is Status::User and one line naming the key, e.g.
//   interpolation ${a.c} at x.y: key 'a.c' not found
//   interpolation cycle: a -> b -> c -> a
//   malformed interpolation at x, column 4 of "${a": missing '}' ...
//   a: missing mandatory value (???); set it with an override such as a=VALUE
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "forja/config/node.h"
#include "forja/core/status.h"

namespace forja::config {

struct ResolveOptions {
  // Looks up an environment variable for ${oc.env:...}; unset means the
  // process environment.
  std::function<std::optional<std::string>(const std::string&)> getenv;
  // The time ${now:...} formats (local time); unset means the clock when the
  // resolution starts. One resolution uses one time for every ${now:...}.
  std::optional<std::chrono::system_clock::time_point> now;
  // Hydra's runtime config, resolved, for ${hydra:KEY} (hydra_runtime.h);
  // null means the hydra resolver is unknown.
  const Node* hydra = nullptr;
};

// Resolves every interpolation in the tree in place, as OmegaConf.resolve()
// does: "???" values stay as they are, and an interpolation that needs a "???"
// value becomes "???" itself (reading it later is the error). Returns the first
// error otherwise (the tree is then unchanged).
Status ResolveAll(Node& root, const ResolveOptions& options = {});

// The resolved value at a dotted path ("a.b.0"; "a.b[0]" works too; "" is the
// root). A dict or list comes back fully resolved. A "???" at the path, or one
// an interpolation on the way needs, is an error naming the missing key.
Result<Node> ResolveValue(const Node& root, std::string_view path,
                          const ResolveOptions& options = {});

// Checks that a string value parses with OmegaConf's interpolation grammar
// (without resolving anything). `where` names the key in the message.
Status CheckInterpolationSyntax(std::string_view value, std::string_view where = "value");

}  // namespace forja::config
