// Input limits, all in one place. Anything a client controls that could make
// forja recurse, build an unbounded SQL statement or store an unbounded string is
// checked against one of these before the work starts, and refused with a user
// error (a 400 from a server) that names the limit. Change a limit here, and the
// README's "Security model" section with it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "forja/core/status.h"
#include "forja/core/utf8.h"

namespace forja::limits {

// JSON request bodies (forja server; forja serve's reader has the same depth):
// nesting deeper than this is refused before anything walks the tree, so no
// parse, copy, comparison or dump can run out of stack. MLflow's requests nest 4 deep.
inline constexpr size_t kMaxJsonDepth = 64;

// Searches (runs, experiments, registered models, model versions). A clause on a
// metric, param or tag is one SQL join, and so is an order_by key: SQLite joins at
// most 64 tables, so clauses + keys stay below that on every store.
inline constexpr size_t kMaxFilterBytes = 64 * 1024;  // the filter text
inline constexpr size_t kMaxFilterClauses = 50;       // clauses joined by AND
inline constexpr size_t kMaxFilterValues = 1000;      // values in all IN (...) lists of one filter
inline constexpr size_t kMaxOrderByKeys = 10;         // order_by entries
inline constexpr size_t kMaxSearchExperiments = 1000; // experiment_ids of one runs/search

// Keys and values MLflow accepts (the same numbers as MLflow's server).
inline constexpr size_t kMaxKeyBytes = 250;
inline constexpr size_t kMaxParamValueBytes = 6000;
inline constexpr size_t kMaxTagValueBytes = 8000;

// "filter has 999 clauses; at most 50 are allowed": the one shape of a limit's error.
inline Status TooMany(std::string_view what, size_t n, std::string_view unit, size_t max) {
  return Status::User(std::string(what) + " has " + std::to_string(n) + " " + std::string(unit) + "; at most " +
                      std::to_string(max) + " are allowed");
}

// Checks JSON text before it is parsed: valid UTF-8 (RFC 8259 requires it), and
// arrays and objects nested at most kMaxJsonDepth deep. One pass over the bytes,
// no recursion; `what` names the text in the error ("the request body").
inline Status CheckJsonText(std::string_view text, std::string_view what) {
  size_t bad = FindInvalidUtf8(text);
  if (bad != std::string_view::npos)
    return Status::User(std::string(what) + " is not valid UTF-8 (byte " + std::to_string(bad + 1) + ")");
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); i++) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') i++;  // the escaped character cannot end the string
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        return Status::User(std::string(what) + " nests JSON more than " + std::to_string(kMaxJsonDepth) +
                            " levels deep (byte " + std::to_string(i + 1) + "); at most " +
                            std::to_string(kMaxJsonDepth) + " levels are allowed");
    } else if ((c == ']' || c == '}') && depth > 0) {
      depth--;
    }
  }
  return Status::Ok();
}

}  // namespace forja::limits
