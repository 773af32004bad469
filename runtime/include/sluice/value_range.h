// The values of one key, as reduce() sees them: in input order (split index,
// then emission order), decoded, strings as views into the block.
//
// A single-pass range. When a partition is reduced in memory the values lie
// in one array; when it is merged from spill runs they stream in one at a
// time from the merge (Refill), so a key with more values than memory still
// reduces in bounded memory.
//
//   for (const auto& v : values) ...                  the values
//   for (const auto& [key, v] : values.with_keys())   with each one's full key:
//                                                     secondary sort (kGroupFields)
//
// Lifetime: a value (and values.key()) is valid until the range advances to
// the next one; keep a copy to hold it longer. Builds without NDEBUG and
// AddressSanitizer builds check this: each value read then lives in a heap
// block of its own that is overwritten and freed on advance, so a use after
// advance reads garbage, and under ASan stops with heap-use-after-free
// naming the line. Release builds hand out views into the block, no copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include "shuffle/reduce_record.h"
#include "shuffle/serde.h"

#if !defined(SLUICE_CHECK_VALUE_LIFETIME)
#if !defined(NDEBUG) || defined(__SANITIZE_ADDRESS__)
#define SLUICE_CHECK_VALUE_LIFETIME 1
#else
#define SLUICE_CHECK_VALUE_LIFETIME 0
#endif
#endif

namespace sluice {

template <class K, class V>
class ValueRange {
 public:
  using Record = ReduceRecord<K, V>;
  using value_type = ViewOfT<V>;
  // Sets [*cur, *end) to the group's next records; false when it has no more.
  using Refill = bool (*)(void* context, const Record** cur, const Record** end);

  struct sentinel {};
  // One value with the full key it was emitted under, for
  // `for (const auto& [key, value] : values.with_keys())`.
  struct KeyedValue {
    const ViewOfT<K>& key;
    const value_type& value;
  };
  // The single pass, yielding each value (kKeyed false) or each KeyedValue.
  template <bool kKeyed>
  class basic_iterator {
   public:
    using value_type = std::conditional_t<kKeyed, KeyedValue, ViewOfT<V>>;
    using difference_type = std::ptrdiff_t;
    basic_iterator() = default;
    explicit basic_iterator(ValueRange* range) : range_(range) {}
    decltype(auto) operator*() const {
      if constexpr (kKeyed) {
        return KeyedValue{range_->key(), range_->Value()};
      } else {
        return range_->Value();  // const value_type&
      }
    }
    const ViewOfT<V>* operator->() const
      requires(!kKeyed)
    {
      return &range_->Value();
    }
    basic_iterator& operator++() {
      range_->Advance();
      return *this;
    }
    void operator++(int) { range_->Advance(); }
    bool operator==(sentinel) const { return range_->cur_ == nullptr; }

   private:
    ValueRange* range_ = nullptr;
  };
  using iterator = basic_iterator<false>;
  using keyed_iterator = basic_iterator<true>;
  class KeyedRange {
   public:
    explicit KeyedRange(ValueRange* range) : range_(range) {}
    keyed_iterator begin() const { return keyed_iterator(range_); }
    sentinel end() const { return {}; }

   private:
    ValueRange* range_;
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
  // The same single pass, each value with its full key.
  KeyedRange with_keys() { return KeyedRange(this); }
  bool empty() const { return cur_ == nullptr; }
  // The next unread value (the first one, before iterating). Not empty().
  const value_type& front() const { return Value(); }
  // The full key of the next unread value. With secondary sort (a job that
  // groups on a prefix of its key), this is where the rest of the key is.
  const ViewOfT<K>& key() const { return KeyOf(); }

  // Engine side: reads past whatever reduce() left unread.
  void SkipRest() {
    while (cur_ != nullptr) Advance();
  }

 private:
  void Advance() {
    if constexpr (kChecked) {
      checked_value_.reset();
      checked_key_.reset();
    }
    if (++cur_ == end_) Next();
  }
  // The next non-empty chunk, or the end (cur_ null).
  void Next() {
    while (refill_ != nullptr && refill_(context_, &cur_, &end_)) {
      if (cur_ != end_) return;
    }
    cur_ = nullptr;
  }

  static constexpr bool kChecked = SLUICE_CHECK_VALUE_LIFETIME != 0;

  // A checked build's copy of one value or key: its own heap block, filled
  // with 0xDB and freed when the range advances.
  template <class T>
  struct Copy {
    explicit Copy(const T& v) : view(v) {}
    ~Copy() {
      if constexpr (std::is_trivially_copyable_v<T>) std::memset(static_cast<void*>(&view), 0xDB, sizeof view);
    }
    T view;
  };
  struct StringCopy {
    explicit StringCopy(std::string_view v)
        : bytes(new char[v.size() + 1]), view(bytes.get(), v.size()) {
      std::memcpy(bytes.get(), v.data(), v.size());
    }
    ~StringCopy() { std::memset(bytes.get(), 0xDB, view.size() + 1); }
    std::unique_ptr<char[]> bytes;
    std::string_view view;
  };
  template <class T>
  using CheckedCopy = std::conditional_t<std::is_same_v<T, std::string_view>, StringCopy, Copy<T>>;

  const value_type& Value() const {
    if constexpr (kChecked) {
      if (!checked_value_) checked_value_ = std::make_unique<CheckedCopy<value_type>>(cur_->value);
      return checked_value_->view;
    } else {
      return cur_->value;
    }
  }
  const ViewOfT<K>& KeyOf() const {
    if constexpr (kChecked) {
      if (!checked_key_) checked_key_ = std::make_unique<CheckedCopy<ViewOfT<K>>>(cur_->key);
      return checked_key_->view;
    } else {
      return cur_->key;
    }
  }

  const Record* cur_;
  const Record* end_;
  Refill refill_;
  void* context_;
  struct Unchecked {};
  [[no_unique_address]] mutable std::conditional_t<kChecked, std::unique_ptr<CheckedCopy<value_type>>,
                                                   Unchecked> checked_value_;
  [[no_unique_address]] mutable std::conditional_t<kChecked, std::unique_ptr<CheckedCopy<ViewOfT<K>>>,
                                                   Unchecked> checked_key_;
};

}  // namespace sluice
