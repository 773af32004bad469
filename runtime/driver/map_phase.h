// The map phase of one rank: takes splits from the cluster's scheduler and
// maps each (or, resuming, reuses the map task an earlier run of the same
// fingerprint saved), while the shuffle sends and receives blocks; ends
// this rank's share of the shuffle. Internal to runtime/driver/.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/driver/job_report.h"
#include "runtime/driver/job_run.h"
#include "runtime/driver/progress.h"

namespace sluice {

// This rank's share of the work so far: filled by the map and reduce
// phases, reported and checked at commit.
struct RankWork {
  std::vector<PartInfo> parts;  // the part files this rank committed
  std::vector<PartInfo> state_files;  // --incremental: its merge state, by reduce task (partition = task)
  uint64_t output_bytes = 0;    // their bytes
  uint32_t splits = 0;          // map tasks this rank ran (reused ones included)
  uint32_t reused_splits = 0;   // of those, taken from a killed run's saved work
  uint32_t reduce_tasks = 0;  // reduce tasks this rank ran
  double map_seconds = 0;
  double reduce_seconds = 0;
  std::vector<TaskSpan> map_spans, reduce_spans;  // for the report's throughput over time
};

// The live progress of the map and reduce phases (progress.h): shown by
// rank 0 alone, unless the log level or --quiet hides it.
class PhaseProgress {
 public:
  // `run`'s plan is final; `run` must outlive this.
  explicit PhaseProgress(const JobRun& run);

  // Where the job stands now, for `phase` ("map" or "reduce").
  ProgressSample Sample(const char* phase) const;

  ProgressReporter reporter;

 private:
  const JobRun& run_;
  std::vector<uint64_t> dispatched_bytes_;  // prefix sums of the splits' bytes
};

// Runs this rank's map tasks until the scheduler has no split left, then
// ends this rank's share of the shuffle. A failure ends the job (JobRun::Fail).
RankWork RunMapPhase(JobRun& run, PhaseProgress& progress);

}  // namespace sluice
