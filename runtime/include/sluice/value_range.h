// The values of one key, as reduce() sees them: in input order (split index,
// then emission order), decoded, strings as views into the block.
//
// A single-pass range. When a partition is reduced in memory the values lie
// in one array; when it is merged from spill runs they stream in one at a
// time from the merge (Refill), so a key with more values than memory still
// reduces in bounded memory. Each value is valid until the next is read.
#pragma once

#include <cstddef>
#include <cstdint>

#include "shuffle/serde.h"

namespace sluice {

// One decoded record on the reduce side. `origin` is (split << 32 | block
// seq): with the record's place in its block, the input order that equal
// keys keep through sorting, spilling and merging.
template <class K, class V>
struct ReduceRecord {
  ViewOfT<K> key;
  ViewOfT<V> value;
  uint64_t origin = 0;
};

template <class K, class V>
class ValueRange {
 public:
  using Record = ReduceRecord<K, V>;
  using value_type = ViewOfT<V>;
  // Sets [*cur, *end) to the group's next records; false when it has no more.
  using Refill = bool (*)(void* context, const Record** cur, const Record** end);

  struct sentinel {};
  class iterator {
   public:
    using value_type = ViewOfT<V>;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(ValueRange* range) : range_(range) {}
    const value_type& operator*() const { return range_->cur_->value; }
    const value_type* operator->() const { return &range_->cur_->value; }
    iterator& operator++() {
      range_->Advance();
      return *this;
    }
    void operator++(int) { range_->Advance(); }
    bool operator==(sentinel) const { return range_->cur_ == nullptr; }

   private:
    ValueRange* range_ = nullptr;
  };

  ValueRange(const Record* begin, const Record* end, Refill refill = nullptr,
             void* context = nullptr)
      : cur_(begin), end_(end), refill_(refill), context_(context) {
    if (cur_ == end_) Next();
  }
  ValueRange(const ValueRange&) = delete;
  ValueRange& operator=(const ValueRange&) = delete;

  iterator begin() { return iterator(this); }
  sentinel end() const { return {}; }
  bool empty() const { return cur_ == nullptr; }
  // The next unread value (the first one, before iterating). Not empty().
  const value_type& front() const { return cur_->value; }
  // The full key of the next unread value. With secondary sort (a job that
  // groups on a prefix of its key), this is where the rest of the key is.
  const ViewOfT<K>& key() const { return cur_->key; }

  // Engine side: reads past whatever reduce() left unread.
  void SkipRest() {
    while (cur_ != nullptr) Advance();
  }

 private:
  void Advance() {
    if (++cur_ == end_) Next();
  }
  void Next() {
    if (refill_ == nullptr || !refill_(context_, &cur_, &end_)) cur_ = nullptr;
  }

  const Record* cur_;
  const Record* end_;
  Refill refill_;
  void* context_;
};

}  // namespace sluice
