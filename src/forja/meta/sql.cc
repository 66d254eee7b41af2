#include "forja/meta/sql.h"

#include <charconv>
#include <cstdlib>

namespace forja::meta {

int64_t SqlValue::Int() const {
  switch (type_) {
    case Type::kInt: return i_;
    case Type::kReal: return static_cast<int64_t>(d_);
    case Type::kText: return std::strtoll(s_.c_str(), nullptr, 10);
    case Type::kNull: break;
  }
  return 0;
}

double SqlValue::Real() const {
  switch (type_) {
    case Type::kInt: return static_cast<double>(i_);
    case Type::kReal: return d_;
    case Type::kText: return std::strtod(s_.c_str(), nullptr);
    case Type::kNull: break;
  }
  return 0;
}

std::string SqlValue::AsText() const {
  switch (type_) {
    case Type::kInt: return std::to_string(i_);
    case Type::kReal: {
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, d_);
      return std::string(buf, r.ptr);
    }
    case Type::kText: return s_;
    case Type::kNull: break;
  }
  return "";
}

}  // namespace forja::meta
