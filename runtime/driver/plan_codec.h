// Rank 0's plan (input files and splits) as bytes, for the broadcast.
#pragma once

#include <string>
#include <vector>

#include "io/split_planner.h"
#include "io/status.h"

namespace sluice {

struct JobPlan {
  std::vector<InputFile> files;
  std::vector<Split> splits;
  uint64_t total_bytes = 0;
  uint64_t fingerprint = 0;  // job_fingerprint.h
  // The output already holds this fingerprint's result: nothing to do.
  bool already_done = false;
  // Random, one per run: names this run's staging and is written into the
  // output lock, so that every rank can check that its job holds the lock.
  std::string run_token;
  // --incremental (incremental_plan.h): files holds every input (those the
  // previous run read too, which no split names) and, last, the previous
  // output's merge state (input_index kMergeStateInput), which the splits
  // name with the new files. run_kind says which run this is and why, for
  // the log and the manifest.
  bool incremental = false;
  uint64_t previous_fingerprint = 0;
  std::string run_kind;
  // Not sent: each rank derives it from the splits (MapOrder).
  std::vector<uint32_t> schedule;
};

std::string EncodePlan(const JobPlan& plan);
Result<JobPlan> DecodePlan(const std::string& bytes);

}  // namespace sluice
