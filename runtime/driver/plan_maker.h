// Rank 0's part of planning a job: takes the output lock, lists the input,
// cuts it into splits and prepares staging and the saved-task store. The
// plan is then broadcast to every rank (job_driver.cpp, plan_codec.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "io/output_committer.h"
#include "io/output_lock.h"
#include "io/status.h"
#include "runtime/driver/job_config.h"
#include "runtime/driver/plan_codec.h"
#include <sluice/detail/job_entry.h>
#include <sluice/detail/job_runner.h>

namespace sluice {

// Rank 0's plan, or the reason there is none.
struct PlanOutcome {
  Status status;
  JobPlan plan;
};

// Rank 0: takes the output lock first (nothing of the output, staging,
// work or scratch is looked at before), then lists and plans. On success
// `*lock` holds the output lock; on failure it may hold it too, and the
// caller releases it once every rank has agreed on the failure.
PlanOutcome MakePlan(std::string_view job_name, const JobConfig& config, const JobTraits& traits,
                     OutputCommitter& committer, OutputLock* lock);

// 16 hex digits from the kernel's random source: names one run.
// The input files of a run, as MakePlan lists them (text probed for
// compression and record sizes; compressed binary input refused).
Result<std::vector<InputFile>> ListPlanInputs(FileSystem& fs, const JobConfig& config, const JobTraits& traits);

// The build a run's fingerprint names: the plugin's hash, else this
// executable's.
uint64_t BuildXxh3(const JobConfig& config);

// Whether `output_dir` holds a committed result of this very fingerprint
// (a run with it has nothing to do).
bool HoldsResultOf(FileSystem& fs, const std::string& output_dir, uint64_t fingerprint);

std::string NewRunToken();

// What names this run's saved map tasks (map_task_store.h): the
// fingerprint, or for an incremental run the fingerprint and the previous
// output's, whose merge state its tasks read.
uint64_t MapTaskKey(const JobPlan& plan);

// The line of _SUCCESS that records the job's fingerprint.
std::string FingerprintLine(uint64_t fingerprint);

}  // namespace sluice
