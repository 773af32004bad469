// Which reduce partition a key belongs to.
#pragma once

#include <cstdint>
#include <string_view>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace sluice {

// p = xxh3_64(key bytes) mod P. Independent of the number of ranks, so the
// same key lands in the same part file whatever the cluster size. The key
// bytes are KeyBytes' (serde.h): floating-point keys are canonical there, so
// -0.0 and +0.0 share a partition, and so do all NaNs (float_keys.h).
inline uint32_t PartitionOf(std::string_view key_bytes, uint32_t partitions) {
  return static_cast<uint32_t>(XXH3_64bits(key_bytes.data(), key_bytes.size()) % partitions);
}

// Rank that reduces partition p.
inline int OwnerOf(uint32_t partition, int nranks) { return static_cast<int>(partition % nranks); }

}  // namespace sluice
