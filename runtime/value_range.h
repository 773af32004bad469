// The values of one key, as reduce() sees them: in input order (split index,
// then emission order), decoded, strings as views into the block.
#pragma once

#include <cstddef>

#include "shuffle/serde.h"

namespace sluice {

// One decoded record on the reduce side.
template <class K, class V>
struct ReduceRecord {
  ViewOfT<K> key;
  ViewOfT<V> value;
};

template <class K, class V>
class ValueRange {
 public:
  using Record = ReduceRecord<K, V>;
  using value_type = ViewOfT<V>;

  class iterator {
   public:
    using value_type = ViewOfT<V>;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(const Record* r) : r_(r) {}
    const value_type& operator*() const { return r_->value; }
    const value_type* operator->() const { return &r_->value; }
    iterator& operator++() {
      ++r_;
      return *this;
    }
    iterator operator++(int) {
      iterator old = *this;
      ++r_;
      return old;
    }
    bool operator==(const iterator& o) const { return r_ == o.r_; }

   private:
    const Record* r_ = nullptr;
  };

  ValueRange(const Record* begin, const Record* end) : begin_(begin), end_(end) {}
  iterator begin() const { return iterator(begin_); }
  iterator end() const { return iterator(end_); }
  size_t size() const { return static_cast<size_t>(end_ - begin_); }
  const value_type& front() const { return begin_->value; }

 private:
  const Record* begin_;
  const Record* end_;
};

}  // namespace sluice
