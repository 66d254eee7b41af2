// A small document model for xgboost's model files, read from JSON or from UBJ
// (Universal Binary JSON, big-endian, with the optimized `[$<type>#<count>` arrays
// xgboost writes). Only what the evaluator needs: arrays whose elements are all
// numbers (or booleans, read as 0/1) are kept packed as doubles and floats, so a
// model with a million nodes costs a few bytes a number, not a Value each.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "forja/core/status.h"

namespace forja::runtime::xgb {

struct Member;

struct Value {
  enum Kind : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = kNull;
  bool boolean = false;
  double number = 0;
  float number_f = 0;  // the same number read as a float: strtof of the text, not a rounded double
  std::string str;
  // kArray: either `items`, or (all numbers) `nums` and `nums_f` of equal length.
  std::vector<Value> items;
  std::vector<double> nums;
  std::vector<float> nums_f;
  std::vector<Member> members;  // kObject, in file order

  // The member `key` of an object, or null when absent or this is no object.
  const Value* Find(std::string_view key) const;
  // Elements of an array (either form).
  size_t Size() const { return items.empty() ? nums.size() : items.size(); }
  bool IsNumeric() const { return kind == kArray && items.empty(); }
};

struct Member {
  std::string key;
  Value value;
};

// Parse errors read "invalid JSON at byte 17: expected ':'" (no file name: the caller adds it).
Result<Value> ParseJson(std::string_view text);
Result<Value> ParseUbj(std::string_view bytes);

}  // namespace forja::runtime::xgb
