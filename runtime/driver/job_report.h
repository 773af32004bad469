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
#include "runtime/driver/job_config.h"

namespace sluice {

// One committed part file, as the manifest lists it.
struct PartInfo {
  uint32_t partition = 0;
  uint64_t bytes = 0;
  uint64_t xxh3 = 0;
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
  TaskCounters counters;
  std::vector<PartInfo> parts;  // the part files this rank committed

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
};

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

// Pretty-printed JSON (2-space indent, newline at the end), keys in a fixed
// order (a report diffs cleanly). Never throws on invalid UTF-8 (above).
std::string RenderReportJson(const JobReport& report);

// The manifest beside _SUCCESS: what lineage and data-quality tools read.
// Inputs (path, size, mtime), the job and its plugin hash, configuration,
// every output file with its size and xxh3, and the counters. Unlike the
// report it holds no timings, so two runs of the same job on the same inputs
// write the same manifest.
std::string RenderManifestJson(const JobReport& report);

}  // namespace sluice
