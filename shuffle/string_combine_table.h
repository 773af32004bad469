// The map-side combiner's table for string keys: open addressing (linear
// probing) over slots holding {xxh3 of the key, key location, value}, keys
// copied once into an arena. No allocation per record and one hash per
// record: the stored xxh3 also picks the partition when the table flushes.
//
// Adds are software-pipelined: Add hashes nothing itself (the caller passes
// the hash), prefetches the key's slot and queues the record; the record is
// applied kRing adds later, when its slot is likely in cache. The queue
// copies the key, so callers may pass views of temporaries. Records reach
// the table in Add order, so `combine` need only be associative.
//
// Memory: given a byte budget, the slot array grows to at most half of it
// and the key arena to the other half; past that the table reports full()
// and the owner drains it (ForEach, Clear). Clear keeps the grown slot array
// and arena: a combiner that flushes many times per split would otherwise
// re-grow from a few slots each time, zeroing fresh pages at every doubling
// (a quarter of map time on a 7M-word vocabulary).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "shuffle/huge_page_allocator.h"
#include "shuffle/little_endian.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace sluice {

// Writes a key of at most 16 bytes to out[0..16), zero-padded, with a few
// word loads that stay inside [p, p + len): no memset or memcpy call per
// record, which cost a tenth of WordCount's instructions.
[[gnu::always_inline]] inline void PadShortKey(const char* p, size_t len, char* out) {
  uint64_t lo = 0, hi = 0;
  if (len >= 8) {
    lo = Load64(p);
    if (len > 8) hi = Load64(p + len - 8) >> (8 * (16 - len));  // bytes [8, len)
  } else if (len >= 4) {
    lo = Load32(p) | (uint64_t{Load32(p + len - 4)} << (8 * (len - 4)));
  } else if (len > 0) {
    lo = uint64_t{static_cast<uint8_t>(p[0])} |
         (uint64_t{static_cast<uint8_t>(p[len / 2])} << (8 * (len / 2))) |
         (uint64_t{static_cast<uint8_t>(p[len - 1])} << (8 * (len - 1)));
  }
  Store64(out, lo);
  Store64(out + 8, hi);
}

// Combine: callable as V(const V& old, const V& added).
template <class V, class Combine>
class StringCombineTable {
 public:
  // `budget_bytes`: see above (the default: unbounded, for a table whose
  // size its caller bounds otherwise).
  explicit StringCombineTable(Combine combine, size_t initial_slots = 1 << 12,
                              size_t budget_bytes = SIZE_MAX)
      : combine_(std::move(combine)),
        initial_slots_(std::min(initial_slots, MaxSlots(budget_bytes))),
        max_slots_(MaxSlots(budget_bytes)),
        max_arena_(budget_bytes / 2) {
    slots_.assign(initial_slots_, Slot());
    mask_ = slots_.size() - 1;
    direct_ = slots_.size() <= kCachedSlots;
  }

  // XXH3_64bits(key). Keys of up to 16 bytes (most words) take XXH3's own
  // short-input path directly, inlined: the public entry point is a call
  // per record whose dispatch costs as much as the hash.
  // (string_combine_table_test checks every length against XXH3_64bits.)
  [[gnu::always_inline]] static uint64_t Hash(std::string_view key) {
#if XXH_VERSION_MAJOR == 0 && XXH_VERSION_MINOR == 8
    if (key.size() <= 16) {
      return XXH3_len_0to16_64b(reinterpret_cast<const xxh_u8*>(key.data()), key.size(), XXH3_kSecret, 0);
    }
#endif
    return XXH3_64bits(key.data(), key.size());
  }

  // Adds (key, value) with hash == Hash(key): a new key is copied in; an
  // existing key's value becomes combine(old, value).
  //
  // Inlined into the job's map loop, with the probe (Apply) when the table
  // fits in cache: called once per emitted record, a call's register saves
  // and reloads cost as much as the probe itself. A larger table's queued
  // path is a call (AddQueued).
  [[gnu::always_inline]] void Add(std::string_view key, uint64_t hash, const V& value) {
    if (key.size() > kInlineKey) [[unlikely]] {  // rare: apply now, after those queued
      AddLong(key, hash, value);
      return;
    }
    if (direct_) {  // the slots fit in cache: the queue would only add copying
      char padded[kShortKey];
      if (key.size() <= kShortKey) {
        PadShortKey(key.data(), key.size(), padded);
        Apply(key, padded, hash, value);
      } else {
        Apply(key, key.data(), hash, value);
      }
      return;
    }
    AddQueued(key, hash, value);
  }

  // Add for a table too large for cache: the record waits in the ring behind
  // a prefetch of its slot. Out of line: inlined into the map loop, this
  // path ran 1.5x slower on a vocabulary far larger than cache (8 M words,
  // generated), though it executes the same instructions.
  [[gnu::noinline]] void AddQueued(std::string_view key, uint64_t hash, const V& value) {
    Prefetch(&slots_[Home(hash)]);
    // The ring's next entry is its oldest once it is full: apply that one,
    // then queue this record in its place.
    Pending& p = ring_[next_];
    if (queued_ == kRing) {
      Apply(std::string_view(p.key, p.len), p.key, p.hash, p.value);
    } else {
      ++queued_;
    }
    p.hash = hash;
    p.len = static_cast<uint32_t>(key.size());
    if (key.size() <= kShortKey) {
      PadShortKey(key.data(), key.size(), p.key);  // short keys compare as two padded words
    } else {
      std::memcpy(p.key, key.data(), key.size());
    }
    p.value = value;
    next_ = (next_ + 1) & (kRing - 1);
  }

  // Add for a key too long for the queue: out of line, so that the common
  // path inlines into the map loop whole.
  [[gnu::noinline]] void AddLong(std::string_view key, uint64_t hash, const V& value) {
    Drain();
    Apply(key, key.data(), hash, value);
  }

  // Applies every queued record, oldest first.
  void Drain() {
    while (queued_ > 0) {
      Pending& oldest = ring_[(next_ - queued_) & (kRing - 1)];
      Apply(std::string_view(oldest.key, oldest.len), oldest.key, oldest.hash, oldest.value);
      --queued_;
    }
  }

  // fn(std::string_view key, uint64_t hash, const V& value) for every entry,
  // in slot order. Drains first.
  template <class Fn>
  void ForEach(Fn&& fn) {
    Drain();
    for (const Slot& s : slots_) {
      if (s.len_plus_one != 0) fn(KeyOf(s), s.hash, s.value);
    }
  }

  // Distinct keys applied so far (queued records not included).
  size_t size() const { return used_; }
  // Heap bytes held (at most the budget, plus a slot array's last doubling).
  size_t memory_bytes() const { return slots_.size() * sizeof(Slot) + arena_.capacity(); }
  // The budget is reached: drain the table before the next Add.
  bool full() const { return full_; }

  // Empties the table (queued records included), keeping its capacity.
  void Clear() {
    queued_ = 0;
    next_ = 0;
    full_ = false;
    arena_.clear();
    // No key applied since the last clear: every slot is still empty. (A
    // flush clears the table, then the next split's Reset clears it again:
    // that second pass over tens of MB would write zeros onto zeros.)
    if (used_ == 0) return;
    if constexpr (std::is_trivially_copyable_v<V>) {
      std::memset(static_cast<void*>(slots_.data()), 0, slots_.size() * sizeof(Slot));
    } else {
      std::fill(slots_.begin(), slots_.end(), Slot());
    }
    used_ = 0;
  }

  // Empties the table and sizes it to `slots` (rounded up to a power of
  // two, within the first size and the budget's). ForEach visits keys in
  // slot order, and that order depends on the slot count: after Reset it
  // depends only on `slots` and what was added since, not on what came
  // before (a map task's blocks must not depend on which tasks its rank ran
  // earlier). A caller that knows roughly how many keys are coming sizes
  // the table for them once, instead of growing it doubling by doubling.
  void Reset(size_t slots = 0) {
    size_t want = initial_slots_;
    while (want < slots && want < max_slots_) want *= 2;
    if (slots_.size() == want) {
      Clear();
      return;
    }
    queued_ = 0;
    next_ = 0;
    SlotArray fresh(want, Slot());
    slots_.swap(fresh);
    mask_ = slots_.size() - 1;
    direct_ = slots_.size() <= kCachedSlots;
    used_ = 0;
    full_ = false;
    arena_.clear();
  }

 private:
  static constexpr size_t kRing = 16;       // ~ memory latency / work per record
  static_assert((kRing & (kRing - 1)) == 0, "the ring wraps with a mask");
  static constexpr size_t kInlineKey = 48;  // longer keys skip the queue
  static constexpr size_t kShortKey = 16;   // keys this short live in the slot

  // A short key lives zero-padded in `short_key`, so a hit compares two words
  // of the (prefetched) slot and never touches the arena; a longer key lives
  // in the arena at `offset`.
  struct Slot {
    uint64_t hash = 0;
    uint32_t len_plus_one = 0;  // 0 marks an empty slot
    uint32_t offset = 0;        // into arena_, for keys longer than kShortKey
    char short_key[kShortKey] = {};
    V value{};
  };


 public:
  // Bytes per slot, for sizing a table against a memory budget.
  static constexpr size_t kSlotBytes = sizeof(Slot);

 private:
  // Up to this many slots (256 KiB, about L2's size) a slot is likely
  // cached: Add applies at once instead of queueing behind a prefetch.
  static constexpr size_t kCachedSlots = (256 << 10) / kSlotBytes;

  // Every cache line the slot spans: a hit compares the key at its start
  // and combines the value after it, which for a wide value (aggregate's
  // accumulator: 112-byte slots) lies on the next lines.
  static void Prefetch(const Slot* slot) {
    if constexpr (sizeof(Slot) <= kCacheLine) {  // one line or two: no loop
      __builtin_prefetch(slot);
      __builtin_prefetch(reinterpret_cast<const char*>(slot) + sizeof(Slot) - 1);
    } else {
      const auto first = reinterpret_cast<uintptr_t>(slot) & ~uintptr_t{kCacheLine - 1};
      const auto last = reinterpret_cast<uintptr_t>(slot) + sizeof(Slot) - 1;
      for (uintptr_t line = first; line <= last; line += kCacheLine) {
        __builtin_prefetch(reinterpret_cast<const void*>(line));
      }
    }
  }
  static constexpr size_t kCacheLine = 64;

  std::string_view KeyOf(const Slot& s) const {
    size_t len = s.len_plus_one - 1;
    return len <= kShortKey ? std::string_view(s.short_key, len)
                            : std::string_view(arena_.data() + s.offset, len);
  }

  // `padded` holds the key zero-padded to kShortKey bytes when it is short.
  [[gnu::always_inline]] bool SameKey(const Slot& s, std::string_view key, const char* padded) const {
    if (s.len_plus_one != key.size() + 1) return false;
    if (key.size() <= kShortKey) return std::memcmp(s.short_key, padded, kShortKey) == 0;
    return std::memcmp(arena_.data() + s.offset, key.data(), key.size()) == 0;
  }
  // Probed at random: huge pages spare a TLB miss per probe.
  using SlotArray = std::vector<Slot, HugePageAllocator<Slot>>;

  struct Pending {
    uint64_t hash = 0;
    uint32_t len = 0;
    char key[kInlineKey];
    V value{};
  };

  // `padded`: when the key is short (kShortKey bytes at most), kShortKey
  // bytes holding it zero-padded; otherwise unused. Long keys are read
  // through `key` alone, so no read of `padded` can run past its 16 bytes.
  [[gnu::always_inline]] void Apply(std::string_view key, const char* padded, uint64_t hash, const V& value) {
    size_t i = Home(hash);
    for (;;) {
      Slot& s = slots_[i];
      if (s.len_plus_one == 0) {
        Insert(s, key, padded, hash, value);
        return;
      }
      if (s.hash == hash && SameKey(s, key, padded)) {
        if constexpr (requires { combine_.Into(s.value, value); }) {
          combine_.Into(s.value, value);  // the job merges in place (CombineWith)
        } else {
          s.value = combine_(s.value, value);
        }
        return;
      }
      i = (i + 1) & mask_;
    }
  }

  // A new key into the empty slot `s`.
  void Insert(Slot& s, std::string_view key, const char* padded, uint64_t hash, const V& value) {
    s.hash = hash;
    s.len_plus_one = static_cast<uint32_t>(key.size()) + 1;
    if (key.size() <= kShortKey) {
      std::memcpy(s.short_key, padded, kShortKey);
    } else {
      StoreLongKey(s, key);
    }
    s.value = value;
    if (++used_ * 2 > slots_.size()) GrowOrFill();
  }

  [[gnu::noinline]] void StoreLongKey(Slot& s, std::string_view key) {
    s.offset = static_cast<uint32_t>(arena_.size());
    arena_.insert(arena_.end(), key.begin(), key.end());
    if (arena_.size() >= max_arena_) full_ = true;
  }

  // Past half load. At the cap the table runs past half load until its
  // owner sees full(), at most a few adds later: probing stays short.
  [[gnu::noinline]] void GrowOrFill() {
    if (slots_.size() < max_slots_) {
      Grow();
    } else {
      full_ = true;
    }
  }

  // A key's first slot, from the hash's upper half. The low bits would do
  // for a table of every key, but the reduce side folds one partition at a
  // time, and partition = hash mod P fixes the low bits of every key in it
  // (all four of them at P = 16): homes would fall on one slot in 16 and
  // probes run across several cache lines.
  [[gnu::always_inline]] size_t Home(uint64_t hash) const { return static_cast<size_t>(hash >> 32 | hash << 32) & mask_; }

  // The largest power of two whose slots fit half of budget_bytes.
  static size_t MaxSlots(size_t budget_bytes) {
    size_t slots = 16;
    while (slots <= SIZE_MAX / 4 / sizeof(Slot) && slots * 2 * sizeof(Slot) <= budget_bytes / 2) slots *= 2;
    return slots;
  }

  void Grow() {
    SlotArray old;
    old.swap(slots_);
    slots_.assign(old.size() * 2, Slot());
    mask_ = slots_.size() - 1;
    direct_ = slots_.size() <= kCachedSlots;
    for (Slot& s : old) {
      if (s.len_plus_one == 0) continue;
      size_t i = Home(s.hash);
      while (slots_[i].len_plus_one != 0) i = (i + 1) & mask_;
      slots_[i] = std::move(s);
    }
  }

  Combine combine_;
  SlotArray slots_;
  std::vector<char> arena_;
  size_t mask_ = 0;
  size_t used_ = 0;
  size_t initial_slots_;
  size_t max_slots_;
  size_t max_arena_;
  bool full_ = false;
  bool direct_ = true;  // Add applies at once: the slots fit in cache (kCachedSlots)
  Pending ring_[kRing];  // records queued behind their slot's prefetch
  size_t next_ = 0;      // the ring entry the next record goes to
  size_t queued_ = 0;
};

}  // namespace sluice
