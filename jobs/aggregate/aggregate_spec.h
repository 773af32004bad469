// What the aggregate job computes, parsed from its --param values:
//
//   group-by=country,day            fields to group on (none: one global row)
//   aggregates=count,sum:amount     what to compute per group, in output order
//   where=amount>=100               an optional filter on the rows
//
// Every mistake is a JobParamError naming the parameter (the engine turns it
// into exit 2 before any input is read).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobs/aggregate/decimal.h"

namespace sluice::aggregate {

// A field as the job looks it up: its name (a CSV column) and, for JSON
// Lines, the name split at '.' (the path to a nested member).
struct FieldRef {
  std::string name;
  std::vector<std::string> path;
};

enum class AggregateKind : uint8_t {
  kCount,       // count: rows (COUNT(*))
  kCountField,  // count:F: rows where F is not NULL
  kSum,         // sum:F
  kMin,         // min:F
  kMax,         // max:F
  kAvg,         // avg:F
  kDistinct,    // distinct:F: distinct non-NULL values of F, as text
};

// What a group keeps per field: aggregates that need the same running
// value share one (sum:x and avg:x one sum; count:x the count of that sum
// when the spec also sums x), so a group's state stays small.
enum class StateKind : uint8_t {
  kCountField,  // non-NULL values (count:F when F is not summed)
  kSum,         // non-NULL values and their sum (sum:F, avg:F, count:F)
  kMin,         // non-NULL values and the least
  kMax,         // non-NULL values and the greatest
  kDistinct,    // the distinct non-NULL values
};

struct State {
  StateKind kind;
  FieldRef field;
  // The first aggregate's column that reads this state, naming the field
  // in a bad record's message: "sum(amount): 'x' is not a number".
  std::string label;
};

inline constexpr size_t kNoState = static_cast<size_t>(-1);

struct Aggregate {
  AggregateKind kind;
  FieldRef field;      // empty for kCount
  std::string column;  // the output header: "count", "sum(amount)"
  size_t state = kNoState;  // into AggregateSpec::states; kNoState for count
};

enum class CompareOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

// where=FIELD<OP>VALUE.
struct Condition {
  FieldRef field;
  CompareOp op = CompareOp::kEq;
  // A VALUE that reads as a number (Decimal::Parse) compares numerically;
  // any other, or one in double quotes ("10"), compares bytewise as text.
  bool numeric = false;
  Decimal number;
  std::string text;
  std::string source;  // the parameter as given, for messages

  // Whether `cmp` (-1, 0, 1: field vs VALUE) satisfies op.
  bool Holds(int cmp) const;
};

struct AggregateSpec {
  std::vector<FieldRef> group_by;
  std::vector<Aggregate> aggregates;
  std::optional<Condition> where;
  // The states the aggregates read, in the order of their first aggregate.
  std::vector<State> states;
  int avg_digits = 6;
  bool has_distinct = false;  // some state is kDistinct
  // The output's first line: the group-by names, then the aggregate
  // columns, CSV-quoted where needed, ending in '\n'.
  std::string header;
};

// Parses the parameters; throws JobParamError naming the parameter.
//   group_by:   comma-separated field names (spaces around a name are
//               dropped); empty: no grouping. A name twice is an error.
//   aggregates: comma-separated count | count:F | sum:F | min:F | max:F |
//               avg:F | distinct:F; at least one.
//   where:      empty, or FIELD OP VALUE with OP one of = == != < <= > >=
//               (spaces around FIELD and VALUE are dropped).
//   avg_digits: digits after the point of averages, 0..18.
AggregateSpec ParseSpec(std::string_view group_by, std::string_view aggregates, std::string_view where,
                        uint64_t avg_digits);

// Appends `field` to `out` as one RFC 4180 field: quoted (with quotes
// doubled) when it holds a comma, a quote, '\r' or '\n'; as it is otherwise.
void AppendCsvField(std::string_view field, std::string* out);

}  // namespace sluice::aggregate
