// Expanding sweeps into values and jobs as Hydra 1.3's BasicSweeper does:
//
//  - choice: each item's Hydra text, parsed again (a job sees what Hydra's job
//    sees: choice('1') gives the job "a=1", an int);
//  - range: Python's range() for ints; for floats Hydra's FloatRange, which
//    steps with decimal.Decimal at 28 significant digits (so range(0,1,0.1)
//    gives 0.1, 0.2, 0.3, not 0.30000000000000004) - reproduced here;
//  - glob: the group's options that match, in the order given;
//  - the jobs: the cartesian product, last override fastest.
#include "forja/config/sweep.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

namespace forja::config {

namespace {

constexpr size_t kMaxValues = 1000000;

__extension__ typedef __int128 Int128;

// ---- decimal.Decimal, just enough for FloatRange ----------------------------------
//
// value = (-1)^neg * digits * 10^exp; digits has no leading zeros ("" is 0).
struct Dec {
  bool neg = false;
  bool inf = false;
  std::string digits;
  int64_t exp = 0;
};

void StripLeadingZeros(std::string* d) {
  size_t k = 0;
  while (k < d->size() && (*d)[k] == '0') k++;
  d->erase(0, k);
}

void MulSmall(std::string* d, int m) {
  int carry = 0;
  for (size_t k = d->size(); k-- > 0;) {
    int v = ((*d)[k] - '0') * m + carry;
    (*d)[k] = static_cast<char>('0' + v % 10);
    carry = v / 10;
  }
  while (carry) {
    d->insert(d->begin(), static_cast<char>('0' + carry % 10));
    carry /= 10;
  }
}

// Decimal(float): exact.
Dec DecFromDouble(double v) {
  Dec r;
  r.neg = std::signbit(v);
  if (std::isinf(v)) {
    r.inf = true;
    return r;
  }
  if (v == 0) return r;
  int e;
  double m = std::frexp(std::fabs(v), &e);
  uint64_t mant = static_cast<uint64_t>(std::ldexp(m, 53));
  e -= 53;
  r.digits = std::to_string(mant);
  if (e >= 0) {
    for (int k = 0; k < e; k++) MulSmall(&r.digits, 2);
  } else {
    for (int k = 0; k < -e; k++) MulSmall(&r.digits, 5);
    r.exp = e;
  }
  StripLeadingZeros(&r.digits);
  return r;
}

Dec DecFromInt(int64_t v) {
  Dec r;
  r.neg = v < 0;
  uint64_t mag = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  if (mag) r.digits = std::to_string(mag);
  return r;
}

Dec DecFromNode(const Node& n) {
  if (n.kind() == Node::Kind::kFloat) return DecFromDouble(n.as_float());
  if (n.kind() == Node::Kind::kBool) return DecFromInt(n.as_bool());
  return DecFromInt(n.as_int());
}

// The magnitudes aligned to a common exponent.
void Align(const Dec& a, const Dec& b, std::string* x, std::string* y, int64_t* exp) {
  *exp = std::min(a.exp, b.exp);
  *x = a.digits.empty() ? "" : a.digits + std::string(a.exp - *exp, '0');
  *y = b.digits.empty() ? "" : b.digits + std::string(b.exp - *exp, '0');
}

int CompareMag(const std::string& x, const std::string& y) {
  if (x.size() != y.size()) return x.size() < y.size() ? -1 : 1;
  return x.compare(y) < 0 ? -1 : x.compare(y) > 0 ? 1 : 0;
}

int DecCompare(const Dec& a, const Dec& b) {
  int sa = a.inf || !a.digits.empty() ? (a.neg ? -1 : 1) : 0;
  int sb = b.inf || !b.digits.empty() ? (b.neg ? -1 : 1) : 0;
  if (sa != sb) return sa < sb ? -1 : 1;
  if (sa == 0) return 0;
  int mag;
  if (a.inf || b.inf) {
    mag = a.inf && b.inf ? 0 : a.inf ? 1 : -1;
  } else {
    std::string x, y;
    int64_t e;
    Align(a, b, &x, &y, &e);
    mag = CompareMag(x, y);
  }
  return sa < 0 ? -mag : mag;
}

std::string AddMag(const std::string& x, const std::string& y) {
  std::string r;
  int carry = 0;
  size_t i = x.size(), j = y.size();
  while (i > 0 || j > 0 || carry) {
    int v = carry + (i > 0 ? x[--i] - '0' : 0) + (j > 0 ? y[--j] - '0' : 0);
    r.push_back(static_cast<char>('0' + v % 10));
    carry = v / 10;
  }
  std::reverse(r.begin(), r.end());
  StripLeadingZeros(&r);
  return r;
}

// x - y, for x >= y.
std::string SubMag(const std::string& x, const std::string& y) {
  std::string r;
  int borrow = 0;
  size_t i = x.size(), j = y.size();
  while (i > 0) {
    int v = (x[--i] - '0') - borrow - (j > 0 ? y[--j] - '0' : 0);
    borrow = v < 0;
    if (v < 0) v += 10;
    r.push_back(static_cast<char>('0' + v));
  }
  std::reverse(r.begin(), r.end());
  StripLeadingZeros(&r);
  return r;
}

// Rounds to 28 significant digits, ROUND_HALF_EVEN (Python's default context).
void Round28(Dec* d) {
  constexpr size_t kPrec = 28;
  if (d->digits.size() <= kPrec) return;
  size_t drop = d->digits.size() - kPrec;
  std::string keep = d->digits.substr(0, kPrec);
  char first = d->digits[kPrec];
  bool rest_nonzero = d->digits.find_first_not_of('0', kPrec + 1) != std::string::npos;
  bool up = first > '5' || (first == '5' && (rest_nonzero || (keep.back() - '0') % 2 == 1));
  d->exp += static_cast<int64_t>(drop);
  if (up) {
    keep = AddMag(keep, "1");
    if (keep.size() > kPrec) {
      keep.pop_back();
      d->exp++;
    }
  }
  d->digits = keep;
}

bool DecAdd(const Dec& a, const Dec& b, Dec* out) {
  if (a.inf || b.inf) {
    if (a.inf && b.inf && a.neg != b.neg) return false;  // InvalidOperation
    *out = a.inf ? a : b;
    return true;
  }
  std::string x, y;
  int64_t e;
  Align(a, b, &x, &y, &e);
  Dec r;
  r.exp = e;
  if (a.neg == b.neg) {
    r.digits = AddMag(x, y);
    r.neg = a.neg;
  } else if (CompareMag(x, y) >= 0) {
    r.digits = SubMag(x, y);
    r.neg = a.neg;
  } else {
    r.digits = SubMag(y, x);
    r.neg = b.neg;
  }
  if (r.digits.empty()) r.neg = a.neg && b.neg;
  Round28(&r);
  *out = r;
  return true;
}

double DecToDouble(const Dec& d) {
  if (d.inf) return d.neg ? -HUGE_VAL : HUGE_VAL;
  if (d.digits.empty()) return d.neg ? -0.0 : 0.0;
  std::string s = (d.neg ? "-" : "") + d.digits + "e" + std::to_string(d.exp);
  return std::strtod(s.c_str(), nullptr);
}

bool IsInt(const Node& n) { return n.kind() == Node::Kind::kInt || n.kind() == Node::Kind::kBool; }
int64_t AsInt(const Node& n) { return n.kind() == Node::Kind::kBool ? n.as_bool() : n.as_int(); }

Status TooMany() {
  return Status::User("a sweep has more than " + std::to_string(kMaxValues) + " values");
}

// RangeSweep.range(): Python's range for ints, Hydra's FloatRange otherwise.
Result<std::vector<Node>> RangeValues(const RangeSweep& r) {
  std::vector<Node> out;
  if (IsInt(r.start) && IsInt(r.stop) && IsInt(r.step)) {
    Int128 start = AsInt(r.start), stop = AsInt(r.stop), step = AsInt(r.step);
    if (step == 0) return Status::User("range(): the step must not be zero");
    for (Int128 v = start; step > 0 ? v < stop : v > stop; v += step) {
      if (out.size() == kMaxValues) return TooMany();
      out.push_back(Node::Int(static_cast<int64_t>(v)));
    }
    return out;
  }
  for (const Node* n : {&r.start, &r.stop, &r.step})
    if (n->kind() == Node::Kind::kFloat && std::isnan(n->as_float()))
      return Status::User("range(): nan cannot be a start, stop or step");
  Dec start = DecFromNode(r.start), stop = DecFromNode(r.stop), step = DecFromNode(r.step);
  int dir = DecCompare(step, Dec());
  if (dir == 0) return Status::User("range(): the step must not be zero");
  while (dir > 0 ? DecCompare(start, stop) < 0 : DecCompare(start, stop) > 0) {
    if (out.size() == kMaxValues) return TooMany();
    out.push_back(Node::Float(DecToDouble(start)));
    if (!DecAdd(start, step, &start)) return Status::User("range(): inf plus -inf is undefined");
  }
  return out;
}

// The texts of a sweep's values as Hydra's sweep_string_iterator gives them,
// or, for a range, the values themselves (their text reads back exactly).
struct SweepItems {
  std::vector<std::string> texts;
  std::vector<Node> numbers;  // range only
  bool is_range = false;
};

Result<SweepItems> Items(const Value& value, const std::vector<std::string>& options,
                         uint64_t* rng) {
  SweepItems out;
  if (const auto* c = std::get_if<ChoiceSweep>(&value.v)) {
    for (const Element& e : c->items) out.texts.push_back(e.text);
    if (c->shuffle) sweep::Shuffle(&out.texts, rng);
  } else if (const auto* r = std::get_if<RangeSweep>(&value.v)) {
    ASSIGN_OR_RETURN(out.numbers, RangeValues(*r));
    if (r->shuffle) sweep::Shuffle(&out.numbers, rng);
    out.is_range = true;
    for (const Node& n : out.numbers)
      out.texts.push_back(n.kind() == Node::Kind::kInt ? std::to_string(n.as_int()) : PythonFloatRepr(n.as_float()));
  } else if (std::holds_alternative<IntervalSweep>(value.v)) {
    return Status::User(
        "interval() is a continuous range: it has no list of values to sweep over (use range() or "
        "choice(), or a sweeper that samples)");
  } else if (const auto* g = std::get_if<GlobSweep>(&value.v)) {
    auto any = [](const std::string& name, const std::vector<std::string>& pats) {
      for (const std::string& p : pats)
        if (sweep::FnMatch(name, p)) return true;
      return false;
    };
    for (const std::string& o : options)
      if (any(o, g->include) && !any(o, g->exclude)) out.texts.push_back(o);
  } else {
    out.texts.push_back(value.element().text);
  }
  return out;
}

// A value text parsed back the way Hydra's job parses "key=<text>".
Result<Override> Reparse(const std::string& key_element, const std::string& text) {
  auto o = ParseOverride(key_element + "=" + text);
  if (!o.ok()) return Status::User("a value of the sweep does not read back: " + o.status().message());
  if (o->is_sweep())
    return Status::User("a value of the sweep, '" + text + "', reads back as a sweep itself");
  return o;
}

}  // namespace

Result<std::vector<Node>> SweepValues(const Value& value, const std::vector<std::string>& group_options,
                                      uint64_t seed) {
  if (!value.is_sweep()) return std::vector<Node>{value.node()};
  uint64_t rng = seed;
  ASSIGN_OR_RETURN(SweepItems items, Items(value, group_options, &rng));
  if (items.is_range) return items.numbers;
  std::vector<Node> out;
  for (const std::string& t : items.texts) {
    ASSIGN_OR_RETURN(Override o, Reparse("x", t));
    out.push_back(o.value->node());
  }
  return out;
}

Result<std::vector<std::vector<Override>>> SweepJobOverrides(const std::vector<Override>& overrides,
                                                             const GroupOptionsFn& group_options,
                                                             uint64_t seed) {
  uint64_t rng = seed;
  // Hydra's OrderedDict: key element -> the job texts of that override.
  std::vector<std::pair<std::string, std::vector<std::string>>> lists;
  for (const Override& o : overrides) {
    std::string ke = o.KeyElement();
    std::vector<std::string> texts;
    if (o.is_sweep()) {
      std::vector<std::string> options;
      if (std::holds_alternative<GlobSweep>(o.value->v)) {
        if (!group_options)
          return Status::User("override '" + o.input + "': glob() needs the options of config group '" + o.key + "'");
        ASSIGN_OR_RETURN(options, group_options(o.key));
      }
      auto items = Items(*o.value, options, &rng);
      if (!items.ok()) return items.status().Wrap("override '" + o.input + "'");
      for (const std::string& t : items->texts) texts.push_back(ke + "=" + t);
    } else {
      texts.push_back(ke + "=" + (o.value ? FormatValue(*o.value) : std::string("null")));
    }
    bool replaced = false;
    for (auto& [k, v] : lists) {
      if (k == ke) {
        v = std::move(texts);
        replaced = true;
        break;
      }
    }
    if (!replaced) lists.emplace_back(ke, std::move(texts));
  }
  size_t jobs = 1;
  for (const auto& [k, v] : lists) {
    if (v.empty()) return std::vector<std::vector<Override>>{};
    if (jobs > kMaxValues / v.size())
      return Status::User("the sweep has more than " + std::to_string(kMaxValues) + " combinations");
    jobs *= v.size();
  }
  // Each distinct text parsed once.
  std::vector<std::vector<Override>> parsed(lists.size());
  for (size_t k = 0; k < lists.size(); k++) {
    for (const std::string& t : lists[k].second) {
      auto o = ParseOverride(t);
      if (!o.ok()) return Status::User("a job of the sweep gets an override that does not parse: " + o.status().message());
      if (o->is_sweep()) return Status::User("a job of the sweep gets '" + t + "', which is a sweep itself");
      parsed[k].push_back(std::move(*o));
    }
  }
  std::vector<std::vector<Override>> out;
  out.reserve(jobs);
  std::vector<size_t> idx(lists.size(), 0);
  for (size_t j = 0; j < jobs; j++) {
    std::vector<Override> job;
    for (size_t k = 0; k < lists.size(); k++) job.push_back(parsed[k][idx[k]]);
    out.push_back(std::move(job));
    for (size_t k = lists.size(); k-- > 0;) {
      if (++idx[k] < parsed[k].size()) break;
      idx[k] = 0;
    }
  }
  return out;
}

// ---- fnmatch -------------------------------------------------------------------------

namespace sweep {

namespace {

std::u32string Decode(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    size_t n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : 3;
    char32_t cp = n == 0 ? c : n == 1 ? (c & 0x1F) : n == 2 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k <= n && i + k < s.size(); k++) cp = (cp << 6) | (s[i + k] & 0x3F);
    out.push_back(cp);
    i += n + 1;
  }
  return out;
}

struct Atom {
  enum Kind { kLiteral, kAny, kStar, kClass, kNever };
  Atom() = default;
  explicit Atom(Kind k, char32_t ch = 0) : kind(k), c(ch) {}

  Kind kind = kNever;
  char32_t c = 0;
  bool negate = false;
  std::vector<std::pair<char32_t, char32_t>> ranges;

  bool Matches(char32_t x) const {
    switch (kind) {
      case kLiteral: return x == c;
      case kAny: return true;
      case kClass: {
        bool in = false;
        for (const auto& [lo, hi] : ranges) in = in || (x >= lo && x <= hi);
        return in != negate;
      }
      default: return false;
    }
  }
};

// A bracket expression's inside, as fnmatch.translate builds it and Python's
// re then reads it.
Atom ClassAtom(const std::u32string& pat, size_t i, size_t j) {
  std::u32string stuff;
  auto escape = [](const std::u32string& s, bool hyphens) {
    std::u32string out;
    for (char32_t c : s) {
      if (c == U'\\' || (hyphens && c == U'-')) out += U'\\';
      out += c;
    }
    return out;
  };
  std::u32string body = pat.substr(i, j - i);
  if (body.find(U'-') == std::u32string::npos) {
    stuff = escape(body, false);
  } else {
    std::vector<std::u32string> chunks;
    size_t k = pat[i] == U'!' ? i + 2 : i + 1;
    for (;;) {
      size_t h = k < j ? pat.find(U'-', k) : std::u32string::npos;
      if (h == std::u32string::npos || h >= j) break;
      chunks.push_back(pat.substr(i, h - i));
      i = h + 1;
      k = h + 3;
    }
    std::u32string chunk = pat.substr(i, j - i);
    if (!chunk.empty()) chunks.push_back(chunk);
    else chunks.back() += U'-';
    for (size_t m = chunks.size() - 1; m > 0; m--) {
      if (chunks[m - 1].back() > chunks[m][0]) {
        chunks[m - 1] = chunks[m - 1].substr(0, chunks[m - 1].size() - 1) + chunks[m].substr(1);
        chunks.erase(chunks.begin() + m);
      }
    }
    for (size_t m = 0; m < chunks.size(); m++) {
      if (m) stuff += U'-';
      stuff += escape(chunks[m], true);
    }
  }
  std::u32string set_ops;
  for (char32_t c : stuff) {
    if (c == U'&' || c == U'~' || c == U'|') set_ops += U'\\';
    set_ops += c;
  }
  stuff = set_ops;
  Atom a;
  if (stuff.empty()) {
    a.kind = Atom::kNever;
    return a;
  }
  if (stuff == U"!") {
    a.kind = Atom::kAny;
    return a;
  }
  a.kind = Atom::kClass;
  size_t p = 0;
  if (stuff[0] == U'!') {
    a.negate = true;
    p = 1;
  }
  // re's class syntax: "\x" is x; "a-b" a range; a final "-" literal.
  auto get = [&](size_t* q) {
    char32_t c = stuff[*q];
    if (c == U'\\' && *q + 1 < stuff.size()) {
      *q += 2;
      return stuff[*q - 1];
    }
    *q += 1;
    return c;
  };
  while (p < stuff.size()) {
    char32_t lo = get(&p);
    if (p + 1 < stuff.size() && stuff[p] == U'-') {
      p++;
      char32_t hi = get(&p);
      a.ranges.emplace_back(lo, hi);
    } else {
      a.ranges.emplace_back(lo, lo);
    }
  }
  return a;
}

std::vector<Atom> Translate(const std::u32string& pat) {
  std::vector<Atom> out;
  size_t i = 0, n = pat.size();
  while (i < n) {
    char32_t c = pat[i++];
    if (c == U'*') {
      if (out.empty() || out.back().kind != Atom::kStar) out.push_back(Atom(Atom::kStar));
    } else if (c == U'?') {
      out.push_back(Atom(Atom::kAny));
    } else if (c == U'[') {
      size_t j = i;
      if (j < n && pat[j] == U'!') j++;
      if (j < n && pat[j] == U']') j++;
      while (j < n && pat[j] != U']') j++;
      if (j >= n) {
        out.push_back(Atom(Atom::kLiteral, U'['));
      } else {
        out.push_back(ClassAtom(pat, i, j));
        i = j + 1;
      }
    } else {
      out.push_back(Atom(Atom::kLiteral, c));
    }
  }
  return out;
}

}  // namespace

bool FnMatch(std::string_view name_utf8, std::string_view pattern_utf8) {
  std::u32string name = Decode(name_utf8);
  std::vector<Atom> pat = Translate(Decode(pattern_utf8));
  size_t p = 0, n = 0, star = std::string::npos, mark = 0;
  while (n < name.size()) {
    if (p < pat.size() && pat[p].kind == Atom::kStar) {
      star = p++;
      mark = n;
    } else if (p < pat.size() && pat[p].Matches(name[n])) {
      p++;
      n++;
    } else if (star != std::string::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p].kind == Atom::kStar) p++;
  return p == pat.size();
}

}  // namespace sweep

}  // namespace forja::config
