#include "runtime/driver/job_config.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <functional>
#include <map>

namespace sluice {
namespace {

constexpr uint64_t kMinMemoryBytes = uint64_t{4} << 20;

Result<int64_t> ParseInt(const std::string& flag, const std::string& text) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return Status::Usage("flag " + flag + ": '" + text + "' is not an integer");
  }
  return v;
}

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

Status ParseJobFlags(const std::vector<std::string>& args, JobConfig* config,
                     std::vector<std::string>* positional, bool* help) {
  using Setter = std::function<Status(const std::string& flag, const std::string& value)>;
  auto size_flag = [](uint64_t* dst) -> Setter {
    return [dst](const std::string& f, const std::string& v) {
      SLUICE_ASSIGN_OR_RETURN(*dst, ParseSize(f, v));
      return Status::OK();
    };
  };
  const std::map<std::string, Setter> with_value = {
      {"--input", [&](const std::string&, const std::string& v) {
         config->inputs.push_back(v);
         return Status::OK();
       }},
      {"--output", [&](const std::string&, const std::string& v) {
         config->output = v;
         return Status::OK();
       }},
      {"--log-dir", [&](const std::string&, const std::string& v) {
         config->log_dir = v;
         return Status::OK();
       }},
      {"--report", [&](const std::string&, const std::string& v) {
         config->report_path = v;
         return Status::OK();
       }},
      {"--partitions", [&](const std::string& f, const std::string& v) {
         SLUICE_ASSIGN_OR_RETURN(int64_t n, ParseInt(f, v));
         if (n < 1 || n > 1'000'000) return Status::Usage("flag " + f + ": must be in 1..1000000, got " + v);
         config->settings.partitions = static_cast<uint32_t>(n);
         return Status::OK();
       }},
      {"--compression-level", [&](const std::string& f, const std::string& v) {
         SLUICE_ASSIGN_OR_RETURN(int64_t n, ParseInt(f, v));
         if (n < -7 || n > 22) return Status::Usage("flag " + f + ": zstd level must be in -7..22, got " + v);
         config->settings.compression_level = static_cast<int>(n);
         return Status::OK();
       }},
      {"--split-size", size_flag(&config->split_size)},
      {"--block-size", size_flag(&config->settings.block_bytes)},
      {"--combine-memory", size_flag(&config->settings.combine_bytes)},
      {"--max-inflight", size_flag(&config->max_inflight_bytes)},
      {"--memory", size_flag(&config->memory_bytes)},
      {"--param", [&](const std::string& f, const std::string& v) {
         const size_t eq = v.find('=');
         if (eq == std::string::npos || eq == 0) {
           return Status::Usage("flag " + f + ": '" + v + "' is not key=value");
         }
         config->settings.params.emplace_back(v.substr(0, eq), v.substr(eq + 1));
         return Status::OK();
       }},
      {"--scratch", [&](const std::string& f, const std::string& v) {
         if (v.empty()) return Status::Usage("flag " + f + ": empty directory");
         config->scratch_root = v;
         return Status::OK();
       }},
      {"--merge-factor", [&](const std::string& f, const std::string& v) {
         SLUICE_ASSIGN_OR_RETURN(int64_t n, ParseInt(f, v));
         if (n < 2 || n > 4096) return Status::Usage("flag " + f + ": must be in 2..4096, got " + v);
         config->settings.merge_factor = static_cast<uint32_t>(n);
         return Status::OK();
       }},
      {"--max-bad-records", [&](const std::string& f, const std::string& v) {
         SLUICE_ASSIGN_OR_RETURN(int64_t n, ParseInt(f, v));
         if (n < 0) return Status::Usage("flag " + f + ": must be >= 0, got " + v);
         config->settings.max_bad_records = static_cast<uint64_t>(n);
         return Status::OK();
       }},
      {"--log-level", [&](const std::string& f, const std::string& v) {
         static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
         for (const char* l : kLevels) {
           if (v == l) {
             config->log_level = v;
             return Status::OK();
           }
         }
         return Status::Usage("flag " + f + ": unknown level '" + v + "' (trace, debug, info, warn, error, off)");
       }},
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      *help = true;
      continue;
    }
    if (arg == "--force") {
      config->force = true;
      continue;
    }
    if (arg == "--overwrite") {
      config->overwrite = true;
      continue;
    }
    if (arg == "--quiet" || arg == "-q") {
      config->quiet = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      positional->push_back(arg);
      continue;
    }
    std::string name = arg;
    std::string value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    auto it = with_value.find(name);
    if (it == with_value.end()) return Status::Usage("unknown flag '" + name + "' (see --help)");
    if (!has_value) {
      if (i + 1 >= args.size()) return Status::Usage("flag " + name + " needs a value");
      value = args[++i];
    }
    SLUICE_RETURN_IF_ERROR(it->second(name, value));
  }
  return Status::OK();
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

int RanksPerNode() {
  for (const char* var : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"}) {
    if (const char* v = std::getenv(var)) {
      int n = std::atoi(v);
      if (n > 0) return n;
    }
  }
  return 1;
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
  return Status::OK();
}

std::string JobFlagsHelp() {
  return R"(Job flags:
  --input PATH            input file, directory (recursive) or quoted glob (a path that
                          exists is taken literally); repeatable
  --output DIR            output directory (must not exist, see --overwrite)
  --overwrite             replace DIR if it exists (atomically, at commit)
  --force                 run even if DIR already holds this job's result for the
                          same inputs and configuration, and redo every map task
                          instead of resuming a killed run's; replaces DIR
  --partitions N          reduce partitions = part files (default 16; independent of ranks)
  --split-size SIZE       input bytes per map task (default 64M)
  --compression-level N   zstd level for shuffle blocks, -7..22 (default 1)
  --block-size SIZE       serialized bytes per shuffle block (default 1M)
  --combine-memory SIZE   map-side combiner table size before flushing (default 64M)
  --max-inflight SIZE     shuffle bytes in flight per rank (default 64M, at most MEMORY/8)
  --memory SIZE           memory budget per rank (default: half of RAM / ranks per node);
                          beyond it, shuffle data spills to --scratch (min 4M)
  --scratch DIR           node-local directory for spill runs (default $TMPDIR or /tmp)
  --merge-factor N        most spill runs merged at once (default 64)
  --max-bad-records N     skip up to N records the job rejects as unparsable (listed in
                          DIR/_bad_records); fail past N (default 0: fail on the first)
  --param KEY=VALUE       a job parameter (repeatable; the job's own list is below)
  --report PATH           also write the JSON job report to PATH (always in DIR/_report.json)
  --log-level LEVEL       trace, debug, info, warn, error, off (default info)
  --log-dir DIR           also log each rank to DIR/rank-N.log (created if missing)
  --quiet, -q             only errors on stderr
  --help, -h              this help
SIZE takes K, M, G suffixes (powers of 1024).
)";
}

}  // namespace sluice
