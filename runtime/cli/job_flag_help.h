// The JobFlags() table as people read it: on the terminal and in the README.
#pragma once

#include <string>

namespace sluice {

// The flag reference printed by `sluice run --help` and `JOB --help`: one
// entry per flag, its help wrapped to fit 100 columns.
std::string JobFlagsHelp();

// The README's flag table (markdown), as `sluice run --help-markdown` prints
// it and scripts/update-readme-flags puts it between the README's
// <!-- flags:begin --> and <!-- flags:end --> lines.
std::string JobFlagsMarkdown();

}  // namespace sluice
