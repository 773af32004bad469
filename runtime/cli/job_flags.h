// The flags of a job run, for `sluice run` and job binaries alike: one table
// that the parser (job_flag_parser.h), --help and the README's flag table
// (job_flag_help.h) are all made from. A flag added here is parsed,
// documented in --help and, after scripts/update-readme-flags, in the README;
// CliFlags.ReadmeTableIsGenerated fails until it is.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "io/status.h"
#include "runtime/driver/job_config.h"

namespace sluice {

struct JobFlag {
  std::string_view name;        // "--partitions"
  std::string_view short_name;  // "-q", or empty
  // What the value stands for in help ("N", "SIZE"); empty for a switch,
  // which takes no value.
  std::string_view value_name;
  // The default as shown in help and the README ("16", "(required)");
  // CliFlags.ShownDefaultsAreJobConfigDefaults holds the literal ones to
  // JobConfig's. Empty: nothing to show.
  std::string_view default_text;
  // Markdown: `code` and [links](#anchor) are stripped for the terminal.
  std::string_view help;
  // Stores one occurrence into the config: a value flag's value (a repeated
  // flag calls it once per occurrence, in order: the last wins, or it
  // appends), a switch's "true". A bad value is a kUsage error naming
  // `flag` (this row's name). Null for --help, which the parser reports
  // instead of storing.
  Status (*apply)(const std::string& flag, const std::string& value, JobConfig* config);
};

// Every flag, in the order help lists them. Built once; never destroyed.
const std::vector<JobFlag>& JobFlags();

}  // namespace sluice
