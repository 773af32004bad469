// Cuts input files into splits: the units of map work that ranks take.
#pragma once

#include <cstdint>
#include <vector>

#include "io/input_lister.h"

namespace sluice {

// Bytes [begin, end) of one input file. A range owns every record that STARTS
// inside it; the last record may run past `end`.
struct FileRange {
  uint32_t file_index = 0;  // into the InputFile list the plan was made from
  uint64_t begin = 0;
  uint64_t end = 0;
};

struct Split {
  uint32_t index = 0;  // 0..S-1 in plan order; defines "input order"
  std::vector<FileRange> ranges;
  uint64_t bytes() const;
};

// Deterministic: the same files and split_size give the same plan.
// - A file larger than split_size is cut into the fewest ranges of nearly
//   equal size that keep each within split_size plus a tenth (Hadoop's
//   split slop): a file a few bytes over split_size is one task, not two
//   halves that each pay a task's fixed costs.
// - Smaller files are grouped, in list order, into splits of at most
//   split_size bytes (so 10,000 tiny files do not make 10,000 tasks).
// - Zero-byte files produce no range.
// split_size must be > 0.
std::vector<Split> PlanSplits(const std::vector<InputFile>& files, uint64_t split_size);

// The largest range PlanSplits cuts for a given split_size (the slop).
uint64_t MaxRangeBytes(uint64_t split_size);

}  // namespace sluice
