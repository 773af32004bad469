// Built-in jobs (compiled into the sluice command or a job binary).
#pragma once

#include <vector>

#include <sluice/detail/job_entry.h>

namespace sluice {

// Registered built-in jobs, sorted by name. Stable after static init.
const std::vector<JobEntry>& BuiltinJobs();
// nullptr when no built-in job has that name.
const JobEntry* FindBuiltinJob(std::string_view name);

}  // namespace sluice
