// spdlog set up for a rank: the rank in every line, to stderr, and with a
// log directory also to DIR/rank-N.log (one file per rank, for clusters
// where mpirun's merged stderr is hard to read afterwards).
#pragma once

#include <string>

#include "io/status.h"

namespace sluice {

// `level` is one of trace, debug, info, warn, error, off (already validated).
// `quiet` limits stderr to errors; the log file still gets `level`. The
// directory is created if missing; an unwritable file is a usage error.
Status SetupLogging(int rank, const std::string& level, bool quiet, const std::string& log_dir);

}  // namespace sluice
