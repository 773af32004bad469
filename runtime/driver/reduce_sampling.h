// Before the map phase: a sample of what map() emits decides the range
// cuts (range-partitioned jobs), the reduce tasks (a partition the sample
// puts above --reduce-task-size is cut into key-range pieces:
// reduce_tasks.h) and which rank reduces which task (every job with a
// reduce and more than one rank).
//
// The same splits are sampled whatever the number of ranks, so the cuts,
// and with them the output, do not depend on it; the owners do, and may:
// a part file is the same whichever ranks write it.
#pragma once

#include "runtime/driver/job_run.h"

namespace sluice {

// A collective: every rank calls it after the runner's Setup and the quote
// census, before its first map task. Sets the runner's cuts, tasks and
// owners, and run.reduce_tasks / reduce_owners / task_weights. Returns the
// first sampling error on any rank (the same on every rank).
Status SampleForReduce(JobRun& run, const JobTraits& traits);

}  // namespace sluice
