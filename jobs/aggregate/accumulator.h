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

// One aggregate's running state (distinct:F keeps its values apart, in
// Accumulator::distinct).
struct Slot {
  uint64_t n = 0;  // non-NULL values seen (count:F, sum, min, max, avg)
  Decimal value;   // the sum (sum, avg), the minimum (min) or the maximum (max)

  template <class Archive>
  void serialize(Archive& ar) {
    ar(n, value);
  }
};

// The slots of one accumulator, the first kInline of them inside it: the
// engine copies and merges an accumulator per input row, and a heap array
// per group cost a cache miss per merge and an allocation per group each
// time the combiner table is emptied (a quarter of aggregate's map time).
class SlotArray {
 public:
  static constexpr size_t kInline = 4;
  // Decoding refuses more: a spec has one slot per aggregate it names.
  static constexpr size_t kMaxSlots = 1 << 16;

  SlotArray() = default;
  // Copies only the slots in use: the engine copies a value per row.
  SlotArray(const SlotArray& other) : size_(other.size_), heap_(other.heap_) { CopyInline(other); }
  SlotArray(SlotArray&& other) noexcept : size_(other.size_), heap_(std::move(other.heap_)) { CopyInline(other); }
  SlotArray& operator=(const SlotArray& other) {
    if (this != &other) {
      size_ = other.size_;
      heap_ = other.heap_;
      CopyInline(other);
    }
    return *this;
  }
  SlotArray& operator=(SlotArray&& other) noexcept {
    if (this != &other) {
      size_ = other.size_;
      heap_ = std::move(other.heap_);
      CopyInline(other);
    }
    return *this;
  }

  void resize(size_t n) {
    size_ = n;
    if (n > kInline) {
      heap_.resize(n);
    } else {
      heap_.clear();
    }
  }
  size_t size() const { return size_; }
  Slot* begin() { return size_ <= kInline ? inline_.data() : heap_.data(); }
  Slot* end() { return begin() + size_; }
  const Slot* begin() const { return size_ <= kInline ? inline_.data() : heap_.data(); }
  const Slot* end() const { return begin() + size_; }
  Slot& operator[](size_t i) { return begin()[i]; }
  const Slot& operator[](size_t i) const { return begin()[i]; }

  template <class Archive>
  void save(Archive& ar) const {
    ar(static_cast<uint64_t>(size_));
    for (const Slot& s : *this) ar(s);
  }
  template <class Archive>
  void load(Archive& ar) {
    uint64_t n = 0;
    ar(n);
    if (n > kMaxSlots) throw std::runtime_error("malformed aggregate value: " + std::to_string(n) + " slots");
    resize(static_cast<size_t>(n));
    for (Slot& s : *this) ar(s);
  }

 private:
  void CopyInline(const SlotArray& other) {
    if (size_ <= kInline) std::copy_n(other.inline_.begin(), size_, inline_.begin());
  }

  size_t size_ = 0;
  std::array<Slot, kInline> inline_{};
  std::vector<Slot> heap_;  // all the slots when there are more than kInline
};

// One group's state: the rows counted, one Slot per aggregate of the spec
// in its order, and, when the spec has a distinct:F, one DistinctSet per
// aggregate (empty but for the distinct ones; no sets at all otherwise, so
// copying an accumulator of a spec without distinct allocates nothing).
struct Accumulator {
  uint64_t rows = 0;
  SlotArray slots;
  std::vector<DistinctSet> distinct;

  // Sizes the slots (and sets) for `spec`.
  void Shape(const AggregateSpec& spec) {
    slots.resize(spec.aggregates.size());
    distinct.resize(spec.has_distinct ? spec.aggregates.size() : 0);
  }

  template <class Archive>
  void serialize(Archive& ar) {
    ar(rows, slots, distinct);
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
