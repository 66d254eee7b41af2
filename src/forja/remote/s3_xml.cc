#include "forja/remote/s3_xml.h"

#include <cstdlib>

namespace forja {

namespace {

// Finds the next start tag named `tag` at or after `from`; sets `content` to the
// first byte after it and `empty` for <tag/>. Returns npos when there is none.
size_t FindStart(std::string_view xml, std::string_view tag, size_t from, size_t* content,
                 bool* empty) {
  while ((from = xml.find('<', from)) != std::string_view::npos) {
    size_t name = from + 1;
    size_t after = name + tag.size();
    if (xml.compare(name, tag.size(), tag) == 0 && after < xml.size()) {
      char c = xml[after];
      if (c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        size_t close = xml.find('>', after);
        if (close == std::string_view::npos) return std::string_view::npos;
        *empty = xml[close - 1] == '/';
        *content = close + 1;
        return from;
      }
    }
    from = name;
  }
  return std::string_view::npos;
}

void AppendUtf8(std::string* out, unsigned long cp) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Decodes the entity at s[i] == '&' into `out`; returns the index after it, or
// i + 1 (keeping the '&') when it is not a known entity.
size_t DecodeEntity(std::string_view s, size_t i, std::string* out) {
  size_t semi = s.find(';', i);
  if (semi == std::string_view::npos || semi - i > 10) {
    *out += '&';
    return i + 1;
  }
  std::string_view name = s.substr(i + 1, semi - i - 1);
  if (name == "amp") *out += '&';
  else if (name == "lt") *out += '<';
  else if (name == "gt") *out += '>';
  else if (name == "quot") *out += '"';
  else if (name == "apos") *out += '\'';
  else if (name.size() > 1 && name[0] == '#') {
    std::string digits(name.substr(1));
    int base = 10;
    if (digits[0] == 'x' || digits[0] == 'X') {
      digits.erase(0, 1);
      base = 16;
    }
    char* end = nullptr;
    unsigned long cp = std::strtoul(digits.c_str(), &end, base);
    if (digits.empty() || *end != '\0' || cp > 0x10FFFF) {
      *out += '&';
      return i + 1;
    }
    AppendUtf8(out, cp);
  } else {
    *out += '&';
    return i + 1;
  }
  return semi + 1;
}

}  // namespace

std::string XmlUnescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '&') {
      i = DecodeEntity(s, i, &out);
    } else {
      out += s[i++];
    }
  }
  return out;
}

std::vector<std::string> XmlValues(std::string_view xml, std::string_view tag) {
  std::vector<std::string> out;
  std::string end_tag = "</" + std::string(tag) + ">";
  size_t pos = 0, content = 0;
  bool empty = false;
  while (FindStart(xml, tag, pos, &content, &empty) != std::string_view::npos) {
    if (empty) {
      out.emplace_back();
      pos = content;
      continue;
    }
    size_t end = xml.find(end_tag, content);
    if (end == std::string_view::npos) break;
    out.push_back(XmlUnescape(xml.substr(content, end - content)));
    pos = end + end_tag.size();
  }
  return out;
}

std::string XmlValue(std::string_view xml, std::string_view tag) {
  size_t content = 0;
  bool empty = false;
  if (FindStart(xml, tag, 0, &content, &empty) == std::string_view::npos || empty) return "";
  std::string end_tag = "</" + std::string(tag) + ">";
  size_t end = xml.find(end_tag, content);
  if (end == std::string_view::npos) return "";
  return XmlUnescape(xml.substr(content, end - content));
}

bool XmlHas(std::string_view xml, std::string_view tag) {
  size_t content = 0;
  bool empty = false;
  return FindStart(xml, tag, 0, &content, &empty) != std::string_view::npos;
}

}  // namespace forja
