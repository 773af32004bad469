// Everything a run of a job is configured with, from flags (the flags
// themselves: runtime/cli/job_flags.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/status.h"
#include "runtime/driver/expectations.h"
#include "runtime/driver/lineage.h"
#include <sluice/detail/job_settings.h>

namespace sluice {

struct JobConfig {
  std::vector<std::string> inputs;  // files, directories, globs
  std::string output;               // directory; must not exist unless overwrite
  bool overwrite = false;
  // Run even if the output already holds this job's result, and map every
  // split again instead of reusing a killed run's saved tasks; replaces
  // the output.
  bool force = false;
  // --incremental (mergeable jobs): map only the inputs the output's
  // previous run did not read and fold its merge state in
  // (incremental_plan.h); replaces the output as --overwrite does. Not in
  // the fingerprint: the parts are a full run's.
  bool incremental = false;
  // Bytes of input per map task. Larger: less scheduling, coarser balance.
  uint64_t split_size = uint64_t{64} << 20;
  // Cap on bytes of shuffle blocks in flight per rank.
  uint64_t max_inflight_bytes = uint64_t{64} << 20;
  // Memory budget per rank (--memory); 0 until ApplyMemoryBudget picks the
  // default. Everything that grows with the input draws from it.
  uint64_t memory_bytes = 0;
  // Parent of the per-rank spill directories (--scratch; default $TMPDIR).
  std::string scratch_root;
  JobSettings settings;
  std::string log_level = "info";
  std::string log_dir;  // per-rank log files DIR/rank-N.log (--log-dir)
  bool quiet = false;  // only errors on stderr
  // Extra copy of the JSON report (one is always written as DIR/_report.json).
  std::string report_path;
  // Set by the command line when the job came from a plugin: recorded in the
  // manifest (lineage: which build produced this output).
  std::string plugin_path;
  uint64_t plugin_xxh3 = 0;
  // --expect / --expect-warn, in the order given (expectations.h): checked
  // by rank 0 before the publish. Not in the fingerprint: they decide
  // whether a result is published, not what it is.
  std::vector<Expectation> expectations;
  // --lineage FILE: OpenLineage run events appended there (lineage.h). A
  // pipeline step also names its job for lineage ("PIPELINE.STEP") and the
  // pipeline's run as its parent; a plain run is named "JOB:OUTPUT".
  std::string lineage_path;
  std::string lineage_job_name;
  LineageParent lineage_parent;
};

// Parses "64M", "1G", "4096", "512K" (powers of 1024). `flag` names the flag
// in the error.
Result<uint64_t> ParseSize(const std::string& flag, const std::string& text);

// The default --memory: half of physical RAM, shared by the ranks of a node.
uint64_t DefaultMemoryBytes(int ranks_per_node);

// Fills memory_bytes (default when 0) and scratch_root, then shares the
// budget out: caps the combiner table, bytes in flight and block size by it,
// and sets the store, sort and merge sizes (JobSettings). Call after parsing.
Status ApplyMemoryBudget(JobConfig* config, int ranks_per_node);

// Checks the parsed config as a whole (inputs and output given, ranges).
Status ValidateJobConfig(const JobConfig& config);

}  // namespace sluice
