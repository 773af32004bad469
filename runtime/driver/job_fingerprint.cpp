#include "runtime/driver/job_fingerprint.h"

#include <cstdio>

#include "io/file_system.h"
#include "shuffle/serde.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace sluice {

uint64_t ExecutableXxh3() {
  // Streamed: the binary may be large, and reading it whole into a zeroed
  // string showed in profiles.
  static const uint64_t hash = [] {
    auto digest = Xxh3OfFile(*FileSystem::Default(), "/proc/self/exe");
    return digest.ok() ? *digest : uint64_t{0};
  }();
  return hash;
}

uint64_t JobFingerprint(std::string_view job_name, uint64_t build_xxh3, const JobConfig& config,
                        const std::vector<InputFile>& inputs) {
  // Every field goes through Encode (length-prefixed), so no two different
  // configurations serialize to the same bytes.
  std::string bytes = "sluice-fingerprint-v1";
  Encode(&bytes, std::string(job_name));
  Encode(&bytes, build_xxh3);
  const JobSettings& s = config.settings;
  Encode(&bytes, config.split_size);
  Encode(&bytes, s.partitions);
  Encode(&bytes, s.block_bytes);
  Encode(&bytes, s.combine_bytes);
  Encode(&bytes, static_cast<int64_t>(s.compression_level));
  // What the parts hold and how they are compressed: a map-only job's saved
  // parts are its output, and a re-run in another format is not a no-op.
  Encode(&bytes, static_cast<uint64_t>(s.output_format));
  Encode(&bytes, static_cast<uint64_t>(s.output_compression));
  const int level = s.output_compression_level != 0 ? s.output_compression_level
                                                    : LevelsOf(s.output_compression).fallback;
  Encode(&bytes, static_cast<int64_t>(level));  // the default given or not: the same bytes
  // Where partitions are cut into reduce tasks: a compressed part holds one
  // member per piece, and saved map tasks name reduce tasks.
  Encode(&bytes, s.reduce_task_bytes);
  // What decides which records there are: the same bytes cut differently
  // are other inputs to the job.
  Encode(&bytes, s.record_delimiter);
  Encode(&bytes, static_cast<uint8_t>(s.csv_delimiter));
  Encode(&bytes, static_cast<uint8_t>(s.csv_quote));
  Encode(&bytes, static_cast<uint8_t>(s.csv_header));
  Encode(&bytes, static_cast<uint64_t>(s.params.size()));
  for (const auto& [key, value] : s.params) {
    Encode(&bytes, key);
    Encode(&bytes, value);
  }
  Encode(&bytes, static_cast<uint64_t>(inputs.size()));
  for (const InputFile& f : inputs) {
    Encode(&bytes, f.path);
    Encode(&bytes, f.size);
    Encode(&bytes, f.mtime_ns);
    Encode(&bytes, f.input_index);
  }
  return XXH3_64bits(bytes.data(), bytes.size());
}

std::string FingerprintHex(uint64_t fingerprint) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fingerprint));
  return hex;
}

}  // namespace sluice
