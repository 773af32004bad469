// An allocator for large arrays probed at random, such as a hash table's
// slots: blocks of 2 MiB or more are 2 MiB-aligned and advised
// MADV_HUGEPAGE, so one TLB entry covers 2 MiB of them instead of 4 KiB.
//
// Why: the combiner's table for 73,200 groups is 15 MB of slots; with 4 KiB
// pages nearly every probe missed the TLB, and the page walk stalled even
// the prefetch meant to hide the miss (a fifth of aggregate's map time on
// one core). Debian's default THP mode is "madvise": without the advice the
// kernel never backs a heap block with huge pages.
//
// The advice is only advice: where the kernel has no transparent huge
// pages (or they are off) madvise fails and the block keeps 4 KiB pages,
// which is correct, only slower; so its result is deliberately not checked.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <new>

namespace sluice {

template <class T>
class HugePageAllocator {
 public:
  using value_type = T;
  static constexpr size_t kHugePage = size_t{2} << 20;

  HugePageAllocator() noexcept = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}  // NOLINT: rebinding is implicit

  T* allocate(size_t n) {
    if (n > SIZE_MAX / sizeof(T)) throw std::bad_array_new_length();
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugePage) return static_cast<T*>(::operator new(bytes, std::align_val_t{alignof(T)}));
    void* block = ::operator new(Rounded(bytes), std::align_val_t{kHugePage});
    (void)madvise(block, Rounded(bytes), MADV_HUGEPAGE);  // advice: see above
    return static_cast<T*>(block);
  }

  void deallocate(T* block, size_t n) noexcept {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugePage) {
      ::operator delete(block, std::align_val_t{alignof(T)});
    } else {
      ::operator delete(block, std::align_val_t{kHugePage});
    }
  }

  template <class U>
  bool operator==(const HugePageAllocator<U>&) const noexcept {
    return true;
  }

 private:
  // Whole huge pages, so the advised range never ends inside a page that
  // another allocation shares.
  static size_t Rounded(size_t bytes) { return (bytes + kHugePage - 1) & ~(kHugePage - 1); }
};

}  // namespace sluice
