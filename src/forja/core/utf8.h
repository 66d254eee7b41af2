// UTF-8, checked in one place: what a client sends (paths, query strings, JSON
// bodies) must be valid UTF-8, and every JSON text forja writes must be too, so
// error messages that quote input replace what is not. Valid means RFC 3629:
// no overlong forms, no surrogates (U+D800..DFFF), nothing above U+10FFFF.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace forja {

// The length of the valid UTF-8 character at s[i], or 0 if s[i] does not start one.
inline size_t Utf8CharLength(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = at(i);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xbf;  // the allowed range of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;  // overlong
    if (c == 0xed) hi = 0x9f;  // surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;  // overlong
    if (c == 0xf4) hi = 0x8f;  // above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() - i < n) return 0;
  if (at(i + 1) < lo || at(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; k++)
    if (at(i + k) < 0x80 || at(i + k) > 0xbf) return 0;
  return n;
}

// The code point of the valid UTF-8 character of `n` bytes (Utf8CharLength) at s[i].
inline char32_t Utf8CodePoint(std::string_view s, size_t i, size_t n) {
  static constexpr unsigned char kLeadBits[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
  char32_t c = static_cast<unsigned char>(s[i]) & kLeadBits[n];
  for (size_t k = 1; k < n; k++) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return c;
}

// The byte offset of the first invalid sequence, or npos if `s` is valid UTF-8.
inline size_t FindInvalidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {  // the common case, without the call
      i++;
      continue;
    }
    size_t n = Utf8CharLength(s, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

inline bool IsValidUtf8(std::string_view s) { return FindInvalidUtf8(s) == std::string_view::npos; }

// `s` with every invalid byte replaced by U+FFFD, cut to at most `max_bytes` of
// input without splitting a character ("..." marks a cut). For error messages
// that quote what a client sent.
inline std::string ValidUtf8(std::string_view s, size_t max_bytes = std::string_view::npos) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t n = Utf8CharLength(s, i);
    if (i + (n ? n : 1) > max_bytes) break;
    if (n == 0) {
      out += "\xef\xbf\xbd";
      i++;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  if (i < s.size()) out += "...";
  return out;
}

}  // namespace forja
