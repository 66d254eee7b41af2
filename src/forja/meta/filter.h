// MLflow's search grammar, parsed by hand: filter strings such as
//   metrics.auc > 0.8 and params.model = 'xgb' and tags.`team name` LIKE 'ml%'
// and order_by clauses such as "metrics.auc DESC". Clauses are joined by AND
// only, as in MLflow. Errors name the character position and what was expected.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "forja/core/status.h"

namespace forja::meta {

// kDataset: the datasets a run used (datasets.name, .digest, .context), in run searches only.
enum class Entity { kAttribute, kMetric, kParam, kTag, kDataset };

const char* EntityName(Entity e);  // "attributes", "metrics", ...

struct Clause {
  Entity entity = Entity::kAttribute;
  std::string key;           // "auc", "mlflow.runName", "status"
  std::string op;            // = != < <= > >= LIKE ILIKE IN NOT-IN (upper case; "NOT IN" spelled so)
  bool numeric = false;      // the value was a number (metrics, times)
  double number = 0;
  std::vector<std::string> values;  // a string value, or the list of IN / NOT IN
};

struct Filter {
  std::vector<Clause> clauses;  // all must hold
};

struct OrderBy {
  Entity entity = Entity::kAttribute;
  std::string key;
  bool ascending = true;
};

// Parses a filter; an empty or blank string is no clause. Errors:
// "invalid filter at character 12: expected a comparison operator after 'metrics.auc'".
// The limits of core/limits.h (text size, clauses, IN values) are errors here too,
// so no store builds SQL from a filter past them. The parser does not recurse.
Result<Filter> ParseFilter(std::string_view text);
Result<OrderBy> ParseOrderBy(std::string_view text);

// A search's order_by list may have at most limits::kMaxOrderByKeys entries (each can
// be a join); stores call this before parsing the entries.
Status CheckOrderByCount(size_t n);

// The value of a numeric clause on an integer column (times, versions): a whole
// number that fits in 64 bits, else an error naming the clause; never wraps.
Result<int64_t> IntegerValue(const Clause& c);

}  // namespace forja::meta
