// --incremental: what a run of a mergeable job (job.h, kMergeable) must map
// when its output already holds a result. Rank 0 decides, under the output
// lock, from the output's _manifest.json:
//
//   - Every file the previous run read is still there with the same bytes:
//     the same path and size, and the same xxh3 of its bytes, hashed again
//     when its mtime or ctime moved (the kernel sets the ctime on every
//     write, and no user can set it back, so a write that restores size and
//     mtime with `touch -d` is still caught; a `touch` alone is no change).
//   - The previous run's fingerprint is the one this job, build and
//     configuration give those files now (job_fingerprint.h).
//   - Its merge state is all there: OUTPUT/_state/task-NNNNN, one key-value
//     file per reduce task of (key, values folded by Combine), as listed.
//
// Then only the new files are mapped, and the merge state is read back into
// the shuffle beside their records, so that each key's values fold into
// what a full run over every file folds (Combine associative and
// commutative): the parts are byte-identical to a full run's. Otherwise
// the run is a full one, and the log says why. Either way it writes the
// merge state of its own result and records every input's xxh3 and ctime
// in its manifest, for the next run.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "io/file_system.h"
#include "io/input_lister.h"
#include "io/status.h"
#include "runtime/driver/job_config.h"

namespace sluice {

// Where reduce task `task`'s merge state goes in the output: "_state/task-00003".
inline constexpr std::string_view kMergeStateDir = "_state";
std::string MergeStateFileName(uint32_t task);

struct IncrementalDecision {
  bool incremental = false;  // false: a full run (that writes merge state)
  // One line for the log and the manifest: what is mapped, or why all is.
  std::string why;
  // Every input as listed, xxh3 and ctime filled in; when incremental, then
  // the previous output's merge state files (input_index kMergeStateInput).
  std::vector<InputFile> files;
  // Per entry of `files`: whether this run reads it (a split names it).
  std::vector<bool> read;
  uint64_t previous_fingerprint = 0;
  uint64_t files_reused = 0;  // inputs the previous run read, not mapped again
  uint64_t files_new = 0;     // inputs it did not read, mapped now
};

// `files`: the inputs as ListPlanInputs lists them now. `fingerprint_of`
// gives the fingerprint a run over some of them would have (the job, its
// build and `config` fixed). Errors: reading an input to hash it.
Result<IncrementalDecision> DecideIncremental(
    FileSystem& fs, const std::string& output_dir, std::string_view job_name, const JobConfig& config,
    std::vector<InputFile> files, const std::function<uint64_t(const std::vector<InputFile>&)>& fingerprint_of);

// What differs between a manifest's "config" (JSON text) and `config`, as
// "'key' was X, now Y" lines; empty when nothing does.
std::vector<std::string> ConfigDifferences(const std::string& manifest_config_json, const JobConfig& config);

}  // namespace sluice
