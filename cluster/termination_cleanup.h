// On SIGINT, SIGTERM or SIGHUP (Ctrl-C, a scheduler's kill, mpirun
// forwarding either), removes the job's staging directory and this rank's
// scratch (spill runs) before the process dies, so that an interrupted job
// leaves nothing half-written and no scratch behind.
#pragma once

#include <string>

namespace sluice {

// Installs the handlers for this process. Only async-signal-safe calls run in
// the handler: it writes one line to stderr, removes both trees with raw
// system calls (getdents64, unlinkat: no fork, no allocation), and re-raises
// the signal with its default action (so the exit status still says "killed
// by SIGTERM"). Safe to call once per job.
// `staging_dir` is this run's own staging; `staging_container`, which holds
// it, is removed only if empty (another run's staging may be in it).
void InstallTerminationCleanup(const std::string& staging_dir, const std::string& staging_container,
                               const std::string& scratch_dir, int rank);

}  // namespace sluice
