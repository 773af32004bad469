// What --overwrite (and --force) may replace: only a Sluice output, and
// never one that is, or holds, an input, the root, $HOME or the current
// directory. Checked by rank 0 under the output lock, before any work.
#pragma once

#include <string>
#include <vector>

#include "io/file_system.h"
#include "io/status.h"

namespace sluice {

// `output_dir` exists and a job wants to replace it. `inputs` are the input
// paths as given and as listed (files); each is resolved (realpath) and
// compared with the resolved output. OK, or kUsage saying which rule and
// which path refused it; nothing is touched either way.
Status CheckReplaceable(FileSystem& fs, const std::string& output_dir,
                        const std::vector<std::string>& inputs);

// Whether `dir` holds a committed Sluice output: a _SUCCESS written by
// Sluice (it starts with the job's name and records a fingerprint) or a
// Sluice manifest.
bool IsSluiceOutput(FileSystem& fs, const std::string& dir);

}  // namespace sluice
