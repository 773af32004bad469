// spdlog set up for a rank: the rank in every line, to stderr.
#pragma once

#include <string>

namespace sluice {

// `level` is one of trace, debug, info, warn, error, off (already validated).
void SetupLogging(int rank, const std::string& level);

}  // namespace sluice
