// Runs one job on every rank: plan, map + shuffle, reduce, commit.
#pragma once

#include <functional>
#include <string>

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

// Called in the process whose rank ends a failing job, just before the
// abort that returns to no caller: a pipeline records its step's failure
// there (its exit code, and why). The other ranks are ended by the abort
// without a call. Set once, before the job; empty: nothing is called.
using JobAbortHook = std::function<void(int exit_code, const std::string& why)>;
void SetJobAbortHook(JobAbortHook hook);

}  // namespace sluice
