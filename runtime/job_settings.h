// The part of a job's configuration that the typed engine (compiled into the
// job, possibly a plugin) needs. Plain data: it crosses the plugin boundary.
#pragma once

#include <cstdint>

namespace sluice {

struct JobSettings {
  uint32_t partitions = 16;
  // Raw (serialized) bytes per shuffle block. Larger: better compression and
  // fewer messages; smaller: less memory per partition buffer.
  uint64_t block_bytes = uint64_t{1} << 20;
  // zstd level for shuffle blocks. 1 is fast and already shrinks text ~3x.
  int compression_level = 1;
  // Memory for the map-side combiner table before it is flushed to blocks.
  uint64_t combine_bytes = uint64_t{64} << 20;
  // Read size for line inputs.
  uint64_t read_buffer_bytes = uint64_t{4} << 20;
};

}  // namespace sluice
