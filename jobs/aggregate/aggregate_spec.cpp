#include "jobs/aggregate/aggregate_spec.h"

#include <algorithm>
#include <string>
#include <utility>

#include <sluice/params.h>

namespace sluice::aggregate {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> SplitCommas(std::string_view s) {
  std::vector<std::string_view> parts;
  while (true) {
    const size_t comma = s.find(',');
    parts.push_back(Trim(s.substr(0, comma)));
    if (comma == std::string_view::npos) return parts;
    s.remove_prefix(comma + 1);
  }
}

[[noreturn]] void Fail(std::string_view param, const std::string& why) {
  throw JobParamError("parameter '" + std::string(param) + "': " + why);
}

FieldRef MakeField(std::string_view param, std::string_view name) {
  if (name.empty()) Fail(param, "a field name is empty");
  FieldRef f;
  f.name = std::string(name);
  std::string_view rest = name;
  while (true) {
    const size_t dot = rest.find('.');
    const std::string_view part = rest.substr(0, dot);
    if (part.empty()) {
      Fail(param, "field '" + f.name + "': an empty member name between dots (JSON path)");
    }
    f.path.emplace_back(part);
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return f;
}

constexpr std::string_view kAggregatesHelp = "count, count:F, sum:F, min:F, max:F, avg:F or distinct:F";

Aggregate MakeAggregate(std::string_view item) {
  if (item.empty()) Fail("aggregates", "an empty item (expected " + std::string(kAggregatesHelp) + ")");
  const size_t colon = item.find(':');
  const std::string_view kind = Trim(item.substr(0, colon));
  Aggregate a;
  if (colon == std::string_view::npos) {
    if (kind != "count") {
      const bool known =
          kind == "sum" || kind == "min" || kind == "max" || kind == "avg" || kind == "distinct";
      Fail("aggregates", "'" + std::string(item) + "' " +
                             (known ? "needs a field (" + std::string(kind) + ":FIELD)"
                                    : "is not an aggregate (expected " + std::string(kAggregatesHelp) + ")"));
    }
    a.kind = AggregateKind::kCount;
    a.column = "count";
    return a;
  }
  if (kind == "count") {
    a.kind = AggregateKind::kCountField;
  } else if (kind == "sum") {
    a.kind = AggregateKind::kSum;
  } else if (kind == "min") {
    a.kind = AggregateKind::kMin;
  } else if (kind == "max") {
    a.kind = AggregateKind::kMax;
  } else if (kind == "avg") {
    a.kind = AggregateKind::kAvg;
  } else if (kind == "distinct") {
    a.kind = AggregateKind::kDistinct;
  } else {
    Fail("aggregates", "'" + std::string(item) + "': unknown aggregate '" + std::string(kind) +
                           "' (expected " + std::string(kAggregatesHelp) + ")");
  }
  a.field = MakeField("aggregates", Trim(item.substr(colon + 1)));
  a.column = std::string(kind) + "(" + a.field.name + ")";
  return a;
}

// Gives each aggregate but count a state, shared where the running value
// is the same (StateKind).
void AssignStates(AggregateSpec* spec) {
  auto summed = [spec](const std::string& name) {
    for (const Aggregate& a : spec->aggregates) {
      if ((a.kind == AggregateKind::kSum || a.kind == AggregateKind::kAvg) && a.field.name == name) return true;
    }
    return false;
  };
  for (Aggregate& a : spec->aggregates) {
    StateKind kind = StateKind::kCountField;
    switch (a.kind) {
      case AggregateKind::kCount:
        continue;
      case AggregateKind::kCountField:
        kind = summed(a.field.name) ? StateKind::kSum : StateKind::kCountField;
        break;
      case AggregateKind::kSum:
      case AggregateKind::kAvg:
        kind = StateKind::kSum;
        break;
      case AggregateKind::kMin:
        kind = StateKind::kMin;
        break;
      case AggregateKind::kMax:
        kind = StateKind::kMax;
        break;
      case AggregateKind::kDistinct:
        kind = StateKind::kDistinct;
        break;
    }
    for (size_t i = 0; i < spec->states.size(); ++i) {
      if (spec->states[i].kind == kind && spec->states[i].field.name == a.field.name) a.state = i;
    }
    if (a.state == kNoState) {
      a.state = spec->states.size();
      spec->states.push_back(State{kind, a.field, a.column});
      if (kind == StateKind::kDistinct) spec->has_distinct = true;
    }
  }
  // A sum shared with count:F is named by the first sum or avg: that is
  // what reads the field as a number.
  for (State& state : spec->states) {
    if (state.kind != StateKind::kSum) continue;
    for (const Aggregate& a : spec->aggregates) {
      if ((a.kind == AggregateKind::kSum || a.kind == AggregateKind::kAvg) && a.field.name == state.field.name) {
        state.label = a.column;
        break;
      }
    }
  }
}

Condition MakeCondition(std::string_view where) {
  Condition c;
  c.source = std::string(where);
  const size_t at = where.find_first_of("=!<>");
  if (at == std::string_view::npos) {
    Fail("where", "'" + c.source + "' has no operator (expected FIELD<OP>VALUE, OP one of = != < <= > >=)");
  }
  c.field = MakeField("where", Trim(where.substr(0, at)));
  const std::string_view rest = where.substr(at);
  struct Op {
    std::string_view text;
    CompareOp op;
  };
  // Two-byte operators first: "<=" is not "<" followed by "=5".
  static constexpr Op kOps[] = {{"==", CompareOp::kEq}, {"!=", CompareOp::kNe}, {"<>", CompareOp::kNe},
                                {"<=", CompareOp::kLe}, {">=", CompareOp::kGe}, {"=", CompareOp::kEq},
                                {"<", CompareOp::kLt},  {">", CompareOp::kGt}};
  size_t op_len = 0;
  for (const Op& op : kOps) {
    if (rest.starts_with(op.text)) {
      c.op = op.op;
      op_len = op.text.size();
      break;
    }
  }
  if (op_len == 0) {
    Fail("where", "'" + c.source + "': '!' is not an operator (expected = != < <= > >=)");
  }
  std::string_view value = Trim(rest.substr(op_len));
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    c.text = std::string(value.substr(1, value.size() - 2));
  } else {
    const Decimal::ParseResult r = Decimal::Parse(value, &c.number);
    c.numeric = r == Decimal::ParseResult::kOk;
    if (r == Decimal::ParseResult::kTooManyFractionDigits || r == Decimal::ParseResult::kOutOfRange) {
      Fail("where", "'" + std::string(value) + "' " + Decimal::Describe(r));
    }
    c.text = std::string(value);
  }
  if (c.text.empty()) {
    Fail("where", "'" + c.source +
                      "': the value is empty, and an empty field is NULL, which no comparison "
                      "matches");
  }
  return c;
}

}  // namespace

bool Condition::Holds(int cmp) const {
  switch (op) {
    case CompareOp::kEq:
      return cmp == 0;
    case CompareOp::kNe:
      return cmp != 0;
    case CompareOp::kLt:
      return cmp < 0;
    case CompareOp::kLe:
      return cmp <= 0;
    case CompareOp::kGt:
      return cmp > 0;
    case CompareOp::kGe:
      return cmp >= 0;
  }
  return false;
}

AggregateSpec ParseSpec(std::string_view group_by, std::string_view aggregates, std::string_view where,
                        uint64_t avg_digits) {
  AggregateSpec spec;
  if (!Trim(group_by).empty()) {
    for (std::string_view name : SplitCommas(group_by)) {
      FieldRef f = MakeField("group-by", name);
      for (const FieldRef& other : spec.group_by) {
        if (other.name == f.name) Fail("group-by", "field '" + f.name + "' is named twice");
      }
      spec.group_by.push_back(std::move(f));
    }
  }
  if (Trim(aggregates).empty()) {
    Fail("aggregates", "is empty (expected a comma-separated list of " + std::string(kAggregatesHelp) + ")");
  }
  for (std::string_view item : SplitCommas(aggregates)) spec.aggregates.push_back(MakeAggregate(item));
  AssignStates(&spec);
  if (!Trim(where).empty()) spec.where = MakeCondition(Trim(where));
  if (avg_digits > static_cast<uint64_t>(Decimal::kMaxScale)) {
    Fail("avg-digits", std::to_string(avg_digits) + " is more than 18");
  }
  spec.avg_digits = static_cast<int>(avg_digits);

  bool first = true;
  auto column = [&](std::string_view name) {
    if (!first) spec.header.push_back(',');
    first = false;
    AppendCsvField(name, &spec.header);
  };
  for (const FieldRef& f : spec.group_by) column(f.name);
  for (const Aggregate& a : spec.aggregates) column(a.column);
  spec.header.push_back('\n');
  return spec;
}

void AppendCsvField(std::string_view field, std::string* out) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(field);
    return;
  }
  out->push_back('"');
  for (char c : field) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

}  // namespace sluice::aggregate
