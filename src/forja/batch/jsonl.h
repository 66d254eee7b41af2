// JSONL rows as forja predict reads them, with core's allocation-free JsonDoc (one per scoring
// thread, reused row after row). A row is one JSON object; its fields are cells by name.
//
// forja predict read rows with nlohmann-json before, and reads and writes them the same way
// still: a UTF-8 byte order mark before a row is skipped, a NUL byte ends it, invalid UTF-8,
// half a surrogate pair (\ud800 alone) and numbers past a double's range (1e400) are refused;
// with duplicate keys the last one counts; the column names (the first row's keys) are sorted;
// a kept value is written compact, its object keys sorted, its numbers as nlohmann-json writes
// them (1e2 as 100.0). One difference: JsonDoc refuses rows nested more than 64 deep.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "forja/core/json.h"
#include "forja/core/status.h"

namespace forja::batch {

// Parses `line` into `doc`, which then points into it. The error is the row's message:
// "not a JSON object" (or "... nested more than 64 deep").
Status ParseJsonlObject(std::string_view line, JsonDoc* doc);

// The object's member named `key` (the last one if it repeats), or null.
const JsonNode* JsonlMember(const JsonDoc& doc, const JsonNode& object, std::string_view key);

// The object's keys, sorted, each once: a JSONL file's column names are its first row's keys.
std::vector<std::string> JsonlKeys(const JsonDoc& doc, const JsonNode& object);

// A cell as a model input value: a number, null (NaN), or a string ParseNumber reads ("1.5",
// "NA"). Anything else is "field 'FIELD': VALUE is not a number".
Status JsonlNumber(const JsonDoc& doc, const JsonNode& v, const std::string& field, double* out);

// Appends a kept cell's value as JSON text.
void AppendJsonlValue(const JsonDoc& doc, const JsonNode& v, std::string* out);

}  // namespace forja::batch
