// Rank 0, before the publish: the run's --expect and --expect-warn
// evaluated (expectations.h) against its counters, the output it would
// replace (previous.*) and its staged part files (output.*).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runtime/driver/expectations.h"
#include "runtime/driver/job_config.h"
#include <sluice/counters.h>

namespace sluice {

struct ExpectationInputs {
  const JobConfig* config = nullptr;
  std::string output_dir;   // holds the previous committed run, if any
  std::string staging_dir;  // holds this run's part files
  bool map_only = false;    // parts are not sorted by key
  const TaskCounters* totals = nullptr;
  const std::map<std::string, uint64_t>* user = nullptr;
};

std::vector<ExpectationResult> CheckExpectations(const ExpectationInputs& in);

}  // namespace sluice
