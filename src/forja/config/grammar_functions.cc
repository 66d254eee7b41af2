// Hydra's grammar functions on parsed elements (see grammar_functions.h).
#include "forja/config/grammar_functions.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "forja/config/py_values.h"
#include "forja/config/sweep.h"
#include "forja/core/strings.h"

namespace forja::config::hydra {

namespace {

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

enum class Cast { kInt, kFloat, kStr, kBool };
const char* CastName(Cast c) {
  switch (c) {
    case Cast::kInt: return "int";
    case Cast::kFloat: return "float";
    case Cast::kStr: return "str";
    case Cast::kBool: return "bool";
  }
  return "?";
}

bool CastValue(Cast c, const PElem& v, PElem* out, std::string* err);

// cast_choice: every item cast, the simple form kept; shuffle and tags dropped.
bool CastChoice(Cast c, const PElem& v, PElem* out, std::string* err) {
  PElem r;
  r.t = PElem::kChoice;
  r.simple = v.simple;
  r.offset = v.offset;
  for (const PElem& x : v.items) {
    PElem y;
    if (!CastValue(c, x, &y, err)) return false;
    if (!y.is_parsed_element() || y.t == PElem::kNull || y.t == PElem::kQuoted) {
      *err = std::string("cannot cast ") + PyTypeName(x) + " in a choice";
      return false;
    }
    r.items.push_back(std::move(y));
  }
  *out = std::move(r);
  return true;
}

bool CastScalar(Cast c, const PElem& v, PElem* out, std::string* err) {
  switch (c) {
    case Cast::kInt:
      switch (v.t) {
        case PElem::kBool: *out = PElem::Int(v.b); return true;
        case PElem::kInt: *out = v; return true;
        case PElem::kFloat:
          if (std::isnan(v.f)) {
            *err = "cannot convert float NaN to integer";
            return false;
          }
          if (std::isinf(v.f)) {
            *err = "cannot convert float infinity to integer";
            return false;
          }
          if (!(v.f > -9223372036854775809.0 && v.f < 9223372036854775808.0)) {
            *err = "int(" + PythonFloatRepr(v.f) + ") does not fit in 64 bits";
            return false;
          }
          *out = PElem::Int(static_cast<int64_t>(std::trunc(v.f)));
          return true;
        case PElem::kStr: {
          int64_t x;
          switch (PyIntFromString(v.s, &x)) {
            case PyIntParse::kOk: *out = PElem::Int(x); return true;
            case PyIntParse::kNotAnInt: *err = "invalid literal for int() with base 10: " + Quote(v.s); break;
            case PyIntParse::kTooBig: *err = "int " + std::string(PyStrip(v.s)) + " does not fit in 64 bits"; break;
          }
          return false;
        }
        default: break;
      }
      break;
    case Cast::kFloat:
      switch (v.t) {
        case PElem::kBool: *out = PElem::Float(v.b ? 1.0 : 0.0); return true;
        case PElem::kInt: *out = PElem::Float(static_cast<double>(v.i)); return true;
        case PElem::kFloat: *out = v; return true;
        case PElem::kStr: {
          double x;
          if (!PyFloatFromString(v.s, &x)) {
            *err = "could not convert string to float: " + Quote(v.s);
            return false;
          }
          *out = PElem::Float(x);
          return true;
        }
        default: break;
      }
      break;
    case Cast::kStr:
      switch (v.t) {
        case PElem::kBool: *out = PElem::Str(v.b ? "true" : "false"); return true;
        case PElem::kInt: *out = PElem::Str(std::to_string(v.i)); return true;
        case PElem::kFloat: *out = PElem::Str(PythonFloatRepr(v.f)); return true;
        case PElem::kStr: *out = v; return true;
        default: break;
      }
      break;
    case Cast::kBool:
      switch (v.t) {
        case PElem::kNull: *out = PElem::Bool(false); return true;  // Python's bool(None)
        case PElem::kGlob: *out = PElem::Bool(true); return true;   // an object is true
        case PElem::kBool: *out = v; return true;
        case PElem::kInt: *out = PElem::Bool(v.i != 0); return true;
        case PElem::kFloat: *out = PElem::Bool(v.f != 0); return true;
        case PElem::kStr:
          if (EqualsNoCase(v.s, "false")) {
            *out = PElem::Bool(false);
            return true;
          }
          if (EqualsNoCase(v.s, "true")) {
            *out = PElem::Bool(true);
            return true;
          }
          *err = "cannot cast " + Quote(v.s) + " to bool (only true and false, in any case)";
          return false;
        default: break;
      }
      break;
  }
  *err = std::string("cannot cast ") + (v.t == PElem::kNull ? "null" : PyTypeName(v)) + " to " +
         CastName(c);
  return false;
}

bool CastValue(Cast c, const PElem& v, PElem* out, std::string* err) {
  switch (v.t) {
    case PElem::kQuoted: return CastValue(c, PElem::Str(v.s), out, err);
    case PElem::kDict: {
      PElem r;
      r.t = PElem::kDict;
      for (const auto& [k, x] : v.dict) {
        PElem y;
        if (!CastValue(c, x, &y, err)) return false;
        r.dict.push_back(PEntry{k, std::move(y)});
      }
      *out = std::move(r);
      return true;
    }
    case PElem::kList: {
      PElem r;
      r.t = PElem::kList;
      for (const PElem& x : v.items) {
        PElem y;
        if (!CastValue(c, x, &y, err)) return false;
        r.items.push_back(std::move(y));
      }
      *out = std::move(r);
      return true;
    }
    case PElem::kChoice: return CastChoice(c, v, out, err);
    case PElem::kRange: {
      if (c == Cast::kStr || c == Cast::kBool) {
        *err = "a range can only be cast to int or float";
        return false;
      }
      PElem r;
      r.t = PElem::kRange;
      r.offset = v.offset;
      for (const PElem& x : v.items) {
        PElem y;
        if (!CastScalar(c, x, &y, err)) return false;
        r.items.push_back(std::move(y));
      }
      *out = std::move(r);
      return true;
    }
    case PElem::kInterval: {
      if (c == Cast::kStr || c == Cast::kBool) {
        *err = std::string("an interval cannot be cast to ") + CastName(c);
        return false;
      }
      PElem r = v;
      for (PElem& x : r.items)
        if (!CastScalar(c, PElem(x), &x, err)) return false;
      *out = std::move(r);
      return true;
    }
    default:
      return CastScalar(c, v, out, err);
  }
}

// Python's inspect.Signature.bind for the grammar functions, then Hydra's
// is_type_matching check of each bound argument.
struct Param {
  const char* name;
  enum Kind { kPositional, kVarPositional, kKeywordOnly } kind;
  bool required;
  bool (*accepts)(const PElem&);
  const char* type_desc;
};

struct Bound {
  std::vector<PElem> varargs;
  std::vector<std::optional<PElem>> named;  // by parameter index
};

bool AcceptCastType(const PElem& e) { return e.t != PElem::kGlob; }
bool AcceptChoiceArg(const PElem& e) {
  return (e.is_parsed_element() && e.t != PElem::kNull) || e.t == PElem::kChoice;
}
bool AcceptNumber(const PElem& e) { return e.is_number(); }
bool AcceptNumberOrNull(const PElem& e) { return e.is_number() || e.t == PElem::kNull; }
bool AcceptTagArg(const PElem& e) { return e.t == PElem::kStr || e.is_sweep(); }
bool AcceptSweepOrNull(const PElem& e) { return e.is_sweep() || e.t == PElem::kNull; }
bool AcceptSortArg(const PElem& e) {
  return (e.is_parsed_element() && e.t != PElem::kNull) || e.t == PElem::kChoice ||
         e.t == PElem::kRange;
}
bool AcceptChoiceRangeOrNull(const PElem& e) {
  return e.t == PElem::kChoice || e.t == PElem::kRange || e.t == PElem::kNull;
}
bool AcceptListOrNull(const PElem& e) { return e.t == PElem::kList || e.t == PElem::kNull; }
bool AcceptBool(const PElem& e) { return e.t == PElem::kBool; }
bool AcceptListOrStr(const PElem& e) { return e.t == PElem::kList || e.t == PElem::kStr; }
bool AcceptListStrOrNull(const PElem& e) { return AcceptListOrStr(e) || e.t == PElem::kNull; }

bool Bind(const std::vector<Param>& params, std::vector<Arg> args, Bound* b, std::string* err) {
  b->named.assign(params.size(), std::nullopt);
  size_t pi = 0;
  size_t ai = 0;
  for (; ai < args.size() && args[ai].name.empty(); ai++) {
    while (pi < params.size() && params[pi].kind == Param::kKeywordOnly) pi++;
    if (pi >= params.size()) {
      *err = "too many positional arguments";
      return false;
    }
    if (params[pi].kind == Param::kVarPositional) {
      b->varargs.push_back(std::move(args[ai].value));
    } else {
      b->named[pi++] = std::move(args[ai].value);
    }
  }
  for (; ai < args.size(); ai++) {
    size_t k = 0;
    while (k < params.size() &&
           (params[k].name != args[ai].name || params[k].kind == Param::kVarPositional))
      k++;
    if (k == params.size()) {
      *err = "got an unexpected keyword argument '" + args[ai].name + "'";
      return false;
    }
    if (b->named[k]) {
      *err = "multiple values for argument '" + args[ai].name + "'";
      return false;
    }
    b->named[k] = std::move(args[ai].value);
  }
  for (size_t k = 0; k < params.size(); k++) {
    if (params[k].required && !b->named[k]) {
      *err = std::string("missing a required argument: '") + params[k].name + "'";
      return false;
    }
  }
  for (size_t k = 0; k < params.size(); k++) {
    const Param& p = params[k];
    if (p.kind == Param::kVarPositional) {
      for (const PElem& v : b->varargs) {
        if (!p.accepts(v)) {
          *err = "an argument must be " + std::string(p.type_desc) + ", not " +
                 (v.t == PElem::kNull ? std::string("null") : PyTypeName(v));
          return false;
        }
      }
    } else if (b->named[k] && !p.accepts(*b->named[k])) {
      *err = std::string("argument '") + p.name + "' must be " + p.type_desc + ", not " +
             (b->named[k]->t == PElem::kNull ? std::string("null") : PyTypeName(*b->named[k]));
      return false;
    }
  }
  return true;
}

// _list_to_simple_choice
bool SimpleChoice(std::vector<PElem> args, PElem* out, std::string* err) {
  PElem r;
  r.t = PElem::kChoice;
  r.simple = true;
  for (PElem& a : args) {
    if (!a.is_parsed_element()) {
      *err = std::string("a ") + PyTypeName(a) + " cannot be one of several values here";
      return false;
    }
    r.items.push_back(std::move(a));
  }
  *out = std::move(r);
  return true;
}

// Python arithmetic on the numbers of a range (bool and int add as ints).
bool NumAdd(const PElem& a, const PElem& b, PElem* out, std::string* err) {
  if (a.t != PElem::kFloat && b.t != PElem::kFloat) {
    int64_t x = a.t == PElem::kBool ? a.b : a.i, y = b.t == PElem::kBool ? b.b : b.i, r;
    if (__builtin_add_overflow(x, y, &r)) {
      *err = "range bound does not fit in 64 bits";
      return false;
    }
    *out = PElem::Int(r);
  } else {
    *out = PElem::Float(static_cast<double>(NumValue(a)) + static_cast<double>(NumValue(b)));
  }
  return true;
}
bool NumNeg(const PElem& a, PElem* out, std::string* err) {
  if (a.t == PElem::kFloat) {
    *out = PElem::Float(-a.f);
    return true;
  }
  int64_t x = a.t == PElem::kBool ? a.b : a.i;
  if (x == INT64_MIN) {
    *err = "range step does not fit in 64 bits";
    return false;
  }
  *out = PElem::Int(-x);
  return true;
}
bool NumAbs(const PElem& a, PElem* out, std::string* err) {
  if (NumValue(a) < 0) return NumNeg(a, out, err);
  *out = a.t == PElem::kBool ? PElem::Int(a.b) : a;
  return true;
}

// _sort_sweep
bool SortSweep(PElem sweep, bool reverse, PElem* out, std::string* err) {
  if (sweep.t == PElem::kChoice) {
    if (!PySort(&sweep.items, reverse, err)) return false;
    *out = std::move(sweep);
    return true;
  }
  // A range: Hydra flips start and stop when they are in the other order.
  PElem& start = sweep.items[0];
  PElem& stop = sweep.items[1];
  PElem& step = sweep.items[2];
  bool flip = reverse ? NumValue(start) < NumValue(stop) : NumValue(start) > NumValue(stop);
  if (flip) {
    PElem abs_step, new_start, new_stop, neg_step;
    if (!NumAbs(step, &abs_step, err)) return false;
    if (!reverse) {
      if (!NumAdd(stop, abs_step, &new_start, err) || !NumAdd(start, abs_step, &new_stop, err))
        return false;
    } else {
      PElem neg_abs;
      if (!NumNeg(abs_step, &neg_abs, err) || !NumAdd(stop, neg_abs, &new_start, err) ||
          !NumAdd(start, neg_abs, &new_stop, err))
        return false;
    }
    if (!NumNeg(step, &neg_step, err)) return false;
    start = std::move(new_start);
    stop = std::move(new_stop);
    step = std::move(neg_step);
  }
  *out = std::move(sweep);
  return true;
}

// The fixed seed of shuffle(list) at parse time: Hydra shuffles at random,
// forja reproducibly (tests/config/overrides.md).
constexpr uint64_t kParseShuffleSeed = 0x666f726a61ULL;  // "forja"

bool CallShuffle(std::vector<PElem> args, std::optional<PElem> sweep, std::optional<PElem> list,
                 PElem* out, std::string* err) {
  if (list && list->t != PElem::kNull) return CallShuffle({std::move(*list)}, {}, {}, out, err);
  if (sweep && sweep->t != PElem::kNull) return CallShuffle({std::move(*sweep)}, {}, {}, out, err);
  if (args.size() == 1) {
    PElem& a = args[0];
    if (a.t == PElem::kChoice || a.t == PElem::kRange) {
      a.shuffle = true;
      *out = std::move(a);
    } else if (a.t == PElem::kList) {
      uint64_t state = kParseShuffleSeed;
      sweep::Shuffle(&a.items, &state);
      *out = std::move(a);
    } else {
      PElem l;
      l.t = PElem::kList;
      l.items.push_back(std::move(a));
      *out = std::move(l);
    }
    return true;
  }
  if (!SimpleChoice(std::move(args), out, err)) return false;
  out->shuffle = true;
  return true;
}

bool CallSort(std::vector<PElem> args, std::optional<PElem> sweep, std::optional<PElem> list,
              bool reverse, PElem* out, std::string* err) {
  if (list && list->t != PElem::kNull) return CallSort({std::move(*list)}, {}, {}, reverse, out, err);
  if (sweep && sweep->t != PElem::kNull) return SortSweep(std::move(*sweep), reverse, out, err);
  if (args.size() == 1) {
    PElem& a = args[0];
    if (a.t == PElem::kChoice || a.t == PElem::kRange) return SortSweep(std::move(a), reverse, out, err);
    if (a.t == PElem::kList) {
      if (!PySort(&a.items, reverse, err)) return false;
    }
    *out = std::move(a);
    return true;
  }
  for (const PElem& a : args) {
    if (!(a.is_number() || a.t == PElem::kStr)) {
      *err = std::string("with several arguments, sort() takes only int, float, bool or str, not ") +
             PyTypeName(a);
      return false;
    }
  }
  if (args.empty()) {
    *err = "empty sort input";
    return false;
  }
  PElem choice;
  if (!SimpleChoice(std::move(args), &choice, err)) return false;
  return SortSweep(std::move(choice), reverse, out, err);
}

bool CallTag(std::vector<PElem> args, std::optional<PElem> sweep, PElem* out, std::string* err) {
  if (args.empty()) {
    *err = "not enough arguments: tag() takes tags and then a sweep";
    return false;
  }
  if (sweep && sweep->t != PElem::kNull) args.push_back(std::move(*sweep));
  PElem last = std::move(args.back());
  args.pop_back();
  if (!last.is_sweep()) {
    *err = "the last argument of tag() must be a choice(), range() or interval()";
    return false;
  }
  std::vector<std::string> tags;
  for (const PElem& t : args) {
    if (t.t != PElem::kStr) {
      *err = std::string("tags must be strings, not ") + PyTypeName(t);
      return false;
    }
    tags.push_back(t.s);
  }
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  last.tags = std::move(tags);
  *out = std::move(last);
  return true;
}


}  // namespace

bool GlobPatterns(const PElem& v, std::vector<std::string>* out, std::string* err) {
  if (v.t == PElem::kNull) return true;
  if (v.t == PElem::kStr) {
    out->push_back(v.s);
    return true;
  }
  for (const PElem& x : v.items) {
    if (x.t != PElem::kStr && x.t != PElem::kQuoted) {
      *err = std::string("glob() patterns must be strings, not ") +
             (x.t == PElem::kNull ? "null" : PyTypeName(x));
      return false;
    }
    out->push_back(x.s);
  }
  return true;
}


bool CallFunction(const std::string& name, std::vector<Arg> args, PElem* out, std::string* err) {
  // Functions.eval unquotes the arguments themselves (not what they contain).
  for (Arg& a : args)
    if (a.value.t == PElem::kQuoted) a.value.t = PElem::kStr;
  Bound b;
  auto bind = [&](std::vector<Param> params) { return Bind(params, std::move(args), &b, err); };
  static const char* kCastDesc = "a value or a sweep (not a glob)";
  Cast cast;
  if (name == "int" || name == "float" || name == "str" || name == "bool") {
    cast = name == "int" ? Cast::kInt : name == "float" ? Cast::kFloat : name == "str" ? Cast::kStr : Cast::kBool;
    if (!bind({{"args", Param::kVarPositional, false, AcceptCastType, kCastDesc},
               {"value", Param::kKeywordOnly, false, AcceptCastType, kCastDesc}}))
      return false;
    std::optional<PElem>& value = b.named[1];
    bool has_value = value && value->t != PElem::kNull;
    PElem v;
    if (!b.varargs.empty() && has_value) {
      *err = "cannot use both positional arguments and value=";
      return false;
    } else if (has_value) {
      v = std::move(*value);
    } else if (b.varargs.empty()) {
      *err = "no positional argument or value= given";
      return false;
    } else if (b.varargs.size() == 1) {
      v = std::move(b.varargs[0]);
    } else if (!SimpleChoice(std::move(b.varargs), &v, err)) {
      return false;
    }
    return CastValue(cast, v, out, err);
  }
  if (name == "choice") {
    if (!bind({{"args", Param::kVarPositional, false, AcceptChoiceArg,
                "a value (not null) or a choice"}}))
      return false;
    if (b.varargs.empty()) {
      *err = "empty choice is not legal";
      return false;
    }
    if (b.varargs.size() == 1 && b.varargs[0].t == PElem::kChoice) {
      if (!b.varargs[0].simple) {
        *err = "nesting choices is not supported";
        return false;
      }
      *out = std::move(b.varargs[0]);
      out->simple = false;
      return true;
    }
    PElem r;
    r.t = PElem::kChoice;
    r.items = std::move(b.varargs);
    *out = std::move(r);
    return true;
  }
  if (name == "range") {
    if (!bind({{"start", Param::kPositional, true, AcceptNumber, "an int or a float"},
               {"stop", Param::kPositional, false, AcceptNumberOrNull, "an int, a float or null"},
               {"step", Param::kPositional, false, AcceptNumber, "an int or a float"}}))
      return false;
    PElem start = std::move(*b.named[0]);
    PElem stop = b.named[1] ? std::move(*b.named[1]) : PElem::Null();
    PElem step = b.named[2] ? std::move(*b.named[2]) : PElem::Int(1);
    if (stop.t == PElem::kNull) {
      stop = std::move(start);
      start = PElem::Int(0);
    }
    PElem r;
    r.t = PElem::kRange;
    r.items = {std::move(start), std::move(stop), std::move(step)};
    *out = std::move(r);
    return true;
  }
  if (name == "interval") {
    if (!bind({{"start", Param::kPositional, true, AcceptNumber, "an int or a float"},
               {"end", Param::kPositional, true, AcceptNumber, "an int or a float"}}))
      return false;
    PElem r;
    r.t = PElem::kInterval;
    r.items = {PElem::Float(static_cast<double>(NumValue(*b.named[0]))),
               PElem::Float(static_cast<double>(NumValue(*b.named[1])))};
    *out = std::move(r);
    return true;
  }
  if (name == "tag") {
    if (!bind({{"args", Param::kVarPositional, false, AcceptTagArg, "a string or a sweep"},
               {"sweep", Param::kKeywordOnly, false, AcceptSweepOrNull, "a sweep"}}))
      return false;
    return CallTag(std::move(b.varargs), std::move(b.named[1]), out, err);
  }
  if (name == "shuffle" || name == "sort") {
    std::vector<Param> params = {
        {"args", Param::kVarPositional, false, AcceptSortArg,
         "a value (not null), a choice or a range"},
        {"sweep", Param::kKeywordOnly, false, AcceptChoiceRangeOrNull, "a choice or a range"},
        {"list", Param::kKeywordOnly, false, AcceptListOrNull, "a list"}};
    if (name == "sort") params.push_back({"reverse", Param::kKeywordOnly, false, AcceptBool, "true or false"});
    if (!bind(params)) return false;
    if (name == "shuffle")
      return CallShuffle(std::move(b.varargs), std::move(b.named[1]), std::move(b.named[2]), out, err);
    bool reverse = b.named[3] && b.named[3]->b;
    return CallSort(std::move(b.varargs), std::move(b.named[1]), std::move(b.named[2]), reverse, out, err);
  }
  if (name == "glob") {
    if (!bind({{"include", Param::kPositional, true, AcceptListOrStr, "a string or a list"},
               {"exclude", Param::kPositional, false, AcceptListStrOrNull, "a string or a list"}}))
      return false;
    PElem r;
    r.t = PElem::kGlob;
    r.items = {std::move(*b.named[0]), b.named[1] ? std::move(*b.named[1]) : PElem::Null()};
    *out = std::move(r);
    return true;
  }
  *err = "unknown function '" + name + "' (the functions are " + kFunctionNames + ")";
  return false;
}

}  // namespace forja::config::hydra
