// The end of a job on every rank: sums and reconciles the counters across
// ranks, applies --max-bad-records, and (rank 0) writes the report and
// publishes the output with its _SUCCESS. Internal to runtime/driver/.
#pragma once

#include "runtime/driver/job_run.h"
#include "runtime/driver/map_phase.h"

namespace sluice {

// Called by every rank once its reduce tasks are committed, with what this
// rank did. Returns the process exit code: 0 once the output is in place;
// that of a failure every rank sees alike (counters that do not reconcile,
// too many bad records), after which nothing is published; or, on rank 0
// alone, that of a --report copy that could not be put in place beside a
// published output. Any other failure ends the job (JobRun::Fail).
int CommitPhase(JobRun& run, RankWork work);

}  // namespace sluice
