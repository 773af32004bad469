// The aggregate job's value: one group's running aggregates, which Map makes
// for one row, Combine merges, and Reduce prints.
//
// Merging is exact and commutative (integer counts, exact decimal sums,
// exact comparisons, set unions), so a group's result does not depend on
// how the engine splits and orders the merges: the output is the same at
// any rank count.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
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

// One state's running value (AggregateSpec::states; a distinct state's
// values are in the accumulator's DistinctSet of the same index).
struct Slot {
  uint64_t n = 0;  // non-NULL values seen
  Decimal value;   // the sum (kSum), the least (kMin) or the greatest (kMax)

  template <class Archive>
  void serialize(Archive& ar) {
    ar(n, value);
  }
};

// One group's state: the rows counted and one Slot per state of the spec.
//
// The engine copies an accumulator into its combiner table per input row
// and merges it there, so the common shapes live in the object itself: up
// to kInline slots inline, anything more (and distinct sets) behind one
// pointer. A heap vector per group cost a cache miss per merge and an
// allocation per group each time the table was emptied, and a bigger
// object means fewer groups per cache line: the table's slot holds it.
class Accumulator {
 public:
  static constexpr size_t kInline = 2;
  // Decoding refuses more: a spec has a state per aggregate at most.
  static constexpr size_t kMaxSlots = 1 << 16;

  uint64_t rows = 0;

  Accumulator() = default;
  Accumulator(const Accumulator& other) { *this = other; }
  Accumulator(Accumulator&& other) noexcept { *this = std::move(other); }
  Accumulator& operator=(const Accumulator& other) {
    if (this == &other) return *this;
    rows = other.rows;
    size_ = other.size_;
    inline_ = other.inline_;  // whole: a few wide moves, no loop (the engine copies per row)
    if (other.more_ == nullptr) {
      if (more_ != nullptr) more_.reset();
    } else if (more_ == nullptr) {
      more_ = std::make_unique<More>(*other.more_);
    } else {
      *more_ = *other.more_;
    }
    return *this;
  }
  Accumulator& operator=(Accumulator&& other) noexcept {
    if (this == &other) return *this;
    rows = other.rows;
    size_ = other.size_;
    inline_ = other.inline_;
    more_ = std::move(other.more_);
    return *this;
  }

  // Sizes the slots (and distinct sets) for `spec`, every one empty.
  void Shape(const AggregateSpec& spec) { Shape(spec.states.size(), spec.has_distinct); }
  void Shape(size_t slots, bool distinct_sets) {
    size_ = slots;
    std::fill_n(inline_.begin(), std::min(slots, kInline), Slot());
    if (slots <= kInline && !distinct_sets) {
      more_.reset();
      return;
    }
    if (more_ == nullptr) more_ = std::make_unique<More>();
    more_->slots.assign(slots > kInline ? slots : 0, Slot());
    more_->distinct.assign(distinct_sets ? slots : 0, DistinctSet());
  }

  size_t size() const { return size_; }
  Slot& slot(size_t i) { return size_ <= kInline ? inline_[i] : more_->slots[i]; }
  const Slot& slot(size_t i) const { return size_ <= kInline ? inline_[i] : more_->slots[i]; }
  // Distinct sets: one per slot when the spec has a distinct state, else none.
  size_t distinct_sets() const { return more_ == nullptr ? 0 : more_->distinct.size(); }
  DistinctSet& distinct(size_t i) { return more_->distinct[i]; }
  const DistinctSet& distinct(size_t i) const { return more_->distinct[i]; }

  // Cereal: rows, the slot count, whether distinct sets follow, the
  // slots, the sets.
  template <class Archive>
  void save(Archive& ar) const {
    const bool sets = distinct_sets() != 0;
    ar(rows, static_cast<uint64_t>(size_), sets);
    for (size_t i = 0; i < size_; ++i) ar(slot(i));
    if (sets) {
      for (size_t i = 0; i < size_; ++i) ar(distinct(i));
    }
  }
  template <class Archive>
  void load(Archive& ar) {
    uint64_t slots = 0;
    bool sets = false;
    ar(rows, slots, sets);
    if (slots > kMaxSlots) {
      throw std::runtime_error("malformed aggregate value: " + std::to_string(slots) + " slots");
    }
    Shape(static_cast<size_t>(slots), sets);
    for (size_t i = 0; i < size_; ++i) ar(slot(i));
    if (sets) {
      for (size_t i = 0; i < size_; ++i) ar(distinct(i));
    }
  }

 private:
  struct More {
    std::vector<Slot> slots;  // all the slots, when there are more than kInline
    std::vector<DistinctSet> distinct;
  };

  size_t size_ = 0;
  std::array<Slot, kInline> inline_{};
  std::unique_ptr<More> more_;
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
