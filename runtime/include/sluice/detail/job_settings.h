// The part of a job's configuration that the typed engine (compiled into the
// job, possibly a plugin) needs. Crosses the plugin boundary by value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/compressed_writer.h"  // OutputCompression

namespace sluice {

// How TextOutput writes each record (--output-format; text_output.h).
enum class OutputFormat : uint8_t { kText, kCsv, kJsonl };

// "text", "csv", "jsonl": the flag's words.
inline std::string_view OutputFormatName(OutputFormat f) {
  switch (f) {
    case OutputFormat::kText: return "text";
    case OutputFormat::kCsv: return "csv";
    case OutputFormat::kJsonl: return "jsonl";
  }
  return "?";
}

struct JobSettings {
  uint32_t partitions = 16;
  // Raw (serialized) bytes per shuffle block. Larger: better compression and
  // fewer messages; smaller: less memory per partition buffer.
  uint64_t block_bytes = uint64_t{1} << 20;
  // zstd level for shuffle blocks and spill runs. 1 is fast and already
  // shrinks text ~3x.
  int compression_level = 1;
  // Whether blocks to ranks on this node are compressed too. Off, they are
  // stored as is: less CPU (no zstd either way), but they fill the shuffle
  // store sooner (it compresses them then, before it spills) and saved map
  // tasks hold them raw. On one node a 1 GB TeraSort ran 20% slower off
  // (twice the bytes saved for resume), WordCount 13% faster (little
  // shuffle); docs/performance.md. Blocks leaving the node are always
  // compressed.
  bool compress_node_local = true;
  // Memory for the map-side combiner table before it is flushed to blocks.
  uint64_t combine_bytes = uint64_t{64} << 20;
  // Read size for line inputs.
  uint64_t read_buffer_bytes = uint64_t{4} << 20;

  // --- bounded memory (see MemoryBudget in job_config.cpp for the split) ---
  // Compressed shuffle blocks a rank keeps in memory before it spills.
  uint64_t store_bytes = uint64_t{256} << 20;
  // Decoded bytes (records plus their index) sorted at once: the size of one
  // spill run as it is formed, and of a partition reduced in memory.
  uint64_t sort_bytes = uint64_t{256} << 20;
  // Most runs merged at once (open files and read buffers); more runs merge
  // in several passes.
  uint32_t merge_factor = 64;
  // Raw bytes per block of a spill run: the read buffer of each merged run.
  uint64_t spill_block_bytes = uint64_t{256} << 10;
  // Node-local directory for this rank's spill runs (created on first spill,
  // removed when the job ends, whether it succeeds or fails).
  std::string scratch_dir;
  // Records map() may reject with BadRecord in the whole job before it
  // fails (--max-bad-records; bad_record.h).
  uint64_t max_bad_records = 0;
  // Text input: --record-delimiter as given (io/record_delimiter.h); empty
  // for lines.
  std::string record_delimiter;
  // CSV input dialect: --csv-delimiter, --csv-quote (0: none), --csv-header.
  char csv_delimiter = ',';
  char csv_quote = '"';
  bool csv_header = true;
  // --param key=value, in the order given (job_params.h).
  std::vector<std::pair<std::string, std::string>> params;

  // --- part files ---
  // How a TextOutput job writes records (--output-format); any other Output
  // refuses all but kText (text_output.h, MakeOutput).
  OutputFormat output_format = OutputFormat::kText;
  // The codec the driver compresses part files with (--output-compression;
  // io/compressed_writer.h). The engine reads it only to refuse it for a
  // KeyValueOutput job, whose files KeyValueInput must be able to seek in.
  OutputCompression output_compression = OutputCompression::kNone;
  // --output-compression-level; 0: the codec's default (LevelsOf).
  int output_compression_level = 0;
  // Set by the engine for one reduce task: it writes a later piece of a part
  // cut into several (runtime/driver/reduce_tasks.h), so no csv header.
  bool continues_part = false;
  // --reduce-task-size: a partition whose reduce input the key sample puts
  // above this is reduced in key-range pieces of about this size.
  uint64_t reduce_task_bytes = uint64_t{256} << 20;
};

}  // namespace sluice
