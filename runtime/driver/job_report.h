// The JSON report every job writes: configuration, per-rank phase times,
// counters, shuffle volume, peak memory, and the slowest rank per phase.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "io/input_lister.h"
#include <sluice/counters.h>
#include "runtime/driver/expectations.h"
#include "runtime/driver/job_config.h"

namespace sluice {

// One committed part file, as the manifest lists it.
struct PartInfo {
  uint32_t partition = 0;
  uint64_t bytes = 0;
  uint64_t xxh3 = 0;
};

// Where a rank's time went, step by step (seconds; <sluice/detail/
// step_times.h> says how they are measured). The report lists each phase's
// steps and what its clock ran besides them ("other"). receive_wait, the
// wait at the end of the shuffle for peers' last blocks, is time spent
// waiting to reduce, listed with reduce; map_seconds includes it.
struct StepSeconds {
  // map
  double read = 0, map = 0, serialize = 0, compress = 0, send = 0, save = 0;
  double map_write = 0, map_checksum = 0;  // a map-only job's part files
  // reduce
  double receive_wait = 0, decode = 0, merge = 0, sort = 0, reduce = 0, write = 0, checksum = 0, commit = 0;

  struct Field {
    const char* phase;  // "map" or "reduce"
    const char* name;   // as in the report
    double StepSeconds::*seconds;
  };
  static constexpr Field kFields[] = {
      {"map", "read", &StepSeconds::read},
      {"map", "map_and_combine", &StepSeconds::map},
      {"map", "serialize", &StepSeconds::serialize},
      {"map", "compress", &StepSeconds::compress},
      {"map", "send", &StepSeconds::send},
      {"map", "save_for_resume", &StepSeconds::save},
      {"map", "write", &StepSeconds::map_write},
      {"map", "checksum", &StepSeconds::map_checksum},
      {"reduce", "receive_wait", &StepSeconds::receive_wait},
      {"reduce", "decode_and_fold", &StepSeconds::decode},
      {"reduce", "merge", &StepSeconds::merge},
      {"reduce", "sort", &StepSeconds::sort},
      {"reduce", "reduce_and_format", &StepSeconds::reduce},
      {"reduce", "write", &StepSeconds::write},
      {"reduce", "checksum", &StepSeconds::checksum},
      {"reduce", "commit", &StepSeconds::commit},
  };
};

// One task's time on its rank, in seconds from the start of its phase
// there (map, or reduce), and the bytes it did: a map task's input read, a
// reduce task's output written. Throughput over time is summed from these.
struct TaskSpan {
  double start = 0, end = 0;
  uint64_t bytes = 0;
};

struct RankStats {
  std::string host;           // the rank's host name (gethostname)
  double map_seconds = 0;     // map + shuffle, until this rank's last block is in
  double reduce_seconds = 0;  // reduce + task commit
  uint64_t splits = 0;        // map tasks this rank ran (reused ones included)
  uint64_t reused_splits = 0; // of those, taken from a killed run's saved work
  uint64_t peak_rss_bytes = 0;
  uint32_t reduce_tasks = 0;   // reduce tasks assigned to this rank (reduce_tasks.h)
  uint64_t reduce_input_bytes = 0;  // decoded bytes it received to reduce
  StepSeconds steps;
  TaskCounters counters;
  std::vector<PartInfo> parts;  // the part files this rank committed
  std::vector<PartInfo> state_files;  // --incremental: merge state it wrote (partition = reduce task)
  std::vector<TaskSpan> map_spans, reduce_spans;

  std::string Encode() const;
  static bool Decode(const std::string& bytes, RankStats* out);
};

struct JobReport {
  std::string job;
  const JobConfig* config = nullptr;
  int ranks = 0;
  uint64_t input_files = 0;
  uint64_t input_bytes = 0;
  uint64_t splits = 0;
  double plan_seconds = 0;
  double commit_seconds = 0;
  double total_seconds = 0;
  std::vector<RankStats> per_rank;
  // Reduce assignment (reduce_sampling.h), per reduce task: its partition
  // (tasks of one partition are its key-range pieces, in order), sampled
  // bytes and the rank that reduced it. Empty for a map-only job.
  std::vector<uint32_t> task_partitions;
  std::vector<uint64_t> task_weights;
  std::vector<int> reduce_owners;
  TaskCounters totals;  // summed over ranks
  std::map<std::string, uint64_t> user_counters;
  std::string output_dir;
  std::vector<InputFile> inputs;
  std::string plugin_path;    // empty for a built-in job
  uint64_t plugin_xxh3 = 0;
  uint64_t fingerprint = 0;  // job_fingerprint.h
  // Under `sluice submit`: which attempt this run is (1 = the first) and the
  // earlier ones that lost a rank or host, as the submitter describes them
  // (a JSON array; SLUICE_ATTEMPT, SLUICE_EARLIER_ATTEMPTS).
  int attempt = 1;
  std::string earlier_attempts_json;
  // --expect / --expect-warn, as checked before the publish (empty: none).
  std::vector<ExpectationResult> expectations;
  // --incremental (incremental_plan.h): which run this was and why, and the
  // merge state it wrote (files in the output, their sizes and xxh3).
  struct StateFile {
    std::string file;  // "_state/task-00003"
    uint64_t bytes = 0;
    uint64_t xxh3 = 0;
  };
  struct Incremental {
    bool on = false;
    bool incremental = false;  // false: a full run
    std::string why;
    uint64_t previous_fingerprint = 0;
    uint64_t files_read = 0, files_reused = 0;
    std::vector<StateFile> state;
  } incremental;
};

// Input read by map tasks and output written by reduce tasks, in MB/s
// summed over ranks, per slice of the job's time (each task's bytes spread
// evenly over its span; reduce spans placed after their rank's map phase,
// as on the report's timeline).
struct Throughput {
  double slice_seconds = 0;
  std::vector<double> map_mb_per_s, reduce_mb_per_s;
};
Throughput ThroughputOverTime(const JobReport& r, int slices = 48);

// Strings in the report and manifest. JSON text must be UTF-8, but a path is
// bytes (a file name in Latin-1, a truncated sequence), and such a byte has
// no representation in a JSON string. The renderers write U+FFFD in its
// place (one per maximal invalid subsequence, as the Unicode standard
// recommends), and where the string is a path they add a sibling
// "<field>_hex" holding its exact bytes (HexBytes) whenever IsValidUtf8 is
// false, so the path can still be recovered.
//
// True when `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF).
bool IsValidUtf8(std::string_view s);
// The bytes of `s` as lowercase hex, two digits each ("a\xff" -> "61ff").
std::string HexBytes(std::string_view s);

// A 64-bit hash as 16 lowercase hex digits, as the report and manifest (and
// lineage events) write checksums and fingerprints.
std::string Hex64(uint64_t v);

// Pretty-printed JSON (2-space indent, newline at the end), keys in a fixed
// order (a report diffs cleanly). Never throws on invalid UTF-8 (above).
std::string RenderReportJson(const JobReport& report);

// The manifest beside _SUCCESS: what lineage and data-quality tools read.
// Inputs (path, size, mtime), the job and its plugin hash, configuration,
// every output file with its size and xxh3, and the counters. Unlike the
// report it holds no timings, so two runs of the same job on the same inputs
// write the same manifest.
std::string RenderManifestJson(const JobReport& report);

// The manifest's "config" object for `config`, as JSON text: what a
// committed output's manifest holds, to tell what changed since
// (`sluice pipeline plan`).
std::string RenderManifestConfig(const JobConfig& config);

}  // namespace sluice
