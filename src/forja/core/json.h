// JSON in one place: the one string escaper every writer of JSON text uses, shortest
// number text, and a small allocation-free reader.
//
// The reader: nlohmann-json builds a tree of std::map and std::string per document; a
// request body or an input row is mostly numbers, so this reader keeps a flat vector of
// nodes that point into the text (strings and numbers stay raw until asked for) and is
// reused by its thread: no allocation per document once the vector has grown.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "forja/core/status.h"

namespace forja {

// ---- writing ------------------------------------------------------------------------

// What AppendJsonString does with bytes that are not valid UTF-8.
enum class JsonBytes {
  kReplace,  // each becomes \ufffd, so the output is valid UTF-8 (and so valid JSON)
  kKeep,     // written as they are: for line formats that must give back exactly the bytes
             // they were given (a file name on Linux is bytes; forja.lock quotes them)
};

// Appends s as a JSON string literal, with its quotes: " and \ escaped; \b \f \n \r \t
// as short escapes, other control characters below 0x20 as \u00XX (lower-case hex);
// valid UTF-8 as it is.
void AppendJsonString(std::string* out, std::string_view s, JsonBytes invalid = JsonBytes::kReplace);
// The same, returned.
std::string JsonQuote(std::string_view s, JsonBytes invalid = JsonBytes::kReplace);

// Appends the shortest text that reads back as the same float / double; NaN and
// infinities, which JSON lacks, as null.
void AppendFloat(std::string* out, float v);
void AppendDouble(std::string* out, double v);

// ---- reading ------------------------------------------------------------------------

struct JsonNode {
  enum Kind : uint8_t { kNull, kFalse, kTrue, kNumber, kString, kArray, kObject };
  Kind kind = kNull;
  bool escaped = false;      // kString: raw text has backslash escapes
  bool key_escaped = false;  // the member key has escapes
  uint32_t next = 0;         // next sibling's index, 0 for none (the root is 0 and has no siblings)
  uint32_t child = 0;        // kArray / kObject: first element's index, 0 when empty
  uint32_t count = 0;        // kArray / kObject: number of elements
  std::string_view raw;      // kNumber: its text; kString: between the quotes, undecoded
  std::string_view key;      // member of an object: the key, undecoded
};

class JsonDoc {
 public:
  // Containers nest at most this deep (deeper is refused, not a stack overflow).
  static constexpr int kMaxDepth = 64;

  // Parses `text`, which must outlive the document's use. Errors say where:
  // "malformed JSON at byte 17: expected ':'".
  Status Parse(std::string_view text);

  const JsonNode& root() const { return nodes_[0]; }
  const JsonNode& node(uint32_t i) const { return nodes_[i]; }
  // The member of an object with this key, or null.
  const JsonNode* Find(const JsonNode& object, std::string_view key) const;
  // Iteration: for (const JsonNode* c = First(n); c; c = Next(*c)).
  const JsonNode* First(const JsonNode& n) const { return n.child ? &nodes_[n.child] : nullptr; }
  const JsonNode* Next(const JsonNode& n) const { return n.next ? &nodes_[n.next] : nullptr; }

 private:
  Status Value(int depth, uint32_t* index);
  Status String(std::string_view* out, bool* escaped);
  Status Fail(const char* what) const;
  void SkipSpace();

  std::vector<JsonNode> nodes_;
  std::string_view text_;
  size_t pos_ = 0;
};

// A string node's text with escapes decoded.
std::string JsonString(const JsonNode& n);
std::string JsonKey(const JsonNode& n);
// Numbers: false when the node is not a number or does not fit.
bool JsonDouble(const JsonNode& n, double* out);
bool JsonInt(const JsonNode& n, int64_t* out);
bool JsonUint(const JsonNode& n, uint64_t* out);

}  // namespace forja
