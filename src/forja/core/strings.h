// Small string helpers that C++20's std::string lacks. ASCII only, on purpose: every caller
// compares protocol tokens, header names, file suffixes or keywords, never text in a user's
// language, so a locale must not change the answer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace forja {

constexpr char ToLowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

// True when a and b are equal after ASCII case folding.
bool EqualsNoCase(std::string_view a, std::string_view b);

// s with ASCII letters lowered.
std::string ToLowerAscii(std::string_view s);

// s without leading and trailing characters from `chars` (default: ASCII white space).
std::string_view Trim(std::string_view s, std::string_view chars = " \t\r\n");

// True when `path` is `dir` or lies below it: "a/b" is under "a", "ab" is not.
bool IsUnder(std::string_view path, std::string_view dir, char sep = '/');

// The items with `sep` between them.
std::string Join(const std::vector<std::string>& items, std::string_view sep);

// s with every byte but RFC 3986's unreserved characters (A-Z a-z 0-9 - . _ ~)
// and those in `keep` written as %XX (upper-case hex): URI paths and query
// strings, as AWS SigV4 and libpq want them.
std::string PercentEncode(std::string_view s, std::string_view keep = "");

// s as XML or HTML text or attribute value: & < > " ' as &amp; &lt; &gt; &quot; &#39;
// (numeric for the apostrophe, which HTML 4 lacks a name for).
std::string XmlEscape(std::string_view s);

}  // namespace forja
