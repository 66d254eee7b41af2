// Command-line overrides with Hydra 1.3's grammar, exactly: `key=value`,
// `+key=value` (add), `++key=value` (add or change), `~key` / `~key=value`
// (delete), `group=option`, `group@package=option`, and values that are
// primitives, quoted strings, lists, dicts, interpolations kept as text, or
// sweeps (`a,b,c`, choice(), range(), interval(), glob(), with sort(),
// shuffle(), tag() and the casts int(), float(), str(), bool()).
//
// The parser is hand-written (recursive descent over a longest-match lexer that
// mirrors Hydra's ANTLR lexer, mode for mode); tests/config/overrides.jsonl is
// the conformance table both forja and Hydra itself are checked against, and
// it lists the few places where forja deliberately differs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "forja/config/node.h"
#include "forja/core/status.h"

namespace forja::config {

// One value as Hydra parses it: its Node, plus its text the way Hydra renders
// it back (Override._get_value_element_as_str: quotes kept as typed, special
// characters of unquoted strings escaped, bools as True/False). Hydra's
// BasicSweeper builds each job's override from that text and parses it again;
// SweepJobOverrides (sweep.h) does the same, so jobs see exactly what Hydra's jobs see.
struct Element {
  Node node;
  std::string text;
};

// `a,b,c` (simple_form) or choice(a,b,c).
struct ChoiceSweep {
  std::vector<Element> items;
  bool simple_form = false;
  bool shuffle = false;           // shuffle(...): expansion order is shuffled
  std::vector<std::string> tags;  // tag(...), sorted
};

// range(start, stop, step): Python's range for ints (bools count as ints), and
// Hydra's decimal FloatRange when any of the three is a float.
struct RangeSweep {
  Node start, stop, step;  // int, float or bool Nodes
  bool shuffle = false;
  std::vector<std::string> tags;
};

// interval(start, end): a continuous range, for sweepers that sample; it has no
// list of values (Hydra's BasicSweeper refuses it, and so does SweepValues).
struct IntervalSweep {
  Node start, end;  // floats (ints after int())
  std::vector<std::string> tags;
};

// glob(include, exclude): the options of the config group whose names match
// any include pattern and no exclude pattern (fnmatch syntax: * ? [a-z] [!x]).
struct GlobSweep {
  std::vector<std::string> include, exclude;
};

struct Value {
  std::variant<Element, ChoiceSweep, RangeSweep, IntervalSweep, GlobSweep> v;

  bool is_sweep() const { return v.index() != 0; }
  // The element; only for !is_sweep().
  const Element& element() const { return std::get<Element>(v); }
  const Node& node() const { return element().node; }
};

struct Override {
  enum class Op {
    kChange,    // key=value
    kAdd,       // +key=value
    kForceAdd,  // ++key=value
    // ~key, ~key=value. With a value, Hydra deletes only if the current value
    // equals it; a null value (which is how Hydra's sweeper re-renders a bare
    // ~key: "~key=null") deletes whatever the value is.
    kDelete,
  };
  Op op = Op::kChange;
  std::string key;  // "db.host", "db", "hydra/launcher", "" (Hydra allows "=x")
  // From key@package. "" is a real package (key@=x: the global package), so
  // "no package" is nullopt.
  std::optional<std::string> package;
  std::optional<Value> value;  // absent only for "~key"
  std::string input;           // the text parsed

  bool is_sweep() const { return value && value->is_sweep(); }
  bool is_delete() const { return op == Op::kDelete; }
  bool is_add() const { return op == Op::kAdd; }
  bool is_force_add() const { return op == Op::kForceAdd; }
  // Hydra's is_hydra_override: the key starts with "hydra." or "hydra/".
  bool is_hydra_override() const;
  // Hydra's get_key_element: "~" / "+" / "++", the key, "@package".
  std::string KeyElement() const;
};

// Parses one override. Errors are Status::User and read
//   override '<text>': column <n>: <what is wrong, and what to do>
// with n counted in characters from 1.
Result<Override> ParseOverride(std::string_view text);

// How override messages quote input: control characters as \xNN.
std::string PrintableText(std::string_view s);
Result<std::vector<Override>> ParseOverrides(const std::vector<std::string>& texts);

// How values are written back.
enum class Style {
  // As Hydra writes them: an element is its Hydra text (Element::text); a sweep
  // has no Hydra text, so it is written in forja's canonical syntax.
  kHydra,
  // Lossless: ParseOverride(FormatOverride(o, kExact)) has the same key, op,
  // package and Nodes as o. Differs from kHydra only where Hydra's own text
  // would not parse back to the same value (e.g. str(1) is the string "1",
  // which Hydra writes as 1; kExact writes '1').
  kExact,
};
std::string FormatValue(const Value& value, Style style = Style::kHydra);
// KeyElement(), then "=" and the value (none for a bare "~key").
std::string FormatOverride(const Override& o, Style style = Style::kHydra);

// The canonical JSON of a parse, one line, keys sorted; the format of
// tests/config/overrides.jsonl (see tests/config/overrides.md):
//   {"key":"a","op":"change","package":null,"value":{"elem":1,"str":"1"}}
// with_text=false leaves out the "str" texts.
std::string OverrideToJson(const Override& o, bool with_text = true);

}  // namespace forja::config
