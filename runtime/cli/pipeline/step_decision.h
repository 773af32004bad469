// Whether a pipeline step has work to do, and why: the same test a job
// makes before it runs (its output's _SUCCESS names the fingerprint the
// run would have now), with the reason spelled out from the output's
// manifest when it does not (`sluice pipeline plan`, and the log of
// `sluice pipeline run`).
#pragma once

#include <string>

#include "runtime/driver/job_config.h"
#include <sluice/detail/job_entry.h>

namespace sluice {

struct StepDecision {
  bool run = true;
  std::string why;
};

// `config` complete (memory budget applied, plugin hash set).
StepDecision DecideStep(const JobEntry& job, const JobConfig& config);

}  // namespace sluice
