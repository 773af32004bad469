// Reads a job run's command line against the JobFlags() table.
#pragma once

#include <string>
#include <vector>

#include "io/status.h"
#include "runtime/driver/job_config.h"

namespace sluice {

// Parses job flags from args (without the program or job name) into
// *config. Flags take their value as `--flag VALUE` or `--flag=VALUE`; a
// repeated flag applies each occurrence in order (the last wins, or --input
// and --param append). Arguments that are not flags are appended to
// *positional in order, as is everything after `--`. Sets *help when --help
// or -h is present. On an unknown flag, a flag missing its value or a bad
// value, returns a kUsage error naming the flag; *config may then hold some
// of the flags.
Status ParseJobFlags(const std::vector<std::string>& args, JobConfig* config,
                     std::vector<std::string>* positional, bool* help);

}  // namespace sluice
