// The aggregate job's value: one group's running aggregates, which Map makes
// for one row, Combine merges, and Reduce prints.
//
// Merging is exact and commutative (integer counts, exact decimal sums,
// exact comparisons, set unions), so a group's result does not depend on
// how the engine splits and orders the merges: the output is the same at
// any rank count.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include "jobs/aggregate/aggregate_spec.h"
#include "jobs/aggregate/decimal.h"

namespace sluice::aggregate {

// The distinct values of a field in one group, for distinct:F. Values are
// kept in a vector: a sorted, duplicate-free prefix and a tail of values
// merged in since, sorted into the prefix once the tail is as long as the
// prefix (so a merge costs amortized O(log n) per value, not O(n)). Memory
// grows with the number of distinct values.
class DistinctSet {
 public:
  // Makes the set {value}, reusing the memory of the first element.
  void SetOne(std::string_view value) {
    values_.resize(1);
    values_[0].assign(value);
    sorted_ = 1;
  }
  void Clear() {
    values_.clear();
    sorted_ = 0;
  }
  // Adds other's values (a union).
  void Merge(const DistinctSet& other);
  // The number of distinct values.
  size_t Count() const {
    Compact();
    return values_.size();
  }
  // The distinct values, sorted bytewise.
  const std::vector<std::string>& Values() const {
    Compact();
    return values_;
  }

  // Cereal: the sorted, distinct values.
  template <class Archive>
  void save(Archive& ar) const {
    Compact();
    ar(values_);
  }
  template <class Archive>
  void load(Archive& ar) {
    ar(values_);
    sorted_ = 0;  // compacted on first use: a decoded vector is not trusted to be sorted
  }

 private:
  void Compact() const;

  // Compacting changes the representation, never the set: const methods
  // may do it.
  mutable std::vector<std::string> values_;
  mutable size_t sorted_ = 0;  // values_[0, sorted_) is sorted and distinct
};

// One aggregate's running state.
struct Slot {
  uint64_t n = 0;        // non-NULL values seen (count:F, sum, min, max, avg)
  Decimal value;         // the sum (sum, avg), the minimum (min) or the maximum (max)
  DistinctSet distinct;  // distinct

  template <class Archive>
  void serialize(Archive& ar) {
    ar(n, value, distinct);
  }
};

// One group's state: the rows counted and one Slot per aggregate of the
// spec, in its order.
struct Accumulator {
  uint64_t rows = 0;
  std::vector<Slot> slots;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(rows, slots);
  }
};

// Merges `from` into *into. Throws std::overflow_error naming the column
// when a sum leaves the exact range (38 significant digits), and
// std::invalid_argument when the two do not have one slot per aggregate
// (a value from another spec).
void Merge(const AggregateSpec& spec, Accumulator* into, const Accumulator& from);

// Appends the aggregates' output fields, each preceded by a comma unless it
// is the row's first field (`first` says whether the first aggregate is).
// NULL results (the sum, min, max or avg of no values) are empty fields;
// avg is rounded half to even at spec.avg_digits digits. Throws
// std::overflow_error when an average does not fit 38 significant digits.
void AppendResults(const AggregateSpec& spec, const Accumulator& acc, bool first, std::string* out);

}  // namespace sluice::aggregate
