// Table-driven parser tests: a bad input and the exact message the user sees.
// Used with testing::TestWithParam<BadCase> and INSTANTIATE_TEST_SUITE_P(..., CaseName).
#pragma once

#include <gtest/gtest.h>

#include <ostream>
#include <string>

namespace forja::test {

struct BadCase {
  std::string label;  // the test's name suffix: letters, digits, _
  std::string text;
  std::string message;
};

inline std::string CaseName(const testing::TestParamInfo<BadCase>& info) { return info.param.label; }

// Found by argument-dependent lookup: gtest prints the input of a failing case.
inline void PrintTo(const BadCase& c, std::ostream* os) { *os << testing::PrintToString(c.text); }

}  // namespace forja::test
