// Cuts input files into splits: the units of map work that ranks take.
#pragma once

#include <cstdint>
#include <vector>

#include "io/compression.h"
#include "io/input_lister.h"

namespace sluice {

// Bytes [begin, end) of one input file. A range owns every record that STARTS
// inside it; the last record may run past `end`.
//
// A compressed file (InputFile::compression) is read through its decoded
// bytes: [begin, end) are then bytes of the compressed file (what the split
// costs to read), and the range owns the records that start in the decoded
// bytes [data_begin, data_end). Decoding starts at `decode_from`, the member
// before data_begin, so that the byte before data_begin can be looked at
// (does a record start exactly at data_begin?). A file that cannot be split
// is one range: decode_from {0, 0}, data [0, UINT64_MAX).
struct FileRange {
  FileRange() = default;
  // A range of a plain file (the data fields are for compressed ones).
  FileRange(uint32_t file, uint64_t b, uint64_t e) : file_index(file), begin(b), end(e) {}

  uint32_t file_index = 0;  // into the InputFile list the plan was made from
  uint64_t begin = 0;
  uint64_t end = 0;
  uint64_t data_begin = 0;  // compressed files only
  uint64_t data_end = 0;
  MemberStart decode_from;
  // CSV input: whether byte data_begin (begin, for a plain file) lies inside
  // a quoted field. Not planned: every rank fills it in from the quote census
  // before the map phase (csv_census.h).
  bool starts_in_quotes = false;
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
// - A compressed file is cut only at the member starts in its `members`
//   (BGZF blocks, zstd frames), at the ones nearest to where a plain file
//   would be cut; with no members it is one range, however large (gzip,
//   bzip2, xz cannot be entered in the middle).
// split_size must be > 0.
std::vector<Split> PlanSplits(const std::vector<InputFile>& files, uint64_t split_size);

// The order in which to hand splits out: heaviest first, so that a big
// file that cannot be split (a .gz) starts at once instead of finishing
// last. Weight is bytes to read, a compressed byte counted as
// kCompressedByteWeight (it decodes to several, each then parsed); ties
// keep plan order. Every rank computes the same order from the same plan.
inline constexpr uint64_t kCompressedByteWeight = 4;
std::vector<uint32_t> MapOrder(const std::vector<Split>& splits, const std::vector<InputFile>& files);

// The largest range PlanSplits cuts for a given split_size (the slop).
uint64_t MaxRangeBytes(uint64_t split_size);

}  // namespace sluice
