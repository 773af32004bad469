#include "io/split_planner.h"

#include <algorithm>
#include <cassert>

namespace sluice {

uint64_t Split::bytes() const {
  uint64_t total = 0;
  for (const FileRange& r : ranges) total += r.end - r.begin;
  return total;
}

std::vector<uint32_t> MapOrder(const std::vector<Split>& splits, const std::vector<InputFile>& files) {
  std::vector<uint64_t> weight(splits.size(), 0);
  for (size_t i = 0; i < splits.size(); ++i) {
    for (const FileRange& r : splits[i].ranges) {
      const bool compressed = files[r.file_index].compression != Compression::kNone;
      weight[i] += (r.end - r.begin) * (compressed ? kCompressedByteWeight : 1);
    }
  }
  std::vector<uint32_t> order(splits.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<uint32_t>(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return weight[a] > weight[b]; });
  return order;
}

uint64_t MaxRangeBytes(uint64_t split_size) { return split_size + split_size / 10; }

namespace {

// A range over the whole of a compressed file that cannot be split.
FileRange WholeCompressedFile(uint32_t index, uint64_t size) {
  FileRange r{index, 0, size};
  r.data_begin = 0;
  r.data_end = UINT64_MAX;
  return r;
}

// The cut points of a splittable compressed file: the member starts nearest
// to the n-1 even cuts a plain file of its size would get, without repeats.
// members ends with {file size, decoded size}, so consecutive cuts make the
// ranges.
std::vector<size_t> MemberCuts(const std::vector<MemberStart>& members, uint64_t n) {
  std::vector<size_t> cuts{0};
  const uint64_t size = members.back().compressed;
  size_t j = 0;
  for (uint64_t k = 1; k < n; ++k) {
    const uint64_t target = static_cast<uint64_t>(
        static_cast<unsigned __int128>(size) * k / n);
    while (j + 1 < members.size() && members[j + 1].compressed <= target) ++j;
    size_t best = j;
    if (j + 1 < members.size() &&
        members[j + 1].compressed - target < target - members[j].compressed) {
      best = j + 1;
    }
    if (best > cuts.back() && best + 1 < members.size()) cuts.push_back(best);
  }
  cuts.push_back(members.size() - 1);
  return cuts;
}

}  // namespace

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
    const bool compressed = files[i].compression != Compression::kNone;
    if (size <= split_size || (compressed && files[i].members.size() < 3)) {
      // Small, or compressed and not splittable (members holds at least a
      // start and the end when it is).
      if (size > split_size) {
        flush_group();
        Split s;
        s.ranges.push_back(WholeCompressedFile(index, size));
        emit(std::move(s));
        continue;
      }
      if (group_bytes + size > split_size) flush_group();
      group.ranges.push_back(compressed ? WholeCompressedFile(index, size) : FileRange{index, 0, size});
      group_bytes += size;
      continue;
    }
    // A large file ends the current group so that split order stays file
    // order. Range k of n covers [k*size/n, (k+1)*size/n), computed without
    // the overflow that k*size could hit for very large files.
    flush_group();
    const uint64_t most = MaxRangeBytes(split_size);
    const uint64_t n = size / most + (size % most != 0);
    if (compressed) {
      const std::vector<MemberStart>& m = files[i].members;
      const std::vector<size_t> cuts = MemberCuts(m, n);
      for (size_t c = 0; c + 1 < cuts.size(); ++c) {
        // The first range starts at byte 0 whatever comes before the first
        // member (a skippable frame), so that the ranges cover the file.
        FileRange r{index, c == 0 ? 0 : m[cuts[c]].compressed, m[cuts[c + 1]].compressed};
        r.data_begin = c == 0 ? 0 : m[cuts[c]].uncompressed;
        r.data_end = m[cuts[c + 1]].uncompressed;
        // From the member before the cut: the reader looks at the byte
        // before data_begin to see whether a record starts right there.
        r.decode_from = cuts[c] == 0 ? MemberStart{} : m[cuts[c] - 1];
        Split s;
        s.ranges.push_back(r);
        emit(std::move(s));
      }
      continue;
    }
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
