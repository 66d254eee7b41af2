// Hydra's grammar functions (hydra/_internal/grammar/grammar_functions.py):
// choice, range, interval, glob, sort, shuffle, tag and the casts int, float,
// str and bool, run on parsed elements with Python's argument binding
// (inspect.Signature.bind), Hydra's type checks of the bound arguments, and
// Hydra's semantics. Internal to config/ (the override parser calls them).
#pragma once

#include <string>
#include <vector>

#include "forja/config/override_values.h"

namespace forja::config::hydra {

struct Arg {
  std::string name;  // "" for a positional argument
  PElem value;
};

// The names of the functions, for messages.
inline constexpr const char* kFunctionNames =
    "bool, choice, float, glob, int, interval, range, shuffle, sort, str, tag";

// Calls the function `name` (one of kFunctionNames) on its arguments, in the
// order written (positional ones first). On failure *err says why, without the
// function's name (the caller adds "name(): "), except for an unknown function,
// whose message starts "unknown function".
bool CallFunction(const std::string& name, std::vector<Arg> args, PElem* out, std::string* err);

// glob()'s include or exclude as strings. Hydra keeps whatever it is given and
// fails only when the glob is expanded; forja checks when the glob is the
// value (not earlier: a dict may still drop it, {1:glob(x),true:y}).
bool GlobPatterns(const PElem& v, std::vector<std::string>* out, std::string* err);

}  // namespace forja::config::hydra
