// The JSON report every job writes: configuration, per-rank phase times,
// counters, shuffle volume, peak memory, and the slowest rank per phase.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/input_lister.h"
#include "runtime/counters.h"
#include "runtime/job_config.h"

namespace sluice {

// One committed part file, as the manifest lists it.
struct PartInfo {
  uint32_t partition = 0;
  uint64_t bytes = 0;
  uint64_t xxh3 = 0;
};

struct RankStats {
  double map_seconds = 0;     // map + shuffle, until this rank's last block is in
  double reduce_seconds = 0;  // reduce + task commit
  uint64_t splits = 0;        // map tasks this rank ran (reused ones included)
  uint64_t reused_splits = 0; // of those, taken from a killed run's saved work
  uint64_t peak_rss_bytes = 0;
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
  TaskCounters totals;  // summed over ranks
  std::map<std::string, uint64_t> user_counters;
  std::string output_dir;
  std::vector<InputFile> inputs;
  std::string plugin_path;    // empty for a built-in job
  uint64_t plugin_xxh3 = 0;
  uint64_t fingerprint = 0;  // job_fingerprint.h
};

// Pretty-printed JSON, stable key order (a report diffs cleanly).
std::string RenderReportJson(const JobReport& report);

// The manifest beside _SUCCESS: what lineage and data-quality tools read.
// Inputs (path, size, mtime), the job and its plugin hash, configuration,
// every output file with its size and xxh3, and the counters. Unlike the
// report it holds no timings, so two runs of the same job on the same inputs
// write the same manifest.
std::string RenderManifestJson(const JobReport& report);

}  // namespace sluice
