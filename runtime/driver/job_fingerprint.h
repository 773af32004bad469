// The identity of a job's work, for resume (map_task_store.h) and for
// skipping a re-run of a job that already finished.
//
// Two runs share a fingerprint only when their map tasks must produce the
// same bytes: same job build, same parameters, same inputs (path, size,
// mtime), and the same settings that shape map output (split size,
// partitions, block and combiner sizes, compression). Settings that change
// neither (ranks, --scratch, logging) are left out, so a job killed at 4
// ranks resumes at 2. --memory is left out too, except where the budget
// caps the block or combiner size (ApplyMemoryBudget: under 512M per rank
// at 16 partitions): those are hashed as applied, because where a combiner
// flushes decides the bytes a task emits (a float sum's last bits), and
// reusing tasks made with another flush size could change the output.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "io/input_lister.h"
#include "runtime/driver/job_config.h"

namespace sluice {

// xxh3 of this process's executable: the build of a job compiled into it.
// Read once per process; 0 if the file cannot be read (then only the
// other fields tell builds apart).
uint64_t ExecutableXxh3();

// `build_xxh3`: the plugin's hash for a plugin job, else ExecutableXxh3().
uint64_t JobFingerprint(std::string_view job_name, uint64_t build_xxh3, const JobConfig& config,
                        const std::vector<InputFile>& inputs);

// 16 lowercase hex digits.
std::string FingerprintHex(uint64_t fingerprint);

}  // namespace sluice
