// The JSON report every job writes: configuration, per-rank phase times,
// counters, shuffle volume, peak memory, and the slowest rank per phase.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runtime/counters.h"
#include "runtime/job_config.h"

namespace sluice {

struct RankStats {
  double map_seconds = 0;     // map + shuffle, until this rank's last block is in
  double reduce_seconds = 0;  // reduce + task commit
  uint64_t splits = 0;        // map tasks this rank ran
  uint64_t peak_rss_bytes = 0;
  TaskCounters counters;

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
  std::vector<uint64_t> totals;  // TaskCounters order
  std::map<std::string, uint64_t> user_counters;
  std::string output_dir;
};

// Pretty-printed JSON, stable key order (a report diffs cleanly).
std::string RenderReportJson(const JobReport& report);

}  // namespace sluice
