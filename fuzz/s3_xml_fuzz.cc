// Fuzzes the S3 response reader (forja/remote/s3_xml.h): XmlValues, XmlValue,
// XmlHas and XmlUnescape read bodies sent by an S3 server (ListObjectsV2
// listings, error documents), i.e. outside input.
//
// Input: the first line is the tag to look for, the rest is the document.
//
// Invariants, beyond "no crash":
//  - XmlValue agrees with the first of XmlValues, and XmlHas with finding any;
//  - decoding never lengthens text (every entity is longer than its UTF-8);
//  - XmlUnescape(XmlEscape(s)) == s, and <tag>XmlEscape(s)</tag> reads back s.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "forja/core/strings.h"
#include "forja/remote/s3_xml.h"
#include "fuzz_check.h"

namespace {

using forja::fuzz::Show;

bool PlainName(std::string_view tag) {
  if (tag.empty()) return false;
  for (char c : tag)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string_view tag = nl == std::string_view::npos ? std::string_view("Key") : in.substr(0, nl);
  std::string_view xml = nl == std::string_view::npos ? in : in.substr(nl + 1);

  std::vector<std::string> values = forja::XmlValues(xml, tag);
  std::string first = forja::XmlValue(xml, tag);
  bool has = forja::XmlHas(xml, tag);
  if (!values.empty()) {
    FUZZ_CHECK(has, Show(xml));
    FUZZ_CHECK(first == values[0], Show(first) + " vs " + Show(values[0]));
  }
  if (!has) FUZZ_CHECK(values.empty() && first.empty(), Show(xml));
  size_t total = 0;
  for (const auto& v : values) total += v.size();
  FUZZ_CHECK(total <= xml.size(), Show(xml));

  std::string decoded = forja::XmlUnescape(xml);
  FUZZ_CHECK(decoded.size() <= xml.size(), Show(xml) + " decodes to " + Show(decoded));

  std::string escaped = forja::XmlEscape(xml);
  std::string back = forja::XmlUnescape(escaped);
  FUZZ_CHECK(back == xml, Show(xml) + " escapes to " + Show(escaped) + ", back to " + Show(back));

  if (PlainName(tag)) {
    std::string doc = "<" + std::string(tag) + ">" + escaped + "</" + std::string(tag) + ">";
    std::vector<std::string> one = forja::XmlValues(doc, tag);
    FUZZ_CHECK(one.size() == 1 && one[0] == xml, Show(doc));
    FUZZ_CHECK(forja::XmlValue(doc, tag) == xml, Show(doc));
  }
  return 0;
}
