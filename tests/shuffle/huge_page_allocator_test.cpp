#include "shuffle/huge_page_allocator.h"

#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sluice {
namespace {

// The VmFlags line of the mapping in /proc/self/smaps that holds `address`.
std::string VmFlagsOf(const void* address) {
  const auto at = reinterpret_cast<uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    uintptr_t begin = 0, end = 0;
    char dash = 0;
    std::istringstream header(line);
    if (line.find("VmFlags:") == 0) {
      if (inside) return line;
      continue;
    }
    if (header >> std::hex >> begin >> dash >> end && dash == '-' && line.find(' ') != std::string::npos &&
        line.find(':') > line.find(' ')) {
      inside = begin <= at && at < end;
    }
  }
  return "";
}

TEST(HugePageAllocator, LargeBlocksAreAlignedToHugePagesAndAdvised) {
  struct Slot {
    char bytes[112];
  };
  std::vector<Slot, HugePageAllocator<Slot>> slots(131072);  // 14 MiB, as a 73k-group table
  const auto address = reinterpret_cast<uintptr_t>(slots.data());
  EXPECT_EQ(address % HugePageAllocator<Slot>::kHugePage, 0u);
  slots.back().bytes[0] = 1;  // written to the end: the block is whole
  if (access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) != 0) {
    GTEST_SKIP() << "this kernel has no transparent huge pages: the advice is ignored";
  }
  // "hg": the mapping carries MADV_HUGEPAGE, whatever THP mode the system is in.
  const std::string flags = VmFlagsOf(slots.data());
  ASSERT_FALSE(flags.empty()) << "no mapping in /proc/self/smaps holds the block";
  EXPECT_NE(flags.find(" hg"), std::string::npos) << flags;
}

TEST(HugePageAllocator, SmallBlocksAreOrdinaryAndKeepTheirAlignment) {
  struct alignas(32) Wide {
    char bytes[32];
  };
  std::vector<Wide, HugePageAllocator<Wide>> small(100);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small.data()) % alignof(Wide), 0u);
  // Growing past the threshold moves the elements into a huge-page block.
  small[7].bytes[3] = 42;
  small.resize(200000);
  EXPECT_EQ(small[7].bytes[3], 42);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small.data()) % HugePageAllocator<Wide>::kHugePage, 0u);
}

TEST(HugePageAllocator, RefusesASizeThatOverflows) {
  HugePageAllocator<uint64_t> allocator;
  EXPECT_THROW((void)allocator.allocate(SIZE_MAX / 4), std::bad_array_new_length);
}

}  // namespace
}  // namespace sluice
