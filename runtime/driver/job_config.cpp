#include "runtime/driver/job_config.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <string>

#include "io/compressed_writer.h"

namespace sluice {
namespace {

constexpr uint64_t kMinMemoryBytes = uint64_t{4} << 20;

}  // namespace

Result<uint64_t> ParseSize(const std::string& flag, const std::string& text) {
  if (text.empty()) return Status::Usage("flag " + flag + ": empty size");
  std::string digits = text;
  uint64_t mult = 1;
  char last = static_cast<char>(std::toupper(static_cast<unsigned char>(text.back())));
  if (last == 'B' && text.size() > 1) {  // accept "64MB" / "64MiB"-ish spellings
    digits.pop_back();
    if (!digits.empty() && (digits.back() == 'i' || digits.back() == 'I')) digits.pop_back();
    last = digits.empty() ? '\0' : static_cast<char>(std::toupper(static_cast<unsigned char>(digits.back())));
  }
  switch (last) {
    case 'K': mult = uint64_t{1} << 10; break;
    case 'M': mult = uint64_t{1} << 20; break;
    case 'G': mult = uint64_t{1} << 30; break;
    case 'T': mult = uint64_t{1} << 40; break;
    default: break;
  }
  if (mult != 1) digits.pop_back();
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size()) {
    return Status::Usage("flag " + flag + ": '" + text + "' is not a size (examples: 4096, 512K, 64M, 2G)");
  }
  if (v > UINT64_MAX / mult) return Status::Usage("flag " + flag + ": '" + text + "' is too large");
  return v * mult;
}

uint64_t DefaultMemoryBytes(int ranks_per_node) {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGESIZE);
  const uint64_t physical =
      pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page)
                            : uint64_t{4} << 30;
  const uint64_t share = physical / 2 / static_cast<uint64_t>(std::max(ranks_per_node, 1));
  return std::max(share, kMinMemoryBytes);
}

Status ApplyMemoryBudget(JobConfig* config, int ranks_per_node) {
  if (config->memory_bytes == 0) config->memory_bytes = DefaultMemoryBytes(ranks_per_node);
  const uint64_t m = config->memory_bytes;
  if (m < kMinMemoryBytes) {
    return Status::Usage("flag --memory: must be at least 4M, got " + std::to_string(m) + " bytes");
  }
  if (config->scratch_root.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    config->scratch_root = tmp && *tmp ? tmp : "/tmp";
  }
  JobSettings& s = config->settings;
  // The shares, chosen so that the map phase (store + one run being sorted +
  // combiner + sends in flight + partition buffers) and the reduce phase
  // (store + one partition or the merge buffers) each stay under m:
  //   store 3/8, sort 1/4, combiner 1/8, in flight 1/8, block buffers 1/16.
  s.store_bytes = m / 8 * 3;
  s.sort_bytes = m / 4;
  s.combine_bytes = std::min(s.combine_bytes, std::max<uint64_t>(m / 8, 64 << 10));
  config->max_inflight_bytes = std::min(config->max_inflight_bytes, m / 8);
  const uint64_t block_share = m / 16 / std::max<uint32_t>(s.partitions, 1);
  s.block_bytes = std::min(s.block_bytes, std::max<uint64_t>(block_share, 4 << 10));
  // A merged run costs a compressed frame plus its decoded block.
  s.spill_block_bytes = std::clamp<uint64_t>(m / 4 / s.merge_factor / 2, 16 << 10, 1 << 20);
  return Status::OK();
}

Status ValidateJobConfig(const JobConfig& config) {
  if (config.inputs.empty()) return Status::Usage("no input given (--input PATH, repeatable)");
  if (config.output.empty()) return Status::Usage("no output directory given (--output DIR)");
  if (config.split_size == 0) return Status::Usage("flag --split-size: must be > 0");
  if (config.settings.block_bytes < 1024 || config.settings.block_bytes > (uint64_t{64} << 20)) {
    return Status::Usage("flag --block-size: must be in 1K..64M");
  }
  if (config.settings.combine_bytes < (uint64_t{64} << 10) || config.settings.combine_bytes > (uint64_t{2} << 30)) {
    return Status::Usage("flag --combine-memory: must be in 64K..2G");
  }
  if (config.max_inflight_bytes == 0) return Status::Usage("flag --max-inflight: must be > 0");
  // The level's range is the codec's, known only once both flags are read.
  const OutputCompression codec = config.settings.output_compression;
  const int level = config.settings.output_compression_level;
  if (level != 0 && codec == OutputCompression::kNone) {
    return Status::Usage("flag --output-compression-level: needs --output-compression zstd or gzip");
  }
  const CompressionLevels levels = LevelsOf(codec);
  if (level != 0 && (level < levels.min || level > levels.max)) {
    return Status::Usage("flag --output-compression-level: " + std::string(OutputCompressionName(codec)) +
                         " levels are " + std::to_string(levels.min) + ".." + std::to_string(levels.max) +
                         ", got " + std::to_string(level));
  }
  return Status::OK();
}

}  // namespace sluice
