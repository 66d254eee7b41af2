// Hydra's parsed elements with Python's value semantics (see override_values.h).
#include "forja/config/override_values.h"

#include <algorithm>

#include "forja/config/override_lexer.h"

namespace forja::config::hydra {

const char* PyTypeName(const PElem& e) {
  switch (e.t) {
    case PElem::kNull: return "NoneType";
    case PElem::kBool: return "bool";
    case PElem::kInt: return "int";
    case PElem::kFloat: return "float";
    case PElem::kStr: return "str";
    case PElem::kQuoted: return "QuotedString";
    case PElem::kList: return "list";
    case PElem::kDict: return "dict";
    case PElem::kChoice: return "ChoiceSweep";
    case PElem::kRange: return "RangeSweep";
    case PElem::kInterval: return "IntervalSweep";
    case PElem::kGlob: return "Glob";
  }
  return "?";
}

long double NumValue(const PElem& e) {
  if (e.t == PElem::kBool) return e.b ? 1 : 0;
  if (e.t == PElem::kInt) return static_cast<long double>(e.i);
  return e.f;
}

namespace {

// Python ==.
bool PyEq(const PElem& a, const PElem& b) {
  if (a.is_number() && b.is_number()) return NumValue(a) == NumValue(b);
  if (a.t != b.t) return false;
  switch (a.t) {
    case PElem::kNull: return true;
    case PElem::kStr: return a.s == b.s;
    case PElem::kQuoted: return a.s == b.s && a.quote == b.quote;
    case PElem::kList:
      if (a.items.size() != b.items.size()) return false;
      for (size_t k = 0; k < a.items.size(); k++)
        if (!PyEq(a.items[k], b.items[k])) return false;
      return true;
    case PElem::kDict:
      if (a.dict.size() != b.dict.size()) return false;
      for (const auto& [k, v] : a.dict) {
        bool found = false;
        for (const auto& [k2, v2] : b.dict) {
          if (PyEq(k, k2)) {
            found = PyEq(v, v2);
            break;
          }
        }
        if (!found) return false;
      }
      return true;
    default:
      return false;  // sweeps: compared by identity in Python
  }
}

// Python <; sets *err (a TypeError) when the two cannot be ordered.
bool PyLess(const PElem& a, const PElem& b, std::string* err) {
  if (a.is_number() && b.is_number()) return NumValue(a) < NumValue(b);
  if (a.t == PElem::kStr && b.t == PElem::kStr) return a.s < b.s;
  if (a.t == PElem::kList && b.t == PElem::kList) {
    size_t n = std::min(a.items.size(), b.items.size());
    for (size_t k = 0; k < n; k++)
      if (!PyEq(a.items[k], b.items[k])) return PyLess(a.items[k], b.items[k], err);
    return a.items.size() < b.items.size();
  }
  if (err->empty())
    *err = std::string("'<' not supported between instances of '") + PyTypeName(a) + "' and '" +
           PyTypeName(b) + "'";
  return false;
}

}  // namespace

// For fewer than 64 items exactly CPython's algorithm (one run, then binary
// insertion), so even inconsistent orders (nan) give CPython's result; above
// that a stable merge sort, which gives the same result for any consistent order.
bool PySort(std::vector<PElem>* v, bool reverse, std::string* err) {
  std::vector<PElem>& a = *v;
  if (reverse) std::reverse(a.begin(), a.end());
  size_t n = a.size();
  if (n >= 2 && n < 64) {
    // count_run
    size_t run = 2;
    if (PyLess(a[1], a[0], err)) {
      while (run < n && PyLess(a[run], a[run - 1], err)) run++;
      std::reverse(a.begin(), a.begin() + run);
    } else {
      while (run < n && !PyLess(a[run], a[run - 1], err)) run++;
    }
    // binarysort
    for (size_t start = run; start < n && err->empty(); start++) {
      size_t l = 0, r = start;
      do {
        size_t p = l + ((r - l) >> 1);
        if (PyLess(a[start], a[p], err)) r = p;
        else l = p + 1;
      } while (l < r);
      std::rotate(a.begin() + l, a.begin() + start, a.begin() + start + 1);
    }
  } else if (n >= 64) {
    std::vector<PElem> tmp(n);
    for (size_t width = 1; width < n && err->empty(); width *= 2) {
      for (size_t lo = 0; lo < n; lo += 2 * width) {
        size_t mid = std::min(lo + width, n), hi = std::min(lo + 2 * width, n);
        size_t x = lo, y = mid, o = lo;
        while (x < mid && y < hi) {
          if (PyLess(a[y], a[x], err)) tmp[o++] = std::move(a[y++]);
          else tmp[o++] = std::move(a[x++]);
        }
        while (x < mid) tmp[o++] = std::move(a[x++]);
        while (y < hi) tmp[o++] = std::move(a[y++]);
      }
      a.swap(tmp);
    }
  }
  if (!err->empty()) return false;
  if (reverse) std::reverse(a.begin(), a.end());
  return true;
}

void DictSet(PElem* d, PElem key, PElem value) {
  for (auto& [k, v] : d->dict) {
    if (PyEq(k, key)) {
      v = std::move(value);
      return;
    }
  }
  d->dict.push_back(PEntry{std::move(key), std::move(value)});
}

namespace {

// A dict key as a Node key: forja's mappings have string keys.
std::string KeyString(const PElem& k) {
  switch (k.t) {
    case PElem::kNull: return "null";
    case PElem::kBool: return k.b ? "true" : "false";
    case PElem::kInt: return std::to_string(k.i);
    case PElem::kFloat: return PythonFloatRepr(k.f);
    default: return k.s;
  }
}

}  // namespace

std::string HydraText(const PElem& e) {
  switch (e.t) {
    case PElem::kNull: return "null";
    case PElem::kBool: return e.b ? "True" : "False";
    case PElem::kInt: return std::to_string(e.i);
    case PElem::kFloat: return PythonFloatRepr(e.f);
    case PElem::kStr: return EscapeSpecial(e.s);
    case PElem::kQuoted: return WithQuotes(e.s, e.quote);
    case PElem::kList: {
      std::string out = "[";
      for (size_t k = 0; k < e.items.size(); k++) {
        if (k) out += ',';
        out += HydraText(e.items[k]);
      }
      return out + "]";
    }
    case PElem::kDict: {
      std::string out = "{";
      for (size_t k = 0; k < e.dict.size(); k++) {
        if (k) out += ',';
        out += HydraText(e.dict[k].key) + ":" + HydraText(e.dict[k].value);
      }
      return out + "}";
    }
    default: return "";  // sweeps never get here
  }
}

Node ToNode(const PElem& e) {
  switch (e.t) {
    case PElem::kNull: return Node::Null();
    case PElem::kBool: return Node::Bool(e.b);
    case PElem::kInt: return Node::Int(e.i);
    case PElem::kFloat: return Node::Float(e.f);
    case PElem::kStr: case PElem::kQuoted: return Node::String(e.s);
    case PElem::kList: {
      std::vector<Node> items;
      for (const PElem& x : e.items) items.push_back(ToNode(x));
      return Node::List(std::move(items));
    }
    case PElem::kDict: {
      Node m = Node::Map();
      for (const auto& [k, v] : e.dict) m.Set(KeyString(k), ToNode(v));
      return m;
    }
    default: return Node::Null();
  }
}

const PElem* NestedSweep(const PElem& e) {
  if (e.is_sweep() || e.t == PElem::kGlob) return &e;
  for (const PElem& x : e.items)
    if (const PElem* n = NestedSweep(x)) return n;
  for (const auto& kv : e.dict)
    if (const PElem* n = NestedSweep(kv.value)) return n;
  return nullptr;
}

}  // namespace forja::config::hydra
