// CSV as forja predict reads it: splitting one line into fields (RFC 4180 quoting, "" for a
// quote inside a quoted field, a CR before the newline dropped), unquoting a field, and reading
// a cell as a number. A row is one line: a quoted field that does not close on its line is an
// error, not a row that goes on (so chunks and shards can cut the file at any newline).
// ParseNumber reads JSONL string cells too.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "forja/core/status.h"

namespace forja::batch {

// Splits one line (without its newline) into fields. `raw` gets each field as written (quotes
// and all, for copying to CSV output); `unquoted`, when given, each field's text.
Status SplitCsv(std::string_view line, std::vector<std::string_view>* raw, std::vector<std::string>* unquoted);

// A raw field's text: "a ""b""" is a "b"; a field without quotes is itself. `scratch` holds
// the text when it had quotes.
std::string_view UnquoteCsv(std::string_view field, std::string* scratch);

// A number as CSV and JSON write them, spaces around it allowed; empty, "NA", "null" and "None"
// are missing (NaN), as pandas reads them.
bool ParseNumber(std::string_view s, double* out);

}  // namespace forja::batch
