// The map-side combiner's table for string keys: open addressing (linear
// probing) over slots holding {xxh3 of the key, key location, value}, keys
// copied once into an arena. No allocation per record and one hash per
// record: the stored xxh3 also picks the partition when the table flushes.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace sluice {

template <class V>
class StringCombineTable {
 public:
  explicit StringCombineTable(size_t initial_slots = 1 << 12) { Reset(initial_slots); }

  static uint64_t Hash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

  // Adds (key, value): a new key is copied in; an existing key's value
  // becomes combine(old, value).
  template <class Combine>
  void Add(std::string_view key, uint64_t hash, const V& value, Combine&& combine) {
    size_t i = hash & mask_;
    for (;;) {
      Slot& s = slots_[i];
      if (s.len_plus_one == 0) {
        s.hash = hash;
        s.offset = arena_.size();
        s.len_plus_one = static_cast<uint32_t>(key.size()) + 1;
        s.value = value;
        arena_.insert(arena_.end(), key.begin(), key.end());
        if (++used_ * 2 > slots_.size()) Grow();
        return;
      }
      if (s.hash == hash && s.len_plus_one == key.size() + 1 &&
          std::memcmp(arena_.data() + s.offset, key.data(), key.size()) == 0) {
        s.value = combine(s.value, value);
        return;
      }
      i = (i + 1) & mask_;
    }
  }

  // fn(std::string_view key, uint64_t hash, const V& value) for every entry,
  // in slot order.
  template <class Fn>
  void ForEach(Fn&& fn) const {
    for (const Slot& s : slots_) {
      if (s.len_plus_one != 0) {
        fn(std::string_view(arena_.data() + s.offset, s.len_plus_one - 1), s.hash, s.value);
      }
    }
  }

  size_t size() const { return used_; }
  // Heap bytes held: what the combiner's memory budget is checked against.
  size_t memory_bytes() const { return slots_.size() * sizeof(Slot) + arena_.capacity(); }

  // Empties the table. Keeps the arena's capacity; the slot array shrinks
  // back to its initial size so one huge split cannot pin memory forever.
  void Clear() { Reset(initial_slots_); }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint64_t offset = 0;         // into arena_
    uint32_t len_plus_one = 0;   // 0 marks an empty slot
    V value{};
  };

  void Reset(size_t slots) {
    initial_slots_ = slots;
    slots_.assign(slots, Slot());
    mask_ = slots - 1;
    used_ = 0;
    arena_.clear();
  }

  void Grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.size() * 2, Slot());
    mask_ = slots_.size() - 1;
    for (Slot& s : old) {
      if (s.len_plus_one == 0) continue;
      size_t i = s.hash & mask_;
      while (slots_[i].len_plus_one != 0) i = (i + 1) & mask_;
      slots_[i] = std::move(s);
    }
  }

  std::vector<Slot> slots_;
  std::vector<char> arena_;
  size_t mask_ = 0;
  size_t used_ = 0;
  size_t initial_slots_ = 0;
};

}  // namespace sluice
