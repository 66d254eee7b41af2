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

namespace {

class RowCells : public SqlCells {
 public:
  explicit RowCells(const SqlRow& row) : row_(row) {}
  int64_t Int(int col) const override { return row_[static_cast<size_t>(col)].Int(); }
  double Real(int col) const override { return row_[static_cast<size_t>(col)].Real(); }

 private:
  const SqlRow& row_;
};

}  // namespace

Status SqlConn::QueryEach(const std::string& sql, const std::vector<SqlValue>& args,
                          const std::function<void(const SqlCells&)>& row) {
  ASSIGN_OR_RETURN(SqlRows rows, Query(sql, args));
  for (const SqlRow& r : rows) row(RowCells(r));
  return Status::Ok();
}

}  // namespace forja::meta
