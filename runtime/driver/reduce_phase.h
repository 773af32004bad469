// The reduce phase of one rank: runs the reduce tasks assigned to it
// (reduce_sampling.h), each a whole partition written to its part file or
// a key-range piece of a cut partition (reduce_tasks.h) written to a piece
// file; then joins, for each cut partition whose first piece it wrote,
// every piece in key order into the part, checking each against the size
// and checksum its writer reported. Internal to runtime/driver/.
#pragma once

#include "runtime/driver/job_run.h"
#include "runtime/driver/map_phase.h"

namespace sluice {

// A collective once any partition is cut (the ranks exchange what they
// wrote before joining). Adds the parts this rank committed to `work`. A
// failure ends the job (JobRun::Fail).
void RunReduceTasks(JobRun& run, PhaseProgress& progress, RankWork* work);

}  // namespace sluice
