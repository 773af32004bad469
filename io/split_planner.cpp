#include "io/split_planner.h"

#include <algorithm>
#include <cassert>

namespace sluice {

uint64_t Split::bytes() const {
  uint64_t total = 0;
  for (const FileRange& r : ranges) total += r.end - r.begin;
  return total;
}

uint64_t MaxRangeBytes(uint64_t split_size) { return split_size + split_size / 10; }

std::vector<Split> PlanSplits(const std::vector<InputFile>& files, uint64_t split_size) {
  assert(split_size > 0);
  std::vector<Split> splits;
  Split group;  // small files gathered so far, not yet emitted
  uint64_t group_bytes = 0;

  auto emit = [&splits](Split&& s) {
    s.index = static_cast<uint32_t>(splits.size());
    splits.push_back(std::move(s));
  };
  auto flush_group = [&] {
    if (group.ranges.empty()) return;
    emit(std::move(group));
    group = Split();
    group_bytes = 0;
  };

  for (size_t i = 0; i < files.size(); ++i) {
    const uint32_t index = static_cast<uint32_t>(i);
    const uint64_t size = files[i].size;
    if (size == 0) continue;
    if (size <= split_size) {
      if (group_bytes + size > split_size) flush_group();
      group.ranges.push_back(FileRange{index, 0, size});
      group_bytes += size;
      continue;
    }
    // A large file ends the current group so that split order stays file
    // order. Range k of n covers [k*size/n, (k+1)*size/n), computed without
    // the overflow that k*size could hit for very large files.
    flush_group();
    const uint64_t most = MaxRangeBytes(split_size);
    const uint64_t n = size / most + (size % most != 0);
    const uint64_t base = size / n;
    const uint64_t extra = size % n;  // the first `extra` ranges get one more byte
    uint64_t begin = 0;
    for (uint64_t k = 0; k < n; ++k) {
      const uint64_t len = base + (k < extra ? 1 : 0);
      Split s;
      s.ranges.push_back(FileRange{index, begin, begin + len});
      emit(std::move(s));
      begin += len;
    }
  }
  flush_group();
  return splits;
}

}  // namespace sluice
