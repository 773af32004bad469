// What the receive side of the shuffle (shuffle_store.h) is told by the job,
// and where it counts what it spills: plain data, so that the store and the
// merge depend on K and V alone, not on the job API.
#pragma once

#include <cstdint>
#include <string>

namespace sluice {

struct StoreSettings {
  uint32_t partitions = 16;
  uint64_t store_bytes = uint64_t{256} << 20;  // compressed blocks kept before a spill
  uint64_t sort_bytes = uint64_t{256} << 20;   // decoded bytes sorted at once
  uint32_t merge_factor = 64;                  // most runs merged at once
  uint64_t spill_block_bytes = uint64_t{256} << 10;
  int compression_level = 1;
  std::string scratch_dir;  // made private at the first spill
};

// The counters the store adds to (the caller's, outliving the store).
struct SpillCounters {
  uint64_t* spill_runs;
  uint64_t* spill_records;
  uint64_t* spill_bytes;
  uint64_t* merge_passes;
};

}  // namespace sluice
