// Just enough XML for S3's responses: they are flat, machine-written documents,
// so finding <Tag>text</Tag> pairs is reliable and needs no parser library.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace forja {

// The text of every <tag>...</tag> element, in document order, entities decoded.
// Elements with attributes (<tag a="b">) count too; empty elements (<tag/>) give "".
std::vector<std::string> XmlValues(std::string_view xml, std::string_view tag);

// The first such text, or "" when there is none.
std::string XmlValue(std::string_view xml, std::string_view tag);

bool XmlHas(std::string_view xml, std::string_view tag);

// Decodes &amp; &lt; &gt; &quot; &apos; and numeric references.
std::string XmlUnescape(std::string_view s);

}  // namespace forja
