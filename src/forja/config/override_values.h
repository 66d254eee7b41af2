// Hydra's parsed elements with Python's value semantics. PElem mirrors what
// Hydra's visitor (HydraOverrideVisitor) returns: Python None/bool/int/float/
// str, QuotedString (quotes remembered), list, dict (typed keys), and the sweep
// objects; here also ==, < and sorted() as Python computes them on those, dict
// insertion, the text Hydra renders an element as, and the Node it becomes.
// Only the final result of a parse is turned into the public Value.
// Internal to config/ (the override parser and the grammar functions).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "forja/config/node.h"

namespace forja::config::hydra {

struct PEntry;

struct PElem {
  enum T : uint8_t {
    kNull, kBool, kInt, kFloat, kStr, kQuoted, kList, kDict,
    kChoice, kRange, kInterval, kGlob,
  };
  T t = kNull;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;  // kStr, kQuoted
  char quote = 0;
  // kList, kChoice; kRange: start, stop, step; kInterval: start, end;
  // kGlob: include, exclude (as given: str, list or null)
  std::vector<PElem> items;
  std::vector<PEntry> dict;                   // kDict, in insertion order
  bool simple = false, shuffle = false;       // kChoice (shuffle: kRange too)
  std::vector<std::string> tags;              // sorted set
  size_t offset = 0;                          // where it was written, for errors

  // Defined below the class: clang needs PElem complete before it builds one.
  static PElem Null();
  static PElem Bool(bool v);
  static PElem Int(int64_t v);
  static PElem Float(double v);
  static PElem Str(std::string v);

  bool is_sweep() const { return t == kChoice || t == kRange || t == kInterval; }
  bool is_number() const { return t == kBool || t == kInt || t == kFloat; }
  // Hydra's ParsedElementType: no sweeps, no Glob.
  bool is_parsed_element() const { return t <= kDict; }
};

// A dict entry (not std::pair: its checks recurse on an incomplete PElem in clang).
struct PEntry {
  PElem key, value;
};

inline PElem PElem::Null() { return PElem(); }
inline PElem PElem::Bool(bool v) { PElem e; e.t = kBool; e.b = v; return e; }
inline PElem PElem::Int(int64_t v) { PElem e; e.t = kInt; e.i = v; return e; }
inline PElem PElem::Float(double v) { PElem e; e.t = kFloat; e.f = v; return e; }
inline PElem PElem::Str(std::string v) { PElem e; e.t = kStr; e.s = std::move(v); return e; }

// Python's type(x).__name__: "NoneType", "int", ..., "QuotedString", "ChoiceSweep".
const char* PyTypeName(const PElem& e);

// A number (bool, int or float) as Python compares them: bool is an int, int
// vs float exactly.
long double NumValue(const PElem& e);

// Python's sorted(v, reverse=...). Sets *err (a TypeError, as Python words it)
// when two items cannot be ordered.
bool PySort(std::vector<PElem>* v, bool reverse, std::string* err);

// Python dict insertion: a key equal to an existing one (1 == 1.0 == True)
// replaces that entry's value and keeps the first key.
void DictSet(PElem* d, PElem key, PElem value);

// Override._get_value_element_as_str: the text Hydra renders a parsed element as.
std::string HydraText(const PElem& e);

// The Node of a parsed element (not a sweep).
Node ToNode(const PElem& e);

// Where a sweep sits inside a list or dict (Hydra keeps the object there and
// fails later; forja refuses it at once). Null if none.
const PElem* NestedSweep(const PElem& e);

}  // namespace forja::config::hydra
