#include "jobs/aggregate/accumulator.h"

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace sluice::aggregate {

void DistinctSet::Merge(const DistinctSet& other) {
  if (&other == this) return;
  values_.insert(values_.end(), other.values_.begin(), other.values_.end());
  if (values_.size() - sorted_ > std::max<size_t>(sorted_, 16)) Compact();
}

void DistinctSet::Compact() const {
  if (sorted_ == values_.size()) return;
  const auto middle = values_.begin() + static_cast<std::ptrdiff_t>(sorted_);
  std::sort(middle, values_.end());
  std::inplace_merge(values_.begin(), middle, values_.end());
  values_.erase(std::unique(values_.begin(), values_.end()), values_.end());
  sorted_ = values_.size();
}

void Merge(const AggregateSpec& spec, Accumulator* into, const Accumulator& from) {
  const size_t states = spec.states.size();
  const size_t sets = spec.has_distinct ? states : 0;
  if (into->size() != states || from.size() != states || into->distinct_sets() != sets ||
      from.distinct_sets() != sets) {
    throw std::invalid_argument("an aggregate value with " + std::to_string(from.size()) + " slots and " +
                                std::to_string(from.distinct_sets()) + " sets, expected " +
                                std::to_string(states) + " and " + std::to_string(sets));
  }
  into->rows += from.rows;
  for (size_t i = 0; i < states; ++i) {
    Slot& a = into->slot(i);
    const Slot& b = from.slot(i);
    switch (spec.states[i].kind) {
      case StateKind::kCountField:
        break;
      case StateKind::kSum:
        if (a.n == 0) {
          a.value = b.value;  // an empty slot's value means nothing
        } else if (b.n != 0 && !Decimal::Add(a.value, b.value, &a.value)) {
          throw std::overflow_error(spec.states[i].label + ": the sum " + a.value.ToString() + " + " +
                                    b.value.ToString() + " needs more than 38 significant digits");
        }
        break;
      case StateKind::kMin:
        if (b.n != 0 && (a.n == 0 || b.value < a.value)) a.value = b.value;
        break;
      case StateKind::kMax:
        if (b.n != 0 && (a.n == 0 || a.value < b.value)) a.value = b.value;
        break;
      case StateKind::kDistinct:
        into->distinct(i).Merge(from.distinct(i));
        break;
    }
    a.n += b.n;
  }
}

namespace {

void AppendNumber(uint64_t v, std::string* out) {
  char buf[24];
  out->append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

}  // namespace

void AppendResults(const AggregateSpec& spec, const Accumulator& acc, bool first, std::string* out) {
  for (size_t i = 0; i < spec.aggregates.size(); ++i) {
    if (!first || i > 0) out->push_back(',');
    const Aggregate& a = spec.aggregates[i];
    if (a.kind == AggregateKind::kCount) {
      AppendNumber(acc.rows, out);
      continue;
    }
    const Slot& s = acc.slot(a.state);
    switch (a.kind) {
      case AggregateKind::kCount:
        break;
      case AggregateKind::kCountField:
        AppendNumber(s.n, out);
        break;
      case AggregateKind::kSum:
      case AggregateKind::kMin:
      case AggregateKind::kMax:
        if (s.n != 0) s.value.AppendTo(out);
        break;
      case AggregateKind::kAvg:
        if (s.n != 0) {
          Decimal avg;
          if (!s.value.DivideRounded(s.n, spec.avg_digits, &avg)) {
            throw std::overflow_error(a.column + ": the average " + s.value.ToString() + " / " +
                                      std::to_string(s.n) + " needs more than 38 significant digits");
          }
          avg.AppendTo(out);
        }
        break;
      case AggregateKind::kDistinct:
        AppendNumber(acc.distinct(a.state).Count(), out);
        break;
    }
  }
}

}  // namespace sluice::aggregate
