// Runs one job on every rank: plan, map + shuffle, reduce, commit.
#pragma once

#include "cluster/communicator.h"
#include "runtime/driver/job_config.h"
#include <sluice/detail/job_entry.h>
#include <sluice/detail/job_runner.h>

namespace sluice {

// Called by every rank with the same job and config. Returns the process exit
// code (0 on success). Errors that every rank sees alike (bad flags, missing
// input, existing output) are agreed on and reported once by rank 0; any
// other failure on any rank is logged by that rank with its cause and ends
// the whole job at once through Communicator::Abort, after removing the
// output staging directory. A failed job never leaves _SUCCESS.
int RunJob(const JobEntry& job, const JobConfig& config, Communicator& comm);

}  // namespace sluice
