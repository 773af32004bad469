// The live progress of a job, shown by rank 0: on a terminal one line
// rewritten in place (phase, percent of input bytes, MB/s, records/s, ETA,
// spills); otherwise (a log file, a batch system) a plain log line every
// interval. --quiet turns it off.
//
// Rank 0 sees the whole cluster's map progress through the split scheduler,
// which it runs: splits are handed out in order, so the bytes of the splits
// handed out are done or in progress (at most one split per rank ahead of
// the truth). Records per second are extrapolated from rank 0's own records
// per byte; spills are rank 0's.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace sluice {

struct ProgressSample {
  const char* phase = "map";
  uint64_t done_bytes = 0;   // cluster-wide, from the scheduler
  uint64_t total_bytes = 0;
  uint64_t own_bytes = 0;    // rank 0's own, for records per byte
  uint64_t own_records = 0;
  uint64_t spills = 0;
  uint32_t parts_done = 0;   // reduce phase, rank 0's partitions
  uint32_t parts_total = 0;
};

class ProgressReporter {
 public:
  // `enabled` false (not rank 0, or --quiet) makes every call a no-op.
  // `interval` applies when stderr is not a terminal.
  ProgressReporter(bool enabled, std::chrono::milliseconds interval);
  // Shows `s` if enough time has passed since the last line.
  void Update(const ProgressSample& s);
  // Ends the terminal line (so later log lines start on their own).
  void Finish();

 private:
  std::string Render(const ProgressSample& s, double seconds) const;

  bool enabled_;
  bool tty_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
  bool drawn_ = false;
};

// Interval for non-terminal progress lines: SLUICE_PROGRESS_SECONDS, else 10 s.
std::chrono::milliseconds ProgressIntervalFromEnv();

}  // namespace sluice
